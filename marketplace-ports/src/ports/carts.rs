//! Shopping carts: a user's, or an anonymous one known by its token.

use async_trait::async_trait;
use marketplace_domain::ids::{CartId, OrderId, ProductId, UserId};
use time::OffsetDateTime;

use super::listings::{ProductRecord, SellerRow};
use super::uow::{StoreError, Tx};

/// A shopping cart: a user's, or an anonymous one known by its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartRecord {
    /// Id.
    pub id: CartId,
    /// Owner, for logged-in users.
    pub user_id: Option<UserId>,
    /// The order last placed from it (a second placement of the same cart finds it).
    pub last_order_id: Option<OrderId>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A cart line with what the rules need about its product and seller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLineRow {
    /// The product.
    pub product: ProductRecord,
    /// Its seller.
    pub seller: SellerRow,
    /// Quantity.
    pub quantity: u32,
    /// When it was added.
    pub added_at: OffsetDateTime,
}

/// Carts, inside a transaction.
#[async_trait]
pub trait CartStore: Send {
    /// The cart of a user, created if missing, locked for the rest of the transaction.
    async fn user_cart(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError>;
    /// The anonymous cart with this token digest, locked.
    async fn token_cart(&mut self, token_digest: &str) -> Result<Option<CartRecord>, StoreError>;
    /// Creates an anonymous cart.
    async fn insert_token_cart(
        &mut self,
        id: CartId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError>;
    /// The lines of a cart with their products and sellers, oldest first.
    async fn cart_lines(&mut self, cart: CartId) -> Result<Vec<CartLineRow>, StoreError>;
    /// Sets a line's quantity (adding the line if missing).
    async fn set_quantity(
        &mut self,
        cart: CartId,
        product: ProductId,
        quantity: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Removes a line (missing is fine).
    async fn remove_line(&mut self, cart: CartId, product: ProductId) -> Result<(), StoreError>;
    /// Removes every line and remembers the order placed from it (if any).
    async fn clear(
        &mut self,
        cart: CartId,
        placed_order: Option<OrderId>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a cart (after merging it).
    async fn delete_cart(&mut self, cart: CartId) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The carts of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn carts(&mut self) -> Result<&mut (dyn CartStore + 'static), StoreError> {
        self.store()
    }
}
