//! Mail: messages written to an outbox in the same transaction as the change they announce, and
//! the templates that turn a message into text (rendered by an adapter: wording and links are
//! presentation).

use async_trait::async_trait;
use marketplace_domain::ids::{MailId, OrderId, RefundRequestId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::RefundRequestStatus;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// Where a mail stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for delivery.
    Queued,
    /// Delivered.
    Sent,
    /// Delivery failed for good.
    Failed,
}

impl MailStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }

    /// Parses [`MailStatus::as_str`].
    pub fn parse(text: &str) -> Option<MailStatus> {
        [MailStatus::Queued, MailStatus::Sent, MailStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// An e-mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailRecord {
    /// Id.
    pub id: MailId,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text_body: String,
    /// HTML body.
    pub html_body: String,
    /// Status.
    pub status: MailStatus,
    /// The order it is about, if any.
    pub order_id: Option<OrderId>,
    /// At most one mail per key: a job that runs twice writes its mail once.
    pub dedupe_key: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
}

/// One line of an order, in a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailLine {
    /// Quantity.
    pub quantity: u32,
    /// Title.
    pub title: String,
    /// What it cost.
    pub gross: Cents,
}

/// A file to download, in a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailDownload {
    /// File name.
    pub file_name: String,
    /// Where to download it.
    pub url: String,
}

/// The mails the marketplace sends. Each template renders one variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mail {
    /// A guest's order was paid: where to find it and its downloads.
    OrderPaid {
        /// The order.
        order_id: OrderId,
        /// Its page (with the guest token).
        order_url: String,
        /// Its lines.
        lines: Vec<MailLine>,
        /// The order's currency.
        currency: Currency,
        /// Files bought.
        downloads: Vec<MailDownload>,
    },
    /// To a seller: a buyer asks for a line's money back.
    RefundRequested {
        /// The request.
        request: RefundRequestId,
        /// The item's title.
        item: String,
        /// The amount asked for.
        amount: Cents,
        /// Its currency.
        currency: Currency,
        /// The reason (`damaged`, …).
        reason: String,
        /// The buyer's notes.
        notes: String,
        /// The request's page.
        request_url: String,
    },
    /// A notification, by mail (the user did not mute its kind).
    Notification {
        /// One line.
        title: String,
        /// Details.
        body: String,
        /// Where to look.
        url: String,
    },
    /// To a buyer: their refund request was approved, declined, refunded, or its refund failed.
    RefundRequestUpdated {
        /// The request.
        request: RefundRequestId,
        /// The item's title.
        item: String,
        /// The amount.
        amount: Cents,
        /// Its currency.
        currency: Currency,
        /// Where it stands now.
        status: RefundRequestStatus,
        /// The note of whoever decided (or Stripe's reason).
        note: String,
        /// The request's page (guests' links carry their order token).
        request_url: String,
    },
}

/// A mail ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Turns a mail into its subject and bodies.
pub trait MailTemplates: Send + Sync {
    /// Renders `mail` as plain text and HTML.
    fn render(&self, mail: &Mail) -> RenderedMail;
}

/// A queued mail claimed for one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedMail {
    /// The mail.
    pub mail: MailRecord,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
}

/// The outbox, inside a transaction.
#[async_trait]
pub trait MailOutbox: Send {
    /// Queues an e-mail; `false` when one with the same dedupe key was queued before.
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<bool, StoreError>;
    /// Claims the oldest queued mail due at `now` that no other worker holds (skipping locked
    /// ones), counting the attempt and holding it until `lease_until`.
    async fn claim_due_mail(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<ClaimedMail>, StoreError>;
    /// Records that attempt `attempt` delivered the mail (ignored when a later attempt has
    /// claimed it since: its worker records the outcome).
    async fn mail_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Records that attempt `attempt` failed: tried again at `retry_at`, or failed for good
    /// without one (ignored when a later attempt has claimed it since).
    async fn mail_not_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
}

/// Why a mail server did not take a mail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It may work later (connection dropped, server busy, 4xx): tried again.
    #[error("{0}")]
    Transient(String),
    /// It never will (5xx refusal, bad address): failed for good.
    #[error("{0}")]
    Permanent(String),
}

/// Delivers outbox mail to a mail server (SMTP).
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait MailSender: Send + Sync {
    /// Hands one mail to the server.
    ///
    /// # Errors
    /// [`SendError`].
    async fn send(&self, mail: &MailRecord) -> Result<(), SendError>;
}

/// Outbox reads.
#[async_trait]
pub trait MailQueries: Send + Sync {
    /// The outbox, newest first.
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The outbox of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn mail(&mut self) -> Result<&mut (dyn MailOutbox + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Outbox reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn mail(&self) -> Result<&dyn MailQueries, StoreError> {
        self.get()
    }
}
