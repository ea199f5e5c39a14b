use super::*;

fn temporary_state_file() -> PathBuf {
    std::env::temp_dir()
        .join(format!("hc3-journal-{}", uuid::Uuid::new_v4().simple()))
        .join("state.json")
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .expect("readable")
        .lines()
        .count()
}

/// Opens the journal at `path` into a fresh state at `base_url`, as a start does.
fn open(path: &Path, base_url: &str) -> (Storage, Mutex<State>) {
    let reader = Reader::default();
    let mut state = State::with_reader(base_url.to_owned(), reader.clone());
    let storage = Storage::open(path, &mut state, reader).expect("opens");
    storage.begin(&mut state).expect("rewrites");
    (storage, Mutex::new(state))
}

#[test]
fn a_save_appends_only_what_changed_and_saved_objects_leave_memory() {
    let path = temporary_state_file();
    let (storage, state) = open(&path, "http://sim:1");
    assert_eq!(lines(&path), 1, "a new journal: its first line only");
    {
        let mut state = state.lock().expect("lock");
        for n in 0..100 {
            state
                .accounts
                .insert(format!("acct_{n}"), json!({"id": format!("acct_{n}")}));
        }
        state.sessions.insert(
            "cs_1".into(),
            json!({"id": "cs_1", "url": "http://sim:1/checkout/cs_1"}),
        );
        state.add_transfer(
            "tr_1".into(),
            json!({"id": "tr_1", "amount": 900, "transfer_group": "order-1"}),
        );
    }
    storage.save(&state).expect("saves");
    assert_eq!(lines(&path), 1 + 102);
    {
        let mut state = state.lock().expect("lock");
        assert_eq!(state.accounts.len(), 100);
        assert_eq!(
            state.accounts.hot_len(),
            0,
            "saved objects are no longer in memory"
        );
        let account = state.accounts.get_mut("acct_7").expect("read back");
        account["charges_enabled"] = json!(true);
        state.add_transfer(
            "tr_2".into(),
            json!({"id": "tr_2", "amount": 100, "transfer_group": "order-1"}),
        );
    }
    storage.save(&state).expect("saves");
    assert_eq!(lines(&path), 1 + 102 + 2, "two changed objects, two lines");
    storage.save(&state).expect("saves");
    assert_eq!(
        lines(&path),
        1 + 102 + 2,
        "nothing changed, nothing written"
    );
    drop(storage);

    // The next run, on another port: everything is there, checkout pages moved.
    let (_storage, state) = open(&path, "http://sim:2");
    let mut restored = state.lock().expect("lock");
    assert_eq!(restored.accounts.len(), 100);
    assert_eq!(
        restored.accounts.get("acct_7").expect("kept")["charges_enabled"],
        true
    );
    assert_eq!(
        restored.sessions.get("cs_1").expect("kept")["url"],
        "http://sim:2/checkout/cs_1"
    );
    let group: Vec<i64> = restored
        .transfers_where("transfer_group", "order-1")
        .iter()
        .map(|t| t["amount"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        group,
        [900, 100],
        "the transfer index is rebuilt, oldest first"
    );
    drop(restored);
    assert_eq!(
        lines(&path),
        1 + 103,
        "a start rewrites one line per object"
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_journal_longer_than_its_objects_is_rewritten() {
    let path = temporary_state_file();
    let (storage, state) = open(&path, "http://sim:1");
    for n in 0..=journal::COMPACT_AFTER {
        state
            .lock()
            .expect("lock")
            .accounts
            .insert("acct_1".into(), json!({"id": "acct_1", "version": n}));
        storage.save(&state).expect("saves");
    }
    assert!(
        lines(&path) < 10,
        "the file was rewritten: {} lines",
        lines(&path)
    );
    let saved = read_state(&path).expect("readable");
    assert_eq!(
        saved["accounts"]["acct_1"]["version"],
        journal::COMPACT_AFTER
    );
    assert_eq!(
        state
            .lock()
            .expect("lock")
            .accounts
            .get("acct_1")
            .expect("read back after the rewrite")["version"],
        journal::COMPACT_AFTER
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_rewrite_that_fails_leaves_every_object_readable_where_it_was() {
    let path = temporary_state_file();
    let (storage, state) = open(&path, "http://sim:1");
    for n in 0..10 {
        state
            .lock()
            .expect("lock")
            .accounts
            .insert(format!("acct_{n}"), json!({"id": format!("acct_{n}")}));
    }
    storage.save(&state).expect("saves");
    // The rewrite writes every object aside, then cannot put the file in place (a
    // directory took the journal's name).
    std::fs::remove_file(&path).expect("unlinked (still open)");
    std::fs::create_dir_all(&path).expect("in the way");
    std::fs::write(path.join("keep"), b"").expect("not empty");
    let mut journal = storage.journal();
    let mut guard = state.lock().expect("lock");
    assert!(
        journal
            .as_mut()
            .expect("open")
            .compact(&mut *guard, &storage.reader)
            .is_err()
    );
    for n in [0, 7, 9] {
        let id = format!("acct_{n}");
        assert_eq!(
            guard
                .accounts
                .get(&id)
                .expect("still read from the old file")["id"],
            id.as_str()
        );
    }
    guard.evict();
    std::fs::remove_dir_all(&path).expect("out of the way");
    journal
        .as_mut()
        .expect("open")
        .compact(&mut *guard, &storage.reader)
        .expect("rewritten");
    guard.evict();
    assert_eq!(
        guard.accounts.get("acct_3").expect("read back")["id"],
        "acct_3"
    );
    drop((guard, journal));
    drop(storage);
    let saved = read_state(&path).expect("readable");
    assert_eq!(saved["accounts"].as_object().map(|a| a.len()), Some(10));
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_file_of_an_earlier_version_is_taken_over() {
    let path = temporary_state_file();
    std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
    std::fs::write(
        &path,
        br#"{"base_url":"http://old:1","sessions":{"cs_1":{"id":"cs_1","url":"http://old:1/checkout/cs_1"}},"intents":{},"charges":{},"refunds":{},"transfers":{},"accounts":{"acct_1":{"id":"acct_1"}},"links":{},"idempotency":{},"undelivered":[]}"#,
    )
    .expect("written");
    let (_storage, state) = open(&path, "http://sim:9");
    let mut state = state.lock().expect("lock");
    assert!(state.accounts.contains_key("acct_1"));
    assert_eq!(
        state.sessions.get("cs_1").expect("kept")["url"],
        "http://sim:9/checkout/cs_1"
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn expired_idempotency_keys_are_forgotten_oldest_first() {
    let mut state = State::default();
    let remembered = |at: i64| Remembered {
        fingerprint: String::new(),
        status: 200,
        body: Value::Null,
        at,
    };
    state.remember("old", remembered(0));
    state.remember("recent", remembered(IDEMPOTENCY_WINDOW_SECONDS));
    state.remember("new", remembered(IDEMPOTENCY_WINDOW_SECONDS + 1));
    assert!(!state.idempotency.contains_key("old"));
    assert!(state.idempotency.contains_key("recent"));
    assert!(state.idempotency.contains_key("new"));
}
