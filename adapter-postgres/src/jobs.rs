//! The job queue: rows claimed with `FOR UPDATE SKIP LOCKED`, so any number of workers on any
//! number of instances share it without running a job twice at once.

use marketplace_domain::ids::{JobId, OrderId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::{JobKind, JobRecord, JobStatus, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};
use crate::paging;

const COLUMNS: &str = "id, kind, order_id, seller_id, status, attempts, max_attempts, run_at, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
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
        let order = row
            .order_id
            .map(OrderId::from_uuid)
            .ok_or_else(|| corrupt("job", "missing order"));
        let seller = row
            .seller_id
            .map(UserId::from_uuid)
            .ok_or_else(|| corrupt("job", "missing seller"));
        let kind = match row.kind.as_str() {
            JobKind::PAYOUT => JobKind::Payout {
                order: order?,
                seller: seller?,
            },
            JobKind::REVERSAL => JobKind::Reversal {
                order: order?,
                seller: seller?,
            },
            "order_mail" => JobKind::OrderMail { order: order? },
            "refund_sync" => JobKind::RefundSync { order: order? },
            other => return Err(corrupt("job", other)),
        };
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

fn refs(kind: &JobKind) -> (Option<Uuid>, Option<Uuid>) {
    match kind {
        JobKind::Payout { order, seller } | JobKind::Reversal { order, seller } => {
            (Some(order.get()), Some(seller.get()))
        }
        JobKind::OrderMail { order } | JobKind::RefundSync { order } => (Some(order.get()), None),
    }
}

pub(crate) async fn enqueue(
    conn: &mut PgConnection,
    kind: &JobKind,
    run_at: OffsetDateTime,
    max_attempts: i32,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (order, seller) = refs(kind);
    sqlx::query(
        "insert into jobs (id, kind, order_id, seller_id, dedupe_key, status, attempts, max_attempts, run_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8)
         on conflict (dedupe_key) where status = 'queued' do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(kind.name())
    .bind(order)
    .bind(seller)
    .bind(kind.dedupe_key())
    .bind(max_attempts)
    .bind(run_at)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn claim(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> Result<Option<JobRecord>, StoreError> {
    let sql = format!(
        "update jobs set status = 'running', attempts = attempts + 1, locked_until = $2, updated_at = $1
         where id = (
             select id from jobs
             where (status = 'queued' and run_at <= $1) or (status = 'running' and locked_until < $1)
             order by run_at, id
             for update skip locked
             limit 1)
         returning {COLUMNS}"
    );
    let row: Option<JobRow> = sqlx::query_as(&sql)
        .bind(now)
        .bind(lease_until)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(JobRecord::try_from).transpose()
}

pub(crate) async fn complete(
    conn: &mut PgConnection,
    id: JobId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "update jobs set status = 'done', locked_until = null, updated_at = $2 where id = $1",
    )
    .bind(id.get())
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Back to the queue; if an identical job was queued meanwhile, that one does the work and this
/// one is done.
pub(crate) async fn retry(
    conn: &mut PgConnection,
    id: JobId,
    run_at: OffsetDateTime,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "update jobs j set
            status = case when exists (
                select 1 from jobs q where q.dedupe_key = j.dedupe_key and q.status = 'queued' and q.id <> j.id
            ) then 'done' else 'queued' end,
            run_at = $2, last_error = $3, locked_until = null, updated_at = $4
         where j.id = $1",
    )
    .bind(id.get())
    .bind(run_at)
    .bind(error)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn bury(
    conn: &mut PgConnection,
    id: JobId,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("update jobs set status = 'dead', last_error = $2, locked_until = null, updated_at = $3 where id = $1")
        .bind(id.get())
        .bind(error)
        .bind(now)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn revive(
    conn: &mut PgConnection,
    id: JobId,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "update jobs j set
            status = case when exists (
                select 1 from jobs q where q.dedupe_key = j.dedupe_key and q.status = 'queued' and q.id <> j.id
            ) then 'done' else 'queued' end,
            attempts = 0, run_at = $2, updated_at = $2
         where j.id = $1 and j.status = 'dead'",
    )
    .bind(id.get())
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(result.rows_affected() > 0)
}

pub(crate) async fn revive_all(
    conn: &mut PgConnection,
    kinds: &[&str],
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    // The newest dead job of each key not queued already goes back in the queue.
    let revived = sqlx::query(
        "with chosen as (
             select distinct on (d.dedupe_key) d.id from jobs d
             where d.status = 'dead' and d.kind = any($1)
               and not exists (select 1 from jobs q where q.dedupe_key = d.dedupe_key and q.status = 'queued')
             order by d.dedupe_key, d.updated_at desc, d.id desc
         )
         update jobs set status = 'queued', attempts = 0, run_at = $2, updated_at = $2
         where id in (select id from chosen)",
    )
    .bind(&kinds)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    // Older dead copies of those keys are superseded.
    sqlx::query(
        "update jobs d set status = 'done', updated_at = $2
         where d.status = 'dead' and d.kind = any($1)
           and exists (select 1 from jobs q where q.dedupe_key = d.dedupe_key and q.status = 'queued')",
    )
    .bind(&kinds)
    .bind(now)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(revived.rows_affected())
}

pub(crate) async fn list_jobs(
    conn: &mut PgConnection,
    status: Option<JobStatus>,
    page: PageRequest,
) -> Result<Page<JobRecord>, StoreError> {
    let status = status.map(JobStatus::as_str);
    let total: i64 =
        sqlx::query_scalar("select count(*) from jobs where $1::text is null or status = $1")
            .bind(status)
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error)?;
    let sql = format!(
        "select {COLUMNS} from jobs where $1::text is null or status = $1 order by updated_at desc, id desc limit $2 offset $3"
    );
    let rows: Vec<JobRow> = sqlx::query_as(&sql)
        .bind(status)
        .bind(paging::limit(page))
        .bind(paging::offset(page))
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    paging::converted_page(rows, page, total)
}
