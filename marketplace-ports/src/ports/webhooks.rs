//! Received webhook events: the inbox that makes every delivery count once.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::payments::WebhookEndpoint;
use super::uow::{StoreError, Tx};

/// A webhook event as recorded (the de-duplication key is Stripe's event id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEventRecord {
    /// `evt_…`.
    pub id: String,
    /// The endpoint it arrived at.
    pub endpoint: WebhookEndpoint,
    /// Event type.
    pub event_type: String,
    /// Stripe's `created`.
    pub created: OffsetDateTime,
    /// What we did with it (`applied: …`, `ignored: …`).
    pub outcome: String,
    /// When we received it.
    pub received_at: OffsetDateTime,
}

/// The webhook inbox, inside a transaction.
#[async_trait]
pub trait WebhookInbox: Send {
    /// Records an event; `false` when it was recorded before (a duplicate delivery). A concurrent
    /// delivery of the same event waits on the unique key until the first one commits or rolls
    /// back.
    async fn record_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
    ) -> Result<bool, StoreError>;
    /// Writes what was done with a recorded event.
    async fn set_webhook_outcome(&mut self, id: &str, outcome: &str) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The webhook inbox of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn webhooks(&mut self) -> Result<&mut (dyn WebhookInbox + 'static), StoreError> {
        self.store()
    }
}
