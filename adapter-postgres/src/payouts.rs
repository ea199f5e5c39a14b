//! Payout records: one per (order, seller).

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payout::{PayoutStatus, SkipReason};
use marketplace_ports::ports::{PayoutRecord, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, store_error};

const COLUMNS: &str = "order_id, seller_id, status, amount_cents, skip_reason, transfer_id, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct PayoutRow {
    order_id: Uuid,
    seller_id: Uuid,
    status: String,
    amount_cents: Option<i64>,
    skip_reason: Option<String>,
    transfer_id: Option<String>,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<PayoutRow> for PayoutRecord {
    type Error = StoreError;

    fn try_from(row: PayoutRow) -> Result<Self, Self::Error> {
        let amount = || {
            row.amount_cents
                .map(Cents::new)
                .ok_or_else(|| corrupt("payout", "missing amount"))
        };
        let status = match row.status.as_str() {
            "pending" => PayoutStatus::Pending { amount: amount()? },
            "failed" => PayoutStatus::Failed { amount: amount()? },
            "paid" => PayoutStatus::Paid {
                amount: amount()?,
                transfer_id: row
                    .transfer_id
                    .clone()
                    .ok_or_else(|| corrupt("payout", "missing transfer"))?,
            },
            "skipped" => PayoutStatus::Skipped(
                row.skip_reason
                    .as_deref()
                    .and_then(SkipReason::parse)
                    .ok_or_else(|| corrupt("payout", "missing reason"))?,
            ),
            other => return Err(corrupt("payout", other)),
        };
        Ok(PayoutRecord {
            order_id: OrderId::from_uuid(row.order_id),
            seller_id: UserId::from_uuid(row.seller_id),
            status,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Status, amount, skip reason and transfer id columns of a status.
fn status_columns(
    status: &PayoutStatus,
) -> (
    &'static str,
    Option<i64>,
    Option<&'static str>,
    Option<String>,
) {
    match status {
        PayoutStatus::Pending { amount } => ("pending", Some(amount.get()), None, None),
        PayoutStatus::Failed { amount } => ("failed", Some(amount.get()), None, None),
        PayoutStatus::Paid {
            amount,
            transfer_id,
        } => ("paid", Some(amount.get()), None, Some(transfer_id.clone())),
        PayoutStatus::Skipped(reason) => ("skipped", None, Some(reason.as_str()), None),
    }
}

pub(crate) async fn get_payout_for_update(
    conn: &mut PgConnection,
    order: OrderId,
    seller: UserId,
) -> Result<Option<PayoutRecord>, StoreError> {
    let sql =
        format!("select {COLUMNS} from payouts where order_id = $1 and seller_id = $2 for update");
    let row: Option<PayoutRow> = sqlx::query_as(&sql)
        .bind(order.get())
        .bind(seller.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(PayoutRecord::try_from).transpose()
}

pub(crate) async fn insert_payout(
    conn: &mut PgConnection,
    payout: &PayoutRecord,
) -> Result<(), StoreError> {
    let (status, amount, reason, transfer) = status_columns(&payout.status);
    sqlx::query(
        "insert into payouts (order_id, seller_id, status, amount_cents, skip_reason, transfer_id, last_error, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(payout.order_id.get())
    .bind(payout.seller_id.get())
    .bind(status)
    .bind(amount)
    .bind(reason)
    .bind(transfer)
    .bind(&payout.last_error)
    .bind(payout.created_at)
    .bind(payout.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_payout(
    conn: &mut PgConnection,
    payout: &PayoutRecord,
) -> Result<(), StoreError> {
    let (status, amount, reason, transfer) = status_columns(&payout.status);
    let result = sqlx::query(
        "update payouts set status = $3, amount_cents = $4, skip_reason = $5, transfer_id = $6, last_error = $7, updated_at = $8
         where order_id = $1 and seller_id = $2",
    )
    .bind(payout.order_id.get())
    .bind(payout.seller_id.get())
    .bind(status)
    .bind(amount)
    .bind(reason)
    .bind(transfer)
    .bind(&payout.last_error)
    .bind(payout.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Σ of a seller's payouts decided but not confirmed (pending or failed), except one order's.
pub(crate) async fn unconfirmed_total(
    conn: &mut PgConnection,
    seller: UserId,
    except: Option<OrderId>,
) -> Result<Cents, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "select coalesce(sum(amount_cents), 0)::bigint from payouts
         where seller_id = $1 and status in ('pending', 'failed')
           and ($2::uuid is null or order_id <> $2)",
    )
    .bind(seller.get())
    .bind(except.map(OrderId::get))
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(Cents::new(total))
}

pub(crate) async fn skipped_not_ready(
    conn: &mut PgConnection,
    seller: UserId,
) -> Result<Vec<OrderId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select order_id from payouts where seller_id = $1 and status = 'skipped' and skip_reason = 'seller_not_ready'
         order by created_at",
    )
    .bind(seller.get())
    .fetch_all(conn)
    .await
    .map_err(store_error)?;
    Ok(ids.into_iter().map(OrderId::from_uuid).collect())
}

pub(crate) async fn order_payouts(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<PayoutRecord>, StoreError> {
    let sql =
        format!("select {COLUMNS} from payouts where order_id = $1 order by created_at, seller_id");
    let rows: Vec<PayoutRow> = sqlx::query_as(&sql)
        .bind(order.get())
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    rows.into_iter().map(PayoutRecord::try_from).collect()
}

pub(crate) async fn seller_payouts(
    conn: &mut PgConnection,
    seller: UserId,
    page: PageRequest,
) -> Result<Page<PayoutRecord>, StoreError> {
    let total: i64 = sqlx::query_scalar("select count(*) from payouts where seller_id = $1")
        .bind(seller.get())
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    let sql = format!(
        "select {COLUMNS} from payouts where seller_id = $1 order by updated_at desc, order_id limit $2 offset $3"
    );
    let rows: Vec<PayoutRow> = sqlx::query_as(&sql)
        .bind(seller.get())
        .bind(i64::from(page.per_page()))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(PayoutRecord::try_from)
            .collect::<Result<_, _>>()?,
        request: page,
        total: u64::try_from(total).unwrap_or_default(),
    })
}
