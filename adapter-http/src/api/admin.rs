//! Owner tools.

use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::ids::{JobId, OrderId, UserId};
use marketplace_domain::payouts::ReversalStatus;
use marketplace_domain::site::SiteConfig;
use marketplace_ports::ports::{
    ConnectAccountRecord, JobRecord, JobStatus, MailRecord, ReversalRecord,
};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::admin::{ConnectOverride, ReversalPreview};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use serde::Deserialize;

use super::ApiTags;
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::{ApiError, ApiResult};
use crate::json::JsonBody;
use crate::params::{JobStatuses, PageNumber, PerPage, Text};

/// Owner tools.
pub struct AdminApi {
    /// Use cases.
    pub services: Services,
}

/// A seller's Stripe Connect status, as an owner sets it.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ConnectStatusRequest {
    /// `acct_…`, or empty to unlink.
    #[oai(validator(pattern = r"^(acct_[A-Za-z0-9]{1,250})?$"))]
    pub stripe_account_id: String,
    /// Onboarding details submitted.
    pub details_submitted: bool,
    /// Charges enabled.
    pub charges_enabled: bool,
    /// Payouts enabled.
    pub payouts_enabled: bool,
}

/// A seller's Stripe Connect status.
#[derive(Debug, Object)]
pub struct ConnectStatusDto {
    /// Seller.
    pub user_id: Uuid,
    /// Account id.
    #[oai(nullable)]
    pub stripe_account_id: Option<String>,
    /// Details submitted.
    pub details_submitted: bool,
    /// Charges enabled.
    pub charges_enabled: bool,
    /// Payouts enabled.
    pub payouts_enabled: bool,
    /// Linked, details submitted, charges and payouts enabled.
    pub ready: bool,
    /// First onboarding attempt.
    #[oai(nullable)]
    pub onboarding_started_at: Option<OffsetDateTime>,
    /// When it first became ready.
    #[oai(nullable)]
    pub onboarding_completed_at: Option<OffsetDateTime>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// The wire shape of a Connect account row.
pub fn connect_status_dto(record: ConnectAccountRecord) -> ConnectStatusDto {
    ConnectStatusDto {
        user_id: record.user_id.get(),
        ready: record.status.is_ready(),
        stripe_account_id: record.status.stripe_account_id,
        details_submitted: record.status.details_submitted,
        charges_enabled: record.status.charges_enabled,
        payouts_enabled: record.status.payouts_enabled,
        onboarding_started_at: record.onboarding_started_at,
        onboarding_completed_at: record.onboarding_completed_at,
        updated_at: record.updated_at,
    }
}

/// The site configuration.
#[derive(Debug, Object)]
pub struct SiteConfigDto {
    /// Marketplace fee in percent (0–100, two decimals), applied to orders placed afterwards.
    pub fee_percent: String,
    /// Currency of new orders.
    pub currency: String,
    /// Countries physical items ship to (ISO codes).
    pub allowed_shipping_countries: Vec<String>,
    /// Stripe's dispute fees are charged to the disputed order's sellers (by their part of it)
    /// instead of the platform, for orders placed from now on.
    pub dispute_fee_to_sellers: bool,
    /// Downloads allowed per digital purchase (absent: unlimited), for purchases paid from now on.
    #[oai(nullable)]
    pub download_limit: Option<u32>,
    /// Days a digital purchase can be downloaded after it was paid (absent: forever), for
    /// purchases paid from now on.
    #[oai(nullable)]
    pub download_expiry_days: Option<u32>,
}

/// New site configuration.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct SiteConfigRequest {
    /// Fee in percent as a decimal string (`"10"`, `"7.5"`); clamped to 0–100, two decimals.
    pub fee_percent: String,
    /// Three-letter currency code.
    #[oai(validator(pattern = r"^[A-Za-z]{3}$"))]
    pub currency: String,
    /// Two-letter country codes (empty means `US`).
    #[oai(validator(pattern = r"^([A-Za-z]{2})?$"))]
    pub allowed_shipping_countries: Vec<String>,
    /// Charge Stripe's dispute fees to the sellers of orders placed from now on (default: the
    /// platform bears them).
    #[oai(nullable)]
    pub dispute_fee_to_sellers: Option<bool>,
    /// Downloads allowed per digital purchase, 1–10000 (absent: unlimited).
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "10000")))]
    pub download_limit: Option<u32>,
    /// Days a digital purchase can be downloaded, 1–3650 (absent: forever).
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "3650")))]
    pub download_expiry_days: Option<u32>,
}

/// A background job.
#[derive(Debug, Object)]
pub struct JobDto {
    /// Id.
    pub id: Uuid,
    /// `payout`, `reversal`, `order_mail`, `refund_sync`, `extra_payment_refund` or
    /// `refund_request`.
    pub kind: String,
    /// The order it works on.
    pub order_id: Uuid,
    /// The seller, for payouts and reversals.
    #[oai(nullable)]
    pub seller_id: Option<Uuid>,
    /// `queued`, `running`, `done` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Attempts before it is parked as dead.
    pub max_attempts: i32,
    /// Not before.
    pub run_at: OffsetDateTime,
    /// The last error.
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An e-mail in the outbox.
#[derive(Debug, Object)]
pub struct MailDto {
    /// Id.
    pub id: Uuid,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// HTML body.
    pub html_body: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// The order it is about.
    #[oai(nullable)]
    pub order_id: Option<Uuid>,
    /// Created.
    pub created_at: OffsetDateTime,
}

/// How many payouts were queued.
#[derive(Debug, Object)]
pub struct RetriedPayoutsDto {
    /// Payout jobs queued.
    pub queued: u64,
}

/// Which seller to take money back from.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    /// The seller whose payout of this order is reversed.
    pub seller_id: Uuid,
}

/// A reversal the owner asked for: what it would take back now.
#[derive(Debug, Object)]
pub struct ReversalQueuedDto {
    /// Order.
    pub order_id: Uuid,
    /// Seller.
    pub seller_id: Uuid,
    /// What the job will take back unless something changes first (a later payout netting the
    /// debt, say).
    pub amount_cents: i64,
    /// Currency.
    pub currency: String,
    /// Always `queued`.
    pub status: String,
}

/// A reversal was queued.
#[derive(ApiResponse)]
pub enum ReversalQueued {
    /// Queued; follow it with `GET /admin/orders/{id}/reversals`.
    #[oai(status = 202)]
    Queued(Json<ReversalQueuedDto>),
}

/// A transfer reversal.
#[derive(Debug, Object)]
pub struct ReversalDto {
    /// Id (its idempotency key is `reversal:{id}`).
    pub id: Uuid,
    /// Order.
    pub order_id: Uuid,
    /// Seller.
    pub seller_id: Uuid,
    /// The payout transfer being reversed.
    pub transfer_id: String,
    /// Amount taken back (or to take back).
    pub amount_cents: i64,
    /// Currency.
    pub currency: String,
    /// `pending`, `reversed` or `refused` (the debt then stays and is netted against later
    /// payouts).
    pub status: String,
    /// Stripe's reversal id, once reversed.
    #[oai(nullable)]
    pub stripe_reversal_id: Option<String>,
    /// Why Stripe refused or failed.
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

fn reversal_dto(reversal: ReversalRecord) -> ReversalDto {
    let stripe_reversal_id = match &reversal.status {
        ReversalStatus::Reversed { reversal_id } => Some(reversal_id.clone()),
        ReversalStatus::Pending | ReversalStatus::Refused => None,
    };
    ReversalDto {
        id: reversal.id.get(),
        order_id: reversal.order_id.get(),
        seller_id: reversal.seller_id.get(),
        transfer_id: reversal.transfer_id,
        amount_cents: reversal.amount.get(),
        currency: reversal.currency.to_string(),
        status: reversal.status.as_str().to_owned(),
        stripe_reversal_id,
        last_error: reversal.last_error,
        created_at: reversal.created_at,
        updated_at: reversal.updated_at,
    }
}

fn reversal_queued_dto(preview: ReversalPreview) -> ReversalQueuedDto {
    ReversalQueuedDto {
        order_id: preview.order_id.get(),
        seller_id: preview.seller_id.get(),
        amount_cents: preview.amount.get(),
        currency: preview.currency.to_string(),
        status: "queued".to_owned(),
    }
}

/// Done, nothing to say.
#[derive(ApiResponse)]
pub enum Accepted {
    /// Queued.
    #[oai(status = 202)]
    Queued,
}

pub(crate) fn site_config_dto(config: SiteConfig) -> SiteConfigDto {
    SiteConfigDto {
        fee_percent: config.fee.get().to_string(),
        currency: config.currency.to_string(),
        allowed_shipping_countries: config.allowed_shipping_countries,
        dispute_fee_to_sellers: config.dispute_fee_to_sellers,
        download_limit: config.downloads.limit,
        download_expiry_days: config.downloads.expiry_days,
    }
}

fn job_dto(job: JobRecord) -> JobDto {
    JobDto {
        id: job.id.get(),
        kind: job.kind.name().as_str().to_owned(),
        order_id: job.kind.order().get(),
        seller_id: job.kind.seller().map(|s| s.get()),
        status: job.status.as_str().to_owned(),
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        run_at: job.run_at,
        last_error: job.last_error,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

fn mail_dto(mail: MailRecord) -> MailDto {
    MailDto {
        id: mail.id.get(),
        to: mail.to,
        subject: mail.subject,
        body: mail.text_body,
        html_body: mail.html_body,
        status: mail.status.as_str().to_owned(),
        order_id: mail.order_id.map(|o| o.get()),
        created_at: mail.created_at,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl AdminApi {
    /// Override a seller's Stripe Connect status (owners).
    #[oai(path = "/admin/sellers/:user_id/connect", method = "put")]
    async fn set_connect(
        &self,
        auth: Auth,
        user_id: Path<Uuid>,
        body: JsonBody<ConnectStatusRequest>,
    ) -> ApiResult<Json<ConnectStatusDto>> {
        let b = body.0;
        let record = self
            .services
            .seller_admin
            .set_connect_status(
                auth.actor(),
                UserId::from_uuid(user_id.0),
                ConnectOverride {
                    stripe_account_id: b.stripe_account_id,
                    details_submitted: b.details_submitted,
                    charges_enabled: b.charges_enabled,
                    payouts_enabled: b.payouts_enabled,
                },
            )
            .await?;
        Ok(Json(connect_status_dto(record)))
    }

    /// The site configuration (owners).
    #[oai(path = "/admin/site-config", method = "get")]
    async fn site_config(&self, auth: Auth) -> ApiResult<Json<SiteConfigDto>> {
        let config = self.services.site_admin.site_config(auth.actor()).await?;
        Ok(Json(site_config_dto(config)))
    }

    /// Change the site configuration (owners). The fee applies to orders placed afterwards.
    #[oai(path = "/admin/site-config", method = "put")]
    async fn update_site_config(
        &self,
        auth: Auth,
        body: JsonBody<SiteConfigRequest>,
    ) -> ApiResult<Json<SiteConfigDto>> {
        let b = body.0;
        let fee: Decimal = b.fee_percent.trim().parse().map_err(|_| {
            ApiError::invalid_field("fee_percent", "must be a number of percent like \"10.5\"")
        })?;
        let config = self
            .services
            .site_admin
            .update_site_config(
                auth.actor(),
                fee,
                &b.currency,
                &b.allowed_shipping_countries,
                b.dispute_fee_to_sellers.unwrap_or(false),
                DownloadPolicy {
                    limit: b.download_limit,
                    expiry_days: b.download_expiry_days,
                },
            )
            .await?;
        Ok(Json(site_config_dto(config)))
    }

    /// Background jobs (owners), newest first; `status=dead` lists the ones that gave up.
    #[oai(path = "/admin/jobs", method = "get")]
    async fn jobs(
        &self,
        auth: Auth,
        status: Query<Option<Text<JobStatuses>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<JobDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let status = match status.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(JobStatus::parse(text).ok_or_else(|| {
                ApiError::invalid_field("status", "must be queued, running, done or dead")
            })?),
        };
        let jobs = self
            .services
            .job_admin
            .jobs(auth.actor(), status, request)
            .await?;
        Ok(Json(PageDto::from_page(jobs, job_dto)))
    }

    /// Put a dead job back in the queue (owners).
    #[oai(path = "/admin/jobs/:id/retry", method = "post")]
    async fn retry_job(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Accepted> {
        self.services
            .job_admin
            .retry_job(auth.actor(), JobId::from_uuid(id.0))
            .await?;
        Ok(Accepted::Queued)
    }

    /// Queue the unpaid payouts of a paid order again (owners).
    #[oai(path = "/admin/orders/:id/retry-payouts", method = "post")]
    async fn retry_payouts(
        &self,
        auth: Auth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<RetriedPayoutsDto>> {
        let queued = self
            .services
            .payout_admin
            .retry_payouts(auth.actor(), OrderId::from_uuid(id.0))
            .await?;
        Ok(Json(RetriedPayoutsDto {
            queued: u64::try_from(queued).unwrap_or(u64::MAX),
        }))
    }

    /// Take back now, by reversing the seller's payout transfer, their part of refunds and lost
    /// disputes that reached this order after they were paid (owners). Without it the debt is
    /// netted against the seller's later payouts. Runs as a job; a reversal Stripe refuses
    /// (seller balance too low) is shown as `refused` and leaves the debt to netting.
    #[oai(path = "/admin/orders/:id/reversals", method = "post")]
    async fn reverse_payout(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ReversalRequest>,
    ) -> ApiResult<ReversalQueued> {
        let preview = self
            .services
            .payout_admin
            .reverse_payout(
                auth.actor(),
                OrderId::from_uuid(id.0),
                UserId::from_uuid(body.0.seller_id),
            )
            .await?;
        Ok(ReversalQueued::Queued(Json(reversal_queued_dto(preview))))
    }

    /// The transfer reversals of an order, oldest first (owners).
    #[oai(path = "/admin/orders/:id/reversals", method = "get")]
    async fn reversals(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Json<Vec<ReversalDto>>> {
        let reversals = self
            .services
            .payout_admin
            .order_reversals(auth.actor(), OrderId::from_uuid(id.0))
            .await?;
        Ok(Json(reversals.into_iter().map(reversal_dto).collect()))
    }

    /// The mail outbox (owners), newest first.
    #[oai(path = "/admin/outbox", method = "get")]
    async fn outbox(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<MailDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let mails = self
            .services
            .site_admin
            .outbox(auth.actor(), request)
            .await?;
        Ok(Json(PageDto::from_page(mails, mail_dto)))
    }
}
