//! Owners' order list and received webhook events.

use reqwest::StatusCode;
use serde_json::Value;

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
