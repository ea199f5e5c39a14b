//! Listings: public browsing and detail ([`browse`]), sellers managing their listings
//! ([`manage`]) and their images and digital files ([`media`]).
//!
//! Sellers (or owners) may list their listings at any time; creating, editing and uploading need a
//! ready Stripe Connect account, which owners bypass. Another seller's listing is "not found".

pub mod browse;
pub mod manage;
pub mod media;

use marketplace_domain::connect::seller_can_sell;
use marketplace_domain::ids::ProductId;

pub use browse::{
    ListingBrowseError, ListingBrowsing, ProductDetailView, ProductList, ProductQuery, ProductSort,
    ProductView, product_view,
};
pub use manage::{ListingError, ListingManagement};
pub use media::{ListingMedia, MediaError, NewImage};

use crate::ports::{ProductRecord, StoreError, Tx};
use crate::use_cases::{Actor, Deps};

/// Why a seller may not change a listing (shared by [`manage`] and [`media`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListingAccessError {
    /// The caller is not a seller.
    #[error("only sellers can manage listings; opt in as a seller in your profile")]
    NotASeller,
    /// The seller's Stripe Connect account is not ready yet.
    #[error("finish Stripe onboarding before you create or modify listings")]
    ConnectNotReady,
    /// No such listing, or not the caller's.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sellers manage their own listings; owners manage everyone's.
pub(crate) fn may_manage(actor: &Actor, product: &ProductRecord) -> bool {
    actor.roles.is_owner() || (actor.roles.is_seller() && product.seller_id == actor.user_id)
}

/// Only sellers (and owners) manage listings.
pub(crate) fn require_seller(actor: &Actor) -> Result<(), ListingAccessError> {
    if actor.roles.is_seller() {
        Ok(())
    } else {
        Err(ListingAccessError::NotASeller)
    }
}

/// Creating and changing listings needs a ready Connect account (owners need not).
pub(crate) async fn require_ready(
    tx: &mut dyn Tx,
    actor: &Actor,
) -> Result<(), ListingAccessError> {
    if actor.roles.is_owner() {
        return Ok(());
    }
    let account = tx.connect()?.get_connect(actor.user_id).await?;
    if seller_can_sell(actor.roles, account.as_ref().map(|a| &a.status)) {
        Ok(())
    } else {
        Err(ListingAccessError::ConnectNotReady)
    }
}

/// Opens the transaction of a change to one of the caller's listings: the caller must be a
/// seller whose Connect account is ready (owners need not) and the listing must be theirs; it comes
/// back locked.
pub(crate) async fn begin_listing_change(
    deps: &Deps,
    actor: &Actor,
    id: ProductId,
) -> Result<(Box<dyn Tx>, ProductRecord), ListingAccessError> {
    require_seller(actor)?;
    let mut tx = deps.uow.begin().await?;
    require_ready(tx.as_mut(), actor).await?;
    let product = tx
        .products()?
        .get_product_for_update(id)
        .await?
        .filter(|product| may_manage(actor, product))
        .ok_or(ListingAccessError::NotFound)?;
    Ok((tx, product))
}
