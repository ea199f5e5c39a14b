//! The ledger under replay (docs/money.md, "Keys and replays"): any order and number of
//! deliveries of an order's facts gives the ledger of booking each once, with the payout rules
//! checked while random histories run.
#![allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::created;
use common::delivery::{Delivery, deliveries};
use common::strategies::{priced_order, seller};
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{AdjustmentId, OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::ledger::{
    Account, Component, Fact, JournalEntry, Ledger, OrderMoney, Posted, adjustment_entry,
    extra_payment_entry, extra_payment_refund_entry, extra_payment_refund_failed_entry,
    order_event_entry, order_paid_entry, refund_state, transfer_entry, transfer_reversal_entry,
};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::orders::{CartItem, PricingTerms, price_order};
use marketplace_domain::payouts::{
    PayoutContext, PayoutDecision, PayoutSoFar, PayoutStatus, ReversalContext, SellerReadiness,
    claim_given, plan_payout, plan_reversal,
};
use proptest::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

/// One step of a scenario, in the order things really happened.
#[derive(Clone, Debug)]
enum Step {
    /// Refund `percent` of what is left (100 = full refund), naming line `line` or none.
    Refund { percent: u32, line: Option<usize> },
    /// Run the payout planner for seller `n` (every seller is ready); with `lose_record`, as a
    /// caller that lost its payout records would.
    Payout { seller: u8, lose_record: bool },
    /// A dispute for `percent` of what is left is opened: its amount and fee are withdrawn.
    DisputeOpened { percent: u32, fee: i64 },
    /// The last open dispute is lost; with none open, a dispute for `percent` of what is left is
    /// lost at once (its opening never reached us).
    DisputeLost { percent: u32, fee: i64 },
    /// The last open or lost dispute is won after all; Stripe keeps its fee or not.
    DisputeWon { fee_kept: bool },
    /// The last refund fails after Stripe reported it.
    RefundFails,
    /// The owner adjusts seller `n` by `amount` (either sign).
    Adjustment { seller: u8, amount: i64 },
    /// A second payment of the paid order arrives (the buyer's money).
    ExtraPayment { amount: i64 },
    /// The last extra payment is refunded.
    ExtraRefund,
    /// The last refund of an extra payment fails after all.
    ExtraRefundFails,
    /// The owner takes back from seller `n`, by reversing their payout, what they owe for the
    /// order (when the planner finds anything).
    Reversal { seller: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (prop_oneof![Just(100_u32), 1..=100_u32], prop::option::of(0..4_usize))
            .prop_map(|(percent, line)| Step::Refund { percent, line }),
        4 => (0..3_u8, prop::bool::weighted(0.2))
            .prop_map(|(seller, lose_record)| Step::Payout { seller, lose_record }),
        1 => (1..=100_u32, 0..2_000_i64).prop_map(|(percent, fee)| Step::DisputeOpened { percent, fee }),
        1 => (1..=100_u32, 0..2_000_i64).prop_map(|(percent, fee)| Step::DisputeLost { percent, fee }),
        1 => any::<bool>().prop_map(|fee_kept| Step::DisputeWon { fee_kept }),
        1 => Just(Step::RefundFails),
        1 => (0..3_u8, -3_000..3_000_i64).prop_map(|(seller, amount)| Step::Adjustment { seller, amount }),
        2 => (0..3_u8).prop_map(|seller| Step::Reversal { seller }),
        1 => (1..5_000_i64).prop_map(|amount| Step::ExtraPayment { amount }),
        1 => Just(Step::ExtraRefund),
        1 => Just(Step::ExtraRefundFails),
    ]
}

/// A scenario run in real order: the facts it produced (each once) and the ledger it built.
struct Scenario {
    order: OrderMoney,
    facts: Vec<Fact>,
    ledger: Ledger,
}

fn book(ledger: &mut Ledger, order: &OrderMoney, fact: &Fact) -> Posted {
    if ledger.contains(&fact.key()) {
        return Posted::AlreadyBooked;
    }
    let entry: JournalEntry = match fact {
        Fact::OrderPaid { .. } => order_paid_entry(order).unwrap(),
        Fact::Transfer {
            transfer_id,
            seller,
            amount,
            order: o,
        } => transfer_entry(transfer_id, *o, *seller, *amount, Currency::USD).unwrap(),
        Fact::Adjustment {
            adjustment_id,
            seller,
            amount,
            order: o,
        } => adjustment_entry(*adjustment_id, *seller, *amount, *o, Currency::USD).unwrap(),
        Fact::Refund { .. }
        | Fact::RefundFailed { .. }
        | Fact::DisputeOpened { .. }
        | Fact::DisputeLost { .. }
        | Fact::DisputeWon { .. } => {
            let booked = ledger.order_entries(order.order);
            order_event_entry(order, &booked, fact.clone()).unwrap()
        }
        Fact::TransferReversal {
            reversal_id,
            seller,
            amount,
            order: o,
        } => transfer_reversal_entry(reversal_id, *o, *seller, *amount, Currency::USD).unwrap(),
        Fact::ExtraPayment {
            payment_intent,
            order: o,
            amount,
        } => extra_payment_entry(*o, payment_intent, *amount, Currency::USD).unwrap(),
        Fact::ExtraPaymentRefund {
            refund_id,
            order: o,
            amount,
        } => extra_payment_refund_entry(*o, refund_id, *amount, Currency::USD).unwrap(),
        Fact::ExtraPaymentRefundFailed {
            refund_id,
            order: o,
            amount,
        } => extra_payment_refund_failed_entry(*o, refund_id, *amount, Currency::USD).unwrap(),
    };
    ledger.post(entry)
}

/// Runs the steps in order, deciding payouts with the real planner, and checks the payout rules on
/// the way: never more than the balance, never more than the order still owes, never twice.
fn run(order: OrderMoney, steps: &[Step]) -> Result<Scenario, TestCaseError> {
    let mut ledger = Ledger::new();
    let mut facts = vec![Fact::OrderPaid { order: order.order }];
    assert_eq!(book(&mut ledger, &order, &facts[0]), Posted::Booked);
    let total = order.total().unwrap();
    let mut payouts: BTreeMap<UserId, PayoutStatus> = BTreeMap::new();
    let mut reversed: BTreeMap<UserId, Cents> = BTreeMap::new();
    // Disputes that can still be closed: (id, amount, fee, created, lost already).
    let mut open_disputes: Vec<(String, Cents, Cents, OffsetDateTime, bool)> = Vec::new();
    let mut open_refunds: Vec<String> = Vec::new();
    let mut extra_payments: Vec<Cents> = Vec::new();
    let mut extra_refunds: Vec<(String, Cents)> = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let booked = ledger.order_entries(order.order);
        let facts_so_far: Vec<&Fact> = booked.iter().map(|e| e.fact()).collect();
        let state = refund_state(&order, &facts_so_far).unwrap();
        let left = state.refundable(&order).unwrap();
        let portion = |percent: u32| {
            Cents::new(
                (left.get() * i64::from(percent) / 100)
                    .max(1)
                    .min(left.get()),
            )
        };
        let fact = match step {
            Step::Refund { percent, line } if left.is_positive() => Fact::Refund {
                refund_id: {
                    open_refunds.push(format!("re_{n}"));
                    format!("re_{n}")
                },
                order: order.order,
                amount: portion(*percent),
                line: line.and_then(|i| order.lines.get(i)).map(|l| l.line),
                created: created(n as i64),
            },
            Step::DisputeOpened { percent, fee } if left.is_positive() => {
                let (amount, fee) = (portion(*percent), Cents::new(*fee));
                open_disputes.push((format!("dp_{n}"), amount, fee, created(n as i64), false));
                Fact::DisputeOpened {
                    dispute_id: format!("dp_{n}"),
                    order: order.order,
                    amount,
                    fee,
                    created: created(n as i64),
                }
            }
            Step::DisputeLost { percent, fee } => {
                let open = open_disputes.iter().rposition(|d| !d.4);
                let (dispute_id, amount, fee, at) = match open {
                    Some(index) => {
                        let dispute = &mut open_disputes[index];
                        dispute.4 = true;
                        (dispute.0.clone(), dispute.1, dispute.2, dispute.3)
                    }
                    None if left.is_positive() => {
                        let (amount, fee) = (portion(*percent), Cents::new(*fee));
                        open_disputes.push((
                            format!("dp_{n}"),
                            amount,
                            fee,
                            created(n as i64),
                            true,
                        ));
                        (format!("dp_{n}"), amount, fee, created(n as i64))
                    }
                    None => continue,
                };
                Fact::DisputeLost {
                    dispute_id,
                    order: order.order,
                    amount,
                    fee,
                    created: at,
                }
            }
            Step::RefundFails => match open_refunds.pop() {
                Some(refund_id) => Fact::RefundFailed {
                    refund_id,
                    order: order.order,
                },
                None => continue,
            },
            Step::DisputeWon { fee_kept } => match open_disputes.pop() {
                Some((dispute_id, _, fee, _, _)) => Fact::DisputeWon {
                    dispute_id,
                    order: order.order,
                    fee: if *fee_kept { fee } else { Cents::ZERO },
                },
                None => continue,
            },
            Step::ExtraPayment { amount } => {
                extra_payments.push(Cents::new(*amount));
                Fact::ExtraPayment {
                    payment_intent: format!("pi_extra_{n}"),
                    order: order.order,
                    amount: Cents::new(*amount),
                }
            }
            Step::ExtraRefund => match extra_payments.pop() {
                Some(amount) => {
                    extra_refunds.push((format!("re_extra_{n}"), amount));
                    Fact::ExtraPaymentRefund {
                        refund_id: format!("re_extra_{n}"),
                        order: order.order,
                        amount,
                    }
                }
                None => continue,
            },
            Step::ExtraRefundFails => match extra_refunds.pop() {
                Some((refund_id, amount)) => Fact::ExtraPaymentRefundFailed {
                    refund_id,
                    order: order.order,
                    amount,
                },
                None => continue,
            },
            Step::Adjustment { seller: s, amount } if *amount != 0 => Fact::Adjustment {
                adjustment_id: AdjustmentId::from_uuid(Uuid::from_u128(5_000 + n as u128)),
                seller: seller(*s),
                amount: Cents::new(*amount),
                order: Some(order.order),
            },
            Step::Payout {
                seller: s,
                lose_record,
            } => {
                let seller = seller(*s);
                if !order.sellers().contains(&seller) {
                    continue;
                }
                let balance = ledger.seller_balance(seller, Currency::USD).unwrap();
                // A caller that lost its payout records must not make the planner pay twice.
                let existing = if *lose_record {
                    None
                } else {
                    payouts.get(&seller).cloned().map(|status| PayoutSoFar {
                        status,
                        attempts: 1,
                    })
                };
                let context = PayoutContext::new(
                    &order,
                    &facts_so_far,
                    seller,
                    SellerReadiness::Ready,
                    balance,
                    existing,
                )
                .unwrap();
                let owes = context.order_owes();
                match plan_payout(&context) {
                    PayoutDecision::Transfer { amount, .. } => {
                        prop_assert!(
                            amount <= balance,
                            "paid {amount} with a balance of {balance}"
                        );
                        prop_assert!(amount <= owes, "paid {amount} when the order owed {owes}");
                        let transfer_id = format!("tr_{n}");
                        payouts.insert(
                            seller,
                            PayoutStatus::Paid {
                                amount,
                                transfer_id: transfer_id.clone(),
                            },
                        );
                        Fact::Transfer {
                            transfer_id,
                            order: Some(order.order),
                            seller,
                            amount,
                        }
                    }
                    PayoutDecision::Skip(reason) => {
                        payouts.insert(seller, PayoutStatus::Skipped(reason));
                        continue;
                    }
                    PayoutDecision::AlreadyPaid { .. } => continue,
                }
            }
            Step::Reversal { seller: s } => {
                let seller = seller(*s);
                let Some(PayoutStatus::Paid {
                    amount: transferred,
                    ..
                }) = payouts.get(&seller)
                else {
                    continue;
                };
                let claim = claim_given(&order, &state, seller).unwrap();
                let balance = ledger.seller_balance(seller, Currency::USD).unwrap();
                let already = reversed.get(&seller).copied().unwrap_or(Cents::ZERO);
                let amount = plan_reversal(&ReversalContext {
                    transferred: *transferred,
                    order_claim: claim,
                    reversed: already,
                    seller_balance: balance,
                })
                .unwrap();
                prop_assert!(!amount.is_negative());
                if amount.is_zero() {
                    continue;
                }
                prop_assert!(
                    balance.checked_add(amount).unwrap() <= Cents::ZERO,
                    "took back {amount} from a balance of {balance}"
                );
                let total_reversed = already.checked_add(amount).unwrap();
                prop_assert!(
                    total_reversed <= *transferred,
                    "reversed {total_reversed} of a {transferred} transfer"
                );
                reversed.insert(seller, total_reversed);
                Fact::TransferReversal {
                    reversal_id: format!("trr_{n}"),
                    order: Some(order.order),
                    seller,
                    amount,
                }
            }
            _ => continue,
        };
        prop_assert_eq!(book(&mut ledger, &order, &fact), Posted::Booked);
        facts.push(fact);
    }
    // What stayed with the sellers: transfers less what reversals took back. (A seller whose
    // payout was reversed after a refund that then failed is owed the order again, and a caller
    // that lost its payout record pays it again: net, still within the charge.)
    let transferred: Cents = Cents::sum(facts.iter().filter_map(|f| match f {
        Fact::Transfer { amount, .. } => Some(*amount),
        Fact::TransferReversal { amount, .. } => amount.checked_neg().ok(),
        _ => None,
    }))
    .unwrap();
    prop_assert!(
        transferred <= total,
        "transfers net of reversals {transferred} exceed the charge {total}"
    );
    Ok(Scenario {
        order,
        facts,
        ledger,
    })
}

fn balances(ledger: &Ledger, order: &OrderMoney) -> BTreeMap<String, Cents> {
    let mut balances = BTreeMap::new();
    let mut accounts = vec![
        Account::Clearing,
        Account::FeeRevenue,
        Account::TaxPayable,
        Account::DisputeCosts,
        Account::DisputedFunds,
        Account::Losses,
        Account::UnallocatedRefunds,
        Account::Adjustments,
        Account::ExtraPayments,
    ];
    accounts.extend((0..3).map(|n| Account::SellerPayable(seller(n))));
    for account in accounts {
        balances.insert(
            account.code(),
            ledger.balance(account, Currency::USD).unwrap(),
        );
        for line in &order.lines {
            for component in Component::ALL {
                let amount = ledger.line_balance(account, line.line, component).unwrap();
                balances.insert(
                    format!("{}/{}/{}", account.code(), line.line, component.as_str()),
                    amount,
                );
            }
        }
    }
    balances
}

#[test]
fn example_a_refund_delivered_twice_and_late_books_once() {
    let order = {
        let items = [
            CartItem {
                product: ProductId::from_uuid(Uuid::from_u128(1)),
                seller: seller(0),
                kind: ProductKind::Model,
                unit_price: Cents::new(1000),
                is_free: false,
                quantity: 1,
            },
            CartItem {
                product: ProductId::from_uuid(Uuid::from_u128(2)),
                seller: seller(1),
                kind: ProductKind::Model,
                unit_price: Cents::new(1000),
                is_free: false,
                quantity: 1,
            },
        ];
        let priced = price_order(
            &items,
            &PricingTerms::new(BasisPoints::new(1000).unwrap(), Currency::USD),
        )
        .unwrap();
        let ids = [
            OrderItemId::from_uuid(Uuid::from_u128(11)),
            OrderItemId::from_uuid(Uuid::from_u128(12)),
        ];
        OrderMoney::from_priced(OrderId::from_uuid(Uuid::from_u128(9)), &ids, &priced).unwrap()
    };
    let dashboard = Fact::Refund {
        refund_id: "re_a".into(),
        order: order.order,
        amount: Cents::new(500),
        line: None,
        created: created(1),
    };
    let named = Fact::Refund {
        refund_id: "re_b".into(),
        order: order.order,
        amount: Cents::new(1000),
        line: Some(order.lines[0].line),
        created: created(2),
    };
    let paid = Fact::OrderPaid { order: order.order };

    let mut in_order = Ledger::new();
    for fact in [&paid, &dashboard, &named] {
        assert_eq!(book(&mut in_order, &order, fact), Posted::Booked);
    }
    let mut shuffled = Ledger::new();
    let posted: Vec<Posted> = [&named, &dashboard, &named, &paid, &dashboard]
        .into_iter()
        .map(|fact| book(&mut shuffled, &order, fact))
        .collect();
    use Posted::{AlreadyBooked, Booked};
    assert_eq!(
        posted,
        [Booked, Booked, AlreadyBooked, Booked, AlreadyBooked]
    );
    assert_eq!(balances(&in_order, &order), balances(&shuffled, &order));
    // In real order: 250/250 from the dashboard refund, then the named line's remaining 750; the
    // 250 that did not fit on it is unallocated, never taken from the other seller's line.
    assert_eq!(
        in_order.seller_balance(seller(0), Currency::USD).unwrap(),
        Cents::ZERO
    );
    assert_eq!(
        in_order.seller_balance(seller(1), Currency::USD).unwrap(),
        Cents::new(900 - 225)
    );
    assert_eq!(
        in_order
            .balance(Account::UnallocatedRefunds, Currency::USD)
            .unwrap(),
        Cents::new(250)
    );
    assert_eq!(shuffled.entries().len(), 3, "each fact booked once");
}

proptest! {
    #![proptest_config(common::config(1_500))]

    /// Any order and number of deliveries of the same facts gives the same ledger as
    /// applying each once; money is conserved; every entry balances; a fully refunded order leaves
    /// no fee revenue. (Payout rules are checked while the scenario runs.)
    #[test]
    fn replaying_facts_in_any_order_any_number_of_times_gives_the_same_ledger(
        order in priced_order(),
        fee_to_sellers in prop::bool::weighted(0.3),
        steps in prop::collection::vec(step(), 0..14),
        extra in prop::collection::vec((prop::bool::weighted(0.3), 0..1_000_usize), 0..12),
        seed in any::<u64>(),
    ) {
        let mut order = order;
        order.dispute_fee_to_sellers = fee_to_sellers;
        let Scenario { order, facts, ledger: reference } = run(order, &steps)?;
        let mut replayed = Ledger::new();
        for delivery in &deliveries(facts.len(), &extra, seed) {
            match delivery {
                // Replays are the point here: whichever copy comes first books.
                Delivery::Single(index) => {
                    let _ = book(&mut replayed, &order, &facts[*index]);
                }
                Delivery::CumulativeRefunds(upto) => {
                    for fact in facts.iter().take(upto + 1).filter(|f| matches!(f, Fact::Refund { .. })) {
                        let _ = book(&mut replayed, &order, fact);
                    }
                }
            }
        }
        let keys = |ledger: &Ledger| ledger.entries().iter().map(|e| e.key()).collect::<HashSet<_>>();
        prop_assert_eq!(keys(&replayed), keys(&reference));
        prop_assert_eq!(replayed.entries().len(), facts.len(), "one entry per distinct fact");
        prop_assert_eq!(balances(&replayed, &order), balances(&reference, &order));
        // Real facts never conflict: once everything is in, nothing is left unabsorbed.
        prop_assert_eq!(replayed.balance(Account::Losses, Currency::USD).unwrap(), Cents::ZERO);

        for entry in replayed.entries() {
            let sum = Cents::sum(entry.postings().iter().map(|p| p.amount)).unwrap();
            prop_assert_eq!(sum, Cents::ZERO);
        }

        // Conservation: clearing = charges − transfers + reversals − refunds − (amounts and fees of
        // open and lost disputes) − (fees Stripe kept of won ones).
        let won: BTreeMap<&str, Cents> = facts.iter().filter_map(|f| match f {
            Fact::DisputeWon { dispute_id, fee, .. } => Some((dispute_id.as_str(), *fee)),
            _ => None,
        }).collect();
        let lost: HashSet<&str> = facts.iter().filter_map(|f| match f {
            Fact::DisputeLost { dispute_id, .. } => Some(dispute_id.as_str()),
            _ => None,
        }).collect();
        let failed: HashSet<&str> = facts.iter().filter_map(|f| match f {
            Fact::RefundFailed { refund_id, .. } => Some(refund_id.as_str()),
            _ => None,
        }).collect();
        let mut expected = order.total().unwrap();
        for fact in &facts {
            if let Fact::TransferReversal { amount, .. }
            | Fact::ExtraPayment { amount, .. }
            | Fact::ExtraPaymentRefundFailed { amount, .. } = fact
            {
                expected = expected.checked_add(*amount).unwrap();
                continue;
            }
            let out = match fact {
                Fact::Transfer { amount, .. } => *amount,
                Fact::Refund { refund_id, amount, .. } if !failed.contains(refund_id.as_str()) => *amount,
                Fact::DisputeLost { dispute_id, amount, fee, .. } if !won.contains_key(dispute_id.as_str()) => {
                    amount.checked_add(*fee).unwrap()
                }
                Fact::DisputeOpened { dispute_id, amount, fee, .. }
                    if !won.contains_key(dispute_id.as_str()) && !lost.contains(dispute_id.as_str()) =>
                {
                    amount.checked_add(*fee).unwrap()
                }
                Fact::DisputeWon { fee, .. } => *fee,
                Fact::ExtraPaymentRefund { amount, .. } => *amount,
                _ => Cents::ZERO,
            };
            expected = expected.checked_sub(out).unwrap();
        }
        prop_assert_eq!(replayed.balance(Account::Clearing, Currency::USD).unwrap(), expected);

        // A fully refunded order keeps none of its fee.
        let booked = replayed.order_entries(order.order);
        let state = refund_state(&order, &booked.iter().map(|e| e.fact()).collect::<Vec<_>>()).unwrap();
        if state.refunded == order.total().unwrap() {
            prop_assert_eq!(replayed.balance(Account::FeeRevenue, Currency::USD).unwrap(), Cents::ZERO);
            prop_assert_eq!(replayed.balance(Account::TaxPayable, Currency::USD).unwrap(), Cents::ZERO);
        }
    }
}
