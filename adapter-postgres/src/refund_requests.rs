//! Refund requests and their history.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::{RefundProgress, RefundReason, RefundRequestStatus};
use marketplace_ports::ports::{
    RefundRequestFilter, RefundRequestQueries, RefundRequestRecord, RefundRequestStep,
    RefundRequestStore, StoreError,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, found, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

struct RequestRow {
    id: Uuid,
    order_id: Uuid,
    order_item_id: Uuid,
    seller_id: Uuid,
    buyer_id: Option<Uuid>,
    reason: String,
    notes: String,
    amount_cents: i64,
    currency: String,
    status: String,
    attempts: i32,
    refund_in_flight: bool,
    stripe_refund_id: Option<String>,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<RequestRow> for RefundRequestRecord {
    type Error = StoreError;

    fn try_from(row: RequestRow) -> Result<Self, Self::Error> {
        Ok(RefundRequestRecord {
            id: RefundRequestId::from_uuid(row.id),
            order_id: OrderId::from_uuid(row.order_id),
            order_item_id: OrderItemId::from_uuid(row.order_item_id),
            seller_id: UserId::from_uuid(row.seller_id),
            buyer_id: row.buyer_id.map(UserId::from_uuid),
            reason: RefundReason::parse(&row.reason)
                .ok_or_else(|| corrupt("refund request", &row.reason))?,
            notes: row.notes,
            amount: Cents::new(row.amount_cents),
            currency: Currency::parse(&row.currency).map_err(|e| corrupt("refund request", e))?,
            progress: RefundProgress {
                status: RefundRequestStatus::parse(&row.status)
                    .ok_or_else(|| corrupt("refund request", &row.status))?,
                attempts: u32::try_from(row.attempts)
                    .map_err(|_| corrupt("refund request", "negative attempts"))?,
                in_flight: row.refund_in_flight,
            },
            stripe_refund_id: row.stripe_refund_id,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn attempts(request: &RefundRequestRecord) -> Result<i32, StoreError> {
    i32::try_from(request.progress.attempts)
        .map_err(|_| corrupt("refund request", "too many attempts"))
}

/// Refund requests of one transaction.
pub(crate) struct PgRefundRequests(pub(crate) TxConn);

#[async_trait]
impl RefundRequestStore for PgRefundRequests {
    async fn insert_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into refund_requests (id, order_id, order_item_id, seller_id, buyer_id, reason,
                notes, amount_cents, currency, status, attempts, refund_in_flight, stripe_refund_id,
                last_error, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            request.id.get(),
            request.order_id.get(),
            request.order_item_id.get(),
            request.seller_id.get(),
            request.buyer_id.map(UserId::get),
            request.reason.as_str(),
            request.notes,
            request.amount.get(),
            request.currency.as_str(),
            request.progress.status.as_str(),
            attempts(request)?,
            request.progress.in_flight,
            request.stripe_refund_id,
            request.last_error,
            request.created_at,
            request.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn refund_request_for_update(
        &mut self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError> {
        let row = sqlx::query_as!(
            RequestRow,
            "select id, order_id, order_item_id, seller_id, buyer_id, reason, notes, amount_cents,
                    currency, status, attempts, refund_in_flight, stripe_refund_id, last_error, created_at,
                    updated_at
             from refund_requests where id = $1 for update",
            id.get()
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(RefundRequestRecord::try_from).transpose()
    }

    async fn update_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError> {
        let result = sqlx::query!(
            "update refund_requests set status = $2, attempts = $3, refund_in_flight = $4,
                stripe_refund_id = $5, last_error = $6, updated_at = $7
             where id = $1",
            request.id.get(),
            request.progress.status.as_str(),
            attempts(request)?,
            request.progress.in_flight,
            request.stripe_refund_id,
            request.last_error,
            request.updated_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        found(result.rows_affected())
    }

    async fn add_refund_request_step(
        &mut self,
        id: RefundRequestId,
        step: &RefundRequestStep,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into refund_request_steps (request_id, status, actor_id, note, created_at)
             values ($1, $2, $3, $4, $5)",
            id.get(),
            step.status.as_str(),
            step.actor_id.map(UserId::get),
            step.note,
            step.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn line_is_requested(&mut self, line: OrderItemId) -> Result<bool, StoreError> {
        let held = sqlx::query_scalar!(
            r#"select exists (select 1 from refund_requests
                 where order_item_id = $1 and status not in ('declined', 'canceled')) as "held!""#,
            line.get()
        )
        .fetch_one(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(held)
    }

    async fn refunds_in_flight(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<RefundRequestRecord>, StoreError> {
        let rows = sqlx::query_as!(
            RequestRow,
            "select id, order_id, order_item_id, seller_id, buyer_id, reason, notes, amount_cents,
                    currency, status, attempts, refund_in_flight, stripe_refund_id, last_error,
                    created_at, updated_at
             from refund_requests where order_id = $1 and refund_in_flight
             order by created_at, id for update",
            order.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(RefundRequestRecord::try_from)
            .collect()
    }
}

#[async_trait]
impl RefundRequestQueries for PgStore {
    async fn refund_request(
        &self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError> {
        let row = sqlx::query_as!(
            RequestRow,
            "select id, order_id, order_item_id, seller_id, buyer_id, reason, notes, amount_cents,
                    currency, status, attempts, refund_in_flight, stripe_refund_id, last_error, created_at,
                    updated_at
             from refund_requests where id = $1",
            id.get()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(RefundRequestRecord::try_from).transpose()
    }

    async fn refund_request_steps(
        &self,
        id: RefundRequestId,
    ) -> Result<Vec<RefundRequestStep>, StoreError> {
        let rows = sqlx::query!(
            "select status, actor_id, note, created_at from refund_request_steps
             where request_id = $1 order by seq",
            id.get()
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(RefundRequestStep {
                    status: RefundRequestStatus::parse(&row.status)
                        .ok_or_else(|| corrupt("refund request step", &row.status))?,
                    actor_id: row.actor_id.map(UserId::from_uuid),
                    note: row.note,
                    created_at: row.created_at,
                })
            })
            .collect()
    }

    async fn refund_requests(
        &self,
        filter: RefundRequestFilter,
        page: PageRequest,
    ) -> Result<Page<RefundRequestRecord>, StoreError> {
        let buyer = filter.buyer.map(UserId::get);
        let seller = filter.seller.map(UserId::get);
        let status = filter.status.map(RefundRequestStatus::as_str);
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from refund_requests
               where ($1::uuid is null or buyer_id = $1)
                 and ($2::uuid is null or seller_id = $2)
                 and ($3::text is null or status = $3)"#,
            buyer,
            seller,
            status,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query_as!(
            RequestRow,
            "select id, order_id, order_item_id, seller_id, buyer_id, reason, notes, amount_cents,
                    currency, status, attempts, refund_in_flight, stripe_refund_id, last_error,
                    created_at, updated_at
             from refund_requests
             where ($1::uuid is null or buyer_id = $1)
               and ($2::uuid is null or seller_id = $2)
               and ($3::text is null or status = $3)
             order by created_at desc, id desc
             limit $4 offset $5",
            buyer,
            seller,
            status,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let items = rows
            .into_iter()
            .map(RefundRequestRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paging::page_of(items, page, total))
    }
}
