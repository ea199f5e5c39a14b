//! Test support for use-case tests (this crate's, and other crates' with the `testing` feature):
//! the in-memory stores ([`memory::MemoryStore`]), a clock tests move by hand, deterministic
//! crypto, links and mail, and [`TestDeps`] to build use cases over them. The payment provider is
//! a mockall mock (`MockPaymentGateway`), so a test says exactly which Stripe calls it expects.
//! The [`contract`] tests run against the in-memory stores here and against PostgreSQL in the
//! adapter, so the two cannot drift.

pub mod contract;
pub mod memory;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use marketplace_domain::ids::{AssetId, OrderId, RefundRequestId};
use marketplace_domain::notifications::NotificationKind;
use time::{Duration, OffsetDateTime};

use crate::ports::{
    Clock, Crypto, CryptoError, Links, Mail, MailTemplates, Queries, RenderedMail, UnitOfWork,
};
pub use crate::ports::{MockPaymentGateway, MockWebhookVerifier};
use crate::use_cases::{Deps, Services, Settings};
pub use memory::MemoryStore;

/// 2026-01-02 03:04:05 UTC: the time tests start at.
pub fn start_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_323_045).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A clock that stands still until a test moves it.
#[derive(Clone, Debug)]
pub struct FixedClock(Arc<Mutex<OffsetDateTime>>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn at(at: OffsetDateTime) -> FixedClock {
        FixedClock(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Default for FixedClock {
    fn default() -> Self {
        FixedClock::at(start_time())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or_else(|_| start_time())
    }
}

/// Crypto that is quick and predictable: hashes are `hash:<password>`, tokens count up, digests
/// are `digest:<token>`.
#[derive(Debug, Default)]
pub struct FakeCrypto {
    tokens: AtomicU64,
}

#[async_trait]
impl Crypto for FakeCrypto {
    async fn hash_password(&self, password: &str) -> Result<String, CryptoError> {
        Ok(format!("hash:{password}"))
    }

    async fn verify_password(&self, password: &str, hash: &str) -> bool {
        hash == format!("hash:{password}")
    }

    fn new_token(&self) -> Result<String, CryptoError> {
        Ok(format!(
            "token-{}",
            self.tokens.fetch_add(1, Ordering::SeqCst).saturating_add(1)
        ))
    }

    fn digest(&self, token: &str) -> String {
        format!("digest:{token}")
    }

    fn secrets_match(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

/// Links under `https://shop.test`, spelled like the real ones so tests can read them.
#[derive(Clone, Copy, Debug, Default)]
pub struct FakeLinks;

impl Links for FakeLinks {
    fn order_page(&self, order: OrderId, guest_token: Option<&str>) -> String {
        match guest_token {
            Some(token) => format!("https://shop.test/orders/{order}?t={token}"),
            None => format!("https://shop.test/orders/{order}"),
        }
    }

    fn download(&self, order: OrderId, asset: AssetId, guest_token: Option<&str>) -> String {
        match guest_token {
            Some(token) => format!("https://shop.test/orders/{order}/assets/{asset}?t={token}"),
            None => format!("https://shop.test/orders/{order}/assets/{asset}"),
        }
    }

    fn checkout_success(&self, guest_token: Option<&str>) -> String {
        match guest_token {
            Some(token) => {
                format!("https://shop.test/paid?session={{CHECKOUT_SESSION_ID}}&t={token}")
            }
            None => "https://shop.test/paid?session={CHECKOUT_SESSION_ID}".to_owned(),
        }
    }

    fn checkout_cancel(&self, order: OrderId, guest_token: Option<&str>) -> String {
        self.order_page(order, guest_token)
    }

    fn connect_return(&self) -> String {
        "https://shop.test/connect/return".to_owned()
    }

    fn connect_refresh(&self) -> String {
        "https://shop.test/connect/refresh".to_owned()
    }

    fn notification(&self, kind: NotificationKind, subject: uuid::Uuid) -> String {
        format!(
            "https://shop.test/notifications/{}/{subject}",
            kind.as_str()
        )
    }

    fn refund_request(&self, request: RefundRequestId, guest_token: Option<&str>) -> String {
        match guest_token {
            Some(token) => format!("https://shop.test/refund-requests/{request}?t={token}"),
            None => format!("https://shop.test/refund-requests/{request}"),
        }
    }
}

/// Mail rendered as its debug text, so tests can look for the facts it carries.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainMail;

impl MailTemplates for PlainMail {
    fn render(&self, mail: &Mail) -> RenderedMail {
        let text = format!("{mail:?}");
        RenderedMail {
            subject: match mail {
                Mail::OrderPaid { order_id, .. } => format!("order {order_id} paid"),
                Mail::RefundRequested { request, .. } => format!("refund request {request}"),
                Mail::Notification { title, .. } => title.clone(),
                Mail::RefundRequestUpdated {
                    request, status, ..
                } => format!("refund request {request} {status}"),
            },
            html: format!("<pre>{text}</pre>"),
            text,
        }
    }
}

/// The ports of a use-case test: the in-memory store, a fixed clock, fake crypto, links and mail,
/// and a payment mock with no expectations unless a test sets some.
pub struct TestDeps {
    /// The stores.
    pub store: MemoryStore,
    /// The clock.
    pub clock: FixedClock,
    /// The payment provider.
    pub payments: MockPaymentGateway,
    /// The webhook verifier.
    pub webhooks: MockWebhookVerifier,
    /// Settings.
    pub settings: Settings,
    /// The mail server, when a test delivers mail.
    pub mail_sender: Option<Arc<dyn crate::ports::MailSender>>,
}

impl Default for TestDeps {
    fn default() -> Self {
        TestDeps {
            store: MemoryStore::new(),
            clock: FixedClock::default(),
            payments: MockPaymentGateway::new(),
            webhooks: MockWebhookVerifier::new(),
            settings: Settings::default(),
            mail_sender: None,
        }
    }
}

impl TestDeps {
    /// The ports as use cases take them.
    pub fn deps(self) -> Deps {
        let (uow, queries): (Arc<dyn UnitOfWork>, Queries) =
            (Arc::new(self.store.clone()), self.store.queries());
        self.deps_over(uow, queries)
    }

    /// The ports over another store (the PostgreSQL adapter's, in its own tests), with these
    /// fakes for everything else.
    pub fn deps_over(self, uow: Arc<dyn UnitOfWork>, queries: Queries) -> Deps {
        Deps {
            uow,
            queries,
            clock: Arc::new(self.clock),
            crypto: Arc::new(FakeCrypto::default()),
            payments: Arc::new(self.payments),
            webhooks: Arc::new(self.webhooks),
            links: Arc::new(FakeLinks),
            mail: Arc::new(PlainMail),
            settings: self.settings,
            engagement: crate::use_cases::discovery::EngagementBuffer::default(),
            mail_sender: self.mail_sender,
        }
    }

    /// Every use case over these ports.
    pub fn services(self) -> Services {
        Services::new(self.deps())
    }
}
