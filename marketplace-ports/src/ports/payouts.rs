//! Payouts per (order, seller) and transfer reversals.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, ReversalId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payouts::{PayoutStatus, ReversalStatus, SkipReason};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// The payout record of one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRecord {
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// State.
    pub status: PayoutStatus,
    /// How many attempts were decided (each has its own idempotency key).
    pub attempts: u32,
    /// Last error, for failed attempts.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A transfer reversal taking back a seller's part of refunds made after their payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversalRecord {
    /// Id (its idempotency key is derived from it).
    pub id: ReversalId,
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// The transfer being reversed (the order's payout to the seller).
    pub transfer_id: String,
    /// Amount to take back.
    pub amount: Cents,
    /// The order's currency.
    pub currency: Currency,
    /// State.
    pub status: ReversalStatus,
    /// Stripe's last error, if any.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl ReversalRecord {
    /// Stripe reversed `amount` of the transfer as `reversal_id`: done, and no error left.
    pub fn reversed(&mut self, reversal_id: String, amount: Cents) {
        self.amount = amount;
        self.status = ReversalStatus::Reversed { reversal_id };
        self.last_error = None;
    }

    /// Stripe refused it for good (the debt stays to be netted): refused, with Stripe's reason.
    pub fn refused(&mut self, error: String) {
        self.status = ReversalStatus::Refused;
        self.last_error = Some(error);
    }

    /// An attempt failed in a way worth retrying: still pending, with the reason.
    pub fn failed_for_now(&mut self, error: String) {
        self.last_error = Some(error);
    }
}

/// Payout records, inside a transaction.
#[async_trait]
pub trait PayoutStore: Send {
    /// The payout of (order, seller), locked.
    async fn get_payout_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<PayoutRecord>, StoreError>;
    /// Inserts a payout record.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `payouts_pkey`: one per (order, seller).
    async fn insert_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError>;
    /// Writes a payout's state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError>;
    /// Σ amounts of a seller's payouts in one currency whose transfer may exist but is not booked
    /// (pending), except one order: money already leaving.
    async fn unconfirmed_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError>;
    /// Orders whose payout to the seller was skipped for `reason`, oldest first.
    async fn skipped_payouts(
        &mut self,
        seller: UserId,
        reason: SkipReason,
    ) -> Result<Vec<OrderId>, StoreError>;
    /// The payouts of an order.
    async fn order_payouts(&mut self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError>;
}

/// Transfer reversals, inside a transaction.
#[async_trait]
pub trait ReversalStore: Send {
    /// The pending transfer reversal of (order, seller), locked.
    async fn pending_reversal_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<ReversalRecord>, StoreError>;
    /// Σ amounts of (order, seller)'s reversals that are done or under way.
    async fn reversed_total(&mut self, order: OrderId, seller: UserId)
    -> Result<Cents, StoreError>;
    /// Σ amounts of the reversals of one transfer that are done or under way: Stripe reverses at
    /// most a transfer's amount.
    async fn reversed_from(&mut self, transfer_id: &str) -> Result<Cents, StoreError>;
    /// Σ amounts of a seller's reversals under way (money on its way back) in one currency,
    /// except one order.
    async fn pending_reversals_total(
        &mut self,
        seller: UserId,
        currency: Currency,
        except: OrderId,
    ) -> Result<Cents, StoreError>;
    /// Inserts a reversal.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `transfer_reversals_one_pending`: one under way per
    /// (order, seller).
    async fn insert_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError>;
    /// Writes a reversal's state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError>;
}

/// Payout reads.
#[async_trait]
pub trait PayoutQueries: Send + Sync {
    /// The payouts of an order.
    async fn order_payouts(&self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError>;
    /// A seller's payouts, newest first.
    async fn seller_payouts(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<PayoutRecord>, StoreError>;
    /// Σ of a seller's payouts whose transfer may exist but is not booked yet (pending): money on
    /// its way.
    async fn unconfirmed_payouts(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError>;
    /// An order's transfer reversals, oldest first.
    async fn order_reversals(&self, order: OrderId) -> Result<Vec<ReversalRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The payouts of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn payouts(&mut self) -> Result<&mut (dyn PayoutStore + 'static), StoreError> {
        self.store()
    }

    /// The transfer reversals of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn reversals(&mut self) -> Result<&mut (dyn ReversalStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Payout reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn payouts(&self) -> Result<&dyn PayoutQueries, StoreError> {
        self.get()
    }
}
