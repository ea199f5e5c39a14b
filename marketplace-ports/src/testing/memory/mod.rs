//! Every store and query of the ports, in memory: what use-case tests run on.
//!
//! A transaction works on its own copy of the state and replaces the shared state when it
//! commits (dropping it rolls back). A commit fails with a conflict when another transaction
//! committed in between: tests run use cases one after another, and a test that does not is told
//! so rather than silently losing a write. Named constraints are kept with the names PostgreSQL
//! gives them, so use cases see the same conflicts; the contract tests
//! ([`crate::testing::contract`]) run against both implementations to keep them in step.
//!
//! [`MemoryStore::fail`] makes one store call fail with `StoreError::Unavailable`, to test that
//! use cases roll back and report it.

mod accounts;
mod carts;
mod catalog;
mod connect;
mod engagement;
mod entitlements;
mod files;
mod jobs;
mod ledger;
mod listings;
mod mail;
mod moderation;
mod notifications;
mod orders;
mod payouts;
mod qa;
mod reconciliation;
mod refund_requests;
mod reviews;
mod sales;
mod site;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use marketplace_domain::ids::{
    BlobId, CartId, CategoryId, JournalEntryId, OrderId, ProductId, RefundRequestId, UserId,
};
use marketplace_domain::ledger::JournalEntry;
use marketplace_domain::money::Currency;
use marketplace_domain::notifications::MailPreferences;
use marketplace_domain::orders::Order;
use marketplace_domain::reconcile::Anomaly;
use marketplace_domain::reviews::RatingSummary;
use marketplace_domain::site::SiteConfig;
use time::OffsetDateTime;

use crate::ports::{
    AdjustmentRecord, AdjustmentStore, AssetRecord, AuditEntry, BlobStore, CartRecord, CartStore,
    CategoryRecord, CategoryStore, ConnectAccountRecord, ConnectStore, DownloadRecord,
    EntitlementRecord, EntitlementStore, HealthQueries, JobQueue, JobRecord, LedgerStore,
    MailOutbox, MailRecord, MessageRecord, ModerationStore, NotificationRecord, NotificationStore,
    OrderEventRecord, OrderStore, PayoutRecord, PayoutStore, ProductImageRecord, ProductMediaStore,
    ProductRecord, ProductStore, Profile, QaStore, Queries, ReconciliationStore,
    RefundRequestRecord, RefundRequestStep, RefundRequestStore, ReplyRecord, ReportRecord,
    ReversalRecord, ReversalStore, ReviewRecord, ReviewStore, RoleStore, SessionRecord,
    SessionStore, SiteConfigStore, StoreError, StoredFlag, Stores, ThreadRecord, Tx, UnitOfWork,
    UserRecord, UserStore, WebhookEventRecord, WebhookInbox,
};

/// A stored file.
#[derive(Clone, Debug)]
pub(crate) struct Blob {
    pub(crate) content_type: String,
    pub(crate) chunks: Vec<Vec<u8>>,
    pub(crate) size: i64,
}

/// A cart line.
#[derive(Clone, Debug)]
pub(crate) struct CartLine {
    pub(crate) cart: CartId,
    pub(crate) product: ProductId,
    pub(crate) quantity: u32,
    pub(crate) added_at: OffsetDateTime,
}

/// A queued job and the key that keeps it single.
#[derive(Clone, Debug)]
pub(crate) struct StoredJob {
    pub(crate) record: JobRecord,
    pub(crate) dedupe_key: String,
    pub(crate) locked_until: Option<OffsetDateTime>,
}

/// Everything the stores keep.
/// How an outbox mail's delivery stands.
#[derive(Clone, Debug, Default)]
pub(crate) struct MailDelivery {
    pub(crate) attempts: i32,
    pub(crate) next_attempt_at: Option<OffsetDateTime>,
    pub(crate) locked_until: Option<OffsetDateTime>,
    pub(crate) last_error: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) users: BTreeMap<UserId, UserRecord>,
    pub(crate) profiles: BTreeMap<UserId, Profile>,
    pub(crate) sessions: Vec<SessionRecord>,
    pub(crate) login_failures: Vec<(String, OffsetDateTime)>,
    pub(crate) categories: BTreeMap<CategoryId, CategoryRecord>,
    pub(crate) products: BTreeMap<ProductId, ProductRecord>,
    pub(crate) images: Vec<ProductImageRecord>,
    pub(crate) assets: Vec<AssetRecord>,
    pub(crate) blobs: BTreeMap<BlobId, Blob>,
    pub(crate) connect: BTreeMap<UserId, ConnectAccountRecord>,
    pub(crate) carts: BTreeMap<CartId, (CartRecord, Option<String>)>,
    pub(crate) cart_lines: Vec<CartLine>,
    pub(crate) orders: BTreeMap<OrderId, Order>,
    pub(crate) order_sessions: BTreeMap<String, OrderId>,
    pub(crate) order_events: Vec<(OrderId, OrderEventRecord)>,
    pub(crate) journal: Vec<(JournalEntryId, JournalEntry, OffsetDateTime)>,
    pub(crate) balances: HashMap<(UserId, Currency), i64>,
    pub(crate) payouts: BTreeMap<(OrderId, UserId), PayoutRecord>,
    pub(crate) reversals: Vec<ReversalRecord>,
    pub(crate) jobs: Vec<StoredJob>,
    pub(crate) mail: Vec<MailRecord>,
    pub(crate) mail_delivery: BTreeMap<marketplace_domain::ids::MailId, MailDelivery>,
    pub(crate) webhooks: BTreeMap<String, WebhookEventRecord>,
    pub(crate) webhook_payloads: BTreeMap<String, Vec<u8>>,
    pub(crate) site: SiteConfig,
    pub(crate) anomalies: Vec<(OrderId, Anomaly)>,
    pub(crate) flags: BTreeMap<OrderId, (Vec<StoredFlag>, OffsetDateTime)>,
    pub(crate) adjustments: Vec<AdjustmentRecord>,
    pub(crate) audit: Vec<AuditEntry>,
    pub(crate) refund_requests: Vec<RefundRequestRecord>,
    pub(crate) refund_request_steps: Vec<(RefundRequestId, RefundRequestStep)>,
    pub(crate) entitlements: Vec<EntitlementRecord>,
    pub(crate) downloads: Vec<DownloadRecord>,
    pub(crate) reviews: Vec<ReviewRecord>,
    pub(crate) replies: Vec<ReplyRecord>,
    pub(crate) seller_ratings: BTreeMap<UserId, RatingSummary>,
    pub(crate) threads: Vec<ThreadRecord>,
    pub(crate) messages: Vec<MessageRecord>,
    pub(crate) reports: Vec<ReportRecord>,
    pub(crate) notifications: Vec<NotificationRecord>,
    pub(crate) mail_preferences: BTreeMap<UserId, MailPreferences>,
    pub(crate) daily_stats:
        BTreeMap<(ProductId, time::Date), (UserId, crate::ports::ActivityTotals)>,
    pub(crate) trending: BTreeMap<ProductId, crate::ports::TrendingMark>,
}

/// The committed state, its version, and the calls told to fail.
#[derive(Debug, Default)]
struct Shared {
    state: State,
    version: u64,
    faults: BTreeSet<&'static str>,
}

/// What every store of one transaction shares: its working copy and the faults to inject.
#[derive(Clone)]
pub(crate) struct Working {
    state: Arc<Mutex<State>>,
    shared: Arc<Mutex<Shared>>,
}

impl Working {
    /// The working copy, after checking whether the call `operation` must fail.
    pub(crate) fn state(
        &self,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, State>, StoreError> {
        fail_if_told(&self.shared, operation)?;
        self.state.lock().map_err(|_| poisoned())
    }
}

fn poisoned() -> StoreError {
    StoreError::Unavailable("the in-memory store was poisoned by a panic".into())
}

fn fail_if_told(shared: &Mutex<Shared>, operation: &'static str) -> Result<(), StoreError> {
    let mut shared = shared.lock().map_err(|_| poisoned())?;
    if shared.faults.remove(operation) {
        Err(StoreError::Unavailable(format!(
            "{operation} failed (injected)"
        )))
    } else {
        Ok(())
    }
}

/// A conflict on a named constraint, as PostgreSQL reports it.
pub(crate) fn conflict(constraint: &str) -> StoreError {
    StoreError::Conflict {
        constraint: constraint.to_owned(),
    }
}

/// An in-memory unit of work and query side.
#[derive(Clone, Default)]
pub struct MemoryStore {
    shared: Arc<Mutex<Shared>>,
}

impl MemoryStore {
    /// An empty store with the default site configuration.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes the next call of `operation` (`"<store>.<method>"`, e.g. `"orders.update_order"`)
    /// fail with [`StoreError::Unavailable`].
    pub fn fail(&self, operation: &'static str) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.faults.insert(operation);
        }
    }

    /// Every feature's queries, on the committed state.
    pub fn queries(&self) -> Queries {
        Queries::every(Arc::new(self.clone()))
    }

    /// Changes the committed state behind the stores' back (a record lost to an old backup, say),
    /// for tests of what the use cases do then.
    #[cfg(test)]
    pub(crate) fn tamper(&self, change: impl FnOnce(&mut State)) {
        if let Ok(mut shared) = self.shared.lock() {
            change(&mut shared.state);
        }
    }

    /// The committed state, for a query `operation`.
    pub(crate) fn read(&self, operation: &'static str) -> Result<State, StoreError> {
        fail_if_told(&self.shared, operation)?;
        Ok(self.shared.lock().map_err(|_| poisoned())?.state.clone())
    }
}

/// Every feature's store, sharing one working copy.
fn stores(working: &Working) -> Stores {
    Stores::default()
        .with::<dyn UserStore>(Box::new(accounts::MemUsers(working.clone())))
        .with::<dyn RoleStore>(Box::new(accounts::MemRoles(working.clone())))
        .with::<dyn SessionStore>(Box::new(accounts::MemSessions(working.clone())))
        .with::<dyn CategoryStore>(Box::new(catalog::MemCategories(working.clone())))
        .with::<dyn ProductStore>(Box::new(listings::MemProducts(working.clone())))
        .with::<dyn ProductMediaStore>(Box::new(listings::MemProductMedia(working.clone())))
        .with::<dyn BlobStore>(Box::new(files::MemBlobs(working.clone())))
        .with::<dyn ConnectStore>(Box::new(connect::MemConnect(working.clone())))
        .with::<dyn CartStore>(Box::new(carts::MemCarts(working.clone())))
        .with::<dyn OrderStore>(Box::new(orders::MemOrders(working.clone())))
        .with::<dyn LedgerStore>(Box::new(ledger::MemLedger(working.clone())))
        .with::<dyn PayoutStore>(Box::new(payouts::MemPayouts(working.clone())))
        .with::<dyn ReversalStore>(Box::new(payouts::MemReversals(working.clone())))
        .with::<dyn JobQueue>(Box::new(jobs::MemJobQueue(working.clone())))
        .with::<dyn MailOutbox>(Box::new(mail::MemOutbox(working.clone())))
        .with::<dyn WebhookInbox>(Box::new(webhooks::MemWebhookInbox(working.clone())))
        .with::<dyn SiteConfigStore>(Box::new(site::MemSiteConfig(working.clone())))
        .with::<dyn ReconciliationStore>(Box::new(reconciliation::MemReconciliation(
            working.clone(),
        )))
        .with::<dyn AdjustmentStore>(Box::new(reconciliation::MemAdjustments(working.clone())))
        .with::<dyn RefundRequestStore>(Box::new(refund_requests::MemRefundRequests(
            working.clone(),
        )))
        .with::<dyn EntitlementStore>(Box::new(entitlements::MemEntitlements(working.clone())))
        .with::<dyn ReviewStore>(Box::new(reviews::MemReviews(working.clone())))
        .with::<dyn QaStore>(Box::new(qa::MemQa(working.clone())))
        .with::<dyn ModerationStore>(Box::new(moderation::MemModeration(working.clone())))
        .with::<dyn NotificationStore>(Box::new(notifications::MemNotifications(working.clone())))
        .with::<dyn crate::ports::EngagementStore>(Box::new(engagement::MemEngagement(
            working.clone(),
        )))
}

#[async_trait]
impl UnitOfWork for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        fail_if_told(&self.shared, "uow.begin")?;
        let (state, version) = {
            let shared = self.shared.lock().map_err(|_| poisoned())?;
            (shared.state.clone(), shared.version)
        };
        let working = Working {
            state: Arc::new(Mutex::new(state)),
            shared: self.shared.clone(),
        };
        Ok(Box::new(MemoryTx {
            stores: stores(&working),
            working,
            version,
        }))
    }
}

/// One open transaction: a working copy of the state and the stores that change it.
struct MemoryTx {
    working: Working,
    version: u64,
    stores: Stores,
}

#[async_trait]
impl Tx for MemoryTx {
    fn stores(&mut self) -> &mut Stores {
        &mut self.stores
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        fail_if_told(&self.working.shared, "tx.commit")?;
        let state = self.working.state.lock().map_err(|_| poisoned())?.clone();
        let mut shared = self.working.shared.lock().map_err(|_| poisoned())?;
        if shared.version != self.version {
            return Err(conflict("memory_store_concurrent_commit"));
        }
        shared.state = state;
        shared.version = shared.version.saturating_add(1);
        Ok(())
    }
}

#[async_trait]
impl HealthQueries for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read("health.ping").map(|_| ())
    }
}

/// The stores' contract, run against the in-memory stores.
#[cfg(test)]
mod contract {
    crate::contract_tests!(async { super::MemoryStore::new().subject() });
}
