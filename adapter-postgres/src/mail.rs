//! The mail outbox.

use async_trait::async_trait;
use marketplace_domain::ids::{MailId, OrderId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{MailOutbox, MailQueries, MailRecord, MailStatus, StoreError};

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

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
            .map(|row| {
                Ok(MailRecord {
                    id: MailId::from_uuid(row.id),
                    to: row.to_address,
                    subject: row.subject,
                    text_body: row.body,
                    html_body: row.html_body,
                    status: MailStatus::parse(&row.status)
                        .ok_or_else(|| corrupt("mail", &row.status))?,
                    order_id: row.order_id.map(OrderId::from_uuid),
                    dedupe_key: row.dedupe_key,
                    created_at: row.created_at,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(paging::page_of(items, page, total))
    }
}
