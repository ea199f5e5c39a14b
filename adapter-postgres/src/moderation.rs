//! Reports and suspensions.

use async_trait::async_trait;
use marketplace_domain::ids::{ReportId, UserId};
use marketplace_domain::moderation::{ReportReason, ReportStatus, ReportTarget, Resolution};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    ModerationQueries, ModerationStore, ReportFilter, ReportRecord, StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct ReportRow {
    id: Uuid,
    target_type: String,
    target_id: Uuid,
    reporter_id: Uuid,
    reason: String,
    details: String,
    status: String,
    resolution: Option<String>,
    resolved_by: Option<Uuid>,
    resolution_note: String,
    created_at: OffsetDateTime,
    resolved_at: Option<OffsetDateTime>,
}

impl TryFrom<ReportRow> for ReportRecord {
    type Error = StoreError;

    fn try_from(row: ReportRow) -> Result<Self, Self::Error> {
        let status = match (row.status.as_str(), row.resolution.as_deref()) {
            ("open", None) => ReportStatus::Open,
            ("resolved", Some(resolution)) => ReportStatus::Resolved(
                Resolution::parse(resolution).ok_or_else(|| corrupt("report", resolution))?,
            ),
            _ => return Err(corrupt("report", &row.status)),
        };
        Ok(ReportRecord {
            id: ReportId::from_uuid(row.id),
            target: ReportTarget::parse(&row.target_type)
                .ok_or_else(|| corrupt("report", &row.target_type))?,
            target_id: row.target_id,
            reporter_id: UserId::from_uuid(row.reporter_id),
            reason: ReportReason::parse(&row.reason)
                .ok_or_else(|| corrupt("report", &row.reason))?,
            details: row.details,
            status,
            resolved_by: row.resolved_by.map(UserId::from_uuid),
            resolution_note: row.resolution_note,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
        })
    }
}

fn status_parts(status: ReportStatus) -> (&'static str, Option<&'static str>) {
    match status {
        ReportStatus::Open => ("open", None),
        ReportStatus::Resolved(resolution) => ("resolved", Some(resolution.as_str())),
    }
}

/// Moderation of one transaction.
pub(crate) struct PgModeration(pub(crate) TxConn);

#[async_trait]
impl ModerationStore for PgModeration {
    async fn insert_report(&mut self, report: &ReportRecord) -> Result<(), StoreError> {
        let (status, resolution) = status_parts(report.status);
        sqlx::query!(
            "insert into reports (id, target_type, target_id, reporter_id, reason, details,
                status, resolution, resolved_by, resolution_note, created_at, resolved_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            report.id.get(),
            report.target.as_str(),
            report.target_id,
            report.reporter_id.get(),
            report.reason.as_str(),
            report.details,
            status,
            resolution,
            report.resolved_by.map(UserId::get),
            report.resolution_note,
            report.created_at,
            report.resolved_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn report_for_update(
        &mut self,
        id: ReportId,
    ) -> Result<Option<ReportRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReportRow,
            "select id, target_type, target_id, reporter_id, reason, details, status, resolution,
                    resolved_by, resolution_note, created_at, resolved_at
             from reports where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(ReportRecord::try_from).transpose()
    }

    async fn open_reports_on(
        &mut self,
        target: ReportTarget,
        target_id: Uuid,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        let rows = sqlx::query_as!(
            ReportRow,
            "select id, target_type, target_id, reporter_id, reason, details, status, resolution,
                    resolved_by, resolution_note, created_at, resolved_at
             from reports where target_type = $1 and target_id = $2 and status = 'open'
             order by created_at, id for update",
            target.as_str(),
            target_id,
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(ReportRecord::try_from).collect()
    }

    async fn update_report(&mut self, report: &ReportRecord) -> Result<(), StoreError> {
        let (status, resolution) = status_parts(report.status);
        let result = sqlx::query!(
            "update reports set status = $2, resolution = $3, resolved_by = $4,
                resolution_note = $5, resolved_at = $6
             where id = $1",
            report.id.get(),
            status,
            resolution,
            report.resolved_by.map(UserId::get),
            report.resolution_note,
            report.resolved_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn set_suspended(&mut self, user: UserId, suspended: bool) -> Result<bool, StoreError> {
        let mut conn = self.0.lock().await;
        let result = sqlx::query!(
            "update users set is_active = $2 where id = $1",
            user.get(),
            !suspended,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        if suspended {
            sqlx::query!("delete from sessions where user_id = $1", user.get())
                .execute(&mut **conn)
                .await
                .map_err(store_error)?;
        }
        Ok(result.rows_affected() > 0)
    }
}

#[async_trait]
impl ModerationQueries for PgStore {
    async fn report(&self, id: ReportId) -> Result<Option<ReportRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReportRow,
            "select id, target_type, target_id, reporter_id, reason, details, status, resolution,
                    resolved_by, resolution_note, created_at, resolved_at
             from reports where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(ReportRecord::try_from).transpose()
    }

    async fn reports(
        &self,
        filter: ReportFilter,
        page: PageRequest,
    ) -> Result<Page<ReportRecord>, StoreError> {
        let status = match filter {
            ReportFilter::All => None,
            ReportFilter::Open => Some("open"),
            ReportFilter::Resolved => Some("resolved"),
        };
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from reports where ($1::text is null or status = $1)"#,
            status,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        // The open queue is worked oldest first; history is read newest first.
        let oldest_first = filter == ReportFilter::Open;
        let rows = sqlx::query_as!(
            ReportRow,
            "select id, target_type, target_id, reporter_id, reason, details, status, resolution,
                    resolved_by, resolution_note, created_at, resolved_at
             from reports where ($1::text is null or status = $1)
             order by case when $2 then created_at end asc,
                      case when $2 then id end asc,
                      case when not $2 then created_at end desc,
                      case when not $2 then id end desc
             limit $3 offset $4",
            status,
            oldest_first,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        paging::converted_page(rows, page, total)
    }
}
