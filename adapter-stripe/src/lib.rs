//! # adapter-stripe
//!
//! Stripe behind the ports: [`client::StripeClient`] (our own, over reqwest) implements the payment
//! gateway; [`webhook::StripeWebhooks`] verifies and parses webhook deliveries. The same client
//! code runs against Stripe and against the `stripe-simulator` crate the app starts when no key is
//! configured: only the base URL and keys differ.

pub mod client;
pub mod form;
pub mod requests;
pub mod webhook;
mod wire;

pub use client::{ClientConfig, StripeClient};
pub use webhook::StripeWebhooks;

/// Parses a webhook body into our typed event (exposed for the fixture tests).
///
/// # Errors
/// A message saying why the body is not an event we can read.
pub fn parse_event(body: &[u8]) -> Result<marketplace_ports::ports::StripeEvent, String> {
    wire::parse_event(body)
}
