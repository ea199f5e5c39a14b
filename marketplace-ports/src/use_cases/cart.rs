//! The server-side cart: one per logged-in user, or an anonymous one known by a cart token; an
//! anonymous cart sent by a logged-in user is merged into theirs. Lines whose listing became
//! unavailable are dropped when the cart is read, and reported.

use crate::use_cases::discovery::Visitor;
use marketplace_domain::cart::{
    Addable, CartRefusal, added_quantity, cart_quantity, check_addable,
};
use marketplace_domain::catalog::ProductKind;
use marketplace_domain::engagement::EngagementKind;
use marketplace_domain::ids::{ProductId, UserId};
use marketplace_domain::money::{Cents, Currency, MoneyError};
use marketplace_domain::validation::FieldErrors;

pub use super::shared::carts::CartOwner;
use super::shared::carts::{OpenCart, OpenCartError, open_cart};
use super::shared::sellers::can_sell;
use crate::ports::{CartLineRow, CryptoError, ProductRecord, StoreError, Tx};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a cart operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// Bad input (quantity).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The product cannot go into the cart, for this reason.
    #[error("{0}")]
    Refused(CartRefusal),
    /// No such product, or no such line in the cart.
    #[error("no such product in the catalog or cart")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Token generation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl From<OpenCartError> for CartError {
    fn from(error: OpenCartError) -> Self {
        match error {
            OpenCartError::Store(e) => CartError::Store(e),
            OpenCartError::Crypto(e) => CartError::Crypto(e),
        }
    }
}

/// The kind of a refusal to sell a product to this buyer, with a code per reason (shared by the
/// cart and by placing an order).
pub fn refusal_kind(reason: &CartRefusal, message: String) -> ErrorKind {
    let code = match reason {
        CartRefusal::InvalidQuantity => {
            return ErrorKind::Invalid(FieldErrors::single("quantity", message));
        }
        CartRefusal::Inactive => "listing_unavailable",
        CartRefusal::SellerNotReady => "seller_not_ready",
        CartRefusal::OwnListing => "own_listing",
    };
    ErrorKind::Conflict { code }
}

impl UseCaseError for CartError {
    fn kind(&self) -> ErrorKind {
        match self {
            CartError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            CartError::Refused(reason) => refusal_kind(reason, reason.to_string()),
            CartError::NotFound => ErrorKind::NotFound,
            CartError::Store(e) => e.kind(),
            CartError::Crypto(e) => e.kind(),
            CartError::Money(e) => {
                ErrorKind::Invalid(FieldErrors::single("quantity", e.to_string()))
            }
        }
    }
}

/// A line of the cart as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLineView {
    /// Product.
    pub product_id: ProductId,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: ProductKind,
    /// Seller.
    pub seller_id: UserId,
    /// Seller's public name.
    pub seller_name: String,
    /// Quantity.
    pub quantity: u32,
    /// Unit price (0 when free).
    pub unit_price: Cents,
    /// `quantity × unit_price`.
    pub line_total: Cents,
    /// The seller can be paid now.
    pub can_buy: bool,
}

/// A line dropped because it became unavailable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedLine {
    /// Product.
    pub product_id: ProductId,
    /// Title.
    pub title: String,
    /// Why.
    pub reason: String,
}

/// The cart as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartView {
    /// The anonymous cart's token (send it back as `X-Cart-Token`); `None` for users' carts and
    /// when no cart exists yet.
    pub token: Option<String>,
    /// Lines, oldest first.
    pub lines: Vec<CartLineView>,
    /// Σ line totals.
    pub subtotal: Cents,
    /// Currency.
    pub currency: Currency,
    /// True when there are lines and every seller can be paid.
    pub can_checkout: bool,
    /// Sellers who cannot be paid yet (their lines block checkout).
    pub unready_sellers: Vec<String>,
    /// Lines dropped now because they became unavailable.
    pub removed: Vec<RemovedLine>,
}

operation_group!(
    /// Carts.
    Carts
);

impl Carts {
    /// The cart, dropping lines whose listing became unavailable.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn view(&self, owner: CartOwner<'_>) -> Result<CartView, CartError> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        let view = render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    async fn open(
        &self,
        tx: &mut dyn Tx,
        owner: CartOwner<'_>,
        create: bool,
    ) -> Result<Option<OpenCart>, CartError> {
        let now = self.deps.clock.now();
        Ok(open_cart(tx, self.deps.crypto.as_ref(), owner, create, now).await?)
    }

    /// Adds a product (quantities add up; files stay at 1).
    ///
    /// # Errors
    /// [`CartError::Refused`] with the reason (inactive, seller not ready, own listing),
    /// [`CartError::Invalid`] for a bad quantity, [`CartError::NotFound`].
    pub async fn add(
        &self,
        owner: CartOwner<'_>,
        product: ProductId,
        quantity: i64,
    ) -> Result<CartView, CartError> {
        let mut tx = self.deps.uow.begin().await?;
        // The lock order of docs/architecture.md: the cart before its products (placing an order
        // holds the cart while it references the products).
        let cart = self
            .open(tx.as_mut(), owner, true)
            .await?
            .ok_or(CartError::NotFound)?;
        let record = tx
            .products()?
            .get_product_for_share(product)
            .await?
            .ok_or(CartError::NotFound)?;
        let quantity = cart_quantity(record.listing.kind, quantity)
            .map_err(|e| CartError::Invalid(FieldErrors::single("quantity", e.to_string())))?;
        check_addable(addable(tx.as_mut(), &record, owner.actor).await?)
            .map_err(CartError::Refused)?;
        let lines = tx.carts()?.cart_lines(cart.record.id).await?;
        let existing = lines
            .iter()
            .find(|l| l.product.id == product)
            .map_or(0, |l| l.quantity);
        let quantity = if existing == 0 {
            quantity
        } else {
            added_quantity(record.listing.kind, existing, quantity)
        };
        let now = self.deps.clock.now();
        tx.carts()?
            .set_quantity(cart.record.id, product, quantity, now)
            .await?;
        let view = render(tx.as_mut(), Some(&cart), owner.actor).await?;
        tx.commit().await?;
        if existing == 0 {
            // Counted once per cart: only the add that creates the product's line.
            let visitor = Visitor(format!("cart:{}", cart.record.id));
            self.deps
                .engagement
                .record(&visitor, product, EngagementKind::AddToCart, now);
        }
        Ok(view)
    }

    /// Sets a line's quantity; 0 removes it. A line whose listing became unavailable is removed and
    /// reported in `removed`.
    ///
    /// # Errors
    /// [`CartError::NotFound`] when the product is not in the cart.
    pub async fn set_quantity(
        &self,
        owner: CartOwner<'_>,
        product: ProductId,
        quantity: i64,
    ) -> Result<CartView, CartError> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self
            .open(tx.as_mut(), owner, false)
            .await?
            .ok_or(CartError::NotFound)?;
        let lines = tx.carts()?.cart_lines(cart.record.id).await?;
        let line = lines
            .iter()
            .find(|l| l.product.id == product)
            .ok_or(CartError::NotFound)?;
        let now = self.deps.clock.now();
        let mut removed = Vec::new();
        if quantity == 0 {
            tx.carts()?.remove_line(cart.record.id, product).await?;
        } else {
            let quantity = cart_quantity(line.product.listing.kind, quantity)
                .map_err(|e| CartError::Invalid(FieldErrors::single("quantity", e.to_string())))?;
            match check_addable(addable(tx.as_mut(), &line.product, owner.actor).await?) {
                Ok(()) => {
                    tx.carts()?
                        .set_quantity(cart.record.id, product, quantity, now)
                        .await?
                }
                Err(reason) => {
                    tx.carts()?.remove_line(cart.record.id, product).await?;
                    removed.push(RemovedLine {
                        product_id: product,
                        title: line.product.listing.title.clone(),
                        reason: reason.to_string(),
                    });
                }
            }
        }
        let mut view = render(tx.as_mut(), Some(&cart), owner.actor).await?;
        view.removed.extend(removed);
        tx.commit().await?;
        Ok(view)
    }

    /// Removes a line (a missing one is fine).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn remove(
        &self,
        owner: CartOwner<'_>,
        product: ProductId,
    ) -> Result<CartView, CartError> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        if let Some(cart) = &cart {
            tx.carts()?.remove_line(cart.record.id, product).await?;
        }
        let view = render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Empties the cart.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn clear(&self, owner: CartOwner<'_>) -> Result<CartView, CartError> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        if let Some(cart) = &cart {
            tx.carts()?
                .clear(cart.record.id, None, self.deps.clock.now())
                .await?;
        }
        let view = render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Merges the anonymous cart behind `token` into the user's cart (at login).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn merge_into_user(&self, actor: &Actor, token: &str) -> Result<(), CartError> {
        let mut tx = self.deps.uow.begin().await?;
        let owner = CartOwner {
            actor: Some(actor),
            token: Some(token),
        };
        self.open(tx.as_mut(), owner, false).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Builds the view, dropping lines whose listing became inactive.
async fn render(
    tx: &mut dyn Tx,
    cart: Option<&OpenCart>,
    actor: Option<&Actor>,
) -> Result<CartView, CartError> {
    let currency = tx.site_config()?.site_config().await?.currency;
    let Some(cart) = cart else {
        return Ok(CartView {
            token: None,
            lines: Vec::new(),
            subtotal: Cents::ZERO,
            currency,
            can_checkout: false,
            unready_sellers: Vec::new(),
            removed: Vec::new(),
        });
    };
    let buyer_is_owner = actor.is_some_and(|a| a.roles.is_owner());
    let mut lines = Vec::new();
    let mut removed = Vec::new();
    let mut unready_sellers: Vec<String> = Vec::new();
    for row in tx.carts()?.cart_lines(cart.record.id).await? {
        if !row.product.listing.is_active {
            tx.carts()?
                .remove_line(cart.record.id, row.product.id)
                .await?;
            removed.push(RemovedLine {
                product_id: row.product.id,
                title: row.product.listing.title.clone(),
                reason: CartRefusal::Inactive.to_string(),
            });
            continue;
        }
        let view = line_view(&row, buyer_is_owner)?;
        if !view.can_buy && !unready_sellers.contains(&view.seller_name) {
            unready_sellers.push(view.seller_name.clone());
        }
        lines.push(view);
    }
    let subtotal = Cents::sum(lines.iter().map(|l| l.line_total))?;
    Ok(CartView {
        token: cart.token.clone(),
        can_checkout: !lines.is_empty() && unready_sellers.is_empty(),
        lines,
        subtotal,
        currency,
        unready_sellers,
        removed,
    })
}

fn line_view(row: &CartLineRow, buyer_is_owner: bool) -> Result<CartLineView, MoneyError> {
    let unit_price = row.product.listing.unit_price();
    Ok(CartLineView {
        product_id: row.product.id,
        title: row.product.listing.title.clone(),
        kind: row.product.listing.kind,
        seller_id: row.seller.id,
        seller_name: row.seller.public_name(),
        quantity: row.quantity,
        unit_price,
        line_total: unit_price.checked_mul(row.quantity)?,
        can_buy: buyer_is_owner || row.seller.can_sell(),
    })
}

/// What the cart rules need about a product for this buyer.
async fn addable(
    tx: &mut dyn Tx,
    product: &ProductRecord,
    actor: Option<&Actor>,
) -> Result<Addable, StoreError> {
    Ok(Addable {
        is_active: product.listing.is_active,
        seller_can_sell: can_sell(tx, product.seller_id).await?,
        buyer_is_owner: actor.is_some_and(|a| a.roles.is_owner()),
        is_own_listing: actor.is_some_and(|a| a.user_id == product.seller_id),
    })
}
