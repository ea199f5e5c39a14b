//! Reports to staff, their resolutions, and suspensions (docs/moderation.md).

use async_trait::async_trait;
use marketplace_domain::ids::{ReportId, UserId};
use marketplace_domain::moderation::{ReportReason, ReportStatus, ReportTarget};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

use super::uow::{Queries, StoreError, Tx};

/// A report as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRecord {
    /// Id.
    pub id: ReportId,
    /// What kind of content.
    pub target: ReportTarget,
    /// Its id (a review, reply or message id).
    pub target_id: Uuid,
    /// Who reported it.
    pub reporter_id: UserId,
    /// Why.
    pub reason: ReportReason,
    /// Their details.
    pub details: String,
    /// Open, or how staff resolved it.
    pub status: ReportStatus,
    /// Who resolved it.
    pub resolved_by: Option<UserId>,
    /// Staff's note.
    pub resolution_note: String,
    /// Made.
    pub created_at: OffsetDateTime,
    /// Resolved.
    pub resolved_at: Option<OffsetDateTime>,
}

/// Which reports to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFilter {
    /// Every report.
    All,
    /// Waiting for staff.
    Open,
    /// Decided.
    Resolved,
}

/// Reports and suspensions, inside a transaction.
#[async_trait]
pub trait ModerationStore: Send {
    /// Records a report.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `reports_one_open_per_reporter` when the reporter has an open
    /// report of the same content.
    async fn insert_report(&mut self, report: &ReportRecord) -> Result<(), StoreError>;
    /// A report, locked.
    async fn report_for_update(&mut self, id: ReportId)
    -> Result<Option<ReportRecord>, StoreError>;
    /// The open reports of one piece of content, locked.
    async fn open_reports_on(
        &mut self,
        target: ReportTarget,
        target_id: Uuid,
    ) -> Result<Vec<ReportRecord>, StoreError>;
    /// Writes a report's resolution.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_report(&mut self, report: &ReportRecord) -> Result<(), StoreError>;
    /// Suspends a user (and ends every session of theirs) or lifts their suspension. Returns
    /// whether the user exists.
    async fn set_suspended(&mut self, user: UserId, suspended: bool) -> Result<bool, StoreError>;
}

/// Report reads.
#[async_trait]
pub trait ModerationQueries: Send + Sync {
    /// One report.
    async fn report(&self, id: ReportId) -> Result<Option<ReportRecord>, StoreError>;
    /// Reports, oldest open first (a queue), or newest first for resolved and all.
    async fn reports(
        &self,
        filter: ReportFilter,
        page: PageRequest,
    ) -> Result<Page<ReportRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The moderation of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn moderation(&mut self) -> Result<&mut (dyn ModerationStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Report reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn moderation(&self) -> Result<&dyn ModerationQueries, StoreError> {
        self.get()
    }
}
