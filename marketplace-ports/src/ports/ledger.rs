//! The journal: append-only entries keyed by the fact they book, and sellers' balances.

use async_trait::async_trait;
use marketplace_domain::ids::{JournalEntryId, OrderId, UserId};
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// One movement on a seller's balance: the seller's side of one journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerLedgerLine {
    /// The entry's key (`order_paid:…`, `transfer:tr_…`, `refund:re_…`).
    pub key: String,
    /// The kind of fact (`order_paid`, `transfer`, `refund`, `dispute_lost`, `adjustment`, …).
    pub kind: String,
    /// The order concerned.
    pub order_id: Option<OrderId>,
    /// Effect on the balance (positive: owed more to the seller).
    pub amount: Cents,
    /// Currency.
    pub currency: Currency,
    /// Booked at.
    pub created_at: OffsetDateTime,
}

/// Which ledger lines to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerFilter {
    /// Only this kind of fact.
    pub kind: Option<String>,
    /// Text in the key or the order id.
    pub text: Option<String>,
}

/// The journal, inside a transaction.
#[async_trait]
pub trait LedgerStore: Send {
    /// Appends an entry and updates the balances it touches.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `journal_entries_key_key` when its key is booked already (a
    /// replay); the transaction stays usable (nothing was written).
    async fn insert_entry(
        &mut self,
        id: JournalEntryId,
        entry: &JournalEntry,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The entries of an order, in booking order.
    async fn order_entries(&mut self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError>;
    /// A seller's balance, locking it so concurrent payouts of the seller run one at a time.
    async fn lock_seller_balance(
        &mut self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError>;
}

/// Ledger reads.
#[async_trait]
pub trait LedgerQueries: Send + Sync {
    /// The entries booked on an order, oldest first (what its seller's share is computed from).
    async fn order_entries(&self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError>;
    /// A seller's balance.
    async fn seller_balance(&self, seller: UserId, currency: Currency)
    -> Result<Cents, StoreError>;
    /// A seller's balance movements, newest first.
    async fn seller_ledger(
        &self,
        seller: UserId,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<Page<SellerLedgerLine>, StoreError>;
}

impl dyn Tx + '_ {
    /// The journal of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn ledger(&mut self) -> Result<&mut (dyn LedgerStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Ledger reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn ledger(&self) -> Result<&dyn LedgerQueries, StoreError> {
        self.get()
    }
}
