//! # stripe-simulator
//!
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
mod controls;
mod journal;
mod pages;
mod params;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Request, Response, Server};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

mod signing;
mod state;
mod transfers;

use journal::{
    JournalFile, JournalWriter, Journaled, Location, Reader, Record, Rewritable, apply_change,
};
use signing::sign;
#[cfg(test)]
use state::IDEMPOTENCY_WINDOW_SECONDS;
use state::{Saved, State};

/// The API version stamped on the events the simulator sends (the version our client pins).
pub const API_VERSION: &str = "2026-07-29.dahlia";

/// Where the simulator listens and where it sends webhooks.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Listening address (port 0 picks one).
    pub bind: SocketAddr,
    /// The app's payments webhook URL (`…/webhooks/stripe`).
    pub payments_webhook_url: String,
    /// The app's Connect webhook URL (`…/webhooks/stripe/connect`).
    pub connect_webhook_url: String,
    /// Where to keep its objects between runs (accounts, sessions, charges, transfers…), like
    /// Stripe would; `None` keeps them in memory only (tests).
    pub state_file: Option<PathBuf>,
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
    sim: Arc<Sim>,
    server: JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.server.abort();
        // Requests still in flight or webhooks still being retried no longer save, and the next
        // process may take the state over at once.
        if let Some(storage) = &self.sim.storage {
            storage.release();
        }
    }
}

/// A failure to inject into upcoming API calls.
#[derive(Clone, Debug)]
pub(crate) struct Fault {
    pub(crate) method: Option<String>,
    pub(crate) path_prefix: String,
    /// `"500"`, `"429"`, `"409"`, `"400"` (a refusal) or `"timeout"`.
    pub(crate) kind: String,
    /// The error code of a `"400"` refusal (`balance_insufficient`, say).
    pub(crate) code: Option<String>,
    pub(crate) remaining: u32,
    /// The `Stripe-Should-Retry` header to send with an injected error, when set.
    pub(crate) should_retry: Option<bool>,
}

/// A webhook waiting to be sent.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct PendingEvent {
    pub(crate) connect: bool,
    pub(crate) event: Value,
    /// Creation order, so events kept across a restart are sent again in the order they were
    /// made.
    #[serde(default)]
    pub(crate) sequence: u64,
}

/// A completed request remembered under its idempotency key.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Remembered {
    pub(crate) fingerprint: String,
    pub(crate) status: u16,
    pub(crate) body: Value,
    /// When (Unix seconds); Stripe forgets keys after 24 hours, and so do we.
    pub(crate) at: i64,
}

/// Where the state is kept (a journal: see [`journal`]), and the lock that keeps a second process
/// from sharing it.
struct Storage {
    path: PathBuf,
    /// Held (locked) as long as the simulator runs; `None` once released.
    lock: Mutex<Option<File>>,
    /// The open journal (`None` until [`Storage::begin`]); its lock serialises saves, so changes
    /// are written in the order they were taken.
    journal: Mutex<Option<JournalFile>>,
    /// Reads saved objects back (shared with the state's collections).
    reader: Reader,
    /// A save failed: the next one rewrites the whole journal.
    broken: std::sync::atomic::AtomicBool,
}

impl Storage {
    /// Locks `path`'s lock file and reads the saved objects into `state` (the journal's index;
    /// objects are read back when needed).
    fn open(path: &Path, state: &mut State, reader: Reader) -> std::io::Result<Storage> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let lock = File::create(path.with_extension("lock"))?;
        lock.try_lock().map_err(|_| {
            std::io::Error::other(format!(
                "{} is in use by another running app; stop it first",
                path.display()
            ))
        })?;
        let unreadable = |e: std::io::Error| {
            std::io::Error::other(format!("{} is not readable: {e}", path.display()))
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                reader.set(File::open(path)?);
                let mut failed = None;
                journal::replay(&bytes, |record, at| match record {
                    Record::Begin { base_url } => state.journal_base_url = base_url,
                    Record::Snapshot { objects } => {
                        match serde_json::from_value::<Saved>(objects) {
                            Ok(saved) => state.restore(saved),
                            Err(error) => failed = Some(std::io::Error::other(error)),
                        }
                    }
                    Record::Set {
                        collection,
                        key,
                        value,
                    } => state.replayed(&collection, key, Some(value), at),
                    Record::Remove { collection, key } => {
                        state.replayed(&collection, key, None, at);
                    }
                })
                .map_err(unreadable)?;
                if let Some(error) = failed {
                    return Err(unreadable(error));
                }
                state.replay_done();
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Storage {
            path: path.to_owned(),
            lock: Mutex::new(Some(lock)),
            journal: Mutex::new(None),
            reader,
            broken: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Rewrites the journal with `state`'s objects (at this run's address) and starts appending.
    fn begin(&self, state: &mut State) -> std::io::Result<()> {
        let journal = JournalFile::rewrite(&self.path, state, &self.reader)?;
        state.evict();
        *self.journal() = Some(journal);
        Ok(())
    }

    fn journal(&self) -> MutexGuard<'_, Option<JournalFile>> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lets another process take the state over; nothing is saved afterwards.
    fn release(&self) {
        let _journal = self.journal();
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }

    /// Appends what changed since the last save (or, after a failure or when the journal has
    /// grown past its objects, rewrites it), unless released; then lets saved objects leave
    /// memory.
    fn save(&self, state: &Mutex<State>) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        let lock_state = || {
            state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let mut journal = self.journal();
        if self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
        {
            return Ok(());
        }
        let Some(journal) = journal.as_mut() else {
            return Ok(());
        };
        let (lines, count, through, objects) = {
            let mut state = lock_state();
            let mut lines = Vec::new();
            let count = state.take_changes(journal.end(), &mut lines)?;
            (lines, count, state.next_sequence, state.object_count())
        };
        if count > 0
            && !self.broken.load(Ordering::Acquire)
            && journal.append(&lines, count).is_err()
        {
            self.broken.store(true, Ordering::Release);
        }
        let mut state = lock_state();
        if self.broken.load(Ordering::Acquire) || journal.wants_compaction(objects) {
            // The rewrite holds every change taken so far, appended or not.
            journal.compact(&mut *state, &self.reader)?;
            self.broken.store(false, Ordering::Release);
        }
        state.evict();
        state.saved_through = state.saved_through.max(through);
        Ok(())
    }
}

/// The objects a state file holds, as one JSON object (`sessions`, `transfers`, `undelivered`…:
/// the form of a snapshot), for tools and tests that look inside without starting a simulator.
///
/// # Errors
/// When the file cannot be read or is not a journal.
pub fn read_state(path: &Path) -> std::io::Result<Value> {
    serde_json::to_value(read_journal(&std::fs::read(path)?)?).map_err(std::io::Error::other)
}

/// The saved objects a journal describes.
fn read_journal(bytes: &[u8]) -> std::io::Result<Saved> {
    let mut saved = Saved::default();
    let mut unreadable = None;
    journal::replay(bytes, |record, _| match record {
        Record::Begin { base_url } => saved.base_url = base_url,
        Record::Snapshot { objects } => match serde_json::from_value(objects) {
            Ok(snapshot) => saved = snapshot,
            Err(error) => unreadable = Some(error),
        },
        Record::Set {
            collection,
            key,
            value,
        } => apply(&mut saved, &collection, key, Some(value)),
        Record::Remove { collection, key } => apply(&mut saved, &collection, key, None),
    })?;
    match unreadable {
        Some(error) => Err(std::io::Error::other(error)),
        None => Ok(saved),
    }
}

/// Applies one journal change to the saved objects.
fn apply(saved: &mut Saved, collection: &str, key: String, value: Option<Value>) {
    match collection {
        "sessions" => apply_change(&mut saved.sessions, key, value),
        "intents" => apply_change(&mut saved.intents, key, value),
        "charges" => apply_change(&mut saved.charges, key, value),
        "refunds" => apply_change(&mut saved.refunds, key, value),
        "transfers" => apply_change(&mut saved.transfers, key, value),
        "accounts" => apply_change(&mut saved.accounts, key, value),
        "links" => apply_change(&mut saved.links, key, value),
        "idempotency" => apply_change(&mut saved.idempotency, key, value),
        "undelivered" => {
            let mut by_id: HashMap<String, PendingEvent> = std::mem::take(&mut saved.undelivered)
                .into_iter()
                .map(|pending| (event_id(&pending), pending))
                .collect();
            apply_change(&mut by_id, key, value);
            saved.undelivered = by_id.into_values().collect();
        }
        other => tracing::warn!(
            collection = other,
            "an unknown collection in the simulator's journal"
        ),
    }
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
    storage: Option<Storage>,
}

impl Sim {
    /// The state; a poisoned lock (a panic while holding it) is recovered, the data being plain.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Saves the state when it is kept between runs (a failure is logged: the simulator goes on
    /// in memory).
    pub(crate) async fn save(self: &Arc<Self>) {
        if self.storage.is_none() {
            return;
        }
        let sim = self.clone();
        let saved = tokio::task::spawn_blocking(move || match &sim.storage {
            Some(storage) => storage.save(&sim.state),
            None => Ok(()),
        })
        .await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "saving the Stripe simulator's state failed")
            }
            Err(error) => tracing::error!(%error, "saving the Stripe simulator's state panicked"),
        }
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
        let reader = Reader::default();
        let mut state = State::with_reader(base_url.clone(), reader.clone());
        let storage = match &config.state_file {
            Some(path) => {
                let storage = Storage::open(path, &mut state, reader)?;
                storage.begin(&mut state)?;
                Some(storage)
            }
            None => None,
        };
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
            state: Mutex::new(state),
            storage,
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
        tracing::info!(url = %base_url, "the Stripe simulator is listening (no real money moves)");
        let mut undelivered: Vec<PendingEvent> =
            sim.state().undelivered.all().into_iter().cloned().collect();
        undelivered.sort_by_key(|pending| pending.sequence);
        if !undelivered.is_empty() {
            tracing::info!(
                events = undelivered.len(),
                "the Stripe simulator sends again the webhooks a previous run did not deliver"
            );
        }
        for pending in undelivered {
            tokio::spawn(deliver(sim.clone(), pending));
        }
        Ok(Simulator {
            base_url,
            secret_key: sim.secret_key.clone(),
            webhook_secret: sim.webhook_secret.clone(),
            connect_webhook_secret: sim.connect_webhook_secret.clone(),
            sim,
            server,
        })
    }

    /// Marks a connected account as fully onboarded without sending `account.updated`, as if
    /// that had happened long ago (sample data). False for an unknown account.
    pub async fn activate_account(&self, account_id: &str) -> bool {
        let found = {
            let mut state = self.sim.state();
            match state.accounts.get_mut(account_id) {
                Some(account) => {
                    for flag in ["details_submitted", "charges_enabled", "payouts_enabled"] {
                        account[flag] = json!(true);
                    }
                    account["capabilities"] =
                        json!({"card_payments": "active", "transfers": "active"});
                    true
                }
                None => false,
            }
        };
        if found {
            self.sim.save().await;
        }
        found
    }
}

async fn handle(sim: Arc<Sim>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let changes = request.method() != poem::http::Method::GET;
    let response = if path.starts_with("/v1/") {
        api::handle(sim.clone(), request).await
    } else if path.starts_with("/_sim/") {
        controls::control(sim.clone(), request).await
    } else {
        pages::handle(sim.clone(), request).await
    };
    if changes {
        sim.save().await;
    }
    // Webhooks go out only once what they describe is saved — by this request's save or a later
    // one, never an earlier one of a concurrent request: a crash in between loses neither.
    let ready: Vec<PendingEvent> = {
        let mut state = sim.state();
        let through = if sim.storage.is_some() {
            state.saved_through
        } else {
            u64::MAX
        };
        let (ready, later) = std::mem::take(&mut state.outgoing)
            .into_iter()
            .partition(|pending| pending.sequence < through);
        state.outgoing = later;
        ready
    };
    for pending in ready {
        tokio::spawn(deliver(sim.clone(), pending));
    }
    response
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
    let mut state = sim.state();
    let pending = PendingEvent {
        connect: connect_account.is_some(),
        event,
        sequence: state.next_sequence,
    };
    state.next_sequence = state.next_sequence.saturating_add(1);
    // Kept with the request that made it (see `handle`) until the app answers 2xx.
    state
        .undelivered
        .insert(event_id(&pending), pending.clone());
    if state.hold {
        state.held.push(pending);
        return;
    }
    let copies = if state.duplicate_next > 0 {
        state.duplicate_next = state.duplicate_next.saturating_sub(1);
        2
    } else {
        1
    };
    for _ in 0..copies {
        state.outgoing.push(pending.clone());
    }
}

/// The id of a pending event.
fn event_id(pending: &PendingEvent) -> String {
    pending.event["id"].as_str().unwrap_or_default().to_owned()
}

/// Sends an event, retrying a few times like Stripe does when the app answers non-2xx. Until the
/// app answers 2xx the event stays undelivered, and the next start sends it again.
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
    let delivered = statuses.last().is_some_and(|s| (200..300).contains(s));
    {
        let mut state = sim.state();
        if delivered {
            state.undelivered.remove(&id);
        }
        state.log_delivery(json!({"event": id, "type": kind, "statuses": statuses}));
    }
    if delivered {
        sim.save().await;
    }
}

#[cfg(test)]
mod tests;
