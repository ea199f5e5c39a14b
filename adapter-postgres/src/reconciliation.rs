//! Anomalies, flags and the reconciliation report; adjustments and the audit log.

use async_trait::async_trait;
use marketplace_domain::ids::{AdjustmentId, OrderId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reconcile::{Anomaly, AnomalyKind};
use marketplace_ports::ports::{
    AdjustmentRecord, AdjustmentStore, AuditEntry, AuditQueries, FlaggedOrder, ReconFilter,
    ReconciliationQueries, ReconciliationStore, StoreError, StoredFlag,
};
use time::OffsetDateTime;

use crate::errors::{corrupt, store_error};
use crate::paging;
use crate::{PgStore, TxConn};

/// Anomalies and flags of one transaction.
pub(crate) struct PgReconciliation(pub(crate) TxConn);

#[async_trait]
impl ReconciliationStore for PgReconciliation {
    async fn record_anomalies(
        &mut self,
        order: OrderId,
        anomalies: &[Anomaly],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        for anomaly in anomalies {
            sqlx::query!(
                "insert into order_anomalies (order_id, kind, reference, amount_cents, currency,
                    created_at, resolved_at)
                 values ($1, $2, $3, $4, $5, $6::timestamptz, case when $7 then $6::timestamptz end)
                 on conflict on constraint order_anomalies_pkey do nothing",
                order.get(),
                anomaly.kind.as_str(),
                anomaly.reference,
                anomaly.amount.map(Cents::get),
                anomaly.currency,
                now,
                anomaly.resolved,
            )
            .execute(&mut **self.0.lock().await)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn order_anomalies(&mut self, order: OrderId) -> Result<Vec<Anomaly>, StoreError> {
        let rows = sqlx::query!(
            "select kind, reference, amount_cents, currency, resolved_at
             from order_anomalies where order_id = $1 order by created_at, kind, reference",
            order.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                Ok(Anomaly {
                    kind: AnomalyKind::parse(&row.kind)
                        .ok_or_else(|| corrupt("anomaly", &row.kind))?,
                    reference: row.reference,
                    amount: row.amount_cents.map(Cents::new),
                    currency: row.currency,
                    resolved: row.resolved_at.is_some(),
                })
            })
            .collect()
    }

    async fn resolve_anomalies(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query!(
            "update order_anomalies set resolved_at = $3
             where order_id = $1 and kind = $2 and resolved_at is null
               and ($4::text is null or reference = $4)",
            order.get(),
            kind.as_str(),
            now,
            reference
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(result.rows_affected())
    }

    async fn reopen_anomaly(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: &str,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "update order_anomalies set resolved_at = null
             where order_id = $1 and kind = $2 and reference = $3",
            order.get(),
            kind.as_str(),
            reference
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn replace_flags(
        &mut self,
        order: OrderId,
        flags: &[StoredFlag],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.0.lock().await;
        sqlx::query!("delete from order_flags where order_id = $1", order.get())
            .execute(&mut **conn)
            .await
            .map_err(store_error)?;
        let codes: Vec<String> = flags.iter().map(|f| f.code.clone()).collect();
        let details: Vec<String> = flags.iter().map(|f| f.detail.clone()).collect();
        sqlx::query!(
            "insert into order_flags (order_id, code, detail, flagged_at)
             select $1, code, detail, $4 from unnest($2::text[], $3::text[]) as f (code, detail)",
            order.get(),
            &codes,
            &details,
            now
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn refused_reversal_sellers(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<UserId>, StoreError> {
        let ids = sqlx::query_scalar!(
            r#"select seller_id as "seller_id!" from (
                 select distinct on (seller_id) seller_id, status from transfer_reversals
                 where order_id = $1 order by seller_id, created_at desc, id desc) latest
               where status = 'refused' order by seller_id"#,
            order.get()
        )
        .fetch_all(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(ids.into_iter().map(UserId::from_uuid).collect())
    }
}

#[async_trait]
impl ReconciliationQueries for PgStore {
    async fn flagged_orders(
        &self,
        filter: &ReconFilter,
        page: PageRequest,
    ) -> Result<Page<FlaggedOrder>, StoreError> {
        let rows = sqlx::query!(
            r#"select o.id, o.status, o.total_cents, o.currency, o.created_at,
                      max(f.flagged_at) as "flagged_at!",
                      array_agg(f.code order by f.code) as "codes!",
                      array_agg(f.detail order by f.code) as "details!",
                      count(*) over () as "total!"
               from order_flags f join orders o on o.id = f.order_id
               where ($1::text is null or exists (
                        select 1 from order_flags g where g.order_id = f.order_id and g.code = $1))
                 and ($2::timestamptz is null or o.created_at >= $2)
                 and ($3::timestamptz is null or o.created_at < $3)
                 and ($4::uuid is null or exists (
                        select 1 from order_items i where i.order_id = o.id and i.seller_id = $4))
               group by o.id
               order by 6 desc, o.id desc
               limit $5 offset $6"#,
            filter.flag,
            filter.since,
            filter.until,
            filter.seller.map(UserId::get),
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let total = rows.first().map_or(0, |r| r.total);
        let items = rows
            .into_iter()
            .map(|row| {
                Ok(FlaggedOrder {
                    order_id: OrderId::from_uuid(row.id),
                    status: OrderStatus::parse(&row.status)
                        .ok_or_else(|| corrupt("order", &row.status))?,
                    total: Cents::new(row.total_cents),
                    currency: Currency::parse(&row.currency).map_err(|e| corrupt("order", e))?,
                    created_at: row.created_at,
                    flagged_at: row.flagged_at,
                    flags: row
                        .codes
                        .into_iter()
                        .zip(row.details)
                        .map(|(code, detail)| StoredFlag { code, detail })
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(paging::page_of(items, page, total))
    }
}

/// Adjustments and the audit log of one transaction.
pub(crate) struct PgAdjustments(pub(crate) TxConn);

#[async_trait]
impl AdjustmentStore for PgAdjustments {
    async fn adjustment_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<AdjustmentRecord>, StoreError> {
        let row = sqlx::query!(
            "select id, seller_id, amount_cents, currency, note, idempotency_key, created_by,
                    created_at
             from adjustments where idempotency_key = $1",
            idempotency_key
        )
        .fetch_optional(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        row.map(|row| {
            Ok(AdjustmentRecord {
                id: AdjustmentId::from_uuid(row.id),
                seller_id: UserId::from_uuid(row.seller_id),
                amount: Cents::new(row.amount_cents),
                currency: Currency::parse(&row.currency).map_err(|e| corrupt("adjustment", e))?,
                note: row.note,
                idempotency_key: row.idempotency_key,
                created_by: UserId::from_uuid(row.created_by),
                created_at: row.created_at,
            })
        })
        .transpose()
    }

    async fn insert_adjustment(&mut self, adjustment: &AdjustmentRecord) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into adjustments (id, seller_id, amount_cents, currency, note, idempotency_key,
                created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
            adjustment.id.get(),
            adjustment.seller_id.get(),
            adjustment.amount.get(),
            adjustment.currency.as_str(),
            adjustment.note,
            adjustment.idempotency_key,
            adjustment.created_by.get(),
            adjustment.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn record_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into audit_log (actor_id, action, subject, detail, created_at)
             values ($1, $2, $3, $4, $5)",
            entry.actor_id.get(),
            entry.action,
            entry.subject,
            entry.detail,
            entry.created_at,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl AuditQueries for PgStore {
    async fn audit_log(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError> {
        let rows = sqlx::query!(
            r#"select actor_id, action, subject, detail, created_at, count(*) over () as "total!"
               from audit_log order by created_at desc, id desc limit $1 offset $2"#,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let total = rows.first().map_or(0, |r| r.total);
        let items = rows
            .into_iter()
            .map(|row| AuditEntry {
                actor_id: UserId::from_uuid(row.actor_id),
                action: row.action,
                subject: row.subject,
                detail: row.detail,
                created_at: row.created_at,
            })
            .collect();
        Ok(paging::page_of(items, page, total))
    }
}
