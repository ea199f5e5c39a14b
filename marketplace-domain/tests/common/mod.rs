//! What the domain's integration tests share: simple orders, sellers and times, and the proptest
//! configuration that replays the committed regression seeds.
#![allow(
    clippy::unwrap_used,
    clippy::arithmetic_side_effects,
    clippy::as_conversions,
    dead_code,
    missing_docs
)]

pub mod delivery;
pub mod strategies;

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::ledger::{
    Fact, Ledger, OrderMoney, Posted, order_event_entry, order_paid_entry,
};
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::orders::{CartItem, PricingTerms, price_order};
use proptest::test_runner::{Config, FileFailurePersistence};
use time::OffsetDateTime;
use uuid::Uuid;

pub const USD: Currency = Currency::USD;

/// `cases` cases, with failures saved beside the test file (`tests/<name>.proptest-regressions`),
/// where the committed seeds are and where proptest reads them first.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

pub fn seller(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

/// Order `n` at 10 % with one physical line per (seller, unit price).
pub fn order(n: u128, lines: &[(u128, i64)]) -> OrderMoney {
    let items: Vec<CartItem> = lines
        .iter()
        .enumerate()
        .map(|(i, (s, unit))| CartItem {
            product: ProductId::from_uuid(Uuid::from_u128(n * 100 + i as u128)),
            seller: seller(*s),
            kind: ProductKind::Model,
            unit_price: Cents::new(*unit),
            is_free: false,
            quantity: 1,
        })
        .collect();
    let priced = price_order(
        &items,
        &PricingTerms::new(BasisPoints::new(1000).unwrap(), USD),
    )
    .unwrap();
    let ids: Vec<OrderItemId> = (0..lines.len())
        .map(|i| OrderItemId::from_uuid(Uuid::from_u128(n * 1000 + i as u128)))
        .collect();
    OrderMoney::from_priced(OrderId::from_uuid(Uuid::from_u128(n)), &ids, &priced).unwrap()
}

/// A time `n` seconds into the tests' day.
pub fn created(n: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + n).unwrap()
}

/// A ledger in which each of `orders` is paid (each order-paid entry asserted booked), the start of
/// most money stories.
pub fn paid_ledger<'a>(orders: impl IntoIterator<Item = &'a OrderMoney>) -> Ledger {
    let mut ledger = Ledger::new();
    for order in orders {
        assert_eq!(
            ledger.post(order_paid_entry(order).unwrap()),
            Posted::Booked
        );
    }
    ledger
}

/// Books `fact` on `order` as the use cases do: once by its key (a replay is `AlreadyBooked`),
/// against the entries booked on the order so far.
pub fn book(ledger: &mut Ledger, order: &OrderMoney, fact: Fact) -> Posted {
    if ledger.contains(&fact.key()) {
        return Posted::AlreadyBooked;
    }
    let booked = ledger.order_entries(order.order);
    let entry = order_event_entry(order, &booked, fact).unwrap();
    ledger.post(entry)
}
