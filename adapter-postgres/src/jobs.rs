//! The job queue: rows claimed with `FOR UPDATE SKIP LOCKED`, so any number of workers on any
//! number of instances share it without running a job twice at once.

use async_trait::async_trait;
use marketplace_domain::ids::{JobId, OrderId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{
    JobKind, JobName, JobQueries, JobQueue, JobRecord, JobStatus, StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct JobRow {
    id: Uuid,
    kind: String,
    order_id: Option<Uuid>,
    seller_id: Option<Uuid>,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at: OffsetDateTime,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, Self::Error> {
        let name = JobName::parse(&row.kind).ok_or_else(|| corrupt("job", &row.kind))?;
        let order = row
            .order_id
            .map(OrderId::from_uuid)
            .ok_or_else(|| corrupt("job", "missing order"))?;
        let kind = JobKind::from_parts(name, order, row.seller_id.map(UserId::from_uuid))
            .ok_or_else(|| corrupt("job", "missing seller"))?;
        Ok(JobRecord {
            id: JobId::from_uuid(row.id),
            kind,
            status: JobStatus::parse(&row.status).ok_or_else(|| corrupt("job", &row.status))?,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The job queue of one transaction.
pub(crate) struct PgJobQueue(pub(crate) TxConn);

#[async_trait]
impl JobQueue for PgJobQueue {
    async fn enqueue(
        &mut self,
        kind: &JobKind,
        run_at: OffsetDateTime,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into jobs (id, kind, order_id, seller_id, dedupe_key, status, attempts, max_attempts,
                run_at, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8)
             on conflict (dedupe_key) where status = 'queued' do nothing",
            Uuid::now_v7(),
            kind.name().as_str(),
            kind.order().get(),
            kind.seller().map(UserId::get),
            kind.dedupe_key(),
            max_attempts,
            run_at,
            now,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn claim(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query_as!(
            JobRow,
            "update jobs set status = 'running', attempts = attempts + 1, locked_until = $2,
                updated_at = $1
             -- A job whose worker vanished (its lease ran out) first, then the queue in order:
             -- each subquery walks its own index and stops at its first row, so a claim costs
             -- the same however long the queue is.
             where id = coalesce(
                 (select id from jobs
                  where status = 'running' and locked_until < $1
                  order by locked_until, id limit 1 for update skip locked),
                 (select id from jobs
                  where status = 'queued' and run_at <= $1
                  order by run_at, id limit 1 for update skip locked))
             returning id, kind, order_id, seller_id, status, attempts, max_attempts, run_at,
                       last_error, created_at, updated_at",
            now,
            lease_until
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(JobRecord::try_from).transpose()
    }

    async fn complete(
        &mut self,
        id: JobId,
        attempt: i32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query!(
            "update jobs set status = 'done', locked_until = null, updated_at = $3
             where id = $1 and status = 'running' and attempts = $2",
            id.get(),
            attempt,
            now
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Back to the queue; if an identical job was queued meanwhile, that one does the work and
    /// this one is done.
    async fn retry(
        &mut self,
        id: JobId,
        attempt: i32,
        run_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let retried = sqlx::query!(
            "update jobs j set
                status = case when exists (
                    select 1 from jobs q where q.dedupe_key = j.dedupe_key and q.status = 'queued'
                                           and q.id <> j.id
                ) then 'done' else 'queued' end,
                run_at = $2, last_error = $3, locked_until = null, updated_at = $4
             where j.id = $1 and j.status = 'running' and j.attempts = $5",
            id.get(),
            run_at,
            error,
            now,
            attempt
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(retried.rows_affected() == 1)
    }

    async fn bury(
        &mut self,
        id: JobId,
        attempt: i32,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let buried = sqlx::query!(
            "update jobs set status = 'dead', last_error = $2, locked_until = null, updated_at = $3
             where id = $1 and status = 'running' and attempts = $4",
            id.get(),
            error,
            now,
            attempt
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(buried.rows_affected() == 1)
    }

    async fn revive(&mut self, id: JobId, now: OffsetDateTime) -> Result<bool, StoreError> {
        let result = sqlx::query!(
            "update jobs j set
                status = case when exists (
                    select 1 from jobs q where q.dedupe_key = j.dedupe_key and q.status = 'queued'
                                           and q.id <> j.id
                ) then 'done' else 'queued' end,
                attempts = 0, run_at = $2, updated_at = $2
             where j.id = $1 and j.status = 'dead'",
            id.get(),
            now
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(result.rows_affected() > 0)
    }

    async fn revive_all(
        &mut self,
        kinds: &[JobName],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
        let mut tx = self.0.lock().await;
        // The newest dead job of each key not queued already goes back in the queue.
        let revived = sqlx::query!(
            "with chosen as (
                 select distinct on (d.dedupe_key) d.id from jobs d
                 where d.status = 'dead' and d.kind = any($1)
                   and not exists (select 1 from jobs q where q.dedupe_key = d.dedupe_key
                                                          and q.status = 'queued')
                 order by d.dedupe_key, d.updated_at desc, d.id desc
             )
             update jobs set status = 'queued', attempts = 0, run_at = $2, updated_at = $2
             where id in (select id from chosen)",
            &kinds,
            now
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        // Older dead copies of those keys are superseded.
        sqlx::query!(
            "update jobs d set status = 'done', updated_at = $2
             where d.status = 'dead' and d.kind = any($1)
               and exists (select 1 from jobs q where q.dedupe_key = d.dedupe_key and q.status = 'queued')",
            &kinds,
            now
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(revived.rows_affected())
    }
}

#[async_trait]
impl JobQueries for PgStore {
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, StoreError> {
        let status = status.map(JobStatus::as_str);
        let total = sqlx::query_scalar!(
            r#"select count(*) as "count!" from jobs where $1::text is null or status = $1"#,
            status
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            JobRow,
            "select id, kind, order_id, seller_id, status, attempts, max_attempts, run_at, last_error,
                    created_at, updated_at
             from jobs where $1::text is null or status = $1
             order by updated_at desc, id desc limit $2 offset $3",
            status,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let jobs = rows
            .into_iter()
            .map(JobRecord::try_from)
            .collect::<Result<_, _>>()?;
        Ok(paging::page_of(jobs, page, total))
    }
}
