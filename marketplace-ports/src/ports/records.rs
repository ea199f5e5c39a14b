//! The records stores read and write. Plain data: no SQL, no serde.

use marketplace_domain::account::Roles;
use marketplace_domain::catalog::CategoryType;
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{
    AssetId, BlobId, CategoryId, ProductId, ProductImageId, SessionId, UserId,
};
use marketplace_domain::money::Cents;
use marketplace_domain::product::{PhysicalAttributes, ProductKind};
use time::OffsetDateTime;

/// A user account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Username as entered (unique case-insensitively).
    pub username: String,
    /// Account e-mail (may be empty).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role flags.
    pub roles: Roles,
    /// Inactive accounts cannot log in.
    pub is_active: bool,
    /// Registration time.
    pub created_at: OffsetDateTime,
}

/// The marketplace profile of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Public seller label (empty → username).
    pub shop_name: String,
    /// Contact e-mail.
    pub email: String,
    /// First phone.
    pub phone_1: String,
    /// Second phone.
    pub phone_2: String,
    /// Address line 1.
    pub address_1: String,
    /// Address line 2.
    pub address_2: String,
    /// City.
    pub city: String,
    /// US state code.
    pub state: String,
    /// ZIP code.
    pub zip_code: String,
    /// Avatar image, if uploaded.
    pub avatar: Option<BlobId>,
}

/// A login session. The token itself is never stored, only its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Digest of the bearer/cookie token.
    pub token_digest: String,
    /// The synchronizer token cookie-authenticated writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the session is dead.
    pub expires_at: OffsetDateTime,
}

/// A catalog category as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryRecord {
    /// Id.
    pub id: CategoryId,
    /// Tree.
    pub category_type: CategoryType,
    /// Name.
    pub name: String,
    /// Slug (unique per type and parent).
    pub slug: String,
    /// Root parent, for subcategories.
    pub parent_id: Option<CategoryId>,
    /// Description.
    pub description: String,
    /// Publicly visible.
    pub is_active: bool,
    /// Ordering key among siblings.
    pub sort_order: i32,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A listing as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductRecord {
    /// Id.
    pub id: ProductId,
    /// Owner of the listing.
    pub seller_id: UserId,
    /// Kind.
    pub kind: ProductKind,
    /// Title.
    pub title: String,
    /// Slug, unique per seller.
    pub slug: String,
    /// Short description.
    pub short_description: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category_id: CategoryId,
    /// Price; zero when free.
    pub price: Cents,
    /// Free listing.
    pub is_free: bool,
    /// Publicly visible.
    pub is_active: bool,
    /// Featured on the home page.
    pub is_featured: bool,
    /// Manually trending.
    pub is_trending: bool,
    /// Physical attributes (models).
    pub physical: Option<PhysicalAttributes>,
    /// Licence (files).
    pub license_text: Option<String>,
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

/// A stored file's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// Id.
    pub id: BlobId,
    /// Served content type.
    pub content_type: String,
    /// Total size in bytes.
    pub size_bytes: i64,
    /// Number of chunks (0-based sequence numbers below this).
    pub chunk_count: i32,
}

/// A seller's Stripe Connect account row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectAccountRecord {
    /// Seller.
    pub user_id: UserId,
    /// Account id and capability flags.
    pub status: ConnectStatus,
    /// First onboarding attempt.
    pub onboarding_started_at: Option<OffsetDateTime>,
    /// When the account first became ready.
    pub onboarding_completed_at: Option<OffsetDateTime>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}
