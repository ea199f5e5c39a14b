//! Background jobs: payouts, transfer reversals, refund sync and the guest's mail, with retries.

use std::sync::{Arc, Mutex};

use marketplace_domain::money::Cents;
use marketplace_domain::orders::Order;
use marketplace_domain::payouts::{PayoutStatus, ReversalStatus, SkipReason};
use time::Duration;

use super::World;
use crate::ports::{
    Clock, ConnectedAccount, EventPayload, JobKind, JobStatus, ListedTransfer, MockPaymentGateway,
    NewTransfer, PaymentError, PaymentIntent, RefundData, RefundStatus, Transfer, TransferReversal,
    WebhookEndpoint,
};
use crate::use_cases::jobs::runner::JobRun;
use crate::use_cases::orders::mail::send_order_mail;
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// The transfers Stripe was asked for, with their idempotency keys.
pub(super) type Transfers = Arc<Mutex<Vec<(NewTransfer, String)>>>;

/// How Stripe answers one transfer request.
pub(super) enum Answer {
    /// Creates it and says so.
    Created,
    /// Refuses it, or fails before doing anything.
    Fails(PaymentError),
    /// Creates it, but the answer is lost (a timeout): the client sees a transient error.
    CreatedButLost,
}

/// Stripe knows `pi_1`'s charge `ch_1`; transfers answer `answers` in turn (then succeed). It
/// lists the transfers it created by transfer group, with their metadata.
pub(super) fn stripe_transfers(stripe: &mut MockPaymentGateway, answers: Vec<Answer>) -> Transfers {
    stripe.expect_retrieve_payment_intent().returning(|id| {
        Ok(PaymentIntent {
            id: id.to_owned(),
            status: "succeeded".to_owned(),
            latest_charge: Some("ch_1".to_owned()),
        })
    });
    let asked: Transfers = Arc::default();
    let created: Arc<Mutex<Vec<(String, ListedTransfer)>>> = Arc::default();
    let log = asked.clone();
    let made = created.clone();
    let answers = Mutex::new(answers.into_iter());
    stripe
        .expect_create_transfer()
        .returning(move |transfer, key| {
            let mut log = log.lock().unwrap();
            log.push((transfer.clone(), key.to_owned()));
            let listed = ListedTransfer {
                id: format!("tr_{}", log.len()),
                amount: transfer.amount,
                metadata: transfer.metadata.clone(),
            };
            let answer = answers.lock().unwrap().next().unwrap_or(Answer::Created);
            if matches!(answer, Answer::Created | Answer::CreatedButLost) {
                made.lock()
                    .unwrap()
                    .push((transfer.transfer_group.clone(), listed.clone()));
            }
            match answer {
                Answer::Fails(error) => Err(error),
                Answer::CreatedButLost => Err(PaymentError::Transient {
                    message: "timed out".into(),
                }),
                Answer::Created => Ok(Transfer {
                    id: listed.id,
                    amount: listed.amount,
                }),
            }
        });
    stripe.expect_transfers_of_group().returning(move |group| {
        Ok(created
            .lock()
            .unwrap()
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, t)| t.clone())
            .collect())
    });
    asked
}

/// A ready seller's print (12.50) bought and paid (`pi_1`) by a registered buyer.
async fn paid(world: &World) -> (Actor, Order) {
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    (seller, order)
}

pub(super) fn payout_of(world: &World, order: &Order, seller: &Actor) -> PayoutStatus {
    world.state().payouts[&(order.id, seller.user_id)]
        .status
        .clone()
}

#[tokio::test]
async fn a_payout_transfers_the_net_from_the_charge_and_books_it() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, vec![])));
    let (seller, order) = paid(&world).await;
    assert_eq!(world.balance(&seller), Cents::new(1125));
    let runs = world.run_jobs().await;
    let payout = JobKind::Payout {
        order: order.id,
        seller: seller.user_id,
    };
    assert_eq!(runs, [JobRun::Done(payout)]);
    let asked = asked.unwrap();
    let asked = asked.lock().unwrap();
    let (transfer, key) = &asked[0];
    assert_eq!(asked.len(), 1);
    assert_eq!(key, &format!("payout:{}:{}", order.id, seller.user_id));
    assert_eq!(transfer.amount, Cents::new(1125));
    assert_eq!(transfer.destination, "acct_maker");
    assert_eq!(
        transfer.source_transaction.as_deref(),
        Some("ch_1"),
        "funded by the order's charge"
    );
    assert_eq!(transfer.transfer_group, order.id.to_string());
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid {
            amount: Cents::new(1125),
            transfer_id: "tr_1".into()
        }
    );
    assert_eq!(
        world.balance(&seller),
        Cents::ZERO,
        "the transfer is booked"
    );
    let state = world.state();
    assert!(
        state
            .journal
            .iter()
            .any(|(_, e, _)| e.key().as_str() == "transfer:tr_1")
    );
    assert_eq!(
        state.orders[&order.id].charge_id.as_deref(),
        Some("ch_1"),
        "remembered"
    );
}

#[tokio::test]
async fn a_payout_whose_record_was_lost_is_not_sent_again_because_the_ledger_shows_it() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, vec![])));
    let asked = asked.unwrap();
    let (seller, order) = paid(&world).await;
    world.run_jobs().await;
    assert_eq!(asked.lock().unwrap().len(), 1, "paid once");
    assert_eq!(world.balance(&seller), Cents::ZERO);

    // The payout record is lost (a restore from an older backup, say); the ledger keeps the
    // transfer, and that is what the planner looks at.
    world
        .store
        .tamper(|state| drop(state.payouts.remove(&(order.id, seller.user_id))));
    assert!(
        !world
            .state()
            .payouts
            .contains_key(&(order.id, seller.user_id))
    );
    // The seller has money on their balance (so the balance alone would not stop a transfer).
    let owner = world.owner().await;
    world
        .services
        .books
        .adjust(
            &owner,
            &marketplace_domain::adjustments::AdjustmentInput {
                seller: seller.user_id,
                amount: 1125,
                currency: "usd".into(),
                note: "a goodwill credit".into(),
                idempotency_key: "goodwill-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(world.balance(&seller), Cents::new(1125));
    let queued = world
        .services
        .payout_admin
        .retry_payouts(&owner, order.id)
        .await
        .unwrap();
    assert_eq!(queued, 1, "with no record, the payout looks unpaid");
    world.run_jobs().await;
    assert_eq!(
        asked.lock().unwrap().len(),
        1,
        "no second transfer: the ledger shows the first"
    );
    assert_eq!(world.balance(&seller), Cents::new(1125), "the credit stays");
}

#[tokio::test]
async fn a_transient_failure_leaves_the_attempt_pending_and_sends_it_again_as_it_was() {
    let mut asked = None;
    let world = World::with(|stripe| {
        let server_error = PaymentError::Transient {
            message: "HTTP 500".into(),
        };
        asked = Some(stripe_transfers(stripe, vec![Answer::Fails(server_error)]));
    });
    let (seller, order) = paid(&world).await;
    let runs = world.run_jobs().await;
    assert!(
        matches!(runs[..], [JobRun::Retrying(JobKind::Payout { .. })]),
        "{runs:?}"
    );
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Pending {
            amount: Cents::new(1125)
        },
        "the outcome is unknown: the transfer may exist"
    );
    let state = world.state();
    let job = &state.jobs[0].record;
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(
        job.run_at,
        world.clock.now() + Duration::seconds(2),
        "first retry after 2 s"
    );
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 500"))
    );
    assert_eq!(world.balance(&seller), Cents::new(1125), "nothing booked");

    assert!(world.run_jobs().await.is_empty(), "not due yet");
    world.clock.advance(Duration::seconds(2));
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    let asked = asked.unwrap();
    let asked = asked.lock().unwrap();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0], asked[1], "the same transfer under the same key");
    assert!(matches!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid { .. }
    ));
    assert_eq!(world.balance(&seller), Cents::ZERO);
}

#[tokio::test]
async fn a_transfer_whose_answer_was_lost_is_found_at_stripe_and_not_sent_again() {
    let mut asked = None;
    let world = World::with(|stripe| {
        asked = Some(stripe_transfers(stripe, vec![Answer::CreatedButLost]));
    });
    let (seller, order) = paid(&world).await;
    let runs = world.run_jobs().await;
    assert!(matches!(runs[..], [JobRun::Retrying(_)]), "{runs:?}");
    assert!(matches!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Pending { .. }
    ));
    world.clock.advance(Duration::days(2));
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert_eq!(
        asked.unwrap().lock().unwrap().len(),
        1,
        "looked up by transfer group, not sent again after Stripe forgot the key"
    );
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid {
            amount: Cents::new(1125),
            transfer_id: "tr_1".into()
        }
    );
    assert_eq!(world.balance(&seller), Cents::ZERO, "booked once");
}

#[tokio::test]
async fn a_refused_transfer_is_decided_again_after_a_refund_instead_of_paying_the_old_amount() {
    let mut asked = None;
    let world = World::with(|stripe| {
        let refused = PaymentError::Rejected {
            code: "account_invalid".into(),
            message: "the destination cannot receive transfers".into(),
        };
        asked = Some(stripe_transfers(stripe, vec![Answer::Fails(refused)]));
    });
    let (seller, order) = paid(&world).await;
    assert!(matches!(world.run_jobs().await[..], [JobRun::Dead(_)]));
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Failed {
            amount: Cents::new(1125)
        }
    );
    // The whole order is refunded; the refund queues the payout again.
    let event = world.charge_refunded("evt_refund", &order, 1250, vec![world.refund("re_1", 1250)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert_eq!(world.balance(&seller), Cents::ZERO);
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Skipped(SkipReason::NothingOwed)
    );
    assert_eq!(
        asked.unwrap().lock().unwrap().len(),
        1,
        "never the old 11.25"
    );
}

#[tokio::test]
async fn a_payout_netted_to_nothing_is_paid_when_the_refund_fails() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, vec![])));
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    // Fully refunded before the payout ran.
    let event = world.charge_refunded("evt_refund", &order, 1250, vec![world.refund("re_1", 1250)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Skipped(SkipReason::NothingOwed)
    );
    assert_eq!(world.state().orders[&order.id].status.as_str(), "refunded");
    // The refund fails: the money stayed with us, and the seller is owed again.
    let mut failed = world.refund("re_1", 1250);
    failed.status = RefundStatus::Failed;
    world
        .deliver_refund("evt_refund_failed", "refund.updated", failed)
        .await;
    let state = world.state();
    assert_eq!(state.orders[&order.id].status.as_str(), "paid");
    assert_eq!(state.orders[&order.id].refunded, Cents::ZERO);
    drop(state);
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid {
            amount: Cents::new(1125),
            transfer_id: "tr_1".into()
        }
    );
    assert_eq!(asked.unwrap().lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_transfer_parks_the_job_as_dead_until_an_owner_retries() {
    let world = World::with(|stripe| {
        let refused = PaymentError::Rejected {
            code: "account_invalid".into(),
            message: "the destination cannot receive transfers".into(),
        };
        stripe_transfers(stripe, vec![Answer::Fails(refused)]);
    });
    let (seller, order) = paid(&world).await;
    let runs = world.run_jobs().await;
    assert!(matches!(runs[..], [JobRun::Dead(_)]), "{runs:?}");
    assert_eq!(world.state().jobs[0].record.status, JobStatus::Dead);
    assert!(matches!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Failed { .. }
    ));
    let owner = world.owner().await;
    let queued = world
        .services
        .payout_admin
        .retry_payouts(&owner, order.id)
        .await
        .unwrap();
    assert_eq!(queued, 1);
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert!(matches!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid { .. }
    ));
}

#[tokio::test]
async fn a_seller_not_ready_is_skipped_and_paid_once_their_account_is() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, vec![])));
    let (seller, order) = paid(&world).await;
    world.set_connect(seller.user_id, "acct_maker", false).await;
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Skipped(SkipReason::SellerNotReady)
    );
    assert!(
        asked.as_ref().unwrap().lock().unwrap().is_empty(),
        "no transfer"
    );

    let ready = ConnectedAccount {
        id: "acct_maker".into(),
        details_submitted: true,
        charges_enabled: true,
        payouts_enabled: true,
    };
    let event = world.event(
        "evt_acct",
        "account.updated",
        EventPayload::AccountUpdated(ready),
    );
    world
        .deliver(WebhookEndpoint::Connect, event)
        .await
        .unwrap();
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    assert!(matches!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid { .. }
    ));
    assert_eq!(asked.unwrap().lock().unwrap().len(), 1);
}

/// What `create_transfer_reversal` was asked, and answers `answer`.
fn stripe_reversals(
    stripe: &mut MockPaymentGateway,
    answer: Result<(), PaymentError>,
) -> Arc<Mutex<Vec<(String, Cents, String)>>> {
    let asked: Arc<Mutex<Vec<(String, Cents, String)>>> = Arc::default();
    let log = asked.clone();
    stripe
        .expect_create_transfer_reversal()
        .times(1)
        .returning(move |transfer, amount, key| {
            log.lock()
                .unwrap()
                .push((transfer.to_owned(), amount, key.to_owned()));
            answer.clone().map(|()| TransferReversal {
                id: "trr_1".into(),
                amount,
            })
        });
    asked
}

/// Paid, paid out, then refunded 5.00 from the Stripe dashboard: the seller owes back 4.50.
async fn refunded_after_payout(world: &World) -> (Actor, Order) {
    let (seller, order) = paid(world).await;
    world.run_jobs().await;
    let event = world.charge_refunded("evt_refund", &order, 500, vec![world.refund("re_1", 500)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    assert_eq!(
        world.balance(&seller),
        Cents::new(-450),
        "the seller owes the refund's net"
    );
    // The refund queued the payout again; it was paid, so nothing more is sent.
    assert!(matches!(
        world.run_jobs().await[..],
        [JobRun::Done(JobKind::Payout { .. })]
    ));
    assert!(matches!(
        payout_of(world, &order, &seller),
        PayoutStatus::Paid { .. }
    ));
    (seller, order)
}

#[tokio::test]
async fn a_reversal_takes_back_the_sellers_part_of_a_later_refund_once() {
    let mut asked = None;
    let world = World::with(|stripe| {
        stripe_transfers(stripe, vec![]);
        asked = Some(stripe_reversals(stripe, Ok(())));
    });
    let (seller, order) = refunded_after_payout(&world).await;
    let owner = world.owner().await;
    let admin = &world.services.payout_admin;
    let preview = admin
        .reverse_payout(&owner, order.id, seller.user_id)
        .await
        .unwrap();
    assert_eq!(preview.amount, Cents::new(450));
    // The reversal, then the payout it queued again (the order owes nothing more: no transfer).
    assert!(matches!(
        world.run_jobs().await[..],
        [
            JobRun::Done(JobKind::Reversal { .. }),
            JobRun::Done(JobKind::Payout { .. })
        ]
    ));
    let reversals = world.state().reversals;
    assert_eq!(reversals.len(), 1);
    let expected_key = format!("reversal:{}", reversals[0].id);
    assert_eq!(
        asked.unwrap().lock().unwrap()[..],
        [("tr_1".to_owned(), Cents::new(450), expected_key)]
    );
    assert_eq!(
        reversals[0].status,
        ReversalStatus::Reversed {
            reversal_id: "trr_1".into()
        }
    );
    assert_eq!(world.balance(&seller), Cents::ZERO, "the debt is settled");
    let again = admin.reverse_payout(&owner, order.id, seller.user_id).await;
    assert!(again.is_err(), "nothing left to take back: {again:?}");
    let stranger = world.buyer("stranger").await;
    let not_theirs = admin
        .reverse_payout(&owner, order.id, stranger.user_id)
        .await
        .unwrap_err();
    assert!(matches!(
        not_theirs.kind(),
        ErrorKind::Unprocessable {
            code: "not_a_seller_of_order"
        }
    ));
}

#[tokio::test]
async fn a_refused_reversal_is_recorded_and_leaves_the_debt() {
    let world = World::with(|stripe| {
        stripe_transfers(stripe, vec![]);
        let refused = PaymentError::Rejected {
            code: "balance_insufficient".into(),
            message: "the connected account's balance is too low".into(),
        };
        stripe_reversals(stripe, Err(refused));
    });
    let (seller, order) = refunded_after_payout(&world).await;
    let owner = world.owner().await;
    world
        .services
        .payout_admin
        .reverse_payout(&owner, order.id, seller.user_id)
        .await
        .unwrap();
    assert!(matches!(world.run_jobs().await[..], [JobRun::Done(_)]));
    let reversal = &world.state().reversals[0];
    assert_eq!(reversal.status, ReversalStatus::Refused);
    assert!(
        reversal
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("too low"))
    );
    assert_eq!(
        world.balance(&seller),
        Cents::new(-450),
        "netted against later payouts"
    );
}

#[tokio::test]
async fn refunds_missing_from_an_event_are_fetched_and_booked_once() {
    let world = World::with(|stripe| {
        stripe_transfers(stripe, vec![]);
        stripe.expect_charge_refunds().returning(|charge| {
            assert_eq!(charge, "ch_1");
            let refund = |id: &str, amount: i64| RefundData {
                id: id.into(),
                amount: Cents::new(amount),
                status: RefundStatus::Succeeded,
                charge: Some("ch_1".into()),
                payment_intent: Some("pi_1".into()),
                order_id: None,
                order_item_id: None,
                refund_request_id: None,
                refund_attempt: None,
                failure_reason: None,
                currency: Some("usd".into()),
                created: crate::testing::start_time(),
            };
            Ok(vec![refund("re_1", 300), refund("re_2", 200)])
        });
    });
    let (seller, order) = paid(&world).await;
    let event = world.charge_refunded("evt_refunded", &order, 500, Vec::new());
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    let mismatch = |world: &World| {
        world
            .state()
            .flags
            .get(&order.id)
            .is_some_and(|(flags, _)| flags.iter().any(|f| f.code == "refunds_mismatch"))
    };
    assert!(
        mismatch(&world),
        "Stripe shows 5.00 refunded, none is booked yet"
    );
    world.run_jobs().await;
    let refunded = world.state().orders[&order.id].refunded;
    assert_eq!(refunded, Cents::new(500));
    assert!(!mismatch(&world), "caught up");
    crate::use_cases::money_flow::refunds::sync_refunds(&world.deps, order.id)
        .await
        .unwrap();
    assert_eq!(
        world.state().orders[&order.id].refunded,
        Cents::new(500),
        "booked once"
    );
    assert_eq!(
        world.balance(&seller),
        Cents::new(-450),
        "paid out 1125, then 450 refunded"
    );
}

#[tokio::test]
async fn the_guest_mail_is_written_once_with_its_links() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let free = world.free_file(&seller).await;
    let order = world.place(None, &[(free, 1)]).await;
    let access = crate::use_cases::orders::OrderAccess {
        actor: None,
        token: Some(&order.access_token),
    };
    world
        .services
        .checkout
        .checkout(order.id, access, &Default::default())
        .await
        .unwrap();
    assert!(matches!(
        world.run_jobs().await[..],
        [JobRun::Done(JobKind::OrderMail { .. })]
    ));
    send_order_mail(&world.deps, order.id).await.unwrap();
    let (mail, others): (Vec<_>, Vec<_>) = world
        .state()
        .mail
        .into_iter()
        .partition(|m| m.to == "guest@example.com");
    assert_eq!(mail.len(), 1, "a job that runs twice writes its mail once");
    let to: Vec<&str> = others.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(
        to,
        ["maker@example.com"],
        "and the seller hears of the sale"
    );
    assert_eq!(mail[0].order_id, Some(order.id));
    let page = format!(
        "https://shop.test/orders/{}?t={}",
        order.id, order.access_token
    );
    assert!(mail[0].text_body.contains(&page), "{}", mail[0].text_body);
    assert!(mail[0].html_body.starts_with("<pre>"));
}
