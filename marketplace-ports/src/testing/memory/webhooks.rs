//! The webhook inbox and its owner view, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::pagination::{Page, PageRequest};

use super::listings::page_of;
use super::{MemoryStore, Working};
use crate::ports::{StoreError, WebhookEventRecord, WebhookInbox, WebhookQueries, WebhookStatus};

pub(crate) struct MemWebhookInbox(pub(crate) Working);

#[async_trait]
impl WebhookInbox for MemWebhookInbox {
    async fn claim_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
        retry_rejected: bool,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("webhooks.claim_webhook_event")?;
        match s.webhooks.get_mut(&event.id) {
            None => {
                s.webhooks.insert(event.id.clone(), event.clone());
                Ok(true)
            }
            Some(stored)
                if stored.status == WebhookStatus::Failed
                    || (retry_rejected && stored.status == WebhookStatus::Rejected) =>
            {
                stored.status = WebhookStatus::Processing;
                stored.attempts = stored.attempts.saturating_add(1);
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    async fn finish_webhook_event(
        &mut self,
        id: &str,
        status: WebhookStatus,
        outcome: &str,
        payload: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("webhooks.finish_webhook_event")?;
        if let Some(event) = s.webhooks.get_mut(id) {
            event.status = status;
            event.outcome = outcome.to_owned();
        }
        match payload {
            Some(payload) => s.webhook_payloads.insert(id.to_owned(), payload.to_vec()),
            None => s.webhook_payloads.remove(id),
        };
        Ok(())
    }

    async fn record_webhook_failure(
        &mut self,
        event: &WebhookEventRecord,
        error: &str,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("webhooks.record_webhook_failure")?;
        let outcome = format!("failed: {error}");
        match s.webhooks.get_mut(&event.id) {
            None => {
                let mut failed = event.clone();
                failed.status = WebhookStatus::Failed;
                failed.outcome = outcome;
                s.webhooks.insert(event.id.clone(), failed);
            }
            Some(stored) if stored.status.may_process_again() => {
                stored.status = WebhookStatus::Failed;
                stored.outcome = outcome;
                stored.attempts = stored.attempts.saturating_add(1);
            }
            Some(_) => return Ok(()),
        }
        s.webhook_payloads
            .insert(event.id.clone(), payload.to_vec());
        Ok(())
    }
}

#[async_trait]
impl WebhookQueries for MemoryStore {
    async fn webhook_events(
        &self,
        status: Option<WebhookStatus>,
        page: PageRequest,
    ) -> Result<Page<WebhookEventRecord>, StoreError> {
        let s = self.read("webhooks.webhook_events")?;
        let mut events: Vec<WebhookEventRecord> = s
            .webhooks
            .values()
            .filter(|e| status.is_none_or(|status| e.status == status))
            .cloned()
            .collect();
        events.sort_by_key(|e| Reverse((e.received_at, e.id.clone())));
        Ok(page_of(events, page))
    }

    async fn webhook_event(
        &self,
        id: &str,
    ) -> Result<Option<(WebhookEventRecord, Option<Vec<u8>>)>, StoreError> {
        let s = self.read("webhooks.webhook_event")?;
        Ok(s.webhooks
            .get(id)
            .map(|e| (e.clone(), s.webhook_payloads.get(id).cloned())))
    }
}
