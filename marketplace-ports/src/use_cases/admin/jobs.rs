//! Owners looking at the job queue (dead jobs wait for them) and putting a dead job back.

use marketplace_domain::ids::JobId;
use marketplace_domain::pagination::{Page, PageRequest};

use super::is_owner;
use crate::ports::{JobRecord, JobStatus, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a job tool failed.
#[derive(Debug, thiserror::Error)]
pub enum JobAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No dead job has this id.
    #[error("no dead job has this id")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for JobAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            JobAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            JobAdminError::NotFound => ErrorKind::NotFound,
            JobAdminError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Owners: the job queue.
    JobAdmin
);

impl JobAdmin {
    /// Jobs in a state, newest first.
    ///
    /// # Errors
    /// [`JobAdminError::Forbidden`].
    pub async fn jobs(
        &self,
        actor: &Actor,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, JobAdminError> {
        if !is_owner(actor) {
            return Err(JobAdminError::Forbidden);
        }
        Ok(self.deps.queries.jobs()?.list_jobs(status, page).await?)
    }

    /// Puts a dead job back in the queue with a fresh attempt budget.
    ///
    /// # Errors
    /// [`JobAdminError::NotFound`] when no dead job has this id.
    pub async fn retry_job(&self, actor: &Actor, id: JobId) -> Result<(), JobAdminError> {
        if !is_owner(actor) {
            return Err(JobAdminError::Forbidden);
        }
        let mut tx = self.deps.uow.begin().await?;
        if !tx.jobs()?.revive(id, self.deps.clock.now()).await? {
            return Err(JobAdminError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
