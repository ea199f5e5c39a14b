//! Properties of the money rules (docs/money.md), each with an example beside it.
#![allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    missing_docs
)]

mod common;

use common::created;
use common::strategies::{bps, cents, priced_order, seller};

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId};
use marketplace_domain::ledger::{Component, Fact, OrderMoney, refund_state};
use marketplace_domain::money::{BasisPoints, Cents, Currency, allocate};
use marketplace_domain::orders::{CartItem, PricingTerms, price_order};
use proptest::prelude::*;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fee rule

#[test]
fn example_fee_on_999_cents_at_15_percent() {
    let fee = BasisPoints::new(1500)
        .unwrap()
        .fee_on(Cents::new(999))
        .unwrap();
    assert_eq!(
        (fee, Cents::new(999 - fee.get())),
        (Cents::new(150), Cents::new(849))
    );
}

proptest! {
    #![proptest_config(common::config(2_000))]

    #[test]
    fn fee_plus_net_is_gross_and_fee_is_within_gross(gross in cents(10_000_000_000), rate in bps()) {
        let fee = rate.fee_on(gross).unwrap();
        let net = gross.checked_sub(fee).unwrap();
        prop_assert!(fee >= Cents::ZERO && fee <= gross);
        prop_assert_eq!(fee.checked_add(net).unwrap(), gross);
        // Half-up: the fee is the nearest cent to the exact proportion.
        let exact_times_10000 = i128::from(gross.get()) * i128::from(rate.get());
        prop_assert!((i128::from(fee.get()) * 10_000 - exact_times_10000).abs() <= 5_000);
    }

    /// At an exact half cent the fee rounds up: `gross × bps` ends in 5000 (out of 10,000).
    #[test]
    fn fee_rounds_half_up_at_exact_ties(half_cents in 0..1_000_000_i64, rate in 1..=10_000_u32) {
        // gross × bps = k × 10,000 + 5,000 needs bps even and gross × (bps / 2) ≡ 2,500 (mod 5,000):
        // search the few gross values near `half_cents` for one that ties.
        let bps = BasisPoints::new(rate).unwrap();
        let tie = (half_cents..half_cents + 10_000).find(|g| (i128::from(*g) * i128::from(rate)) % 10_000 == 5_000);
        prop_assume!(tie.is_some());
        let gross = tie.unwrap();
        let fee = bps.fee_on(Cents::new(gross)).unwrap();
        prop_assert_eq!(i128::from(fee.get()) * 10_000, i128::from(gross) * i128::from(rate) + 5_000);
    }
}

#[test]
fn examples_of_fees_at_exact_ties() {
    let ten_percent = BasisPoints::new(1000).unwrap();
    assert_eq!(ten_percent.fee_on(Cents::new(5)).unwrap(), Cents::new(1));
    assert_eq!(ten_percent.fee_on(Cents::new(15)).unwrap(), Cents::new(2));
    assert_eq!(ten_percent.fee_on(Cents::new(305)).unwrap(), Cents::new(31));
    let half_percent = BasisPoints::new(50).unwrap();
    assert_eq!(half_percent.fee_on(Cents::new(100)).unwrap(), Cents::new(1));
    assert_eq!(half_percent.fee_on(Cents::new(99)).unwrap(), Cents::ZERO);
}

// ---------------------------------------------------------------------------------------------
// Allocation

#[test]
fn example_allocation_of_100_over_three_equal_weights() {
    let shares = allocate(
        Cents::new(100),
        &[Cents::new(1), Cents::new(1), Cents::new(1)],
    )
    .unwrap();
    assert_eq!(shares, [Cents::new(34), Cents::new(33), Cents::new(33)]);
}

proptest! {
    #![proptest_config(common::config(2_000))]

    #[test]
    fn allocation_sums_exactly_and_stays_within_a_cent(
        amount in cents(1_000_000_000),
        weights in prop::collection::vec(prop_oneof![Just(Cents::ZERO), cents(1_000_000)], 1..8),
    ) {
        let total_weight: i128 = weights.iter().map(|w| i128::from(w.get())).sum();
        prop_assume!(total_weight > 0 || amount.is_zero());
        let shares = allocate(amount, &weights).unwrap();
        prop_assert_eq!(shares.len(), weights.len());
        prop_assert_eq!(Cents::sum(shares.iter().copied()).unwrap(), amount);
        for (share, weight) in shares.iter().zip(&weights) {
            if weight.is_zero() {
                prop_assert_eq!(*share, Cents::ZERO);
            } else {
                // |share − amount·w/W| < 1  ⇔  |share·W − amount·w| < W
                let gap = i128::from(share.get()) * total_weight - i128::from(amount.get()) * i128::from(weight.get());
                prop_assert!(gap.abs() < total_weight, "share {share} weight {weight}");
            }
        }
        prop_assert_eq!(shares, reference_allocation(amount.get(), &weights));
    }
}

/// Largest remainder, written independently of `allocate`: hand out the floors, then rank every
/// index by its remainder (largest first, earlier index on ties) and give one cent to each of the
/// first `leftover`.
fn reference_allocation(amount: i64, weights: &[Cents]) -> Vec<Cents> {
    let total: i128 = weights.iter().map(|w| i128::from(w.get())).sum();
    if total == 0 {
        return vec![Cents::ZERO; weights.len()];
    }
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| {
            let product = i128::from(amount) * i128::from(w.get());
            (product / total, product % total)
        })
        .collect();
    let mut shares: Vec<i128> = exact.iter().map(|(floor, _)| *floor).collect();
    let leftover = i128::from(amount) - shares.iter().sum::<i128>();
    let mut ranked: Vec<usize> = (0..weights.len()).collect();
    ranked.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for index in ranked.into_iter().take(leftover as usize) {
        shares[index] += 1;
    }
    shares.into_iter().map(|s| Cents::new(s as i64)).collect()
}

#[test]
fn examples_of_leftover_cents_going_to_the_largest_remainders() {
    let weights = |ws: &[i64]| ws.iter().map(|w| Cents::new(*w)).collect::<Vec<_>>();
    // 7 over 0:5:0:5 → exact 3.5 and 3.5: the tie goes to the earlier index.
    assert_eq!(
        allocate(Cents::new(7), &weights(&[0, 5, 0, 5])).unwrap(),
        weights(&[0, 4, 0, 3])
    );
    // 10 over 1:1:4 → 1.67, 1.67, 6.67: floors 1, 1, 6 and three equal remainders; the two cents
    // left go to the earlier indexes.
    assert_eq!(
        allocate(Cents::new(10), &weights(&[1, 1, 4])).unwrap(),
        weights(&[2, 2, 6])
    );
    assert_eq!(
        reference_allocation(10, &weights(&[1, 1, 4])),
        weights(&[2, 2, 6])
    );
    assert_eq!(
        reference_allocation(100, &weights(&[1, 1, 1])),
        weights(&[34, 33, 33])
    );
}

// ---------------------------------------------------------------------------------------------
// Refund splits

#[test]
fn example_half_refund_returns_half_the_fee() {
    let items = [CartItem {
        product: ProductId::from_uuid(Uuid::from_u128(1)),
        seller: seller(0),
        kind: ProductKind::Model,
        unit_price: Cents::new(1000),
        is_free: false,
        quantity: 1,
    }];
    let priced = price_order(
        &items,
        &PricingTerms::new(BasisPoints::new(1000).unwrap(), Currency::USD),
    )
    .unwrap();
    let line = OrderItemId::from_uuid(Uuid::from_u128(7));
    let order =
        OrderMoney::from_priced(OrderId::from_uuid(Uuid::from_u128(8)), &[line], &priced).unwrap();
    let refund = Fact::Refund {
        refund_id: "re_1".into(),
        order: order.order,
        amount: Cents::new(500),
        line: None,
        created: created(1),
    };
    let state = refund_state(&order, &[&refund]).unwrap();
    assert_eq!(state.lines[0][Component::Net.index()], Cents::new(450));
    assert_eq!(state.lines[0][Component::Fee.index()], Cents::new(50));
}

proptest! {
    #![proptest_config(common::config(1_000))]

    #[test]
    fn refund_splits_sum_exactly_and_never_exceed_what_was_paid(
        order in priced_order(),
        fractions in prop::collection::vec((1..=100_u32, prop::option::of(0..4_usize)), 1..5),
    ) {
        let total = order.total().unwrap();
        prop_assume!(total.is_positive());
        let mut facts = Vec::new();
        let mut refunded = Cents::ZERO;
        for (n, (percent, line)) in fractions.into_iter().enumerate() {
            let left = total.checked_sub(refunded).unwrap();
            let amount = Cents::new((left.get() * i64::from(percent) / 100).max(1).min(left.get()));
            if amount.is_zero() { break; }
            refunded = refunded.checked_add(amount).unwrap();
            let line = line.and_then(|i| order.lines.get(i)).map(|l| l.line);
            facts.push(Fact::Refund { refund_id: format!("re_{n}"), order: order.order, amount, line, created: created(n as i64) });
        }
        let refs: Vec<&Fact> = facts.iter().collect();
        let state = refund_state(&order, &refs).unwrap();
        // What the lines absorbed plus what a named line could not: every cent refunded.
        prop_assert_eq!(state.refunded.checked_add(state.unallocated).unwrap(), refunded);
        let parts: Cents = Cents::sum(state.lines.iter().flat_map(|p| p.iter().copied())).unwrap();
        prop_assert_eq!(parts, state.refunded);
        for (line, parts) in order.lines.iter().zip(&state.lines) {
            // Each component comes back within one cent of its exact share of the line's refund,
            // so net : fee keeps the line's ratio.
            let back_total = i128::from(Cents::sum(*parts).unwrap().get());
            let paid_total = i128::from(line.paid().unwrap().get());
            for (paid, back) in line.components().iter().zip(parts) {
                let exact_times_paid = back_total * i128::from(paid.get());
                let got_times_paid = i128::from(back.get()) * paid_total;
                prop_assert!((got_times_paid - exact_times_paid).abs() < paid_total.max(1),
                    "{back} of {paid} for {back_total} of {paid_total}");
            }
        }
    }
}

/// Proptest reads `<source>.proptest-regressions` beside each test file (`WithSource`), which is
/// where the committed seeds are: every block must take `common::config`, never a persistence of its
/// own, or the committed cases silently stop being replayed.
#[test]
fn committed_regression_seeds_are_where_proptest_reads_them() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for source in ["properties.rs", "payouts.rs", "replay.rs"] {
        let text = std::fs::read_to_string(dir.join(source)).unwrap();
        let blocks = text.matches(concat!("#![proptest", "_config(")).count();
        let shared = text
            .matches(concat!("#![proptest", "_config(common::config("))
            .count();
        assert!(blocks > 0 && blocks == shared, "{source}");
        let seeds = dir.join(source.replace(".rs", ".proptest-regressions"));
        let seeds = std::fs::read_to_string(&seeds).unwrap();
        assert!(seeds.lines().any(|l| l.starts_with("cc ")), "{source}");
    }
}
