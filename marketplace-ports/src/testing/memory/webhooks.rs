//! The webhook inbox, in memory.

use async_trait::async_trait;

use super::Working;
use crate::ports::{StoreError, WebhookEventRecord, WebhookInbox};

pub(crate) struct MemWebhookInbox(pub(crate) Working);

#[async_trait]
impl WebhookInbox for MemWebhookInbox {
    async fn record_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("webhooks.record_webhook_event")?;
        if s.webhooks.contains_key(&event.id) {
            return Ok(false);
        }
        s.webhooks.insert(event.id.clone(), event.clone());
        Ok(true)
    }

    async fn set_webhook_outcome(&mut self, id: &str, outcome: &str) -> Result<(), StoreError> {
        let mut s = self.0.state("webhooks.set_webhook_outcome")?;
        if let Some(event) = s.webhooks.get_mut(id) {
            event.outcome = outcome.to_owned();
        }
        Ok(())
    }
}
