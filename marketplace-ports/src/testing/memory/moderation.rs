//! Reports and suspensions, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{ReportId, UserId};
use marketplace_domain::moderation::{ReportStatus, ReportTarget};
use marketplace_domain::pagination::{Page, PageRequest};
use uuid::Uuid;

use super::listings::page_of;
use super::{MemoryStore, Working, conflict};
use crate::ports::{ModerationQueries, ModerationStore, ReportFilter, ReportRecord, StoreError};

pub(crate) struct MemModeration(pub(crate) Working);

#[async_trait]
impl ModerationStore for MemModeration {
    async fn insert_report(&mut self, report: &ReportRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("moderation.insert_report")?;
        let open_twice = s.reports.iter().any(|r| {
            r.status == ReportStatus::Open
                && report.status == ReportStatus::Open
                && r.target == report.target
                && r.target_id == report.target_id
                && r.reporter_id == report.reporter_id
        });
        if open_twice {
            return Err(conflict("reports_one_open_per_reporter"));
        }
        s.reports.push(report.clone());
        Ok(())
    }

    async fn report_for_update(
        &mut self,
        id: ReportId,
    ) -> Result<Option<ReportRecord>, StoreError> {
        let s = self.0.state("moderation.report_for_update")?;
        Ok(s.reports.iter().find(|r| r.id == id).cloned())
    }

    async fn open_reports_on(
        &mut self,
        target: ReportTarget,
        target_id: Uuid,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        let s = self.0.state("moderation.open_reports_on")?;
        Ok(s.reports
            .iter()
            .filter(|r| {
                r.status == ReportStatus::Open && r.target == target && r.target_id == target_id
            })
            .cloned()
            .collect())
    }

    async fn update_report(&mut self, report: &ReportRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("moderation.update_report")?;
        let stored = s
            .reports
            .iter_mut()
            .find(|r| r.id == report.id)
            .ok_or(StoreError::NotFound)?;
        *stored = report.clone();
        Ok(())
    }

    async fn set_suspended(&mut self, user: UserId, suspended: bool) -> Result<bool, StoreError> {
        let mut s = self.0.state("moderation.set_suspended")?;
        let Some(record) = s.users.get_mut(&user) else {
            return Ok(false);
        };
        record.is_active = !suspended;
        if suspended {
            s.sessions.retain(|session| session.user_id != user);
        }
        Ok(true)
    }
}

#[async_trait]
impl ModerationQueries for MemoryStore {
    async fn report(&self, id: ReportId) -> Result<Option<ReportRecord>, StoreError> {
        let s = self.read("moderation.report")?;
        Ok(s.reports.iter().find(|r| r.id == id).cloned())
    }

    async fn reports(
        &self,
        filter: ReportFilter,
        page: PageRequest,
    ) -> Result<Page<ReportRecord>, StoreError> {
        let s = self.read("moderation.reports")?;
        let mut found: Vec<ReportRecord> = s
            .reports
            .iter()
            .filter(|r| match filter {
                ReportFilter::All => true,
                ReportFilter::Open => r.status == ReportStatus::Open,
                ReportFilter::Resolved => r.status != ReportStatus::Open,
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        if filter != ReportFilter::Open {
            found.reverse();
        }
        Ok(page_of(found, page))
    }
}
