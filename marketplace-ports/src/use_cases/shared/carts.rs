//! Finding the cart a request is about: a logged-in user's, or an anonymous one known by its
//! token (merged into the user's when both are sent).

use marketplace_domain::cart::added_quantity;
use marketplace_domain::ids::CartId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{CartRecord, Crypto, CryptoError, StoreError, Tx};
use crate::use_cases::Actor;

/// Who the cart belongs to: a logged-in user, the holder of a cart token, or both (then the
/// token's cart is merged into the user's).
#[derive(Clone, Copy, Debug)]
pub struct CartOwner<'a> {
    /// The logged-in user.
    pub actor: Option<&'a Actor>,
    /// The anonymous cart token sent.
    pub token: Option<&'a str>,
}

/// A resolved cart inside a transaction.
#[derive(Clone, Debug)]
pub struct OpenCart {
    /// The cart (locked).
    pub record: CartRecord,
    /// The token to hand back (anonymous carts).
    pub token: Option<String>,
}

/// Why a cart could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenCartError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A new cart token could not be made.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Finds (or, with `create`, makes) the owner's cart, locked, merging an anonymous cart into a
/// user's.
///
/// # Errors
/// Storage failures; [`OpenCartError::Crypto`] when a new token cannot be made.
pub async fn open_cart(
    tx: &mut dyn Tx,
    crypto: &dyn Crypto,
    owner: CartOwner<'_>,
    create: bool,
    now: OffsetDateTime,
) -> Result<Option<OpenCart>, OpenCartError> {
    let anonymous = match owner.token.filter(|t| !t.is_empty() && t.len() <= 256) {
        Some(token) => tx
            .carts()?
            .token_cart(&crypto.digest(token))
            .await?
            .map(|c| (c, token)),
        None => None,
    };
    if let Some(actor) = owner.actor {
        let cart = tx.carts()?.user_cart(actor.user_id, now).await?;
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
    let token = crypto.new_token()?;
    let record = tx
        .carts()?
        .insert_token_cart(
            CartId::from_uuid(Uuid::now_v7()),
            &crypto.digest(&token),
            now,
        )
        .await?;
    Ok(Some(OpenCart {
        record,
        token: Some(token),
    }))
}

/// Moves an anonymous cart's lines into another cart (quantities add, capped) and deletes it.
async fn merge(
    tx: &mut dyn Tx,
    from: CartId,
    into: CartId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let target = tx.carts()?.cart_lines(into).await?;
    for line in tx.carts()?.cart_lines(from).await? {
        let existing = target
            .iter()
            .find(|t| t.product.id == line.product.id)
            .map_or(0, |t| t.quantity);
        let quantity = if existing == 0 {
            line.quantity
        } else {
            added_quantity(line.product.listing.kind, existing, line.quantity)
        };
        tx.carts()?
            .set_quantity(into, line.product.id, quantity, now)
            .await?;
    }
    tx.carts()?.delete_cart(from).await
}
