//! The money flow after checkout (docs/money.md): Stripe's webhooks book payments, refunds and
//! disputes ([`webhooks`]); jobs pay sellers ([`payouts`]), take back what later refunds made
//! them owe ([`reversals`]) and catch up on refunds whose events we missed ([`refunds`]).

pub mod payouts;
pub mod refunds;
pub mod reversals;
pub mod webhooks;

pub use webhooks::{ReceiveWebhookError, WebhookOutcome, WebhookReceiver};
