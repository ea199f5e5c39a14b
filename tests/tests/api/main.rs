//! End-to-end tests: one binary, one throwaway PostgreSQL server, a fresh database and a freshly
//! booted application per test, driven through HTTP only.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod accounts;
mod catalog;
mod helpers;
mod listings;
mod robustness;
