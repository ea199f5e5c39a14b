//! A user's notifications (docs/notifications.md): the list, the unread count, marking them read,
//! and which kinds also come by e-mail.

use marketplace_domain::ids::NotificationId;
use marketplace_domain::notifications::{MailPreferences, NotificationKind};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;

use crate::ports::{NotificationRecord, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a notification operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Not one of the caller's notifications.
    #[error("not found")]
    NotFound,
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for NotificationError {
    fn kind(&self) -> ErrorKind {
        match self {
            NotificationError::NotFound => ErrorKind::NotFound,
            NotificationError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            NotificationError::Store(e) => e.kind(),
        }
    }
}

/// A page of notifications and how many are unread in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbox {
    /// The page.
    pub page: Page<NotificationRecord>,
    /// Unread, over all pages.
    pub unread: i64,
}

operation_group!(
    /// A user's notifications.
    Notifications
);

impl Notifications {
    /// The caller's notifications, newest first (only unread ones with `unread_only`).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn inbox(
        &self,
        actor: &Actor,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Inbox, NotificationError> {
        let reads = self.deps.queries.notifications()?;
        Ok(Inbox {
            page: reads
                .notifications(actor.user_id, unread_only, page)
                .await?,
            unread: reads.unread_count(actor.user_id).await?,
        })
    }

    /// Marks one of the caller's notifications read.
    ///
    /// # Errors
    /// [`NotificationError::NotFound`] when it is not theirs.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        id: NotificationId,
    ) -> Result<(), NotificationError> {
        let mut tx = self.deps.uow.begin().await?;
        let now = self.deps.clock.now();
        if !tx
            .notifications()?
            .mark_read(actor.user_id, id, now)
            .await?
        {
            return Err(NotificationError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks all the caller's notifications read; returns how many were unread.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn mark_all_read(&self, actor: &Actor) -> Result<u64, NotificationError> {
        let mut tx = self.deps.uow.begin().await?;
        let now = self.deps.clock.now();
        let count = tx
            .notifications()?
            .mark_all_read(actor.user_id, now)
            .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// The kinds the caller does not want by e-mail.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn preferences(&self, actor: &Actor) -> Result<MailPreferences, NotificationError> {
        let mut tx = self.deps.uow.begin().await?;
        Ok(tx.notifications()?.mail_preferences(actor.user_id).await?)
    }

    /// Replaces the kinds the caller does not want by e-mail.
    ///
    /// # Errors
    /// [`NotificationError::Invalid`] naming `mail_muted` for an unknown kind.
    pub async fn set_preferences(
        &self,
        actor: &Actor,
        muted: &[String],
    ) -> Result<MailPreferences, NotificationError> {
        let mut kinds = Vec::new();
        for name in muted {
            let kind = NotificationKind::parse(name.trim()).ok_or_else(|| {
                NotificationError::Invalid(FieldErrors::single(
                    "mail_muted",
                    format!("{name:?} is not a notification kind"),
                ))
            })?;
            kinds.push(kind);
        }
        let preferences = MailPreferences::muting(kinds);
        let mut tx = self.deps.uow.begin().await?;
        tx.notifications()?
            .set_mail_preferences(actor.user_id, &preferences)
            .await?;
        tx.commit().await?;
        Ok(preferences)
    }
}
