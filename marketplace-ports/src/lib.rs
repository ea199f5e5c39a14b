//! # marketplace-ports
//!
//! The application layer: [`ports`] are the traits the outside world implements (stores behind a
//! unit of work, read queries, clock, crypto); [`use_cases`] are the operations the API offers,
//! written only against those traits and the rules of `marketplace-domain`.

pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod use_cases;
