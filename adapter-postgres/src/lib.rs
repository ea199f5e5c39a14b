//! # adapter-postgres
//!
//! The PostgreSQL side of the ports: [`PgStore`] opens transactions ([`UnitOfWork`]) whose stores
//! all write into one commit, and answers the read-only [`Queries`] on the pool. Migrations are
//! embedded ([`MIGRATOR`]); [`local::LocalServer`] runs a private server when no `DATABASE_URL`
//! is given; with the `testing` feature, [`testing`] hands each test a fresh database.
//!
//! Queries are checked at run time (`query_as` with private row structs); every one of them runs
//! in the test suite against a real server.

use std::time::Duration;

use async_trait::async_trait;
use marketplace_domain::account::{ProfileChanges, Roles};
use marketplace_domain::catalog::ValidCategory;
use marketplace_domain::ids::{
    AssetId, BlobId, CartId, CategoryId, JobId, JournalEntryId, OrderId, ProductId, ProductImageId,
    UserId,
};
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::site::SiteConfig;
use marketplace_ports::ports::*;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

mod blobs;
mod carts;
mod categories;
mod connect;
mod errors;
mod jobs;
mod ledger;
pub mod local;
mod orders;
mod paging;
mod payouts;
mod platform;
mod products;
mod sales;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use sqlx::postgres::PgConnectOptions as ConnectOptions;

use errors::store_error;

/// The schema, embedded at compile time from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The connection pool and everything built on it.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects a pool of at most `max_connections`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached.
    pub async fn connect(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(store_error)?;
        Ok(PgStore { pool })
    }

    /// Parses a `postgres://` URL into connection options.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] with the parse error.
    pub fn options_from_url(url: &str) -> Result<PgConnectOptions, StoreError> {
        url.parse::<PgConnectOptions>()
            .map_err(|e| StoreError::Unavailable(format!("invalid DATABASE_URL: {e}")))
    }

    /// Applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<Postgres>, StoreError> {
        self.pool.acquire().await.map_err(store_error)
    }
}

/// Creates `database` on the server `server` points at (its own database field is ignored) unless
/// it exists.
///
/// # Errors
/// [`StoreError::Unavailable`] when the server cannot be reached.
pub async fn ensure_database(server: &PgConnectOptions, database: &str) -> Result<(), StoreError> {
    use sqlx::ConnectOptions as _;
    use sqlx::Connection as _;
    let mut conn = server
        .clone()
        .database("postgres")
        .connect()
        .await
        .map_err(store_error)?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await
            .map_err(store_error)?;
    if !exists {
        let quoted = database.replace('"', "\"\"");
        sqlx::query(&format!("create database \"{quoted}\""))
            .execute(&mut conn)
            .await
            .map_err(store_error)?;
    }
    conn.close().await.map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl UnitOfWork for PgStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self.pool.begin().await.map_err(store_error)?;
        Ok(Box::new(PgTx { tx }))
    }
}

/// One open transaction; every store port is implemented on it so all writes share the commit.
struct PgTx {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl Tx for PgTx {
    fn users(&mut self) -> &mut dyn UserStore {
        self
    }
    fn sessions(&mut self) -> &mut dyn SessionStore {
        self
    }
    fn categories(&mut self) -> &mut dyn CategoryStore {
        self
    }
    fn products(&mut self) -> &mut dyn ProductStore {
        self
    }
    fn blobs(&mut self) -> &mut dyn BlobStore {
        self
    }
    fn connect(&mut self) -> &mut dyn ConnectStore {
        self
    }
    fn carts(&mut self) -> &mut dyn CartStore {
        self
    }
    fn orders(&mut self) -> &mut dyn OrderStore {
        self
    }
    fn ledger(&mut self) -> &mut dyn LedgerStore {
        self
    }
    fn payouts(&mut self) -> &mut dyn PayoutStore {
        self
    }
    fn jobs(&mut self) -> &mut dyn JobStore {
        self
    }
    fn platform(&mut self) -> &mut dyn PlatformStore {
        self
    }
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(store_error)
    }
}

#[async_trait]
impl UserStore for PgTx {
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        users::insert_user(&mut self.tx, user).await
    }
    async fn get_user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        users::get_user(&mut self.tx, id).await
    }
    async fn get_user_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        users::get_user_by_username(&mut self.tx, username).await
    }
    async fn get_profile(&mut self, id: UserId) -> Result<Option<Profile>, StoreError> {
        users::get_profile(&mut self.tx, id).await
    }
    async fn update_profile(
        &mut self,
        id: UserId,
        changes: &ProfileChanges,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        users::update_profile(&mut self.tx, id, changes, now).await
    }
    async fn set_avatar(
        &mut self,
        id: UserId,
        avatar: Option<BlobId>,
        now: OffsetDateTime,
    ) -> Result<Option<BlobId>, StoreError> {
        users::set_avatar(&mut self.tx, id, avatar, now).await
    }
    async fn set_roles(&mut self, id: UserId, roles: Roles) -> Result<(), StoreError> {
        users::set_roles(&mut self.tx, id, roles).await
    }
    async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<(), StoreError> {
        users::set_password_hash(&mut self.tx, id, hash).await
    }
}

#[async_trait]
impl SessionStore for PgTx {
    async fn insert_session(&mut self, session: &SessionRecord) -> Result<(), StoreError> {
        sessions::insert_session(&mut self.tx, session).await
    }
    async fn delete_session(&mut self, token_digest: &str) -> Result<(), StoreError> {
        sessions::delete_session(&mut self.tx, token_digest).await
    }
    async fn record_login_failure(
        &mut self,
        key: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sessions::record_login_failure(&mut self.tx, key, at).await
    }
    async fn count_login_failures(
        &mut self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        sessions::count_login_failures(&mut self.tx, key, since).await
    }
    async fn clear_login_failures(&mut self, key: &str) -> Result<(), StoreError> {
        sessions::clear_login_failures(&mut self.tx, key).await
    }
}

#[async_trait]
impl CategoryStore for PgTx {
    async fn insert_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        categories::insert_category(&mut self.tx, id, category, now).await
    }
    async fn update_category(
        &mut self,
        id: CategoryId,
        category: &ValidCategory,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        categories::update_category(&mut self.tx, id, category, now).await
    }
    async fn delete_category(&mut self, id: CategoryId) -> Result<(), StoreError> {
        categories::delete_category(&mut self.tx, id).await
    }
    async fn get_category_for_update(
        &mut self,
        id: CategoryId,
    ) -> Result<Option<CategoryRecord>, StoreError> {
        categories::get_category(&mut self.tx, id, true).await
    }
    async fn get_category(&mut self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        categories::get_category(&mut self.tx, id, false).await
    }
    async fn category_usage(&mut self, id: CategoryId) -> Result<(bool, bool), StoreError> {
        categories::category_usage(&mut self.tx, id).await
    }
}

#[async_trait]
impl ProductStore for PgTx {
    async fn insert_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        products::insert_product(&mut self.tx, product).await
    }
    async fn update_product(&mut self, product: &ProductRecord) -> Result<(), StoreError> {
        products::update_product(&mut self.tx, product).await
    }
    async fn get_product_for_update(
        &mut self,
        id: ProductId,
    ) -> Result<Option<ProductRecord>, StoreError> {
        products::get_product_for_update(&mut self.tx, id).await
    }
    async fn slug_taken(
        &mut self,
        seller: UserId,
        slug: &str,
        except: Option<ProductId>,
    ) -> Result<bool, StoreError> {
        products::slug_taken(&mut self.tx, seller, slug, except).await
    }
    async fn insert_image(&mut self, image: &ProductImageRecord) -> Result<(), StoreError> {
        products::insert_image(&mut self.tx, image).await
    }
    async fn list_images(
        &mut self,
        product: ProductId,
    ) -> Result<Vec<ProductImageRecord>, StoreError> {
        products::list_images(&mut self.tx, product).await
    }
    async fn delete_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        products::delete_image(&mut self.tx, product, image).await
    }
    async fn set_primary_image(
        &mut self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<(), StoreError> {
        products::set_primary_image(&mut self.tx, product, image).await
    }
    async fn insert_asset(&mut self, asset: &AssetRecord) -> Result<(), StoreError> {
        products::insert_asset(&mut self.tx, asset).await
    }
    async fn list_assets(&mut self, product: ProductId) -> Result<Vec<AssetRecord>, StoreError> {
        products::list_assets(&mut self.tx, product).await
    }
    async fn delete_asset(
        &mut self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        products::delete_asset(&mut self.tx, product, asset).await
    }
}

#[async_trait]
impl BlobStore for PgTx {
    async fn insert_blob(
        &mut self,
        id: BlobId,
        content_type: &str,
        bytes: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        blobs::insert_blob(&mut self.tx, id, content_type, bytes, now).await
    }
    async fn delete_blob(&mut self, id: BlobId) -> Result<(), StoreError> {
        blobs::delete_blob(&mut self.tx, id).await
    }
}

#[async_trait]
impl ConnectStore for PgTx {
    async fn get_connect(
        &mut self,
        user: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        connect::get_connect(&mut self.tx, user, true).await
    }
    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        connect::insert_connect(&mut self.tx, record).await
    }
    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        connect::update_connect(&mut self.tx, record).await
    }
    async fn find_connect_by_account(
        &mut self,
        account_id: &str,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        connect::find_connect_by_account(&mut self.tx, account_id).await
    }
}

#[async_trait]
impl CartStore for PgTx {
    async fn user_cart(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        carts::user_cart(&mut self.tx, user, now).await
    }
    async fn token_cart(&mut self, token_digest: &str) -> Result<Option<CartRecord>, StoreError> {
        carts::token_cart(&mut self.tx, token_digest).await
    }
    async fn insert_token_cart(
        &mut self,
        id: CartId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<CartRecord, StoreError> {
        carts::insert_token_cart(&mut self.tx, id, token_digest, now).await
    }
    async fn cart_lines(&mut self, cart: CartId) -> Result<Vec<CartLineRow>, StoreError> {
        carts::cart_lines(&mut self.tx, cart).await
    }
    async fn set_quantity(
        &mut self,
        cart: CartId,
        product: ProductId,
        quantity: u32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        carts::set_quantity(&mut self.tx, cart, product, quantity, now).await
    }
    async fn remove_line(&mut self, cart: CartId, product: ProductId) -> Result<(), StoreError> {
        carts::remove_line(&mut self.tx, cart, product).await
    }
    async fn clear(
        &mut self,
        cart: CartId,
        placed_order: Option<OrderId>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        carts::clear(&mut self.tx, cart, placed_order, now).await
    }
    async fn delete_cart(&mut self, cart: CartId) -> Result<(), StoreError> {
        carts::delete_cart(&mut self.tx, cart).await
    }
}

#[async_trait]
impl OrderStore for PgTx {
    async fn insert_order(
        &mut self,
        order: &OrderRecord,
        items: &[OrderItemRecord],
    ) -> Result<(), StoreError> {
        orders::insert_order(&mut self.tx, order, items).await
    }
    async fn get_order_for_update(
        &mut self,
        id: OrderId,
    ) -> Result<Option<OrderRecord>, StoreError> {
        orders::get_order(&mut self.tx, id, true).await
    }
    async fn order_items(&mut self, id: OrderId) -> Result<Vec<OrderItemRecord>, StoreError> {
        orders::order_items(&mut self.tx, id).await
    }
    async fn find_order_by_stripe_id(
        &mut self,
        stripe_id: &str,
    ) -> Result<Option<OrderId>, StoreError> {
        orders::find_order_by_stripe_id(&mut self.tx, stripe_id).await
    }
    async fn update_order(&mut self, order: &OrderRecord) -> Result<(), StoreError> {
        orders::update_order(&mut self.tx, order).await
    }
    async fn add_event(
        &mut self,
        order: OrderId,
        kind: &str,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        orders::add_event(&mut self.tx, order, kind, message, now).await
    }
}

#[async_trait]
impl LedgerStore for PgTx {
    async fn insert_entry(
        &mut self,
        id: JournalEntryId,
        entry: &JournalEntry,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        ledger::insert_entry(&mut self.tx, id, entry, now).await
    }
    async fn order_entries(&mut self, order: OrderId) -> Result<Vec<JournalEntry>, StoreError> {
        ledger::order_entries(&mut self.tx, order).await
    }
    async fn lock_seller_balance(
        &mut self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        ledger::lock_seller_balance(&mut self.tx, seller, currency).await
    }
}

#[async_trait]
impl PayoutStore for PgTx {
    async fn get_payout_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<PayoutRecord>, StoreError> {
        payouts::get_payout_for_update(&mut self.tx, order, seller).await
    }
    async fn insert_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        payouts::insert_payout(&mut self.tx, payout).await
    }
    async fn update_payout(&mut self, payout: &PayoutRecord) -> Result<(), StoreError> {
        payouts::update_payout(&mut self.tx, payout).await
    }
    async fn unconfirmed_total(
        &mut self,
        seller: UserId,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        payouts::unconfirmed_total(&mut self.tx, seller, Some(except)).await
    }
    async fn skipped_not_ready(&mut self, seller: UserId) -> Result<Vec<OrderId>, StoreError> {
        payouts::skipped_not_ready(&mut self.tx, seller).await
    }
    async fn order_payouts(&mut self, order: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        payouts::order_payouts(&mut self.tx, order).await
    }
    async fn pending_reversal_for_update(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Option<ReversalRecord>, StoreError> {
        payouts::pending_reversal_for_update(&mut self.tx, order, seller).await
    }
    async fn reversed_total(
        &mut self,
        order: OrderId,
        seller: UserId,
    ) -> Result<Cents, StoreError> {
        payouts::reversed_total(&mut self.tx, order, seller).await
    }
    async fn pending_reversals_total(
        &mut self,
        seller: UserId,
        except: OrderId,
    ) -> Result<Cents, StoreError> {
        payouts::pending_reversals_total(&mut self.tx, seller, except).await
    }
    async fn insert_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        payouts::insert_reversal(&mut self.tx, reversal).await
    }
    async fn update_reversal(&mut self, reversal: &ReversalRecord) -> Result<(), StoreError> {
        payouts::update_reversal(&mut self.tx, reversal).await
    }
}

#[async_trait]
impl JobStore for PgTx {
    async fn enqueue(
        &mut self,
        kind: &JobKind,
        run_at: OffsetDateTime,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        jobs::enqueue(&mut self.tx, kind, run_at, max_attempts, now).await
    }
    async fn claim(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>, StoreError> {
        jobs::claim(&mut self.tx, now, lease_until).await
    }
    async fn complete(&mut self, id: JobId, now: OffsetDateTime) -> Result<(), StoreError> {
        jobs::complete(&mut self.tx, id, now).await
    }
    async fn retry(
        &mut self,
        id: JobId,
        run_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        jobs::retry(&mut self.tx, id, run_at, error, now).await
    }
    async fn bury(
        &mut self,
        id: JobId,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        jobs::bury(&mut self.tx, id, error, now).await
    }
    async fn revive(&mut self, id: JobId, now: OffsetDateTime) -> Result<bool, StoreError> {
        jobs::revive(&mut self.tx, id, now).await
    }
    async fn revive_all(
        &mut self,
        kinds: &[&'static str],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        jobs::revive_all(&mut self.tx, kinds, now).await
    }
}

#[async_trait]
impl PlatformStore for PgTx {
    async fn record_webhook_event(
        &mut self,
        event: &WebhookEventRecord,
    ) -> Result<bool, StoreError> {
        platform::record_webhook_event(&mut self.tx, event).await
    }
    async fn set_webhook_outcome(&mut self, id: &str, outcome: &str) -> Result<(), StoreError> {
        platform::set_webhook_outcome(&mut self.tx, id, outcome).await
    }
    async fn insert_mail(&mut self, mail: &MailRecord) -> Result<(), StoreError> {
        platform::insert_mail(&mut self.tx, mail).await
    }
    async fn site_config(&mut self) -> Result<SiteConfig, StoreError> {
        platform::site_config(&mut self.tx).await
    }
    async fn update_site_config(
        &mut self,
        config: &SiteConfig,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        platform::update_site_config(&mut self.tx, config, now).await
    }
}

#[async_trait]
impl Queries for PgStore {
    async fn session_user(
        &self,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        sessions::session_user(&mut *self.connection().await?, token_digest, now).await
    }
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        users::get_user_by_username(&mut *self.connection().await?, username).await
    }
    async fn user_profile(&self, id: UserId) -> Result<Option<(UserRecord, Profile)>, StoreError> {
        let mut conn = self.connection().await?;
        let Some(user) = users::get_user(&mut conn, id).await? else {
            return Ok(None);
        };
        Ok(users::get_profile(&mut conn, id)
            .await?
            .map(|profile| (user, profile)))
    }
    async fn all_categories(&self) -> Result<Vec<CategoryRecord>, StoreError> {
        categories::all_categories(&mut *self.connection().await?).await
    }
    async fn active_category_tree(&self) -> Result<Vec<CategoryWithChildren>, StoreError> {
        categories::active_category_tree(&mut *self.connection().await?).await
    }
    async fn category(&self, id: CategoryId) -> Result<Option<CategoryRecord>, StoreError> {
        categories::get_category(&mut *self.connection().await?, id, false).await
    }
    async fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductListRow>, StoreError> {
        products::list_products(&mut *self.connection().await?, filter, page).await
    }
    async fn product_detail(&self, id: ProductId) -> Result<Option<ProductDetailRow>, StoreError> {
        products::product_detail(&mut *self.connection().await?, id).await
    }
    async fn seller(&self, id: UserId) -> Result<Option<SellerRow>, StoreError> {
        products::seller(&mut *self.connection().await?, id).await
    }
    async fn product_image(
        &self,
        product: ProductId,
        image: ProductImageId,
    ) -> Result<Option<ProductImageRecord>, StoreError> {
        products::product_image(&mut *self.connection().await?, product, image).await
    }
    async fn product_asset(
        &self,
        product: ProductId,
        asset: AssetId,
    ) -> Result<Option<AssetRecord>, StoreError> {
        products::product_asset(&mut *self.connection().await?, product, asset).await
    }
    async fn blob_meta(&self, id: BlobId) -> Result<Option<BlobMeta>, StoreError> {
        blobs::blob_meta(&mut *self.connection().await?, id).await
    }
    async fn blob_chunk(&self, id: BlobId, seq: i32) -> Result<Option<Vec<u8>>, StoreError> {
        blobs::blob_chunk(&mut *self.connection().await?, id, seq).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(store_error)
    }
    async fn order_detail(
        &self,
        id: OrderId,
    ) -> Result<Option<(OrderRecord, Vec<OrderItemRecord>)>, StoreError> {
        let mut conn = self.connection().await?;
        let Some(order) = orders::get_order(&mut conn, id, false).await? else {
            return Ok(None);
        };
        Ok(Some((order, orders::order_items(&mut conn, id).await?)))
    }
    async fn order_events(&self, id: OrderId) -> Result<Vec<OrderEventRecord>, StoreError> {
        orders::order_events(&mut *self.connection().await?, id).await
    }
    async fn list_orders(
        &self,
        filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<OrderRecord>, StoreError> {
        orders::list_orders(&mut *self.connection().await?, filter, page).await
    }
    async fn items_of_orders(&self, ids: &[OrderId]) -> Result<Vec<OrderItemRecord>, StoreError> {
        orders::items_of_orders(&mut *self.connection().await?, ids).await
    }
    async fn order_assets(&self, id: OrderId) -> Result<Vec<AssetRecord>, StoreError> {
        orders::order_assets(&mut *self.connection().await?, id).await
    }
    async fn order_payouts(&self, id: OrderId) -> Result<Vec<PayoutRecord>, StoreError> {
        payouts::order_payouts(&mut *self.connection().await?, id).await
    }
    async fn order_reversals(&self, id: OrderId) -> Result<Vec<ReversalRecord>, StoreError> {
        payouts::order_reversals(&mut *self.connection().await?, id).await
    }
    async fn order_by_session(&self, session_id: &str) -> Result<Option<OrderId>, StoreError> {
        orders::order_by_session(&mut *self.connection().await?, session_id).await
    }
    async fn seller_balance(
        &self,
        seller: UserId,
        currency: Currency,
    ) -> Result<Cents, StoreError> {
        ledger::seller_balance(&mut *self.connection().await?, seller, currency).await
    }
    async fn seller_ledger(
        &self,
        seller: UserId,
        filter: &LedgerFilter,
        page: PageRequest,
    ) -> Result<Page<SellerLedgerLine>, StoreError> {
        ledger::seller_ledger(&mut *self.connection().await?, seller, filter, page).await
    }
    async fn seller_payouts(
        &self,
        seller: UserId,
        page: PageRequest,
    ) -> Result<Page<PayoutRecord>, StoreError> {
        payouts::seller_payouts(&mut *self.connection().await?, seller, page).await
    }
    async fn unconfirmed_payouts(&self, seller: UserId) -> Result<Cents, StoreError> {
        payouts::unconfirmed_total(&mut *self.connection().await?, seller, None).await
    }
    async fn seller_sales(
        &self,
        seller: UserId,
        since: OffsetDateTime,
    ) -> Result<SalesSummary, StoreError> {
        sales::seller_sales(&mut *self.connection().await?, seller, since).await
    }
    async fn recent_sales(&self, seller: UserId, limit: i64) -> Result<Vec<SaleRow>, StoreError> {
        sales::recent_sales(&mut *self.connection().await?, seller, limit).await
    }
    async fn listing_counts(&self, seller: UserId) -> Result<(i64, i64), StoreError> {
        sales::listing_counts(&mut *self.connection().await?, seller).await
    }
    async fn buyer_summary(&self, buyer: UserId) -> Result<BuyerSummary, StoreError> {
        sales::buyer_summary(&mut *self.connection().await?, buyer).await
    }
    async fn connect_account(
        &self,
        seller: UserId,
    ) -> Result<Option<ConnectAccountRecord>, StoreError> {
        connect::get_connect(&mut *self.connection().await?, seller, false).await
    }
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, StoreError> {
        jobs::list_jobs(&mut *self.connection().await?, status, page).await
    }
    async fn list_outbox(&self, page: PageRequest) -> Result<Page<MailRecord>, StoreError> {
        platform::list_outbox(&mut *self.connection().await?, page).await
    }
    async fn site_config(&self) -> Result<SiteConfig, StoreError> {
        platform::site_config(&mut *self.connection().await?).await
    }
}
