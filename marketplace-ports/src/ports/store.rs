//! The transactional stores and the unit of work that opens them.

use async_trait::async_trait;
use marketplace_domain::account::{ProfileChanges, Roles};
use marketplace_domain::catalog::ValidCategory;
use marketplace_domain::ids::{
    AssetId, BlobId, CartId, CategoryId, JobId, JournalEntryId, OrderId, ProductId, ProductImageId,
    UserId,
};
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::site::SiteConfig;
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
    /// Carts.
    fn carts(&mut self) -> &mut dyn CartStore;
    /// Orders, their lines and events.
    fn orders(&mut self) -> &mut dyn OrderStore;
    /// The journal and seller balances.
    fn ledger(&mut self) -> &mut dyn LedgerStore;
    /// Payout records.
    fn payouts(&mut self) -> &mut dyn PayoutStore;
    /// The job queue.
    fn jobs(&mut self) -> &mut dyn JobStore;
    /// Received webhook events, the outbox and the site configuration.
    fn platform(&mut self) -> &mut dyn PlatformStore;

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
    /// The account row with this Stripe account id, locked.
    async fn find_connect_by_account(
        &mut self,
        account_id: &str,
    ) -> Result<Option<ConnectAccountRecord>, StoreError>;
}

/// Carts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CartStore: Send {
    /// The cart of a user, created if missing, locked for the rest of the transaction.
    async fn user_cart(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError>;
    /// The anonymous cart with this token digest, locked.
    async fn token_cart(&mut self, token_digest: &str) -> Result<Option<CartRecord>, StoreError>;
    /// Creates an anonymous cart.
    async fn insert_token_cart(
        &mut self,
        id: CartId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError>;
    /// The lines of a cart with their products and sellers, oldest first.
    async fn cart_lines(&mut self, cart: CartId) -> Result<Vec<CartLineRow>, StoreError>;
    /// Sets a line's quantity (adding the line if missing).
    async fn set_quantity(
        &mut self,
        cart: CartId,
        product: ProductId,
        quantity: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Removes a line (missing is fine).
    async fn remove_line(&mut self, cart: CartId, product: ProductId) -> Result<(), StoreError>;
    /// Removes every line and remembers the order placed from it (if any).
    async fn clear(
        &mut self,
        cart: CartId,
        placed_order: Option<OrderId>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Deletes a cart (after merging it).
    async fn delete_cart(&mut self, cart: CartId) -> Result<(), StoreError>;
}

/// Orders.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderStore: Send {
    /// Inserts an order with its lines.
    async fn insert_order(
        &mut self,
        order: &OrderRecord,
        items: &[OrderItemRecord],
    ) -> Result<(), StoreError>;
    /// An order, locked for the rest of the transaction.
    async fn get_order_for_update(
        &mut self,
        id: OrderId,
    ) -> Result<Option<OrderRecord>, StoreError>;
    /// An order's lines, in position order.
    async fn order_items(&mut self, id: OrderId) -> Result<Vec<OrderItemRecord>, StoreError>;
    /// The order a Checkout Session, payment intent or charge belongs to.
    async fn find_order_by_stripe_id(
        &mut self,
        stripe_id: &str,
    ) -> Result<Option<OrderId>, StoreError>;
    /// Writes an order's mutable fields (status, amounts refunded, Stripe ids, address).
    async fn update_order(&mut self, order: &OrderRecord) -> Result<(), StoreError>;
    /// Appends to the order's history.
    async fn add_event(
        &mut self,
        order: OrderId,
        kind: &str,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// The journal.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerStore: Send {
    /// Appends an entry and updates the balances it touches.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `journal_entries_key_key` when its key is booked already; the
    /// transaction stays usable (nothing was written).
    async fn insert_entry(
        &mut self,
        id: JournalEntryId,
        entry: &JournalEntry,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The entries of an order, in booking order.
    async fn order_entries(&mut self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError>;
    /// A seller's balance, locking it so concurrent payouts of the seller run one at a time.
    async fn lock_seller_balance(
        &mut self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError>;
}

/// Payout records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PayoutStore: Send {
    /// The payout of (order, seller), locked.
    async fn get_payout_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<PayoutRecord>, StoreError>;
    /// Inserts a payout record.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `payouts_pkey`: one per (order, seller).
    async fn insert_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError>;
    /// Writes a payout's state.
    async fn update_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError>;
    /// Σ amounts of a seller's decided but unconfirmed payouts (pending or failed), except one order.
    async fn unconfirmed_total(
        &mut self,
        seller: UserId,
        except: OrderId,
    ) -> Result<Cents, StoreError>;
    /// Orders whose payout to the seller was skipped because they were not ready.
    async fn skipped_not_ready(&mut self, seller: UserId) -> Result<Vec<OrderId>, StoreError>;
    /// The payouts of an order.
    async fn order_payouts(&mut self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError>;
    /// The pending transfer reversal of (order, seller), locked.
    async fn pending_reversal_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<ReversalRecord>, StoreError>;
    /// Σ amounts of (order, seller)'s reversals that are done or under way.
    async fn reversed_total(&mut self, order: OrderId, seller: UserId)
    -> Result<Cents, StoreError>;
    /// Σ amounts of a seller's reversals under way (money on its way back), except one order.
    async fn pending_reversals_total(
        &mut self,
        seller: UserId,
        except: OrderId,
    ) -> Result<Cents, StoreError>;
    /// Inserts a reversal.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] on `transfer_reversals_one_pending`: one under way per
    /// (order, seller).
    async fn insert_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError>;
    /// Writes a reversal's state.
    async fn update_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError>;
}

/// The job queue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobStore: Send {
    /// Queues a job unless one with the same key is queued already.
    async fn enqueue(
        &mut self,
        kind: &JobKind,
        run_at: OffsetDateTime,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Claims the next due job (or one whose worker vanished): marks it running until `lease_until`
    /// and counts the attempt. Skips jobs other workers hold (`FOR UPDATE SKIP LOCKED`).
    async fn claim(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>, StoreError>;
    /// Marks a job done.
    async fn complete(&mut self, id: JobId, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Puts a job back in the queue for `run_at`, keeping the error.
    async fn retry(
        &mut self,
        id: JobId,
        run_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Parks a job as dead.
    async fn bury(&mut self, id: JobId, error: &str, now: OffsetDateTime)
    -> Result<(), StoreError>;
    /// Requeues a dead job (an owner's retry), with a fresh attempt budget.
    async fn revive(&mut self, id: JobId, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Requeues every dead job of these kinds (by [`JobKind::name`]), one per key; dead
    /// duplicates of a key that is queued again are marked done. Returns how many were queued.
    async fn revive_all(
        &mut self,
        kinds: &[&'static str],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// Webhook events, the outbox and the site configuration.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PlatformStore: Send {
    /// Records a webhook event; `false` when it was recorded before (a duplicate delivery).
    async fn record_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
    ) -> Result<bool, StoreError>;
    /// Writes what was done with a recorded event.
    async fn set_webhook_outcome(&mut self, id: &str, outcome: &str) -> Result<(), StoreError>;
    /// Queues an e-mail.
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<(), StoreError>;
    /// The site configuration (the committed one: a change applies to orders created after it).
    async fn site_config(&mut self) -> Result<SiteConfig, StoreError>;
    /// Replaces the site configuration.
    async fn update_site_config(
        &mut self,
        config: &SiteConfig,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
