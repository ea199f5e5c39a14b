//! The job queue, in memory.

use std::cmp::Reverse;

use async_trait::async_trait;
use marketplace_domain::ids::JobId;
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

use super::listings::page_of;
use super::{MemoryStore, State, StoredJob, Working};
use crate::ports::{JobKind, JobName, JobQueries, JobQueue, JobRecord, JobStatus, StoreError};

pub(crate) struct MemJobQueue(pub(crate) Working);

/// True when another job with `key` is queued.
fn queued_elsewhere(s: &State, key: &str, id: JobId) -> bool {
    s.jobs
        .iter()
        .any(|j| j.dedupe_key == key && j.record.status == JobStatus::Queued && j.record.id != id)
}

fn job_mut(s: &mut State, id: JobId) -> Option<&mut StoredJob> {
    s.jobs.iter_mut().find(|j| j.record.id == id)
}

/// The job, while the claim that counted `attempt` still holds it.
fn held(s: &mut State, id: JobId, attempt: i32) -> Option<&mut StoredJob> {
    job_mut(s, id).filter(|j| j.record.status == JobStatus::Running && j.record.attempts == attempt)
}

#[async_trait]
impl JobQueue for MemJobQueue {
    async fn enqueue(
        &mut self,
        kind: &JobKind,
        run_at: OffsetDateTime,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("jobs.enqueue")?;
        let key = kind.dedupe_key();
        if s.jobs
            .iter()
            .any(|j| j.dedupe_key == key && j.record.status == JobStatus::Queued)
        {
            return Ok(());
        }
        s.jobs.push(StoredJob {
            record: JobRecord {
                id: JobId::from_uuid(Uuid::now_v7()),
                kind: kind.clone(),
                status: JobStatus::Queued,
                attempts: 0,
                max_attempts,
                run_at,
                last_error: None,
                created_at: now,
                updated_at: now,
            },
            dedupe_key: key,
            locked_until: None,
        });
        Ok(())
    }

    async fn claim(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>, StoreError> {
        let mut s = self.0.state("jobs.claim")?;
        let due = s
            .jobs
            .iter_mut()
            .filter(|j| match j.record.status {
                JobStatus::Queued => j.record.run_at <= now,
                JobStatus::Running => j.locked_until.is_some_and(|until| until < now),
                JobStatus::Done | JobStatus::Dead => false,
            })
            .min_by_key(|j| (j.record.run_at, j.record.id));
        Ok(due.map(|job| {
            job.record.status = JobStatus::Running;
            job.record.attempts = job.record.attempts.saturating_add(1);
            job.record.updated_at = now;
            job.locked_until = Some(lease_until);
            job.record.clone()
        }))
    }

    async fn complete(
        &mut self,
        id: JobId,
        attempt: i32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("jobs.complete")?;
        let Some(job) = held(&mut s, id, attempt) else {
            return Ok(false);
        };
        job.record.status = JobStatus::Done;
        job.record.updated_at = now;
        job.locked_until = None;
        Ok(true)
    }

    async fn retry(
        &mut self,
        id: JobId,
        attempt: i32,
        run_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("jobs.retry")?;
        let Some(key) = held(&mut s, id, attempt).map(|j| j.dedupe_key.clone()) else {
            return Ok(false);
        };
        let superseded = queued_elsewhere(&s, &key, id);
        let Some(job) = held(&mut s, id, attempt) else {
            return Ok(false);
        };
        job.record.status = if superseded {
            JobStatus::Done
        } else {
            JobStatus::Queued
        };
        job.record.run_at = run_at;
        job.record.last_error = Some(error.to_owned());
        job.record.updated_at = now;
        job.locked_until = None;
        Ok(true)
    }

    async fn bury(
        &mut self,
        id: JobId,
        attempt: i32,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut s = self.0.state("jobs.bury")?;
        let Some(job) = held(&mut s, id, attempt) else {
            return Ok(false);
        };
        job.record.status = JobStatus::Dead;
        job.record.last_error = Some(error.to_owned());
        job.record.updated_at = now;
        job.locked_until = None;
        Ok(true)
    }

    async fn revive(&mut self, id: JobId, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut s = self.0.state("jobs.revive")?;
        let Some(key) = s
            .jobs
            .iter()
            .find(|j| j.record.id == id && j.record.status == JobStatus::Dead)
            .map(|j| j.dedupe_key.clone())
        else {
            return Ok(false);
        };
        let superseded = queued_elsewhere(&s, &key, id);
        if let Some(job) = job_mut(&mut s, id) {
            job.record.status = if superseded {
                JobStatus::Done
            } else {
                JobStatus::Queued
            };
            job.record.attempts = 0;
            job.record.run_at = now;
            job.record.updated_at = now;
        }
        Ok(true)
    }

    async fn revive_all(
        &mut self,
        kinds: &[JobName],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut s = self.0.state("jobs.revive_all")?;
        let dead_of_kind = |j: &StoredJob| {
            j.record.status == JobStatus::Dead && kinds.contains(&j.record.kind.name())
        };
        // The newest dead job of each key not queued already goes back in the queue.
        let mut chosen: Vec<(String, JobId, OffsetDateTime)> = Vec::new();
        for job in s.jobs.iter().filter(|j| dead_of_kind(j)) {
            if queued_elsewhere(&s, &job.dedupe_key, job.record.id) {
                continue;
            }
            match chosen.iter_mut().find(|(key, _, _)| *key == job.dedupe_key) {
                Some(best) if (job.record.updated_at, job.record.id) > (best.2, best.1) => {
                    *best = (job.dedupe_key.clone(), job.record.id, job.record.updated_at);
                }
                Some(_) => {}
                None => chosen.push((job.dedupe_key.clone(), job.record.id, job.record.updated_at)),
            }
        }
        for (_, id, _) in &chosen {
            if let Some(job) = job_mut(&mut s, *id) {
                job.record.status = JobStatus::Queued;
                job.record.attempts = 0;
                job.record.run_at = now;
                job.record.updated_at = now;
            }
        }
        // Older dead copies of those keys are superseded.
        let queued: Vec<String> = s
            .jobs
            .iter()
            .filter(|j| j.record.status == JobStatus::Queued)
            .map(|j| j.dedupe_key.clone())
            .collect();
        for job in s.jobs.iter_mut() {
            if dead_of_kind(job) && queued.contains(&job.dedupe_key) {
                job.record.status = JobStatus::Done;
                job.record.updated_at = now;
            }
        }
        Ok(u64::try_from(chosen.len()).unwrap_or(u64::MAX))
    }
}

#[async_trait]
impl JobQueries for MemoryStore {
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, StoreError> {
        let s = self.read("jobs.list_jobs")?;
        let mut jobs: Vec<JobRecord> = s
            .jobs
            .iter()
            .filter(|j| status.is_none_or(|st| j.record.status == st))
            .map(|j| j.record.clone())
            .collect();
        jobs.sort_by_key(|j| Reverse((j.updated_at, j.id)));
        Ok(page_of(jobs, page))
    }
}
