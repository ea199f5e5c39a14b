//! # marketplace-domain
//!
//! The rules of the Home Craft 3D marketplace as plain, synchronous Rust: no I/O, no async, no
//! framework types, no serde. Time and ids come in as arguments; functions return decisions and
//! balanced journal entries that the caller persists. Another service can depend on this crate
//! alone to price orders, keep their books and plan payouts: everything a caller needs, including
//! the id, time and decimal types, comes from [`prelude`].
//!
//! ## Getting started
//!
//! A cart of two prints and a digital file from one seller, paid, paid out, then the file refunded
//! (the refund's webhook arrives twice), and the seller's next sale netted against what they owe:
//!
//! ```
//! use marketplace_domain::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Ids are UUIDs the caller makes (any version); times are `OffsetDateTime`s.
//! let id = |n: u128| Uuid::from_u128(n);
//! let seller = UserId::from_uuid(id(1));
//! let order_id = OrderId::from_uuid(id(2));
//! let lines = [OrderItemId::from_uuid(id(3)), OrderItemId::from_uuid(id(4))];
//!
//! // 1. Price the cart at a 10 % fee with 4.00 of tax and 6.00 of shipping.
//! let cart = [
//!     CartItem {
//!         product: ProductId::from_uuid(id(10)),
//!         seller,
//!         kind: ProductKind::Model,
//!         unit_price: Cents::new(2_500),
//!         is_free: false,
//!         quantity: 2,
//!     },
//!     CartItem {
//!         product: ProductId::from_uuid(id(11)),
//!         seller,
//!         kind: ProductKind::File,
//!         unit_price: Cents::new(999),
//!         is_free: false,
//!         quantity: 1,
//!     },
//! ];
//! let terms = PricingTerms {
//!     fee_rate: FeePercent::clamped(Decimal::TEN).basis_points(),
//!     currency: Currency::USD,
//!     tax: Cents::new(400),
//!     shipping: Cents::new(600),
//! };
//! let priced = price_order(&cart, &terms)?;
//! assert_eq!(priced.total, Cents::new(6_999));
//! // Per line: fee = round_half_up(gross × 10 %), net = gross − fee.
//! assert_eq!((priced.lines[1].fee, priced.lines[1].net), (Cents::new(100), Cents::new(899)));
//! // Tax is allocated over the lines by gross, shipping over what ships; shares sum exactly.
//! assert_eq!((priced.lines[0].tax, priced.lines[1].tax), (Cents::new(333), Cents::new(67)));
//! assert_eq!(allocate(Cents::new(400), &[Cents::new(5_000), Cents::new(999)])?,
//!            [Cents::new(333), Cents::new(67)]);
//!
//! // 2. Book the payment: clearing receives 69.99, the seller is owed net + shipping.
//! let order = OrderMoney::from_priced(order_id, &lines, &priced)?;
//! let mut ledger = Ledger::new();
//! assert_eq!(ledger.post(order_paid_entry(&order)?), Posted::Booked);
//! assert_eq!(ledger.seller_balance(seller, Currency::USD)?, Cents::new(5_999));
//! assert_eq!(ledger.fee_revenue(Currency::USD)?, Cents::new(600));
//!
//! // 3. Plan the payout and book its transfer.
//! let context = PayoutContext::from_ledger(&ledger, &order, seller, SellerReadiness::Ready, None)?;
//! let PayoutDecision::Transfer { amount, .. } = plan_payout(&context) else {
//!     panic!("a ready seller owed money is paid");
//! };
//! assert_eq!(amount, Cents::new(5_999));
//! let transfer = transfer_entry("tr_1", Some(order_id), seller, amount, Currency::USD)?;
//! assert_eq!(ledger.post(transfer), Posted::Booked);
//!
//! // 4. The file is refunded (its gross and tax share); the event is delivered twice.
//! let refund = Fact::Refund {
//!     refund_id: "re_1".to_owned(),
//!     order: order_id,
//!     amount: Cents::new(1_066),
//!     line: Some(lines[1]),
//!     created: OffsetDateTime::UNIX_EPOCH,
//! };
//! for _ in 0..2 {
//!     let entry = order_event_entry(&order, &ledger.order_entries(order_id), refund.clone())?;
//!     let _ = ledger.post(entry); // the second time: Posted::AlreadyBooked
//! }
//! // The platform returns its fee on the line; the seller, already paid, now owes their part.
//! assert_eq!(ledger.fee_revenue(Currency::USD)?, Cents::new(500));
//! assert_eq!(ledger.seller_balance(seller, Currency::USD)?, Cents::new(-899));
//!
//! // 5. The seller's next sale (two more prints, net 45.00) pays only what is left after the debt.
//! let next_id = OrderId::from_uuid(id(5));
//! let next = price_order(&cart[..1], &PricingTerms::new(terms.fee_rate, Currency::USD))?;
//! let next = OrderMoney::from_priced(next_id, &[OrderItemId::from_uuid(id(6))], &next)?;
//! let _ = ledger.post(order_paid_entry(&next)?);
//! let context = PayoutContext::from_ledger(&ledger, &next, seller, SellerReadiness::Ready, None)?;
//! let first_attempt = PayoutDecision::Transfer { amount: Cents::new(3_601), attempt: 1, resend: false };
//! assert_eq!(plan_payout(&context), first_attempt);
//!
//! // The books always balance.
//! assert!(ledger.trial_balance(Currency::USD)?.is_balanced());
//! # Ok(())
//! # }
//! ```
//!
//! ## The money model in one screen
//!
//! The project's `docs/money.md` explains every rule at length; in short:
//!
//! - **Amounts** are [`money::Cents`] (`i64` minor units) with checked arithmetic: overflow is an
//!   error, never a wrap. Rates are percentages with two decimals ([`money::FeePercent`], clamped
//!   to 0–100) turned once into [`money::BasisPoints`]. There is no floating point.
//! - **Pricing** ([`orders::price_order`]): per line `gross = quantity × unit`,
//!   `fee = round_half_up(gross × bps / 10 000)`, `net = gross − fee`. Files are quantity 1, free
//!   items cost 0. Line values are the source of truth; order figures are their sums.
//! - **Exact allocation** ([`money::allocate`], largest remainder): shares sum to the amount, each
//!   is within a cent of its exact proportion, zero weights get zero. It spreads tax over lines by
//!   gross, shipping over shippable lines, refunds over lines by what is still refundable, and a
//!   line's refund over its components (net, fee, tax, shipping).
//! - **Ledger** ([`ledger`]): double entry. An order paid debits `Clearing` with the total and
//!   credits each seller's payable (net + shipping), the platform's fee revenue and tax payable;
//!   a transfer debits the seller's payable and credits `Clearing`; a refund or a lost dispute
//!   debits the lines' parties in proportion and credits `Clearing`. Every entry is keyed by its
//!   external fact (order paid, `tr_…`, `re_…`, `dp_…`, adjustment id) and booked at most once: a
//!   replay is [`ledger::Posted::AlreadyBooked`], never an error. Refunds and disputes arriving in
//!   any order, any number of times, end in the same balances (see [`ledger::order_event_entry`]).
//!   Balances read on each account's normal side: fee revenue and what the platform owes a seller
//!   are positive.
//! - **Seller balance** = what the platform owes the seller (negative: the seller owes, netted
//!   against later payouts). **Payouts** ([`payouts::plan_payout`]) pay per (order, seller)
//!   `min(what the order still owes the seller, the balance)` (transfers already in the ledger
//!   taken off), decided again at each attempt; skip unready sellers, held orders and claims
//!   netted against debt; never pay twice.
//! - **Orders** ([`orders::Order`]) change only through their methods, which return the journal
//!   entry, history events and anomalies to persist; a payment moves the status forward and the
//!   refunds that stand set it ([`orders::OrderStatus`]: pending → paid ⇄ partially refunded ⇄
//!   refunded; pending → canceled).
//! - **Reconciliation** ([`reconcile::reconcile`]) flags an order's money problems, comparing fees
//!   per line so rounding alone is never a mismatch.
//!
//! The rest validates what users send: [`accounts`], [`catalog`] (categories and listings),
//! [`files`], [`connect`], [`cart`], [`site`], [`refunds`], with [`validation`] and [`pagination`]
//! shared by every list; [`ids`] gives each entity its own UUID type.
#![deny(clippy::arithmetic_side_effects, clippy::as_conversions)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects, clippy::as_conversions))]

pub mod accounts;
pub mod adjustments;
pub mod cart;
pub mod catalog;
pub mod connect;
pub mod engagement;
pub mod entitlements;
pub mod files;
pub mod ids;
pub mod ledger;
pub mod moderation;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod pagination;
pub mod payouts;
pub mod qa;
pub mod reconcile;
pub mod refunds;
pub mod reviews;
pub mod site;
pub mod validation;

/// The crates whose types appear in this crate's API, so callers need not pin them separately.
pub use {rust_decimal, time, uuid};

/// Everything a service embedding the money rules needs, in one `use`.
pub mod prelude {
    pub use crate::catalog::ProductKind;
    pub use crate::ids::{
        AdjustmentId, CategoryId, OrderId, OrderItemId, ProductId, ReversalId, UserId,
    };
    pub use crate::ledger::{
        Account, EntryKey, Fact, JournalEntry, Ledger, LedgerError, LineMoney, OrderMoney, Posted,
        RefundState, TrialBalance, adjustment_entry, order_event_entry, order_paid_entry,
        refund_state, transfer_entry, transfer_reversal_entry,
    };
    pub use crate::money::{BasisPoints, Cents, Currency, FeePercent, MoneyError, allocate};
    pub use crate::orders::{
        CartItem, Order, OrderKind, OrderStatus, PricedLine, PricedOrder, PricingError,
        PricingTerms, price_order,
    };
    pub use crate::payouts::{
        PayoutContext, PayoutDecision, PayoutStatus, ReversalContext, SellerReadiness, SkipReason,
        order_claim, plan_payout, plan_reversal,
    };
    pub use rust_decimal::Decimal;
    pub use time::OffsetDateTime;
    pub use uuid::Uuid;
}
