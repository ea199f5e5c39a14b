//! The transactional stores and the unit of work that opens them.

use async_trait::async_trait;
use marketplace_domain::account::{ProfileChanges, Roles};
use marketplace_domain::catalog::ValidCategory;
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use time::OffsetDateTime;

use super::records::*;

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// A named constraint refused the write (unique, foreign key, check).
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint's name, as the migrations define it.
        constraint: String,
    },
    /// The database is unreachable or failed; the message is for logs, not clients.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// True when the named constraint refused the write.
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }
}

/// Opens transactions.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
}

/// An open transaction. Every store reached through it writes into the same commit; dropping it
/// without `commit` rolls everything back.
#[async_trait]
pub trait Tx: Send {
    /// Users, profiles and roles.
    fn users(&mut self) -> &mut dyn UserStore;
    /// Login sessions and failed-login records.
    fn sessions(&mut self) -> &mut dyn SessionStore;
    /// Categories.
    fn categories(&mut self) -> &mut dyn CategoryStore;
    /// Listings, their images and assets.
    fn products(&mut self) -> &mut dyn ProductStore;
    /// File bytes.
    fn blobs(&mut self) -> &mut dyn BlobStore;
    /// Stripe Connect account rows.
    fn connect(&mut self) -> &mut dyn ConnectStore;

    /// Commits every write.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a deferred constraint, [`StoreError::Unavailable`] otherwise.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A new account with its (empty) profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// E-mail (may be empty).
    pub email: String,
    /// argon2id hash.
    pub password_hash: String,
    /// Role flags.
    pub roles: Roles,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// Users and their profiles.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send {
    /// Inserts a user and an empty profile seeded with the e-mail.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `users_username_lower_key` when the name is taken (any case).
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError>;
    /// A user by id.
    async fn get_user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError>;
    /// A user by username, case-insensitively.
    async fn get_user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// The profile of a user.
    async fn get_profile(&mut self, id: UserId) -> Result<Option<Profile>, StoreError>;
    /// Applies validated profile changes (and the seller opt-in) in one write.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user does not exist.
    async fn update_profile(
        &mut self,
        id: UserId,
        changes: &ProfileChanges,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces the avatar; returns the previous blob so the caller can delete it.
    async fn set_avatar(
        &mut self,
        id: UserId,
        avatar: Option<BlobId>,
        now: OffsetDateTime,
    ) -> Result<Option<BlobId>, StoreError>;
    /// Replaces role flags.
    async fn set_roles(&mut self, id: UserId, roles: Roles) -> Result<(), StoreError>;
    /// Replaces the password hash.
    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<(), StoreError>;
}

/// Sessions and login throttling.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send {
    /// Stores a new session.
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError>;
    /// Deletes the session with this token digest (logout). Missing is fine.
    async fn delete_session(&mut self, token_digest: &str) -> Result<(), StoreError>;
    /// Records a failed login under a throttle key (`user:<name>` or `ip:<addr>`).
    async fn record_login_failure(
        &mut self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Failed logins under `key` since `since`.
    async fn count_login_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError>;
    /// Forgets failures under `key` (after a successful login).
    async fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError>;
}

/// Categories.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CategoryStore: Send {
    /// Inserts a validated category.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `categories_type_parent_slug_key` for a duplicate slug.
    async fn insert_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces a category's fields.
    ///
    /// # Errors
    /// As `insert_category`; [`StoreError::NotFound`] when it does not exist.
    async fn update_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a category and its subcategories.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `products_category_id_fkey` when listings use it.
    async fn delete_category(&mut self, id: CategoryId) -> Result<(), StoreError>;
    /// A category by id, locked for the rest of the transaction.
    async fn get_category_for_update(
        &mut self,
        id: CategoryId,
    ) -> Result<Option<CategoryRecord>, StoreError>;
    /// A category by id.
    async fn get_category(&mut self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError>;
    /// Whether a category has subcategories, and whether listings use it.
    async fn category_usage(&mut self, id: CategoryId) -> Result<(bool, bool), StoreError>;
}

/// Listings, images and assets.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductStore: Send {
    /// Inserts a listing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `products_seller_slug_key` when the slug is taken for the seller.
    async fn insert_product(&mut self, product: &ProductRecord) -> Result<(), StoreError>;
    /// Replaces a listing's editable fields.
    ///
    /// # Errors
    /// As `insert_product`.
    async fn update_product(&mut self, product: &ProductRecord) -> Result<(), StoreError>;
    /// A listing by id, locked for the rest of the transaction.
    async fn get_product_for_update(
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
    /// The assets of a listing.
    async fn list_assets(&mut self, product: ProductId) -> Result<Vec<AssetRecord>, StoreError>;
    /// Deletes one asset; returns it, or `None` when it is not this listing's.
    async fn delete_asset(
        &mut self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError>;
}

/// File bytes, chunked.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send {
    /// Stores a file.
    async fn insert_blob(
        &mut self,
        id: BlobId,
        content_type: &str,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a file (no longer referenced).
    async fn delete_blob(&mut self, id: BlobId) -> Result<(), StoreError>;
}

/// Stripe Connect account rows.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ConnectStore: Send {
    /// The account row of a seller.
    async fn get_connect(
        &mut self,
        user: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
    /// Creates the account row of a seller.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `seller_connect_accounts_pkey` when the seller has one already.
    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError>;
    /// Replaces the account row of a seller.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the seller has none.
    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError>;
}
