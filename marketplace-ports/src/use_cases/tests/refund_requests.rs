//! Refund requests: who may ask and decide, the snapshotted amount, the Stripe refund sent once
//! per attempt (a new key only after a refusal), and the outcome learnt from the job or the
//! webhook, whichever comes first.

use std::sync::{Arc, Mutex};

use marketplace_domain::money::Cents;
use marketplace_domain::orders::{Order, OrderEventKind};
use marketplace_domain::refunds::RefundRequestStatus;

use super::World;
use super::jobs::stripe_transfers;
use crate::ports::{
    MockPaymentGateway, NewRefund, PaymentError, Refund, RefundData, RefundRequestRecord,
    RefundStatus, WebhookEndpoint,
};
use crate::use_cases::Actor;
use crate::use_cases::ErrorKind;
use crate::use_cases::UseCaseError;
use crate::use_cases::orders::OrderAccess;
use crate::use_cases::refund_requests::RefundDecision::{Approve, Trigger};
use crate::use_cases::refund_requests::requests::NewRefundRequest;

type Refunds = Arc<Mutex<Vec<(NewRefund, String)>>>;

/// Stripe answers refunds with `answers` in turn (then accepts them).
fn stripe_refunds(stripe: &mut MockPaymentGateway, answers: Vec<PaymentError>) -> Refunds {
    let asked: Refunds = Arc::default();
    let log = asked.clone();
    let answers = Mutex::new(answers.into_iter());
    stripe.expect_create_refund().returning(move |refund, key| {
        let mut log = log.lock().unwrap();
        log.push((refund.clone(), key.to_owned()));
        match answers.lock().unwrap().next() {
            Some(error) => Err(error),
            None => Ok(Refund {
                id: format!("re_{}", log.len()),
                amount: refund.amount,
                status: RefundStatus::Succeeded,
                failure_reason: None,
            }),
        }
    });
    asked
}

fn as_buyer(buyer: &Actor) -> OrderAccess<'_> {
    OrderAccess {
        actor: Some(buyer),
        token: None,
    }
}

fn damaged() -> NewRefundRequest {
    NewRefundRequest {
        reason: "damaged".into(),
        notes: Some("cracked in two".into()),
        email: None,
    }
}

/// A paid order of the shop's print (12.50) and a 5.00 file of the same seller.
async fn paid_order(world: &World) -> (Actor, Actor, Order) {
    world.print_and_file_paid().await
}

#[tokio::test]
async fn a_request_is_sent_once_and_its_webhook_books_the_line() {
    let mut asked = None;
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
        asked = Some(stripe_refunds(stripe, Vec::new()));
    });
    let (seller, buyer, order) = paid_order(&world).await;
    world.run_jobs().await;
    let print = order.lines()[0].id;
    let services = &world.services;
    let request = services
        .refund_requests
        .request(as_buyer(&buyer), order.id, print, &damaged())
        .await
        .unwrap();
    assert_eq!(
        request.amount,
        Cents::new(1250),
        "the line's gross and shares"
    );
    let again = services
        .refund_requests
        .request(as_buyer(&buyer), order.id, print, &damaged())
        .await
        .unwrap_err();
    assert_eq!(
        again.kind(),
        ErrorKind::Conflict {
            code: "already_requested"
        }
    );
    let file = services
        .refund_requests
        .request(as_buyer(&buyer), order.id, order.lines()[1].id, &damaged())
        .await
        .unwrap_err();
    assert_eq!(
        file.kind(),
        ErrorKind::Unprocessable {
            code: "digital_line"
        }
    );
    let decisions = &services.refund_decisions;
    let buyer_decides = decisions.decide(&buyer, request.id, None, Approve).await;
    assert_eq!(
        buyer_decides.unwrap_err().kind(),
        ErrorKind::Forbidden {
            code: "not_your_decision"
        }
    );
    let stranger = world.seller("stranger").await;
    let stranger_decides = decisions.decide(&stranger, request.id, None, Approve).await;
    assert_eq!(stranger_decides.unwrap_err().kind(), ErrorKind::NotFound);
    let early = decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap_err();
    assert_eq!(
        early.kind(),
        ErrorKind::Conflict {
            code: "illegal_transition"
        }
    );
    decisions
        .decide(&seller, request.id, Some("sorry"), Approve)
        .await
        .unwrap();
    let sent = decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap();
    assert!(sent.progress.in_flight);
    let twice = decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap_err();
    assert_eq!(
        twice.kind(),
        ErrorKind::Conflict {
            code: "refund_in_progress"
        }
    );
    world.run_jobs().await;
    let asked = asked.unwrap();
    {
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 1, "one refund for two triggers");
        let (refund, key) = &asked[0];
        assert_eq!(key, &format!("refundreq-{}", request.id));
        assert_eq!(refund.amount, Cents::new(1250));
        assert_eq!(refund.metadata["order_item_id"], print.to_string());
        assert_eq!(refund.metadata["refund_request_id"], request.id.to_string());
    }
    let stored = world.state().refund_requests[0].clone();
    assert_eq!(stored.progress.status, RefundRequestStatus::Refunded);
    assert_eq!(stored.stripe_refund_id.as_deref(), Some("re_1"));

    // The webhook books it on the print's line once, however often it comes.
    let mut refund: RefundData = world.refund("re_1", 1250);
    refund.order_item_id = Some(print.to_string());
    refund.refund_request_id = Some(request.id.to_string());
    let before = world.balance(&seller);
    for event in ["evt_rc", "evt_rc", "evt_ru"] {
        world
            .deliver_refund(event, "refund.created", refund.clone())
            .await;
    }
    let event = world.charge_refunded("evt_ch", &order, 1250, vec![refund.clone()]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert_eq!(
        before.get() - world.balance(&seller).get(),
        1125,
        "the print's net, once"
    );
    let state = world.state();
    let events: Vec<OrderEventKind> = state
        .order_events
        .iter()
        .filter(|(id, _)| *id == order.id)
        .map(|(_, e)| e.kind)
        .collect();
    for kind in [
        OrderEventKind::RefundRequested,
        OrderEventKind::RefundDecided,
        OrderEventKind::RefundProcessed,
    ] {
        assert!(events.contains(&kind), "{kind} in {events:?}");
    }
    let mail_to: Vec<&str> = state.mail.iter().map(|m| m.to.as_str()).collect();
    assert!(mail_to.contains(&"maker@example.com"), "{mail_to:?}");
    assert_eq!(
        mail_to
            .iter()
            .filter(|to| **to == "buyer@example.com")
            .count(),
        2,
        "approved, then refunded: {mail_to:?}"
    );
}

#[tokio::test]
async fn a_refused_refund_fails_and_is_sent_again_with_a_new_key() {
    let mut asked = None;
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
        asked = Some(stripe_refunds(
            stripe,
            vec![PaymentError::Declined {
                message: "insufficient balance".into(),
            }],
        ));
    });
    let (seller, buyer, order) = paid_order(&world).await;
    let owner = world.owner().await;
    let request = world
        .services
        .refund_requests
        .request(as_buyer(&buyer), order.id, order.lines()[0].id, &damaged())
        .await
        .unwrap();
    let decisions = &world.services.refund_decisions;
    decisions
        .decide(&seller, request.id, None, Approve)
        .await
        .unwrap();
    decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap();
    world.run_jobs().await;
    let failed = world.state().refund_requests[0].clone();
    assert_eq!(failed.progress.status, RefundRequestStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("insufficient balance"));
    // An owner retries it: recorded in the audit log.
    decisions
        .decide(&owner, request.id, Some("retry"), Trigger)
        .await
        .unwrap();
    world.run_jobs().await;
    let asked = asked.unwrap();
    let keys: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(
        keys,
        [
            format!("refundreq-{}", request.id),
            format!("refundreq-{}-2", request.id)
        ]
    );
    let state = world.state();
    assert_eq!(
        state.refund_requests[0].progress.status,
        RefundRequestStatus::Refunded
    );
    assert!(
        state
            .audit
            .iter()
            .any(|a| a.actor_id == owner.user_id && a.action == "refund_request.trigger"),
        "the owner's override is audited"
    );
    assert!(
        !state.audit.iter().any(|a| a.actor_id == seller.user_id),
        "the seller's own decisions are not overrides"
    );
}

#[tokio::test]
async fn a_guest_asks_with_the_token_and_the_checkout_email() {
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
    });
    let (_, _, print) = world.shop().await;
    let order = world.place(None, &[(print, 1)]).await;
    world.pay(&order, 1).await;
    let token = order.guest_token().unwrap().to_owned();
    let guest = OrderAccess {
        actor: None,
        token: Some(&token),
    };
    let line = order.lines()[0].id;
    let requests = &world.services.refund_requests;
    let wrong = NewRefundRequest {
        email: Some("someone@example.com".into()),
        ..damaged()
    };
    let refused = requests.request(guest, order.id, line, &wrong).await;
    assert_eq!(
        refused.unwrap_err().kind(),
        ErrorKind::Forbidden {
            code: "email_mismatch"
        }
    );
    let no_token = OrderAccess {
        actor: None,
        token: Some("guessed"),
    };
    let right = NewRefundRequest {
        email: Some(" Guest@Example.com ".into()),
        ..damaged()
    };
    let stranger = requests.request(no_token, order.id, line, &right).await;
    assert_eq!(stranger.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(world.state().refund_requests.is_empty(), "nothing was made");
    let made = requests
        .request(guest, order.id, line, &right)
        .await
        .unwrap();
    assert_eq!(made.buyer_id, None);
    let canceled = requests.cancel(guest, made.id, None).await.unwrap();
    assert_eq!(canceled.progress.status, RefundRequestStatus::Canceled);
    let detail = requests.get(guest, made.id).await.unwrap();
    assert_eq!(detail.history.len(), 2, "requested, then canceled");
}

/// Stripe makes transfers and refunds; the shop's order is paid and its buyer asks for the
/// print back. Returns the world, Stripe's refund log, the seller, the order and the request.
async fn print_requested() -> (World, Refunds, Actor, Order, RefundRequestRecord) {
    let mut asked = None;
    let world = World::with(|stripe| {
        stripe_transfers(stripe, Vec::new());
        asked = Some(stripe_refunds(stripe, Vec::new()));
    });
    let (seller, buyer, order) = paid_order(&world).await;
    let request = world
        .services
        .refund_requests
        .request(as_buyer(&buyer), order.id, order.lines()[0].id, &damaged())
        .await
        .unwrap();
    (world, asked.unwrap(), seller, order, request)
}

#[tokio::test]
async fn a_refund_that_fails_after_stripe_accepted_it_fails_the_request_for_another_try() {
    let (world, asked, seller, order, request) = print_requested().await;
    let print = order.lines()[0].id;
    let decisions = &world.services.refund_decisions;
    decisions
        .decide(&seller, request.id, None, Approve)
        .await
        .unwrap();
    decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap();
    world.run_jobs().await;
    let mut refund = world.refund("re_1", 1250);
    refund.order_item_id = Some(print.to_string());
    refund.refund_request_id = Some(request.id.to_string());
    world
        .deliver_refund("evt_rc", "refund.created", refund.clone())
        .await;
    assert_eq!(world.state().orders[&order.id].refunded, Cents::new(1250));
    refund.status = RefundStatus::Failed;
    refund.failure_reason = Some("lost_or_stolen_card".into());
    world
        .deliver_refund("evt_ru", "refund.updated", refund)
        .await;
    let failed = world.state().refund_requests[0].clone();
    assert_eq!(failed.progress.status, RefundRequestStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("lost_or_stolen_card"));
    assert_eq!(world.state().orders[&order.id].refunded, Cents::ZERO);
    decisions
        .decide(&seller, request.id, None, Trigger)
        .await
        .unwrap();
    // Stripe sends the first attempt's refund again, late: it says nothing about the retry.
    let mut late = world.refund("re_1", 1250);
    late.status = RefundStatus::Pending;
    late.refund_request_id = Some(request.id.to_string());
    late.refund_attempt = Some(1);
    world
        .deliver_refund("evt_late", "refund.created", late)
        .await;
    let retry = world.state().refund_requests[0].progress;
    assert_eq!(
        (retry.status, retry.attempts, retry.in_flight),
        (RefundRequestStatus::Approved, 2, true),
        "still waiting for its own refund"
    );
    world.run_jobs().await;
    assert_eq!(
        world.state().refund_requests[0].stripe_refund_id.as_deref(),
        Some("re_2")
    );
    let keys: Vec<String> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "the job of the first attempt sent nothing twice: {keys:?}"
    );
    assert_eq!(keys[1], format!("refundreq-{}-2", request.id));
}

#[tokio::test]
async fn an_attempt_sends_only_what_is_left_on_the_line() {
    let (world, asked, seller, order, request) = print_requested().await;
    let print = order.lines()[0].id;
    assert_eq!(request.amount, Cents::new(1250));
    // 2.50 of the print refunded in Stripe's dashboard after the request was made.
    let mut dashboard = world.refund("re_dash", 250);
    dashboard.order_item_id = Some(print.to_string());
    world
        .deliver_refund("evt_dash", "refund.created", dashboard)
        .await;
    let decisions = &world.services.refund_decisions;
    for decision in [Approve, Trigger] {
        decisions
            .decide(&seller, request.id, None, decision)
            .await
            .unwrap();
    }
    world.run_jobs().await;
    let sent: Vec<Cents> = asked
        .lock()
        .unwrap()
        .iter()
        .map(|(refund, _)| refund.amount)
        .collect();
    assert_eq!(
        sent,
        [Cents::new(1000)],
        "never more than is left on the line"
    );
}
