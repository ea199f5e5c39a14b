//! Reviews end to end: who may review a product line and a seller (the eligibility matrix),
//! averages that stay exact under concurrent reviews and edits, seller replies, and bad input.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, expect_error, expect_json, expect_not_found, spawn_app};

/// A shop: an onboarded seller with a 10.00 print and a free sample.
struct Shop {
    seller: User,
    print: String,
    sample: String,
}

async fn shop(app: &TestApp) -> Shop {
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.onboarded_seller("potter").await;
    let listing = |title: &str, extra: Value| {
        let mut body = json!({"kind": "MODEL", "title": title, "category_id": models});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let print = app
        .listing(&seller, listing("Vase", json!({"price": "10.00"})))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sample = app
        .listing(&seller, listing("Sample", json!({"is_free": true})))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Shop {
        seller,
        print,
        sample,
    }
}

/// A registered buyer's order of `product`, placed (and paid through the simulator when `pay`,
/// its payment intent kept in `payment_intent`).
async fn order(app: &TestApp, buyer: &User, product: &str, pay: bool) -> Value {
    let (status, _, _) = app.add_to_cart(Some(buyer), None, product, 1).await;
    assert_eq!(status, StatusCode::OK);
    let mut order = app.place_order(Some(buyer), None, None).await;
    let id = order["id"].as_str().unwrap().to_owned();
    if pay {
        let checkout =
            expect_json(app.checkout(&id, Some(buyer), None).await, StatusCode::OK).await;
        let landing = app.pay(checkout["checkout_url"].as_str().unwrap()).await;
        order["payment_intent"] = json!(app.payment_intent_of(&landing).await);
        app.order_until(&id, Some(buyer), None, "the order is paid", |o| {
            o["status"] == "paid"
        })
        .await;
    }
    order
}

fn line(order: &Value) -> String {
    order["items"][0]["id"].as_str().unwrap().to_owned()
}

fn review_path(order: &Value) -> String {
    format!(
        "/api/v1/orders/{}/items/{}/review",
        order["id"].as_str().unwrap(),
        line(order)
    )
}

fn seller_review_path(order: &Value, seller: &str) -> String {
    format!(
        "/api/v1/orders/{}/sellers/{seller}/review",
        order["id"].as_str().unwrap()
    )
}

async fn product(app: &TestApp, id: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/products/{id}"), None).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn who_may_review_a_line_and_a_seller() {
    let app = spawn_app().await;
    let s = shop(&app).await;
    let buyer = app.register("collector", false).await;
    let other = app.register("neighbour", false).await;
    let paid = order(&app, &buyer, &s.print, true).await;
    let unpaid = order(&app, &buyer, &s.print, false).await;
    let stars = json!({"rating": 4, "title": "Solid", "body": "Printed cleanly."});
    let seller_id = s.seller.id.clone();

    for path in [review_path(&paid), seller_review_path(&paid, &seller_id)] {
        for who in [&other, &s.seller] {
            expect_error(
                app.post(&path, Some(&who.token), stars.clone()).await,
                StatusCode::FORBIDDEN,
                "not_purchased",
                None,
            )
            .await;
        }
        expect_error(
            app.post(&path, None, stars.clone()).await,
            StatusCode::FORBIDDEN,
            "not_purchased",
            None,
        )
        .await;
        expect_json(
            app.post(&path, Some(&buyer.token), stars.clone()).await,
            StatusCode::CREATED,
        )
        .await;
        expect_error(
            app.post(&path, Some(&buyer.token), stars.clone()).await,
            StatusCode::CONFLICT,
            "already_reviewed",
            None,
        )
        .await;
    }
    for path in [
        review_path(&unpaid),
        seller_review_path(&unpaid, &seller_id),
    ] {
        expect_error(
            app.post(&path, Some(&buyer.token), stars.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "order_not_paid",
            None,
        )
        .await;
    }
    // A seller who sold nothing in the order cannot be reviewed through it.
    expect_error(
        app.post(
            &seller_review_path(&paid, &other.id),
            Some(&buyer.token),
            stars.clone(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_purchased",
        None,
    )
    .await;
    expect_not_found(
        app.post(
            &format!(
                "/api/v1/orders/{}/items/{}/review",
                uuid::Uuid::new_v4(),
                line(&paid)
            ),
            Some(&buyer.token),
            stars.clone(),
        )
        .await,
    )
    .await;

    // Guests review with their order token.
    let (_, _, cart) = app.add_to_cart(None, None, &s.print, 1).await;
    let guest = app
        .place_order(None, cart.as_deref(), Some("guest@example.com"))
        .await;
    let (guest_id, token) = (
        guest["id"].as_str().unwrap(),
        guest["access_token"].as_str().unwrap(),
    );
    let checkout = expect_json(
        app.checkout(guest_id, None, Some(token)).await,
        StatusCode::OK,
    )
    .await;
    app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    app.order_until(
        guest_id,
        None,
        Some(token),
        "the guest order is paid",
        |o| o["status"] == "paid",
    )
    .await;
    expect_error(
        app.post(&review_path(&guest), None, stars.clone()).await,
        StatusCode::FORBIDDEN,
        "not_purchased",
        None,
    )
    .await;
    let by_guest = expect_json(
        app.post(
            &format!("{}?t={token}", review_path(&guest)),
            None,
            json!({"rating": 5}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(by_guest["author"], "Guest");

    // A line refunded in full is no longer a purchase: decided as `order_not_paid` for a fully
    // refunded order (see docs/reviews.md).
    let refunded = order(&app, &other, &s.print, true).await;
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": refunded["payment_intent"]}),
    )
    .await;
    let refunded_id = refunded["id"].as_str().unwrap();
    app.order_until(refunded_id, Some(&other), None, "refunded", |o| {
        o["status"] == "refunded"
    })
    .await;
    expect_error(
        app.post(&review_path(&refunded), Some(&other.token), stars.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "order_not_paid",
        None,
    )
    .await;

    let detail = product(&app, &s.print).await;
    assert_eq!(
        (
            detail["avg_rating"].as_str(),
            detail["review_count"].as_i64()
        ),
        (Some("4.50"), Some(2))
    );
    assert_eq!(detail["latest_reviews"].as_array().unwrap().len(), 2);
    let profile = expect_json(
        app.get(&format!("/api/v1/sellers/{seller_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            profile["avg_rating"].as_str(),
            profile["review_count"].as_i64()
        ),
        (Some("4.00"), Some(1))
    );
    assert_eq!(detail["seller_rating"]["avg_rating"], "4.00");
    // Rated listings come first in the top-rated order (the newest order puts the sample first).
    let first = |sort: &'static str| {
        let app = &app;
        async move {
            expect_json(
                app.get(&format!("/api/v1/products?sort={sort}"), None)
                    .await,
                StatusCode::OK,
            )
            .await["items"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(first("new").await, s.sample);
    assert_eq!(first("top").await, s.print);
}

#[tokio::test]
async fn averages_stay_exact_under_concurrent_reviews_and_edits() {
    let app = spawn_app().await;
    let s = shop(&app).await;
    let buyer = app.register("collector", false).await;
    let mut orders = Vec::new();
    for _ in 0..20 {
        let placed = order(&app, &buyer, &s.sample, false).await;
        let id = placed["id"].as_str().unwrap();
        let paid = expect_json(app.checkout(id, Some(&buyer), None).await, StatusCode::OK).await;
        assert_eq!(paid["status"], "paid", "free orders are paid at checkout");
        orders.push(placed);
    }
    let mut posts = tokio::task::JoinSet::new();
    for (n, placed) in orders.iter().enumerate() {
        let (client, url, token) = (
            app.client.clone(),
            app.url(&review_path(placed)),
            buyer.token.clone(),
        );
        let rating = n % 5 + 1;
        posts.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"rating": rating}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["id"].as_str().unwrap_or_default().to_owned(),
                rating,
            )
        });
    }
    let mut posted = Vec::new();
    while let Some(done) = posts.join_next().await {
        let (status, id, rating) = done.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        posted.push((id, rating));
    }
    // 20 ratings of 1..5, four of each: 60 / 20.
    let detail = product(&app, &s.sample).await;
    assert_eq!(
        (
            detail["avg_rating"].as_str(),
            detail["review_count"].as_i64()
        ),
        (Some("3.00"), Some(20))
    );

    // Every 1-star review becomes a 5: (60 + 4 × 4) / 20 = 3.80, edited concurrently.
    let mut edits = tokio::task::JoinSet::new();
    for (id, _) in posted.iter().filter(|(_, r)| *r == 1) {
        let (client, url, token) = (
            app.client.clone(),
            app.url(&format!("/api/v1/reviews/{id}")),
            buyer.token.clone(),
        );
        edits.spawn(async move {
            client
                .put(url)
                .bearer_auth(token)
                .json(&json!({"rating": 5, "title": "Better"}))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = edits.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let detail = product(&app, &s.sample).await;
    assert_eq!(
        (
            detail["avg_rating"].as_str(),
            detail["review_count"].as_i64()
        ),
        (Some("3.80"), Some(20))
    );
    let highest = expect_json(
        app.get(
            &format!(
                "/api/v1/products/{}/reviews?sort=highest&per_page=100",
                s.sample
            ),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let stars: Vec<i64> = highest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rating"].as_i64().unwrap())
        .collect();
    assert_eq!(stars.len(), 20);
    assert!(stars.windows(2).all(|w| w[0] >= w[1]), "{stars:?}");
    assert_eq!(highest["total"], 20);
}

#[tokio::test]
async fn sellers_answer_once_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let s = shop(&app).await;
    let buyer = app.register("collector", false).await;
    let paid = order(&app, &buyer, &s.sample, false).await;
    let id = paid["id"].as_str().unwrap();
    expect_json(app.checkout(id, Some(&buyer), None).await, StatusCode::OK).await;
    let path = review_path(&paid);
    for (body, field) in [
        (json!({"rating": 6}), "rating"),
        (json!({"rating": 0}), "rating"),
        (json!({"rating": 4, "title": "t".repeat(121)}), "title"),
        (json!({"rating": 4, "body": "a\u{0}b"}), "body"),
    ] {
        expect_error(
            app.post(&path, Some(&buyer.token), body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let review = expect_json(
        app.post(
            &path,
            Some(&buyer.token),
            json!({"rating": 2, "body": "Warped."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let reply_path = format!("/api/v1/reviews/{}/reply", review["id"].as_str().unwrap());
    let stranger = app.onboarded_seller("rival").await;
    expect_error(
        app.post(
            &reply_path,
            Some(&stranger.token),
            json!({"body": "Ours are better"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_your_review",
        None,
    )
    .await;
    expect_json(
        app.post(
            &reply_path,
            Some(&s.seller.token),
            json!({"body": "Sorry! A new one is on its way."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.post(&reply_path, Some(&s.seller.token), json!({"body": "Again"}))
            .await,
        StatusCode::CONFLICT,
        "already_replied",
        None,
    )
    .await;
    expect_json(
        app.put(
            &reply_path,
            Some(&s.seller.token),
            json!({"body": "Replaced for free."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed = expect_json(
        app.get(&format!("/api/v1/products/{}/reviews", s.sample), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"][0]["reply"]["body"], "Replaced for free.");
    assert_eq!(listed["items"][0]["author"], "collector");
    // Someone else cannot edit the review.
    expect_not_found(
        app.put(
            &format!("/api/v1/reviews/{}", review["id"].as_str().unwrap()),
            Some(&stranger.token),
            json!({"rating": 1}),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn a_line_refunded_in_full_cannot_be_reviewed_but_the_rest_of_the_order_can() {
    let app = spawn_app().await;
    let s = shop(&app).await;
    let models = expect_json(app.get("/api/v1/categories", None).await, StatusCode::OK).await
        ["models"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bowl = app
        .listing(
            &s.seller,
            json!({"kind": "MODEL", "title": "Bowl", "category_id": models, "price": "5.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let buyer = app.register("collector", false).await;
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, &bowl, 1).await;
    assert_eq!(status, StatusCode::OK);
    let paid = order(&app, &buyer, &s.print, true).await;
    let order_id = paid["id"].as_str().unwrap().to_owned();
    let line_of = |product: &str| {
        paid["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["product_id"] == product)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (vase_line, bowl_line) = (line_of(&s.print), line_of(&bowl));

    // The vase's line is refunded in full (a refund naming it, made at Stripe).
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": paid["payment_intent"], "amount": 1000,
               "metadata": {"order_id": order_id, "order_item_id": vase_line}}),
    )
    .await;
    let refunded = app
        .order_until(&order_id, Some(&buyer), None, "the vase is refunded", |o| {
            o["refunded_cents"] == 1000
        })
        .await;
    assert_eq!(refunded["status"], "partially_refunded");

    let stars = json!({"rating": 5, "title": "Lovely", "body": "Just right."});
    let review_of = |line: &str| format!("/api/v1/orders/{order_id}/items/{line}/review");
    expect_error(
        app.post(&review_of(&vase_line), Some(&buyer.token), stars.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "line_refunded",
        None,
    )
    .await;
    expect_json(
        app.post(&review_of(&bowl_line), Some(&buyer.token), stars.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    // The seller still sold the bowl in this order, so they may be reviewed.
    expect_json(
        app.post(
            &seller_review_path(&paid, &s.seller.id),
            Some(&buyer.token),
            stars,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(product(&app, &s.print).await["review_count"], 0);
    assert_eq!(product(&app, &bowl).await["review_count"], 1);
}
