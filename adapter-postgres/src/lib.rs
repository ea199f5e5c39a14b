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
use marketplace_domain::ids::{AssetId, BlobId, CategoryId, ProductId, ProductImageId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::ports::*;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

mod blobs;
mod categories;
mod connect;
mod errors;
pub mod local;
mod products;
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
        connect::get_connect(&mut self.tx, user).await
    }
    async fn insert_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        connect::insert_connect(&mut self.tx, record).await
    }
    async fn update_connect(&mut self, record: &ConnectAccountRecord) -> Result<(), StoreError> {
        connect::update_connect(&mut self.tx, record).await
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
}
