//! Received webhook events: the inbox that makes every delivery count once, and keeps the ones
//! that failed so they can be processed again.

use async_trait::async_trait;
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::payments::WebhookEndpoint;
use super::uow::{Queries, StoreError, Tx};

/// How an event's processing ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WebhookStatus {
    /// Being applied (only ever seen inside the transaction applying it).
    Processing,
    /// Its effects were applied.
    Applied,
    /// Nothing to do (unknown type, unknown order, other mode).
    Ignored,
    /// Genuine but refused (its amounts cannot be booked); kept with its payload.
    Rejected,
    /// Applying it failed and was rolled back; kept with its payload and the error until a
    /// redelivery or an owner processes it again.
    Failed,
}

impl WebhookStatus {
    /// Every outcome.
    pub const ALL: [WebhookStatus; 5] = [
        WebhookStatus::Processing,
        WebhookStatus::Applied,
        WebhookStatus::Ignored,
        WebhookStatus::Rejected,
        WebhookStatus::Failed,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Processing => "processing",
            WebhookStatus::Applied => "applied",
            WebhookStatus::Ignored => "ignored",
            WebhookStatus::Rejected => "rejected",
            WebhookStatus::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<WebhookStatus> {
        WebhookStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// True when an owner may process the event again.
    pub fn may_process_again(self) -> bool {
        matches!(self, WebhookStatus::Failed | WebhookStatus::Rejected)
    }
}

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
    /// How its processing ended.
    pub status: WebhookStatus,
    /// What we did with it (`applied: …`, `ignored: …`, `failed: <error>`).
    pub outcome: String,
    /// When we first received it.
    pub received_at: OffsetDateTime,
    /// How many times it was processed (deliveries of a failed event and owners' retries).
    pub attempts: i32,
}

/// The webhook inbox, inside a transaction.
#[async_trait]
pub trait WebhookInbox: Send {
    /// Records an event for processing, or claims again one that failed (and, with
    /// `retry_rejected`, one that was rejected), counting the attempt; `false` when it is a
    /// duplicate delivery of an event processed before. A concurrent delivery of the same event
    /// waits on the unique key until the first one commits or rolls back.
    async fn claim_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
        retry_rejected: bool,
    ) -> Result<bool, StoreError>;
    /// Writes how a claimed event's processing ended, keeping `payload` (rejected events, to
    /// process again after a fix) or forgetting it (`None`).
    async fn finish_webhook_event(
        &mut self,
        id: &str,
        status: WebhookStatus,
        outcome: &str,
        payload: Option<&[u8]>,
    ) -> Result<(), StoreError>;
    /// Records, in a transaction of its own, that applying an event failed and was rolled back:
    /// status `failed`, the error and the verified payload (an event processed meanwhile is left
    /// alone).
    async fn record_webhook_failure(
        &mut self,
        event: &WebhookEventRecord,
        error: &str,
        payload: &[u8],
    ) -> Result<(), StoreError>;
}

/// Received webhook events, for owners.
#[async_trait]
pub trait WebhookQueries: Send + Sync {
    /// Events newest first, optionally of one status.
    async fn webhook_events(
        &self,
        status: Option<WebhookStatus>,
        page: PageRequest,
    ) -> Result<Page<WebhookEventRecord>, StoreError>;
    /// One event and its kept payload (failed and rejected events only).
    async fn webhook_event(
        &self,
        id: &str,
    ) -> Result<Option<(WebhookEventRecord, Option<Vec<u8>>)>, StoreError>;
}

impl Queries {
    /// Received webhook events.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn webhooks(&self) -> Result<&dyn WebhookQueries, StoreError> {
        self.get()
    }
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
