//! Sellers managing their own listings: their list, creating, editing and toggling. The rules are
//! the domain's ([`validate_listing`], [`ListingChanges::merged_into`]); this module checks who
//! may, finds a free slug and stores the result.

use marketplace_domain::catalog::{
    CategoryFacts, ListingChanges, ListingDraft, SlugChoice, numbered_slug, validate_listing,
};
use marketplace_domain::ids::{CategoryId, ProductId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::validation::FieldErrors;
use uuid::Uuid;

use super::browse::{ProductDetailView, ProductView, detail_view, product_view};
use super::{ListingAccessError, begin_listing_change, may_manage, require_ready, require_seller};
use crate::ports::{ProductFilter, ProductRecord, StoreError, Tx};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a listing change failed.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such listing, or not the caller's.
    #[error("not found")]
    NotFound,
    /// The caller is not a seller.
    #[error("only sellers can manage listings; opt in as a seller in your profile")]
    NotASeller,
    /// The seller's Stripe Connect account is not ready yet.
    #[error("finish Stripe onboarding before you create or modify listings")]
    ConnectNotReady,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ListingAccessError> for ListingError {
    fn from(error: ListingAccessError) -> Self {
        match error {
            ListingAccessError::NotASeller => ListingError::NotASeller,
            ListingAccessError::ConnectNotReady => ListingError::ConnectNotReady,
            ListingAccessError::NotFound => ListingError::NotFound,
            ListingAccessError::Store(e) => ListingError::Store(e),
        }
    }
}

impl UseCaseError for ListingError {
    fn kind(&self) -> ErrorKind {
        match self {
            ListingError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            ListingError::NotFound => ErrorKind::NotFound,
            ListingError::NotASeller => ErrorKind::Forbidden {
                code: "not_a_seller",
            },
            ListingError::ConnectNotReady => ErrorKind::Forbidden {
                code: "connect_not_ready",
            },
            ListingError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Sellers managing their listings.
    ListingManagement
);

impl ListingManagement {
    /// The caller's listings (owners see everyone's), newest first, optionally searched.
    ///
    /// # Errors
    /// [`ListingError::NotASeller`].
    pub async fn mine(
        &self,
        actor: &Actor,
        text: Option<String>,
        page: PageRequest,
    ) -> Result<Page<ProductView>, ListingError> {
        require_seller(actor)?;
        let filter = ProductFilter {
            text: text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
            seller: (!actor.roles.is_owner()).then_some(actor.user_id),
            include_inactive: true,
            ..ProductFilter::default()
        };
        Ok(self
            .deps
            .queries
            .listings()?
            .list_products(&filter, page)
            .await?
            .map(product_view))
    }

    /// One of the caller's listings with images and assets.
    ///
    /// # Errors
    /// [`ListingError::NotFound`] when it is not the caller's.
    pub async fn get_mine(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<ProductDetailView, ListingError> {
        require_seller(actor)?;
        let detail = self
            .deps
            .queries
            .listings()?
            .product_detail(id)
            .await?
            .filter(|d| may_manage(actor, &d.row.product))
            .ok_or(ListingError::NotFound)?;
        Ok(detail_view(detail))
    }

    /// Creates a listing for the caller.
    ///
    /// # Errors
    /// [`ListingError::NotASeller`], [`ListingError::ConnectNotReady`], [`ListingError::Invalid`].
    pub async fn create(
        &self,
        actor: &Actor,
        draft: ListingDraft,
    ) -> Result<ProductDetailView, ListingError> {
        require_seller(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        require_ready(tx.as_mut(), actor).await?;
        let category = category_facts(tx.as_mut(), draft.category_id).await?;
        let valid = validate_listing(draft, category, actor.roles.is_owner())
            .map_err(ListingError::Invalid)?;
        let now = self.deps.clock.now();
        let id = ProductId::from_uuid(Uuid::now_v7());
        let slug = free_slug(tx.as_mut(), actor.user_id, &valid.slug, None).await?;
        let record = ProductRecord {
            id,
            seller_id: actor.user_id,
            slug,
            listing: valid.listing,
            review_count: 0,
            rating_sum: 0,
            created_at: now,
            updated_at: now,
        };
        tx.products()?
            .insert_product(&record)
            .await
            .map_err(slug_clash)?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }

    /// Edits one of the caller's listings; the merged result must pass every rule again.
    ///
    /// # Errors
    /// As [`ListingManagement::create`], and [`ListingError::NotFound`].
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProductId,
        changes: ListingChanges,
    ) -> Result<ProductDetailView, ListingError> {
        let (mut tx, current) = begin_listing_change(&self.deps, actor, id).await?;
        let (draft, may_set_flags) = changes
            .merged_into(&current.listing, &current.slug, actor.roles.is_owner())
            .map_err(ListingError::Invalid)?;
        let category = category_facts(tx.as_mut(), draft.category_id).await?;
        let valid =
            validate_listing(draft, category, may_set_flags).map_err(ListingError::Invalid)?;
        let slug = free_slug(tx.as_mut(), current.seller_id, &valid.slug, Some(id)).await?;
        let record = ProductRecord {
            slug,
            listing: valid.listing,
            updated_at: self.deps.clock.now(),
            ..current
        };
        tx.products()?
            .update_product(&record)
            .await
            .map_err(slug_clash)?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }

    /// Flips a listing between active and inactive.
    ///
    /// # Errors
    /// As [`ListingManagement::update`].
    pub async fn toggle_active(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<ProductDetailView, ListingError> {
        let (mut tx, current) = begin_listing_change(&self.deps, actor, id).await?;
        let record = ProductRecord {
            listing: current.listing.clone().toggled(),
            updated_at: self.deps.clock.now(),
            ..current
        };
        tx.products()?.update_product(&record).await?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }
}

async fn category_facts(
    tx: &mut dyn Tx,
    id: CategoryId,
) -> Result<Option<CategoryFacts>, ListingError> {
    Ok(tx
        .categories()?
        .get_category(id)
        .await?
        .map(|c| CategoryFacts {
            id: c.id,
            category_type: c.category_type,
            is_active: c.is_active,
        }))
}

/// The slug to store: an explicit slug as given (a clash is the seller's to fix), a derived one
/// numbered until it is free for the seller.
async fn free_slug(
    tx: &mut dyn Tx,
    seller: UserId,
    choice: &SlugChoice,
    except: Option<ProductId>,
) -> Result<String, ListingError> {
    if choice.explicit {
        return Ok(choice.base.clone());
    }
    for n in 1..=1000 {
        let candidate = numbered_slug(&choice.base, n);
        if !tx
            .products()?
            .slug_taken(seller, &candidate, except)
            .await?
        {
            return Ok(candidate);
        }
    }
    Err(ListingError::Invalid(FieldErrors::single(
        "slug",
        "too many listings share this title; give an explicit slug",
    )))
}

fn slug_clash(error: StoreError) -> ListingError {
    if error.is_conflict_on("products_seller_slug_key") {
        ListingError::Invalid(FieldErrors::single(
            "slug",
            "you already have a listing with this slug",
        ))
    } else {
        ListingError::Store(error)
    }
}
