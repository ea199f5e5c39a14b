//! Buyers' refund requests for physical lines of paid orders, with the history of every decision
//! (docs/money.md, "Refund requests").

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::{RefundProgress, RefundReason, RefundRequestStatus};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A refund request as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequestRecord {
    /// Id (its Stripe idempotency key is derived from it).
    pub id: RefundRequestId,
    /// The order.
    pub order_id: OrderId,
    /// The line it is for.
    pub order_item_id: OrderItemId,
    /// The line's seller (who decides).
    pub seller_id: UserId,
    /// The registered buyer (none for a guest's order).
    pub buyer_id: Option<UserId>,
    /// Why.
    pub reason: RefundReason,
    /// The buyer's notes.
    pub notes: String,
    /// The amount snapshotted when it was made.
    pub amount: Cents,
    /// The order's currency.
    pub currency: Currency,
    /// Where it stands: status, Stripe attempts, and whether one is in flight.
    pub progress: RefundProgress,
    /// Stripe's refund, once made.
    pub stripe_refund_id: Option<String>,
    /// Why Stripe refused, for a failed request.
    pub last_error: Option<String>,
    /// Made.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// One step in a request's history: who moved it where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequestStep {
    /// The state it moved to (or stayed in, for a refund asked for again).
    pub status: RefundRequestStatus,
    /// Who (none for a guest or the system).
    pub actor_id: Option<UserId>,
    /// The note given.
    pub note: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// Which refund requests to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefundRequestFilter {
    /// A buyer's.
    pub buyer: Option<UserId>,
    /// A seller's queue.
    pub seller: Option<UserId>,
    /// In one state.
    pub status: Option<RefundRequestStatus>,
}

/// Refund requests, inside a transaction.
#[async_trait]
pub trait RefundRequestStore: Send {
    /// Records a new request.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `refund_requests_one_per_line` when a request holds the line.
    async fn insert_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError>;
    /// A request, locked.
    async fn refund_request_for_update(
        &mut self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError>;
    /// Writes a request's state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_refund_request(
        &mut self,
        request: &RefundRequestRecord,
    ) -> Result<(), StoreError>;
    /// Appends a step to a request's history.
    async fn add_refund_request_step(
        &mut self,
        id: RefundRequestId,
        step: &RefundRequestStep,
    ) -> Result<(), StoreError>;
    /// True when a request holds the line (requested, approved, refunded or failed).
    async fn line_is_requested(&mut self, line: OrderItemId) -> Result<bool, StoreError>;
    /// The order's requests with a Stripe refund in flight, locked (the refund job sends them).
    async fn refunds_in_flight(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<RefundRequestRecord>, StoreError>;
}

/// Refund request reads.
#[async_trait]
pub trait RefundRequestQueries: Send + Sync {
    /// One request.
    async fn refund_request(
        &self,
        id: RefundRequestId,
    ) -> Result<Option<RefundRequestRecord>, StoreError>;
    /// Its history, oldest first.
    async fn refund_request_steps(
        &self,
        id: RefundRequestId,
    ) -> Result<Vec<RefundRequestStep>, StoreError>;
    /// Requests matching the filter, newest first.
    async fn refund_requests(
        &self,
        filter: RefundRequestFilter,
        page: PageRequest,
    ) -> Result<Page<RefundRequestRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The refund requests of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn refund_requests(
        &mut self,
    ) -> Result<&mut (dyn RefundRequestStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Refund request reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn refund_requests(&self) -> Result<&dyn RefundRequestQueries, StoreError> {
        self.get()
    }
}
