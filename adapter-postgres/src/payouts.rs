//! Payout records (one per (order, seller)) and the transfer reversals that take part of a payout
//! back.

use marketplace_domain::ids::{OrderId, ReversalId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payout::{PayoutStatus, ReversalStatus, SkipReason};
use marketplace_ports::ports::{PayoutRecord, ReversalRecord, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;

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
    found(result.rows_affected())
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
        .bind(paging::limit(page))
        .bind(paging::offset(page))
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    paging::converted_page(rows, page, total)
}

const REVERSAL_COLUMNS: &str = "id, order_id, seller_id, transfer_id, amount_cents, currency, status, stripe_reversal_id, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ReversalRow {
    id: Uuid,
    order_id: Uuid,
    seller_id: Uuid,
    transfer_id: String,
    amount_cents: i64,
    currency: String,
    status: String,
    stripe_reversal_id: Option<String>,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ReversalRow> for ReversalRecord {
    type Error = StoreError;

    fn try_from(row: ReversalRow) -> Result<Self, Self::Error> {
        let status = match (row.status.as_str(), row.stripe_reversal_id) {
            ("pending", _) => ReversalStatus::Pending,
            ("refused", _) => ReversalStatus::Refused,
            ("reversed", Some(reversal_id)) => ReversalStatus::Reversed { reversal_id },
            (other, _) => return Err(corrupt("transfer reversal", other)),
        };
        Ok(ReversalRecord {
            id: ReversalId::from_uuid(row.id),
            order_id: OrderId::from_uuid(row.order_id),
            seller_id: UserId::from_uuid(row.seller_id),
            transfer_id: row.transfer_id,
            amount: Cents::new(row.amount_cents),
            currency: Currency::parse(&row.currency)
                .map_err(|e| corrupt("transfer reversal", e))?,
            status,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn reversal_id_of(status: &ReversalStatus) -> Option<&str> {
    match status {
        ReversalStatus::Reversed { reversal_id } => Some(reversal_id),
        ReversalStatus::Pending | ReversalStatus::Refused => None,
    }
}

pub(crate) async fn pending_reversal_for_update(
    conn: &mut PgConnection,
    order: OrderId,
    seller: UserId,
) -> Result<Option<ReversalRecord>, StoreError> {
    let sql = format!(
        "select {REVERSAL_COLUMNS} from transfer_reversals
         where order_id = $1 and seller_id = $2 and status = 'pending' for update"
    );
    let row: Option<ReversalRow> = sqlx::query_as(&sql)
        .bind(order.get())
        .bind(seller.get())
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    row.map(ReversalRecord::try_from).transpose()
}

/// Σ of (order, seller)'s reversals done or under way.
pub(crate) async fn reversed_total(
    conn: &mut PgConnection,
    order: OrderId,
    seller: UserId,
) -> Result<Cents, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "select coalesce(sum(amount_cents), 0)::bigint from transfer_reversals
         where order_id = $1 and seller_id = $2 and status in ('pending', 'reversed')",
    )
    .bind(order.get())
    .bind(seller.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(Cents::new(total))
}

/// Σ of a seller's reversals under way, except one order's.
pub(crate) async fn pending_reversals_total(
    conn: &mut PgConnection,
    seller: UserId,
    except: OrderId,
) -> Result<Cents, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "select coalesce(sum(amount_cents), 0)::bigint from transfer_reversals
         where seller_id = $1 and status = 'pending' and order_id <> $2",
    )
    .bind(seller.get())
    .bind(except.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(Cents::new(total))
}

pub(crate) async fn insert_reversal(
    conn: &mut PgConnection,
    reversal: &ReversalRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into transfer_reversals (id, order_id, seller_id, transfer_id, amount_cents, currency, status, stripe_reversal_id, last_error, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(reversal.id.get())
    .bind(reversal.order_id.get())
    .bind(reversal.seller_id.get())
    .bind(&reversal.transfer_id)
    .bind(reversal.amount.get())
    .bind(reversal.currency.as_str())
    .bind(reversal.status.as_str())
    .bind(reversal_id_of(&reversal.status))
    .bind(&reversal.last_error)
    .bind(reversal.created_at)
    .bind(reversal.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_reversal(
    conn: &mut PgConnection,
    reversal: &ReversalRecord,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "update transfer_reversals set amount_cents = $2, status = $3, stripe_reversal_id = $4, last_error = $5, updated_at = $6
         where id = $1",
    )
    .bind(reversal.id.get())
    .bind(reversal.amount.get())
    .bind(reversal.status.as_str())
    .bind(reversal_id_of(&reversal.status))
    .bind(&reversal.last_error)
    .bind(reversal.updated_at)
    .execute(conn)
    .await
    .map_err(store_error)?;
    found(result.rows_affected())
}

/// An order's reversals, oldest first (an order has a handful at most).
pub(crate) async fn order_reversals(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<ReversalRecord>, StoreError> {
    let sql = format!(
        "select {REVERSAL_COLUMNS} from transfer_reversals where order_id = $1 order by created_at, id"
    );
    let rows: Vec<ReversalRow> = sqlx::query_as(&sql)
        .bind(order.get())
        .fetch_all(conn)
        .await
        .map_err(store_error)?;
    rows.into_iter().map(ReversalRecord::try_from).collect()
}
