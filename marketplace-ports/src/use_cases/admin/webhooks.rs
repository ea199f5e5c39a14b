//! Owners: the received Stripe events and how their processing ended (processing one again is
//! `money_flow::WebhookReceiver::process_again`, beside the code that applies events).

use marketplace_domain::pagination::{Page, PageRequest};

use super::is_owner;
use crate::ports::{StoreError, WebhookEventRecord, WebhookStatus};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why the events could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for WebhookAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            WebhookAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            WebhookAdminError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Owners: received webhook events.
    WebhookAdmin
);

impl WebhookAdmin {
    /// Received events newest first, optionally of one status.
    ///
    /// # Errors
    /// [`WebhookAdminError::Forbidden`] for anyone but an owner.
    pub async fn webhook_events(
        &self,
        actor: &Actor,
        status: Option<WebhookStatus>,
        page: PageRequest,
    ) -> Result<Page<WebhookEventRecord>, WebhookAdminError> {
        if !is_owner(actor) {
            return Err(WebhookAdminError::Forbidden);
        }
        Ok(self
            .deps
            .queries
            .webhooks()?
            .webhook_events(status, page)
            .await?)
    }
}
