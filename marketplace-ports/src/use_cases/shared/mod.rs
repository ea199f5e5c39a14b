//! Steps several use cases share. They take the caller's open transaction and never open their
//! own, so the caller keeps the atomic boundary — except [`charges::charge_of`], which asks Stripe
//! for an order's charge and so runs between transactions (it remembers the answer in its own).

pub mod booking;
pub mod carts;
pub mod charges;
pub mod entitlements;
pub mod jobs;
pub mod mail;
pub mod notifications;
pub mod reconciliation;
pub mod recovery;
pub mod refund_requests;
pub mod sellers;
