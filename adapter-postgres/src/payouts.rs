//! Payouts per (order, seller) and transfer reversals.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, ReversalId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::{PayoutStatus, ReversalStatus, SkipReason};
use marketplace_ports::ports::{
    PayoutQueries, PayoutRecord, PayoutStore, ReversalRecord, ReversalStore, StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct PayoutRow {
    order_id: Uuid,
    seller_id: Uuid,
    status: String,
    amount_cents: Option<i64>,
    skip_reason: Option<String>,
    transfer_id: Option<String>,
    attempts: i32,
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
            attempts: u32::try_from(row.attempts)
                .map_err(|_| corrupt("payout", "negative attempts"))?,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn records(rows: Vec<PayoutRow>) -> Result<Vec<PayoutRecord>, StoreError> {
    rows.into_iter().map(PayoutRecord::try_from).collect()
}

/// The stored columns of a payout's state: status, amount, skip reason, transfer.
fn status_columns(
    status: &PayoutStatus,
) -> (
    &'static str,
    Option<i64>,
    Option<&'static str>,
    Option<&str>,
) {
    match status {
        PayoutStatus::Pending { amount } => ("pending", Some(amount.get()), None, None),
        PayoutStatus::Failed { amount } => ("failed", Some(amount.get()), None, None),
        PayoutStatus::Paid {
            amount,
            transfer_id,
        } => ("paid", Some(amount.get()), None, Some(transfer_id)),
        PayoutStatus::Skipped(reason) => ("skipped", None, Some(reason.as_str()), None),
    }
}

fn attempts(payout: &PayoutRecord) -> Result<i32, StoreError> {
    i32::try_from(payout.attempts).map_err(|_| corrupt("payout", "too many attempts"))
}

/// The payouts of one transaction.
pub(crate) struct PgPayouts(pub(crate) TxConn);

#[async_trait]
impl PayoutStore for PgPayouts {
    async fn get_payout_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<PayoutRecord>, StoreError> {
        let row = sqlx::query_as!(
            PayoutRow,
            "select order_id, seller_id, status, amount_cents, skip_reason, transfer_id, attempts,
                    last_error, created_at, updated_at
             from payouts where order_id = $1 and seller_id = $2 for update",
            order.get(),
            seller.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(PayoutRecord::try_from).transpose()
    }

    async fn insert_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        let (status, amount, reason, transfer) = status_columns(&payout.status);
        sqlx::query!(
            "insert into payouts (order_id, seller_id, status, amount_cents, skip_reason, transfer_id,
                last_error, created_at, updated_at, attempts)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            payout.order_id.get(),
            payout.seller_id.get(),
            status,
            amount,
            reason,
            transfer,
            payout.last_error,
            payout.created_at,
            payout.updated_at,
            attempts(payout)?,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn update_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        let (status, amount, reason, transfer) = status_columns(&payout.status);
        let result = sqlx::query!(
            "update payouts set status = $3, amount_cents = $4, skip_reason = $5, transfer_id = $6,
                last_error = $7, updated_at = $8, attempts = $9
             where order_id = $1 and seller_id = $2",
            payout.order_id.get(),
            payout.seller_id.get(),
            status,
            amount,
            reason,
            transfer,
            payout.last_error,
            payout.updated_at,
            attempts(payout)?,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn unconfirmed_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(p.amount_cents), 0)::bigint as "total!"
               from payouts p join orders o on o.id = p.order_id
               where p.seller_id = $1 and p.status = 'pending' and p.order_id <> $2
                 and o.currency = $3"#,
            seller.get(),
            except.get(),
            currency.as_str()
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(total))
    }

    async fn skipped_payouts(
        &mut self,
        seller: UserId,
        reason: SkipReason,
    ) -> Result<Vec<OrderId>, StoreError> {
        let ids = sqlx::query_scalar!(
            "select order_id from payouts
             where seller_id = $1 and status = 'skipped' and skip_reason = $2
             order by created_at",
            seller.get(),
            reason.as_str()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(ids.into_iter().map(OrderId::from_uuid).collect())
    }

    async fn order_payouts(&mut self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        let rows = sqlx::query_as!(
            PayoutRow,
            "select order_id, seller_id, status, amount_cents, skip_reason, transfer_id, attempts,
                    last_error, created_at, updated_at
             from payouts where order_id = $1 order by created_at, seller_id",
            order.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        records(rows)
    }
}

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

/// The transfer reversals of one transaction.
pub(crate) struct PgReversals(pub(crate) TxConn);

#[async_trait]
impl ReversalStore for PgReversals {
    async fn pending_reversal_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<ReversalRecord>, StoreError> {
        let row = sqlx::query_as!(
            ReversalRow,
            "select id, order_id, seller_id, transfer_id, amount_cents, currency, status,
                    stripe_reversal_id, last_error, created_at, updated_at
             from transfer_reversals
             where order_id = $1 and seller_id = $2 and status = 'pending' for update",
            order.get(),
            seller.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(ReversalRecord::try_from).transpose()
    }

    async fn reversed_total(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Cents, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(amount_cents), 0)::bigint as "total!" from transfer_reversals
               where order_id = $1 and seller_id = $2 and status in ('pending', 'reversed')"#,
            order.get(),
            seller.get()
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(total))
    }

    async fn reversed_from(&mut self, transfer_id: &str) -> Result<Cents, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(amount_cents), 0)::bigint as "total!" from transfer_reversals
               where transfer_id = $1 and status in ('pending', 'reversed')"#,
            transfer_id
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(total))
    }

    async fn pending_reversals_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(amount_cents), 0)::bigint as "total!" from transfer_reversals
               where seller_id = $1 and status = 'pending' and order_id <> $2 and currency = $3"#,
            seller.get(),
            except.get(),
            currency.as_str()
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(total))
    }

    async fn insert_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into transfer_reversals (id, order_id, seller_id, transfer_id, amount_cents,
                currency, status, stripe_reversal_id, last_error, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            reversal.id.get(),
            reversal.order_id.get(),
            reversal.seller_id.get(),
            reversal.transfer_id,
            reversal.amount.get(),
            reversal.currency.as_str(),
            reversal.status.as_str(),
            reversal_id_of(&reversal.status),
            reversal.last_error,
            reversal.created_at,
            reversal.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn update_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update transfer_reversals set amount_cents = $2, status = $3, stripe_reversal_id = $4,
                last_error = $5, updated_at = $6
             where id = $1",
            reversal.id.get(),
            reversal.amount.get(),
            reversal.status.as_str(),
            reversal_id_of(&reversal.status),
            reversal.last_error,
            reversal.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }
}

#[async_trait]
impl PayoutQueries for PgStore {
    async fn order_payouts(&self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        let rows = sqlx::query_as!(
            PayoutRow,
            "select order_id, seller_id, status, amount_cents, skip_reason, transfer_id, attempts,
                    last_error, created_at, updated_at
             from payouts where order_id = $1 order by created_at, seller_id",
            order.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        records(rows)
    }

    async fn seller_payouts(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<PayoutRecord>, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "count!" from payouts where seller_id = $1"#,
            seller.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            PayoutRow,
            "select order_id, seller_id, status, amount_cents, skip_reason, transfer_id, attempts,
                    last_error, created_at, updated_at
             from payouts where seller_id = $1 order by updated_at desc, order_id
             limit $2 offset $3",
            seller.get(),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(paging::page_of(records(rows)?, page, total))
    }

    async fn unconfirmed_payouts(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        let total = sqlx::query_scalar!(
            r#"select coalesce(sum(p.amount_cents), 0)::bigint as "total!"
               from payouts p join orders o on o.id = p.order_id
               where p.seller_id = $1 and p.status = 'pending' and o.currency = $2"#,
            seller.get(),
            currency.as_str()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(Cents::new(total))
    }

    async fn order_reversals(&self, order: OrderId) -> Result<Vec<ReversalRecord>, StoreError> {
        let rows = sqlx::query_as!(
            ReversalRow,
            "select id, order_id, seller_id, transfer_id, amount_cents, currency, status,
                    stripe_reversal_id, last_error, created_at, updated_at
             from transfer_reversals where order_id = $1 order by created_at, id",
            order.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(ReversalRecord::try_from).collect()
    }
}
