//! Stripe webhooks: verification, exactly-once effects, rollback, and what each event books.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{CheckoutPaymentStatus, Order, OrderStatus};

use super::World;
use crate::ports::{
    CheckoutSessionData, CheckoutSessionStatus, Clock, DisputeData, DisputeStatus, EventPayload,
    JobKind, StoreError, WebhookEndpoint, WebhookError, WebhookStatus,
};
use crate::use_cases::money_flow::webhooks::{
    ProcessAgainError, ReceiveWebhookError, WebhookOutcome,
};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// A ready seller's print (12.50) bought by a registered buyer, not paid yet.
async fn placed(world: &World) -> (Actor, Order) {
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    (seller, order)
}

fn completed(order: &Order) -> EventPayload {
    EventPayload::CheckoutCompleted(CheckoutSessionData {
        id: "cs_1".into(),
        status: CheckoutSessionStatus::Complete,
        payment_status: CheckoutPaymentStatus::Paid,
        payment_intent: Some("pi_1".into()),
        amount_total: Some(order.total),
        currency: Some("usd".into()),
        order_id: Some(order.id.to_string()),
        shipping: None,
        customer_email: None,
    })
}

#[tokio::test]
async fn a_forged_delivery_is_refused_before_any_transaction() {
    let world = World::new();
    let result = world
        .services
        .webhooks
        .handle(WebhookEndpoint::Payments, b"evt_forged", "t=1,v1=00")
        .await;
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        ReceiveWebhookError::Verification(WebhookError::SignatureMismatch)
    ));
    assert_eq!(
        error.kind(),
        ErrorKind::BadRequest {
            code: "webhook_verification_failed"
        }
    );
    assert!(world.state().webhooks.is_empty());
}

#[tokio::test]
async fn a_paid_checkout_books_the_payment_and_queues_payouts_and_mail() {
    let world = World::new();
    let alice = world.seller("alice").await;
    let bob = world.seller("bob").await;
    let print = world
        .listing(&alice, ProductKind::Model, "Owl", "12.50")
        .await;
    let file = world.listing(&bob, ProductKind::File, "Scan", "3.00").await;
    let order = world.place(None, &[(print, 1), (file, 1)]).await;
    let outcome = world.pay(&order, 1).await;
    assert_eq!(
        outcome,
        WebhookOutcome::Applied(format!("order {} paid", order.id))
    );
    let state = world.state();
    let paid = &state.orders[&order.id];
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.stripe_payment_intent(), Some("pi_1"));
    let keys: Vec<String> = state
        .journal
        .iter()
        .map(|(_, e, _)| e.key().to_string())
        .collect();
    assert_eq!(keys, [format!("order_paid:{}", order.id)]);
    assert_eq!(
        (world.balance(&alice), world.balance(&bob)),
        (Cents::new(1125), Cents::new(270))
    );
    let mut jobs: Vec<JobKind> = state.jobs.iter().map(|j| j.record.kind.clone()).collect();
    jobs.sort_by_key(JobKind::dedupe_key);
    let mut expected = vec![
        JobKind::Payout {
            order: order.id,
            seller: alice.user_id,
        },
        JobKind::Payout {
            order: order.id,
            seller: bob.user_id,
        },
        JobKind::OrderMail { order: order.id },
    ];
    expected.sort_by_key(JobKind::dedupe_key);
    assert_eq!(jobs, expected);
    let recorded = &state.webhooks["evt_paid_1"];
    assert_eq!(
        recorded.outcome,
        format!("applied: order {} paid", order.id)
    );
}

#[tokio::test]
async fn a_duplicate_event_is_acknowledged_and_changes_nothing() {
    let world = World::new();
    let (_, order) = placed(&world).await;
    world.pay(&order, 1).await;
    let before = world.state();
    let event = world.event(
        "evt_paid_1",
        "checkout.session.completed",
        completed(&order),
    );
    let outcome = world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Duplicate);
    // The same payment under a new event id is applied once too: the journal key is the fact.
    let event = world.event("evt_again", "checkout.session.completed", completed(&order));
    let outcome = world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        WebhookOutcome::Applied(format!("order {} was already paid", order.id))
    );
    let after = world.state();
    assert_eq!(after.journal.len(), before.journal.len());
    assert_eq!(after.jobs.len(), before.jobs.len());
}

#[tokio::test]
async fn a_failure_while_applying_rolls_everything_back() {
    let world = World::new();
    let (seller, order) = placed(&world).await;
    world.store.fail("orders.update_order");
    let event = world.event("evt_1", "checkout.session.completed", completed(&order));
    let error = world
        .deliver(WebhookEndpoint::Payments, event.clone())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ReceiveWebhookError::Store(StoreError::Unavailable(_))
    ));
    assert!(
        matches!(error.kind(), ErrorKind::Unavailable { .. }),
        "Stripe delivers it again"
    );
    let state = world.state();
    assert!(state.journal.is_empty() && state.jobs.is_empty());
    assert_eq!(state.orders[&order.id].status, OrderStatus::Pending);
    assert_eq!(world.balance(&seller), Cents::ZERO);
    // Nothing of it was applied, but the event is kept as failed, with its payload.
    let kept = &state.webhooks["evt_1"];
    assert_eq!(kept.status, WebhookStatus::Failed);
    assert!(kept.outcome.starts_with("failed: "), "{}", kept.outcome);
    assert_eq!(state.webhook_payloads["evt_1"], b"evt_1");

    let retried = world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert!(matches!(retried, WebhookOutcome::Applied(_)));
    assert_eq!(world.balance(&seller), Cents::new(1125));
    let state = world.state();
    assert_eq!(
        (
            state.webhooks["evt_1"].status,
            state.webhooks["evt_1"].attempts
        ),
        (WebhookStatus::Applied, 2)
    );
    assert!(
        state.webhook_payloads.is_empty(),
        "a processed event keeps no payload"
    );
}

#[tokio::test]
async fn an_owner_processes_a_failed_event_again_once_and_it_is_audited() {
    let world = World::new();
    let owner = world.owner().await;
    let (seller, order) = placed(&world).await;
    world.store.fail("orders.update_order");
    let event = world.event("evt_1", "checkout.session.completed", completed(&order));
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap_err();
    assert_eq!(
        world.state().webhooks["evt_1"].status,
        WebhookStatus::Failed
    );

    let stranger = world.buyer("stranger").await;
    let refused = world
        .services
        .webhooks
        .process_again(&stranger, "evt_1")
        .await
        .unwrap_err();
    assert!(matches!(refused, ProcessAgainError::Forbidden));
    let outcome = world
        .services
        .webhooks
        .process_again(&owner, "evt_1")
        .await
        .unwrap();
    assert!(matches!(outcome, WebhookOutcome::Applied(_)), "{outcome:?}");
    assert_eq!(world.balance(&seller), Cents::new(1125));
    let state = world.state();
    assert_eq!(state.webhooks["evt_1"].status, WebhookStatus::Applied);
    let audit = state.audit.last().unwrap();
    assert_eq!(
        (
            audit.action.as_str(),
            audit.subject.as_str(),
            audit.actor_id
        ),
        ("webhook.process_again", "webhook:evt_1", owner.user_id)
    );
    // Applied events are not processed again; unknown ones are not found.
    let again = world
        .services
        .webhooks
        .process_again(&owner, "evt_1")
        .await
        .unwrap_err();
    assert!(matches!(again, ProcessAgainError::NotFailed));
    assert!(matches!(
        again.kind(),
        ErrorKind::Conflict { code: "not_failed" }
    ));
    let missing = world
        .services
        .webhooks
        .process_again(&owner, "evt_404")
        .await
        .unwrap_err();
    assert!(matches!(missing, ProcessAgainError::NotFound));
    assert_eq!(world.balance(&seller), Cents::new(1125), "booked once");
}

#[tokio::test]
async fn an_event_of_the_other_mode_is_recorded_and_ignored() {
    let world = World::new();
    let (_, order) = placed(&world).await;
    let mut event = world.event("evt_live", "checkout.session.completed", completed(&order));
    event.livemode = true;
    let outcome = world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert!(matches!(outcome, WebhookOutcome::Ignored(_)));
    let state = world.state();
    assert!(
        state.webhooks["evt_live"]
            .outcome
            .starts_with("ignored: livemode")
    );
    assert_eq!(state.orders[&order.id].status, OrderStatus::Pending);
    assert!(state.journal.is_empty());
}

#[tokio::test]
async fn refunds_are_booked_once_whichever_event_brings_them() {
    let world = World::new();
    let (seller, order) = placed(&world).await;
    world.pay(&order, 1).await;
    let event = world.charge_refunded("evt_charge", &order, 500, vec![world.refund("re_1", 500)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    let state = world.state();
    let refunded = &state.orders[&order.id];
    assert_eq!(
        (refunded.status, refunded.refunded),
        (OrderStatus::PartiallyRefunded, Cents::new(500))
    );
    assert_eq!(
        refunded.charge_id.as_deref(),
        Some("ch_1"),
        "the charge is remembered"
    );
    assert_eq!(
        world.balance(&seller),
        Cents::new(675),
        "1125 less the net part of 500 (450)"
    );

    let outcome = world
        .deliver_refund("evt_refund", "refund.updated", world.refund("re_1", 500))
        .await;
    assert!(matches!(outcome, WebhookOutcome::Ignored(_)), "{outcome:?}");
    assert_eq!(world.state().orders[&order.id].refunded, Cents::new(500));
    assert_eq!(world.balance(&seller), Cents::new(675));

    // A refund reported by the total only is fetched by a job.
    let event = world.charge_refunded("evt_charge_2", &order, 700, vec![world.refund("re_1", 500)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    let queued = world
        .state()
        .jobs
        .iter()
        .any(|j| j.record.kind == JobKind::RefundSync { order: order.id });
    assert!(queued);
}

#[tokio::test]
async fn a_lost_dispute_is_booked_and_a_won_one_reinstates_it() {
    let world = World::new();
    let (seller, order) = placed(&world).await;
    world.pay(&order, 1).await;
    let dispute = |status: DisputeStatus| DisputeData {
        id: "dp_1".into(),
        amount: order.total,
        fee: Cents::new(1500),
        status,
        charge: Some("ch_1".into()),
        payment_intent: Some("pi_1".into()),
        currency: Some("usd".into()),
        created: world.clock.now(),
    };
    let opened = world.event(
        "evt_dp_open",
        "charge.dispute.created",
        EventPayload::DisputeOpened(dispute(DisputeStatus::Open("needs_response".into()))),
    );
    world
        .deliver(WebhookEndpoint::Payments, opened)
        .await
        .unwrap();
    assert_eq!(
        world.state().journal.len(),
        2,
        "an open dispute is booked when it opens"
    );
    assert_eq!(
        world.balance(&seller),
        Cents::new(1125),
        "the seller's share is only at stake while it is open"
    );
    // An inquiry withdraws nothing: noted only.
    let mut inquiry = dispute(DisputeStatus::Open("warning_needs_response".into()));
    inquiry.id = "dp_inquiry".into();
    let noted = world.event(
        "evt_dp_inquiry",
        "charge.dispute.created",
        EventPayload::DisputeOpened(inquiry),
    );
    world
        .deliver(WebhookEndpoint::Payments, noted)
        .await
        .unwrap();
    assert_eq!(world.state().journal.len(), 2);
    let lost = world.event(
        "evt_dp_lost",
        "charge.dispute.closed",
        EventPayload::DisputeClosed(dispute(DisputeStatus::Lost)),
    );
    let outcome = world
        .deliver(WebhookEndpoint::Payments, lost)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        WebhookOutcome::Applied("booked dispute_lost:dp_1".into())
    );
    assert_eq!(
        world.balance(&seller),
        Cents::ZERO,
        "the whole net is taken back"
    );
    let won = world.event(
        "evt_dp_won",
        "charge.dispute.closed",
        EventPayload::DisputeClosed(dispute(DisputeStatus::Won)),
    );
    world.deliver(WebhookEndpoint::Payments, won).await.unwrap();
    assert_eq!(world.balance(&seller), Cents::new(1125), "reinstated");
    assert_eq!(world.state().journal.len(), 4);
}

#[tokio::test]
async fn refunds_whose_amounts_overflow_are_recorded_and_rejected_not_booked() {
    let world = World::new();
    let (seller, order) = placed(&world).await;
    world.pay(&order, 1).await;
    let huge = world.refund("re_1", i64::MAX);
    let more = world.refund("re_2", 1);
    let event = world.charge_refunded("evt_overflow", &order, 1250, vec![huge, more]);
    let rejected = world
        .deliver(WebhookEndpoint::Payments, event.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(rejected, ReceiveWebhookError::Rejected(_)),
        "{rejected:?}"
    );
    assert_eq!(
        rejected.kind(),
        ErrorKind::Unprocessable {
            code: "webhook_rejected"
        }
    );
    assert_eq!(world.balance(&seller), Cents::new(1125), "nothing booked");
    let state = world.state();
    assert_eq!(state.orders[&order.id].refunded, Cents::ZERO);
    assert!(
        state.webhooks["evt_overflow"]
            .outcome
            .starts_with("rejected:"),
        "recorded with its outcome"
    );
    drop(state);
    assert_eq!(
        world
            .deliver(WebhookEndpoint::Payments, event)
            .await
            .unwrap(),
        WebhookOutcome::Duplicate
    );
}

#[tokio::test]
async fn a_refund_in_another_currency_is_recorded_and_flagged_not_booked() {
    let world = World::new();
    let (seller, order) = placed(&world).await;
    world.pay(&order, 1).await;
    let mut euros = world.refund("re_eur", 500);
    euros.currency = Some("eur".into());
    world
        .deliver_refund("evt_eur", "refund.created", euros)
        .await;
    assert_eq!(world.balance(&seller), Cents::new(1125), "nothing booked");
    let state = world.state();
    assert_eq!(state.orders[&order.id].refunded, Cents::ZERO);
    let (flags, _) = &state.flags[&order.id];
    let currency = flags
        .iter()
        .find(|f| f.code == "currency_mismatch")
        .expect("flagged");
    assert!(currency.detail.contains("re_eur is in eur"), "{currency:?}");
}

#[tokio::test]
async fn a_refund_booked_on_one_order_is_never_applied_to_another() {
    let world = World::new();
    let (_, buyer, print) = world.shop().await;
    let first = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&first, 1).await;
    let second = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&second, 2).await;
    let mut refund = world.refund("re_1", 500);
    refund.order_id = Some(first.id.to_string());
    world
        .deliver_refund("evt_a", "refund.created", refund.clone())
        .await;
    // The same Stripe refund, wrongly said to be the other order's.
    refund.order_id = Some(second.id.to_string());
    world
        .deliver_refund("evt_b", "refund.updated", refund)
        .await;
    let state = world.state();
    assert_eq!(state.orders[&first.id].refunded, Cents::new(500));
    assert_eq!(
        state.orders[&second.id].refunded,
        Cents::ZERO,
        "not applied twice"
    );
    assert_eq!(state.orders[&second.id].status, OrderStatus::Paid);
    assert!(
        state
            .order_events
            .iter()
            .any(|(o, e)| *o == second.id && e.message.contains("booked on another order")),
        "the second order says why"
    );
}
