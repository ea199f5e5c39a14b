//! Telling a user something: an in-app notification, and the same by mail unless they muted its
//! kind (docs/notifications.md). Written in the caller's transaction, with the change it is about.

use marketplace_domain::ids::{NotificationId, UserId};
use marketplace_domain::notifications::NotificationKind;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{Mail, NotificationRecord, StoreError, Tx};
use crate::use_cases::Deps;
use crate::use_cases::shared::mail::queue_mail;

/// Something to tell one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Whom.
    pub user: UserId,
    /// What about.
    pub kind: NotificationKind,
    /// What it is about (the thread, review, report, refund request or order).
    pub subject: Uuid,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
}

/// Records `notice` in the app and, unless the user muted its kind, mails it: `mail` when the
/// feature has its own mail, else the notification itself.
///
/// # Errors
/// Storage failures.
pub async fn notify(
    tx: &mut dyn Tx,
    deps: &Deps,
    notice: Notice,
    mail: Option<Mail>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let record = NotificationRecord {
        id: NotificationId::from_uuid(Uuid::now_v7()),
        user_id: notice.user,
        kind: notice.kind,
        title: notice.title,
        body: notice.body,
        subject_id: notice.subject,
        read_at: None,
        created_at: now,
    };
    let store = tx.notifications()?;
    store.insert_notification(&record).await?;
    if !store
        .mail_preferences(notice.user)
        .await?
        .mails(notice.kind)
    {
        return Ok(());
    }
    let Some(user) = tx.users()?.get_user(notice.user).await? else {
        return Ok(());
    };
    if user.email.trim().is_empty() {
        return Ok(());
    }
    let mail = mail.unwrap_or_else(|| Mail::Notification {
        title: record.title.clone(),
        body: record.body.clone(),
        url: deps.links.notification(record.kind, record.subject_id),
    });
    let key = format!("notification:{}", record.id);
    queue_mail(tx, deps, user.email, &mail, None, key, now).await
}
