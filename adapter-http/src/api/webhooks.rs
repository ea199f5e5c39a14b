//! Stripe's webhook endpoints (docs/architecture.md, "A webhook"): `/webhooks/stripe` for the
//! platform's events and `/webhooks/stripe/connect` for connected accounts' events, each verified
//! with its own secret.
//! The body is read raw (the signature covers the exact bytes). 400 when the delivery is not a
//! genuine, fresh event (nothing recorded); 5xx when applying it failed (rolled back, Stripe
//! delivers it again); 200 otherwise, duplicates included.

use marketplace_ports::ports::WebhookEndpoint;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::money_flow::WebhookOutcome;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use crate::error::ApiResult;
use crate::json::RawJsonBody;

/// The webhook endpoints.
pub struct WebhooksApi {
    /// Use cases.
    pub services: Services,
}

/// The acknowledgement.
#[derive(Debug, Object)]
pub struct WebhookAck {
    /// Always true: the event is recorded.
    pub received: bool,
    /// `applied`, `duplicate` or `ignored`.
    pub outcome: String,
    /// What was done, or why nothing was.
    pub detail: String,
}

impl WebhooksApi {
    async fn receive(
        &self,
        endpoint: WebhookEndpoint,
        body: &[u8],
        signature: Option<&str>,
    ) -> ApiResult<Json<WebhookAck>> {
        let outcome = self
            .services
            .webhooks
            .handle(endpoint, body, signature.unwrap_or_default())
            .await?;
        let (outcome, detail) = match outcome {
            WebhookOutcome::Applied(what) => ("applied", what),
            WebhookOutcome::Duplicate => ("duplicate", String::new()),
            WebhookOutcome::Ignored(why) => ("ignored", why),
            WebhookOutcome::Rejected(why) => ("rejected", why),
        };
        Ok(Json(WebhookAck {
            received: true,
            outcome: outcome.to_owned(),
            detail,
        }))
    }
}

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Stripe events of the platform account (checkout sessions, charges, refunds, disputes).
    #[oai(path = "/webhooks/stripe", method = "post")]
    async fn payments(
        &self,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: RawJsonBody,
    ) -> ApiResult<Json<WebhookAck>> {
        self.receive(WebhookEndpoint::Payments, &body.0, signature.0.as_deref())
            .await
    }

    /// Stripe events of connected accounts (`account.updated`).
    #[oai(path = "/webhooks/stripe/connect", method = "post")]
    async fn connect(
        &self,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: RawJsonBody,
    ) -> ApiResult<Json<WebhookAck>> {
        self.receive(WebhookEndpoint::Connect, &body.0, signature.0.as_deref())
            .await
    }
}
