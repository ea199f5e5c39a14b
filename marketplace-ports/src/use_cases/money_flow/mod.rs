//! The money flow after checkout (docs/money.md): Stripe's webhooks book payments, refunds and
//! disputes ([`webhooks`]); jobs pay sellers ([`payouts`]), take back what later refunds made
//! them owe ([`reversals`]), catch up on refunds whose events we missed ([`refunds`]) and give
//! back second payments of paid orders ([`extra_payments`]).

pub mod extra_payments;
pub mod payouts;
pub mod refunds;
pub mod reversals;
pub mod webhooks;

pub use webhooks::{ProcessAgainError, ReceiveWebhookError, WebhookOutcome, WebhookReceiver};
