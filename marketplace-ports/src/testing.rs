//! Test support for use-case tests: a unit of work whose transactions hold a mockall mock of each
//! store, and a fixed clock. Compiled for this crate's tests and, with the `mocks` feature, for
//! other crates' tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::ports::{
    BlobStore, CartStore, CategoryStore, Clock, ConnectStore, JobStore, LedgerStore, MockBlobStore,
    MockCartStore, MockCategoryStore, MockConnectStore, MockCrypto, MockJobStore, MockLedgerStore,
    MockOrderStore, MockPaymentGateway, MockPayoutStore, MockPlatformStore, MockProductStore,
    MockQueries, MockSessionStore, MockUserStore, MockWebhookVerifier, OrderStore, PayoutStore,
    PlatformStore, ProductStore, SessionStore, StoreError, Tx, UnitOfWork, UserStore,
};

/// A transaction made of one mock per store. Set expectations on the fields.
#[derive(Default)]
pub struct FakeTx {
    /// User store mock.
    pub users: MockUserStore,
    /// Session store mock.
    pub sessions: MockSessionStore,
    /// Category store mock.
    pub categories: MockCategoryStore,
    /// Product store mock.
    pub products: MockProductStore,
    /// Blob store mock.
    pub blobs: MockBlobStore,
    /// Connect store mock.
    pub connect: MockConnectStore,
    /// Cart store mock.
    pub carts: MockCartStore,
    /// Order store mock.
    pub orders: MockOrderStore,
    /// Ledger store mock.
    pub ledger: MockLedgerStore,
    /// Payout store mock.
    pub payouts: MockPayoutStore,
    /// Job store mock.
    pub jobs: MockJobStore,
    /// Platform store mock.
    pub platform: MockPlatformStore,
    /// Counts commits, when set (a test can tell a commit from a rollback).
    pub commits: Option<Arc<AtomicUsize>>,
}

#[async_trait]
impl Tx for FakeTx {
    fn users(&mut self) -> &mut dyn UserStore {
        &mut self.users
    }
    fn sessions(&mut self) -> &mut dyn SessionStore {
        &mut self.sessions
    }
    fn categories(&mut self) -> &mut dyn CategoryStore {
        &mut self.categories
    }
    fn products(&mut self) -> &mut dyn ProductStore {
        &mut self.products
    }
    fn blobs(&mut self) -> &mut dyn BlobStore {
        &mut self.blobs
    }
    fn connect(&mut self) -> &mut dyn ConnectStore {
        &mut self.connect
    }
    fn carts(&mut self) -> &mut dyn CartStore {
        &mut self.carts
    }
    fn orders(&mut self) -> &mut dyn OrderStore {
        &mut self.orders
    }
    fn ledger(&mut self) -> &mut dyn LedgerStore {
        &mut self.ledger
    }
    fn payouts(&mut self) -> &mut dyn PayoutStore {
        &mut self.payouts
    }
    fn jobs(&mut self) -> &mut dyn JobStore {
        &mut self.jobs
    }
    fn platform(&mut self) -> &mut dyn PlatformStore {
        &mut self.platform
    }
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        if let Some(commits) = &self.commits {
            commits.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

type TxFactory = Box<dyn FnMut() -> FakeTx + Send>;

/// A unit of work that builds a fresh [`FakeTx`] for every `begin()`.
pub struct FakeUow {
    factory: Mutex<TxFactory>,
}

impl FakeUow {
    /// Uses `factory` to build each transaction (set the expectations there).
    pub fn new(factory: impl FnMut() -> FakeTx + Send + 'static) -> Self {
        FakeUow {
            factory: Mutex::new(Box::new(factory)),
        }
    }
}

#[async_trait]
impl UnitOfWork for FakeUow {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let mut factory = self
            .factory
            .lock()
            .map_err(|_| StoreError::Unavailable("fake unit of work poisoned".into()))?;
        Ok(Box::new(factory()))
    }
}

/// A clock stopped at 2026-01-02 03:04:05 UTC.
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The clock tests use unless they need another time.
pub fn fixed_clock() -> FixedClock {
    FixedClock(datetime!(2026-01-02 03:04:05 UTC))
}

/// The ports of a use-case test: a fake unit of work, mocks for everything else, a fixed clock and
/// default settings.
pub fn deps(
    uow: FakeUow,
    queries: MockQueries,
    crypto: MockCrypto,
    payments: MockPaymentGateway,
) -> crate::use_cases::Deps {
    crate::use_cases::Deps {
        uow: Arc::new(uow),
        queries: Arc::new(queries),
        clock: Arc::new(fixed_clock()),
        crypto: Arc::new(crypto),
        payments: Arc::new(payments),
        webhooks: Arc::new(MockWebhookVerifier::new()),
        settings: crate::use_cases::Settings::default(),
    }
}
