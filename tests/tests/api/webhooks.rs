//! Stripe webhooks through HTTP: duplicates and concurrency, verification failures, and a
//! processing failure that rolls back and succeeds when delivered again.

use adapter_postgres::testing::{execute, query_i64};
use adapter_stripe::client::API_VERSION;
use adapter_stripe::webhook::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OpenCheckout, TestApp, User, expect_error, expect_json, spawn_app};

/// A paid-on-the-simulator order whose `checkout.session.completed` webhook is held back, so the
/// test delivers it itself.
pub(crate) struct HeldPayment {
    pub(crate) buyer: User,
    pub(crate) order_id: String,
    /// The completed session as Stripe shows it.
    pub(crate) session: Value,
}

pub(crate) async fn held_payment(app: &TestApp) -> HeldPayment {
    let OpenCheckout {
        buyer,
        order_id,
        url,
        ..
    } = app.open_checkout("30.00", 1).await;
    app.sim_post("/_sim/webhooks/hold", json!({})).await;
    let landing = app.pay(&url).await;
    let session_id = landing
        .split("session_id=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let session = app
        .stripe_get(&format!("/v1/checkout/sessions/{session_id}"))
        .await;
    assert_eq!(session["payment_status"], "paid");
    HeldPayment {
        buyer,
        order_id,
        session,
    }
}

pub(crate) fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A `checkout.session.completed` event around the session.
pub(crate) fn completed_event(id: &str, session: &Value) -> String {
    event(id, "checkout.session.completed", session)
}

async fn deliver(
    app: &TestApp,
    path: &str,
    body: &str,
    signature: Option<String>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    request.send().await.unwrap()
}

/// Delivers `body` to the payments endpoint, correctly signed now.
pub(crate) async fn deliver_signed(app: &TestApp, body: &str) -> reqwest::Response {
    let signature = sign(body.as_bytes(), &app.webhook_secret, now());
    deliver(app, "/webhooks/stripe", body, Some(signature)).await
}

/// Makes the journal refuse the order-paid entry, after the order row was changed in the same
/// transaction: a failure in the middle of applying a payment.
pub(crate) async fn inject_booking_failure(app: &TestApp) {
    execute(
        &app.db,
        "alter table journal_entries add constraint injected_failure check (kind <> 'order_paid') not valid",
    )
    .await;
}

/// Removes [`inject_booking_failure`]'s failure.
pub(crate) async fn remove_booking_failure(app: &TestApp) {
    execute(
        &app.db,
        "alter table journal_entries drop constraint injected_failure",
    )
    .await;
}

/// Delivers `body` to the payments endpoint, correctly signed now; returns the outcome of the
/// 200 answer.
pub(crate) async fn signed_outcome(app: &TestApp, body: &str) -> String {
    let signature = sign(body.as_bytes(), &app.webhook_secret, now());
    let response = deliver(app, "/webhooks/stripe", body, Some(signature)).await;
    expect_json(response, StatusCode::OK).await["outcome"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn order_status(app: &TestApp, held: &HeldPayment) -> String {
    expect_json(
        app.get(
            &format!("/api/v1/orders/{}", held.order_id),
            Some(&held.buyer.token),
        )
        .await,
        StatusCode::OK,
    )
    .await["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    query_i64(&app.db, sql).await
}

#[tokio::test]
async fn the_same_event_delivered_twenty_times_at_once_is_booked_once() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    let body = completed_event("evt_concurrent_1", &held.session);
    let mut deliveries = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = app.url("/webhooks/stripe");
        let body = body.clone();
        let signature = sign(body.as_bytes(), &app.webhook_secret, now());
        deliveries.spawn(async move {
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .header("Stripe-Signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let ack: Value = response.json().await.unwrap();
            (
                status,
                ack["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        });
    }
    let mut outcomes = Vec::new();
    while let Some(result) = deliveries.join_next().await {
        let (status, outcome) = result.unwrap();
        assert_eq!(status, StatusCode::OK);
        outcomes.push(outcome);
    }
    assert_eq!(
        outcomes.iter().filter(|o| *o == "applied").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "duplicate").count(),
        19,
        "{outcomes:?}"
    );
    assert_eq!(order_status(&app, &held).await, "paid");
    let order = &held.order_id;
    let booked = format!(
        "select count(*) from journal_entries where kind = 'order_paid' and order_id = '{order}'"
    );
    assert_eq!(count(&app, &booked).await, 1);
    app.payouts_paid(order, 1).await;

    // Stripe's own delivery of the same payment (another event id) changes nothing either.
    app.sim_post("/_sim/webhooks/release", json!({})).await;
    let deliveries = app.sim_get("/_sim/webhooks").await;
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["type"] == "checkout.session.completed" && d["statuses"][0] == 200),
        "{deliveries}"
    );
    assert_eq!(count(&app, &booked).await, 1);
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(transfers.as_array().unwrap().len(), 1);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn bad_signatures_and_stale_timestamps_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    let body = completed_event("evt_forged_1", &held.session);
    let refused = [
        None,
        Some("garbage".to_owned()),
        Some(sign(body.as_bytes(), "whsec_not_the_secret", now())),
        Some(sign(body.as_bytes(), &app.connect_webhook_secret, now())),
        Some(sign(body.as_bytes(), &app.webhook_secret, now() - 600)),
        Some(sign(b"{\"another\":\"body\"}", &app.webhook_secret, now())),
    ];
    for signature in refused {
        let response = deliver(&app, "/webhooks/stripe", &body, signature).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "webhook_verification_failed",
            None,
        )
        .await;
    }
    // The payments secret does not open the Connect endpoint.
    let wrong_endpoint = deliver(
        &app,
        "/webhooks/stripe/connect",
        &body,
        Some(sign(body.as_bytes(), &app.webhook_secret, now())),
    )
    .await;
    expect_error(
        wrong_endpoint,
        StatusCode::BAD_REQUEST,
        "webhook_verification_failed",
        None,
    )
    .await;
    assert_eq!(order_status(&app, &held).await, "pending");
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_events where id = 'evt_forged_1'"
        )
        .await,
        0,
        "nothing recorded"
    );

    // Secret rotation: a header with an old and the current signature passes.
    let t = now();
    let good = sign(body.as_bytes(), &app.webhook_secret, t);
    let old = sign(body.as_bytes(), "whsec_old_secret", t);
    let v1 = |header: &str| header.split_once(",v1=").unwrap().1.to_owned();
    let rotated = format!("t={t},v1={},v1={}", v1(&old), v1(&good));
    let response = deliver(&app, "/webhooks/stripe", &body, Some(rotated)).await;
    assert_eq!(
        expect_json(response, StatusCode::OK).await["outcome"],
        "applied"
    );
    assert_eq!(order_status(&app, &held).await, "paid");
}

#[tokio::test]
async fn a_failure_while_applying_rolls_back_answers_5xx_and_the_redelivery_succeeds() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    let body = completed_event("evt_fails_once", &held.session);
    inject_booking_failure(&app).await;
    let response = deliver_signed(&app, &body).await;
    assert!(response.status().is_server_error(), "{}", response.status());
    assert_eq!(
        order_status(&app, &held).await,
        "pending",
        "the order change was rolled back"
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_events where id = 'evt_fails_once' and status = 'failed' \
             and payload is not null"
        )
        .await,
        1,
        "the event is kept as failed with its payload, not marked processed"
    );
    assert_eq!(
        count(&app, "select count(*) from jobs").await,
        0,
        "no job was queued"
    );

    remove_booking_failure(&app).await;
    assert_eq!(signed_outcome(&app, &body).await, "applied");
    assert_eq!(order_status(&app, &held).await, "paid");
    app.payouts_paid(&held.order_id, 1).await;
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn unknown_events_and_events_for_unknown_orders_are_recorded_and_acknowledged() {
    let app = spawn_app().await;
    let unknown_type = json!({"id": "evt_unknown_type", "object": "event", "type": "customer.created",
        "created": now(), "livemode": false, "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string();
    assert_eq!(signed_outcome(&app, &unknown_type).await, "ignored");
    let session = json!({"id": "cs_test_elsewhere", "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "amount_total": 100, "currency": "usd",
        "metadata": {"order_id": "0190a7a0-0000-7000-8000-000000000000"}, "payment_intent": "pi_elsewhere"});
    let body = completed_event("evt_other_order", &session);
    assert_eq!(signed_outcome(&app, &body).await, "ignored");
    assert_eq!(count(&app, "select count(*) from webhook_events").await, 2);
    // A live-mode event on a test-mode deployment is recorded and ignored.
    let live = json!({"id": "evt_live", "object": "event", "type": "customer.created",
        "created": now(), "livemode": true, "data": {"object": {"id": "cus_2"}}})
    .to_string();
    assert_eq!(signed_outcome(&app, &live).await, "ignored");
}

/// A signed event of `event_type` around `object`.
pub(crate) fn event(id: &str, event_type: &str, object: &Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": API_VERSION, "created": now(),
        "livemode": false, "pending_webhooks": 1, "type": event_type,
        "data": {"object": object},
    })
    .to_string()
}

#[tokio::test]
async fn a_refund_in_another_currency_is_recorded_and_flagged_never_booked() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    assert_eq!(
        signed_outcome(&app, &completed_event("evt_paid", &held.session)).await,
        "applied"
    );
    let refund = json!({
        "id": "re_in_euros", "object": "refund", "amount": 500, "currency": "eur",
        "status": "succeeded", "charge": null, "payment_intent": held.session["payment_intent"],
        "metadata": {"order_id": held.order_id}, "created": now(),
    });
    let outcome = signed_outcome(&app, &event("evt_eur", "refund.created", &refund)).await;
    assert_eq!(outcome, "ignored");
    assert_eq!(order_status(&app, &held).await, "paid");
    let flagged = expect_json(
        app.get(
            "/api/v1/admin/reconciliation?flag=currency_mismatch",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(flagged["items"][0]["order_id"], held.order_id.as_str());
    assert!(
        flagged["items"][0]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["detail"]
                .as_str()
                .unwrap()
                .contains("re_in_euros is in eur"))
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from journal_entries where kind = 'refund'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn refunds_whose_amounts_overflow_are_refused_with_a_422_and_recorded() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    assert_eq!(
        signed_outcome(&app, &completed_event("evt_paid", &held.session)).await,
        "applied"
    );
    let refund = |id: &str, amount: i64| {
        json!({"id": id, "object": "refund", "amount": amount, "currency": "usd",
               "status": "succeeded", "payment_intent": held.session["payment_intent"],
               "metadata": {}, "created": now()})
    };
    let charge = json!({
        "id": "ch_overflow", "object": "charge", "amount": 3000, "amount_refunded": 3000,
        "currency": "usd", "payment_intent": held.session["payment_intent"],
        "refunds": {"object": "list", "data": [refund("re_a", i64::MAX), refund("re_b", 1)]},
    });
    let body = event("evt_overflow", "charge.refunded", &charge);
    let signature = sign(body.as_bytes(), &app.webhook_secret, now());
    let response = deliver(&app, "/webhooks/stripe", &body, Some(signature)).await;
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "webhook_rejected",
        None,
    )
    .await;
    assert_eq!(order_status(&app, &held).await, "paid", "nothing booked");
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_events where id = 'evt_overflow' and outcome like 'rejected:%'"
        )
        .await,
        1,
        "recorded with its outcome"
    );
    assert_eq!(
        signed_outcome(&app, &body).await,
        "duplicate",
        "a redelivery changes nothing"
    );
}

#[tokio::test]
async fn a_signed_event_with_an_overlong_id_or_a_nul_is_refused_with_400_and_not_recorded() {
    let app = spawn_app().await;
    let held = held_payment(&app).await;
    let long_id = format!("evt_{}", "x".repeat(12_000));
    for body in [
        completed_event(&long_id, &held.session),
        completed_event("evt_\u{0}nul", &held.session),
    ] {
        let response = deliver_signed(&app, &body).await;
        expect_error(response, StatusCode::BAD_REQUEST, "malformed_event", None).await;
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_events where id like 'evt_%nul' or length(id) > 255"
        )
        .await,
        0
    );
    assert_eq!(order_status(&app, &held).await, "pending");
    // A NUL in free text (a note in the metadata) is dropped: the payment is still applied.
    let mut noted = held.session.clone();
    noted["metadata"]["note"] = json!("a\u{0}b");
    assert_eq!(
        signed_outcome(&app, &completed_event("evt_noted", &noted)).await,
        "applied"
    );
    assert_eq!(order_status(&app, &held).await, "paid");
}
