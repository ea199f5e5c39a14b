//! Reconciliation: the money anomalies recorded on orders (a charge that does not match, a fact in
//! another currency, a second payment) and each order's flags, computed when its money moves and
//! stored so the owner's report is a query, not a scan (docs/money.md, "Reconciliation").

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::reconcile::{Anomaly, AnomalyKind};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// One stored flag of an order: its code and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFlag {
    /// `ReconFlag::code` (`charge_mismatch`, …).
    pub code: String,
    /// What it says, for people (several of one code are joined).
    pub detail: String,
}

/// An order with flags, as the reconciliation report lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlaggedOrder {
    /// The order.
    pub order_id: OrderId,
    /// Its status.
    pub status: OrderStatus,
    /// Its total.
    pub total: Cents,
    /// Its currency.
    pub currency: Currency,
    /// When it was placed.
    pub created_at: OffsetDateTime,
    /// When its flags were last computed.
    pub flagged_at: OffsetDateTime,
    /// Its flags, by code.
    pub flags: Vec<StoredFlag>,
}

/// What the reconciliation report is narrowed to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconFilter {
    /// Only orders with this flag code.
    pub flag: Option<String>,
    /// Only orders placed at or after.
    pub since: Option<OffsetDateTime>,
    /// Only orders placed before.
    pub until: Option<OffsetDateTime>,
    /// Only orders with a line of this seller.
    pub seller: Option<UserId>,
}

/// Anomalies and flags, inside a transaction.
#[async_trait]
pub trait ReconciliationStore: Send {
    /// Records anomalies of an order; one already recorded (same kind and reference) is left as
    /// it is.
    async fn record_anomalies(
        &mut self,
        order: OrderId,
        anomalies: &[Anomaly],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The order's anomalies, oldest first.
    async fn order_anomalies(&mut self, order: OrderId) -> Result<Vec<Anomaly>, StoreError>;
    /// Marks the order's unresolved anomalies of `kind` resolved (only the one about `reference`
    /// when given); returns how many.
    async fn resolve_anomalies(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// Marks the order's anomaly of `kind` about `reference` unresolved again (a refund that had
    /// settled it failed after all).
    async fn reopen_anomaly(
        &mut self,
        order: OrderId,
        kind: AnomalyKind,
        reference: &str,
    ) -> Result<(), StoreError>;
    /// Replaces the order's stored flags (none: the order leaves the report).
    async fn replace_flags(
        &mut self,
        order: OrderId,
        flags: &[StoredFlag],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Sellers whose latest transfer reversal on the order was refused (a later one that went
    /// through clears it).
    async fn refused_reversal_sellers(&mut self, order: OrderId)
    -> Result<Vec<UserId>, StoreError>;
}

/// The reconciliation report.
#[async_trait]
pub trait ReconciliationQueries: Send + Sync {
    /// Orders with flags, most recently flagged first.
    async fn flagged_orders(
        &self,
        filter: &ReconFilter,
        page: PageRequest,
    ) -> Result<Page<FlaggedOrder>, StoreError>;
}

impl dyn Tx + '_ {
    /// Anomalies and flags of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn reconciliation(
        &mut self,
    ) -> Result<&mut (dyn ReconciliationStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// The reconciliation report.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn reconciliation(&self) -> Result<&dyn ReconciliationQueries, StoreError> {
        self.get()
    }
}
