//! Background jobs: [`runner`] claims the next due job and hands it to the handler of its kind,
//! which lives with its feature (payouts, reversals and refund sync in `money_flow`, the paid-order
//! mail in `orders`).

pub mod runner;

pub use runner::{JobRun, JobRunner, backoff};
