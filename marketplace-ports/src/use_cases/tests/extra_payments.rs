//! A second payment of an order already paid: booked as the buyer's money, refunded by a job once
//! per payment, and its refund booked out of `ExtraPayments` without touching the order.

use std::sync::{Arc, Mutex};

use marketplace_domain::ledger::Account;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderStatus;

use super::World;
use crate::ports::{
    JobKind, MockPaymentGateway, NewRefund, PaymentIntent, Refund, RefundStatus, Transfer,
};
use crate::use_cases::jobs::runner::JobRun;

fn extra_payments(world: &World) -> Cents {
    let state = world.state();
    Cents::sum(state.journal.iter().flat_map(|(_, entry, _)| {
        entry
            .postings()
            .iter()
            .filter(|p| p.account == Account::ExtraPayments)
            .map(|p| p.amount)
            .collect::<Vec<_>>()
    }))
    .unwrap()
}

/// The refunds Stripe was asked for, with their idempotency keys.
type Refunds = Arc<Mutex<Vec<(NewRefund, String)>>>;

/// Stripe pays transfers from `ch_of_{pi}` and refunds anything as `re_extra`.
fn stripe_that_refunds(stripe: &mut MockPaymentGateway) -> Refunds {
    let refunds: Refunds = Arc::default();
    let asked = refunds.clone();
    stripe.expect_retrieve_payment_intent().returning(|id| {
        Ok(PaymentIntent {
            id: id.to_owned(),
            status: "succeeded".to_owned(),
            latest_charge: Some(format!("ch_of_{id}")),
        })
    });
    stripe.expect_create_transfer().returning(|t, _| {
        Ok(Transfer {
            id: "tr_1".into(),
            amount: t.amount,
        })
    });
    stripe.expect_create_refund().returning(move |refund, key| {
        asked.lock().unwrap().push((refund.clone(), key.to_owned()));
        Ok(Refund {
            id: "re_extra".into(),
            amount: refund.amount,
            status: RefundStatus::Succeeded,
            failure_reason: None,
        })
    });
    refunds
}

#[tokio::test]
async fn a_second_payment_is_booked_refunded_once_and_leaves_the_order_alone() {
    let mut refunds = None;
    let world = World::with(|stripe| refunds = Some(stripe_that_refunds(stripe)));
    let refunds = refunds.unwrap();
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    world.pay(&order, 2).await;
    assert_eq!(
        extra_payments(&world),
        Cents::new(-1250),
        "the buyer's money, owed back"
    );
    let flagged = |world: &World| {
        world
            .state()
            .flags
            .get(&order.id)
            .is_some_and(|(flags, _)| flags.iter().any(|f| f.code == "extra_payment"))
    };
    assert!(flagged(&world), "flagged until it is refunded");
    let runs = world.run_jobs().await;
    let refund_job = JobKind::ExtraPaymentRefund { order: order.id };
    assert!(runs.contains(&JobRun::Done(refund_job)), "{runs:?}");
    {
        let refunds = refunds.lock().unwrap();
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0].0.payment_intent, "pi_2");
        assert_eq!(refunds[0].0.amount, Cents::new(1250));
        assert_eq!(refunds[0].1, "extra-payment:pi_2");
    }
    assert!(!flagged(&world), "resolved once refunded");

    let mut refund = world.refund("re_extra", 1250);
    refund.payment_intent = Some("pi_2".into());
    refund.charge = Some("ch_of_pi_2".into());
    refund.order_id = Some(order.id.to_string());
    for id in ["evt_r1", "evt_r2"] {
        world
            .deliver_refund(id, "refund.created", refund.clone())
            .await;
    }
    assert_eq!(extra_payments(&world), Cents::ZERO, "booked out once");
    let state = world.state();
    let stored = &state.orders[&order.id];
    assert_eq!(stored.refunded, Cents::ZERO);
    assert_eq!(stored.status, OrderStatus::Paid);
    assert_eq!(
        stored.charge_id.as_deref(),
        Some("ch_of_pi_1"),
        "the second payment's charge never funds the payouts"
    );
    drop(state);
    assert_eq!(world.balance(&seller), Cents::ZERO, "paid out, untouched");
}

#[tokio::test]
async fn a_second_payments_refund_that_fails_puts_the_money_back_in_either_order() {
    for failure_first in [false, true] {
        let world = World::with(|stripe| {
            stripe_that_refunds(stripe);
        });
        let (_, buyer, print) = world.shop().await;
        let order = world.place(Some(&buyer), &[(print, 1)]).await;
        world.pay(&order, 1).await;
        world.pay(&order, 2).await;
        world.run_jobs().await;
        let mut succeeded = world.refund("re_extra", 1250);
        succeeded.payment_intent = Some("pi_2".into());
        succeeded.order_id = Some(order.id.to_string());
        let mut failed = succeeded.clone();
        failed.status = RefundStatus::Failed;
        let events = if failure_first {
            [("evt_f", failed), ("evt_s", succeeded)]
        } else {
            [("evt_s", succeeded), ("evt_f", failed)]
        };
        for (id, refund) in events {
            world.deliver_refund(id, "refund.updated", refund).await;
        }
        assert_eq!(
            extra_payments(&world),
            Cents::new(-1250),
            "the buyer's money is with us again (failure first: {failure_first})"
        );
        let flagged = world
            .state()
            .flags
            .get(&order.id)
            .is_some_and(|(flags, _)| flags.iter().any(|f| f.code == "extra_payment"));
        assert!(flagged, "for an owner again");
    }
}
