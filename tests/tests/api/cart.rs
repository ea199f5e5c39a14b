//! The cart through HTTP: anonymous tokens, quantities, refusals with reasons, lines that become
//! unavailable, merging on login, and placing the same cart twice at once.

use adapter_postgres::testing::query_i64;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, User, expect_error, expect_json, spawn_app};

struct Listings {
    seller: User,
    bust: String,
    stl: String,
}

async fn listings(app: &TestApp) -> Listings {
    let models = app.category("MODEL", "Busts", None).await;
    let files = app.category("FILE", "Scans", None).await;
    let seller = app.ready_seller("sculptor").await;
    let bust = app
        .listing(
            &seller,
            json!({"kind": "MODEL", "title": "Roman bust", "category_id": models, "price": "19.99"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stl = app
        .listing(
            &seller,
            json!({"kind": "FILE", "title": "Bust scan", "category_id": files, "price": "4.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Listings { seller, bust, stl }
}

/// Sends a cart request with the anonymous token.
async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("X-Cart-Token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn an_anonymous_cart_follows_its_token_and_every_quantity_rule() {
    let app = spawn_app().await;
    let l = listings(&app).await;

    let (status, cart, token) = app.add_to_cart(None, None, &l.bust, 2).await;
    assert_eq!(status, StatusCode::OK);
    let token = token.unwrap();
    assert_eq!(cart["lines"][0]["quantity"], 2);
    assert_eq!(cart["lines"][0]["line_total_cents"], 3998);
    // Adding again adds up; files stay at one.
    let (_, cart, _) = app.add_to_cart(None, Some(&token), &l.bust, 3).await;
    assert_eq!(cart["lines"][0]["quantity"], 5);
    let (_, cart, _) = app.add_to_cart(None, Some(&token), &l.stl, 7).await;
    assert_eq!(cart["lines"][1]["quantity"], 1);
    assert_eq!(cart["subtotal_cents"], 5 * 1999 + 400);
    assert_eq!(cart["can_checkout"], true);

    // Without the token there is no cart; with it, the same one.
    let empty = expect_json(app.get("/api/v1/cart", None).await, StatusCode::OK).await;
    assert_eq!(empty["lines"].as_array().unwrap().len(), 0);
    assert!(empty["token"].is_null());
    let same = expect_json(
        with_token(&app, Method::GET, "/api/v1/cart", &token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["token"], token.as_str());
    assert_eq!(same["lines"].as_array().unwrap().len(), 2);

    let bust_path = format!("/api/v1/cart/items/{}", l.bust);
    let patched = expect_json(
        with_token(
            &app,
            Method::PATCH,
            &bust_path,
            &token,
            Some(json!({"quantity": 7})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["lines"][0]["quantity"], 7);
    for bad in [json!({"quantity": 100}), json!({"quantity": -1})] {
        let response = with_token(&app, Method::PATCH, &bust_path, &token, Some(bad)).await;
        expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("quantity"),
        )
        .await;
    }
    let response = with_token(
        &app,
        Method::PATCH,
        &bust_path,
        &token,
        Some(json!({"quantity": "two"})),
    )
    .await;
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("quantity"),
    )
    .await;
    let (status, body, _) = app.add_to_cart(None, Some(&token), &l.bust, 0).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, _) = app
        .add_to_cart(
            None,
            Some(&token),
            "0190a7a0-0000-7000-8000-000000000000",
            1,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unchanged = expect_json(
        with_token(&app, Method::GET, "/api/v1/cart", &token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        unchanged["lines"][0]["quantity"], 7,
        "refused changes changed nothing"
    );

    // Quantity 0 removes; DELETE removes; DELETE /cart empties.
    let removed = expect_json(
        with_token(
            &app,
            Method::PATCH,
            &bust_path,
            &token,
            Some(json!({"quantity": 0})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["lines"].as_array().unwrap().len(), 1);
    let stl_path = format!("/api/v1/cart/items/{}", l.stl);
    let removed = expect_json(
        with_token(&app, Method::DELETE, &stl_path, &token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["lines"].as_array().unwrap().len(), 0);
    app.add_to_cart(None, Some(&token), &l.stl, 1).await;
    let cleared = expect_json(
        with_token(&app, Method::DELETE, "/api/v1/cart", &token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["subtotal_cents"], 0);
    let _ = l.seller;
}

#[tokio::test]
async fn unavailable_listings_are_refused_with_the_reason_and_dropped_later() {
    let app = spawn_app().await;
    let l = listings(&app).await;

    // Sellers cannot buy their own listings.
    let (status, body, _) = app.add_to_cart(Some(&l.seller), None, &l.bust, 1).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "own_listing");

    let buyer = app.register("collector", false).await;
    app.add_to_cart(Some(&buyer), None, &l.bust, 1).await;
    app.add_to_cart(Some(&buyer), None, &l.stl, 1).await;

    // The seller deactivates the bust: it cannot be added, and it leaves carts with a reason.
    let toggled = app
        .post(
            &format!("/api/v1/seller/products/{}/toggle-active", l.bust),
            Some(&l.seller.token),
            json!({}),
        )
        .await;
    assert_eq!(
        expect_json(toggled, StatusCode::OK).await["is_active"],
        false
    );
    let other = app.register("browser", false).await;
    let (status, body, _) = app.add_to_cart(Some(&other), None, &l.bust, 1).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "listing_unavailable");
    let cart = expect_json(
        app.get("/api/v1/cart", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1);
    assert_eq!(cart["removed"][0]["product_id"], l.bust.as_str());
    assert_eq!(
        cart["removed"][0]["reason"],
        "this listing is not available"
    );
    let again = expect_json(
        app.get("/api/v1/cart", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        again["removed"].as_array().unwrap().is_empty(),
        "reported once"
    );

    // The seller's account stops being ready: checkout is blocked until it is back.
    app.put(
        &format!("/api/v1/admin/sellers/{}/connect", l.seller.id),
        Some(&app.owner.token),
        json!({"stripe_account_id": "acct_sculptor", "details_submitted": true,
               "charges_enabled": true, "payouts_enabled": false}),
    )
    .await;
    let cart = expect_json(
        app.get("/api/v1/cart", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cart["can_checkout"], false);
    assert_eq!(cart["lines"][0]["can_buy"], false);
    assert_eq!(cart["unready_sellers"][0], "sculptor");
    let (status, body, _) = app.add_to_cart(Some(&other), None, &l.stl, 1).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "seller_not_ready");
    // The owner may still buy (the original's bypass is about the buyer).
    let (status, _, _) = app.add_to_cart(Some(&app.owner), None, &l.stl, 1).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logging_in_merges_the_anonymous_cart_into_the_users() {
    let app = spawn_app().await;
    let l = listings(&app).await;
    let buyer = app.register("returning", false).await;
    app.add_to_cart(Some(&buyer), None, &l.bust, 2).await;

    let (_, _, token) = app.add_to_cart(None, None, &l.bust, 3).await;
    let token = token.unwrap();
    app.add_to_cart(None, Some(&token), &l.stl, 1).await;
    let login = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Cart-Token", &token)
        .json(&json!({"username": "returning", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    let session = expect_json(login, StatusCode::OK).await;
    let fresh = session["token"].as_str().unwrap();
    let cart = expect_json(app.get("/api/v1/cart", Some(fresh)).await, StatusCode::OK).await;
    let lines = cart["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let bust = lines
        .iter()
        .find(|l2| l2["product_id"] == l.bust.as_str())
        .unwrap();
    assert_eq!(bust["quantity"], 5, "quantities add up");
    assert!(cart["token"].is_null(), "a user's cart has no token");
    let anonymous = expect_json(
        with_token(&app, Method::GET, "/api/v1/cart", &token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        anonymous["lines"].as_array().unwrap().len(),
        0,
        "the anonymous cart is gone"
    );
}

#[tokio::test]
async fn placing_the_same_cart_twice_at_once_creates_one_order() {
    let app = spawn_app().await;
    let l = listings(&app).await;
    let buyer = app.register("eager", false).await;
    app.add_to_cart(Some(&buyer), None, &l.bust, 1).await;

    let place = || {
        app.client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&buyer.token)
            .json(&json!({}))
            .send()
    };
    let (first, second) = tokio::join!(place(), place());
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut answers = Vec::new();
    for response in [first, second] {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        answers.push((status, body));
    }
    answers.sort_by_key(|(status, _)| *status);
    assert_eq!(answers[0].0, StatusCode::CREATED);
    assert_eq!(answers[1].0, StatusCode::CONFLICT);
    assert_eq!(
        answers[1].1["error"]["code"], "cart_empty",
        "the second placement never sees the first's order: {:?}",
        answers[1].1
    );
    assert_eq!(query_i64(&app.db, "select count(*) from orders").await, 1);

    // An empty cart cannot be placed; a placement may come without any body.
    let idle = app.register("idle", false).await;
    let response = app
        .post("/api/v1/orders", Some(&idle.token), json!({}))
        .await;
    expect_error(response, StatusCode::CONFLICT, "cart_empty", None).await;
    app.add_to_cart(Some(&idle), None, &l.bust, 1).await;
    let bodiless = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&idle.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(bodiless, StatusCode::CREATED).await["status"],
        "pending"
    );
    let not_json = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&idle.token)
        .header("content-type", "text/plain")
        .body("please")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let response = app
        .post("/api/v1/orders", Some(&idle.token), json!({"unknown": 1}))
        .await;
    expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("unknown"),
    )
    .await;
}
