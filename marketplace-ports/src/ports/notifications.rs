//! In-app notifications and mail preferences (docs/notifications.md).

use async_trait::async_trait;
use marketplace_domain::ids::{NotificationId, UserId};
use marketplace_domain::notifications::{MailPreferences, NotificationKind};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

use super::uow::{Queries, StoreError, Tx};

/// A notification as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Id.
    pub id: NotificationId,
    /// Whom it is for.
    pub user_id: UserId,
    /// What it is about.
    pub kind: NotificationKind,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// What it is about: the thread, review, report, refund request or order its kind names
    /// (adapters turn it into a link).
    pub subject_id: Uuid,
    /// When it was read.
    pub read_at: Option<OffsetDateTime>,
    /// Made.
    pub created_at: OffsetDateTime,
}

/// Notifications, inside a transaction.
#[async_trait]
pub trait NotificationStore: Send {
    /// Records a notification.
    async fn insert_notification(
        &mut self,
        notification: &NotificationRecord,
    ) -> Result<(), StoreError>;
    /// Marks one of `user`'s notifications read at `now` (a no-op when read already); `false`
    /// when it is not theirs.
    async fn mark_read(
        &mut self,
        user: UserId,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Marks all of `user`'s notifications read; returns how many were unread.
    async fn mark_all_read(&mut self, user: UserId, now: OffsetDateTime)
    -> Result<u64, StoreError>;
    /// A user's mail preferences.
    async fn mail_preferences(&mut self, user: UserId) -> Result<MailPreferences, StoreError>;
    /// Replaces a user's mail preferences.
    async fn set_mail_preferences(
        &mut self,
        user: UserId,
        preferences: &MailPreferences,
    ) -> Result<(), StoreError>;
}

/// Notification reads.
#[async_trait]
pub trait NotificationQueries: Send + Sync {
    /// A user's notifications, newest first (only unread ones with `unread_only`).
    async fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<NotificationRecord>, StoreError>;
    /// How many of a user's notifications are unread.
    async fn unread_count(&self, user: UserId) -> Result<i64, StoreError>;
}

impl dyn Tx + '_ {
    /// The notifications of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn notifications(&mut self) -> Result<&mut (dyn NotificationStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Notification reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn notifications(&self) -> Result<&dyn NotificationQueries, StoreError> {
        self.get()
    }
}
