//! Cart rules: quantities, merging an anonymous cart into a user's, and which products
//! may be added.

use crate::catalog::ProductKind;
use crate::orders::MAX_QUANTITY;

/// Why a product cannot go into a cart (or stay in it when its quantity changes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartRefusal {
    /// Quantity outside 1..=99.
    #[error("quantity must be between 1 and {MAX_QUANTITY}")]
    InvalidQuantity,
    /// The listing is inactive.
    #[error("this listing is not available")]
    Inactive,
    /// The seller cannot receive payouts yet.
    #[error("the seller hasn't completed payout setup yet")]
    SellerNotReady,
    /// A seller buying their own listing.
    #[error("you cannot buy your own listing")]
    OwnListing,
}

/// The quantity stored for a request: files are always 1; others must be 1..=99.
///
/// # Errors
/// [`CartRefusal::InvalidQuantity`].
pub fn cart_quantity(kind: ProductKind, requested: i64) -> Result<u32, CartRefusal> {
    if kind.is_digital() {
        return Ok(1);
    }
    u32::try_from(requested)
        .ok()
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or(CartRefusal::InvalidQuantity)
}

/// Adding to a line already in the cart: the quantities add up, capped at 99 (files stay 1).
pub fn added_quantity(kind: ProductKind, existing: u32, added: u32) -> u32 {
    if kind.is_digital() {
        1
    } else {
        existing.saturating_add(added).min(MAX_QUANTITY)
    }
}

/// What the rules need to know to let a product into a cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addable {
    /// The listing is active.
    pub is_active: bool,
    /// The seller can sell (owner, or Connect account ready).
    pub seller_can_sell: bool,
    /// The buyer is an owner (the original's bypass is about the buyer).
    pub buyer_is_owner: bool,
    /// The buyer is the listing's seller.
    pub is_own_listing: bool,
}

/// Checks a product may be added (or kept when its quantity changes).
///
/// # Errors
/// The first refusal that applies.
pub fn check_addable(facts: Addable) -> Result<(), CartRefusal> {
    if !facts.is_active {
        return Err(CartRefusal::Inactive);
    }
    if facts.is_own_listing {
        return Err(CartRefusal::OwnListing);
    }
    if !facts.seller_can_sell && !facts.buyer_is_owner {
        return Err(CartRefusal::SellerNotReady);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_the_kind() {
        assert_eq!(cart_quantity(ProductKind::File, 7), Ok(1));
        assert_eq!(cart_quantity(ProductKind::Model, 3), Ok(3));
        assert_eq!(
            cart_quantity(ProductKind::Model, 0),
            Err(CartRefusal::InvalidQuantity)
        );
        assert_eq!(
            cart_quantity(ProductKind::Model, 100),
            Err(CartRefusal::InvalidQuantity)
        );
        assert_eq!(
            cart_quantity(ProductKind::Model, -1),
            Err(CartRefusal::InvalidQuantity)
        );
        assert_eq!(added_quantity(ProductKind::Model, 60, 60), 99);
        assert_eq!(added_quantity(ProductKind::File, 1, 1), 1);
    }

    #[test]
    fn refusals_name_the_reason_and_owners_bypass_readiness() {
        let ok = Addable {
            is_active: true,
            seller_can_sell: true,
            buyer_is_owner: false,
            is_own_listing: false,
        };
        assert_eq!(check_addable(ok), Ok(()));
        assert_eq!(
            check_addable(Addable {
                is_active: false,
                ..ok
            }),
            Err(CartRefusal::Inactive)
        );
        assert_eq!(
            check_addable(Addable {
                is_own_listing: true,
                ..ok
            }),
            Err(CartRefusal::OwnListing)
        );
        assert_eq!(
            check_addable(Addable {
                seller_can_sell: false,
                ..ok
            }),
            Err(CartRefusal::SellerNotReady)
        );
        assert_eq!(
            check_addable(Addable {
                seller_can_sell: false,
                buyer_is_owner: true,
                ..ok
            }),
            Ok(())
        );
    }
}
