//! # marketplace-domain
//!
//! The rules of the Home Craft 3D marketplace as plain, synchronous Rust: no I/O, no async, no
//! framework types, no serde. Time and ids come in as arguments; functions return decisions and
//! balanced entries that a caller persists. Another service can depend on this crate alone to price
//! orders, book every money event and plan payouts.
//!
//! ## The money model in one screen
//!
//! - **Amounts** are [`money::Cents`] (`i64` minor units) with checked arithmetic: overflow is an
//!   error, never a wrap. Rates are percentages with two decimals ([`money::FeePercent`], clamped
//!   to 0–100) turned once into [`money::BasisPoints`]. There is no floating point.
//! - **Pricing** ([`order::price_order`]): per line `gross = quantity × unit`,
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
//!   external fact (order paid, `tr_…`, `re_…`, `dp_…`, adjustment id) and booked at most once.
//!   Refunds and disputes arriving in any order, any number of times, end in the same balances
//!   (see [`ledger::order_event_entry`]).
//! - **Seller balance** = what the platform owes the seller (negative: the seller owes, netted
//!   against later payouts). **Payouts** ([`payout::plan_payout`]) pay per (order, seller)
//!   `min(what the order still owes the seller, the balance)`, skip unready sellers (retried later)
//!   and claims netted against debt, and never pay twice.
//! - **State machines**: [`order::OrderStatus`] (pending → paid → partially refunded → refunded;
//!   pending → canceled; forward only) and [`refund::RefundRequestStatus`].
//! - **Reconciliation** ([`reconcile::reconcile`]) flags an order's money problems, comparing fees
//!   per line so rounding alone is never a mismatch.
//!
//! The rest validates what users send: [`account`], [`catalog`], [`product`], [`files`],
//! [`connect`], [`cart`], [`site`], with [`validation`] and [`pagination`] shared by every list; [`ids`] gives each
//! entity its own UUID type.
#![deny(clippy::arithmetic_side_effects, clippy::as_conversions)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects, clippy::as_conversions))]

pub mod account;
pub mod cart;
pub mod catalog;
pub mod connect;
pub mod files;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod order;
pub mod pagination;
pub mod payout;
pub mod product;
pub mod reconcile;
pub mod refund;
pub mod site;
pub mod validation;
