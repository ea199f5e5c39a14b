//! Digital entitlements end to end: a paid file can be downloaded up to the site's limit and until
//! its expiry, each download is counted and logged, a full refund revokes it and a refund that
//! fails afterwards gives it back.

use adapter_postgres::testing::execute;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, eventually, expect_error, expect_json, spawn_app, stl_bytes};

/// A seller's 4.00 scan with one STL file; returns (product, asset).
async fn scan_for_sale(app: &TestApp, seller: &User) -> (String, String) {
    let files = app.category("FILE", "Scans", None).await;
    let product = app
        .listing(
            seller,
            json!({"kind": "FILE", "title": "Scan", "category_id": files, "price": "4.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asset = app.upload_stl(seller, &product).await;
    (product, asset)
}

/// The buyer buys the product and pays; returns the paid order and its payment intent.
async fn bought(app: &TestApp, buyer: &User, product: &str) -> (Value, String) {
    let (status, _, _) = app.add_to_cart(Some(buyer), None, product, 1).await;
    assert_eq!(status, StatusCode::OK);
    let order = app.place_order(Some(buyer), None, None).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let checkout = expect_json(app.checkout(&id, Some(buyer), None).await, StatusCode::OK).await;
    let landing = app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    let intent = app.payment_intent_of(&landing).await;
    let paid = app
        .order_until(&id, Some(buyer), None, "the order is paid", |o| {
            o["status"] == "paid"
        })
        .await;
    (paid, intent)
}

async fn download(app: &TestApp, buyer: &User, order: &str, asset: &str) -> reqwest::Response {
    app.get(
        &format!("/api/v1/orders/{order}/assets/{asset}"),
        Some(&buyer.token),
    )
    .await
}

#[tokio::test]
async fn downloads_are_limited_logged_expired_and_revoked_by_a_full_refund_or_a_lost_dispute() {
    let app = spawn_app().await;
    let config = expect_json(
        app.put(
            "/api/v1/admin/site-config",
            Some(&app.owner.token),
            json!({"fee_percent": "10", "currency": "usd", "allowed_shipping_countries": ["US"],
                   "download_limit": 2, "download_expiry_days": 30}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            config["download_limit"].as_i64(),
            config["download_expiry_days"].as_i64()
        ),
        (Some(2), Some(30))
    );
    expect_error(
        app.put(
            "/api/v1/admin/site-config",
            Some(&app.owner.token),
            json!({"fee_percent": "10", "currency": "usd", "allowed_shipping_countries": [],
                   "download_limit": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("download_limit"),
    )
    .await;
    let seller = app.onboarded_seller("scanner").await;
    let buyer = app.register("collector", false).await;
    let (product, asset) = scan_for_sale(&app, &seller).await;
    let (order, _) = bought(&app, &buyer, &product).await;
    let order_id = order["id"].as_str().unwrap();
    let entitlement = &order["entitlements"][0];
    assert_eq!(
        (
            entitlement["remaining_downloads"].as_i64(),
            entitlement["revoked"].as_bool()
        ),
        (Some(2), Some(false))
    );
    assert!(entitlement["expires_at"].is_string());
    for _ in 0..2 {
        let file = download(&app, &buyer, order_id, &asset).await;
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.bytes().await.unwrap().to_vec(), stl_bytes());
    }
    expect_error(
        download(&app, &buyer, order_id, &asset).await,
        StatusCode::FORBIDDEN,
        "download_limit_reached",
        None,
    )
    .await;
    let log = expect_json(
        app.get(
            &format!("/api/v1/orders/{order_id}/downloads"),
            Some(&buyer.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        log["total"], 2,
        "each download is logged, the refused one is not"
    );
    assert_eq!(
        log["items"][0]["bytes"].as_i64(),
        i64::try_from(stl_bytes().len()).ok()
    );
    assert_eq!(log["items"][0]["user_id"], buyer.id.as_str());
    let counts = expect_json(
        app.get("/api/v1/seller/downloads", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts["items"][0]["product_id"], product.as_str());
    assert_eq!(counts["items"][0]["downloads"], 2);

    // A second purchase: past its expiry it is refused.
    let (again, _) = bought(&app, &buyer, &product).await;
    let again_id = again["id"].as_str().unwrap().to_owned();
    assert_eq!(
        download(&app, &buyer, &again_id, &asset).await.status(),
        StatusCode::OK
    );
    execute(
        &app.db,
        &format!(
            "update entitlements set expires_at = now() - interval '1 second'
             where order_id = '{again_id}'"
        ),
    )
    .await;
    expect_error(
        download(&app, &buyer, &again_id, &asset).await,
        StatusCode::FORBIDDEN,
        "entitlement_expired",
        None,
    )
    .await;

    // A third purchase, refunded in full (in Stripe's dashboard): revoked; the refund fails
    // afterwards: the files come back.
    let (third, intent) = bought(&app, &buyer, &product).await;
    let third_id = third["id"].as_str().unwrap().to_owned();
    assert_eq!(
        download(&app, &buyer, &third_id, &asset).await.status(),
        StatusCode::OK
    );
    let refund = app
        .sim_post("/_sim/refunds", json!({"payment_intent": intent}))
        .await;
    let refunded = app
        .order_until(
            &third_id,
            Some(&buyer),
            None,
            "the order is refunded",
            |o| o["status"] == "refunded",
        )
        .await;
    assert_eq!(refunded["entitlements"][0]["revoked"], true);
    assert_eq!(
        refunded["downloads"],
        json!([]),
        "no links to revoked files"
    );
    expect_error(
        download(&app, &buyer, &third_id, &asset).await,
        StatusCode::FORBIDDEN,
        "entitlement_revoked",
        None,
    )
    .await;
    let refund_id = refund["id"].as_str().unwrap();
    app.sim_post(&format!("/_sim/refunds/{refund_id}/fail"), json!({}))
        .await;
    eventually("the files come back", || async {
        let status = download(&app, &buyer, &third_id, &asset).await.status();
        (status == StatusCode::OK).then_some(())
    })
    .await;

    // A fourth purchase, charged back (a dispute lost): revoked too.
    let (fourth, intent) = bought(&app, &buyer, &product).await;
    let fourth_id = fourth["id"].as_str().unwrap().to_owned();
    assert_eq!(
        download(&app, &buyer, &fourth_id, &asset).await.status(),
        StatusCode::OK
    );
    app.sim_post(
        "/_sim/disputes",
        json!({"payment_intent": intent, "status": "lost", "fee": 1500}),
    )
    .await;
    let lost = app
        .order_until(&fourth_id, Some(&buyer), None, "the dispute is lost", |o| {
            o["entitlements"][0]["revoked"] == true
        })
        .await;
    assert_eq!(lost["downloads"], json!([]), "no links to revoked files");
    expect_error(
        download(&app, &buyer, &fourth_id, &asset).await,
        StatusCode::FORBIDDEN,
        "entitlement_revoked",
        None,
    )
    .await;
}
