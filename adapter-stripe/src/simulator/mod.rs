//! The Stripe simulator: a loopback HTTP server speaking the subset of Stripe's API we use, with a
//! hosted checkout page (its Pay button completes the payment) and a Connect onboarding page (its
//! button completes the account), sending correctly signed webhooks back to the app for every state
//! change. `app serve` starts it when no `STRIPE_SECRET_KEY` is set, so a fresh machine runs the
//! whole money flow with the real client code.
//!
//! It is loud about what it is (a log line at start, a banner on its pages) and keeps its state in
//! memory. For tests it can fail the next calls (500, 429, or a timeout after doing the work),
//! deliver webhooks twice or hold them and release them in reverse order, make dashboard-style
//! refunds and disputes, and report every request it received.

mod api;
mod pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Request, Response, Server};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::client::API_VERSION;
use crate::webhook::sign;

/// Where the simulator listens and where it sends webhooks.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Listening address (port 0 picks one).
    pub bind: SocketAddr,
    /// The app's payments webhook URL (`…/webhooks/stripe`).
    pub payments_webhook_url: String,
    /// The app's Connect webhook URL (`…/webhooks/stripe/connect`).
    pub connect_webhook_url: String,
}

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    /// Its base URL (`http://127.0.0.1:<port>`).
    pub base_url: String,
    /// The secret key the client must use.
    pub secret_key: String,
    /// Secret signing payments webhooks.
    pub webhook_secret: String,
    /// Secret signing Connect webhooks.
    pub connect_webhook_secret: String,
    server: JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A failure to inject into upcoming API calls.
#[derive(Clone, Debug)]
pub(crate) struct Fault {
    pub(crate) method: Option<String>,
    pub(crate) path_prefix: String,
    /// `"500"`, `"429"` or `"timeout"`.
    pub(crate) kind: String,
    pub(crate) remaining: u32,
}

/// A webhook waiting to be sent.
#[derive(Clone, Debug)]
pub(crate) struct PendingEvent {
    pub(crate) connect: bool,
    pub(crate) event: Value,
}

/// Everything the simulator knows.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) base_url: String,
    pub(crate) sessions: HashMap<String, Value>,
    pub(crate) intents: HashMap<String, Value>,
    pub(crate) charges: HashMap<String, Value>,
    pub(crate) refunds: HashMap<String, Value>,
    pub(crate) transfers: HashMap<String, Value>,
    pub(crate) accounts: HashMap<String, Value>,
    pub(crate) links: HashMap<String, Value>,
    /// Idempotency key → (request fingerprint, status, body).
    pub(crate) idempotency: HashMap<String, (String, u16, Value)>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) requests: Vec<Value>,
    pub(crate) duplicate_next: u32,
    pub(crate) hold: bool,
    pub(crate) held: Vec<PendingEvent>,
    pub(crate) deliveries: Vec<Value>,
}

/// The shared simulator.
pub(crate) struct Sim {
    pub(crate) secret_key: String,
    pub(crate) webhook_secret: String,
    pub(crate) connect_webhook_secret: String,
    pub(crate) payments_url: String,
    pub(crate) connect_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) state: Mutex<State>,
}

impl Sim {
    /// The state; a poisoned lock (a panic while holding it) is recovered, the data being plain.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A Stripe-style id: `prefix_` + 24 random alphanumerics.
pub(crate) fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_sim{}",
        &uuid::Uuid::new_v4().simple().to_string()[..21]
    )
}

pub(crate) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn random_secret(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

impl Simulator {
    /// Starts the simulator.
    ///
    /// # Errors
    /// When it cannot listen.
    pub async fn start(config: SimulatorConfig) -> std::io::Result<Simulator> {
        let acceptor = TcpListener::bind(config.bind).into_acceptor().await?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("the simulator has no address"))?;
        let base_url = format!("http://{address}");
        let sim = Arc::new(Sim {
            secret_key: random_secret("sk_test_simulator_"),
            webhook_secret: random_secret("whsec_simulator_"),
            connect_webhook_secret: random_secret("whsec_simulator_connect_"),
            payments_url: config.payments_webhook_url,
            connect_url: config.connect_webhook_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(std::io::Error::other)?,
            state: Mutex::new(State {
                base_url: base_url.clone(),
                ..State::default()
            }),
        });
        let endpoint = {
            let sim = sim.clone();
            poem::endpoint::make(move |request: Request| {
                let sim = sim.clone();
                async move { Ok::<Response, poem::Error>(handle(sim, request).await) }
            })
        };
        let server = tokio::spawn(async move {
            if let Err(error) = Server::new_with_acceptor(acceptor)
                .run(endpoint.map_to_response())
                .await
            {
                tracing::error!(%error, "the Stripe simulator stopped");
            }
        });
        tracing::warn!(
            url = %base_url,
            "STRIPE SIMULATOR running: no STRIPE_SECRET_KEY is set, so payments, payouts and onboarding are simulated and no real money moves"
        );
        Ok(Simulator {
            base_url,
            secret_key: sim.secret_key.clone(),
            webhook_secret: sim.webhook_secret.clone(),
            connect_webhook_secret: sim.connect_webhook_secret.clone(),
            server,
        })
    }
}

async fn handle(sim: Arc<Sim>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/v1/") {
        api::handle(sim, request).await
    } else if path.starts_with("/_sim/") {
        api::control(sim, request).await
    } else {
        pages::handle(sim, request).await
    }
}

/// Builds an event envelope around `object` and sends it (or holds it).
pub(crate) fn emit(sim: &Arc<Sim>, event_type: &str, object: Value, connect_account: Option<&str>) {
    let mut event = json!({
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type,
        "data": {"object": object},
    });
    if let (Some(account), Some(map)) = (connect_account, event.as_object_mut()) {
        map.insert("account".to_owned(), Value::String(account.to_owned()));
    }
    let pending = PendingEvent {
        connect: connect_account.is_some(),
        event,
    };
    let copies = {
        let mut state = sim.state();
        if state.hold {
            state.held.push(pending);
            return;
        }
        if state.duplicate_next > 0 {
            state.duplicate_next = state.duplicate_next.saturating_sub(1);
            2
        } else {
            1
        }
    };
    for _ in 0..copies {
        tokio::spawn(deliver(sim.clone(), pending.clone()));
    }
}

/// Sends an event, retrying a few times like Stripe does when the app answers non-2xx.
pub(crate) async fn deliver(sim: Arc<Sim>, pending: PendingEvent) {
    let (url, secret) = if pending.connect {
        (sim.connect_url.clone(), sim.connect_webhook_secret.clone())
    } else {
        (sim.payments_url.clone(), sim.webhook_secret.clone())
    };
    let body = pending.event.to_string();
    let id = pending.event["id"].as_str().unwrap_or_default().to_owned();
    let kind = pending.event["type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut statuses = Vec::new();
    for attempt in 0_u32..6 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * 2_u64.pow(attempt))).await;
        }
        let signature = sign(body.as_bytes(), &secret, now());
        let result = sim
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("Stripe-Signature", signature)
            .body(body.clone())
            .send()
            .await;
        let status = result.as_ref().map_or(0, |r| r.status().as_u16());
        statuses.push(status);
        if (200..300).contains(&status) {
            break;
        }
    }
    sim.state()
        .deliveries
        .push(json!({"event": id, "type": kind, "statuses": statuses}));
}
