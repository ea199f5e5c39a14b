//! Listings: products with their images and downloadable assets, and the seller facts a listing
//! view needs.

use async_trait::async_trait;
use marketplace_domain::accounts::{Roles, public_seller_name};
use marketplace_domain::catalog::{Listing, ProductKind};
use marketplace_domain::connect::{ConnectStatus, seller_can_sell};
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// A listing as stored: the validated fields ([`Listing`], declared once in the domain), its
/// owner and slug, and the review rollups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRecord {
    /// Id.
    pub id: ProductId,
    /// Owner of the listing.
    pub seller_id: UserId,
    /// Slug, unique per seller.
    pub slug: String,
    /// The listing's fields.
    pub listing: Listing,
    /// Number of reviews (rollup kept by review writes).
    pub review_count: i64,
    /// Sum of review ratings (rollup), so the average needs no scan.
    pub rating_sum: i64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An image of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductImageRecord {
    /// Id.
    pub id: ProductImageId,
    /// Listing.
    pub product_id: ProductId,
    /// Bytes.
    pub blob_id: BlobId,
    /// Alt text.
    pub alt_text: String,
    /// The one primary image.
    pub is_primary: bool,
    /// Ordering key.
    pub sort_order: i32,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// A downloadable file of a digital listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetRecord {
    /// Id.
    pub id: AssetId,
    /// Listing.
    pub product_id: ProductId,
    /// Bytes.
    pub blob_id: BlobId,
    /// Name shown and used on download.
    pub original_filename: String,
    /// Size.
    pub size_bytes: i64,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// The seller facts a listing view needs: public label and whether they can sell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerRow {
    /// Seller id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Shop name (may be empty).
    pub shop_name: String,
    /// Roles (owners can always sell).
    pub roles: Roles,
    /// Connect account, if any.
    pub connect: Option<ConnectStatus>,
}

impl SellerRow {
    /// The public label: shop name, else username.
    pub fn public_name(&self) -> String {
        public_seller_name(&self.shop_name, &self.username)
    }

    /// Whether the seller's listings can be bought now (owner, or Connect account ready).
    pub fn can_sell(&self) -> bool {
        seller_can_sell(self.roles, self.connect.as_ref())
    }
}

/// A listing in a list: the product, its seller, its category name and primary image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductListRow {
    /// The listing.
    pub product: ProductRecord,
    /// Its seller.
    pub seller: SellerRow,
    /// Its category's name.
    pub category_name: String,
    /// The primary image (or the first by sort order).
    pub primary_image: Option<ProductImageId>,
    /// Its place in the trending order.
    pub trending: TrendingMark,
}

/// A listing with everything its detail page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDetailRow {
    /// The listing, seller, category.
    pub row: ProductListRow,
    /// Every image.
    pub images: Vec<ProductImageRecord>,
    /// Digital files (names and sizes only).
    pub assets: Vec<AssetRecord>,
}

/// Which listings to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only this kind.
    pub kind: Option<ProductKind>,
    /// Case-insensitive text in the title, short description or description.
    pub text: Option<String>,
    /// Listings in these categories (a category and its direct children).
    pub categories: Option<Vec<CategoryId>>,
    /// Only this seller's listings.
    pub seller: Option<UserId>,
    /// Include inactive listings (seller management only).
    pub include_inactive: bool,
    /// Only listings owners marked featured.
    pub featured_only: bool,
    /// Only listings owners marked trending by hand.
    pub picked_trending_only: bool,
    /// Leave these listings out (a home bucket's, or the product a page is about).
    pub exclude: Vec<ProductId>,
    /// The order.
    pub order: ListingOrder,
}

/// How listings are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListingOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Best rated first, by the Bayesian average of `reviews::RatingSummary::top_score`
    /// (newest first among equals).
    TopRated,
    /// Cheapest first (newest first among equals).
    PriceAscending,
    /// Dearest first (newest first among equals).
    PriceDescending,
    /// Best trending score first (`engagement::trending_score`), then best average rating, then
    /// newest.
    Trending,
}

/// A listing's place in the trending order, as the periodic refresh left it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrendingMark {
    /// The activity part of its score, in quarter points (`engagement::TrendingSignals`).
    pub points: i64,
    /// Its place among the best positive scores (1 to `TRENDING_BADGE_TOP_N`), if it is one.
    pub rank: Option<u8>,
}

/// Signals whose absence makes a list fall back to its plain order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingSignal {
    /// A positive trending score.
    Trending,
    /// At least one review.
    Reviewed,
}

/// A seller's active and inactive listing counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListingCounts {
    /// Active listings.
    pub active: i64,
    /// Inactive listings.
    pub inactive: i64,
}

/// Listings, inside a transaction.
#[async_trait]
pub trait ProductStore: Send {
    /// Inserts a listing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `products_seller_slug_key` when the slug is taken for the seller.
    async fn insert_product(&mut self, product: &ProductRecord) -> Result<(), StoreError>;
    /// Replaces a listing's editable fields (slug, listing fields, update time).
    ///
    /// # Errors
    /// As `insert_product`; [`StoreError::NotFound`] when it does not exist.
    async fn update_product(&mut self, product: &ProductRecord) -> Result<(), StoreError>;
    /// A listing by id, locked for the rest of the transaction.
    async fn get_product_for_update(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError>;
    /// A listing by id, kept from changing for the rest of the transaction while others may keep
    /// it too: a cart add checks the listing can be bought, and concurrent adds of one listing do
    /// not wait for each other (a seller's edit waits for them, and they for it).
    async fn get_product_for_share(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError>;
    /// True when another listing of the seller already uses the slug.
    async fn slug_taken(
        &mut self,
        seller: UserId,
        slug: &str,
        except: Option<ProductId>,
    ) -> Result<bool, StoreError>;
}

/// A listing's images and downloadable assets, inside a transaction.
#[async_trait]
pub trait ProductMediaStore: Send {
    /// Adds an image; when `is_primary`, every other image of the listing stops being primary.
    async fn insert_image(&mut self, image: &ProductImageRecord) -> Result<(), StoreError>;
    /// The images of a listing, by (sort order, upload time).
    async fn list_images(
        &mut self,
        product: ProductId,
    ) -> Result<Vec<ProductImageRecord>, StoreError>;
    /// Deletes one image; returns it, or `None` when it is not this listing's.
    async fn delete_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError>;
    /// Makes one image primary (and every other not).
    async fn set_primary_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<(), StoreError>;
    /// Adds a downloadable asset.
    async fn insert_asset(&mut self, asset: &AssetRecord) -> Result<(), StoreError>;
    /// Deletes one asset; returns it, or `None` when it is not this listing's.
    async fn delete_asset(
        &mut self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError>;
}

/// Listing reads.
#[async_trait]
pub trait ListingQueries: Send + Sync {
    /// Listings matching a filter, in the filter's order, one page.
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError>;
    /// The first `limit` listings matching a filter, in its order, without counting the rest
    /// (home buckets, "more like this").
    async fn first_products(
        &self,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListRow>, StoreError>;
    /// True when a listing matching the filter has the signal (lists fall back when none has).
    async fn any_with_signal(
        &self,
        filter: &ProductFilter,
        signal: ListingSignal,
    ) -> Result<bool, StoreError>;
    /// One listing with images and assets (active or not; the caller decides visibility).
    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError>;
    /// An image of a listing.
    async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError>;
    /// An asset of a listing.
    async fn product_asset(
        &self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError>;
    /// A seller's active and inactive listing counts.
    async fn listing_counts(&self, seller: UserId) -> Result<ListingCounts, StoreError>;
}

impl dyn Tx + '_ {
    /// The listings of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn products(&mut self) -> Result<&mut (dyn ProductStore + 'static), StoreError> {
        self.store()
    }

    /// The listings' images and assets of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn product_media(&mut self) -> Result<&mut (dyn ProductMediaStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Listing reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn listings(&self) -> Result<&dyn ListingQueries, StoreError> {
        self.get()
    }
}
