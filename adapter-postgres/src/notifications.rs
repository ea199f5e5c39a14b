//! Notifications and mail preferences.

use async_trait::async_trait;
use marketplace_domain::ids::{NotificationId, UserId};
use marketplace_domain::notifications::{MailPreferences, NotificationKind};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    NotificationQueries, NotificationRecord, NotificationStore, StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    title: String,
    body: String,
    subject_id: Uuid,
    read_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl TryFrom<NotificationRow> for NotificationRecord {
    type Error = StoreError;

    fn try_from(row: NotificationRow) -> Result<Self, Self::Error> {
        Ok(NotificationRecord {
            id: NotificationId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            kind: NotificationKind::parse(&row.kind)
                .ok_or_else(|| corrupt("notification", &row.kind))?,
            title: row.title,
            body: row.body,
            subject_id: row.subject_id,
            read_at: row.read_at,
            created_at: row.created_at,
        })
    }
}

/// Notifications of one transaction.
pub(crate) struct PgNotifications(pub(crate) TxConn);

#[async_trait]
impl NotificationStore for PgNotifications {
    async fn insert_notification(&mut self, n: &NotificationRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into notifications (id, user_id, kind, title, body, subject_id, read_at,
                created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
            n.id.get(),
            n.user_id.get(),
            n.kind.as_str(),
            n.title,
            n.body,
            n.subject_id,
            n.read_at,
            n.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn mark_read(
        &mut self,
        user: UserId,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query!(
            "update notifications set read_at = coalesce(read_at, $3)
             where id = $1 and user_id = $2",
            id.get(),
            user.get(),
            now,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(result.rows_affected() > 0)
    }

    async fn mark_all_read(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query!(
            "update notifications set read_at = $2 where user_id = $1 and read_at is null",
            user.get(),
            now,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(result.rows_affected())
    }

    async fn mail_preferences(&mut self, user: UserId) -> Result<MailPreferences, StoreError> {
        let kinds = sqlx::query_scalar!(
            "select kind from notification_mail_muted where user_id = $1",
            user.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(MailPreferences::muting(
            kinds.iter().filter_map(|k| NotificationKind::parse(k)),
        ))
    }

    async fn set_mail_preferences(
        &mut self,
        user: UserId,
        preferences: &MailPreferences,
    ) -> Result<(), StoreError> {
        let mut conn = self.0.lock().await;
        sqlx::query!(
            "delete from notification_mail_muted where user_id = $1",
            user.get()
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        let kinds: Vec<String> = preferences
            .muted()
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect();
        sqlx::query!(
            "insert into notification_mail_muted (user_id, kind) select $1, unnest($2::text[])",
            user.get(),
            &kinds,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl NotificationQueries for PgStore {
    async fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<NotificationRecord>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from notifications
               where user_id = $1 and (not $2 or read_at is null)"#,
            user.get(),
            unread_only,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            NotificationRow,
            "select id, user_id, kind, title, body, subject_id, read_at, created_at
             from notifications where user_id = $1 and (not $2 or read_at is null)
             order by created_at desc, id desc limit $3 offset $4",
            user.get(),
            unread_only,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }

    async fn unread_count(&self, user: UserId) -> Result<i64, StoreError> {
        sqlx::query_scalar!(
            r#"select count(*) as "total!" from notifications
               where user_id = $1 and read_at is null"#,
            user.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }
}
