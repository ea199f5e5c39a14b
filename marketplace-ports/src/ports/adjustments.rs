//! Owner adjustments of sellers' balances, booked once per idempotency key, and the audit log of
//! owners' money actions.

use async_trait::async_trait;
use marketplace_domain::ids::{AdjustmentId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// An adjustment as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustmentRecord {
    /// Id (its journal entry is `adjustment:{id}`).
    pub id: AdjustmentId,
    /// The seller.
    pub seller_id: UserId,
    /// Positive credits the seller, negative debits.
    pub amount: Cents,
    /// Currency.
    pub currency: Currency,
    /// Why.
    pub note: String,
    /// The client's key: the same key books once.
    pub idempotency_key: String,
    /// The owner who made it.
    pub created_by: UserId,
    /// When.
    pub created_at: OffsetDateTime,
}

/// One line of the audit log: who did what to what, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The actor.
    pub actor_id: UserId,
    /// What (`adjustment.create`, `reconciliation.resolve`, …).
    pub action: String,
    /// What it was done to (`seller:<id>`, `order:<id>`).
    pub subject: String,
    /// Details and the reason given.
    pub detail: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// Adjustments and the audit log, inside a transaction.
#[async_trait]
pub trait AdjustmentStore: Send {
    /// The adjustment recorded under a key, if any.
    async fn adjustment_by_key(
        &mut self,
        idempotency_key: &str,
    ) -> Result<Option<AdjustmentRecord>, StoreError>;
    /// Records an adjustment.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `adjustments_idempotency_key_key` when the key was used.
    async fn insert_adjustment(&mut self, adjustment: &AdjustmentRecord) -> Result<(), StoreError>;
    /// Appends to the audit log.
    async fn record_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError>;
}

/// The audit log, for owners.
#[async_trait]
pub trait AuditQueries: Send + Sync {
    /// The audit log, newest first.
    async fn audit_log(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError>;
}

impl dyn Tx + '_ {
    /// Adjustments and the audit log of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn adjustments(&mut self) -> Result<&mut (dyn AdjustmentStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// The audit log.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn audit(&self) -> Result<&dyn AuditQueries, StoreError> {
        self.get()
    }
}
