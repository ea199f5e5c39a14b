//! End-to-end tests: one binary, one throwaway PostgreSQL server, a fresh database and a freshly
//! booted application (with its Stripe simulator) per test, driven through HTTP only.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod accounts;
mod books;
mod caching;
mod cart;
mod catalog;
mod checkout;
#[path = "../common/mod.rs"]
mod common;
mod concurrency;
mod discovery;
mod disputes;
mod downloads;
mod helpers;
mod listings;
mod mail;
mod moderation;
mod notifications;
mod openapi;
mod ordering;
mod owner_tools;
mod payouts;
mod questions;
mod refund_requests;
mod refunds;
mod reviews;
mod robustness;
mod storefront;
mod users;
mod webhooks;
