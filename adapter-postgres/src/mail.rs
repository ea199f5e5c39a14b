//! The mail outbox.

use async_trait::async_trait;
use marketplace_domain::ids::{MailId, OrderId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    ClaimedMail, MailOutbox, MailQueries, MailRecord, MailStatus, StoreError,
};
use time::OffsetDateTime;

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

/// Builds a [`MailRecord`] from any row carrying the outbox columns (each `query!` has its own
/// row type).
macro_rules! mail_record {
    ($row:ident) => {
        MailRecord {
            id: MailId::from_uuid($row.id),
            to: $row.to_address,
            subject: $row.subject,
            text_body: $row.body,
            html_body: $row.html_body,
            status: MailStatus::parse(&$row.status).ok_or_else(|| corrupt("mail", &$row.status))?,
            order_id: $row.order_id.map(OrderId::from_uuid),
            dedupe_key: $row.dedupe_key,
            created_at: $row.created_at,
        }
    };
}

/// The outbox of one transaction.
pub(crate) struct PgOutbox(pub(crate) TxConn);

#[async_trait]
impl MailOutbox for PgOutbox {
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<bool, StoreError> {
        let inserted = sqlx::query!(
            "insert into outbox (id, to_address, subject, body, html_body, status, order_id, dedupe_key,
                created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict (dedupe_key) do nothing",
            mail.id.get(),
            mail.to,
            mail.subject,
            mail.text_body,
            mail.html_body,
            mail.status.as_str(),
            mail.order_id.map(OrderId::get),
            mail.dedupe_key,
            mail.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(inserted.rows_affected() > 0)
    }

    async fn claim_due_mail(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<ClaimedMail>, StoreError> {
        let row = sqlx::query!(
            "update outbox set attempts = attempts + 1, locked_until = $2
             where id = (select id from outbox
                         where status = 'queued'
                           and (next_attempt_at is null or next_attempt_at <= $1)
                           and (locked_until is null or locked_until < $1)
                         order by created_at, id limit 1
                         for update skip locked)
             returning id, to_address, subject, body, html_body, status, order_id, dedupe_key,
                       created_at, attempts",
            now,
            lease_until,
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ClaimedMail {
            attempt: row.attempts,
            mail: mail_record!(row),
        }))
    }

    async fn mail_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "update outbox set status = 'sent', sent_at = $2, locked_until = null, last_error = null
             where id = $1 and attempts = $3",
            id.get(),
            now,
            attempt,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn mail_not_sent(
        &mut self,
        id: MailId,
        attempt: i32,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "update outbox set locked_until = null, last_error = $2, next_attempt_at = $3,
                 status = case when $3::timestamptz is null then 'failed' else status end
             where id = $1 and attempts = $4",
            id.get(),
            error,
            retry_at,
            attempt,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl MailQueries for PgStore {
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError> {
        let total = sqlx::query_scalar!(r#"select count(*) as "count!" from outbox"#)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let rows = sqlx::query!(
            "select id, to_address, subject, body, html_body, status, order_id, dedupe_key, created_at
             from outbox order by created_at desc, id desc limit $1 offset $2",
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(|row| Ok(mail_record!(row)))
            .collect::<Result<_, StoreError>>()?;
        Ok(paging::page_of(items, page, total))
    }
}
