//! The webhook inbox: every Stripe event id recorded once, in the transaction that applies it;
//! failed and rejected events keep their payload so an owner can process them again.

use async_trait::async_trait;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    StoreError, WebhookEndpoint, WebhookEventRecord, WebhookInbox, WebhookQueries, WebhookStatus,
};
use time::OffsetDateTime;

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

/// The webhook inbox of one transaction.
pub(crate) struct PgWebhookInbox(pub(crate) TxConn);

#[async_trait]
impl WebhookInbox for PgWebhookInbox {
    async fn claim_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
        retry_rejected: bool,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query_scalar!(
            "insert into webhook_events (id, endpoint, event_type, created, status, outcome,
                received_at, attempts)
             values ($1, $2, $3, $4, 'processing', $5, $6, 1)
             on conflict (id) do update set status = 'processing',
                 attempts = webhook_events.attempts + 1
             where webhook_events.status = 'failed'
                or ($7 and webhook_events.status = 'rejected')
             returning id",
            event.id,
            event.endpoint.as_str(),
            event.event_type,
            event.created,
            event.outcome,
            event.received_at,
            retry_rejected,
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(claimed.is_some())
    }

    async fn finish_webhook_event(
        &mut self,
        id: &str,
        status: WebhookStatus,
        outcome: &str,
        payload: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "update webhook_events set status = $2, outcome = $3, payload = $4, last_error = null
             where id = $1",
            id,
            status.as_str(),
            outcome,
            payload,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn record_webhook_failure(
        &mut self,
        event: &WebhookEventRecord,
        error: &str,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        let outcome = format!("failed: {error}");
        sqlx::query!(
            "insert into webhook_events (id, endpoint, event_type, created, status, outcome,
                received_at, attempts, payload, last_error)
             values ($1, $2, $3, $4, 'failed', $5, $6, 1, $7, $8)
             on conflict (id) do update set status = 'failed', outcome = excluded.outcome,
                 payload = excluded.payload, last_error = excluded.last_error,
                 attempts = webhook_events.attempts + 1
             where webhook_events.status in ('failed', 'rejected')",
            event.id,
            event.endpoint.as_str(),
            event.event_type,
            event.created,
            outcome,
            event.received_at,
            payload,
            error,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

struct EventRow {
    id: String,
    endpoint: String,
    event_type: String,
    created: OffsetDateTime,
    status: String,
    outcome: String,
    received_at: OffsetDateTime,
    attempts: i32,
}

impl TryFrom<EventRow> for WebhookEventRecord {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        Ok(WebhookEventRecord {
            endpoint: WebhookEndpoint::parse(&row.endpoint)
                .ok_or_else(|| corrupt("webhook event", &row.endpoint))?,
            status: WebhookStatus::parse(&row.status)
                .ok_or_else(|| corrupt("webhook event", &row.status))?,
            id: row.id,
            event_type: row.event_type,
            created: row.created,
            outcome: row.outcome,
            received_at: row.received_at,
            attempts: row.attempts,
        })
    }
}

#[async_trait]
impl WebhookQueries for PgStore {
    async fn webhook_events(
        &self,
        status: Option<WebhookStatus>,
        page: PageRequest,
    ) -> Result<Page<WebhookEventRecord>, StoreError> {
        let status = status.map(WebhookStatus::as_str);
        let total = sqlx::query_scalar!(
            r#"select count(*) as "count!" from webhook_events
               where $1::text is null or status = $1"#,
            status,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            EventRow,
            "select id, endpoint, event_type, created, status, outcome, received_at, attempts
             from webhook_events where $1::text is null or status = $1
             order by received_at desc, id desc limit $2 offset $3",
            status,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }

    async fn webhook_event(
        &self,
        id: &str,
    ) -> Result<Option<(WebhookEventRecord, Option<Vec<u8>>)>, StoreError> {
        let row = sqlx::query!(
            "select id, endpoint, event_type, created, status, outcome, received_at, attempts,
                    payload
             from webhook_events where id = $1",
            id,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record = WebhookEventRecord::try_from(EventRow {
            id: row.id,
            endpoint: row.endpoint,
            event_type: row.event_type,
            created: row.created,
            status: row.status,
            outcome: row.outcome,
            received_at: row.received_at,
            attempts: row.attempts,
        })?;
        Ok(Some((record, row.payload)))
    }
}
