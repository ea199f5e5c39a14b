//! Use-case tests, one file per feature, over the in-memory stores ([`crate::testing`]) and the
//! mockall mock of the payment provider. A [`World`] builds the marketplace through its own use
//! cases (users register, sellers list, buyers place and pay orders), so a test sets up only what
//! it is about and asserts on what the stores hold afterwards.

mod accounts;
mod admin;
mod cart;
mod connect;
mod discovery;
mod extra_payments;
mod jobs;
mod listings;
mod mail_delivery;
mod orders;
mod payouts_again;
mod refund_requests;
mod reviews;
mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use marketplace_domain::catalog::{CategoryType, ListingDraft, PhysicalAttributes, ProductKind};
use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::{CategoryId, ProductId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{CheckoutPaymentStatus, Order};
use uuid::Uuid;

use super::accounts::{Register, SignedIn};
use super::cart::CartOwner;
use super::jobs::runner::JobRun;
use super::money_flow::webhooks::{ReceiveWebhookError, WebhookOutcome};
use super::{Actor, Deps, Services};
use crate::ports::{
    ChargeData, CheckoutSessionData, CheckoutSessionStatus, Clock, ConnectAccountRecord,
    EventPayload, MockPaymentGateway, RefundData, RefundStatus, StripeEvent, WebhookEndpoint,
    WebhookError,
};
use crate::testing::contract::root_category;
use crate::testing::memory::State;
use crate::testing::{FixedClock, MemoryStore, TestDeps};

/// The marketplace over in-memory stores, with Stripe calls answered by a mock.
pub(crate) struct World {
    /// The stores, to inspect what a use case wrote.
    pub store: MemoryStore,
    /// The clock every use case reads.
    pub clock: FixedClock,
    /// Every use case.
    pub services: Services,
    /// The ports, for the job handlers that take them directly.
    pub deps: Deps,
    /// The webhook events the verifier accepts, by the payload (their id) they arrive as.
    events: Arc<Mutex<HashMap<String, StripeEvent>>>,
}

impl World {
    /// A marketplace that expects no Stripe call.
    pub fn new() -> World {
        World::with(|_| {})
    }

    /// A marketplace whose Stripe mock `stripe` sets expectations on.
    pub fn with(stripe: impl FnOnce(&mut MockPaymentGateway)) -> World {
        World::configured(|deps| stripe(&mut deps.payments))
    }

    /// A marketplace whose test ports `configure` adjusts (settings, Stripe expectations).
    pub fn configured(configure: impl FnOnce(&mut TestDeps)) -> World {
        let mut test = TestDeps::default();
        configure(&mut test);
        let events: Arc<Mutex<HashMap<String, StripeEvent>>> = Arc::default();
        let known = events.clone();
        test.webhooks
            .expect_verify()
            .returning(move |_, payload, _, _| {
                let id = std::str::from_utf8(payload).unwrap_or_default();
                let known = known.lock().unwrap();
                known
                    .get(id)
                    .cloned()
                    .ok_or(WebhookError::SignatureMismatch)
            });
        let kept = events.clone();
        test.webhooks.expect_parse().returning(move |payload| {
            let id = std::str::from_utf8(payload).unwrap_or_default();
            let kept = kept.lock().unwrap();
            kept.get(id)
                .cloned()
                .ok_or_else(|| WebhookError::MalformedEvent("unknown payload".into()))
        });
        let store = test.store.clone();
        let clock = test.clock.clone();
        let deps = test.deps();
        World {
            store,
            clock,
            services: Services::new(deps.clone()),
            deps,
            events,
        }
    }

    /// What the stores hold now (committed).
    pub fn state(&self) -> State {
        self.store.read("test.state").unwrap()
    }

    /// Registers `name` and returns them signed in.
    async fn register(&self, name: &str, as_seller: bool) -> Actor {
        let signed_in = self
            .services
            .registration
            .register(Register {
                username: name.to_owned(),
                password: "Tr1cky-Sailboat".to_owned(),
                email: Some(format!("{name}@example.com")),
                register_as_seller: as_seller,
            })
            .await
            .unwrap();
        self.actor(&signed_in).await
    }

    /// The actor a session token stands for.
    pub async fn actor(&self, signed_in: &SignedIn) -> Actor {
        self.services
            .sessions
            .authenticate(&signed_in.token)
            .await
            .unwrap()
            .unwrap()
    }

    /// A buyer.
    pub async fn buyer(&self, name: &str) -> Actor {
        self.register(name, false).await
    }

    /// A seller whose Connect account (`acct_<name>`) is ready.
    pub async fn seller(&self, name: &str) -> Actor {
        let seller = self.register(name, true).await;
        self.set_connect(seller.user_id, &format!("acct_{name}"), true)
            .await;
        seller
    }

    /// A seller who has not finished onboarding.
    pub async fn unready_seller(&self, name: &str) -> Actor {
        self.register(name, true).await
    }

    /// Gives `seller` a Connect account `account`, ready or not.
    pub async fn set_connect(&self, seller: UserId, account: &str, ready: bool) {
        let now = self.clock.now();
        let record = ConnectAccountRecord {
            user_id: seller,
            status: ConnectStatus {
                stripe_account_id: Some(account.to_owned()),
                details_submitted: ready,
                charges_enabled: ready,
                payouts_enabled: ready,
            },
            onboarding_started_at: Some(now),
            onboarding_completed_at: ready.then_some(now),
            status_event_at: None,
            synced_at: None,
            updated_at: now,
        };
        let mut tx = self.store.begin_tx().await;
        let connect = tx.connect().unwrap();
        match connect.get_connect(seller).await.unwrap() {
            Some(_) => connect.update_connect(&record).await.unwrap(),
            None => connect.insert_connect(&record).await.unwrap(),
        }
        tx.commit().await.unwrap();
    }

    /// An owner (staff, superuser, seller).
    pub async fn owner(&self) -> Actor {
        let owner = self
            .services
            .registration
            .create_owner("owner", Some("owner@example.com"), "Tr1cky-Sailboat")
            .await
            .unwrap();
        assert!(owner.roles.is_owner());
        let signed_in = self
            .services
            .sessions
            .login(super::accounts::Login {
                username: "owner".to_owned(),
                password: "Tr1cky-Sailboat".to_owned(),
                client_address: "127.0.0.1".to_owned(),
            })
            .await
            .unwrap();
        self.actor(&signed_in).await
    }

    /// An active root category for `kind`'s listings.
    pub async fn category(&self, kind: ProductKind) -> CategoryId {
        let (category_type, slug) = match kind {
            ProductKind::Model => (CategoryType::Model, "models"),
            ProductKind::File => (CategoryType::File, "files"),
        };
        let existing = self
            .state()
            .categories
            .values()
            .find(|c| c.slug == slug)
            .map(|c| c.id);
        if let Some(id) = existing {
            return id;
        }
        let id = CategoryId::from_uuid(Uuid::now_v7());
        let mut tx = self.store.begin_tx().await;
        tx.categories()
            .unwrap()
            .insert_category(id, &root_category(category_type, slug), self.clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// A listing draft of `kind` priced `price` (`"10.00"`).
    pub async fn draft(&self, kind: ProductKind, title: &str, price: &str) -> ListingDraft {
        ListingDraft {
            kind,
            title: title.to_owned(),
            slug: None,
            category_id: self.category(kind).await,
            price: Some(price.to_owned()),
            is_free: false,
            short_description: None,
            description: None,
            is_active: None,
            is_featured: None,
            is_trending: None,
            physical: (kind == ProductKind::Model).then(PhysicalAttributes::default),
            license_text: None,
        }
    }

    /// `seller` lists a `kind` titled `title` at `price`.
    pub async fn listing(
        &self,
        seller: &Actor,
        kind: ProductKind,
        title: &str,
        price: &str,
    ) -> ProductId {
        let draft = self.draft(kind, title, price).await;
        let created = self.services.my_listings.create(seller, draft).await;
        created.unwrap().view.product.id
    }

    /// The usual shop: a ready seller `maker`, a buyer `buyer`, and the seller's print "Owl" at
    /// 12.50.
    pub async fn shop(&self) -> (Actor, Actor, ProductId) {
        let seller = self.seller("maker").await;
        let buyer = self.buyer("buyer").await;
        let print = self
            .listing(&seller, ProductKind::Model, "Owl", "12.50")
            .await;
        (seller, buyer, print)
    }

    /// `seller` gives a file away.
    pub async fn free_file(&self, seller: &Actor) -> ProductId {
        let mut draft = self.draft(ProductKind::File, "Free scan", "0").await;
        (draft.is_free, draft.price) = (true, None);
        let created = self.services.my_listings.create(seller, draft).await;
        created.unwrap().view.product.id
    }

    /// The usual shop with a 5.00 file "Owl.stl" of the same seller too, and the buyer's order of
    /// the print and the file, paid (`pi_1`).
    pub async fn print_and_file_paid(&self) -> (Actor, Actor, Order) {
        let (seller, buyer, print) = self.shop().await;
        let file = self
            .listing(&seller, ProductKind::File, "Owl.stl", "5.00")
            .await;
        let order = self.place(Some(&buyer), &[(print, 1), (file, 1)]).await;
        self.pay(&order, 1).await;
        (seller, buyer, order)
    }

    /// `buyer` (a guest when `None`, with `guest@example.com`) puts `items` in a cart and places
    /// the order.
    pub async fn place(&self, buyer: Option<&Actor>, items: &[(ProductId, i64)]) -> Order {
        let mut token = None;
        for (product, quantity) in items {
            let owner = CartOwner {
                actor: buyer,
                token: token.as_deref(),
            };
            let view = self.services.cart.add(owner, *product, *quantity).await;
            token = view.unwrap().token;
        }
        let owner = CartOwner {
            actor: buyer,
            token: token.as_deref(),
        };
        let guest_email = buyer.is_none().then_some("guest@example.com");
        let placed = self
            .services
            .order_placement
            .place(owner, guest_email)
            .await;
        placed.unwrap().order
    }

    /// Delivers a (verified) webhook event.
    pub async fn deliver(
        &self,
        endpoint: WebhookEndpoint,
        event: StripeEvent,
    ) -> Result<WebhookOutcome, ReceiveWebhookError> {
        let id = event.id.clone();
        self.events.lock().unwrap().insert(id.clone(), event);
        self.services
            .webhooks
            .handle(endpoint, id.as_bytes(), "t=1,v1=signed")
            .await
    }

    /// Stripe says the order's Checkout Session `cs_<n>` was paid with payment intent `pi_<n>`.
    pub async fn pay(&self, order: &Order, n: u32) -> WebhookOutcome {
        let session = CheckoutSessionData {
            id: format!("cs_{n}"),
            status: CheckoutSessionStatus::Complete,
            payment_status: CheckoutPaymentStatus::Paid,
            payment_intent: Some(format!("pi_{n}")),
            amount_total: Some(order.total),
            currency: Some(order.currency.to_string()),
            order_id: Some(order.id.to_string()),
            shipping: None,
            customer_email: None,
        };
        let event = self.event(
            &format!("evt_paid_{n}"),
            "checkout.session.completed",
            EventPayload::CheckoutCompleted(session),
        );
        self.deliver(WebhookEndpoint::Payments, event)
            .await
            .unwrap()
    }

    /// Delivers a `refund.created` or `refund.updated` event (`event_type`) carrying `refund`.
    pub async fn deliver_refund(
        &self,
        event_id: &str,
        event_type: &str,
        refund: RefundData,
    ) -> WebhookOutcome {
        let event = self.event(event_id, event_type, EventPayload::RefundChanged(refund));
        self.deliver(WebhookEndpoint::Payments, event)
            .await
            .unwrap()
    }

    /// A test-mode event created now.
    pub fn event(&self, id: &str, event_type: &str, payload: EventPayload) -> StripeEvent {
        StripeEvent {
            id: id.to_owned(),
            event_type: event_type.to_owned(),
            created: self.clock.now(),
            livemode: false,
            account: None,
            payload,
        }
    }

    /// A succeeded refund `id` of `amount` cents on charge `ch_1` (payment intent `pi_1`).
    pub fn refund(&self, id: &str, amount: i64) -> RefundData {
        RefundData {
            id: id.to_owned(),
            amount: Cents::new(amount),
            status: RefundStatus::Succeeded,
            charge: Some("ch_1".to_owned()),
            payment_intent: Some("pi_1".to_owned()),
            order_id: None,
            order_item_id: None,
            refund_request_id: None,
            refund_attempt: None,
            failure_reason: None,
            currency: Some("usd".to_owned()),
            created: self.clock.now(),
        }
    }

    /// `charge.refunded` for `order`'s charge `ch_1`: `refunded` cents in all, listing `refunds`.
    pub fn charge_refunded(
        &self,
        event_id: &str,
        order: &Order,
        refunded: i64,
        refunds: Vec<RefundData>,
    ) -> StripeEvent {
        let charge = ChargeData {
            id: "ch_1".to_owned(),
            payment_intent: Some("pi_1".to_owned()),
            amount: order.total,
            amount_refunded: Cents::new(refunded),
            refunds,
        };
        self.event(
            event_id,
            "charge.refunded",
            EventPayload::ChargeRefunded(charge),
        )
    }

    /// Runs queued jobs that are due until none is left; returns what each run did.
    pub async fn run_jobs(&self) -> Vec<JobRun> {
        let mut runs = Vec::new();
        loop {
            let run = self.services.jobs.run_next().await.unwrap();
            if run == JobRun::Idle {
                return runs;
            }
            runs.push(run);
            assert!(runs.len() < 50, "jobs keep coming: {runs:?}");
        }
    }

    /// `seller`'s balance in the order currency (positive: owed to them).
    pub fn balance(&self, seller: &Actor) -> Cents {
        let state = self.state();
        Cents::new(
            state
                .balances
                .get(&(seller.user_id, state.site.currency))
                .copied()
                .unwrap_or(0),
        )
    }
}

impl MemoryStore {
    /// A transaction on this store, for arranging a state no use case offers.
    pub(crate) async fn begin_tx(&self) -> Box<dyn crate::ports::Tx> {
        crate::ports::UnitOfWork::begin(self).await.unwrap()
    }
}
