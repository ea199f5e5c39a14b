//! Regression tests for the money defects of the original Django application: each computes what
//! the original did and shows our rule gives the right answer where it did not. The tax-share and
//! reconciliation defects are tested beside their rules (`orders::pricing` and `reconcile`).
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, missing_docs)]

mod common;

use marketplace_domain::ids::UserId;
use marketplace_domain::ledger::{
    Account, Fact, Ledger, OrderMoney, Posted, order_paid_entry, transfer_entry,
};
use marketplace_domain::money::Cents;
use marketplace_domain::payouts::{
    PayoutContext, PayoutDecision, PayoutSoFar, PayoutStatus, SellerReadiness, plan_payout,
};

use common::{USD, book, created, order, paid_ledger, seller};

fn refund(order: &OrderMoney, id: &str, amount: i64, line: Option<usize>, at: i64) -> Fact {
    Fact::Refund {
        refund_id: id.into(),
        order: order.order,
        amount: Cents::new(amount),
        line: line.map(|i| order.lines[i].line),
        created: created(at),
    }
}

fn pay_out(
    ledger: &mut Ledger,
    order: &OrderMoney,
    seller: UserId,
    existing: Option<PayoutStatus>,
    transfer: &str,
) -> PayoutDecision {
    let existing = existing.map(|status| PayoutSoFar {
        status,
        attempts: 1,
    });
    let context =
        PayoutContext::from_ledger(ledger, order, seller, SellerReadiness::Ready, existing)
            .unwrap();
    let decision = plan_payout(&context);
    if let PayoutDecision::Transfer { amount, .. } = decision {
        assert_eq!(
            ledger.post(transfer_entry(transfer, Some(order.order), seller, amount, USD).unwrap()),
            Posted::Booked
        );
    }
    decision
}

/// The original booked only −payout (never +net), so after a payout the balance was −net
/// and the next order's payout was `max(0, net + balance)`: short by the previous net.
#[test]
fn item_1_the_second_payout_is_not_short_by_the_first() {
    let first = order(1, &[(7, 1000)]);
    let second = order(2, &[(7, 500)]);
    let mut ledger = paid_ledger([&first]);
    assert_eq!(
        pay_out(&mut ledger, &first, seller(7), None, "tr_1"),
        PayoutDecision::Transfer {
            amount: Cents::new(900),
            attempt: 1,
            resend: false,
        }
    );
    assert_eq!(ledger.seller_balance(seller(7), USD).unwrap(), Cents::ZERO);

    assert_eq!(
        ledger.post(order_paid_entry(&second).unwrap()),
        Posted::Booked
    );
    let original_balance_after_first = -900;
    let original_second_payout = (450 + original_balance_after_first).max(0);
    assert_eq!(
        original_second_payout, 0,
        "the original pays nothing for the second order"
    );
    assert_eq!(
        pay_out(&mut ledger, &second, seller(7), None, "tr_2"),
        PayoutDecision::Transfer {
            amount: Cents::new(450),
            attempt: 1,
            resend: false,
        }
    );
    assert_eq!(ledger.seller_balance(seller(7), USD).unwrap(), Cents::ZERO);
}

/// The original: `charge.refunded` (cumulative `amount_refunded`) and `refund.created` (one refund)
/// for the same refund each debited the seller. Booked by refund id, it counts once — also when a
/// later cumulative event lists it again beside a new refund.
#[test]
fn item_3_the_same_refund_seen_cumulatively_and_singly_books_once() {
    let order = order(3, &[(7, 1000)]);
    let mut ledger = paid_ledger([&order]);
    // refund.created for re_1 (300)…
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_1", 300, None, 1)),
        Posted::Booked
    );
    // …then charge.refunded with amount_refunded = 300 listing re_1…
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_1", 300, None, 1)),
        Posted::AlreadyBooked
    );
    // …then charge.refunded with amount_refunded = 800 listing re_1 and re_2.
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_1", 300, None, 1)),
        Posted::AlreadyBooked
    );
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_2", 500, None, 2)),
        Posted::Booked
    );

    let original_debit = 300 + 300 + 800;
    assert_eq!(
        original_debit, 1400,
        "the original debits more than was ever refunded"
    );
    // 800 refunded: 90 % of it was the seller's.
    assert_eq!(
        ledger.seller_balance(seller(7), USD).unwrap(),
        Cents::new(900 - 720)
    );
    assert_eq!(
        ledger.balance(Account::Clearing, USD).unwrap(),
        Cents::new(1000 - 800)
    );
}

/// The original: a partial refund before payout was never debited, so the later payout paid the full
/// net; a lost chargeback debited the full net even after refunds.
#[test]
fn item_4_partial_refunds_before_payout_and_chargebacks_after_refunds() {
    let order = order(4, &[(7, 1000)]);
    let mut ledger = paid_ledger([&order]);
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_1", 500, None, 1)),
        Posted::Booked
    );
    let original_payout = 900;
    let decision = pay_out(&mut ledger, &order, seller(7), None, "tr_1");
    assert_eq!(
        decision,
        PayoutDecision::Transfer {
            amount: Cents::new(450),
            attempt: 1,
            resend: false,
        },
        "not the original's {original_payout}"
    );
    assert_eq!(ledger.seller_balance(seller(7), USD).unwrap(), Cents::ZERO);

    // The rest is disputed and lost: only what was not refunded is taken, and only its net share
    // from the seller (not the original's full net of 900).
    let dispute = Fact::DisputeLost {
        dispute_id: "dp_1".into(),
        order: order.order,
        amount: Cents::new(500),
        fee: Cents::new(1500),
        created: created(2),
    };
    assert_eq!(book(&mut ledger, &order, dispute), Posted::Booked);
    assert_eq!(
        ledger.seller_balance(seller(7), USD).unwrap(),
        Cents::new(-450)
    );
    assert_eq!(
        ledger.fee_revenue(USD).unwrap(),
        Cents::ZERO,
        "the platform returns its fee too"
    );
    assert_eq!(
        ledger.balance(Account::DisputeCosts, USD).unwrap(),
        Cents::new(1500)
    );
    assert_eq!(ledger.balance(Account::Losses, USD).unwrap(), Cents::ZERO);
}

/// The original: "any transfer_created event exists" marked the whole order paid out, so a seller whose
/// transfer failed was never retried. Payouts are per (order, seller).
#[test]
fn item_5_a_failed_seller_is_retried_while_the_paid_one_is_not_paid_twice() {
    let order = order(5, &[(7, 1000), (8, 2000)]);
    let mut ledger = paid_ledger([&order]);
    let first = pay_out(&mut ledger, &order, seller(7), None, "tr_1");
    let PayoutDecision::Transfer { amount, .. } = first else {
        panic!("{first:?}")
    };
    let paid = PayoutStatus::Paid {
        amount,
        transfer_id: "tr_1".into(),
    };
    // Stripe refused seller 8's transfer: the retry decides again, under a new key.
    let failed = PayoutStatus::Failed {
        amount: Cents::new(1800),
    };

    let original_transfers_done = true; // one transfer_created event exists
    assert!(original_transfers_done, "the original would stop here");
    assert_eq!(
        pay_out(&mut ledger, &order, seller(7), Some(paid), "tr_again"),
        PayoutDecision::AlreadyPaid {
            transfer_id: "tr_1".into()
        }
    );
    assert_eq!(
        pay_out(&mut ledger, &order, seller(8), Some(failed), "tr_2"),
        PayoutDecision::Transfer {
            amount: Cents::new(1800),
            attempt: 2,
            resend: false,
        }
    );
    assert_eq!(ledger.seller_balance(seller(7), USD).unwrap(), Cents::ZERO);
    assert_eq!(ledger.seller_balance(seller(8), USD).unwrap(), Cents::ZERO);
}

/// The original: a partial refund debited the seller the whole refunded amount (the platform kept its
/// fee) while a full refund debited only nets. Every refund is split net : fee.
#[test]
fn item_13_partial_and_full_refunds_split_the_same_way() {
    let order = order(6, &[(7, 1000)]);
    let mut ledger = paid_ledger([&order]);
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_1", 400, None, 1)),
        Posted::Booked
    );
    let original_partial_debit = 400;
    assert_eq!(
        ledger.seller_balance(seller(7), USD).unwrap(),
        Cents::new(900 - 360),
        "not 900 − {original_partial_debit}"
    );
    assert_eq!(
        book(&mut ledger, &order, refund(&order, "re_2", 600, Some(0), 2)),
        Posted::Booked
    );
    assert_eq!(ledger.seller_balance(seller(7), USD).unwrap(), Cents::ZERO);
    assert_eq!(ledger.fee_revenue(USD).unwrap(), Cents::ZERO);
}

/// Not a defect of the original but of naive booking: a refund that fails after Stripe reported it
/// puts everything back, whether the failure arrives before or after the refund itself.
#[test]
fn a_failed_refund_is_undone_in_either_delivery_order() {
    let order = order(7, &[(7, 1000)]);
    let failed = Fact::RefundFailed {
        refund_id: "re_1".into(),
        order: order.order,
    };
    for first_the_failure in [false, true] {
        let mut ledger = paid_ledger([&order]);
        if first_the_failure {
            assert_eq!(book(&mut ledger, &order, failed.clone()), Posted::Booked);
        }
        assert_eq!(
            book(&mut ledger, &order, refund(&order, "re_1", 400, None, 1)),
            Posted::Booked
        );
        let again = if first_the_failure {
            Posted::AlreadyBooked
        } else {
            Posted::Booked
        };
        assert_eq!(book(&mut ledger, &order, failed.clone()), again);
        assert_eq!(
            ledger.seller_balance(seller(7), USD).unwrap(),
            Cents::new(900)
        );
        assert_eq!(
            ledger.balance(Account::Clearing, USD).unwrap(),
            Cents::new(1000)
        );
        assert_eq!(ledger.fee_revenue(USD).unwrap(), Cents::new(100));
    }
}
