//! Anomalies, flags, adjustments and the audit log, in memory.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::ReversalStatus;
use marketplace_domain::reconcile::{Anomaly, AnomalyKind};
use time::OffsetDateTime;

use super::listings::page_of;
use super::{MemoryStore, Working, conflict};
use crate::ports::{
    AdjustmentRecord, AdjustmentStore, AuditEntry, AuditQueries, FlaggedOrder, ReconFilter,
    ReconciliationQueries, ReconciliationStore, StoreError, StoredFlag,
};

pub(crate) struct MemReconciliation(pub(crate) Working);

#[async_trait]
impl ReconciliationStore for MemReconciliation {
    async fn record_anomalies(
        &mut self,
        order: OrderId,
        anomalies: &[Anomaly],
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("reconciliation.record_anomalies")?;
        for anomaly in anomalies {
            let known = s.anomalies.iter().any(|(o, a)| {
                *o == order && a.kind == anomaly.kind && a.reference == anomaly.reference
            });
            if !known {
                s.anomalies.push((order, anomaly.clone()));
            }
        }
        Ok(())
    }

    async fn order_anomalies(&mut self, order: OrderId) -> Result<Vec<Anomaly>, StoreError> {
        let s = self.0.state("reconciliation.order_anomalies")?;
        Ok(s.anomalies
            .iter()
            .filter(|(o, _)| *o == order)
            .map(|(_, a)| a.clone())
            .collect())
    }

    async fn resolve_anomalies(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: Option<&str>,
        _now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut s = self.0.state("reconciliation.resolve_anomalies")?;
        let mut resolved = 0_u64;
        for (_, anomaly) in s.anomalies.iter_mut().filter(|(o, a)| {
            *o == order
                && a.kind == kind
                && !a.resolved
                && reference.is_none_or(|r| a.reference == r)
        }) {
            anomaly.resolved = true;
            resolved = resolved.saturating_add(1);
        }
        Ok(resolved)
    }

    async fn reopen_anomaly(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("reconciliation.reopen_anomaly")?;
        for (_, anomaly) in s
            .anomalies
            .iter_mut()
            .filter(|(o, a)| *o == order && a.kind == kind && a.reference == reference)
        {
            anomaly.resolved = false;
        }
        Ok(())
    }

    async fn replace_flags(
        &mut self,
        order: OrderId,
        flags: &[StoredFlag],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("reconciliation.replace_flags")?;
        if flags.is_empty() {
            s.flags.remove(&order);
        } else {
            s.flags.insert(order, (flags.to_vec(), now));
        }
        Ok(())
    }

    async fn refused_reversal_sellers(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<UserId>, StoreError> {
        let s = self.0.state("reconciliation.refused_reversal_sellers")?;
        // Each seller's latest reversal of the order.
        let mut latest: std::collections::BTreeMap<UserId, &crate::ports::ReversalRecord> =
            std::collections::BTreeMap::new();
        for reversal in s.reversals.iter().filter(|r| r.order_id == order) {
            let newer = latest
                .get(&reversal.seller_id)
                .is_none_or(|l| (reversal.created_at, reversal.id) > (l.created_at, l.id));
            if newer {
                latest.insert(reversal.seller_id, reversal);
            }
        }
        Ok(latest
            .into_iter()
            .filter(|(_, r)| r.status == ReversalStatus::Refused)
            .map(|(seller, _)| seller)
            .collect())
    }
}

#[async_trait]
impl ReconciliationQueries for MemoryStore {
    async fn flagged_orders(
        &self,
        filter: &ReconFilter,
        page: PageRequest,
    ) -> Result<Page<FlaggedOrder>, StoreError> {
        let s = self.read("reconciliation.flagged_orders")?;
        let mut found: Vec<FlaggedOrder> = s
            .flags
            .iter()
            .filter_map(|(order_id, (flags, at))| {
                let order = s.orders.get(order_id)?;
                let wanted = filter
                    .flag
                    .as_ref()
                    .is_none_or(|code| flags.iter().any(|f| &f.code == code))
                    && filter.since.is_none_or(|since| order.created_at >= since)
                    && filter.until.is_none_or(|until| order.created_at < until)
                    && filter
                        .seller
                        .is_none_or(|seller| order.lines().iter().any(|l| l.seller_id == seller));
                wanted.then(|| FlaggedOrder {
                    order_id: *order_id,
                    status: order.status,
                    total: order.total,
                    currency: order.currency,
                    created_at: order.created_at,
                    flagged_at: *at,
                    flags: flags.clone(),
                })
            })
            .collect();
        found.sort_by(|a, b| {
            b.flagged_at
                .cmp(&a.flagged_at)
                .then(b.order_id.cmp(&a.order_id))
        });
        Ok(page_of(found, page))
    }
}

pub(crate) struct MemAdjustments(pub(crate) Working);

#[async_trait]
impl AdjustmentStore for MemAdjustments {
    async fn adjustment_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<AdjustmentRecord>, StoreError> {
        let s = self.0.state("adjustments.adjustment_by_key")?;
        Ok(s.adjustments
            .iter()
            .find(|a| a.idempotency_key == idempotency_key)
            .cloned())
    }

    async fn insert_adjustment(&mut self, adjustment: &AdjustmentRecord) -> Result<(), StoreError> {
        let mut s = self.0.state("adjustments.insert_adjustment")?;
        if s.adjustments
            .iter()
            .any(|a| a.idempotency_key == adjustment.idempotency_key)
        {
            return Err(conflict("adjustments_idempotency_key_key"));
        }
        s.adjustments.push(adjustment.clone());
        Ok(())
    }

    async fn record_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.0
            .state("adjustments.record_audit")?
            .audit
            .push(entry.clone());
        Ok(())
    }
}

#[async_trait]
impl AuditQueries for MemoryStore {
    async fn audit_log(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError> {
        let s = self.read("audit.audit_log")?;
        let mut entries = s.audit.clone();
        entries.reverse();
        Ok(page_of(entries, page))
    }
}
