//! Proptest strategies the property tests share: amounts, fee rates, sellers numbered from 0, cart
//! items and priced orders of 1–4 lines over up to 3 sellers.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId, UserId};
use marketplace_domain::ledger::OrderMoney;
use marketplace_domain::money::{BasisPoints, Cents, Currency};
use marketplace_domain::orders::{CartItem, PricingTerms, price_order};
use proptest::prelude::*;
use uuid::Uuid;

pub fn cents(max: i64) -> impl Strategy<Value = Cents> {
    (0..=max).prop_map(Cents::new)
}

pub fn bps() -> impl Strategy<Value = BasisPoints> {
    prop_oneof![Just(0_u32), Just(10_000), 0..=10_000_u32]
        .prop_map(|b| BasisPoints::new(b).unwrap())
}

pub fn seller(n: u8) -> UserId {
    UserId::from_uuid(Uuid::from_u128(u128::from(n) + 1))
}

pub fn cart_item() -> impl Strategy<Value = CartItem> {
    (
        0..3_u8,
        any::<bool>(),
        0..5_000_i64,
        1..5_u32,
        prop::bool::weighted(0.1),
        any::<u64>(),
    )
        .prop_map(
            |(seller_n, physical, unit, quantity, is_free, product)| CartItem {
                product: ProductId::from_uuid(Uuid::from_u128(u128::from(product))),
                seller: seller(seller_n),
                kind: if physical {
                    ProductKind::Model
                } else {
                    ProductKind::File
                },
                unit_price: Cents::new(unit),
                is_free,
                quantity,
            },
        )
}

/// A priced order with 1–4 lines over up to 3 sellers, any fee rate, tax and shipping.
pub fn priced_order() -> impl Strategy<Value = OrderMoney> {
    (
        prop::collection::vec(cart_item(), 1..=4),
        bps(),
        cents(500),
        cents(1_000),
    )
        .prop_filter_map(
            "tax/shipping need something to weigh by",
            |(items, rate, tax, shipping)| {
                let any_gross = items
                    .iter()
                    .any(|i| !i.is_free && i.unit_price.is_positive());
                let any_physical = items.iter().any(|i| i.kind == ProductKind::Model);
                let tax = if any_gross { tax } else { Cents::ZERO };
                let shipping = if any_physical { shipping } else { Cents::ZERO };
                let priced = price_order(
                    &items,
                    &PricingTerms {
                        fee_rate: rate,
                        currency: Currency::USD,
                        tax,
                        shipping,
                    },
                )
                .ok()?;
                let ids: Vec<OrderItemId> = (0..priced.lines.len())
                    .map(|i| OrderItemId::from_uuid(Uuid::from_u128(1_000 + i as u128)))
                    .collect();
                OrderMoney::from_priced(OrderId::from_uuid(Uuid::from_u128(99)), &ids, &priced).ok()
            },
        )
}
