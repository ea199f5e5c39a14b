//! The storefront's HTML pages over plain HTTP: what every page answers, forms refused without
//! their CSRF token or with a NUL character (changing nothing), private pages, error pages, and
//! the cookies it sets and forgets. (Journeys in a real browser are in `tests/browser/`.)

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, expect_json, spawn_app};

/// A browser-like client: keeps cookies, does not follow redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token of the first form on a page.
fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form with a CSRF token")
        + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn sign_in(client: &reqwest::Client, app: &TestApp, username: &str) {
    let (_, html) = page(client, app, "/login").await;
    let token = csrf_of(&html);
    let response = post_form(
        client,
        app,
        "/login",
        &[
            ("csrf", &token),
            ("username", username),
            ("password", PASSWORD),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// An avatar upload form: the token (when given) before the picture, as our page sends it.
fn avatar_form(token: Option<&str>, bytes: Vec<u8>) -> reqwest::multipart::Form {
    let form = reqwest::multipart::Form::new();
    let form = match token {
        Some(token) => form.text("csrf", token.to_owned()),
        None => form,
    };
    form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("me.png"),
    )
}

async fn cart_lines(client: &reqwest::Client, app: &TestApp) -> usize {
    let (_, html) = page(client, app, "/cart").await;
    html.matches("class=\"qty-input\"").count()
}

#[tokio::test]
async fn every_public_page_is_html_in_the_sites_style_and_unknown_paths_get_the_404_page() {
    let app = spawn_app().await;
    let (seller, product) = app
        .potter_with("Glazed Bowl", json!({"price": "15.00"}))
        .await;
    let categories = expect_json(app.get("/api/v1/categories", None).await, StatusCode::OK).await;
    let category = categories["models"][0]["id"].as_str().unwrap().to_owned();
    let client = browser();
    for path in [
        "/".to_owned(),
        "/products".to_owned(),
        "/products?q=bowl&kind=model&sort=price_asc".to_owned(),
        format!("/products/{product}"),
        format!("/categories/{category}"),
        format!("/sellers/{}", seller.id),
        "/cart".to_owned(),
        "/login".to_owned(),
        "/register".to_owned(),
    ] {
        let response = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{path}"
        );
        assert!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let html = response.text().await.unwrap();
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{path}"
        );
        assert!(html.contains("<main id=\"main\""), "{path}");
        assert!(html.len() < 60_000, "{path} is {} bytes", html.len());
    }
    let (_, product_page) = page(&client, &app, &format!("/products/{product}")).await;
    assert!(product_page.contains("Glazed Bowl") && product_page.contains("$15.00"));
    let (_, results) = page(&client, &app, "/products?q=bowl").await;
    assert!(results.contains("Glazed Bowl"));
    let (_, none) = page(&client, &app, "/products?q=teapot").await;
    assert!(!none.contains("Glazed Bowl") && none.contains("Nothing matches"));

    for path in [
        "/no-such-page",
        "/products/not-a-uuid",
        "/products/01a22f7a-e98b-75db-87ca-726e19e78914",
    ] {
        let (status, html) = page(&client, &app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            html.contains("Page not found") && html.contains("site-header"),
            "{path}"
        );
    }
    let css = client
        .get(app.url("/static/site.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = css.headers()["etag"].clone();
    let again = client
        .get(app.url("/static/site.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let icon = client.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(icon.headers()[CONTENT_TYPE], "image/svg+xml");
    // The API keeps its own answers beside the pages.
    let api = client.get(app.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(api.text().await.unwrap().contains("\"error\""));
}

#[tokio::test]
async fn forms_without_their_token_or_with_a_nul_character_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (_, product) = app
        .potter_with("Salt Cellar", json!({"price": "8.00"}))
        .await;
    let client = browser();
    let (_, html) = page(&client, &app, &format!("/products/{product}")).await;
    let token = csrf_of(&html);

    let missing = post_form(&client, &app, "/cart/items", &[("product_id", &product)]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    let wrong = post_form(
        &client,
        &app,
        "/cart/items",
        &[("csrf", &"0".repeat(64)), ("product_id", &product)],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Another visitor's token is not this visitor's.
    let stranger = browser();
    let (_, other) = page(&stranger, &app, "/login").await;
    let theirs = post_form(
        &client,
        &app,
        "/cart/items",
        &[("csrf", &csrf_of(&other)), ("product_id", &product)],
    )
    .await;
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    let nul = post_form(
        &client,
        &app,
        "/cart/items",
        &[
            ("csrf", &token),
            ("product_id", &product),
            ("quantity", "1\0"),
        ],
    )
    .await;
    assert_eq!(nul.status(), StatusCode::BAD_REQUEST);
    assert!(nul.text().await.unwrap().contains("NUL"));
    assert_eq!(cart_lines(&client, &app).await, 0, "nothing was added");
    let (status, _) = page(&client, &app, "/products?q=%00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let added = post_form(
        &client,
        &app,
        "/cart/items",
        &[
            ("csrf", &token),
            ("product_id", &product),
            ("quantity", "2"),
        ],
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(added.headers()[LOCATION], "/cart");
    let (_, cart) = page(&client, &app, "/cart").await;
    assert!(cart.contains("Added to your cart"), "the flash shows");
    assert!(cart.contains("$16.00"));
    let (_, again) = page(&client, &app, "/cart").await;
    assert!(!again.contains("Added to your cart"), "once");
    assert_eq!(cart_lines(&client, &app).await, 1);
}

#[tokio::test]
async fn a_failed_sign_in_says_why_and_a_sign_in_never_leads_off_the_site() {
    let app = spawn_app().await;
    app.register("careful", false).await;
    let client = browser();
    let (_, html) = page(&client, &app, "/login").await;
    let token = csrf_of(&html);
    let refused = post_form(
        &client,
        &app,
        "/login",
        &[
            ("csrf", &token),
            ("username", "careful"),
            ("password", "wrong-password"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("hc3_session="))
    );
    let body = refused.text().await.unwrap();
    assert!(body.contains("do not match an account") && body.contains("aria-invalid=\"true\""));
    assert!(body.contains("value=\"careful\""), "the username is kept");

    let (_, html) = page(&client, &app, "/login?next=//evil.example/").await;
    let token = csrf_of(&html);
    let signed_in = post_form(
        &client,
        &app,
        "/login",
        &[
            ("csrf", &token),
            ("username", "careful"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/");
    // Signed in, the API answers the same session.
    let me = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    let (_, home) = page(&client, &app, "/").await;
    let out = post_form(&client, &app, "/logout", &[("csrf", &csrf_of(&home))]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let forgotten: Vec<String> = out
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .filter(|c| c.starts_with("hc3_session=") || c.starts_with("hc3_csrf="))
        .collect();
    assert_eq!(forgotten.len(), 2, "{forgotten:?}");
    for cookie in &forgotten {
        assert!(
            cookie.contains("Path=/") && cookie.contains("Max-Age=0"),
            "{cookie}"
        );
    }
    let me = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn private_pages_ask_strangers_to_sign_in_and_refuse_the_wrong_people() {
    let app = spawn_app().await;
    let (_, product) = app.potter_with("Mug", json!({"price": "12.00"})).await;
    // A guest's order, reached with its token only.
    let (_, _, cart) = app.add_to_cart(None, None, &product, 1).await;
    let order = app
        .place_order(None, cart.as_deref(), Some("guest@example.com"))
        .await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let token = order["access_token"].as_str().unwrap().to_owned();
    let anonymous = browser();
    let asked = anonymous
        .get(app.url(&format!("/orders/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        asked.headers()[LOCATION],
        format!("/login?next=%2Forders%2F{order_id}")
    );
    let with_token = anonymous
        .get(app.url(&format!("/orders/{order_id}?t={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    assert_eq!(with_token.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(with_token.headers()["referrer-policy"], "no-referrer");
    assert!(
        with_token
            .text()
            .await
            .unwrap()
            .contains("Awaiting payment")
    );

    app.register("nosy", false).await;
    let nosy = browser();
    sign_in(&nosy, &app, "nosy").await;
    let (status, _) = page(&nosy, &app, &format!("/orders/{order_id}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another's order is not there"
    );
    let (status, html) = page(&nosy, &app, "/seller").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("seller accounts"));
    let (status, _) = page(&nosy, &app, "/admin").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in [
        "/orders",
        "/account",
        "/notifications",
        "/seller",
        "/admin/users",
    ] {
        let response = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.headers()[LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn anonymous_catalogue_pages_are_cached_revalidated_and_fresh_after_a_change() {
    let app = spawn_app().await;
    let (seller, _) = app.potter_with("Plain Jug", json!({"price": "9.00"})).await;
    let client = browser();
    let first = client.get(app.url("/products")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()[CACHE_CONTROL], "public, no-cache");
    let etag = first.headers()["etag"].clone();
    let again = client.get(app.url("/products")).send().await.unwrap();
    assert_eq!(again.headers()["etag"], etag, "the same page, kept");
    assert!(
        again.headers().contains_key("content-security-policy"),
        "a kept page keeps its protections"
    );
    assert!(again.text().await.unwrap().contains("Plain Jug"));
    let unchanged = client
        .get(app.url("/products"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    let category = expect_json(app.get("/api/v1/categories", None).await, StatusCode::OK).await
        ["models"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.model_listing(&seller, &category, "Striped Jug").await;
    let changed = client
        .get(app.url("/products"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "a new listing changes the page"
    );
    assert!(changed.text().await.unwrap().contains("Striped Jug"));

    // A signed-in visitor's page is their own, never the kept one.
    app.register("regular", false).await;
    let member = browser();
    sign_in(&member, &app, "regular").await;
    let personal = member.get(app.url("/products")).send().await.unwrap();
    assert_ne!(personal.headers()[CACHE_CONTROL], "public, no-cache");
    assert!(personal.text().await.unwrap().contains("Sign out"));
}

#[tokio::test]
async fn pages_without_a_form_set_no_cookie_and_uploads_check_the_token_before_the_file() {
    let app = spawn_app().await;
    app.potter_with("Oval Tray", json!({"price": "7.00"})).await;
    let client = browser();
    for path in ["/", "/products"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert!(
            response.headers().get(SET_COOKIE).is_none(),
            "{path} is kept for everyone: it must not hand out a cookie"
        );
    }
    let (_, login) = page(&client, &app, "/login").await;
    assert!(
        !csrf_of(&login).is_empty(),
        "a page with a form sets its token"
    );

    let anonymous = client
        .post(app.url("/account/avatar"))
        .multipart(avatar_form(None, crate::helpers::png_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "sign in first");

    app.register("uploader", false).await;
    let member = browser();
    sign_in(&member, &app, "uploader").await;
    let (_, account) = page(&member, &app, "/account").await;
    let token = csrf_of(&account);
    let without_token = member
        .post(app.url("/account/avatar"))
        .multipart(avatar_form(None, crate::helpers::png_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
    let too_large = member
        .post(app.url("/account/avatar"))
        .multipart(avatar_form(Some(&token), vec![0u8; 6 * 1024 * 1024]))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let saved = member
        .post(app.url("/account/avatar"))
        .multipart(reqwest::multipart::Form::new().text("csrf", token).part(
            "file",
            reqwest::multipart::Part::bytes(crate::helpers::png_bytes()).file_name("me.png"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, account) = page(&member, &app, "/account").await;
    assert!(account.contains("Your picture is saved") && account.contains("/avatar\""));
}

#[tokio::test]
async fn a_failing_database_gets_the_sites_error_page_and_the_page_recovers() {
    let app = spawn_app().await;
    let (_, product) = app
        .potter_with("Butter Dish", json!({"price": "6.00"}))
        .await;
    // Signed in, so the page is computed for this request (an anonymous one may be kept).
    app.register("regular", false).await;
    let client = browser();
    sign_in(&client, &app, "regular").await;
    let path = format!("/products/{product}");
    let (status, _) = page(&client, &app, &path).await;
    assert_eq!(status, StatusCode::OK);
    adapter_postgres::testing::execute(&app.db, "alter table products rename to products_away")
        .await;
    let (status, html) = page(&client, &app, &path).await;
    adapter_postgres::testing::execute(&app.db, "alter table products_away rename to products")
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("We are having trouble right now"));
    assert!(html.contains("site-header"), "in the site's style");
    assert!(
        !html.contains("products_away"),
        "no detail of ours leaks: {html}"
    );
    let (status, _) = page(&client, &app, &path).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn owners_run_the_place_from_their_pages_and_every_action_is_recorded() {
    let app = spawn_app().await;
    let (seller, _) = app
        .potter_with("Lamp Base", json!({"price": "11.00"}))
        .await;
    let owner = browser();
    sign_in(&owner, &app, "owner").await;
    for (path, heading) in [
        ("/admin", "Dashboard"),
        ("/admin/site-config", "Site settings"),
        ("/admin/categories", "Categories"),
        ("/admin/orders", "Orders"),
        ("/admin/reconciliation", "Reconciliation"),
        ("/admin/refund-requests", "Refund requests"),
        ("/admin/jobs", "Jobs"),
        ("/admin/outbox", "Outbox"),
        ("/admin/webhooks", "Webhook events"),
        ("/admin/reports", "Moderation"),
        ("/admin/users", "Users"),
        ("/admin/audit-log", "Audit log"),
    ] {
        let (status, html) = page(&owner, &app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{path}");
    }

    // A category, added from its page.
    let (_, html) = page(&owner, &app, "/admin/categories").await;
    let added = post_form(
        &owner,
        &app,
        "/admin/categories",
        &[
            ("csrf", &csrf_of(&html)),
            ("category_type", "FILE"),
            ("name", "Cosplay Props"),
            ("parent_id", ""),
        ],
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&owner, &app, "/admin/categories").await;
    assert!(html.contains("Category added.") && html.contains("Cosplay Props"));

    // Staff granted to the seller, with the reason in the audit log.
    let granted = post_form(
        &owner,
        &app,
        &format!("/admin/users/{}/roles", seller.id),
        &[
            ("csrf", &csrf_of(&html)),
            ("is_seller", "on"),
            ("is_staff", "on"),
            ("note", "helps with moderation"),
            ("suspend", ""),
        ],
    )
    .await;
    assert_eq!(granted.status(), StatusCode::SEE_OTHER);
    let (_, users) = page(&owner, &app, "/admin/users?q=potter").await;
    assert!(users.contains("Roles saved.") && users.contains("staff"));
    let (_, log) = page(&owner, &app, "/admin/audit-log").await;
    assert!(log.contains("helps with moderation"), "{log}");

    // A seller is told these pages are not theirs.
    let seller_browser = browser();
    sign_in(&seller_browser, &app, "potter").await;
    let (status, _) = page(&seller_browser, &app, "/admin/site-config").await;
    assert_eq!(status, StatusCode::OK, "now staff: staff may look");
}

#[tokio::test]
async fn owners_adjust_a_sellers_balance_and_ask_for_a_reversal_from_the_order_page() {
    let app = spawn_app().await;
    let open = app.open_checkout("20.00", 1).await;
    app.pay(&open.url).await;
    app.payouts_paid(&open.order_id, 1).await;
    let before = app.seller_money(&open.seller).await["balance_cents"]
        .as_i64()
        .unwrap();
    assert_eq!(before, 0, "the seller was paid everything they are owed");

    let owner = browser();
    sign_in(&owner, &app, "owner").await;
    let order_page = format!("/admin/orders/{}", open.order_id);
    let (status, html) = page(&owner, &app, &order_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Book the adjustment") && html.contains("Reverse the payout now"));
    let key = uuid::Uuid::new_v4().to_string();
    let adjustment = [
        ("csrf", csrf_of(&html)),
        ("seller_id", open.seller.id.clone()),
        ("order_id", open.order_id.clone()),
        ("idempotency_key", key),
        ("amount", "−5.00".to_owned()),
        ("note", "a damaged box we replaced".to_owned()),
    ];
    let form: Vec<(&str, &str)> = adjustment.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for _ in 0..2 {
        // The same form sent twice (a double click) is booked once.
        let booked = post_form(&owner, &app, "/admin/adjustments", &form).await;
        assert_eq!(booked.status(), StatusCode::SEE_OTHER);
        assert_eq!(booked.headers()[LOCATION], order_page.as_str());
    }
    let (_, html) = page(&owner, &app, &order_page).await;
    assert!(html.contains("The adjustment is booked."), "{html}");
    assert_eq!(
        app.seller_money(&open.seller).await["balance_cents"],
        -500,
        "one adjustment of −5.00, booked once"
    );
    let (_, log) = page(&owner, &app, "/admin/audit-log").await;
    assert!(log.contains("a damaged box we replaced"), "{log}");

    // Nothing of this order was refunded, so there is nothing to take back from the transfer.
    let reversal = post_form(
        &owner,
        &app,
        &format!("/admin/orders/{}/reversals", open.order_id),
        &[("csrf", &csrf_of(&html)), ("seller_id", &open.seller.id)],
    )
    .await;
    assert_eq!(reversal.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&owner, &app, &order_page).await;
    assert!(html.contains("owes nothing back for this order"), "{html}");
    let reversals = expect_json(
        app.get(
            &format!("/api/v1/admin/orders/{}/reversals", open.order_id),
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(reversals.as_array().map(Vec::len), Some(0), "{reversals}");
}

/// The `hc3_form` cookie a response sets, if any.
fn form_cookie_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hc3_form="))
        .map(str::to_owned)
}

#[tokio::test]
async fn a_listings_page_is_kept_once_and_each_visitor_gets_their_own_form_token() {
    let app = spawn_app().await;
    let (seller, product) = app
        .potter_with("Glazed Bowl", json!({"price": "12.00"}))
        .await;
    let path = format!("/products/{product}");
    let (alice, bob) = (browser(), browser());

    let first = alice.get(app.url(&path)).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()[CACHE_CONTROL], "private, no-cache");
    let alice_cookie = form_cookie_of(&first).expect("a first visit gets a form token");
    let alice_etag = first.headers()["etag"].clone();
    let alice_token = csrf_of(&first.text().await.unwrap());
    assert!(alice_cookie.starts_with(&format!("hc3_form={alice_token};")));

    // The page is kept: it is served while the products table is away.
    adapter_postgres::testing::execute(&app.db, "alter table products rename to products_away")
        .await;
    let kept = bob.get(app.url(&path)).send().await.unwrap();
    let alice_again = alice
        .get(app.url(&path))
        .header("if-none-match", alice_etag.clone())
        .send()
        .await
        .unwrap();
    adapter_postgres::testing::execute(&app.db, "alter table products_away rename to products")
        .await;
    assert_eq!(kept.status(), StatusCode::OK, "served from the cache");
    assert_eq!(
        alice_again.status(),
        StatusCode::NOT_MODIFIED,
        "the same visitor revalidates their own page"
    );
    assert!(
        form_cookie_of(&alice_again).is_none(),
        "Alice keeps her token"
    );
    assert_eq!(kept.headers()[CACHE_CONTROL], "private, no-cache");
    assert!(kept.headers().contains_key("content-security-policy"));
    assert_ne!(kept.headers()["etag"], alice_etag, "Bob's page is his own");
    let bob_cookie = form_cookie_of(&kept).expect("Bob gets a token of his own");
    let bob_html = kept.text().await.unwrap();
    let bob_token = csrf_of(&bob_html);
    assert_ne!(bob_token, alice_token);
    assert!(bob_cookie.starts_with(&format!("hc3_form={bob_token};")));
    assert!(
        !bob_html.contains(&alice_token),
        "no visitor sees another's token"
    );
    assert!(
        !bob_html.contains("hc3-form-token"),
        "no mask left in the page"
    );
    assert!(bob_html.contains("Glazed Bowl") && bob_html.contains("$12.00"));

    // Bob's token from the kept page works; Alice's does not work for him.
    let refused = post_form(
        &bob,
        &app,
        "/cart/items",
        &[
            ("csrf", &alice_token),
            ("product_id", &product),
            ("quantity", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(cart_lines(&bob, &app).await, 0);
    let added = post_form(
        &bob,
        &app,
        "/cart/items",
        &[
            ("csrf", &bob_token),
            ("product_id", &product),
            ("quantity", "1"),
        ],
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(cart_lines(&bob, &app).await, 1);

    // A change to the listing shows at once.
    expect_json(
        app.patch(
            &format!("/api/v1/seller/products/{product}"),
            Some(&seller.token),
            json!({"price": "14.50"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let changed = alice
        .get(app.url(&path))
        .header("if-none-match", alice_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let html = changed.text().await.unwrap();
    assert!(html.contains("$14.50") && csrf_of(&html) == alice_token);
}

/// A multipart upload as our forms send it: the token first, then the fields, then the file.
fn upload_form(
    token: &str,
    fields: &[(&str, &str)],
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().text("csrf", token.to_owned());
    for (key, value) in fields {
        form = form.text((*key).to_owned(), (*value).to_owned());
    }
    form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

#[tokio::test]
async fn sellers_manage_photos_files_and_activation_and_read_their_analytics_from_their_pages() {
    let app = spawn_app().await;
    let (seller, model) = app
        .potter_with("Glazed Bowl", json!({"price": "12.00"}))
        .await;
    let scans = app.category("FILE", "Scans", None).await;
    let file_listing = app
        .listing(
            &seller,
            json!({"kind": "FILE", "title": "Bowl scan", "category_id": scans, "price": "3.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let potter = browser();
    sign_in(&potter, &app, "potter").await;
    let edit = format!("/seller/listings/{model}");
    let (status, html) = page(&potter, &app, &edit).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&html);
    let images = |app: &TestApp| {
        let path = format!("/api/v1/products/{model}");
        let client = app.client.clone();
        let url = app.url(&path);
        async move {
            let detail: serde_json::Value =
                client.get(url).send().await.unwrap().json().await.unwrap();
            detail["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["id"].as_str().unwrap().to_owned(),
                        i["alt_text"].as_str().unwrap_or_default().to_owned(),
                        i["is_primary"].as_bool().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };

    // Two photos; the second made primary; the first deleted.
    for alt in ["The bowl from above", "The bowl's glaze up close"] {
        let added = potter
            .post(app.url(&format!("{edit}/images")))
            .multipart(upload_form(
                &token,
                &[("alt_text", alt)],
                "bowl.png",
                crate::helpers::png_bytes(),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
    }
    let photos = images(&app).await;
    assert_eq!(photos.len(), 2);
    assert_eq!(photos.iter().filter(|p| p.2).count(), 1, "one primary");
    let second = photos
        .iter()
        .find(|p| p.1 == "The bowl's glaze up close")
        .unwrap()
        .0
        .clone();
    let first = photos.iter().find(|p| p.0 != second).unwrap().0.clone();
    let made = post_form(
        &potter,
        &app,
        &format!("{edit}/images/{second}/primary"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    assert!(
        images(&app).await.iter().any(|p| p.0 == second && p.2),
        "the close-up is primary"
    );
    let deleted = post_form(
        &potter,
        &app,
        &format!("{edit}/images/{first}/delete"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(images(&app).await.len(), 1);
    let (_, html) = page(&potter, &app, &edit).await;
    assert!(
        html.contains("alt=\"The bowl's glaze up close\""),
        "the page shows the photo with its alt text"
    );

    // A file added to the digital listing, then removed.
    let files = || async {
        expect_json(
            app.get(
                &format!("/api/v1/seller/products/{file_listing}/assets"),
                Some(&seller.token),
            )
            .await,
            StatusCode::OK,
        )
        .await
    };
    let uploaded = potter
        .post(app.url(&format!("/seller/listings/{file_listing}/files")))
        .multipart(upload_form(
            &token,
            &[],
            "bowl.stl",
            crate::helpers::stl_bytes(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let listed = files().await;
    let assets = listed.as_array().unwrap().clone();
    assert_eq!(assets.len(), 1, "{listed}");
    assert_eq!(assets[0]["file_name"], "bowl.stl");
    let asset = assets[0]["id"].as_str().unwrap().to_owned();
    let removed = post_form(
        &potter,
        &app,
        &format!("/seller/listings/{file_listing}/files/{asset}/delete"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let listed = files().await;
    assert_eq!(listed.as_array().unwrap().len(), 0, "the file is gone");

    // Deactivated, the listing leaves the catalogue; activated, it is back.
    let toggle = format!("{edit}/toggle");
    let off = post_form(&potter, &app, &toggle, &[("csrf", &token)]).await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/products/{model}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    post_form(&potter, &app, &toggle, &[("csrf", &token)]).await;
    expect_json(
        app.get(&format!("/api/v1/products/{model}"), None).await,
        StatusCode::OK,
    )
    .await;

    // Analytics for a period the page offers, and a refusal for one it does not.
    let (status, html) = page(&browser(), &app, &format!("/products/{model}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a shopper looks at the bowl: {html}"
    );
    // Written now, as the app's one-second batch would.
    app.services.engagement.flush().await.unwrap();
    let (status, html) = page(&potter, &app, "/seller/analytics?days=30").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Glazed Bowl"), "{html}");
    assert!(html.contains("<li>Views<strong>1</strong></li>"), "{html}");
    let (status, _) = page(&potter, &app, "/seller/analytics?days=31").await;
    assert!(status.is_client_error(), "{status}");

    // The profile form saves, and says why when a field is wrong.
    let (_, html) = page(&potter, &app, "/account").await;
    let account = [
        ("csrf", csrf_of(&html)),
        ("first_name", "Pat".to_owned()),
        ("last_name", "Potter".to_owned()),
        ("email", "pat@example.com".to_owned()),
        ("phone_1", String::new()),
        ("phone_2", String::new()),
        ("address_1", String::new()),
        ("address_2", String::new()),
        ("city", String::new()),
        ("state", "Nowhere".to_owned()),
        ("zip_code", String::new()),
        ("shop_name", "Pat's Pots".to_owned()),
        ("is_seller", "on".to_owned()),
    ];
    let as_form = |state: &str| {
        account
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    if *k == "state" {
                        state.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    let refused = potter
        .post(app.url("/account"))
        .form(&as_form("Nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().await.unwrap().contains("f-state"),
        "the state field is named"
    );
    let saved = potter
        .post(app.url("/account"))
        .form(&as_form("OR"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let profile = expect_json(
        app.get("/api/v1/me/profile", Some(&seller.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            profile["first_name"].as_str(),
            profile["shop_name"].as_str(),
            profile["state"].as_str()
        ),
        (Some("Pat"), Some("Pat's Pots"), Some("OR"))
    );
}

#[tokio::test]
async fn a_card_click_is_counted_once_and_leads_to_the_product_page() {
    let app = spawn_app().await;
    let (seller, product) = app
        .potter_with("Striped Mug", json!({"price": "8.00"}))
        .await;
    let shopper = browser();
    let (_, list) = page(&shopper, &app, "/products").await;
    let go = format!("/products/{product}/go");
    assert!(
        list.contains(&format!("href=\"{go}\"")),
        "cards link through /go"
    );
    for _ in 0..2 {
        let response = shopper.get(app.url(&go)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[LOCATION],
            format!("/products/{product}").as_str()
        );
    }
    let (status, _) = page(
        &shopper,
        &app,
        &format!("/products/{}/go", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.services.engagement.flush().await.unwrap();
    let analytics = expect_json(
        app.get("/api/v1/seller/analytics?days=7", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        analytics["totals"]["clicks"], 1,
        "two clicks by one visitor within five minutes count once: {analytics}"
    );
    // Crawlers may follow the cards to the product pages.
    let (_, robots) = page(&shopper, &app, "/robots.txt").await;
    assert!(!robots.contains("/products"), "{robots}");
}

#[tokio::test]
async fn a_made_up_form_cookie_never_reaches_another_visitors_product_page() {
    let app = spawn_app().await;
    let (_, product) = app
        .potter_with("Speckled Jar", json!({"price": "9.00"}))
        .await;
    let path = format!("/products/{product}");
    // The first visitor of the page sends a cookie that is not a token of ours (the right
    // length, not hex): it is ignored and a token made for them.
    let forged = format!("{}-", "z".repeat(63));
    let first = app
        .client
        .get(app.url(&path))
        .header("cookie", format!("hc3_form={forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(form_cookie_of(&first).is_some(), "a real token is made");
    let html = first.text().await.unwrap();
    assert!(!html.contains(&forged));
    let theirs = csrf_of(&html);
    // The next visitor gets the kept page with a token of their own.
    let next = browser().get(app.url(&path)).send().await.unwrap();
    assert_eq!(next.headers()[CACHE_CONTROL], "private, no-cache");
    let cookie = form_cookie_of(&next).expect("a token of their own");
    let html = next.text().await.unwrap();
    let mine = csrf_of(&html);
    assert!(cookie.starts_with(&format!("hc3_form={mine};")));
    assert_ne!(mine, theirs);
    assert!(!html.contains(&forged) && !html.contains(&theirs));
}

#[tokio::test]
async fn only_the_buyer_is_offered_to_pay_an_order_staff_only_look() {
    let app = spawn_app().await;
    let open = app.open_checkout("15.00", 1).await;
    let order_page = format!("/orders/{}", open.order_id);
    let buyer = browser();
    sign_in(&buyer, &app, "customer").await;
    let (status, html) = page(&buyer, &app, &order_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("action=\"{order_page}/pay\"")),
        "{html}"
    );
    let owner = browser();
    sign_in(&owner, &app, "owner").await;
    let (status, html) = page(&owner, &app, &order_page).await;
    assert_eq!(status, StatusCode::OK, "staff see every order");
    assert!(!html.contains("/pay\""), "but are not offered to pay it");
    let refused = post_form(
        &owner,
        &app,
        &format!("{order_page}/pay"),
        &[("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.stripe_requests("POST", "/v1/checkout/sessions")
            .await
            .len(),
        1,
        "only the buyer's checkout session exists"
    );
}

#[tokio::test]
async fn a_guest_changes_their_review_from_the_order_page_with_the_token() {
    let app = spawn_app().await;
    let (_, product) = app
        .potter_with("Free Coaster", json!({"is_free": true}))
        .await;
    let (status, _, cart) = app.add_to_cart(None, None, &product, 1).await;
    assert_eq!(status, StatusCode::OK);
    let placed = app
        .place_order(None, cart.as_deref(), Some("guest@example.com"))
        .await;
    let order = placed["id"].as_str().unwrap().to_owned();
    let token = placed["access_token"].as_str().unwrap().to_owned();
    let line = placed["items"][0]["id"].as_str().unwrap().to_owned();
    expect_json(
        app.checkout(&order, None, Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    let review = expect_json(
        app.post(
            &format!("/api/v1/orders/{order}/items/{line}/review?t={token}"),
            None,
            json!({"rating": 4, "title": "Nice", "body": "Holds a mug."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let review_id = review["id"].as_str().unwrap().to_owned();

    let guest = browser();
    let (status, html) = page(&guest, &app, &format!("/orders/{order}?t={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Edit your review"), "{html}");
    let form_path = format!("/orders/{order}/lines/{line}/review?t={token}");
    let (status, html) = page(&guest, &app, &form_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("action=\"/reviews/{review_id}/edit\"")),
        "{html}"
    );
    assert!(html.contains("Holds a mug.") && html.contains("value=\"Nice\""));
    let saved = post_form(
        &guest,
        &app,
        &format!("/reviews/{review_id}/edit"),
        &[
            ("csrf", &csrf_of(&html)),
            ("t", &token),
            ("back", &format!("/orders/{order}?t={token}")),
            ("rating", "2"),
            ("title", "Chipped"),
            ("body", "The edge chipped in a week."),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers()[LOCATION],
        format!("/orders/{order}?t={token}").as_str()
    );
    let now = expect_json(
        app.get(&format!("/api/v1/reviews/{review_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (now["rating"].as_i64(), now["title"].as_str()),
        (Some(2), Some("Chipped"))
    );
    // Without the token it is nobody's to change.
    let stranger = browser();
    let (_, login_page) = page(&stranger, &app, "/login").await;
    let refused = post_form(
        &stranger,
        &app,
        &format!("/reviews/{review_id}/edit"),
        &[
            ("csrf", &csrf_of(&login_page)),
            ("back", "/"),
            ("rating", "1"),
            ("title", "x"),
            ("body", "x"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert!(
        refused.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "a stranger is asked to sign in"
    );
    let unchanged = expect_json(
        app.get(&format!("/api/v1/reviews/{review_id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged["rating"], 2);
}
