//! The server-side cart (SPEC §3.4): one per logged-in user, or an anonymous one known by a cart
//! token; an anonymous cart sent by a logged-in user is merged into theirs.

use marketplace_domain::account::public_seller_name;
use marketplace_domain::cart::{Addable, CartError, added_quantity, cart_quantity, check_addable};
use marketplace_domain::connect::seller_can_sell;
use marketplace_domain::ids::{CartId, ProductId, UserId};
use marketplace_domain::money::{Cents, Currency, MoneyError};
use marketplace_domain::product::ProductKind;
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::{Actor, Deps};
use crate::ports::{CartLineRow, CartRecord, CryptoError, StoreError, Tx};

/// Why a cart operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CartFailure {
    /// Bad input (quantity).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The product cannot go into the cart, for this reason.
    #[error("{0}")]
    Refused(CartError),
    /// No such product, or no such line in the cart.
    #[error("not found")]
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

/// Who the cart belongs to: a logged-in user, the holder of a cart token, or both (then the
/// token's cart is merged into the user's).
#[derive(Clone, Copy, Debug)]
pub struct CartOwner<'a> {
    /// The logged-in user.
    pub actor: Option<&'a Actor>,
    /// The anonymous cart token sent.
    pub token: Option<&'a str>,
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

/// A resolved cart inside a transaction.
pub(crate) struct OpenCart {
    pub(crate) record: CartRecord,
    /// The token to hand back (anonymous carts).
    pub(crate) token: Option<String>,
}

/// Cart operations.
#[derive(Clone)]
pub struct CartService {
    deps: Deps,
}

impl CartService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        CartService { deps }
    }

    /// Finds (or, with `create`, makes) the owner's cart, merging an anonymous cart into a user's.
    pub(crate) async fn open(
        &self,
        tx: &mut dyn Tx,
        owner: CartOwner<'_>,
        create: bool,
    ) -> Result<Option<OpenCart>, CartFailure> {
        let now = self.deps.clock.now();
        let anonymous = match owner.token.filter(|t| !t.is_empty() && t.len() <= 256) {
            Some(token) => tx
                .carts()
                .token_cart(&self.deps.crypto.digest(token))
                .await?
                .map(|c| (c, token)),
            None => None,
        };
        if let Some(actor) = owner.actor {
            let cart = tx.carts().user_cart(actor.user_id, now).await?;
            if let Some((guest_cart, _)) = anonymous.filter(|(c, _)| c.id != cart.id) {
                merge(tx, guest_cart.id, cart.id, now).await?;
            }
            return Ok(Some(OpenCart {
                record: cart,
                token: None,
            }));
        }
        if let Some((cart, token)) = anonymous {
            return Ok(Some(OpenCart {
                record: cart,
                token: Some(token.to_owned()),
            }));
        }
        if !create {
            return Ok(None);
        }
        let token = self.deps.crypto.new_token()?;
        let record = tx
            .carts()
            .insert_token_cart(
                CartId::from_uuid(Uuid::now_v7()),
                &self.deps.crypto.digest(&token),
                now,
            )
            .await?;
        Ok(Some(OpenCart {
            record,
            token: Some(token),
        }))
    }

    /// The cart, dropping lines whose listing became unavailable.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn view(&self, owner: CartOwner<'_>) -> Result<CartView, CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        let view = self.render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Adds a product (quantities add up; files stay at 1).
    ///
    /// # Errors
    /// [`CartFailure::Refused`] with the reason (inactive, seller not ready, own listing),
    /// [`CartFailure::Invalid`] for a bad quantity, [`CartFailure::NotFound`].
    pub async fn add(
        &self,
        owner: CartOwner<'_>,
        product: ProductId,
        quantity: i64,
    ) -> Result<CartView, CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        let record = tx
            .products()
            .get_product_for_update(product)
            .await?
            .ok_or(CartFailure::NotFound)?;
        let quantity = cart_quantity(record.kind, quantity)
            .map_err(|e| CartFailure::Invalid(FieldErrors::single("quantity", e.to_string())))?;
        check_addable(addable(tx.as_mut(), &record, owner.actor).await?)
            .map_err(CartFailure::Refused)?;
        let cart = self
            .open(tx.as_mut(), owner, true)
            .await?
            .ok_or(CartFailure::NotFound)?;
        let lines = tx.carts().cart_lines(cart.record.id).await?;
        let existing = lines
            .iter()
            .find(|l| l.product.id == product)
            .map_or(0, |l| l.quantity);
        let quantity = if existing == 0 {
            quantity
        } else {
            added_quantity(record.kind, existing, quantity)
        };
        let now = self.deps.clock.now();
        tx.carts()
            .set_quantity(cart.record.id, product, quantity, now)
            .await?;
        let view = self.render(tx.as_mut(), Some(&cart), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Sets a line's quantity; 0 removes it. A line whose listing became unavailable is removed and
    /// reported in `removed`.
    ///
    /// # Errors
    /// [`CartFailure::NotFound`] when the product is not in the cart.
    pub async fn set_quantity(
        &self,
        owner: CartOwner<'_>,
        product: ProductId,
        quantity: i64,
    ) -> Result<CartView, CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self
            .open(tx.as_mut(), owner, false)
            .await?
            .ok_or(CartFailure::NotFound)?;
        let lines = tx.carts().cart_lines(cart.record.id).await?;
        let line = lines
            .iter()
            .find(|l| l.product.id == product)
            .ok_or(CartFailure::NotFound)?;
        let now = self.deps.clock.now();
        let mut removed = Vec::new();
        if quantity == 0 {
            tx.carts().remove_line(cart.record.id, product).await?;
        } else {
            let quantity = cart_quantity(line.product.kind, quantity).map_err(|e| {
                CartFailure::Invalid(FieldErrors::single("quantity", e.to_string()))
            })?;
            match check_addable(addable(tx.as_mut(), &line.product, owner.actor).await?) {
                Ok(()) => {
                    tx.carts()
                        .set_quantity(cart.record.id, product, quantity, now)
                        .await?
                }
                Err(reason) => {
                    tx.carts().remove_line(cart.record.id, product).await?;
                    removed.push(RemovedLine {
                        product_id: product,
                        title: line.product.title.clone(),
                        reason: reason.to_string(),
                    });
                }
            }
        }
        let mut view = self.render(tx.as_mut(), Some(&cart), owner.actor).await?;
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
    ) -> Result<CartView, CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        if let Some(cart) = &cart {
            tx.carts().remove_line(cart.record.id, product).await?;
        }
        let view = self.render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Empties the cart.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn clear(&self, owner: CartOwner<'_>) -> Result<CartView, CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        let cart = self.open(tx.as_mut(), owner, false).await?;
        if let Some(cart) = &cart {
            tx.carts()
                .clear(cart.record.id, None, self.deps.clock.now())
                .await?;
        }
        let view = self.render(tx.as_mut(), cart.as_ref(), owner.actor).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Merges the anonymous cart behind `token` into the user's cart (at login).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn merge_into_user(&self, actor: &Actor, token: &str) -> Result<(), CartFailure> {
        let mut tx = self.deps.uow.begin().await?;
        self.open(
            tx.as_mut(),
            CartOwner {
                actor: Some(actor),
                token: Some(token),
            },
            false,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Builds the view, dropping lines whose listing became inactive.
    async fn render(
        &self,
        tx: &mut dyn Tx,
        cart: Option<&OpenCart>,
        actor: Option<&Actor>,
    ) -> Result<CartView, CartFailure> {
        let currency = tx.platform().site_config().await?.currency;
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
        for row in tx.carts().cart_lines(cart.record.id).await? {
            if !row.product.is_active {
                tx.carts()
                    .remove_line(cart.record.id, row.product.id)
                    .await?;
                removed.push(RemovedLine {
                    product_id: row.product.id,
                    title: row.product.title.clone(),
                    reason: CartError::Inactive.to_string(),
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
}

fn line_view(row: &CartLineRow, buyer_is_owner: bool) -> Result<CartLineView, MoneyError> {
    let unit_price = if row.product.is_free {
        Cents::ZERO
    } else {
        row.product.price
    };
    Ok(CartLineView {
        product_id: row.product.id,
        title: row.product.title.clone(),
        kind: row.product.kind,
        seller_id: row.seller.id,
        seller_name: public_seller_name(&row.seller.shop_name, &row.seller.username),
        quantity: row.quantity,
        unit_price,
        line_total: unit_price.checked_mul(row.quantity)?,
        can_buy: buyer_is_owner || seller_can_sell(row.seller.roles, row.seller.connect.as_ref()),
    })
}

/// What the cart rules need about a product for this buyer.
async fn addable(
    tx: &mut dyn Tx,
    product: &crate::ports::ProductRecord,
    actor: Option<&Actor>,
) -> Result<Addable, CartFailure> {
    let seller = tx.users().get_user(product.seller_id).await?;
    let connect = tx.connect().get_connect(product.seller_id).await?;
    let seller_roles = seller.map(|s| s.roles).unwrap_or_default();
    Ok(Addable {
        is_active: product.is_active,
        seller_can_sell: seller_can_sell(seller_roles, connect.as_ref().map(|c| &c.status)),
        buyer_is_owner: actor.is_some_and(|a| a.roles.is_owner()),
        is_own_listing: actor.is_some_and(|a| a.user_id == product.seller_id),
    })
}

/// Moves an anonymous cart's lines into another cart (quantities add, capped) and deletes it.
async fn merge(
    tx: &mut dyn Tx,
    from: CartId,
    into: CartId,
    now: time::OffsetDateTime,
) -> Result<(), CartFailure> {
    let target = tx.carts().cart_lines(into).await?;
    for line in tx.carts().cart_lines(from).await? {
        let existing = target
            .iter()
            .find(|t| t.product.id == line.product.id)
            .map_or(0, |t| t.quantity);
        let quantity = if existing == 0 {
            line.quantity
        } else {
            added_quantity(line.product.kind, existing, line.quantity)
        };
        tx.carts()
            .set_quantity(into, line.product.id, quantity, now)
            .await?;
    }
    tx.carts().delete_cart(from).await?;
    Ok(())
}
