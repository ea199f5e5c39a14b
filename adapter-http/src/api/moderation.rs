//! Reports and moderation: anyone signed in reports content; staff and owners work the queue and
//! suspend or reinstate users.

use marketplace_domain::ids::{ReportId, UserId};
use marketplace_domain::moderation::ReportStatus;
use marketplace_ports::ports::{ReportFilter, ReportRecord};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::moderation::ResolveReport;
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
use crate::params::{PageNumber, PerPage, ReportStatuses, Text};

/// Reports and moderation.
pub struct ModerationApi {
    /// Use cases.
    pub services: Services,
}

/// A report.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// `review`, `seller_review`, `reply` or `message`.
    #[oai(validator(pattern = r"^(review|seller_review|reply|message)$"))]
    pub target_type: String,
    /// Its id.
    pub target_id: Uuid,
    /// `spam`, `harassment`, `hate`, `violence`, `sexual`, `illegal` or `other`.
    #[oai(validator(pattern = r"^(spam|harassment|hate|violence|sexual|illegal|other)$"))]
    pub reason: String,
    /// What is wrong (at most 2000 characters).
    #[oai(nullable, validator(max_length = 2000))]
    pub details: Option<String>,
}

/// Staff's decision on a report.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `dismiss`, `remove` (take the content down) or `suspend` (remove it and suspend its
    /// author).
    #[oai(validator(pattern = r"^(dismiss|remove|suspend)$"))]
    pub action: String,
    /// Why (required; it goes to the audit log).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 2000
    ))]
    pub note: String,
}

/// A staff note.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Why (required; it goes to the audit log).
    #[oai(validator(
        pattern = r"^[^\u0000]*[^\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000][^\u0000]*$",
        max_length = 2000
    ))]
    pub note: String,
}

/// A report as staff see it.
#[derive(Debug, Object)]
pub struct ReportDto {
    /// Id.
    pub id: Uuid,
    /// `review`, `seller_review`, `reply` or `message`.
    pub target_type: String,
    /// The content's id.
    pub target_id: Uuid,
    /// Who reported it.
    pub reporter_id: Uuid,
    /// Why.
    pub reason: String,
    /// Their details.
    pub details: String,
    /// `open` or `resolved`.
    pub status: String,
    /// `dismissed`, `removed` or `suspended`, once resolved.
    #[oai(nullable)]
    pub resolution: Option<String>,
    /// Who resolved it.
    #[oai(nullable)]
    pub resolved_by: Option<Uuid>,
    /// Staff's note.
    pub resolution_note: String,
    /// Made.
    pub created_at: OffsetDateTime,
    /// Resolved.
    #[oai(nullable)]
    pub resolved_at: Option<OffsetDateTime>,
}

/// A user's suspension.
#[derive(Debug, Object)]
pub struct SuspensionDto {
    /// The user.
    pub user_id: Uuid,
    /// Suspended now.
    pub suspended: bool,
}

/// A new report.
#[derive(ApiResponse)]
pub enum CreatedReport {
    /// Sent to staff.
    #[oai(status = 201)]
    Created(Json<ReportDto>),
}

fn report_dto(report: ReportRecord) -> ReportDto {
    let (status, resolution) = match report.status {
        ReportStatus::Open => ("open", None),
        ReportStatus::Resolved(r) => ("resolved", Some(r.as_str().to_owned())),
    };
    ReportDto {
        id: report.id.get(),
        target_type: report.target.as_str().to_owned(),
        target_id: report.target_id,
        reporter_id: report.reporter_id.get(),
        reason: report.reason.as_str().to_owned(),
        details: report.details,
        status: status.to_owned(),
        resolution,
        resolved_by: report.resolved_by.map(|u| u.get()),
        resolution_note: report.resolution_note,
        created_at: report.created_at,
        resolved_at: report.resolved_at,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl ModerationApi {
    /// Report a review, seller review, reply or Q&A message to staff (409 `already_reported`
    /// while your report of it is open). Nothing is hidden until staff decide.
    #[oai(path = "/reports", method = "post", tag = "ApiTags::Accounts")]
    async fn report(&self, auth: Auth, body: JsonBody<ReportBody>) -> ApiResult<CreatedReport> {
        let b = body.0;
        let report = self
            .services
            .moderation
            .report(
                auth.actor(),
                &b.target_type,
                b.target_id,
                &b.reason,
                b.details.as_deref().unwrap_or_default(),
            )
            .await?;
        Ok(CreatedReport::Created(Json(report_dto(report))))
    }

    /// The report queue (staff and owners): `status=open` oldest first, `resolved` or all newest
    /// first.
    #[oai(path = "/admin/reports", method = "get")]
    async fn reports(
        &self,
        auth: Auth,
        status: Query<Option<Text<ReportStatuses>>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ReportDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let filter = match status.0.as_deref().map(str::trim) {
            None | Some("") => ReportFilter::All,
            Some("open") => ReportFilter::Open,
            Some("resolved") => ReportFilter::Resolved,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "status",
                    "must be open or resolved",
                ));
            }
        };
        let found = self
            .services
            .moderation
            .reports(auth.actor(), filter, request)
            .await?;
        Ok(Json(PageDto::from_page(found, report_dto)))
    }

    /// Resolve a report: `dismiss`, `remove` the content, or `suspend` its author too (staff and
    /// owners; audited).
    #[oai(path = "/admin/reports/:id/resolve", method = "post")]
    async fn resolve(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<ResolveBody>,
    ) -> ApiResult<Json<ReportDto>> {
        let b = body.0;
        let report = self
            .services
            .moderation
            .resolve(
                auth.actor(),
                ReportId::from_uuid(id.0),
                &ResolveReport {
                    action: b.action,
                    note: b.note,
                },
            )
            .await?;
        Ok(Json(report_dto(report)))
    }

    /// Suspend a user: they can no longer log in or post, and their sessions end (audited).
    #[oai(path = "/admin/users/:id/suspend", method = "post")]
    async fn suspend(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<NoteBody>,
    ) -> ApiResult<Json<SuspensionDto>> {
        self.set(auth, id, body, true).await
    }

    /// Lift a user's suspension (audited).
    #[oai(path = "/admin/users/:id/reinstate", method = "post")]
    async fn reinstate(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<NoteBody>,
    ) -> ApiResult<Json<SuspensionDto>> {
        self.set(auth, id, body, false).await
    }
}

impl ModerationApi {
    async fn set(
        &self,
        auth: Auth,
        id: Path<Uuid>,
        body: JsonBody<NoteBody>,
        suspended: bool,
    ) -> ApiResult<Json<SuspensionDto>> {
        self.services
            .moderation
            .set_suspended(
                auth.actor(),
                UserId::from_uuid(id.0),
                suspended,
                &body.0.note,
            )
            .await?;
        Ok(Json(SuspensionDto {
            user_id: id.0,
            suspended,
        }))
    }
}
