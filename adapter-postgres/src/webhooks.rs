//! The webhook inbox: every Stripe event id recorded once, in the transaction that applies it.

use async_trait::async_trait;
use marketplace_ports::ports::{StoreError, WebhookEventRecord, WebhookInbox};

use crate::TxConn;
use crate::errors::store_error;

/// The webhook inbox of one transaction.
pub(crate) struct PgWebhookInbox(pub(crate) TxConn);

#[async_trait]
impl WebhookInbox for PgWebhookInbox {
    async fn record_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query_scalar!(
            "insert into webhook_events (id, endpoint, event_type, created, outcome, received_at)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (id) do nothing returning id",
            event.id,
            event.endpoint.as_str(),
            event.event_type,
            event.created,
            event.outcome,
            event.received_at,
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(inserted.is_some())
    }

    async fn set_webhook_outcome(&mut self, id: &str, outcome: &str) -> Result<(), StoreError> {
        sqlx::query!(
            "update webhook_events set outcome = $2 where id = $1",
            id,
            outcome
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
