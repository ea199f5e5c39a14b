//! Orders: the domain's [`Order`] (its data and lines) as stores keep it, and its history.

use async_trait::async_trait;
use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::orders::{Order, OrderEvent, OrderEventKind, OrderStatus};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::listings::AssetRecord;
use super::uow::{Queries, StoreError, Tx};

/// An entry of an order's history, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEventRecord {
    /// What happened.
    pub kind: OrderEventKind,
    /// Details.
    pub message: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// Which orders to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Orders of this buyer.
    pub buyer: Option<UserId>,
    /// Orders containing this seller's lines.
    pub seller: Option<UserId>,
    /// Only orders that were paid (paid or any refunded state).
    pub paid_only: bool,
}

/// How owners look an order up by what they have at hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderLookup {
    /// Its id.
    Id(OrderId),
    /// A Checkout Session, payment intent or charge id, exactly.
    StripeId(String),
    /// Part of the buyer's account e-mail or the guest's e-mail, any case.
    Email(String),
}

/// Which orders owners list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerOrderFilter {
    /// Found by id, Stripe id or e-mail.
    pub lookup: Option<OrderLookup>,
    /// In this status.
    pub status: Option<OrderStatus>,
    /// With a line of this seller.
    pub seller: Option<UserId>,
    /// Placed at or after.
    pub since: Option<OffsetDateTime>,
    /// Placed before.
    pub until: Option<OffsetDateTime>,
    /// With reconciliation flags (`true`) or without (`false`).
    pub flagged: Option<bool>,
}

/// An order in the owners' list: the order with its lines, who bought it and its flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerOrderRow {
    /// The order.
    pub order: Order,
    /// The buyer's account e-mail, or the guest's.
    pub email: String,
    /// Its reconciliation flag codes, sorted.
    pub flags: Vec<String>,
}

/// Orders, inside a transaction.
#[async_trait]
pub trait OrderStore: Send {
    /// Inserts a new order with its lines.
    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError>;
    /// An order with its lines, locked for the rest of the transaction (payments, refunds and
    /// payouts of one order run one after the other).
    async fn get_order_for_update(&mut self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// The order a Checkout Session, payment intent or charge belongs to.
    async fn find_order_by_stripe_id(
        &mut self,
        stripe_id: &str,
    ) -> Result<Option<OrderId>, StoreError>;
    /// Writes what can change on an order (status, refunded amount, payment, Stripe ids,
    /// shipping address, update time). Lines never change.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist.
    async fn update_order(&mut self, order: &Order) -> Result<(), StoreError>;
    /// Appends to the order's history, in the given order.
    async fn add_events(
        &mut self,
        order: OrderId,
        events: &[OrderEvent],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// Order reads.
#[async_trait]
pub trait OrderQueries: Send + Sync {
    /// An order with its lines.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// An order's history, oldest first.
    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRecord>, StoreError>;
    /// Orders matching a filter with their lines, newest first.
    async fn list_orders(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, StoreError>;
    /// The downloadable files of an order's FILE lines.
    async fn order_assets(&self, id: OrderId) -> Result<Vec<AssetRecord>, StoreError>;
    /// The order a Checkout Session belongs to.
    async fn order_by_session(&self, session_id: &str) -> Result<Option<OrderId>, StoreError>;
    /// Orders matching the owners' filter, newest first.
    async fn owner_orders(
        &self,
        filter: &OwnerOrderFilter,
        page: PageRequest,
    ) -> Result<Page<OwnerOrderRow>, StoreError>;
}

impl dyn Tx + '_ {
    /// The orders of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn orders(&mut self) -> Result<&mut (dyn OrderStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Order reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn orders(&self) -> Result<&dyn OrderQueries, StoreError> {
        self.get()
    }
}
