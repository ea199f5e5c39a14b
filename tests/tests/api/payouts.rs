//! Payouts under Stripe faults: server errors, rate limits and timeouts are retried with the same
//! idempotency key and end in exactly one transfer; a payout that keeps failing ends dead, visible
//! to the owner, who can send it again.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, eventually, expect_error, expect_json, expect_not_found, spawn_app,
};

/// A paid order of three MODELs at 8.00 from one onboarded seller; returns (seller, order id).
async fn paid_order(app: &TestApp) -> (User, String) {
    let open = app.open_checkout("8.00", 3).await;
    app.pay(&open.url).await;
    (open.seller, open.order_id)
}

async fn fault(app: &TestApp, kind: &str, count: u32) {
    app.sim_post(
        "/_sim/faults",
        json!({"method": "POST", "path_prefix": "/v1/transfers", "kind": kind, "count": count}),
    )
    .await;
}

#[tokio::test]
async fn server_errors_rate_limits_and_timeouts_end_in_exactly_one_transfer() {
    let app = spawn_app().await;
    // One 500, one 429, then a timeout after Stripe did the work: the client retries each with
    // the same key, and the last retry gets the transfer made during the timed-out attempt.
    fault(&app, "500", 1).await;
    fault(&app, "429", 1).await;
    fault(&app, "timeout", 1).await;
    // Checkout session creation survives a 500 too.
    app.sim_post(
        "/_sim/faults",
        json!({"method": "POST", "path_prefix": "/v1/checkout/sessions", "kind": "500", "count": 1}),
    )
    .await;
    let (seller, order_id) = paid_order(&app).await;
    app.payouts_paid(&order_id, 1).await;

    let transfers = app.sim_get("/_sim/transfers").await;
    let transfers = transfers.as_array().unwrap();
    assert_eq!(transfers.len(), 1, "exactly one transfer");
    assert_eq!(transfers[0]["amount"], 2160, "3 × 8.00 less the 10 % fee");
    let calls = app.stripe_requests("POST", "/v1/transfers").await;
    let statuses: Vec<&Value> = calls.iter().map(|c| &c["status"]).collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(429), &json!(200), &json!(200)]
    );
    let key = format!("payout:{order_id}:{}", seller.id);
    assert!(
        calls.iter().all(|c| c["idempotency_key"] == key.as_str()),
        "{calls:?}"
    );
    let sessions = app.stripe_requests("POST", "/v1/checkout/sessions").await;
    assert_eq!(sessions.len(), 2, "one failure, one retry");
    assert_eq!(
        sessions[0]["idempotency_key"],
        sessions[1]["idempotency_key"]
    );
    assert_eq!(app.seller_money(&seller).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_payout_that_keeps_failing_ends_dead_and_the_owner_sends_it_again() {
    let app = spawn_app().await;
    fault(&app, "500", 1_000).await;
    let (seller, order_id) = paid_order(&app).await;

    let path = "/api/v1/admin/jobs?status=dead";
    let owner = app.owner.token.clone();
    let dead = eventually("the payout job is dead", || async {
        let jobs = expect_json(app.get(path, Some(&owner)).await, StatusCode::OK).await;
        jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "payout" && j["order_id"] == order_id.as_str())
            .cloned()
    })
    .await;
    assert_eq!(dead["status"], "dead");
    assert_eq!(dead["attempts"], dead["max_attempts"]);
    assert_eq!(dead["seller_id"], seller.id.as_str());
    assert!(
        dead["last_error"]
            .as_str()
            .unwrap()
            .contains("Simulated server error")
    );
    let money = app.seller_money(&seller).await;
    assert_eq!(
        money["payouts"][0]["status"], "pending",
        "server errors leave the outcome unknown: the transfer may exist"
    );
    assert_eq!(money["payouts"][0]["amount_cents"], 2160);
    assert_eq!(money["balance_cents"], 2160, "still owed");
    let dashboard = expect_json(
        app.get("/api/v1/seller/dashboard", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dashboard["balance_cents"], 2160);
    assert_eq!(
        dashboard["payout_available_cents"], 0,
        "the pending payout may be on its way"
    );
    assert!(app.sim_transfers().await.is_empty());

    // Only owners see and retry jobs.
    expect_error(
        app.get(path, Some(&seller.token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let job = dead["id"].as_str().unwrap();
    let retry = format!("/api/v1/admin/jobs/{job}/retry");
    expect_error(
        app.post(&retry, Some(&seller.token), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;

    // Stripe recovers; the owner sends the job again: one transfer, the same key as every attempt.
    let response = app
        .client
        .delete(format!("{}/_sim/faults", app.sim))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.post(&retry, Some(&app.owner.token), json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    app.payouts_paid(&order_id, 1).await;
    assert_eq!(
        app.sim_get("/_sim/transfers")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let calls = app.stripe_requests("POST", "/v1/transfers").await;
    let key = format!("payout:{order_id}:{}", seller.id);
    assert!(calls.len() > 4, "every attempt was retried");
    assert!(calls.iter().all(|c| c["idempotency_key"] == key.as_str()));
    // A done job cannot be "retried" again.
    expect_not_found(app.post(&retry, Some(&app.owner.token), json!({})).await).await;
    assert_eq!(app.seller_money(&seller).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_transfer_whose_answer_was_lost_is_adopted_after_stripe_forgot_the_key() {
    let app = spawn_app().await;
    // The first transfer request is done by Stripe but answered too late, and every later one
    // fails: the payout stays pending, its outcome unknown to us.
    fault(&app, "timeout", 1).await;
    fault(&app, "500", 1_000).await;
    let (seller, order_id) = paid_order(&app).await;
    let made = eventually("Stripe made the transfer", || async {
        let transfers = app.sim_get("/_sim/transfers").await;
        transfers.as_array().unwrap().first().cloned()
    })
    .await;
    // A day later Stripe has forgotten the idempotency key; sending the request again would make
    // a second transfer (or be refused for want of funds). The job looks the transfer up instead.
    app.sim_post("/_sim/clock", json!({"advance_seconds": 25 * 60 * 60}))
        .await;
    app.client
        .delete(format!("{}/_sim/faults", app.sim))
        .send()
        .await
        .unwrap();
    let order = app.payouts_paid(&order_id, 1).await;
    assert_eq!(order["payouts"][0]["transfer_id"], made["id"]);
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(
        transfers.as_array().unwrap().len(),
        1,
        "exactly one transfer"
    );
    assert_eq!(made["metadata"]["payout_attempt"], "1");
    assert!(
        !app.stripe_requests("GET", "/v1/transfers").await.is_empty(),
        "looked up by transfer group"
    );
    assert_eq!(app.seller_money(&seller).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn two_workers_paying_the_same_order_at_once_make_one_transfer() {
    let app = spawn_app().await;
    // The transfer is slow to answer: while the first worker waits for it, a refund queues the
    // same payout again and the second worker runs it too.
    fault(&app, "timeout", 1).await;
    let open = app.open_checkout("8.00", 3).await;
    let landing = app.pay(&open.url).await;
    let intent = app.payment_intent_of(&landing).await;
    eventually("the first transfer request is under way", || async {
        (!app
            .stripe_requests("POST", "/v1/transfers")
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 400}),
    )
    .await;
    let retry = format!("/api/v1/admin/orders/{}/retry-payouts", open.order_id);
    app.post(&retry, Some(&app.owner.token), json!({})).await;
    app.payouts_paid(&open.order_id, 1).await;
    app.jobs_settled().await;
    let transfers = app.sim_transfers().await;
    assert_eq!(transfers.len(), 1, "exactly one transfer: {transfers:?}");
    assert_eq!(transfers[0]["amount"], 2160);
    // Paid before the refund was booked: the seller owes its net share (3.60).
    eventually("the refund is booked too", || async {
        (app.seller_money(&open.seller).await["balance_cents"] == -360).then_some(())
    })
    .await;
    assert_eq!(
        adapter_postgres::testing::query_i64(
            &app.db,
            &format!(
                "select count(*) from journal_entries where kind = 'transfer' and order_id = '{}'",
                open.order_id
            ),
        )
        .await,
        1
    );
    app.assert_ledger_balanced().await;
}
