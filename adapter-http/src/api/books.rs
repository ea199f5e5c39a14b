//! Owners and the books: the reconciliation report, resolving anomalies, adjustments of sellers'
//! balances and the audit log (docs/money.md, "Reconciliation" and "Adjustments").

use marketplace_domain::adjustments::AdjustmentInput;
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::reconcile::AnomalyKind;
use marketplace_domain::validation::parse_day;
use marketplace_ports::ports::{AdjustmentRecord, AuditEntry, FlaggedOrder, ReconFilter};
use marketplace_ports::use_cases::Services;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::params::{Day, FlagCodes, PageNumber, PerPage, Text};

/// Owners and the books.
pub struct BooksApi {
    /// Use cases.
    pub services: Services,
}

/// One flag on an order.
#[derive(Debug, Object)]
pub struct FlagDto {
    /// `charge_mismatch`, `currency_mismatch`, `extra_payment`, `unallocated_refund`,
    /// `unabsorbed_loss`, `dispute_open`, `payout_on_hold`, `payout_failed`, `reversal_refused`,
    /// `paid_without_payout`, `payout_skipped_not_ready`, `transfers_exceed_charge`,
    /// `line_fee_mismatch`, `subtotal_mismatch`, `total_mismatch`, `unbalanced_entry`,
    /// `paid_without_stripe_ids`, `paid_without_ledger_entry` or `refunds_mismatch`.
    pub code: String,
    /// What it says.
    pub detail: String,
}

/// An order whose money needs a look.
#[derive(Debug, Object)]
pub struct FlaggedOrderDto {
    /// The order.
    pub order_id: Uuid,
    /// Its status.
    pub status: String,
    /// Its total.
    pub total_cents: i64,
    /// Its currency.
    pub currency: String,
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// When its flags were last computed (when its money last moved).
    pub flagged_at: OffsetDateTime,
    /// Its flags.
    pub flags: Vec<FlagDto>,
}

fn flagged_dto(order: FlaggedOrder) -> FlaggedOrderDto {
    FlaggedOrderDto {
        order_id: order.order_id.get(),
        status: order.status.as_str().to_owned(),
        total_cents: order.total.get(),
        currency: order.currency.to_string(),
        created_at: order.created_at,
        flagged_at: order.flagged_at,
        flags: order
            .flags
            .into_iter()
            .map(|f| FlagDto {
                code: f.code,
                detail: f.detail,
            })
            .collect(),
    }
}

/// Resolving an order's anomalies of one kind.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// `charge_mismatch` (releases the order's payouts), `currency_mismatch`, `extra_payment` or
    /// `unallocated_refund` (after settling it, with an adjustment say).
    #[oai(validator(
        pattern = r"^(charge_mismatch|currency_mismatch|extra_payment|unallocated_refund)$"
    ))]
    pub kind: String,
    /// What was done about it (required).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 500
    ))]
    pub note: String,
}

/// An adjustment to book.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// The seller.
    pub seller_id: Uuid,
    /// Positive credits the seller (the platform owes them more), negative debits them.
    pub amount_cents: i64,
    /// Currency code.
    #[oai(validator(pattern = r"^[A-Za-z]{3}$"))]
    pub currency: String,
    /// Why (required, at most 500 characters).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 500
    ))]
    pub note: String,
    /// Your key for this request: the same key books once.
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 100
    ))]
    pub idempotency_key: String,
}

/// A booked adjustment.
#[derive(Debug, Object)]
pub struct AdjustmentDto {
    /// Id (its journal entry is `adjustment:{id}`).
    pub id: Uuid,
    /// The seller.
    pub seller_id: Uuid,
    /// Signed amount.
    pub amount_cents: i64,
    /// Currency.
    pub currency: String,
    /// Why.
    pub note: String,
    /// The key it was booked under.
    pub idempotency_key: String,
    /// The owner who made it.
    pub created_by: Uuid,
    /// When.
    pub created_at: OffsetDateTime,
}

fn adjustment_dto(record: AdjustmentRecord) -> AdjustmentDto {
    AdjustmentDto {
        id: record.id.get(),
        seller_id: record.seller_id.get(),
        amount_cents: record.amount.get(),
        currency: record.currency.to_string(),
        note: record.note,
        idempotency_key: record.idempotency_key,
        created_by: record.created_by.get(),
        created_at: record.created_at,
    }
}

/// What an adjustment request did.
#[derive(ApiResponse)]
pub enum AdjustmentBooked {
    /// Booked now.
    #[oai(status = 201)]
    Created(Json<AdjustmentDto>),
    /// Booked before under the same key (the same request): nothing more was booked.
    #[oai(status = 200)]
    Existing(Json<AdjustmentDto>),
}

/// One owner action.
#[derive(Debug, Object)]
pub struct AuditEntryDto {
    /// Who.
    pub actor_id: Uuid,
    /// What (`adjustment.create`, `reconciliation.resolve`).
    pub action: String,
    /// To what (`seller:<id>`, `order:<id>`).
    pub subject: String,
    /// Details and the reason given.
    pub detail: String,
    /// When.
    pub created_at: OffsetDateTime,
}

fn audit_dto(entry: AuditEntry) -> AuditEntryDto {
    AuditEntryDto {
        actor_id: entry.actor_id.get(),
        action: entry.action,
        subject: entry.subject,
        detail: entry.detail,
        created_at: entry.created_at,
    }
}

/// Done.
#[derive(ApiResponse)]
pub enum Resolved {
    /// Resolved.
    #[oai(status = 204)]
    Done,
}

pub(crate) fn day(
    field: &str,
    text: Option<Text<Day>>,
) -> Result<Option<OffsetDateTime>, ApiError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_day(text)
            .map(Some)
            .map_err(|e| ApiError::invalid_field(field, e.to_string())),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl BooksApi {
    /// The reconciliation report (owners): orders whose money needs a look and why, most recently
    /// flagged first. Filter by `flag` code, by the day orders were placed (`since`, `until`:
    /// `YYYY-MM-DD`, `until` exclusive) and by `seller_id`. Flags are computed when money moves.
    #[oai(path = "/admin/reconciliation", method = "get")]
    // poem-openapi takes each query parameter as an argument of its own.
    #[allow(clippy::too_many_arguments)]
    async fn reconciliation(
        &self,
        auth: Auth,
        flag: Query<Option<Text<FlagCodes>>>,
        since: Query<Option<Text<Day>>>,
        until: Query<Option<Text<Day>>>,
        seller_id: Query<Option<Uuid>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<FlaggedOrderDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let filter = ReconFilter {
            flag: flag
                .0
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty()),
            since: day("since", since.0)?,
            until: day("until", until.0)?,
            seller: seller_id.0.map(UserId::from_uuid),
        };
        let report = self
            .services
            .books
            .report(auth.actor(), &filter, request)
            .await?;
        Ok(Json(PageDto::from_page(report, flagged_dto)))
    }

    /// Resolve an order's anomalies of one kind after looking at them (owners): they leave the
    /// report; a resolved `charge_mismatch` releases the order's payouts. Recorded in the audit
    /// log.
    #[oai(path = "/admin/orders/:id/resolve", method = "post")]
    async fn resolve(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ResolveRequest>,
    ) -> ApiResult<Resolved> {
        let b = body.0;
        let kind = AnomalyKind::parse(b.kind.trim()).ok_or_else(|| {
            ApiError::invalid_field(
                "kind",
                "must be charge_mismatch, currency_mismatch, extra_payment or unallocated_refund",
            )
        })?;
        self.services
            .books
            .resolve(auth.actor(), OrderId::from_uuid(id.0), kind, &b.note)
            .await?;
        Ok(Resolved::Done)
    }

    /// Adjust a seller's balance (owners): a balanced entry between `adjustments` and the seller's
    /// payable, booked once per `idempotency_key` (the same request again answers 200 with it; the
    /// key with other fields is 409 `idempotency_key_in_use`). It shows in the seller's movements
    /// and in the audit log.
    #[oai(path = "/admin/adjustments", method = "post")]
    async fn adjust(
        &self,
        auth: Auth,
        body: JsonBody<AdjustmentRequest>,
    ) -> ApiResult<AdjustmentBooked> {
        let b = body.0;
        let outcome = self
            .services
            .books
            .adjust(
                auth.actor(),
                &AdjustmentInput {
                    seller: UserId::from_uuid(b.seller_id),
                    amount: b.amount_cents,
                    currency: b.currency,
                    note: b.note,
                    idempotency_key: b.idempotency_key,
                },
            )
            .await?;
        let dto = Json(adjustment_dto(outcome.adjustment));
        Ok(if outcome.created {
            AdjustmentBooked::Created(dto)
        } else {
            AdjustmentBooked::Existing(dto)
        })
    }

    /// The audit log of owners' money actions (owners), newest first.
    #[oai(path = "/admin/audit-log", method = "get")]
    async fn audit_log(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<AuditEntryDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let log = self.services.books.audit_log(auth.actor(), request).await?;
        Ok(Json(PageDto::from_page(log, audit_dto)))
    }
}
