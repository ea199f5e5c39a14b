//! # adapter-postgres
//!
//! The PostgreSQL side of the ports. [`PgStore`] opens transactions ([`UnitOfWork`]) in which
//! every feature's store writes into one commit, and serves every feature's read queries on the
//! pool ([`PgStore::queries`]). Each feature's implementation lives in its own module, named like
//! the port module it implements; this file only wires them. Migrations are embedded
//! ([`MIGRATOR`]); [`local::LocalServer`] runs a private server when no `DATABASE_URL` is given;
//! with the `testing` feature, [`testing`] hands each test a fresh database.
//!
//! Static SQL is checked at compile time (`sqlx::query!`) against the offline data committed in
//! `.sqlx/` (refresh it with `.ci/sqlx --prepare`; CI checks it is current). The few statements
//! built at run time (list filters) run in the contract tests against a real server.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use marketplace_ports::ports::{
    AdjustmentStore, BlobStore, CartStore, CatalogVersion, CategoryStore, ConnectStore,
    EngagementStore, EntitlementStore, JobQueue, LedgerStore, MailOutbox, ModerationStore,
    NotificationStore, OrderStore, PayoutStore, ProductMediaStore, ProductStore, QaStore, Queries,
    ReconciliationStore, RefundRequestStore, ReversalStore, ReviewStore, RoleStore, SessionStore,
    SiteConfigStore, StoreError, Stores, Tx, UnitOfWork, UserStore, WebhookInbox,
};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Mutex;

mod accounts;
mod carts;
mod catalog;
mod changes;
mod connect;
mod engagement;
mod entitlements;
mod errors;
mod files;
mod jobs;
mod ledger;
mod listings;
pub mod local;
mod mail;
mod moderation;
mod notifications;
mod orders;
mod paging;
mod payouts;
mod qa;
mod reconciliation;
mod refund_requests;
mod reviews;
mod sales;
mod site;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

pub use sqlx::postgres::PgConnectOptions as ConnectOptions;

use errors::store_error;

/// The schema, embedded at compile time from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The open transaction every store of one unit of work shares. Stores run one statement at a
/// time, so the lock is never contended; it only lets each store hold the transaction.
pub(crate) type TxConn = Arc<Mutex<Transaction<'static, Postgres>>>;

/// The connection pool and everything built on it.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Advanced when a transaction that changed the catalogue commits (see [`changes`]).
    catalog: Option<CatalogVersion>,
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
        Ok(PgStore {
            pool,
            catalog: None,
        })
    }

    /// Advances `catalog` whenever one of this store's transactions that changed what catalogue
    /// pages show commits, before the commit returns (so a request that wrote never reads a stale
    /// cached page afterwards). Costs one short statement per commit.
    #[must_use]
    pub fn with_catalog_version(mut self, catalog: CatalogVersion) -> PgStore {
        self.catalog = Some(catalog);
        self
    }

    /// Listens for changes committed by any instance until the future is dropped: see
    /// [`changes::follow_changes`].
    pub fn follow_changes(
        &self,
        catalog: CatalogVersion,
        work: Arc<tokio::sync::Notify>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        changes::follow_changes(self.pool.clone(), catalog, work)
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

    /// Every feature's read queries, on the pool.
    pub fn queries(&self) -> Queries {
        Queries::every(Arc::new(self.clone()))
    }
}

/// Every feature's store, sharing one transaction.
fn stores(tx: &TxConn) -> Stores {
    Stores::default()
        .with::<dyn UserStore>(Box::new(accounts::PgUsers(tx.clone())))
        .with::<dyn SessionStore>(Box::new(accounts::PgSessions(tx.clone())))
        .with::<dyn RoleStore>(Box::new(accounts::PgRoles(tx.clone())))
        .with::<dyn CategoryStore>(Box::new(catalog::PgCategories(tx.clone())))
        .with::<dyn ProductStore>(Box::new(listings::PgProducts(tx.clone())))
        .with::<dyn ProductMediaStore>(Box::new(listings::PgProductMedia(tx.clone())))
        .with::<dyn BlobStore>(Box::new(files::PgBlobs(tx.clone())))
        .with::<dyn ConnectStore>(Box::new(connect::PgConnect(tx.clone())))
        .with::<dyn CartStore>(Box::new(carts::PgCarts(tx.clone())))
        .with::<dyn OrderStore>(Box::new(orders::PgOrders(tx.clone())))
        .with::<dyn LedgerStore>(Box::new(ledger::PgLedger(tx.clone())))
        .with::<dyn PayoutStore>(Box::new(payouts::PgPayouts(tx.clone())))
        .with::<dyn ReversalStore>(Box::new(payouts::PgReversals(tx.clone())))
        .with::<dyn JobQueue>(Box::new(jobs::PgJobQueue(tx.clone())))
        .with::<dyn MailOutbox>(Box::new(mail::PgOutbox(tx.clone())))
        .with::<dyn WebhookInbox>(Box::new(webhooks::PgWebhookInbox(tx.clone())))
        .with::<dyn SiteConfigStore>(Box::new(site::PgSiteConfig(tx.clone())))
        .with::<dyn ReconciliationStore>(Box::new(reconciliation::PgReconciliation(tx.clone())))
        .with::<dyn AdjustmentStore>(Box::new(reconciliation::PgAdjustments(tx.clone())))
        .with::<dyn RefundRequestStore>(Box::new(refund_requests::PgRefundRequests(tx.clone())))
        .with::<dyn EntitlementStore>(Box::new(entitlements::PgEntitlements(tx.clone())))
        .with::<dyn ReviewStore>(Box::new(reviews::PgReviews(tx.clone())))
        .with::<dyn QaStore>(Box::new(qa::PgQa(tx.clone())))
        .with::<dyn ModerationStore>(Box::new(moderation::PgModeration(tx.clone())))
        .with::<dyn NotificationStore>(Box::new(notifications::PgNotifications(tx.clone())))
        .with::<dyn EngagementStore>(Box::new(engagement::PgEngagement(tx.clone())))
}

/// Whether a transaction used a store that writes a table catalogue pages show (the tables
/// migration 0020 watches): users and profiles, roles, categories, listings and their media,
/// Connect accounts, reviews and ratings, moderation (suspensions), trending scores.
fn may_change_catalog(stores: &Stores) -> bool {
    stores.was_used::<dyn UserStore>()
        || stores.was_used::<dyn RoleStore>()
        || stores.was_used::<dyn CategoryStore>()
        || stores.was_used::<dyn ProductStore>()
        || stores.was_used::<dyn ProductMediaStore>()
        || stores.was_used::<dyn ConnectStore>()
        || stores.was_used::<dyn ReviewStore>()
        || stores.was_used::<dyn ModerationStore>()
        || stores.was_used::<dyn EngagementStore>()
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
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from pg_database where datname = $1) as "exists!""#,
        database
    )
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
        let conn: TxConn = Arc::new(Mutex::new(self.pool.begin().await.map_err(store_error)?));
        Ok(Box::new(PgTx {
            stores: stores(&conn),
            conn,
            catalog: self.catalog.clone(),
        }))
    }
}

/// One open transaction and the stores that write into it.
struct PgTx {
    conn: TxConn,
    stores: Stores,
    catalog: Option<CatalogVersion>,
}

#[async_trait]
impl Tx for PgTx {
    fn stores(&mut self) -> &mut Stores {
        &mut self.stores
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let PgTx {
            conn,
            stores,
            catalog,
        } = *self;
        // Only transactions that reached a store writing what catalogue pages show (migration
        // 0020's tables) can have changed the catalogue; the others skip the check below.
        let catalog = catalog.filter(|_| may_change_catalog(&stores));
        // The stores hold the other handles on the transaction: let them go first.
        drop(stores);
        let mut tx = Arc::try_unwrap(conn)
            .map_err(|_| StoreError::Unavailable("a store outlived its transaction".into()))?
            .into_inner();
        let Some(catalog) = catalog else {
            return tx.commit().await.map_err(store_error);
        };
        // Set by the catalogue triggers of migration 0020, for this transaction only.
        let changed = sqlx::query_scalar!(
            r#"select coalesce(current_setting('marketplace.catalog_changed', true) = 'on', false) as "changed!""#
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        if changed {
            catalog.advance();
        }
        Ok(())
    }
}
