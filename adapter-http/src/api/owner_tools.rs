//! Owners: the order list and the received webhook events.

use marketplace_domain::ids::UserId;
use marketplace_domain::orders::OrderStatus;
use marketplace_ports::ports::{OwnerOrderRow, WebhookEventRecord, WebhookStatus};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::admin::OwnerOrderQuery;
use marketplace_ports::use_cases::money_flow::WebhookOutcome;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::books::day;
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::{ApiError, ApiResult};
use crate::params::{
    Day, MaxChars, OrderStatuses, PageNumber, Param, PerPage, Text, WebhookStatuses,
};
use marketplace_ports::use_cases::admin::orders::MAX_SEARCH;

/// Owners' order list and webhook events.
pub struct OwnerToolsApi {
    /// Use cases.
    pub services: Services,
}

/// An order as owners list it.
#[derive(Debug, Object)]
pub struct OwnerOrderDto {
    /// Id.
    pub id: Uuid,
    /// `pending`, `paid`, `partially_refunded`, `refunded` or `canceled`.
    pub status: String,
    /// The buyer's account (absent for guests).
    #[oai(nullable)]
    pub buyer_id: Option<Uuid>,
    /// The buyer's account e-mail, or the guest's.
    pub email: String,
    /// What the buyer pays.
    pub total_cents: i64,
    /// Returned so far.
    pub refunded_cents: i64,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub items: usize,
    /// The sellers of its lines.
    pub seller_ids: Vec<Uuid>,
    /// The current Checkout Session.
    #[oai(nullable)]
    pub stripe_session_id: Option<String>,
    /// The payment intent.
    #[oai(nullable)]
    pub stripe_payment_intent_id: Option<String>,
    /// The charge.
    #[oai(nullable)]
    pub stripe_charge_id: Option<String>,
    /// Reconciliation flag codes (see `GET /api/v1/admin/reconciliation`).
    pub flags: Vec<String>,
    /// Placed.
    pub created_at: OffsetDateTime,
    /// Paid.
    #[oai(nullable)]
    pub paid_at: Option<OffsetDateTime>,
}

fn owner_order_dto(row: OwnerOrderRow) -> OwnerOrderDto {
    let order = row.order;
    OwnerOrderDto {
        id: order.id.get(),
        status: order.status.as_str().to_owned(),
        buyer_id: order.buyer_id.map(UserId::get),
        email: row.email,
        total_cents: order.total.get(),
        refunded_cents: order.refunded.get(),
        currency: order.currency.to_string(),
        items: order.lines().len(),
        seller_ids: order.sellers().into_iter().map(UserId::get).collect(),
        stripe_session_id: order.checkout.session_id.clone(),
        stripe_payment_intent_id: order
            .payment
            .as_ref()
            .and_then(|p| p.stripe_payment_intent())
            .map(str::to_owned),
        stripe_charge_id: order.charge_id.clone(),
        flags: row.flags,
        created_at: order.created_at,
        paid_at: order.paid_at,
    }
}

/// A received Stripe event.
#[derive(Debug, Object)]
pub struct WebhookEventDto {
    /// Stripe's event id (`evt_…`).
    pub id: String,
    /// `payments` or `connect`.
    pub endpoint: String,
    /// Event type.
    pub event_type: String,
    /// `applied`, `ignored`, `rejected` or `failed` (`processing` only while it is applied).
    pub status: String,
    /// What was done, or the error of a failure.
    pub outcome: String,
    /// Times it was processed (Stripe's redeliveries of a failed event, owners' retries).
    pub attempts: i32,
    /// When Stripe created it.
    pub created: OffsetDateTime,
    /// When it first arrived.
    pub received_at: OffsetDateTime,
}

fn webhook_event_dto(event: WebhookEventRecord) -> WebhookEventDto {
    WebhookEventDto {
        id: event.id,
        endpoint: event.endpoint.as_str().to_owned(),
        event_type: event.event_type,
        status: event.status.as_str().to_owned(),
        outcome: event.outcome,
        attempts: event.attempts,
        created: event.created,
        received_at: event.received_at,
    }
}

/// What processing a kept event again did.
#[derive(Debug, Object)]
pub struct ProcessedDto {
    /// `applied`, `ignored`, `rejected` or `duplicate`.
    pub status: String,
    /// What was done.
    pub outcome: String,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl OwnerToolsApi {
    /// Received Stripe events, newest first (owners), optionally of one `status`: `applied`,
    /// `ignored`, `rejected` or `failed` (applying it failed and was rolled back; Stripe's
    /// redelivery or `…/process` applies it).
    #[oai(path = "/admin/webhook-events", method = "get")]
    async fn webhook_events(
        &self,
        auth: Auth,
        status: Query<Option<Text<WebhookStatuses>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<WebhookEventDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let status = match status.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(WebhookStatus::parse(text).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be processing, applied, ignored, rejected or failed",
                )
            })?),
        };
        let events = self
            .services
            .webhook_admin
            .webhook_events(auth.actor(), status, request)
            .await?;
        Ok(Json(PageDto::from_page(events, webhook_event_dto)))
    }

    /// Process a `failed` or `rejected` event again (owners), from the payload kept when it
    /// arrived: applied once (a duplicate changes nothing), recorded in the audit log
    /// (`webhook.process_again`). 409 `not_failed` for any other event, `no_payload` for one
    /// that failed before payloads were kept.
    #[oai(path = "/admin/webhook-events/:id/process", method = "post")]
    async fn process_again(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<ProcessedDto>> {
        let outcome = self
            .services
            .webhooks
            .process_again(auth.actor(), &id.0)
            .await?;
        let (status, outcome) = match outcome {
            WebhookOutcome::Applied(what) => ("applied", what),
            WebhookOutcome::Ignored(why) => ("ignored", why),
            WebhookOutcome::Rejected(why) => ("rejected", why),
            WebhookOutcome::Duplicate => ("duplicate", String::new()),
        };
        Ok(Json(ProcessedDto {
            status: status.to_owned(),
            outcome,
        }))
    }

    /// Every order, newest first (owners). `q` is an order id, a Stripe id (`cs_…`, `pi_…`,
    /// `ch_…`, exactly) or part of the buyer's e-mail; narrow by `status`, `seller_id`, the day it
    /// was placed (`since`, `until`: `YYYY-MM-DD`, `until` exclusive) and `flagged` (with or
    /// without reconciliation flags).
    #[oai(path = "/admin/orders", method = "get")]
    // poem-openapi takes each query parameter as an argument of its own.
    #[allow(clippy::too_many_arguments)]
    async fn orders(
        &self,
        auth: Auth,
        q: Query<Option<Text<MaxChars<{ MAX_SEARCH }>>>>,
        status: Query<Option<Text<OrderStatuses>>>,
        seller_id: Query<Option<Uuid>>,
        since: Query<Option<Text<Day>>>,
        until: Query<Option<Text<Day>>>,
        flagged: Query<Option<bool>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<OwnerOrderDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let status = match status.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(OrderStatus::parse(text).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be pending, paid, partially_refunded, refunded or canceled",
                )
            })?),
        };
        let query = OwnerOrderQuery {
            text: q.0.map(Param::into_inner),
            status,
            seller: seller_id.0.map(UserId::from_uuid),
            since: day("since", since.0)?,
            until: day("until", until.0)?,
            flagged: flagged.0,
        };
        let orders = self
            .services
            .order_admin
            .orders(auth.actor(), query, request)
            .await?;
        Ok(Json(PageDto::from_page(orders, owner_order_dto)))
    }
}
