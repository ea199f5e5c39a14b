//! Read-only queries on the connection pool, for public pages and listings. They never lock and
//! never see uncommitted writes.

use async_trait::async_trait;
use marketplace_domain::account::Roles;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::product::ProductKind;
use time::OffsetDateTime;

use super::records::*;
use super::store::StoreError;

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

/// A root category with its subcategories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryWithChildren {
    /// The root.
    pub category: CategoryRecord,
    /// Its subcategories, ordered.
    pub children: Vec<CategoryRecord>,
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
}

/// Read-side queries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Queries: Send + Sync {
    /// The session with this token digest and its user, when not expired at `now`.
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// A user by username, case-insensitively.
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// A user and profile.
    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError>;
    /// Every category (owners' view), ordered by type, parent, sort order, name.
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError>;
    /// Active roots with their active children, ordered by (sort order, name).
    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError>;
    /// A category by id.
    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError>;
    /// Listings matching a filter, newest first, one page.
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError>;
    /// One listing with images and assets (active or not; the caller decides visibility).
    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError>;
    /// A seller's facts.
    async fn seller(&self, id: UserId) -> Result<Option<SellerRow>, StoreError>;
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
    /// A stored file's metadata.
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError>;
    /// One chunk of a stored file (0-based); `None` past the end.
    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError>;
    /// True when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
