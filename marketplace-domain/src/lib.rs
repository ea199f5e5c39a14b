//! # marketplace-domain
//!
//! The rules of the Home Craft 3D marketplace as plain, synchronous Rust: no I/O, no async, no
//! framework types. Other services can depend on this crate alone.
//!
//! - [`money`]: integer [`money::Cents`], currencies, fee rates and the one exact
//!   [`money::allocate`] every split uses.
//! - [`account`], [`catalog`], [`product`], [`files`], [`connect`]: validation of what users send
//!   and the readiness rule that gates selling.
//! - [`validation`], [`pagination`]: field errors and page requests shared by every list.
//! - [`ids`]: one UUID newtype per entity.
#![deny(clippy::arithmetic_side_effects, clippy::as_conversions)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

pub mod account;
pub mod catalog;
pub mod connect;
pub mod files;
pub mod ids;
pub mod money;
pub mod pagination;
pub mod product;
pub mod validation;
