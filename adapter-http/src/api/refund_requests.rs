//! Refund requests: buyers (and guests with their order token) ask for a physical line's money
//! back; the line's seller, owners and staff approve or decline it and trigger its Stripe refund.

use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId, UserId};
use marketplace_domain::refunds::RefundRequestStatus;
use marketplace_ports::ports::{RefundRequestRecord, RefundRequestStep};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::refund_requests::requests::NewRefundRequest;
use marketplace_ports::use_cases::refund_requests::{
    RefundDecision, RefundQueue, RefundRequestDetail,
};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::orders::OrderToken;
use crate::auth::{Auth, MaybeAuth};
use crate::dto::{PageDto, page_request};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage, RefundRequestStatuses, Text};

/// Refund requests.
pub struct RefundRequestsApi {
    /// Use cases.
    pub services: Services,
}

/// Asking for a line's money back.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RefundRequestBody {
    /// `damaged`, `not_as_described`, `late`, `wrong_item` or `other`.
    #[oai(validator(pattern = r"^(damaged|not_as_described|late|wrong_item|other)$"))]
    pub reason: String,
    /// What happened (at most 2000 characters).
    #[oai(nullable, validator(max_length = 2000))]
    pub notes: Option<String>,
    /// Guests: the e-mail the order was placed with, typed again (with the order token in `?t=`
    /// or `X-Order-Token`).
    #[oai(nullable)]
    pub email: Option<String>,
}

/// A decision's note.
#[derive(Debug, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (at most 2000 characters); shown to the buyer.
    #[oai(nullable, validator(max_length = 2000))]
    pub note: Option<String>,
}

/// A refund request.
#[derive(Debug, Object)]
pub struct RefundRequestDto {
    /// Id.
    pub id: Uuid,
    /// `requested`, `approved`, `declined`, `canceled`, `refunded` or `failed`.
    pub status: String,
    /// The amount snapshotted when it was made: the line's gross plus its shares of tax and
    /// shipping, never more than was left to refund on it.
    pub amount_cents: i64,
    /// Currency.
    pub currency: String,
    /// The order.
    pub order_id: Uuid,
    /// The line.
    pub order_item_id: Uuid,
    /// The line's seller (who decides).
    pub seller_id: Uuid,
    /// The buyer (absent for guests).
    #[oai(nullable)]
    pub buyer_id: Option<Uuid>,
    /// Why.
    pub reason: String,
    /// The buyer's notes.
    pub notes: String,
    /// Stripe refunds asked for so far.
    pub refund_attempts: u32,
    /// A Stripe refund is being sent now (trigger again only after it failed).
    pub refund_in_flight: bool,
    /// Stripe's refund, once it accepted one.
    #[oai(nullable)]
    pub stripe_refund_id: Option<String>,
    /// Why Stripe refused the last attempt (`failed` requests).
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// Made.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// One step of a request's history.
#[derive(Debug, Object)]
pub struct RefundRequestStepDto {
    /// The state it moved to.
    pub status: String,
    /// Who (absent for guests and Stripe).
    #[oai(nullable)]
    pub actor_id: Option<Uuid>,
    /// Their note, or Stripe's reason.
    pub note: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A refund request with its history.
#[derive(Debug, Object)]
pub struct RefundRequestDetailDto {
    /// The request.
    #[oai(flatten)]
    pub request: RefundRequestDto,
    /// Every step, oldest first.
    pub history: Vec<RefundRequestStepDto>,
}

/// A new request.
#[derive(ApiResponse)]
pub enum CreatedRefundRequest {
    /// Made; the seller is told by mail.
    #[oai(status = 201)]
    Created(Json<RefundRequestDto>),
}

fn request_dto(request: RefundRequestRecord) -> RefundRequestDto {
    RefundRequestDto {
        id: request.id.get(),
        status: request.progress.status.as_str().to_owned(),
        amount_cents: request.amount.get(),
        currency: request.currency.to_string(),
        order_id: request.order_id.get(),
        order_item_id: request.order_item_id.get(),
        seller_id: request.seller_id.get(),
        buyer_id: request.buyer_id.map(|b| b.get()),
        reason: request.reason.as_str().to_owned(),
        notes: request.notes,
        refund_attempts: request.progress.attempts,
        refund_in_flight: request.progress.in_flight,
        stripe_refund_id: request.stripe_refund_id,
        last_error: request.last_error,
        created_at: request.created_at,
        updated_at: request.updated_at,
    }
}

fn step_dto(step: RefundRequestStep) -> RefundRequestStepDto {
    RefundRequestStepDto {
        status: step.status.as_str().to_owned(),
        actor_id: step.actor_id.map(|a| a.get()),
        note: step.note,
        created_at: step.created_at,
    }
}

fn detail_dto(detail: RefundRequestDetail) -> RefundRequestDetailDto {
    RefundRequestDetailDto {
        request: request_dto(detail.request),
        history: detail.history.into_iter().map(step_dto).collect(),
    }
}

/// Parses a `status` filter.
fn status_filter(status: Option<&str>) -> Result<Option<RefundRequestStatus>, ApiError> {
    match status.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => RefundRequestStatus::parse(text).map(Some).ok_or_else(|| {
            ApiError::invalid_field(
                "status",
                "must be requested, approved, declined, canceled, refunded or failed",
            )
        }),
    }
}

impl RefundRequestsApi {
    async fn queue(
        &self,
        auth: Auth,
        queue: RefundQueue,
        status: Query<Option<Text<RefundRequestStatuses>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<RefundRequestDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let status = status_filter(status.0.as_deref())?;
        let found = self
            .services
            .refund_decisions
            .queue(auth.actor(), queue, status, request)
            .await?;
        Ok(Json(PageDto::from_page(found, request_dto)))
    }

    async fn decide(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<DecisionBody>,
        decision: RefundDecision,
    ) -> ApiResult<Json<RefundRequestDto>> {
        let request = self
            .services
            .refund_decisions
            .decide(
                auth.actor(),
                RefundRequestId::from_uuid(id.0),
                body.0.note.as_deref(),
                decision,
            )
            .await?;
        Ok(Json(request_dto(request)))
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Orders")]
impl RefundRequestsApi {
    /// Ask for a physical line's money back (its buyer; guests send the order token and the
    /// checkout `email`). Refused with a code: `free_order`, `digital_line`, `order_not_paid`
    /// (422), `already_requested`, `already_refunded` (409), `email_mismatch` (403).
    #[oai(
        path = "/orders/:order_id/items/:item_id/refund-request",
        method = "post"
    )]
    async fn request(
        &self,
        auth: MaybeAuth,
        order_id: Path<Uuid>,
        item_id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<RefundRequestBody>,
    ) -> ApiResult<CreatedRefundRequest> {
        let body = body.0;
        let input = NewRefundRequest {
            reason: body.reason,
            notes: body.notes,
            email: body.email,
        };
        let request = self
            .services
            .refund_requests
            .request(
                token.access(&auth),
                OrderId::from_uuid(order_id.0),
                OrderItemId::from_uuid(item_id.0),
                &input,
            )
            .await?;
        Ok(CreatedRefundRequest::Created(Json(request_dto(request))))
    }

    /// Your refund requests, newest first.
    #[oai(path = "/refund-requests", method = "get")]
    async fn mine(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<RefundRequestDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .refund_requests
            .mine(auth.actor(), request)
            .await?;
        Ok(Json(PageDto::from_page(found, request_dto)))
    }

    /// A refund request with its history: for its buyer (guests: the order token), the line's
    /// seller, owners and staff. Anyone else gets 404.
    #[oai(path = "/refund-requests/:id", method = "get")]
    async fn get(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
    ) -> ApiResult<Json<RefundRequestDetailDto>> {
        let detail = self
            .services
            .refund_requests
            .get(token.access(&auth), RefundRequestId::from_uuid(id.0))
            .await?;
        Ok(Json(detail_dto(detail)))
    }

    /// Withdraw your request while it waits for the seller (guests: the order token).
    #[oai(path = "/refund-requests/:id/cancel", method = "post")]
    async fn cancel(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<DecisionBody>,
    ) -> ApiResult<Json<RefundRequestDto>> {
        let request = self
            .services
            .refund_requests
            .cancel(
                token.access(&auth),
                RefundRequestId::from_uuid(id.0),
                body.0.note.as_deref(),
            )
            .await?;
        Ok(Json(request_dto(request)))
    }

    /// Approve a waiting request (the line's seller, an owner or staff); the buyer is told.
    #[oai(path = "/refund-requests/:id/approve", method = "post")]
    async fn approve(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<DecisionBody>,
    ) -> ApiResult<Json<RefundRequestDto>> {
        self.decide(auth, id, body, RefundDecision::Approve).await
    }

    /// Decline a waiting request (the line's seller, an owner or staff); the buyer is told.
    #[oai(path = "/refund-requests/:id/decline", method = "post")]
    async fn decline(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<DecisionBody>,
    ) -> ApiResult<Json<RefundRequestDto>> {
        self.decide(auth, id, body, RefundDecision::Decline).await
    }

    /// Send an approved (or failed) request's amount back through Stripe (the line's seller, an
    /// owner or staff): a background job asks Stripe; the request becomes `refunded`, or
    /// `failed` with Stripe's reason and may be triggered again. 409 `refund_in_progress` while
    /// an attempt runs.
    #[oai(path = "/refund-requests/:id/trigger", method = "post")]
    async fn trigger(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<DecisionBody>,
    ) -> ApiResult<Json<RefundRequestDto>> {
        self.decide(auth, id, body, RefundDecision::Trigger).await
    }

    /// Refund requests for your lines, newest first, optionally in one `status`.
    #[oai(
        path = "/seller/refund-requests",
        method = "get",
        tag = "ApiTags::Seller"
    )]
    async fn seller_queue(
        &self,
        auth: Auth,
        status: Query<Option<Text<RefundRequestStatuses>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<RefundRequestDto>>> {
        self.queue(auth, RefundQueue::Seller, status, page, per_page)
            .await
    }

    /// Every refund request in the marketplace (owners and staff), newest first, optionally in
    /// one `status` or of one `seller_id`.
    #[oai(
        path = "/admin/refund-requests",
        method = "get",
        tag = "ApiTags::Admin"
    )]
    async fn staff_queue(
        &self,
        auth: Auth,
        status: Query<Option<Text<RefundRequestStatuses>>>,
        seller_id: Query<Option<Uuid>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<RefundRequestDto>>> {
        let queue = RefundQueue::Marketplace {
            seller: seller_id.0.map(UserId::from_uuid),
        };
        self.queue(auth, queue, status, page, per_page).await
    }
}
