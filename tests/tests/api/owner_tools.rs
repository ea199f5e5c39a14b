//! Owners' order list and received webhook events.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app};

async fn owner_orders(app: &TestApp, query: &str) -> Value {
    expect_json(
        app.get(
            &format!("/api/v1/admin/orders{query}"),
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn owners_find_orders_by_id_stripe_id_e_mail_status_and_flags() {
    let app = spawn_app().await;
    let checkout = app.open_checkout("12.50", 1).await;
    let landing = app.pay(&checkout.url).await;
    app.order_until(
        &checkout.order_id,
        Some(&checkout.buyer),
        None,
        "the order is paid",
        |o| o["status"] == "paid",
    )
    .await;
    let payment_intent = app.payment_intent_of(&landing).await;
    // A guest's pending order of the same listing.
    let product = expect_json(
        app.get(
            &format!("/api/v1/orders/{}", checkout.order_id),
            Some(&checkout.buyer.token),
        )
        .await,
        StatusCode::OK,
    )
    .await["items"][0]["product_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, token) = app.add_to_cart(None, None, &product, 1).await;
    let guest = app
        .place_order(None, token.as_deref(), Some("Walk.In@Example.com"))
        .await;
    let guest_id = guest["id"].as_str().unwrap().to_owned();

    let all = owner_orders(&app, "").await;
    assert_eq!(all["total"], 2);
    assert_eq!(ids(&all), [guest_id.as_str(), checkout.order_id.as_str()]);
    let paid = &all["items"][1];
    assert_eq!(paid["email"], "customer@example.com");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["total_cents"], 1250);
    assert_eq!(paid["stripe_payment_intent_id"], payment_intent.as_str());
    assert_eq!(paid["seller_ids"][0], checkout.seller.id.as_str());
    assert_eq!(all["items"][0]["email"], "walk.in@example.com");

    assert_eq!(
        ids(&owner_orders(&app, "?q=WALK.in").await),
        [guest_id.as_str()]
    );
    assert_eq!(
        ids(&owner_orders(&app, &format!("?q={payment_intent}")).await),
        [checkout.order_id.as_str()]
    );
    assert_eq!(
        ids(&owner_orders(&app, &format!("?q={}", checkout.order_id)).await),
        [checkout.order_id.as_str()]
    );
    assert_eq!(
        ids(&owner_orders(&app, "?status=pending").await),
        [guest_id.as_str()]
    );
    assert_eq!(
        ids(&owner_orders(
            &app,
            &format!("?seller_id={}&flagged=false", checkout.seller.id)
        )
        .await)
        .len(),
        2
    );
    assert_eq!(owner_orders(&app, "?flagged=true").await["total"], 0);
    assert_eq!(owner_orders(&app, "?since=2999-01-01").await["total"], 0);

    expect_error(
        app.get("/api/v1/admin/orders?status=lost", Some(&app.owner.token))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("status"),
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/orders", Some(&checkout.seller.token))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
}

#[tokio::test]
async fn a_failed_webhook_is_kept_listed_and_processed_again_once_by_an_owner() {
    use crate::webhooks::{
        completed_event, deliver_signed, held_payment, inject_booking_failure,
        remove_booking_failure,
    };

    let app = spawn_app().await;
    let held = held_payment(&app).await;
    let body = completed_event("evt_kept", &held.session);
    inject_booking_failure(&app).await;
    let response = deliver_signed(&app, &body).await;
    assert!(response.status().is_server_error(), "{}", response.status());
    let failed = expect_json(
        app.get(
            "/api/v1/admin/webhook-events?status=failed",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(failed["total"], 1, "{failed}");
    let kept = &failed["items"][0];
    assert_eq!(kept["id"], "evt_kept");
    assert_eq!(kept["event_type"], "checkout.session.completed");
    assert_eq!(kept["attempts"], 1);
    assert!(
        kept["outcome"].as_str().unwrap().starts_with("failed: "),
        "{kept}"
    );
    // While the cause is there, processing it again fails again and keeps it.
    let again = app
        .post(
            "/api/v1/admin/webhook-events/evt_kept/process",
            Some(&app.owner.token),
            Value::Null,
        )
        .await;
    assert!(again.status().is_server_error(), "{}", again.status());
    remove_booking_failure(&app).await;
    expect_error(
        app.post(
            "/api/v1/admin/webhook-events/evt_kept/process",
            Some(&held.buyer.token),
            Value::Null,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    let processed = expect_json(
        app.post(
            "/api/v1/admin/webhook-events/evt_kept/process",
            Some(&app.owner.token),
            Value::Null,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(processed["status"], "applied", "{processed}");
    app.order_until(&held.order_id, Some(&held.buyer), None, "paid", |o| {
        o["status"] == "paid"
    })
    .await;
    let all = expect_json(
        app.get("/api/v1/admin/webhook-events", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    let event = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "evt_kept")
        .unwrap()
        .clone();
    assert_eq!(
        (&event["status"], &event["attempts"]),
        (&json!("applied"), &json!(3))
    );
    expect_error(
        app.post(
            "/api/v1/admin/webhook-events/evt_kept/process",
            Some(&app.owner.token),
            Value::Null,
        )
        .await,
        StatusCode::CONFLICT,
        "not_failed",
        None,
    )
    .await;
    assert!(
        app.audit_actions()
            .await
            .iter()
            .any(|a| a == "webhook.process_again")
    );
    // Stripe's own redelivery is now a duplicate: booked once.
    let redelivered = deliver_signed(&app, &body).await;
    assert_eq!(
        expect_json(redelivered, StatusCode::OK).await["outcome"],
        "duplicate"
    );
    app.payouts_paid(&held.order_id, 1).await;
    app.assert_ledger_balanced().await;
    expect_error(
        app.get(
            "/api/v1/admin/webhook-events?status=lost",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("status"),
    )
    .await;
}

#[tokio::test]
async fn the_site_configuration_is_clamped_and_every_change_is_audited() {
    let app = spawn_app().await;
    let save = |fee: &str, countries: Value| {
        app.put(
            "/api/v1/admin/site-config",
            Some(&app.owner.token),
            json!({"fee_percent": fee, "currency": "usd", "allowed_shipping_countries": countries}),
        )
    };
    let high = expect_json(save("150", json!(["us", " ca"])).await, StatusCode::OK).await;
    assert_eq!(high["fee_percent"], "100", "clamped to 100 %");
    assert_eq!(high["allowed_shipping_countries"], json!(["US", "CA"]));
    let low = expect_json(save("-5", json!(["US", "CA"])).await, StatusCode::OK).await;
    assert_eq!(low["fee_percent"], "0", "clamped to 0 %");
    expect_json(save("0", json!(["US", "CA"])).await, StatusCode::OK).await;
    expect_error(
        save("ten", json!([])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("fee_percent"),
    )
    .await;

    let audit = expect_json(
        app.get(
            "/api/v1/admin/audit-log?per_page=100",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let changes: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "site.config")
        .map(|e| {
            (
                e["detail"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("fee 100.00% → 0.00%", app.owner.id.as_str()),
            (
                "fee 10.00% → 100.00%; shipping countries US → US,CA",
                app.owner.id.as_str()
            ),
        ],
        "newest first; saving the same settings again and a refused save add nothing"
    );
}
