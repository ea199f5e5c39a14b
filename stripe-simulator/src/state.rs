//! Everything the simulator knows: the saved objects (journaled), the faults and logs tests set
//! and read, and the indexes that keep each call's cost flat.

use super::*;

/// How long idempotency keys are remembered.
pub(crate) const IDEMPOTENCY_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// How many recent requests and webhook deliveries are kept for inspection.
pub(crate) const LOG_LIMIT: usize = 2_000;

/// The objects that survive a restart.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Saved {
    pub(crate) base_url: String,
    pub(crate) sessions: HashMap<String, Value>,
    pub(crate) intents: HashMap<String, Value>,
    pub(crate) charges: HashMap<String, Value>,
    pub(crate) refunds: HashMap<String, Value>,
    pub(crate) transfers: HashMap<String, Value>,
    pub(crate) accounts: HashMap<String, Value>,
    pub(crate) links: HashMap<String, Value>,
    pub(crate) idempotency: HashMap<String, Remembered>,
    /// Events not yet delivered (held, or sent without a 2xx answer yet): like Stripe, a restart
    /// does not lose them; they are sent again when the simulator starts.
    #[serde(default)]
    pub(crate) undelivered: Vec<PendingEvent>,
}

/// Calls `$method()` on every saved collection of a [`State`].
macro_rules! each_collection {
    ($state:expr, $method:ident) => {{
        $state.sessions.$method();
        $state.intents.$method();
        $state.charges.$method();
        $state.refunds.$method();
        $state.transfers.$method();
        $state.accounts.$method();
        $state.links.$method();
        $state.idempotency.$method();
        $state.undelivered.$method();
    }};
}

/// Everything the simulator knows.
pub(crate) struct State {
    pub(crate) base_url: String,
    /// The address the journal's objects were written under (hosted-page URLs move to
    /// `base_url` when the journal is rewritten at start).
    pub(crate) journal_base_url: String,
    pub(crate) sessions: Journaled<Value>,
    pub(crate) intents: Journaled<Value>,
    pub(crate) charges: Journaled<Value>,
    pub(crate) refunds: Journaled<Value>,
    pub(crate) transfers: Journaled<Value>,
    /// Transfer ids by `source_transaction`, `transfer_group` and `destination` (`field:value`),
    /// oldest first, so neither a new transfer nor a filtered list reads every transfer.
    pub(crate) transfers_by: HashMap<String, Vec<String>>,
    pub(crate) accounts: Journaled<Value>,
    pub(crate) links: Journaled<Value>,
    /// Idempotency key → the request's fingerprint and answer.
    pub(crate) idempotency: Journaled<Remembered>,
    /// Idempotency keys in the order they were remembered, to forget the expired ones first.
    pub(crate) idempotency_order: VecDeque<(i64, String)>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) requests: Vec<Value>,
    pub(crate) duplicate_next: u32,
    pub(crate) hold: bool,
    pub(crate) held: Vec<PendingEvent>,
    /// Event id → the event, from its creation until the app answers 2xx.
    pub(crate) undelivered: Journaled<PendingEvent>,
    /// The sequence number of the next event.
    pub(crate) next_sequence: u64,
    /// Deliveries to start once the request that made them is saved (see `handle`).
    pub(crate) outgoing: Vec<PendingEvent>,
    /// Events numbered below this are in the state file (set by each save).
    pub(crate) saved_through: u64,
    pub(crate) deliveries: Vec<Value>,
    /// Seconds the simulator's clock runs ahead of the real one (`POST /_sim/clock`), so tests
    /// can let Stripe forget idempotency keys.
    pub(crate) clock_offset: i64,
    /// Disputes by id (not kept across restarts).
    pub(crate) disputes: HashMap<String, Value>,
}

impl Default for State {
    fn default() -> Self {
        State::with_reader(String::new(), Reader::default())
    }
}

impl State {
    /// An empty state at `base_url`, reading saved objects back through `reader`.
    pub(crate) fn with_reader(base_url: String, reader: Reader) -> State {
        State {
            journal_base_url: base_url.clone(),
            base_url,
            sessions: Journaled::new("sessions", reader.clone()),
            intents: Journaled::new("intents", reader.clone()),
            charges: Journaled::new("charges", reader.clone()),
            refunds: Journaled::new("refunds", reader.clone()),
            transfers: Journaled::new("transfers", reader.clone()),
            transfers_by: HashMap::new(),
            accounts: Journaled::new("accounts", reader.clone()),
            links: Journaled::new("links", reader.clone()),
            idempotency: Journaled::new("idempotency", reader.clone()),
            idempotency_order: VecDeque::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            duplicate_next: 0,
            hold: false,
            held: Vec::new(),
            undelivered: Journaled::new("undelivered", reader),
            next_sequence: 0,
            outgoing: Vec::new(),
            saved_through: 0,
            deliveries: Vec::new(),
            clock_offset: 0,
            disputes: HashMap::new(),
        }
    }

    /// The simulator's clock (Unix seconds): the real time plus the offset tests advanced it by.
    pub(crate) fn clock(&self) -> i64 {
        now().saturating_add(self.clock_offset)
    }

    /// The request remembered under an idempotency key, unless Stripe would have forgotten it
    /// (older than 24 hours on the simulator's clock).
    pub(crate) fn remembered(&mut self, key: &str) -> Option<Remembered> {
        let horizon = self.clock().saturating_sub(IDEMPOTENCY_WINDOW_SECONDS);
        self.idempotency
            .get(key)
            .filter(|r| r.at >= horizon)
            .cloned()
    }

    /// Remembers a completed request, forgetting keys older than a day.
    pub(crate) fn remember(&mut self, key: &str, remembered: Remembered) {
        let horizon = remembered.at.saturating_sub(IDEMPOTENCY_WINDOW_SECONDS);
        while self
            .idempotency_order
            .front()
            .is_some_and(|(at, _)| *at < horizon)
        {
            if let Some((_, old)) = self.idempotency_order.pop_front()
                && self.idempotency.get(&old).is_some_and(|r| r.at < horizon)
            {
                self.idempotency.remove(&old);
            }
        }
        self.idempotency_order
            .push_back((remembered.at, key.to_owned()));
        self.idempotency.insert(key.to_owned(), remembered);
    }

    /// Keeps a new transfer (and indexes it).
    pub(crate) fn add_transfer(&mut self, id: String, transfer: Value) {
        self.index_transfer(&id, &transfer);
        self.transfers.insert(id, transfer);
    }

    pub(crate) fn index_transfer(&mut self, id: &str, transfer: &Value) {
        for field in TRANSFER_INDEXES {
            if let Some(value) = transfer[field].as_str() {
                self.transfers_by
                    .entry(format!("{field}:{value}"))
                    .or_default()
                    .push(id.to_owned());
            }
        }
    }

    /// The transfers whose `field` (one of [`TRANSFER_INDEXES`]) is `value`, oldest first.
    pub(crate) fn transfers_where(&mut self, field: &str, value: &str) -> Vec<Value> {
        let ids = self
            .transfers_by
            .get(&format!("{field}:{value}"))
            .cloned()
            .unwrap_or_default();
        ids.iter()
            .filter_map(|id| self.transfers.get(id).cloned())
            .collect()
    }

    /// Writes the changes since the last call as journal lines, to be appended at `start`;
    /// returns how many.
    pub(crate) fn take_changes(
        &mut self,
        start: u64,
        lines: &mut Vec<u8>,
    ) -> std::io::Result<usize> {
        Ok(self.sessions.take_changes(start, lines)?
            + self.intents.take_changes(start, lines)?
            + self.charges.take_changes(start, lines)?
            + self.refunds.take_changes(start, lines)?
            + self.transfers.take_changes(start, lines)?
            + self.accounts.take_changes(start, lines)?
            + self.links.take_changes(start, lines)?
            + self.idempotency.take_changes(start, lines)?
            + self.undelivered.take_changes(start, lines)?)
    }

    /// Lets saved objects leave memory (undelivered events stay: they are few and resent).
    pub(crate) fn evict(&mut self) {
        self.sessions.evict();
        self.intents.evict();
        self.charges.evict();
        self.refunds.evict();
        self.transfers.evict();
        self.accounts.evict();
        self.links.evict();
        self.idempotency.evict();
    }

    /// Takes over one line of a journal being read at start.
    pub(crate) fn replayed(
        &mut self,
        collection: &str,
        key: String,
        value: Option<Value>,
        at: Location,
    ) {
        match collection {
            "sessions" => self.sessions.replayed(key, value, at, false),
            "intents" => self.intents.replayed(key, value, at, false),
            "charges" => self.charges.replayed(key, value, at, false),
            "refunds" => self.refunds.replayed(key, value, at, false),
            "transfers" => {
                if let Some(transfer) = &value
                    && !self.transfers.contains_key(&key)
                {
                    self.index_transfer(&key, transfer);
                }
                self.transfers.replayed(key, value, at, false);
            }
            "accounts" => self.accounts.replayed(key, value, at, false),
            "links" => self.links.replayed(key, value, at, false),
            "idempotency" => {
                if let Some(at) = value.as_ref().and_then(|v| v["at"].as_i64()) {
                    self.idempotency_order.push_back((at, key.clone()));
                }
                self.idempotency.replayed(key, value, at, false);
            }
            "undelivered" => self.undelivered.replayed(key, value, at, true),
            other => {
                tracing::warn!(
                    collection = other,
                    "an unknown collection in the simulator's journal"
                );
            }
        }
    }

    /// After reading a journal: the order idempotency keys expire in and the next event number.
    pub(crate) fn replay_done(&mut self) {
        self.idempotency_order.make_contiguous().sort_unstable();
        self.next_sequence = self
            .undelivered
            .all()
            .iter()
            .map(|pending| pending.sequence.saturating_add(1))
            .max()
            .unwrap_or(0)
            .max(self.next_sequence);
    }

    /// How many objects a snapshot holds.
    pub(crate) fn object_count(&self) -> usize {
        self.sessions.len()
            + self.intents.len()
            + self.charges.len()
            + self.refunds.len()
            + self.transfers.len()
            + self.accounts.len()
            + self.links.len()
            + self.idempotency.len()
            + self.undelivered.len()
    }

    /// Records an API request for inspection (the latest [`LOG_LIMIT`]).
    pub(crate) fn log_request(&mut self, request: Value) {
        push_bounded(&mut self.requests, request);
    }

    /// Records a webhook delivery for inspection (the latest [`LOG_LIMIT`]).
    pub(crate) fn log_delivery(&mut self, delivery: Value) {
        push_bounded(&mut self.deliveries, delivery);
    }

    /// Takes over the objects of a file written by an earlier version (one snapshot of every
    /// object).
    pub(crate) fn restore(&mut self, saved: Saved) {
        self.journal_base_url = saved.base_url;
        let restore = |target: &mut Journaled<Value>, objects: HashMap<String, Value>| {
            for (key, value) in objects {
                target.restored(key, value);
            }
        };
        restore(&mut self.sessions, saved.sessions);
        restore(&mut self.links, saved.links);
        restore(&mut self.intents, saved.intents);
        restore(&mut self.charges, saved.charges);
        restore(&mut self.refunds, saved.refunds);
        restore(&mut self.accounts, saved.accounts);
        let mut transfers: Vec<(String, Value)> = saved.transfers.into_iter().collect();
        transfers.sort_by_key(|(id, t)| (t["created"].as_i64(), id.clone()));
        for (id, transfer) in transfers {
            self.index_transfer(&id, &transfer);
            self.transfers.restored(id, transfer);
        }
        for (key, remembered) in saved.idempotency {
            self.idempotency_order
                .push_back((remembered.at, key.clone()));
            self.idempotency.restored(key, remembered);
        }
        for pending in saved.undelivered {
            self.undelivered.restored(event_id(&pending), pending);
        }
    }
}

impl Rewritable for State {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Every object; hosted checkout pages move to this run's address.
    fn write_objects(&mut self, out: &mut JournalWriter) -> std::io::Result<usize> {
        let (old_base, new_base) = (self.journal_base_url.clone(), self.base_url.clone());
        let rebase = move |session: &mut Value| {
            if let Some(url) = session["url"].as_str()
                && !old_base.is_empty()
                && url.starts_with(&old_base)
            {
                session["url"] = json!(url.replacen(&old_base, &new_base, 1));
            }
        };
        let moved = self.journal_base_url != self.base_url;
        let written = self
            .sessions
            .write_all(out, moved.then_some(&rebase as &dyn Fn(&mut Value)))?
            + self.intents.write_all(out, None)?
            + self.charges.write_all(out, None)?
            + self.refunds.write_all(out, None)?
            + self.transfers.write_all(out, None)?
            + self.accounts.write_all(out, None)?
            + self.links.write_all(out, None)?
            + self.idempotency.write_all(out, None)?
            + self.undelivered.write_all(out, None)?;
        Ok(written)
    }

    fn rewrite_done(&mut self) {
        each_collection!(self, rewrite_done);
        self.journal_base_url = self.base_url.clone();
    }

    fn rewrite_failed(&mut self) {
        each_collection!(self, rewrite_failed);
    }
}

pub(crate) fn push_bounded(log: &mut Vec<Value>, entry: Value) {
    if log.len() >= LOG_LIMIT {
        log.drain(..LOG_LIMIT / 2);
    }
    log.push(entry);
}

/// The fields of a transfer it is found by.
pub(crate) const TRANSFER_INDEXES: [&str; 3] =
    ["source_transaction", "transfer_group", "destination"];
