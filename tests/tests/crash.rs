//! The crash drill: the real app, as its own process, is killed with SIGKILL while payouts and
//! webhooks are in flight, then started again on the same data. Afterwards every (order, seller)
//! has exactly one transfer at Stripe, every order is paid once, the books have nothing flagged,
//! and the private PostgreSQL server is not left running.
//!
//! This test binary is also the app: started with `HC3_CRASH_DRILL_APP` set, it runs the app's
//! command line (`serve`, `create-owner`, `reconcile`) instead of the drill, so the drill kills a
//! process that is exactly what `app serve` runs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod common;

use clap::Parser;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Set in the environment of the processes that run the app.
const APP_MODE: &str = "HC3_CRASH_DRILL_APP";
const PASSWORD: &str = "crash-drill-Password-9";
/// Orders paid before the crash (their webhooks are being applied, their payouts being sent).
const EARLY_ORDERS: usize = 4;
/// Orders paid just before the crash whose webhooks never reached the app before it died.
const LATE_ORDERS: usize = 2;
const ORDERS: usize = EARLY_ORDERS + LATE_ORDERS;

/// The drill's name, for `cargo test` filters.
const NAME: &str = "crash_drill";

fn main() {
    if std::env::var_os(APP_MODE).is_some() {
        std::process::exit(run_app());
    }
    // A custom harness still answers `--list` and honours name filters like libtest does.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())) {
        println!("running 0 tests (filtered out: {NAME})");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(drill());
    println!("crash drill: ok");
}

/// The app's command line, as `app` runs it.
fn run_app() -> i32 {
    let cli = app::cli::Cli::parse();
    let config = match app::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error:#}");
            return 2;
        }
    };
    app::telemetry::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    match runtime.block_on(Box::pin(app::cli::run(cli, config))) {
        Ok(app::cli::Outcome::Done) => 0,
        Ok(app::cli::Outcome::Flagged) => 1,
        Err(error) => {
            eprintln!("error: {error:#}");
            2
        }
    }
}

/// The app run as a child process on `data_dir`.
fn app_command(data_dir: &Path, log: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(args)
        .env(APP_MODE, "1")
        .env("DATA_DIR", data_dir)
        .env("JOB_WORKERS", "2")
        // A job claimed by the killed process runs again this soon after the restart.
        .env("JOB_LEASE_SECONDS", "10")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(log_file(log)))
        .stderr(Stdio::from(log_file(log)));
    for inherited in [
        "DATABASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_CONNECT_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
        "SITE_BASE_URL",
        "SMTP_URL",
        "BIND",
    ] {
        command.env_remove(inherited);
    }
    command
}

fn log_file(path: &Path) -> File {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .expect("the log file")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A running `app serve`; dropped while running (a failed drill), it is stopped cleanly so its
/// PostgreSQL server stops too.
struct Served {
    child: Option<Child>,
    api: String,
    simulator: String,
    log: PathBuf,
}

impl Served {
    async fn start(data_dir: &Path, log: &Path) -> Served {
        let port = free_port();
        let child = app_command(data_dir, log, &["serve"])
            .env("BIND", format!("127.0.0.1:{port}"))
            .spawn()
            .expect("the app starts");
        let mut served = Served {
            child: Some(child),
            api: format!("http://127.0.0.1:{port}"),
            simulator: String::new(),
            log: log.to_owned(),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            assert!(served.running(), "the app exited: {}", served.log_text());
            let ready = http.get(format!("{}/readyz", served.api)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not ready: {}",
                served.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        served.simulator = served.simulator_url();
        served
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// This run's simulator, from the line `serve` logs about it.
    fn simulator_url(&self) -> String {
        let text = self.log_text();
        text.lines()
            .rev()
            .filter(|line| line.contains("payments are SIMULATED"))
            .find_map(|line| {
                let fields: Value = serde_json::from_str(line).ok()?;
                fields["fields"]["url"].as_str().map(str::to_owned)
            })
            .expect("serve says where the simulator is")
    }

    /// Stops it as an operator would (SIGTERM) and waits for it to exit.
    fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        terminate(&mut child)
    }

    /// SIGKILL: no clean-up of any kind.
    fn crash(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("the killed app is reaped");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }
}

/// SIGTERM, then the exit status; SIGKILL after 30 seconds. Never panics (it also runs while a
/// failed drill unwinds).
fn terminate(child: &mut Child) -> ExitStatus {
    if let Ok(Some(status)) = child.try_wait() {
        return status;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    child
        .wait()
        .unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(9))
}

/// Stops a PostgreSQL server still running on the drill's data when the drill ends (a failure
/// between the crash and the restart leaves the killed run's server behind): SIGQUIT, its
/// immediate shutdown. Nothing to do after a clean run.
struct PostgresGuard(PathBuf);

impl Drop for PostgresGuard {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.0.join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(str::trim).map(str::to_owned));
        if let Some(pid) = pid {
            let _ = Command::new("kill").args(["-QUIT", &pid]).status();
        }
    }
}

/// JSON over HTTP with an optional bearer token.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value, expected: u16) -> Value {
        let (status, body) = self
            .call(reqwest::Method::POST, path, token, Some(body))
            .await;
        assert_eq!(status.as_u16(), expected, "POST {path}: {body}");
        body
    }
}

async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A signed-in user: (id, token).
async fn register(api: &Api, username: &str, seller: bool) -> (String, String) {
    let body = api
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": username, "password": PASSWORD,
                   "email": format!("{username}@example.com"), "register_as_seller": seller}),
            201,
        )
        .await;
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// Onboards a seller on the simulator's page; returns the Stripe account id once ready.
async fn onboard(api: &Api, token: &str) -> String {
    let link = api
        .post("/api/v1/seller/connect/start", Some(token), json!({}), 200)
        .await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = api.http.post(&link).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    eventually("the seller is ready", 30, || async {
        let status = api.get("/api/v1/seller/connect", Some(token)).await;
        (status["ready"] == true).then(|| {
            status["account"]["stripe_account_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    })
    .await
}

/// Places an order of one of each listing and opens its checkout; returns (order, checkout URL).
async fn order(api: &Api, buyer: &str, listings: &[String]) -> (String, String) {
    for listing in listings {
        api.post(
            "/api/v1/cart/items",
            Some(buyer),
            json!({"product_id": listing, "quantity": 1}),
            200,
        )
        .await;
    }
    let order = api
        .post("/api/v1/orders", Some(buyer), json!({}), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let checkout = api
        .post(
            &format!("/api/v1/orders/{order}/checkout"),
            Some(buyer),
            json!({}),
            200,
        )
        .await["checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();
    (order, checkout)
}

/// Pays on the simulator's hosted page, shipping form filled.
async fn pay(api: &Api, checkout_url: &str) {
    let mut form = vec![("method", "card")];
    form.extend(common::SHIPPING_FORM);
    let paid = api
        .http
        .post(format!("{checkout_url}/pay"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER, "Pay redirects");
}

async fn order_status(api: &Api, owner: &str, order: &str) -> String {
    api.get(&format!("/api/v1/orders/{order}"), Some(owner))
        .await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn drill() {
    let data_dir =
        std::env::temp_dir().join(format!("hc3-crash-drill-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let _postgres = PostgresGuard(data_dir.join("pg"));
    let log = |name: &str| data_dir.join(format!("{name}.log"));

    let mut create_owner = app_command(
        &data_dir,
        &log("create-owner"),
        &["create-owner", "--username", "drill-owner"],
    )
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    writeln!(create_owner.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(
        create_owner.wait().unwrap().success(),
        "the owner is created"
    );

    // The marketplace before the crash: two ready sellers, a listing each, a buyer.
    let first = Served::start(&data_dir, &log("first")).await;
    let api = Api::new(&first.api);
    let sim = Api::new(&first.simulator);
    let owner = api
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "drill-owner", "password": PASSWORD}),
            200,
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let category = api
        .post(
            "/api/v1/admin/categories",
            Some(&owner),
            json!({"type": "MODEL", "name": "Drill parts"}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut accounts = BTreeMap::new();
    let mut listings = Vec::new();
    for name in ["drill-seller-a", "drill-seller-b"] {
        let (seller, token) = register(&api, name, true).await;
        accounts.insert(onboard(&api, &token).await, seller);
        let listing = api
            .post(
                "/api/v1/seller/products",
                Some(&token),
                json!({"kind": "MODEL", "title": format!("Part of {name}"),
                       "category_id": category, "price": "5.00"}),
                201,
            )
            .await;
        listings.push(listing["id"].as_str().unwrap().to_owned());
    }
    let (_, buyer) = register(&api, "drill-buyer", false).await;
    let mut orders = Vec::new();
    let mut checkouts = Vec::new();
    for _ in 0..ORDERS {
        let (order, checkout) = order(&api, &buyer, &listings).await;
        orders.push(order);
        checkouts.push(checkout);
    }

    // In flight: the early payments' webhooks arrive twice each, at once, and the first transfers
    // are made at Stripe but answered late; the late payments' webhooks are held at Stripe.
    sim.post(
        "/_sim/faults",
        None,
        json!({"path_prefix": "/v1/transfers", "method": "POST", "kind": "timeout", "count": 3}),
        200,
    )
    .await;
    sim.post(
        "/_sim/webhooks/duplicate",
        None,
        json!({"count": 1000}),
        200,
    )
    .await;
    for checkout in &checkouts[..EARLY_ORDERS] {
        pay(&api, checkout).await;
    }
    sim.post("/_sim/webhooks/duplicate", None, json!({"count": 0}), 200)
        .await;
    sim.post("/_sim/webhooks/hold", None, json!({}), 200).await;
    for checkout in &checkouts[EARLY_ORDERS..] {
        pay(&api, checkout).await;
    }
    let in_flight = eventually("a transfer is under way", 60, || async {
        let transfers = sim.get("/_sim/transfers", None).await;
        transfers.as_array().unwrap().first().cloned()
    })
    .await;
    // Stripe made it, and the app has not heard back yet: its answer comes 3 seconds late.
    let order_of = in_flight["transfer_group"].as_str().unwrap().to_owned();
    let view = api
        .get(&format!("/api/v1/seller/orders/{order_of}"), Some(&owner))
        .await;
    assert!(
        view["payouts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["transfer_id"] != in_flight["id"]),
        "the transfer in flight is not booked yet: {view}"
    );
    for order in &orders[EARLY_ORDERS..] {
        assert_eq!(
            order_status(&api, &owner, order).await,
            "pending",
            "a late order is not paid before the crash: its webhook is held at Stripe"
        );
    }
    // A shopper's view, once the once-a-second batch has written it, is in the daily counts.
    api.get(&format!("/api/v1/products/{}", listings[0]), None)
        .await;
    eventually("the view is written", 30, || async {
        let dashboard = api.get("/api/v1/admin/dashboard", Some(&owner)).await;
        (dashboard["activity"]["views"] == 1).then_some(())
    })
    .await;
    first.crash();

    // The restart, on the same data: it takes the PostgreSQL server over, the simulator sends
    // the webhooks it could not deliver, and the jobs of the killed process run again.
    let second = Served::start(&data_dir, &log("second")).await;
    assert!(
        second
            .log_text()
            .contains("taking over the PostgreSQL server an earlier run left running"),
        "the restart takes the killed run's PostgreSQL server over"
    );
    let api = Api::new(&second.api);
    let sim = Api::new(&second.simulator);
    for order in &orders {
        eventually("every order is paid", 90, || async {
            (order_status(&api, &owner, order).await == "paid").then_some(())
        })
        .await;
    }
    let mut payouts = Vec::new();
    for order in &orders {
        let paid = eventually("every payout is paid", 120, || async {
            let (status, view) = api
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/seller/orders/{order}"),
                    Some(&owner),
                    None,
                )
                .await;
            let payouts = view["payouts"].as_array().cloned().unwrap_or_default();
            (status == StatusCode::OK
                && payouts.len() == 2
                && payouts.iter().all(|p| p["status"] == "paid"))
            .then_some(payouts)
        })
        .await;
        payouts.extend(paid);
    }

    // Exactly one transfer per (order, seller), and it is the one the app booked.
    let transfers = sim.get("/_sim/transfers", None).await;
    let transfers = transfers.as_array().unwrap();
    assert_eq!(transfers.len(), 2 * ORDERS, "{transfers:#?}");
    for payout in &payouts {
        let order = payout["order_id"].as_str().unwrap();
        let seller = payout["seller_id"].as_str().unwrap();
        let theirs: Vec<&Value> = transfers
            .iter()
            .filter(|t| {
                t["transfer_group"] == order
                    && accounts.get(t["destination"].as_str().unwrap_or_default())
                        == Some(&seller.to_owned())
            })
            .collect();
        assert_eq!(theirs.len(), 1, "one transfer for {order}/{seller}");
        assert_eq!(theirs[0]["id"], payout["transfer_id"]);
        assert_eq!(theirs[0]["amount"], payout["amount_cents"]);
    }
    // Every event applied once: none failed or half-done, no order booked twice (a seller's
    // balance would not come back to zero), nothing flagged in the books.
    let events = api
        .get("/api/v1/admin/webhook-events?per_page=100", Some(&owner))
        .await;
    for event in events["items"].as_array().unwrap() {
        assert!(
            event["status"] == "applied" || event["status"] == "ignored",
            "{event}"
        );
    }
    let paid_events = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "checkout.session.completed")
        .count();
    assert_eq!(paid_events, ORDERS, "one payment event per order, once");
    let flagged = api.get("/api/v1/admin/reconciliation", Some(&owner)).await;
    assert_eq!(flagged["total"], 0, "{flagged}");
    let dashboard = api.get("/api/v1/admin/dashboard", Some(&owner)).await;
    assert_eq!(dashboard["orders_paid"], ORDERS, "{dashboard}");
    assert_eq!(dashboard["orders_pending"], 0, "{dashboard}");
    assert_eq!(
        dashboard["activity"]["views"], 1,
        "the counts written before the crash are there, once: {dashboard}"
    );
    assert_eq!(
        dashboard["activity"]["orders"],
        2 * ORDERS,
        "each listing's purchase counted once per order (two listings an order), though its \
         webhook came twice or after the restart"
    );

    assert!(second.stop().success(), "a clean stop");
    let reconcile = app_command(&data_dir, &log("reconcile"), &["reconcile"])
        .status()
        .unwrap();
    assert_eq!(
        reconcile.code(),
        Some(0),
        "the ledger is balanced and nothing is flagged"
    );
    assert!(
        !data_dir.join("pg").join("postmaster.pid").exists(),
        "the private PostgreSQL server is not left running"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}
