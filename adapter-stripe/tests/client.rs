//! Our Stripe client against the simulator: retries on 5xx, 429 and timeouts with the same
//! idempotency key (so the work happens once), typed errors that are not retried, and the
//! simulator's idempotent replay.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

use adapter_stripe::{ClientConfig, StripeClient};
use marketplace_domain::money::{Cents, Currency};
use marketplace_ports::ports::{NewTransfer, PaymentError, PaymentGateway};
use serde_json::{Value, json};
use stripe_simulator::{Simulator, SimulatorConfig};

struct Harness {
    sim: Simulator,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let sim = Simulator::start(SimulatorConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            // Nobody listens there: these tests look at the API, not at webhooks.
            payments_webhook_url: "http://127.0.0.1:9/webhooks/stripe".to_owned(),
            connect_webhook_url: "http://127.0.0.1:9/webhooks/stripe/connect".to_owned(),
            state_file: None,
        })
        .await
        .unwrap();
        Harness {
            sim,
            http: reqwest::Client::new(),
        }
    }

    fn client(&self, max_retries: u32) -> StripeClient {
        StripeClient::new(ClientConfig {
            timeout: Duration::from_millis(800),
            max_retries,
            backoff: Duration::from_millis(10),
            ..ClientConfig::new(&self.sim.base_url, &self.sim.secret_key)
        })
        .unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.sim.base_url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn read(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sim.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A connected account that can receive transfers.
    async fn ready_account(&self, client: &StripeClient) -> String {
        let account = client
            .create_express_account("maker@example.com", "US", "account:test")
            .await
            .unwrap();
        assert!(!account.payouts_enabled, "a new account is not ready");
        self.control(
            &format!("/_sim/accounts/{}", account.id),
            json!({"details_submitted": true, "charges_enabled": true, "payouts_enabled": true}),
        )
        .await;
        let read = client.retrieve_account(&account.id).await.unwrap();
        assert!(read.payouts_enabled && read.charges_enabled && read.details_submitted);
        account.id
    }

    async fn transfer_requests(&self) -> Vec<Value> {
        self.read("/_sim/requests")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == "/v1/transfers")
            .cloned()
            .collect()
    }
}

fn transfer(destination: &str, amount: i64) -> NewTransfer {
    NewTransfer {
        amount: Cents::new(amount),
        currency: Currency::USD,
        destination: destination.to_owned(),
        source_transaction: None,
        transfer_group: "group-1".to_owned(),
        metadata: BTreeMap::from([("order_id".to_owned(), "o-1".to_owned())]),
    }
}

#[tokio::test]
async fn server_errors_rate_limits_and_timeouts_are_retried_with_the_same_key() {
    let h = Harness::start().await;
    let client = h.client(3);
    let account = h.ready_account(&client).await;
    for kind in ["500", "429", "timeout"] {
        h.control(
            "/_sim/faults",
            json!({"method": "POST", "path_prefix": "/v1/transfers", "kind": kind, "count": 1}),
        )
        .await;
    }
    let made = client
        .create_transfer(&transfer(&account, 1234), "payout:o-1:s-1")
        .await
        .unwrap();
    assert_eq!(made.amount, Cents::new(1234));
    let requests = h.transfer_requests().await;
    let statuses: Vec<i64> = requests
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [500, 429, 200, 200],
        "the timed-out attempt did the work"
    );
    assert!(
        requests
            .iter()
            .all(|r| r["idempotency_key"] == "payout:o-1:s-1")
    );
    let transfers = h.read("/_sim/transfers").await;
    assert_eq!(transfers.as_array().unwrap().len(), 1, "done once");
    assert_eq!(transfers[0]["id"], made.id.as_str());

    // The same key later returns the same transfer; the same key with other parameters is refused.
    let again = client
        .create_transfer(&transfer(&account, 1234), "payout:o-1:s-1")
        .await
        .unwrap();
    assert_eq!(again.id, made.id);
    let conflicting = client
        .create_transfer(&transfer(&account, 999), "payout:o-1:s-1")
        .await;
    assert!(
        matches!(conflicting, Err(PaymentError::Rejected { ref code, .. }) if code == "idempotency_key_in_use"),
        "{conflicting:?}"
    );
    assert_eq!(h.read("/_sim/transfers").await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn keys_are_forgotten_after_a_day_and_transfers_are_listed_by_group() {
    let h = Harness::start().await;
    let client = h.client(0);
    let account = h.ready_account(&client).await;
    let first = client
        .create_transfer(&transfer(&account, 500), "payout:o-1:s-1")
        .await
        .unwrap();
    let mut other_group = transfer(&account, 700);
    other_group.transfer_group = "group-2".to_owned();
    client
        .create_transfer(&other_group, "payout:o-2:s-1")
        .await
        .unwrap();
    // Within the day the key answers with the same transfer.
    let replay = client
        .create_transfer(&transfer(&account, 500), "payout:o-1:s-1")
        .await
        .unwrap();
    assert_eq!(replay.id, first.id);
    // A day and a bit later Stripe has forgotten it: the same request makes a second transfer.
    h.control("/_sim/clock", json!({"advance_seconds": 25 * 60 * 60}))
        .await;
    let second = client
        .create_transfer(&transfer(&account, 500), "payout:o-1:s-1")
        .await
        .unwrap();
    assert_ne!(second.id, first.id, "the key was forgotten");
    let listed = client.transfers_of_group("group-1").await.unwrap();
    let mut ids: Vec<&str> = listed.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = vec![first.id.as_str(), second.id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "only this group's transfers");
    assert!(listed.iter().all(|t| t.amount == Cents::new(500)
        && t.metadata.get("order_id").map(String::as_str) == Some("o-1")));
}

#[tokio::test]
async fn exhausted_retries_are_transient_and_refusals_are_not_retried() {
    let h = Harness::start().await;
    let client = h.client(2);
    let account = h.ready_account(&client).await;
    h.control(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers", "kind": "500", "count": 10}),
    )
    .await;
    let failed = client
        .create_transfer(&transfer(&account, 100), "k-1")
        .await;
    assert!(
        matches!(failed, Err(PaymentError::Transient { .. })),
        "{failed:?}"
    );
    assert!(failed.unwrap_err().is_transient());
    assert_eq!(
        h.transfer_requests().await.len(),
        3,
        "the first try and two retries"
    );

    let response = h
        .http
        .delete(format!("{}/_sim/faults", h.sim.base_url))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let refused = client
        .create_transfer(&transfer("acct_nobody", 100), "k-2")
        .await;
    assert!(
        matches!(refused, Err(PaymentError::Rejected { ref code, .. }) if code == "resource_missing"),
        "{refused:?}"
    );
    assert_eq!(
        h.transfer_requests().await.len(),
        4,
        "a refusal is not retried"
    );
    let bad_amount = client.create_transfer(&transfer(&account, 0), "k-3").await;
    assert!(
        matches!(bad_amount, Err(PaymentError::Rejected { .. })),
        "{bad_amount:?}"
    );
}

#[tokio::test]
async fn lock_conflicts_are_retried_and_stripe_should_retry_is_obeyed() {
    let h = Harness::start().await;
    let client = h.client(3);
    let account = h.ready_account(&client).await;

    // 409 (another request holds the object) is retried with the same key.
    h.control(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers", "kind": "409", "count": 1}),
    )
    .await;
    client
        .create_transfer(&transfer(&account, 100), "k-409")
        .await
        .unwrap();
    let statuses: Vec<i64> = h
        .transfer_requests()
        .await
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [409, 200]);

    // A server error Stripe says not to retry is given up at once, still as transient: the
    // caller (the payout job) decides when to try again.
    h.control(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers", "kind": "500", "count": 5, "should_retry": false}),
    )
    .await;
    let given_up = client
        .create_transfer(&transfer(&account, 200), "k-no-retry")
        .await;
    assert!(
        matches!(given_up, Err(PaymentError::Transient { .. })),
        "{given_up:?}"
    );
    assert_eq!(h.transfer_requests().await.len(), 3, "one attempt only");
    h.http
        .delete(format!("{}/_sim/faults", h.sim.base_url))
        .send()
        .await
        .unwrap();

    // A rate limit Stripe says to retry is retried like any other.
    h.control(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers", "kind": "429", "count": 2, "should_retry": true}),
    )
    .await;
    client
        .create_transfer(&transfer(&account, 300), "k-retry")
        .await
        .unwrap();
    let last: Vec<(i64, String)> = h
        .transfer_requests()
        .await
        .iter()
        .skip(3)
        .map(|r| {
            (
                r["status"].as_i64().unwrap(),
                r["idempotency_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            (429, "k-retry".to_owned()),
            (429, "k-retry".to_owned()),
            (200, "k-retry".to_owned())
        ]
    );
    assert_eq!(h.read("/_sim/transfers").await.as_array().unwrap().len(), 2);

    // An injected refusal carries its code and is not retried.
    h.control(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers", "kind": "400", "code": "balance_insufficient"}),
    )
    .await;
    let refused = client
        .create_transfer(&transfer(&account, 400), "k-refused")
        .await;
    assert!(
        matches!(refused, Err(PaymentError::Rejected { ref code, .. }) if code == "balance_insufficient"),
        "{refused:?}"
    );
    assert_eq!(h.transfer_requests().await.len(), 7, "one attempt only");
}

#[tokio::test]
async fn a_wrong_key_and_unknown_objects_are_typed_errors() {
    let h = Harness::start().await;
    let wrong = StripeClient::new(ClientConfig {
        max_retries: 0,
        ..ClientConfig::new(&h.sim.base_url, "sk_test_wrong")
    })
    .unwrap();
    let refused = wrong.retrieve_account("acct_1").await;
    assert!(
        matches!(refused, Err(PaymentError::Rejected { ref code, .. }) if code == "api_key_invalid"),
        "{refused:?}"
    );
    let client = h.client(1);
    let missing = client.retrieve_checkout_session("cs_missing").await;
    assert!(
        matches!(missing, Err(PaymentError::Rejected { ref code, .. }) if code == "resource_missing"),
        "{missing:?}"
    );
    // Nobody listening at all: a network error, retried, then transient.
    let offline = StripeClient::new(ClientConfig {
        max_retries: 1,
        backoff: Duration::from_millis(5),
        ..ClientConfig::new("http://127.0.0.1:9", "sk_test_x")
    })
    .unwrap();
    let unreachable = offline.retrieve_account("acct_1").await;
    assert!(
        matches!(unreachable, Err(PaymentError::Transient { .. })),
        "{unreachable:?}"
    );
}

#[tokio::test]
async fn the_simulator_keeps_its_objects_between_runs_and_refuses_a_second_process() {
    let folder = std::env::temp_dir().join(format!("hc3-sim-{}", uuid::Uuid::new_v4().simple()));
    let config = SimulatorConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        payments_webhook_url: "http://127.0.0.1:9/webhooks/stripe".to_owned(),
        connect_webhook_url: "http://127.0.0.1:9/webhooks/stripe/connect".to_owned(),
        state_file: Some(folder.join("stripe-simulator.json")),
    };
    let first = Simulator::start(config.clone()).await.unwrap();
    let client = |sim: &Simulator| {
        StripeClient::new(ClientConfig::new(&sim.base_url, &sim.secret_key)).unwrap()
    };
    let account = client(&first)
        .create_express_account("maker@example.com", "US", "account:persisted")
        .await
        .unwrap();
    assert!(first.activate_account(&account.id).await);
    assert!(!first.activate_account("acct_unknown").await);
    let link = client(&first)
        .create_account_link(&account.id, "http://app/refresh", "http://app/return")
        .await
        .unwrap();
    assert!(link.starts_with(&first.base_url));
    let second = Simulator::start(config.clone()).await;
    assert!(second.is_err(), "one process at a time");

    drop(first);
    let restarted = Simulator::start(config.clone())
        .await
        .expect("the lock is released as soon as the simulator is dropped");
    let read = client(&restarted)
        .retrieve_account(&account.id)
        .await
        .unwrap();
    assert!(read.payouts_enabled && read.charges_enabled && read.details_submitted);
    // The idempotency key is still remembered: the same request gives the same account.
    let again = client(&restarted)
        .create_express_account("maker@example.com", "US", "account:persisted")
        .await
        .unwrap();
    assert_eq!(again.id, account.id);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&folder);
}

/// Accepts one HTTP request on `listener`, answers 200 and returns its body.
async fn receive_one(listener: &tokio::net::TcpListener) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = socket.read(&mut buffer).await.unwrap();
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .unwrap();
                return body.to_owned();
            }
        }
        assert!(
            read > 0,
            "the connection closed before the whole request came"
        );
    }
}

#[tokio::test]
async fn a_webhook_not_delivered_before_the_simulator_stops_is_sent_by_the_next_run() {
    let folder = std::env::temp_dir().join(format!("hc3-sim-{}", uuid::Uuid::new_v4().simple()));
    let state_file = folder.join("stripe-simulator.json");
    let nobody = SimulatorConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        // The app is down: nothing listens there.
        payments_webhook_url: "http://127.0.0.1:9/webhooks/stripe".to_owned(),
        connect_webhook_url: "http://127.0.0.1:9/webhooks/stripe/connect".to_owned(),
        state_file: Some(state_file.clone()),
    };
    let first = Simulator::start(nobody.clone()).await.unwrap();
    let client = StripeClient::new(ClientConfig::new(&first.base_url, &first.secret_key)).unwrap();
    let account = client
        .create_express_account("maker@example.com", "US", "account:undelivered")
        .await
        .unwrap();
    let link = client
        .create_account_link(&account.id, "http://app/refresh", "http://app/return")
        .await
        .unwrap();
    // Completing onboarding sends `account.updated`, which nobody receives.
    let completed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&link)
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), 303);
    let saved: Value = stripe_simulator::read_state(&state_file).unwrap();
    assert_eq!(
        saved["undelivered"][0]["event"]["type"], "account.updated",
        "the event is kept with the state before the page answers"
    );
    drop(first);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = format!("http://{}", listener.local_addr().unwrap());
    let restarted = Simulator::start(SimulatorConfig {
        payments_webhook_url: format!("{app}/webhooks/stripe"),
        connect_webhook_url: format!("{app}/webhooks/stripe/connect"),
        ..nobody.clone()
    })
    .await
    .unwrap();
    let body = tokio::time::timeout(Duration::from_secs(20), receive_one(&listener))
        .await
        .expect("the next run sends the event again");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "account.updated");
    assert_eq!(event["data"]["object"]["id"], account.id.as_str());
    // Delivered: it is no longer kept for a later run.
    let mut delivered = false;
    for _ in 0..50 {
        let saved: Value = stripe_simulator::read_state(&state_file).unwrap();
        if saved["undelivered"].as_array().is_some_and(Vec::is_empty) {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "a delivered event is forgotten");
    drop(restarted);
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn the_simulator_speaks_the_api_version_the_client_pins() {
    assert_eq!(
        stripe_simulator::API_VERSION,
        adapter_stripe::client::API_VERSION
    );
}
