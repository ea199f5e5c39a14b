//! Listings: public browsing and detail, and sellers managing their own listings, images and
//! digital assets.
//!
//! Sellers (or owners) may list their listings at any time; creating, editing and uploading need a
//! ready Stripe Connect account, which owners bypass. Another seller's listing is "not found".

use marketplace_domain::account::public_seller_name;
use marketplace_domain::connect::seller_can_sell;
use marketplace_domain::files::{UploadError, check_asset, check_image, clean_file_name};
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::product::{
    CategoryFacts, PhysicalAttributes, ProductInput, ProductKind, ValidProduct, numbered_slug,
    validate_alt_text, validate_product,
};
use marketplace_domain::validation::FieldErrors;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Actor, Deps, UploadedFile};
use crate::ports::{
    AssetRecord, ProductDetailRow, ProductFilter, ProductImageRecord, ProductListRow,
    ProductRecord, StoreError, Tx,
};

/// Why a listing operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No such listing (or image/asset), or not the caller's.
    #[error("not found")]
    NotFound,
    /// The caller is not a seller.
    #[error("only sellers can manage listings; opt in as a seller in your profile")]
    NotASeller,
    /// The seller's Stripe Connect account is not ready yet.
    #[error("finish Stripe onboarding before you create or modify listings")]
    ConnectNotReady,
    /// An uploaded file was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A listing as shown in lists: the product, seller label, category name, primary image and
/// whether it can be bought now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductView {
    /// The listing.
    pub product: ProductRecord,
    /// Seller id.
    pub seller_id: UserId,
    /// Seller's public label.
    pub seller_name: String,
    /// Category name.
    pub category_name: String,
    /// Primary image.
    pub primary_image: Option<ProductImageId>,
    /// True when the seller can sell (owner, or Connect account ready).
    pub can_buy: bool,
}

/// A listing's detail page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetailView {
    /// The listing as in lists.
    pub view: ProductView,
    /// Every image.
    pub images: Vec<ProductImageRecord>,
    /// Digital files (names and sizes; downloads come with a paid order).
    pub assets: Vec<AssetRecord>,
}

/// Builds the list view of a row; `can_buy` is the domain's readiness rule.
pub fn product_view(row: ProductListRow) -> ProductView {
    let can_buy = seller_can_sell(row.seller.roles, row.seller.connect.as_ref());
    ProductView {
        seller_id: row.seller.id,
        seller_name: public_seller_name(&row.seller.shop_name, &row.seller.username),
        category_name: row.category_name,
        primary_image: row.primary_image,
        can_buy,
        product: row.product,
    }
}

fn detail_view(detail: ProductDetailRow) -> ProductDetailView {
    ProductDetailView {
        view: product_view(detail.row),
        images: detail.images,
        assets: detail.assets,
    }
}

/// How a public list is ordered. Only `new` exists so far; trending and top rated come with
/// engagement tracking and reviews.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProductSort {
    /// Newest first.
    #[default]
    New,
}

/// A public product search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Only this kind.
    pub kind: Option<ProductKind>,
    /// Text to look for.
    pub text: Option<String>,
    /// A category (its direct children are included).
    pub category: Option<CategoryId>,
    /// Ordering.
    pub sort: ProductSort,
}

/// A new listing as the seller describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewListing {
    /// Kind.
    pub kind: ProductKind,
    /// Title.
    pub title: String,
    /// Explicit slug.
    pub slug: Option<String>,
    /// Category.
    pub category_id: CategoryId,
    /// Price text (`"12.50"`).
    pub price: Option<String>,
    /// Free listing.
    pub is_free: bool,
    /// Short description.
    pub short_description: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Visible (default true).
    pub is_active: Option<bool>,
    /// Featured (owners).
    pub is_featured: Option<bool>,
    /// Trending (owners).
    pub is_trending: Option<bool>,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence text (files).
    pub license_text: Option<String>,
}

/// Changes to a listing; absent fields stay. The kind cannot change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingChanges {
    /// Requested kind (must equal the current one).
    pub kind: Option<ProductKind>,
    /// Title.
    pub title: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Category.
    pub category_id: Option<CategoryId>,
    /// Price text.
    pub price: Option<String>,
    /// Free flag.
    pub is_free: Option<bool>,
    /// Short description.
    pub short_description: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Visibility.
    pub is_active: Option<bool>,
    /// Featured (owners).
    pub is_featured: Option<bool>,
    /// Trending (owners).
    pub is_trending: Option<bool>,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence (files).
    pub license_text: Option<String>,
}

/// A new image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewImage {
    /// The file.
    pub file: UploadedFile,
    /// Alt text.
    pub alt_text: Option<String>,
    /// Make it the primary image (the first image always is).
    pub is_primary: bool,
}

/// Browsing and listing management.
#[derive(Clone)]
pub struct ListingService {
    deps: Deps,
}

impl ListingService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        ListingService { deps }
    }

    /// Opens the transaction of a change to one of the caller's listings: the seller's Connect
    /// account must be ready (owners need not) and the listing must be theirs; it comes back
    /// locked.
    async fn begin_listing_change(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<(Box<dyn Tx>, ProductRecord), ListingError> {
        let mut tx = self.deps.uow.begin().await?;
        require_ready(tx.as_mut(), actor).await?;
        let product = owned_for_update(tx.as_mut(), actor, id).await?;
        Ok((tx, product))
    }

    /// Active listings matching a query, one page.
    ///
    /// # Errors
    /// Storage failures only.
    pub async fn browse(
        &self,
        query: ProductQuery,
        page: PageRequest,
    ) -> Result<Page<ProductView>, ListingError> {
        let categories = match query.category {
            None => None,
            Some(id) => Some(self.category_with_children(id).await?),
        };
        let filter = ProductFilter {
            kind: query.kind,
            text: query
                .text
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            categories,
            seller: None,
            include_inactive: false,
        };
        Ok(self
            .deps
            .queries
            .list_products(&filter, page)
            .await?
            .map(product_view))
    }

    async fn category_with_children(
        &self,
        id: CategoryId,
    ) -> Result<Vec<CategoryId>, ListingError> {
        let tree = self.deps.queries.active_category_tree().await?;
        let mut ids = vec![id];
        if let Some(root) = tree.into_iter().find(|root| root.category.id == id) {
            ids.extend(root.children.iter().map(|c| c.id));
        }
        Ok(ids)
    }

    /// A listing's detail page. Inactive listings are visible only to their seller and owners.
    ///
    /// # Errors
    /// [`ListingError::NotFound`].
    pub async fn detail(
        &self,
        viewer: Option<&Actor>,
        id: ProductId,
    ) -> Result<ProductDetailView, ListingError> {
        let detail = self
            .deps
            .queries
            .product_detail(id)
            .await?
            .ok_or(ListingError::NotFound)?;
        let product = &detail.row.product;
        let visible = product.is_active || viewer.is_some_and(|actor| may_manage(actor, product));
        if !visible {
            return Err(ListingError::NotFound);
        }
        Ok(detail_view(detail))
    }

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
        new: NewListing,
    ) -> Result<ProductDetailView, ListingError> {
        require_seller(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        require_ready(tx.as_mut(), actor).await?;
        let category = category_facts(tx.as_mut(), Some(new.category_id)).await?;
        let valid = validate_product(
            ProductInput {
                kind: new.kind,
                title: new.title,
                slug: new.slug,
                short_description: new.short_description.unwrap_or_default(),
                description: new.description.unwrap_or_default(),
                category,
                price: new.price,
                is_free: new.is_free,
                is_active: new.is_active.unwrap_or(true),
                is_featured: new.is_featured.unwrap_or(false),
                is_trending: new.is_trending.unwrap_or(false),
                physical: new.physical,
                license_text: new.license_text,
            },
            actor.roles.is_owner(),
        )
        .map_err(ListingError::Invalid)?;
        let now = self.deps.clock.now();
        let id = ProductId::from_uuid(Uuid::now_v7());
        let slug = free_slug(tx.as_mut(), actor.user_id, &valid, None).await?;
        let record = record_from(id, actor.user_id, valid, slug, now, now, (0, 0));
        tx.products()
            .insert_product(&record)
            .await
            .map_err(slug_clash)?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }

    /// Edits one of the caller's listings; the merged result must pass every rule again.
    ///
    /// # Errors
    /// As [`ListingService::create`], and [`ListingError::NotFound`].
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProductId,
        changes: ListingChanges,
    ) -> Result<ProductDetailView, ListingError> {
        require_seller(actor)?;
        let (mut tx, current) = self.begin_listing_change(actor, id).await?;
        if changes.kind.is_some_and(|kind| kind != current.kind) {
            return Err(ListingError::Invalid(FieldErrors::single(
                "kind",
                "the kind of a listing cannot change; create a new listing instead",
            )));
        }
        let category = category_facts(
            tx.as_mut(),
            Some(changes.category_id.unwrap_or(current.category_id)),
        )
        .await?;
        let title_changed = changes
            .title
            .as_ref()
            .is_some_and(|t| t.trim() != current.title);
        let slug = match (changes.slug, title_changed) {
            (Some(slug), _) => Some(slug),
            (None, true) => None,
            (None, false) => Some(current.slug.clone()),
        };
        // Only owners may change the home-page flags; keeping what an owner set is not a change.
        let flags_unchanged = changes.is_featured.is_none_or(|v| v == current.is_featured)
            && changes.is_trending.is_none_or(|v| v == current.is_trending);
        let may_set_flags = actor.roles.is_owner() || flags_unchanged;
        let is_free = changes.is_free.unwrap_or(current.is_free);
        let price = changes
            .price
            .or_else(|| (!current.is_free).then(|| current.price.to_string()));
        let valid = validate_product(
            ProductInput {
                kind: current.kind,
                title: changes.title.unwrap_or(current.title),
                slug,
                short_description: changes
                    .short_description
                    .unwrap_or(current.short_description),
                description: changes.description.unwrap_or(current.description),
                category,
                price,
                is_free,
                is_active: changes.is_active.unwrap_or(current.is_active),
                is_featured: changes.is_featured.unwrap_or(current.is_featured),
                is_trending: changes.is_trending.unwrap_or(current.is_trending),
                physical: changes.physical.or(current.physical),
                license_text: changes.license_text.or(current.license_text),
            },
            may_set_flags,
        )
        .map_err(ListingError::Invalid)?;
        let now = self.deps.clock.now();
        let slug = free_slug(tx.as_mut(), current.seller_id, &valid, Some(id)).await?;
        let record = record_from(
            id,
            current.seller_id,
            valid,
            slug,
            current.created_at,
            now,
            (current.review_count, current.rating_sum),
        );
        tx.products()
            .update_product(&record)
            .await
            .map_err(slug_clash)?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }

    /// Flips a listing between active and inactive.
    ///
    /// # Errors
    /// As [`ListingService::update`].
    pub async fn toggle_active(
        &self,
        actor: &Actor,
        id: ProductId,
    ) -> Result<ProductDetailView, ListingError> {
        require_seller(actor)?;
        let (mut tx, mut current) = self.begin_listing_change(actor, id).await?;
        current.is_active = !current.is_active;
        current.updated_at = self.deps.clock.now();
        tx.products().update_product(&current).await?;
        tx.commit().await?;
        self.get_mine(actor, id).await
    }

    /// Adds an image to one of the caller's listings. The first image, or one uploaded with
    /// `is_primary`, becomes the primary image.
    ///
    /// # Errors
    /// [`ListingError::Upload`] for a file that is not an accepted image or too large.
    pub async fn add_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: NewImage,
    ) -> Result<ProductImageRecord, ListingError> {
        require_seller(actor)?;
        let format = check_image(image.file.size(), &image.file.bytes)?;
        let alt_text = validate_alt_text(image.alt_text.as_deref().unwrap_or_default())
            .map_err(ListingError::Invalid)?;
        let (mut tx, _) = self.begin_listing_change(actor, id).await?;
        let existing = tx.products().list_images(id).await?;
        let next_sort = existing
            .iter()
            .map(|i| i.sort_order)
            .max()
            .map_or(0, |max| max.saturating_add(1));
        let now = self.deps.clock.now();
        let blob_id = BlobId::from_uuid(Uuid::now_v7());
        tx.blobs()
            .insert_blob(blob_id, format.content_type(), &image.file.bytes, now)
            .await?;
        let record = ProductImageRecord {
            id: ProductImageId::from_uuid(Uuid::now_v7()),
            product_id: id,
            blob_id,
            alt_text,
            is_primary: image.is_primary || !existing.iter().any(|i| i.is_primary),
            sort_order: next_sort,
            created_at: now,
        };
        tx.products().insert_image(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Makes an image the primary one.
    ///
    /// # Errors
    /// [`ListingError::NotFound`] when the image is not on the caller's listing.
    pub async fn set_primary_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: ProductImageId,
    ) -> Result<(), ListingError> {
        require_seller(actor)?;
        let (mut tx, _) = self.begin_listing_change(actor, id).await?;
        if !tx
            .products()
            .list_images(id)
            .await?
            .iter()
            .any(|i| i.id == image)
        {
            return Err(ListingError::NotFound);
        }
        tx.products().set_primary_image(id, image).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an image; deleting the primary one promotes the next by sort order.
    ///
    /// # Errors
    /// [`ListingError::NotFound`] when the image is not on the caller's listing.
    pub async fn delete_image(
        &self,
        actor: &Actor,
        id: ProductId,
        image: ProductImageId,
    ) -> Result<(), ListingError> {
        require_seller(actor)?;
        let (mut tx, _) = self.begin_listing_change(actor, id).await?;
        let deleted = tx
            .products()
            .delete_image(id, image)
            .await?
            .ok_or(ListingError::NotFound)?;
        tx.blobs().delete_blob(deleted.blob_id).await?;
        if deleted.is_primary {
            let remaining = tx.products().list_images(id).await?;
            if let Some(next) = remaining.first() {
                tx.products().set_primary_image(id, next.id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a downloadable file to one of the caller's FILE listings.
    ///
    /// # Errors
    /// [`ListingError::Invalid`] for a MODEL listing, [`ListingError::Upload`] for a refused file.
    pub async fn add_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        file: UploadedFile,
    ) -> Result<AssetRecord, ListingError> {
        require_seller(actor)?;
        let file_name = clean_file_name(&file.file_name, "download");
        let content_type = check_asset(file.size(), &file_name)?;
        let (mut tx, product) = self.begin_listing_change(actor, id).await?;
        if product.kind != ProductKind::File {
            return Err(ListingError::Invalid(FieldErrors::single(
                "file",
                "digital assets are only for FILE listings",
            )));
        }
        let now = self.deps.clock.now();
        let blob_id = BlobId::from_uuid(Uuid::now_v7());
        tx.blobs()
            .insert_blob(blob_id, content_type, &file.bytes, now)
            .await?;
        let record = AssetRecord {
            id: AssetId::from_uuid(Uuid::now_v7()),
            product_id: id,
            blob_id,
            original_filename: file_name,
            size_bytes: i64::try_from(file.bytes.len()).unwrap_or(i64::MAX),
            created_at: now,
        };
        tx.products().insert_asset(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a downloadable file.
    ///
    /// # Errors
    /// [`ListingError::NotFound`] when it is not on the caller's listing.
    pub async fn delete_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        asset: AssetId,
    ) -> Result<(), ListingError> {
        require_seller(actor)?;
        let (mut tx, _) = self.begin_listing_change(actor, id).await?;
        let deleted = tx
            .products()
            .delete_asset(id, asset)
            .await?
            .ok_or(ListingError::NotFound)?;
        tx.blobs().delete_blob(deleted.blob_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The seller's own copy of an asset (to check an upload).
    ///
    /// # Errors
    /// [`ListingError::NotFound`] when it is not on the caller's listing.
    pub async fn my_asset(
        &self,
        actor: &Actor,
        id: ProductId,
        asset: AssetId,
    ) -> Result<AssetRecord, ListingError> {
        self.get_mine(actor, id).await?;
        self.deps
            .queries
            .product_asset(id, asset)
            .await?
            .ok_or(ListingError::NotFound)
    }
}

/// Sellers manage their own listings; owners manage everyone's.
fn may_manage(actor: &Actor, product: &ProductRecord) -> bool {
    actor.roles.is_owner() || (actor.roles.is_seller() && product.seller_id == actor.user_id)
}

fn require_seller(actor: &Actor) -> Result<(), ListingError> {
    if actor.roles.is_seller() {
        Ok(())
    } else {
        Err(ListingError::NotASeller)
    }
}

async fn require_ready(tx: &mut dyn Tx, actor: &Actor) -> Result<(), ListingError> {
    if actor.roles.is_owner() {
        return Ok(());
    }
    let account = tx.connect().get_connect(actor.user_id).await?;
    if seller_can_sell(actor.roles, account.as_ref().map(|a| &a.status)) {
        Ok(())
    } else {
        Err(ListingError::ConnectNotReady)
    }
}

async fn owned_for_update(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: ProductId,
) -> Result<ProductRecord, ListingError> {
    tx.products()
        .get_product_for_update(id)
        .await?
        .filter(|product| may_manage(actor, product))
        .ok_or(ListingError::NotFound)
}

async fn category_facts(
    tx: &mut dyn Tx,
    id: Option<CategoryId>,
) -> Result<Option<CategoryFacts>, ListingError> {
    let Some(id) = id else { return Ok(None) };
    Ok(tx
        .categories()
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
    valid: &ValidProduct,
    except: Option<ProductId>,
) -> Result<String, ListingError> {
    if valid.slug_is_explicit {
        return Ok(valid.slug.clone());
    }
    for n in 1..=1000 {
        let candidate = numbered_slug(&valid.slug, n);
        if !tx.products().slug_taken(seller, &candidate, except).await? {
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

fn record_from(
    id: ProductId,
    seller_id: UserId,
    valid: ValidProduct,
    slug: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    (review_count, rating_sum): (i64, i64),
) -> ProductRecord {
    ProductRecord {
        id,
        seller_id,
        kind: valid.kind,
        title: valid.title,
        slug,
        short_description: valid.short_description,
        description: valid.description,
        category_id: valid.category_id,
        price: valid.price,
        is_free: valid.is_free,
        is_active: valid.is_active,
        is_featured: valid.is_featured,
        is_trending: valid.is_trending,
        physical: valid.physical,
        license_text: valid.license_text,
        review_count,
        rating_sum,
        created_at,
        updated_at,
    }
}

#[cfg(test)]
mod tests {
    use marketplace_domain::account::Roles;
    use marketplace_domain::catalog::CategoryType;
    use marketplace_domain::connect::ConnectStatus;
    use marketplace_domain::ids::SessionId;

    use super::*;
    use crate::ports::{
        CategoryRecord, ConnectAccountRecord, MockCrypto, MockPaymentGateway, MockQueries,
    };
    use crate::testing::{FakeTx, FakeUow, deps, fixed_clock};

    fn seller() -> Actor {
        Actor {
            user_id: UserId::from_uuid(Uuid::from_u128(1)),
            username: "maker".into(),
            roles: Roles {
                is_seller: true,
                ..Roles::default()
            },
            session_id: SessionId::from_uuid(Uuid::from_u128(2)),
            csrf_token: "csrf".into(),
        }
    }

    fn service(uow: FakeUow) -> ListingService {
        ListingService::new(deps(
            uow,
            MockQueries::new(),
            MockCrypto::new(),
            MockPaymentGateway::new(),
        ))
    }

    fn new_listing() -> NewListing {
        NewListing {
            kind: ProductKind::Model,
            title: "Dragon".into(),
            slug: None,
            category_id: CategoryId::from_uuid(Uuid::from_u128(9)),
            price: Some("5.00".into()),
            is_free: false,
            short_description: None,
            description: None,
            is_active: None,
            is_featured: None,
            is_trending: None,
            physical: None,
            license_text: None,
        }
    }

    #[tokio::test]
    async fn a_seller_without_a_ready_account_cannot_create_listings() {
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            tx.connect.expect_get_connect().returning(|user| {
                Ok(Some(ConnectAccountRecord {
                    user_id: user,
                    status: ConnectStatus {
                        stripe_account_id: Some("acct_1".into()),
                        details_submitted: true,
                        charges_enabled: true,
                        payouts_enabled: false,
                    },
                    onboarding_started_at: None,
                    onboarding_completed_at: None,
                    status_event_at: None,
                    synced_at: None,
                    updated_at: fixed_clock().0,
                }))
            });
            tx
        });
        let error = service(uow)
            .create(&seller(), new_listing())
            .await
            .unwrap_err();
        assert!(matches!(error, ListingError::ConnectNotReady));
    }

    #[tokio::test]
    async fn a_buyer_is_not_a_seller() {
        let buyer = Actor {
            roles: Roles::default(),
            ..seller()
        };
        let uow = FakeUow::new(|| panic!("no transaction expected"));
        let error = service(uow)
            .create(&buyer, new_listing())
            .await
            .unwrap_err();
        assert!(matches!(error, ListingError::NotASeller));
    }

    #[tokio::test]
    async fn derived_slugs_are_numbered_until_free() {
        let owner = Actor {
            roles: Roles {
                is_owner: true,
                ..Roles::default()
            },
            ..seller()
        };
        let uow = FakeUow::new(|| {
            let mut tx = FakeTx::default();
            tx.categories.expect_get_category().returning(|id| {
                Ok(Some(CategoryRecord {
                    id,
                    category_type: CategoryType::Model,
                    name: "Minis".into(),
                    slug: "minis".into(),
                    parent_id: None,
                    description: String::new(),
                    is_active: true,
                    sort_order: 0,
                    created_at: fixed_clock().0,
                    updated_at: fixed_clock().0,
                }))
            });
            tx.products
                .expect_slug_taken()
                .returning(|_, slug, _| Ok(slug == "dragon" || slug == "dragon-2"));
            tx.products.expect_insert_product().returning(|product| {
                assert_eq!(product.slug, "dragon-3");
                assert_eq!(product.price.get(), 500);
                // Stop here: the follow-up read is not what this test is about.
                Err(StoreError::Unavailable("stop".into()))
            });
            tx
        });
        let error = service(uow)
            .create(&owner, new_listing())
            .await
            .unwrap_err();
        assert!(matches!(error, ListingError::Store(StoreError::Unavailable(m)) if m == "stop"));
    }
}
