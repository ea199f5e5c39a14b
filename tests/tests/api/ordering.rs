//! Payments that do not go straight through: delayed payment methods (settled or failed later),
//! webhooks arriving in reverse order, expired checkout sessions being replaced, and onboarding
//! whose `account.updated` is late.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OpenCheckout, TestApp, eventually, expect_json, spawn_app};

/// Presses "Pay by bank transfer" (settles later) on the checkout page; returns the session id.
async fn pay_later(app: &TestApp, url: &str) -> String {
    let paid = app
        .client
        .post(format!("{url}/pay"))
        .form(&[
            ("method", "delayed"),
            ("name", "Ada Buyer"),
            ("line1", "1 Test Street"),
            ("city", "Springfield"),
            ("state", "IL"),
            ("postal_code", "62701"),
            ("country", "US"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    url.rsplit('/').next().unwrap().to_owned()
}

async fn order(app: &TestApp, open: &OpenCheckout) -> Value {
    expect_json(
        app.get(
            &format!("/api/v1/orders/{}", open.order_id),
            Some(&open.buyer.token),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// Waits until the simulator has delivered `count` webhooks of `kind`, each answered 200.
async fn delivered(app: &TestApp, kind: &str, count: usize) {
    eventually(&format!("{count} × {kind} delivered"), || async {
        let deliveries = app.sim_get("/_sim/webhooks").await;
        let done: Vec<&Value> = deliveries
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["type"] == kind)
            .collect();
        assert!(
            done.iter()
                .all(|d| d["statuses"].as_array().unwrap().last() == Some(&json!(200))),
            "{deliveries}"
        );
        (done.len() >= count).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_delayed_payment_is_paid_only_when_it_settles_even_if_the_events_arrive_reversed() {
    let app = spawn_app().await;
    let open = app.open_checkout("15.00", 1).await;
    app.sim_post("/_sim/webhooks/hold", json!({})).await;
    let session = pay_later(&app, &open.url).await;
    app.sim_post(
        &format!("/_sim/checkout/{session}/settle"),
        json!({"outcome": "succeeded"}),
    )
    .await;
    // The settlement arrives first, the (unpaid) completion after it.
    let released = app
        .sim_post("/_sim/webhooks/release", json!({"reverse": true}))
        .await;
    assert_eq!(released["released"], 2);
    delivered(&app, "checkout.session.completed", 1).await;
    let paid = order(&app, &open).await;
    assert_eq!(
        paid["status"], "paid",
        "a later unpaid completion never undoes the payment"
    );
    assert_eq!(paid["shipping_address"]["city"], "Springfield");
    app.payouts_paid(&open.order_id, 1).await;
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_failed_delayed_payment_leaves_the_order_payable_with_a_new_session() {
    let app = spawn_app().await;
    let open = app.open_checkout("15.00", 1).await;
    let session = pay_later(&app, &open.url).await;
    delivered(&app, "checkout.session.completed", 1).await;
    assert_eq!(
        order(&app, &open).await["status"],
        "pending",
        "unpaid until it settles"
    );
    app.sim_post(
        &format!("/_sim/checkout/{session}/settle"),
        json!({"outcome": "failed"}),
    )
    .await;
    delivered(&app, "checkout.session.async_payment_failed", 1).await;
    let detail = order(&app, &open).await;
    assert_eq!(detail["status"], "pending");
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "payment_failed")
    );
    let retry = expect_json(
        app.checkout(&open.order_id, Some(&open.buyer), None).await,
        StatusCode::OK,
    )
    .await;
    let url = retry["checkout_url"].as_str().unwrap();
    assert_ne!(url, open.url, "a new session");
    app.pay(url).await;
    app.order_until(&open.order_id, Some(&open.buyer), None, "paid", |o| {
        o["status"] == "paid"
    })
    .await;
    app.payouts_paid(&open.order_id, 1).await;
}

#[tokio::test]
async fn an_expired_session_is_replaced_by_a_new_one() {
    let app = spawn_app().await;
    let open = app.open_checkout("9.99", 2).await;
    let session = open.url.rsplit('/').next().unwrap().to_owned();
    app.sim_post(&format!("/_sim/checkout/{session}/expire"), json!({}))
        .await;
    delivered(&app, "checkout.session.expired", 1).await;
    let closed = app.client.get(&open.url).send().await.unwrap();
    assert_eq!(closed.status(), StatusCode::GONE, "the old page is closed");
    let retry = expect_json(
        app.checkout(&open.order_id, Some(&open.buyer), None).await,
        StatusCode::OK,
    )
    .await;
    let url = retry["checkout_url"].as_str().unwrap().to_owned();
    assert_ne!(url, open.url);
    let keys: Vec<Value> = app
        .stripe_requests("POST", "/v1/checkout/sessions")
        .await
        .into_iter()
        .map(|r| r["idempotency_key"].clone())
        .collect();
    assert_eq!(
        keys,
        [
            json!(format!("checkout:{}:1", open.order_id)),
            json!(format!("checkout:{}:2", open.order_id))
        ]
    );
    app.pay(&url).await;
    app.order_until(&open.order_id, Some(&open.buyer), None, "paid", |o| {
        o["status"] == "paid"
    })
    .await;
    let detail = order(&app, &open).await;
    assert_eq!(detail["total_cents"], 1998);
}

#[tokio::test]
async fn onboarding_is_seen_even_when_account_updated_is_late() {
    let app = spawn_app().await;
    let seller = app.register("patient", true).await;
    let link = app.onboarding_link(&seller).await;
    let status = expect_json(
        app.get("/api/v1/seller/connect", Some(&seller.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["ready"], false);
    assert!(status["account"]["stripe_account_id"].is_string());

    app.sim_post("/_sim/webhooks/hold", json!({})).await;
    let done = app.client.post(&link).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    // The return page reads the account from Stripe: ready without the webhook.
    let back = expect_json(
        app.get("/api/v1/seller/connect/return", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["ready"], true);
    assert_eq!(back["account"]["payouts_enabled"], true);
    // The late webhook changes nothing.
    app.sim_post("/_sim/webhooks/release", json!({})).await;
    delivered(&app, "account.updated", 1).await;
    let status = expect_json(
        app.post(
            "/api/v1/seller/connect/sync",
            Some(&seller.token),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["ready"], true);
    // The used link shows the way back to a fresh one.
    let used = app.client.get(&link).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::GONE);
    let refresh = expect_json(
        app.get("/api/v1/seller/connect/refresh", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(refresh["message"].as_str().unwrap().contains("expired"));
    // Buyers cannot start onboarding.
    let buyer = app.register("shopper", false).await;
    let refused = app
        .post(
            "/api/v1/seller/connect/start",
            Some(&buyer.token),
            json!({}),
        )
        .await;
    crate::helpers::expect_error(refused, StatusCode::FORBIDDEN, "not_a_seller", None).await;
}
