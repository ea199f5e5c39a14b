//! Payouts decided again when money comes back to a seller: a paid payout topped up when the order
//! owes more, and payouts netted to nothing on a seller's other orders paid once their balance
//! rises.

use marketplace_domain::money::Cents;
use marketplace_domain::payouts::{PayoutStatus, SkipReason};

use super::World;
use super::jobs::{Answer, payout_of, stripe_transfers};
use crate::ports::{RefundData, RefundStatus, WebhookEndpoint};

fn failed_refund(world: &World, id: &str, amount: i64) -> RefundData {
    let mut refund = world.refund(id, amount);
    refund.status = RefundStatus::Failed;
    refund
}

#[tokio::test]
async fn a_refund_that_fails_after_a_smaller_payout_is_topped_up_once() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, Vec::<Answer>::new())));
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    // 5.00 refunded before the payout ran: it pays 11.25 − 4.50.
    let event = world.charge_refunded("evt_r", &order, 500, vec![world.refund("re_1", 500)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    world.run_jobs().await;
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Paid {
            amount: Cents::new(675),
            transfer_id: "tr_1".into()
        }
    );
    // The refund fails: the order owes the seller 4.50 more.
    world
        .deliver_refund(
            "evt_f",
            "refund.updated",
            failed_refund(&world, "re_1", 500),
        )
        .await;
    world.run_jobs().await;
    let asked = asked.unwrap();
    {
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert_eq!(
            asked[1].0.amount,
            Cents::new(450),
            "only what is still owed"
        );
        assert_eq!(
            asked[1].1,
            format!("payout:{}:{}:2", order.id, seller.user_id),
            "a new attempt, a new key"
        );
    }
    assert_eq!(world.balance(&seller), Cents::ZERO);
    world.run_jobs().await;
    assert_eq!(asked.lock().unwrap().len(), 2, "never again");
    assert_eq!(world.balance(&seller), Cents::ZERO, "never again");
}

#[tokio::test]
async fn a_payout_netted_against_another_orders_refund_is_paid_when_that_refund_fails() {
    let mut asked = None;
    let world = World::with(|stripe| asked = Some(stripe_transfers(stripe, Vec::<Answer>::new())));
    let (seller, buyer, print) = world.shop().await;
    let first = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&first, 1).await;
    world.run_jobs().await;
    // The first order is refunded in full after its payout: the seller owes 11.25.
    let event = world.charge_refunded("evt_r", &first, 1250, vec![world.refund("re_1", 1250)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    world.run_jobs().await;
    assert_eq!(world.balance(&seller), Cents::new(-1125));
    // The second order's payout is netted against that debt.
    let second = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&second, 2).await;
    world.run_jobs().await;
    assert_eq!(
        payout_of(&world, &second, &seller),
        PayoutStatus::Skipped(SkipReason::NothingOwed)
    );
    // The first order's refund fails: the debt is gone, and the second order's payout is owed.
    world
        .deliver_refund(
            "evt_f",
            "refund.updated",
            failed_refund(&world, "re_1", 1250),
        )
        .await;
    world.run_jobs().await;
    assert!(matches!(
        payout_of(&world, &second, &seller),
        PayoutStatus::Paid { amount, .. } if amount == Cents::new(1125)
    ));
    assert_eq!(asked.unwrap().lock().unwrap().len(), 2, "one per order");
    assert_eq!(world.balance(&seller), Cents::ZERO);
}

#[tokio::test]
async fn an_old_attempt_stripe_never_made_is_abandoned_when_the_order_owes_less_now() {
    let mut asked = None;
    let world = World::with(|stripe| {
        let unavailable = crate::ports::PaymentError::Transient {
            message: "HTTP 503".into(),
        };
        asked = Some(stripe_transfers(stripe, vec![Answer::Fails(unavailable)]));
    });
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    world.run_jobs().await;
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Pending {
            amount: Cents::new(1125)
        },
        "outcome unknown"
    );
    // Refunded in full meanwhile; much later the payout runs again.
    let event = world.charge_refunded("evt_r", &order, 1250, vec![world.refund("re_1", 1250)]);
    world
        .deliver(WebhookEndpoint::Payments, event)
        .await
        .unwrap();
    world.clock.advance(time::Duration::hours(1));
    world.run_jobs().await;
    world.clock.advance(time::Duration::hours(1));
    world.run_jobs().await;
    assert_eq!(
        payout_of(&world, &order, &seller),
        PayoutStatus::Skipped(SkipReason::NothingOwed),
        "abandoned, then decided afresh"
    );
    assert_eq!(
        asked.unwrap().lock().unwrap().len(),
        1,
        "the 11.25 is never sent again"
    );
    assert_eq!(world.balance(&seller), Cents::ZERO);
}
