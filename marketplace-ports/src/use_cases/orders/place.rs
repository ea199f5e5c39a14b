//! Placing an order from the cart in one transaction: the cart is emptied only if the order
//! commits, and placing the same cart twice (concurrently or later) makes one order: the second
//! placement finds the cart empty (`cart_empty`).

use marketplace_domain::accounts::Email;
use marketplace_domain::cart::{Addable, CartRefusal, check_addable};
use marketplace_domain::ids::{OrderId, OrderItemId};
use marketplace_domain::orders::{
    CartItem, NewLine, NewOrder, Order, OrderStateError, PricingError, PricingTerms, price_order,
};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use crate::ports::{CryptoError, StoreError};
use crate::use_cases::cart::refusal_kind;
use crate::use_cases::shared::booking::record_events;
use crate::use_cases::shared::carts::{CartOwner, OpenCartError, open_cart};
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why an order could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    /// Bad input (guest e-mail).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Nothing in the cart.
    #[error("the cart is empty")]
    EmptyCart,
    /// A line cannot be bought, for this reason.
    #[error("{title}: {reason}")]
    Refused {
        /// The product's title.
        title: String,
        /// Why.
        reason: CartRefusal,
    },
    /// The order could not be priced.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// The order could not be built (a bug).
    #[error(transparent)]
    State(#[from] OrderStateError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Token generation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<OpenCartError> for PlaceOrderError {
    fn from(error: OpenCartError) -> Self {
        match error {
            OpenCartError::Store(e) => PlaceOrderError::Store(e),
            OpenCartError::Crypto(e) => PlaceOrderError::Crypto(e),
        }
    }
}

impl UseCaseError for PlaceOrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            PlaceOrderError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            PlaceOrderError::EmptyCart => ErrorKind::Conflict { code: "cart_empty" },
            PlaceOrderError::Refused { reason, .. } => refusal_kind(reason, self.to_string()),
            PlaceOrderError::Pricing(_) => ErrorKind::Unprocessable {
                code: "cannot_price_order",
            },
            PlaceOrderError::State(_) => ErrorKind::Internal,
            PlaceOrderError::Store(e) => e.kind(),
            PlaceOrderError::Crypto(e) => e.kind(),
        }
    }
}

/// The outcome of placing an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The order (guests read their access token from it).
    pub order: Order,
}

operation_group!(
    /// Placing orders.
    OrderPlacement
);

impl OrderPlacement {
    /// Places an order from the cart.
    ///
    /// # Errors
    /// [`PlaceOrderError::EmptyCart`], [`PlaceOrderError::Refused`], [`PlaceOrderError::Invalid`]
    /// (guest e-mail).
    pub async fn place(
        &self,
        owner: CartOwner<'_>,
        guest_email: Option<&str>,
    ) -> Result<Placed, PlaceOrderError> {
        let guest_email = match owner.actor {
            Some(_) => None,
            None => Some(parse_guest_email(guest_email)?),
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        // Opening the cart locks it: concurrent placements of one cart run one after the other.
        let cart = open_cart(tx.as_mut(), self.deps.crypto.as_ref(), owner, false, now)
            .await?
            .ok_or(PlaceOrderError::EmptyCart)?;
        let lines = tx.carts()?.cart_lines(cart.record.id).await?;
        // An emptied cart is refused, even moments after it became an order: handing that order
        // (and a guest's token) to whoever holds the cart would leak it. A second placement racing
        // the first waits on the cart's lock and finds it empty: one order.
        if lines.is_empty() {
            return Err(PlaceOrderError::EmptyCart);
        }
        let buyer_is_owner = owner.actor.is_some_and(|a| a.roles.is_owner());
        let mut cart_items = Vec::with_capacity(lines.len());
        let mut named = Vec::with_capacity(lines.len());
        for line in &lines {
            let product = &line.product;
            let facts = Addable {
                is_active: product.listing.is_active,
                seller_can_sell: line.seller.can_sell(),
                buyer_is_owner,
                is_own_listing: owner.actor.is_some_and(|a| a.user_id == product.seller_id),
            };
            check_addable(facts).map_err(|reason| PlaceOrderError::Refused {
                title: product.listing.title.clone(),
                reason,
            })?;
            cart_items.push(CartItem {
                product: product.id,
                seller: product.seller_id,
                kind: product.listing.kind,
                unit_price: product.listing.price,
                is_free: product.listing.is_free,
                quantity: line.quantity,
            });
            named.push(NewLine {
                id: OrderItemId::from_uuid(Uuid::now_v7()),
                title: product.listing.title.clone(),
            });
        }
        let config = tx.site_config()?.site_config().await?;
        let terms = PricingTerms::new(config.fee.basis_points(), config.currency);
        let priced = price_order(&cart_items, &terms)?;
        let (order, created) = Order::place(
            NewOrder {
                id: OrderId::from_uuid(Uuid::now_v7()),
                buyer_id: owner.actor.map(|a| a.user_id),
                guest_email: guest_email.map(|e| e.as_str().to_owned()),
                access_token: self.deps.crypto.new_token()?,
                priced,
                lines: named,
                dispute_fee_to_sellers: config.dispute_fee_to_sellers,
            },
            now,
        )?;
        tx.orders()?.insert_order(&order).await?;
        record_events(tx.as_mut(), order.id, &[created], now).await?;
        tx.carts()?
            .clear(cart.record.id, Some(order.id), now)
            .await?;
        tx.commit().await?;
        Ok(Placed { order })
    }
}

/// A guest must give a valid e-mail (where the receipt and download links go).
fn parse_guest_email(raw: Option<&str>) -> Result<Email, PlaceOrderError> {
    let raw = raw
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            PlaceOrderError::Invalid(FieldErrors::single(
                "guest_email",
                "an e-mail is required to check out as a guest",
            ))
        })?;
    Email::parse(raw)
        .map_err(|e| PlaceOrderError::Invalid(FieldErrors::single("guest_email", e.to_string())))
}
