//! Discovery and insight: engagement counting, trending, the home page, "more like this", seller
//! analytics, the admin dashboard, and how many queries each of them costs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use adapter_postgres::testing::query_i64;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::helpers::{TestApp, User, expect_error, expect_json, spawn_app, spawn_app_until};

/// A model listing of `seller` in `category`; returns its id.
async fn model(app: &TestApp, seller: &User, category: &str, title: &str) -> String {
    app.listing(
        seller,
        json!({"kind": "MODEL", "title": title, "category_id": category, "price": "10.00"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An anonymous product page view.
async fn view(app: &TestApp, product: &str) -> Value {
    expect_json(
        app.get(&format!("/api/v1/products/{product}"), None).await,
        StatusCode::OK,
    )
    .await
}

/// A product page view by a signed-in user.
async fn view_as(app: &TestApp, user: &User, product: &str) {
    expect_json(
        app.get(&format!("/api/v1/products/{product}"), Some(&user.token))
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn click(app: &TestApp, user: Option<&User>, product: &str) -> StatusCode {
    app.post(
        &format!("/api/v1/products/{product}/click"),
        user.map(|u| u.token.as_str()),
        json!({}),
    )
    .await
    .status()
}

/// The seller's analytics over `days`.
async fn analytics(app: &TestApp, seller: &User, days: u32) -> Value {
    expect_json(
        app.get(
            &format!("/api/v1/seller/analytics?days={days}"),
            Some(&seller.token),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// What the seller's analytics say of one product: (views, clicks, add_to_carts, orders).
fn counts_of(analytics: &Value, product: &str) -> (i64, i64, i64, i64) {
    let row = analytics["products"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == product)
        .cloned()
        .unwrap_or(json!({"views": 0, "clicks": 0, "add_to_carts": 0, "orders": 0}));
    let n = |k: &str| row[k].as_i64().unwrap();
    (n("views"), n("clicks"), n("add_to_carts"), n("orders"))
}

/// Writes the engagement tally now, as the app's one-second task would.
async fn flush(app: &TestApp) {
    app.services
        .engagement
        .flush()
        .await
        .expect("the batch is written");
}

async fn refresh(app: &TestApp) {
    flush(app).await;
    app.services
        .engagement
        .refresh_trending()
        .await
        .expect("trending is refreshed");
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn trending(app: &TestApp) -> Value {
    expect_json(
        app.get("/api/v1/products?sort=trending", None).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn views_clicks_and_adds_to_cart_are_counted_once_per_window_and_written_in_batches() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = model(&app, &seller, &models, "Vase").await;
    let buyer = app.register("buyer", false).await;

    // The same anonymous visitor twice, a signed-in visitor once: two views.
    view(&app, &vase).await;
    view(&app, &vase).await;
    view_as(&app, &buyer, &vase).await;
    // Two clicks by the same visitor within five minutes: one.
    assert_eq!(
        click(&app, Some(&buyer), &vase).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        click(&app, Some(&buyer), &vase).await,
        StatusCode::NO_CONTENT
    );
    // Adding the product twice to the same cart: one add; another cart: another.
    let (status, _, token) = app.add_to_cart(None, None, &vase, 1).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app.add_to_cart(None, token.as_deref(), &vase, 1).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, &vase, 1).await;
    assert_eq!(status, StatusCode::OK);
    // Nothing is written by the requests themselves.
    let stored = "select coalesce(sum(views), 0)::int8 from product_daily_stats";
    assert_eq!(query_i64(&app.db, stored).await, 0);
    assert_eq!(
        counts_of(&analytics(&app, &seller, 7).await, &vase),
        (0, 0, 0, 0)
    );

    flush(&app).await;
    assert_eq!(query_i64(&app.db, stored).await, 2);
    assert_eq!(
        counts_of(&analytics(&app, &seller, 7).await, &vase),
        (2, 1, 2, 0)
    );

    // Past the windows, the same visitors count again; a second batch adds to the first.
    app.clock.advance(time::Duration::minutes(10));
    view(&app, &vase).await;
    assert_eq!(
        click(&app, Some(&buyer), &vase).await,
        StatusCode::NO_CONTENT
    );
    flush(&app).await;
    assert_eq!(
        counts_of(&analytics(&app, &seller, 7).await, &vase),
        (3, 2, 2, 0)
    );

    // Unknown and inactive listings are not counted.
    let missing = uuid::Uuid::new_v4();
    assert_eq!(
        click(&app, None, &missing.to_string()).await,
        StatusCode::NOT_FOUND
    );
    let toggled = app
        .post(
            &format!("/api/v1/seller/products/{vase}/toggle-active"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(
        expect_json(toggled, StatusCode::OK).await["is_active"],
        false
    );
    assert_eq!(click(&app, None, &vase).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn engagement_counted_before_a_stop_is_written_when_the_app_stops() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, serving) = spawn_app_until(async {
        let _ = stopped.await;
    })
    .await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let vase = model(&app, &seller, &models, "Vase").await;
    view(&app, &vase).await;
    assert_eq!(click(&app, None, &vase).await, StatusCode::NO_CONTENT);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), serving)
        .await
        .expect("the app stops")
        .unwrap()
        .unwrap();
    let row = "select (views * 10 + clicks)::int8 from product_daily_stats";
    assert_eq!(
        query_i64(&app.db, row).await,
        11,
        "the view and the click are in the table after the stop"
    );
}

#[tokio::test]
async fn trending_follows_the_documented_score_window_and_fallback() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.onboarded_seller("potter").await;
    let quiet = model(&app, &seller, &models, "Quiet").await;
    let viewed = model(&app, &seller, &models, "Viewed").await;
    let bought = model(&app, &seller, &models, "Bought").await;

    refresh(&app).await;
    let before = trending(&app).await;
    assert_eq!(before["trending_fallback"], true, "{before}");
    assert_eq!(
        ids(&before["items"]),
        [bought.clone(), viewed.clone(), quiet.clone()]
    );

    // Viewed: three visitors, 3 · 0.25 = 0.75 points.
    view(&app, &viewed).await;
    for name in ["ann", "bob"] {
        let user = app.register(name, false).await;
        view_as(&app, &user, &viewed).await;
    }
    // Bought: one add to cart and one purchase, 3 + 6 = 9 points.
    let buyer = app.register("buyer", false).await;
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, &bought, 1).await;
    assert_eq!(status, StatusCode::OK);
    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap();
    let checkout = expect_json(
        app.checkout(order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    app.order_until(order_id, Some(&buyer), None, "the order is paid", |o| {
        o["status"] == "paid"
    })
    .await;
    refresh(&app).await;
    let after = trending(&app).await;
    assert_eq!(after["trending_fallback"], false);
    assert_eq!(
        ids(&after["items"]),
        [bought.clone(), viewed.clone(), quiet.clone()]
    );
    let badges: Vec<bool> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["trending_badge"].as_bool().unwrap())
        .collect();
    assert_eq!(
        badges,
        [true, true, false],
        "only positive scores carry the badge"
    );
    let points = "select trending_points from products where title = ";
    assert_eq!(query_i64(&app.db, &format!("{points}'Bought'")).await, 36);
    assert_eq!(query_i64(&app.db, &format!("{points}'Viewed'")).await, 3);

    // 29 days on, the events are still in the 30-day window; a day later they are not.
    app.clock.advance(time::Duration::days(29));
    refresh(&app).await;
    assert_eq!(query_i64(&app.db, &format!("{points}'Bought'")).await, 36);
    app.clock.advance(time::Duration::days(1));
    refresh(&app).await;
    assert_eq!(query_i64(&app.db, &format!("{points}'Bought'")).await, 0);
    let expired = trending(&app).await;
    assert_eq!(expired["trending_fallback"], true);
    assert!(
        expired["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["trending_badge"] == false)
    );
    // `sort=top` falls back to newest first until a listing has a review.
    async fn top(app: &TestApp) -> Value {
        expect_json(
            app.get("/api/v1/products?sort=top", None).await,
            StatusCode::OK,
        )
        .await
    }
    // The buyer's session ran out during the thirty days.
    let buyer = app.login("buyer").await;
    let unrated = top(&app).await;
    assert_eq!(unrated["top_fallback"], true);
    assert_eq!(
        unrated["trending_fallback"], false,
        "only trending says trending_fallback"
    );
    assert_eq!(
        ids(&unrated["items"]),
        [bought.clone(), viewed.clone(), quiet.clone()]
    );
    let paid = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    let review = app
        .post(
            &format!(
                "/api/v1/orders/{order_id}/items/{}/review",
                paid["items"][0]["id"].as_str().unwrap()
            ),
            Some(&buyer.token),
            json!({"rating": 2}),
        )
        .await;
    expect_json(review, StatusCode::CREATED).await;
    let rated = top(&app).await;
    assert_eq!(rated["top_fallback"], false);
    // One 2-star review pulls the Bayesian score below the unreviewed listings' 3.00.
    assert_eq!(
        ids(&rated["items"]),
        [viewed.clone(), quiet.clone(), bought.clone()]
    );
}

#[tokio::test]
async fn the_home_page_has_featured_new_trending_and_more() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let mut listings = Vec::new();
    for n in 0..12 {
        listings.push(model(&app, &seller, &models, &format!("Piece {n:02}")).await);
    }
    // listings[0] is the oldest. Owners feature the oldest and hand-pick the second oldest.
    let owner = app.owner.token.clone();
    for (product, flag) in [(&listings[0], "is_featured"), (&listings[1], "is_trending")] {
        let response = app
            .patch(
                &format!("/api/v1/seller/products/{product}"),
                Some(&owner),
                json!({ flag: true }),
            )
            .await;
        expect_json(response, StatusCode::OK).await;
    }
    // The third oldest gets views, so it is the best computed score.
    view(&app, &listings[2]).await;
    refresh(&app).await;

    let home = expect_json(app.get("/api/v1/home", None).await, StatusCode::OK).await;
    assert_eq!(ids(&home["featured"]), [listings[0].clone()]);
    let newest: Vec<String> = listings.iter().rev().take(8).cloned().collect();
    assert_eq!(ids(&home["new"]), newest);
    let trending = ids(&home["trending"]);
    assert_eq!(trending.len(), 8);
    assert_eq!(trending[..2], [listings[1].clone(), listings[2].clone()]);
    assert_eq!(
        trending[2..],
        listings.iter().rev().take(6).cloned().collect::<Vec<_>>(),
        "then the rest by score (all zero: newest first)"
    );
    assert_eq!(
        ids(&home["more"]),
        [listings[3].clone()],
        "more: the newest listings in no other bucket"
    );
    let card = &home["trending"][0];
    assert_eq!(card["trending_badge"], true);
    assert_eq!(card["title"], "Piece 01");
    assert_eq!(home["trending"][1]["trending_badge"], true);
    assert_eq!(home["trending"][2]["trending_badge"], false);
}

#[tokio::test]
async fn more_like_this_prefers_the_same_category_then_the_same_kind() {
    let app = spawn_app().await;
    let vases = app.category("MODEL", "Vases", None).await;
    let lamps = app.category("MODEL", "Lamps", None).await;
    let scans = app.category("FILE", "Scans", None).await;
    let seller = app.ready_seller("potter").await;
    let tall = model(&app, &seller, &vases, "Tall vase").await;
    let lamp = model(&app, &seller, &lamps, "Lamp").await;
    let short = model(&app, &seller, &vases, "Short vase").await;
    app.listing(
        &seller,
        json!({"kind": "FILE", "title": "Vase scan", "category_id": scans, "price": "3.00"}),
    )
    .await;
    let page = view(&app, &tall).await;
    assert_eq!(ids(&page["more_like_this"]), [short, lamp]);
}

#[tokio::test]
async fn seller_analytics_and_the_admin_dashboard_read_the_same_counts() {
    let app = spawn_app().await;
    let checkout = app.open_checkout("12.50", 2).await;
    app.pay(&checkout.url).await;
    app.order_until(
        &checkout.order_id,
        Some(&checkout.buyer),
        None,
        "the order is paid",
        |o| o["status"] == "paid",
    )
    .await;
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
    view(&app, &product).await;
    flush(&app).await;

    let mine = analytics(&app, &checkout.seller, 30).await;
    assert_eq!(mine["days"], 30);
    let totals = &mine["totals"];
    assert_eq!(
        (
            &totals["views"],
            &totals["add_to_carts"],
            &totals["orders"],
            &totals["units"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(2))
    );
    // 2 × 12.50 at the default 10 % fee.
    assert_eq!(totals["gross_cents"], 2500);
    assert_eq!(totals["fee_cents"], 250);
    assert_eq!(totals["net_cents"], 2250);
    assert_eq!(totals["conversion_percent"], "100.00");
    assert_eq!(mine["products"]["total"], 1);
    assert_eq!(mine["products"]["items"][0]["title"], "Workshop piece");
    assert_eq!(mine["products"]["items"][0]["gross_cents"], 2500);

    let dashboard = expect_json(
        app.get("/api/v1/admin/dashboard", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dashboard["products_total"], 1);
    assert_eq!(dashboard["products_active"], 1);
    assert_eq!(dashboard["sellers"], 1);
    assert_eq!(dashboard["orders_paid"], 1);
    assert_eq!(dashboard["orders_pending"], 0);
    assert_eq!(dashboard["revenue_cents"], 2500);
    assert_eq!(dashboard["fee_revenue_cents"], 250);
    assert_eq!(dashboard["top_sellers"][0]["username"], "workshop");
    assert_eq!(dashboard["top_sellers"][0]["gross_cents"], 2500);
    assert_eq!(dashboard["top_sellers"][0]["units"], 2);
    assert_eq!(dashboard["site_config"]["fee_percent"], "10.00");

    // A week later the sale is still in the 30 days; outside the 7 days only after a week.
    app.clock.advance(time::Duration::days(7));
    assert_eq!(
        analytics(&app, &checkout.seller, 7).await["totals"]["orders"],
        0
    );
    assert_eq!(
        analytics(&app, &checkout.seller, 30).await["totals"]["orders"],
        1
    );

    expect_error(
        app.get(
            "/api/v1/seller/analytics?days=31",
            Some(&checkout.seller.token),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("days"),
    )
    .await;
    expect_error(
        app.get("/api/v1/seller/analytics", Some(&checkout.buyer.token))
            .await,
        StatusCode::FORBIDDEN,
        "not_a_seller",
        None,
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/dashboard", Some(&checkout.seller.token))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
}

/// Counts the SQL statements each HTTP request runs: sqlx logs every statement (target
/// `sqlx::query`) inside the request's span, which carries the `X-Request-Id` the test sends.
#[derive(Clone, Default)]
struct QueryCounter {
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

struct RequestId(String);

struct RequestIdVisitor(Option<String>);

impl Visit for RequestIdVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }
}

impl<S> Layer<S> for QueryCounter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = RequestIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(request_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request_id));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope.from_root() {
            if let Some(RequestId(id)) = span.extensions().get::<RequestId>() {
                *self.counts.lock().unwrap().entry(id.clone()).or_default() += 1;
                return;
            }
        }
    }
}

/// The process-wide counter (installed once as the global subscriber of this test binary).
fn query_counter() -> QueryCounter {
    static COUNTER: OnceLock<QueryCounter> = OnceLock::new();
    COUNTER
        .get_or_init(|| {
            let counter = QueryCounter::default();
            let filter = Targets::new()
                .with_target("sqlx::query", tracing::Level::DEBUG)
                .with_target("adapter_http", tracing::Level::INFO);
            let subscriber =
                tracing_subscriber::registry().with(counter.clone().with_filter(filter));
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the end-to-end tests");
            counter
        })
        .clone()
}

/// Sends a GET with a fresh request id; returns how many statements it ran.
async fn queries_of(
    app: &TestApp,
    counter: &QueryCounter,
    path: &str,
    token: Option<&str>,
) -> usize {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut request = app
        .client
        .get(app.url(path))
        .header("x-request-id", &request_id);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    counter
        .counts
        .lock()
        .unwrap()
        .get(&request_id)
        .copied()
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_endpoints_issue_a_bounded_number_of_queries() {
    let counter = query_counter();
    let app = spawn_app().await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let mut listings = Vec::new();
    let mut budgets: Vec<Vec<(String, usize)>> = Vec::new();
    // The same requests over 9 and then 90 listings with engagement: the counts do not move.
    for round in 0..2 {
        let target = if round == 0 { 9 } else { 90 };
        while listings.len() < target {
            let product = model(&app, &seller, &models, &format!("Piece {}", listings.len())).await;
            view(&app, &product).await;
            listings.push(product);
        }
        refresh(&app).await;
        let product = listings[0].clone();
        let paths: Vec<(String, Option<String>)> = vec![
            ("/api/v1/products".into(), None),
            ("/api/v1/products?sort=trending".into(), None),
            ("/api/v1/products?sort=top&q=piece".into(), None),
            ("/api/v1/home".into(), None),
            (format!("/api/v1/products/{product}"), None),
            (
                "/api/v1/admin/dashboard".into(),
                Some(app.owner.token.clone()),
            ),
            (
                "/api/v1/seller/analytics?days=90".into(),
                Some(seller.token.clone()),
            ),
        ];
        let mut counts = Vec::new();
        for (path, token) in paths {
            let n = queries_of(&app, &counter, &path, token.as_deref()).await;
            counts.push((path.replace(&product, "{id}"), n));
        }
        budgets.push(counts);
    }
    assert_eq!(budgets[0], budgets[1], "10× the listings, the same queries");
    let budget: HashMap<&str, usize> = budgets[1].iter().map(|(p, n)| (p.as_str(), *n)).collect();
    assert_eq!(budget["/api/v1/products"], 2, "{budget:?}");
    assert_eq!(budget["/api/v1/products?sort=trending"], 3, "{budget:?}");
    assert_eq!(budget["/api/v1/products?sort=top&q=piece"], 3, "{budget:?}");
    assert_eq!(budget["/api/v1/home"], 5, "{budget:?}");
    // The listing, its images, its files, the latest reviews and their total, the seller's
    // rating, more like this (the category has 8 others).
    assert_eq!(budget["/api/v1/products/{id}"], 7, "{budget:?}");
    // The session, the counts, the period's totals, the top sellers, the site configuration.
    assert_eq!(budget["/api/v1/admin/dashboard"], 5, "{budget:?}");
    // The session, the totals, the page.
    assert_eq!(budget["/api/v1/seller/analytics?days=90"], 3, "{budget:?}");
}
