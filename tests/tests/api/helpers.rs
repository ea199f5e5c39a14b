//! The test harness: boots the real application on port 0 against a fresh database and talks to it
//! over HTTP, like any client.

use std::future::Future;

use adapter_postgres::ConnectOptions;
use adapter_postgres::testing::{fresh_database, query_i64};
use std::time::Duration;

use app::{Config, DatabaseConfig, JobsConfig, OffsetClock, PaymentsConfig, StripeTuning};
use marketplace_ports::use_cases::Services;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// A running application and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A client without a cookie store (tests choose their credentials explicitly).
    pub client: reqwest::Client,
    /// Bearer token of an owner account created at start.
    pub owner: User,
    /// The Stripe simulator's base URL.
    pub sim: String,
    /// The simulator's secret API key (to read objects as the app does).
    pub sim_key: String,
    /// The secret the simulator signs payments webhooks with.
    pub webhook_secret: String,
    /// The secret the simulator signs Connect webhooks with.
    pub connect_webhook_secret: String,
    /// The test's own database (to check invariants and inject failures).
    pub db: ConnectOptions,
    /// The application's clock, to move forward past a window.
    pub clock: OffsetClock,
    /// The application's use cases, to run what a schedule would (the engagement batch, the
    /// trending refresh) at a moment the test chooses.
    pub services: Services,
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct User {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Bearer token.
    pub token: String,
}

/// The password every test user gets.
pub const PASSWORD: &str = "Sturdy-Filament-77";

/// Boots a fresh application (own database) and returns a handle to it.
pub async fn spawn_app() -> TestApp {
    spawn_app_until(std::future::pending()).await.0
}

/// As [`spawn_app`], serving until `shutdown` resolves; the handle ends when the app has stopped.
pub async fn spawn_app_until(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<anyhow::Result<()>>) {
    spawn_app_with(|_| {}, shutdown).await
}

/// As [`spawn_app_until`], with the configuration changed by `tweak` first.
pub async fn spawn_app_with(
    tweak: impl FnOnce(&mut Config),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let db = fresh_database().await;
    let mut config = Config {
        database: DatabaseConfig::Options(Box::new(db.clone())),
        bind: "127.0.0.1:0".parse().unwrap(),
        site_base_url: "http://127.0.0.1".into(),
        db_max_connections: 8,
        log_format: app::config::LogFormat::Pretty,
        payments: PaymentsConfig::Simulator { state_file: None },
        stripe: StripeTuning {
            timeout: Duration::from_millis(1500),
            max_retries: 3,
            backoff: Duration::from_millis(20),
        },
        jobs: JobsConfig {
            workers: 2,
            poll_interval: Duration::from_millis(25),
            retry_base: Duration::from_millis(100),
            max_attempts: 4,
            lease: Duration::from_secs(300),
            // Tests write the tally and refresh trending when they choose (TestApp::services).
            trending_refresh: Duration::from_secs(3600),
            engagement_flush: Duration::from_secs(3600),
        },
        smtp_url: None,
        mail_from: app::config::DEFAULT_MAIL_FROM.to_owned(),
        trusted_proxies: Default::default(),
        allowed_return_origins: Vec::new(),
        catalog_cache_bytes: app::config::DEFAULT_CATALOG_CACHE_MB << 20,
        durable_commits: true,
    };
    tweak(&mut config);
    // Boxed: the app's start-up future is too large for a test thread's stack in debug builds.
    let application = Box::pin(app::build(config)).await.expect("the app builds");
    let address = format!("http://{}", application.address());
    let simulator = application.simulator().expect("the simulator runs");
    let (sim, sim_key, webhook_secret, connect_webhook_secret) = (
        simulator.base_url.clone(),
        simulator.secret_key.clone(),
        simulator.webhook_secret.clone(),
        simulator.connect_webhook_secret.clone(),
    );
    let owner_record = application
        .services()
        .registration
        .create_owner("owner", Some("owner@example.com"), PASSWORD)
        .await
        .expect("create the owner");
    let clock = application.clock();
    let services = application.services().clone();
    let serving = tokio::spawn(application.run_until(shutdown));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut app = TestApp {
        address,
        client,
        owner: User {
            id: owner_record.id.to_string(),
            username: "owner".into(),
            token: String::new(),
        },
        sim,
        sim_key,
        webhook_secret,
        connect_webhook_secret,
        db,
        clock,
        services,
    };
    app.owner = app.login("owner").await;
    (app, serving)
}

impl TestApp {
    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("the request is sent")
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::DELETE, path, token, None).await
    }

    /// POST multipart with one `file` part and extra text fields.
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        self.upload_with(Method::POST, path, token, file_name, bytes, fields)
            .await
    }

    /// Sends multipart with one `file` part and extra text fields.
    pub async fn upload_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the upload is sent")
    }

    /// Registers a user (optionally as a seller) and returns its session.
    pub async fn register(&self, username: &str, seller: bool) -> User {
        let response = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com"),
                       "register_as_seller": seller}),
            )
            .await;
        let body = expect_json(response, StatusCode::CREATED).await;
        User {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs a user in with [`PASSWORD`].
    pub async fn login(&self, username: &str) -> User {
        let response = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        let body = expect_json(response, StatusCode::OK).await;
        User {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a category as the owner.
    pub async fn category(&self, kind: &str, name: &str, parent: Option<&str>) -> String {
        let response = self
            .post(
                "/api/v1/admin/categories",
                Some(&self.owner.token),
                json!({"type": kind, "name": name, "parent_id": parent}),
            )
            .await;
        expect_json(response, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Marks a seller's Stripe Connect account ready, as the owner.
    pub async fn make_ready(&self, seller: &User) {
        let response = self
            .put(
                &format!("/api/v1/admin/sellers/{}/connect", seller.id),
                Some(&self.owner.token),
                json!({"stripe_account_id": format!("acct_{}", seller.username.replace(['-', '_'], "")),
                       "details_submitted": true, "charges_enabled": true, "payouts_enabled": true}),
            )
            .await;
        expect_json(response, StatusCode::OK).await;
    }

    /// A seller with a ready account.
    pub async fn ready_seller(&self, username: &str) -> User {
        let seller = self.register(username, true).await;
        self.make_ready(&seller).await;
        seller
    }

    /// A MODEL listing of `seller` in `category` at 5.00; returns its id.
    pub async fn model_listing(&self, seller: &User, category: &str, title: &str) -> String {
        self.listing(
            seller,
            json!({"kind": "MODEL", "title": title, "category_id": category, "price": "5.00"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a listing; returns its JSON.
    pub async fn listing(&self, seller: &User, body: Value) -> Value {
        let response = self
            .post("/api/v1/seller/products", Some(&seller.token), body)
            .await;
        expect_json(response, StatusCode::CREATED).await
    }
}

impl TestApp {
    /// Calls a simulator control or page (`/_sim/...`) with a JSON body.
    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.sim))
            .json(&body)
            .send()
            .await
            .expect("the simulator answers");
        expect_json(response, StatusCode::OK).await
    }

    /// Reads a simulator control (`/_sim/...`).
    pub async fn sim_get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.sim))
            .send()
            .await
            .expect("the simulator answers");
        expect_json(response, StatusCode::OK).await
    }

    /// Reads a Stripe object from the simulator's API, as the app's client would.
    pub async fn stripe_get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.sim))
            .bearer_auth(&self.sim_key)
            .send()
            .await
            .expect("the simulator answers");
        expect_json(response, StatusCode::OK).await
    }

    /// A seller who onboarded through the simulator's Connect pages (a real simulated account).
    pub async fn onboarded_seller(&self, username: &str) -> User {
        let seller = self.register(username, true).await;
        self.complete_onboarding(&seller).await;
        seller
    }

    /// `POST /seller/connect/start`: the simulator's onboarding page for the seller.
    pub async fn onboarding_link(&self, seller: &User) -> String {
        expect_json(
            self.post(
                "/api/v1/seller/connect/start",
                Some(&seller.token),
                json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The Stripe API requests the app made (`method`, path starting with `path_prefix`), oldest
    /// first, as the simulator recorded them.
    pub async fn stripe_requests(&self, method: &str, path_prefix: &str) -> Vec<Value> {
        self.sim_get("/_sim/requests")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["method"] == method && r["path"].as_str().unwrap().starts_with(path_prefix)
            })
            .cloned()
            .collect()
    }

    /// Starts (or continues) onboarding, completes it on the simulator's page, and waits until
    /// `account.updated` made the seller ready. Returns the Connect account id.
    pub async fn complete_onboarding(&self, seller: &User) -> String {
        let link = self.onboarding_link(seller).await;
        let page = self.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("SIMULATOR"));
        let done = self.client.post(&link).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert!(
            done.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with("/seller/connect/return")
        );
        let token = seller.token.clone();
        eventually("the seller becomes ready", || async {
            let status = expect_json(
                self.get("/api/v1/seller/connect", Some(&token)).await,
                StatusCode::OK,
            )
            .await;
            (status["ready"] == true).then(|| {
                status["account"]["stripe_account_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
        })
        .await
    }

    /// Adds a product to a cart (a user's, or the anonymous one of `cart_token`); returns the
    /// cart and its token.
    pub async fn add_to_cart(
        &self,
        user: Option<&User>,
        cart_token: Option<&str>,
        product: &str,
        quantity: i64,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self
            .client
            .post(self.url("/api/v1/cart/items"))
            .json(&json!({"product_id": product, "quantity": quantity}));
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        if let Some(token) = cart_token {
            request = request.header("X-Cart-Token", token);
        }
        let response = request.send().await.unwrap();
        let header = response
            .headers()
            .get("x-cart-token")
            .map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body, header)
    }

    /// Places an order from a cart; returns the order.
    pub async fn place_order(
        &self,
        user: Option<&User>,
        cart_token: Option<&str>,
        guest_email: Option<&str>,
    ) -> Value {
        let mut request = self
            .client
            .post(self.url("/api/v1/orders"))
            .json(&json!({"guest_email": guest_email}));
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        if let Some(token) = cart_token {
            request = request.header("X-Cart-Token", token);
        }
        expect_json(request.send().await.unwrap(), StatusCode::CREATED).await
    }

    /// `POST /orders/{id}/checkout` (with the guest token when given).
    pub async fn checkout(
        &self,
        order: &str,
        user: Option<&User>,
        token: Option<&str>,
    ) -> Response {
        let query = token.map(|t| format!("?t={t}")).unwrap_or_default();
        self.send(
            Method::POST,
            &format!("/api/v1/orders/{order}/checkout{query}"),
            user.map(|u| u.token.as_str()),
            None,
        )
        .await
    }

    /// Pays on the simulator's hosted checkout page like a buyer would: opens the page, presses
    /// Pay (filling the shipping form when it asks for one). Returns where the buyer is sent.
    pub async fn pay(&self, checkout_url: &str) -> String {
        let page = self.client.get(checkout_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the checkout page opens");
        let html = page.text().await.unwrap();
        assert!(
            html.contains("SIMULATOR"),
            "the page says it is a simulator"
        );
        let mut form = vec![("method", "card")];
        if html.contains("Shipping address") {
            form.extend(crate::common::SHIPPING_FORM);
        }
        let paid = self
            .client
            .post(format!("{checkout_url}/pay"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status(), StatusCode::SEE_OTHER, "Pay redirects");
        paid.headers()["location"].to_str().unwrap().to_owned()
    }

    /// The payment intent of the Checkout Session a buyer was sent back from (`landing`, as
    /// [`TestApp::pay`] returns it).
    pub async fn payment_intent_of(&self, landing: &str) -> String {
        let session = landing
            .split("session_id=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        self.stripe_get(&format!("/v1/checkout/sessions/{session}"))
            .await["payment_intent"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An onboarded seller `potter` with one MODEL in a new "Homeware" category: `extra` adds
    /// fields (`{"price": "10.00"}` or `{"is_free": true}`). Returns the seller and the product id.
    pub async fn potter_with(&self, title: &str, extra: Value) -> (User, String) {
        let models = self.category("MODEL", "Homeware", None).await;
        let seller = self.onboarded_seller("potter").await;
        let mut body = json!({"kind": "MODEL", "title": title, "category_id": models});
        for (key, value) in extra.as_object().into_iter().flatten() {
            body[key] = value.clone();
        }
        let product = self.listing(&seller, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (seller, product)
    }

    /// `buyer` gets a free `product` (ordered and checked out at once) and reviews it with
    /// `review` (`{rating, title?, body?}`); returns the review.
    pub async fn free_purchase_reviewed(
        &self,
        buyer: &User,
        product: &str,
        review: Value,
    ) -> Value {
        let (status, _, _) = self.add_to_cart(Some(buyer), None, product, 1).await;
        assert_eq!(status, StatusCode::OK);
        let order = self.place_order(Some(buyer), None, None).await;
        let order_id = order["id"].as_str().unwrap();
        let paid = expect_json(
            self.checkout(order_id, Some(buyer), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(paid["status"], "paid");
        let line = order["items"][0]["id"].as_str().unwrap();
        expect_json(
            self.post(
                &format!("/api/v1/orders/{order_id}/items/{line}/review"),
                Some(&buyer.token),
                review,
            )
            .await,
            StatusCode::CREATED,
        )
        .await
    }

    /// The actions of the audit log, newest first (its newest 100).
    pub async fn audit_actions(&self) -> Vec<String> {
        let audit = expect_json(
            self.get(
                "/api/v1/admin/audit-log?per_page=100",
                Some(&self.owner.token),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The mail outbox (its newest 100 mails).
    pub async fn outbox(&self) -> Vec<Value> {
        let outbox = expect_json(
            self.get("/api/v1/admin/outbox?per_page=100", Some(&self.owner.token))
                .await,
            StatusCode::OK,
        )
        .await;
        outbox["items"].as_array().unwrap().clone()
    }

    /// Uploads an STL file ([`stl_bytes`], `owl.stl`) to a FILE listing; returns the asset id.
    pub async fn upload_stl(&self, seller: &User, product: &str) -> String {
        expect_json(
            self.upload(
                &format!("/api/v1/seller/products/{product}/assets"),
                &seller.token,
                "owl.stl",
                stl_bytes(),
                &[],
            )
            .await,
            StatusCode::CREATED,
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Reads an order (as its buyer, or with the guest token) until `check` accepts it.
    pub async fn order_until(
        &self,
        order: &str,
        user: Option<&User>,
        token: Option<&str>,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let query = token.map(|t| format!("?t={t}")).unwrap_or_default();
        let path = format!("/api/v1/orders/{order}{query}");
        eventually(what, || async {
            let body = expect_json(
                self.get(&path, user.map(|u| u.token.as_str())).await,
                StatusCode::OK,
            )
            .await;
            check(&body).then_some(body)
        })
        .await
    }

    /// An order as staff see it: every line and its money, payouts and the whole history.
    pub async fn order_as_owner(&self, order: &str) -> Value {
        expect_json(
            self.get(&format!("/api/v1/orders/{order}"), Some(&self.owner.token))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// Waits until no background job is queued or running.
    pub async fn jobs_settled(&self) {
        eventually("every job is done or dead", || async {
            let jobs = expect_json(
                self.get("/api/v1/admin/jobs?per_page=100", Some(&self.owner.token))
                    .await,
                StatusCode::OK,
            )
            .await;
            jobs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|j| j["status"] == "done" || j["status"] == "dead")
                .then_some(())
        })
        .await;
    }

    /// The transfers the simulator made.
    pub async fn sim_transfers(&self) -> Vec<Value> {
        self.sim_get("/_sim/transfers")
            .await
            .as_array()
            .unwrap()
            .clone()
    }

    /// A seller's payouts page.
    pub async fn seller_money(&self, seller: &User) -> Value {
        expect_json(
            self.get("/api/v1/seller/payouts", Some(&seller.token))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// Waits until every payout of the order is `paid`, returns the order.
    pub async fn payouts_paid(&self, order: &str, count: usize) -> Value {
        let path = format!("/api/v1/seller/orders/{order}");
        let owner = self.owner.token.clone();
        eventually("every payout is paid", || async {
            let response = self.get(&path, Some(&owner)).await;
            if response.status() == StatusCode::NOT_FOUND {
                return None; // Not paid yet: seller views show paid orders only.
            }
            let body = expect_json(response, StatusCode::OK).await;
            let payouts = body["payouts"].as_array().unwrap();
            (payouts.len() == count && payouts.iter().all(|p| p["status"] == "paid"))
                .then_some(body)
        })
        .await
    }

    /// What the platform's fee revenue holds for one order (negative: credited).
    pub async fn fee_revenue_of(&self, order: &str) -> i64 {
        query_i64(
            &self.db,
            &format!(
                "select coalesce(sum(p.amount_cents), 0)::bigint from journal_postings p
                 join journal_entries e on e.id = p.entry_id
                 where p.account = 'fee_revenue' and e.order_id = '{order}'"
            ),
        )
        .await
    }

    /// Checks the ledger in the database: every journal entry balances, and so does the whole.
    pub async fn assert_ledger_balanced(&self) {
        let unbalanced = query_i64(
            &self.db,
            "select count(*) from (select entry_id from journal_postings group by entry_id
             having sum(amount_cents) <> 0) as e",
        )
        .await;
        assert_eq!(unbalanced, 0, "every journal entry balances");
        let total = query_i64(
            &self.db,
            "select coalesce(sum(amount_cents), 0)::bigint from journal_postings",
        )
        .await;
        assert_eq!(total, 0, "the ledger as a whole balances");
    }
}

/// An order of one MODEL from one onboarded seller, with its checkout page open.
pub struct OpenCheckout {
    /// The seller.
    pub seller: User,
    /// The buyer.
    pub buyer: User,
    /// The order.
    pub order_id: String,
    /// The simulator's checkout page.
    pub url: String,
}

impl TestApp {
    /// Lists a MODEL at `price` (a new category and onboarded seller), has a new buyer put
    /// `quantity` in the cart, place the order and open its checkout page.
    pub async fn open_checkout(&self, price: &str, quantity: i64) -> OpenCheckout {
        let models = self.category("MODEL", "Workshop", None).await;
        let seller = self.onboarded_seller("workshop").await;
        let product = self
            .listing(
                &seller,
                json!({"kind": "MODEL", "title": "Workshop piece", "category_id": models, "price": price}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let buyer = self.register("customer", false).await;
        let (status, _, _) = self
            .add_to_cart(Some(&buyer), None, &product, quantity)
            .await;
        assert_eq!(status, StatusCode::OK);
        let order = self.place_order(Some(&buyer), None, None).await;
        let order_id = order["id"].as_str().unwrap().to_owned();
        let url = expect_json(
            self.checkout(&order_id, Some(&buyer), None).await,
            StatusCode::OK,
        )
        .await["checkout_url"]
            .as_str()
            .unwrap()
            .to_owned();
        OpenCheckout {
            seller,
            buyer,
            order_id,
            url,
        }
    }
}

/// The titles of a list page's items, in order.
pub fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `probe` until it returns something (every 50 ms, for up to 20 s).
///
/// # Panics
/// When it never does, naming `what` was awaited.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Asserts the status and returns the JSON body (printing it on a mismatch).
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Asserts an error response: its status, its code, and (if given) that `field` has a message.
pub async fn expect_error(
    response: Response,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) -> Value {
    let body = expect_json(response, status).await;
    assert_eq!(
        body["error"]["code"], code,
        "unexpected error code in {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "no message in {body}"
    );
    if let Some(field) = field {
        let messages = &body["error"]["fields"][field];
        assert!(
            messages.as_array().is_some_and(|m| !m.is_empty()),
            "expected a message for field {field:?} in {body}"
        );
    }
    body
}

/// Asserts a 404 with the `not_found` code: what anyone gets for something that does not exist or
/// is not theirs to see.
pub async fn expect_not_found(response: Response) -> Value {
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await
}

/// A tiny valid PNG (1×1, from the PNG test suite's structure).
pub fn png_bytes() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// A small ASCII STL file.
pub fn stl_bytes() -> Vec<u8> {
    b"solid cube\n  facet normal 0 0 1\n    outer loop\n      vertex 0 0 0\n      vertex 1 0 0\n      vertex 0 1 0\n    endloop\n  endfacet\nendsolid cube\n"
        .to_vec()
}
