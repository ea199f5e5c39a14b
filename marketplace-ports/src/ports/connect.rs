//! Sellers' Stripe Connect accounts.

use async_trait::async_trait;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::UserId;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A seller's Stripe Connect account row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectAccountRecord {
    /// Seller.
    pub user_id: UserId,
    /// Account id and capability flags.
    pub status: ConnectStatus,
    /// First onboarding attempt.
    pub onboarding_started_at: Option<OffsetDateTime>,
    /// When the account first became ready.
    pub onboarding_completed_at: Option<OffsetDateTime>,
    /// Stripe's `created` of the last `account.updated` applied (older events are ignored).
    pub status_event_at: Option<OffsetDateTime>,
    /// When the status was last read from Stripe.
    pub synced_at: Option<OffsetDateTime>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl ConnectAccountRecord {
    /// Applies Stripe's view of the account: from an `account.updated` created at
    /// `event_created` (ignored, `None`, when an event created later was applied already) or
    /// from a direct read (`None`: always applies). Returns whether the seller was ready before
    /// and is now; the first time they are, the onboarding is complete.
    pub fn apply_status(
        &mut self,
        status: ConnectStatus,
        event_created: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Option<(bool, bool)> {
        if let (Some(created), Some(applied)) = (event_created, self.status_event_at)
            && created < applied
        {
            return None;
        }
        let was_ready = self.status.is_ready();
        self.status = status;
        if event_created.is_some() {
            self.status_event_at = event_created;
        } else {
            self.synced_at = Some(now);
        }
        let ready = self.status.is_ready();
        if ready && self.onboarding_completed_at.is_none() {
            self.onboarding_completed_at = Some(now);
        }
        self.updated_at = now;
        Some((was_ready, ready))
    }
}

/// Connect account rows, inside a transaction.
#[async_trait]
pub trait ConnectStore: Send {
    /// The account row of a seller.
    async fn get_connect(
        &mut self,
        user: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
    /// Creates the account row of a seller.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `seller_connect_accounts_pkey` when the seller has one already.
    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError>;
    /// Replaces the account row of a seller.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the seller has none.
    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError>;
    /// The account row with this Stripe account id, locked.
    async fn find_connect_by_account(
        &mut self,
        account_id: &str,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
}

/// Connect reads.
#[async_trait]
pub trait ConnectQueries: Send + Sync {
    /// A seller's Connect account row.
    async fn connect_account(
        &self,
        seller: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The Connect accounts of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn connect(&mut self) -> Result<&mut (dyn ConnectStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Connect reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn connect(&self) -> Result<&dyn ConnectQueries, StoreError> {
        self.get()
    }
}
