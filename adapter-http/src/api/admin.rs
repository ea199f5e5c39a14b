//! Owner tools.

use marketplace_domain::ids::UserId;
use marketplace_ports::ports::ConnectAccountRecord;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::admin::ConnectOverride;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use serde::Deserialize;

use super::ApiTags;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::JsonBody;

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
    pub onboarding_started_at: Option<OffsetDateTime>,
    /// When it first became ready.
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
            .admin
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
}
