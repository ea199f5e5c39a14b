//! What people do on the site, click by click.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_json, stl_bytes};
use crate::{DESKTOP, Journey, PHONE};

/// A new buyer `username` orders `quantity` of `product` through the API and pays on the
/// simulator; returns the order's id and the page Stripe sent them back to, once it is paid.
async fn bought(
    app: &crate::helpers::TestApp,
    username: &str,
    product: &str,
    quantity: i64,
) -> (String, String) {
    let buyer = app.register(username, false).await;
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, product, quantity).await;
    assert_eq!(status, StatusCode::OK);
    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let checkout = expect_json(
        app.checkout(&order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    let landing = app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    app.order_until(&order_id, Some(&buyer), None, "paid", |o| {
        o["status"] == "paid"
    })
    .await;
    (order_id, landing)
}

/// A guest finds a 3D file, buys it with only an e-mail address, pays on the simulator's hosted
/// page, lands back on the order page and downloads the file.
#[tokio::test]
async fn a_guest_buys_a_file_pays_on_the_simulator_and_downloads_it() {
    let journey = Journey::start("guest-buys-a-file", DESKTOP).await;
    let app = &journey.app;
    let seller = app.onboarded_seller("owl-maker").await;
    let category = app.category("FILE", "Figurines", None).await;
    let listing = app
        .listing(
            &seller,
            json!({"kind": "FILE", "title": "Printable Owl", "category_id": category,
                   "price": "4.50", "short_description": "A small owl to print at home."}),
        )
        .await;
    let product = listing["id"].as_str().unwrap().to_owned();
    app.upload_stl(&seller, &product).await;
    // Three downloads per purchase, so the order page has a count to show.
    let config = app
        .put(
            "/api/v1/admin/site-config",
            Some(&app.owner.token),
            json!({"fee_percent": "10", "currency": "usd", "allowed_shipping_countries": ["US"],
                   "download_limit": 3}),
        )
        .await;
    assert_eq!(config.status(), StatusCode::OK);
    let b = &journey.browser;

    journey.open("/").await;
    assert!(b.title().await.contains("Home Craft 3D"));
    journey.check_accessibility("home").await;
    b.screenshot("01-home").await;
    b.fill("#site-search", "owl").await;
    b.click("form.search button").await;
    b.wait_for_url("the search results", |u| u.contains("/products?q=owl"))
        .await;
    journey.check_accessibility("search results").await;
    b.click_text(".card h3 a", "Printable Owl").await;
    b.wait_for_url("the product page", |u| {
        u.ends_with(&format!("/products/{product}"))
    })
    .await;
    assert_eq!(b.text(".buy .price").await, "$4.50");
    journey.check_accessibility("product page").await;
    b.screenshot("02-product").await;

    b.click("form[action='/cart/items'] button").await;
    b.wait_for_url("the cart", |u| u.ends_with("/cart")).await;
    b.wait_for_text(".flash.notice", "Added to your cart").await;
    assert!(b.text("table").await.contains("Printable Owl"));
    journey.check_accessibility("cart").await;
    b.screenshot("03-cart").await;

    b.click("a[href='/checkout']").await;
    b.wait_for_url("the checkout page", |u| u.ends_with("/checkout"))
        .await;
    // A mistyped address is refused next to the field, and nothing is ordered.
    b.fill("#f-guest_email", "not-an-address").await;
    b.click("form[action='/checkout'] button").await;
    let error = b.text("#f-guest_email-error").await;
    assert!(!error.is_empty(), "the e-mail field says what is wrong");
    journey.check_accessibility("checkout with an error").await;
    b.fill("#f-guest_email", "guest@example.com").await;
    b.screenshot("04-checkout").await;
    b.click("form[action='/checkout'] button").await;

    // The simulator's hosted payment page.
    b.wait_for_url("the payment page", |u| u.starts_with(&app.sim))
        .await;
    assert!(b.text("body").await.contains("SIMULATOR"));
    b.screenshot("05-simulator-checkout").await;
    b.click("button[value='card']").await;

    // Back on the order page, reached with the guest's token.
    let order_page = b
        .wait_for_url("the order page", |u| {
            u.starts_with(&app.address) && u.contains("/orders/") && u.contains("?t=")
        })
        .await;
    let path = order_page.trim_start_matches(&app.address).to_owned();
    journey.reload_until(&path, "h1", "Paid").await;
    journey.check_accessibility("order page").await;
    b.screenshot("06-order-paid").await;
    let link = b.find("a[download]").await;
    assert!(b.text_of(&link).await.contains("owl.stl"));
    assert!(b.text("table").await.contains("Printable Owl"));
    let href = b.attribute(&link, "href").await.unwrap();
    let file = app
        .client
        .get(app.url(href.trim_start_matches(&app.address)))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().to_vec(), stl_bytes());
    let left = "tr:has(a[download]) td:nth-child(3)";
    assert_eq!(b.text(left).await, "3", "before: all three downloads left");
    journey.reload_until(&path, left, "2").await;
    b.screenshot("07-downloaded").await;

    // The order page is private: a stranger without the token is asked to sign in.
    let order = path.split('?').next().unwrap().to_owned();
    let stranger = app.client.get(app.url(&order)).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::SEE_OTHER);
    assert!(
        stranger.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    journey.browser.close().await;
}

/// A seller registers, sets up payouts on the simulator's onboarding page, lists a printed model
/// with a photo, and sees a sale and its payout.
#[tokio::test]
async fn a_seller_onboards_lists_a_model_with_a_photo_and_sees_the_sale_and_payout() {
    let journey = Journey::start("seller-lists-and-sells", DESKTOP).await;
    let app = &journey.app;
    app.category("MODEL", "Dragons", None).await;
    let b = &journey.browser;

    journey.open("/register").await;
    journey.check_accessibility("register").await;
    b.fill("#f-username", "dragon-works").await;
    b.fill("#f-email", "dragons@example.com").await;
    b.fill("#f-password", crate::helpers::PASSWORD).await;
    b.click("#f-seller").await;
    b.click("form[action='/register'] button").await;
    b.wait_for_url("the seller overview", |u| u.ends_with("/seller"))
        .await;
    assert!(b.text(".panel").await.contains("Not set up"));
    journey.check_accessibility("seller overview").await;

    b.click("form[action='/seller/connect/start'] button").await;
    b.wait_for_url("the onboarding page", |u| u.starts_with(&app.sim))
        .await;
    b.screenshot("01-simulator-onboarding").await;
    b.click_text("button", "Complete onboarding").await;
    b.wait_for_url("back on the shop", |u| u.ends_with("/seller"))
        .await;
    b.wait_for_text(".flash", "Payouts are set up").await;
    assert!(b.text(".panel").await.contains("Ready"));
    b.screenshot("02-seller-ready").await;

    b.click("a[href='/seller/listings/new']").await;
    b.wait_for_url("the new listing form", |u| {
        u.contains("/seller/listings/new")
    })
    .await;
    journey.check_accessibility("new listing form").await;
    // A listing without a title is refused with the field's message, keeping what was typed.
    b.fill("#f-price", "24.00").await;
    b.click("form[method='post'][action='/seller/listings/new'] button[type='submit']")
        .await;
    assert!(!b.text("#f-title-error").await.is_empty());
    assert_eq!(
        b.attribute(&b.find("#f-price").await, "value")
            .await
            .as_deref(),
        Some("24.00")
    );
    b.fill("#f-title", "Articulated Dragon").await;
    let dragons = b.find_with_text("#f-category_id option", "Dragons").await;
    b.click_element(&dragons).await;
    b.fill(
        "#f-short_description",
        "A flexible dragon, printed in one piece.",
    )
    .await;
    b.fill("#f-material", "PLA").await;
    b.click("form[method='post'][action='/seller/listings/new'] button[type='submit']")
        .await;
    let edit = b
        .wait_for_url("the listing's page", |u| {
            u.contains("/seller/listings/") && !u.ends_with("/new")
        })
        .await;
    let product = edit.rsplit('/').next().unwrap().to_owned();
    b.wait_for_text(".flash", "Listing created").await;

    let photo = std::env::temp_dir().join(format!("dragon-{product}.png"));
    std::fs::write(&photo, app::png::banded_png(640, 480, [180, 60, 40])).unwrap();
    b.fill("#f-image", photo.to_str().unwrap()).await;
    b.fill("#f-alt", "A red articulated dragon, coiled").await;
    b.click("form[action$='/images'] button").await;
    b.wait_for_url("back on the listing", |u| u.ends_with(&product))
        .await;
    b.wait_for_text(".flash", "Photo added").await;
    let image = b.find("section[aria-labelledby='photos'] img").await;
    assert_eq!(
        b.attribute(&image, "alt").await.as_deref(),
        Some("A red articulated dragon, coiled")
    );
    journey.check_accessibility("listing editor").await;
    b.screenshot("03-listing-editor").await;
    std::fs::remove_file(&photo).ok();

    // Shoppers see the photo with its alt text.
    journey.sign_out().await;
    journey.open(&format!("/products/{product}")).await;
    b.find("form[action='/cart/items'] button").await;
    let shown = b.find(".gallery img").await;
    assert_eq!(
        b.attribute(&shown, "alt").await.as_deref(),
        Some("A red articulated dragon, coiled")
    );
    b.screenshot("04-product-page").await;
    journey.sign_in("dragon-works").await;

    // A buyer orders it (through the API) and pays.
    let (order_id, _) = bought(app, "dragon-fan", &product, 2).await;
    app.payouts_paid(&order_id, 1).await;

    journey.open("/seller/orders").await;
    assert!(b.text("table").await.contains("2 × Articulated Dragon"));
    journey.check_accessibility("sales").await;
    journey
        .reload_until("/seller/payouts", "table", "Paid")
        .await;
    // 2 × 24.00 less the default 10 % fee.
    assert!(
        b.text("main").await.contains("$43.20"),
        "{}",
        b.text("main").await
    );
    journey.check_accessibility("payouts").await;
    b.screenshot("05-payouts").await;
    journey.browser.close().await;
}

/// A visitor on a phone finds a product by searching, and the page fits the screen.
#[tokio::test]
async fn a_visitor_on_a_phone_finds_a_product_by_search() {
    let journey = Journey::start("phone-search", PHONE).await;
    let app = &journey.app;
    let seller = app.onboarded_seller("tiny-prints").await;
    let category = app.category("MODEL", "Planters", None).await;
    app.model_listing(&seller, &category, "Geometric Planter")
        .await;
    app.model_listing(&seller, &category, "Hanging Basket")
        .await;
    let b = &journey.browser;

    journey.open("/").await;
    b.screenshot("01-home-phone").await;
    b.fill("#site-search", "planter").await;
    b.click("form.search button").await;
    b.wait_for_url("the results", |u| u.contains("q=planter"))
        .await;
    let titles: Vec<String> = {
        let mut titles = Vec::new();
        for card in b.find_all(".card h3 a").await {
            titles.push(b.text_of(&card).await);
        }
        titles
    };
    assert_eq!(titles, vec!["Geometric Planter".to_owned()]);
    // Nothing is wider than the phone's screen.
    let overflow = b
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            json!([]),
        )
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways by {overflow}"
    );
    journey.check_accessibility("results on a phone").await;
    b.screenshot("02-results-phone").await;
    b.click_text(".card h3 a", "Geometric Planter").await;
    b.wait_for_url("the product page", |u| u.contains("/products/"))
        .await;
    assert_eq!(b.text("h1").await, "Geometric Planter");
    b.screenshot("03-product-phone").await;
    journey.browser.close().await;
}

impl Journey {
    /// Signs in through the sign-in page.
    async fn sign_in(&self, username: &str) {
        self.open("/login").await;
        self.browser.fill("#f-username", username).await;
        self.browser
            .fill("#f-password", crate::helpers::PASSWORD)
            .await;
        self.browser.click("form[action='/login'] button").await;
        self.browser
            .wait_for_url("signed in", |u| !u.contains("/login"))
            .await;
        assert!(
            self.browser.text("header nav").await.contains(username),
            "the header names {username}"
        );
    }

    /// Signs out with the header's button.
    async fn sign_out(&self) {
        self.browser.click("form[action='/logout'] button").await;
        self.browser
            .wait_for_url("signed out", |u| u.ends_with('/'))
            .await;
        assert!(self.browser.text("header nav").await.contains("Sign in"));
    }
}

/// A buyer pays for a printed model, asks for a refund because it arrived damaged; the seller
/// approves it and sends the money back, and the buyer's order shows the refund.
#[tokio::test]
async fn a_buyer_requests_a_refund_and_the_seller_approves_and_sends_it() {
    let journey = Journey::start("refund-request", DESKTOP).await;
    let app = &journey.app;
    let (seller, product) = app
        .potter_with("Speckled Vase", json!({"price": "30.00"}))
        .await;
    app.register("vase-lover", false).await;
    let b = &journey.browser;

    journey.sign_in("vase-lover").await;
    journey.open(&format!("/products/{product}")).await;
    b.click("form[action='/cart/items'] button").await;
    b.wait_for_url("the cart", |u| u.ends_with("/cart")).await;
    b.click("a[href='/checkout']").await;
    b.wait_for_url("checkout", |u| u.ends_with("/checkout"))
        .await;
    assert!(
        b.find_all("#f-guest_email").await.is_empty(),
        "a signed-in buyer is not asked for an e-mail"
    );
    b.click("form[action='/checkout'] button").await;
    b.wait_for_url("the payment page", |u| u.starts_with(&app.sim))
        .await;
    b.click("button[value='card']").await;
    let order_url = b
        .wait_for_url("the order page", |u| {
            u.starts_with(&app.address) && u.contains("/orders/")
        })
        .await;
    let path = order_url.trim_start_matches(&app.address).to_owned();
    journey.reload_until(&path, "h1", "Paid").await;
    app.payouts_paid(
        path.trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap(),
        1,
    )
    .await;

    journey.open(&path).await;
    b.click_text("a", "Ask for a refund").await;
    b.wait_for_url("the refund form", |u| u.ends_with("/refund"))
        .await;
    journey.check_accessibility("refund request form").await;
    // Sent without a reason: refused next to the choices.
    b.click("form[action$='/refund'] button").await;
    b.wait_for_text("fieldset", "must be one of").await;
    b.click("#r-damaged").await;
    b.fill("#f-notes", "The neck arrived cracked.").await;
    b.screenshot("01-refund-form").await;
    b.click("form[action$='/refund'] button").await;
    let request_url = b
        .wait_for_url("the request's page", |u| u.contains("/refund-requests/"))
        .await;
    let request_path = request_url.trim_start_matches(&app.address).to_owned();
    b.wait_for_text("h1", "Waiting for the seller").await;
    assert!(b.text("dl").await.contains("$30.00"));
    journey.check_accessibility("refund request").await;
    b.screenshot("02-refund-requested").await;
    journey.sign_out().await;

    journey.sign_in(&seller.username).await;
    journey
        .open("/seller/refund-requests?status=requested")
        .await;
    journey.check_accessibility("seller's refund queue").await;
    b.click("table a").await;
    b.wait_for_url("the request", |u| u.contains("/refund-requests/"))
        .await;
    b.fill("#f-note", "Sorry about that — refunding in full.")
        .await;
    b.click("button[value='approve']").await;
    b.wait_for_url("back on the request", |u| u.ends_with(&request_path))
        .await;
    b.wait_for_text("h1", "Approved").await;
    b.screenshot("03-approved").await;
    b.click_text("button", "Send the refund").await;
    journey.reload_until(&request_path, "h1", "Refunded").await;
    assert!(b.text("ol").await.contains("refunding in full"));
    b.screenshot("04-refunded").await;
    journey.sign_out().await;

    journey.sign_in("vase-lover").await;
    journey.reload_until(&path, "h1", "Refunded").await;
    assert!(b.text("tfoot").await.contains("Refunded"));
    b.screenshot("05-buyer-sees-refund").await;
    journey.browser.close().await;
}

/// An owner raises the marketplace fee, a new order is placed at the new fee, and when its buyer
/// disputes the payment the owner sees the order flagged for reconciliation.
#[tokio::test]
async fn an_owner_changes_the_fee_and_sees_a_reconciliation_flag() {
    let journey = Journey::start("owner-fee-and-flags", DESKTOP).await;
    let app = &journey.app;
    let (_, product) = app
        .potter_with("Terracotta Planter", json!({"price": "20.00"}))
        .await;
    let b = &journey.browser;

    journey.sign_in("owner").await;
    journey.open("/admin").await;
    journey.check_accessibility("owner dashboard").await;
    b.screenshot("01-dashboard").await;
    journey.open("/admin/site-config").await;
    journey.check_accessibility("site settings").await;
    b.fill("#f-fee_percent", "abc").await;
    b.click("form[action='/admin/site-config'] button").await;
    b.wait_for_text("#f-fee_percent-error", "percentage").await;
    b.fill("#f-fee_percent", "12.5").await;
    b.click("form[action='/admin/site-config'] button").await;
    b.wait_for_text(".flash.notice", "The fee is now 12.5")
        .await;
    b.screenshot("02-fee-changed").await;
    // A flash is shown once.
    journey.open("/admin").await;
    assert!(b.find_all(".flash").await.is_empty(), "the flash is gone");
    assert!(b.text("main").await.contains("12.5 %"));

    // A buyer orders at the new fee and pays; then disputes the charge with their bank.
    let (order_id, landing) = bought(app, "planter-buyer", &product, 1).await;
    let intent = app.payment_intent_of(&landing).await;

    journey.open(&format!("/admin/orders/{order_id}")).await;
    assert!(b.text("main").await.contains("fee 12.5 %"));
    // 20.00 at 12.5 %: a fee of 2.50 and 17.50 for the seller.
    let lines = b.text("table").await;
    assert!(
        lines.contains("$2.50") && lines.contains("$17.50"),
        "{lines}"
    );

    app.sim_post(
        "/_sim/disputes",
        json!({"payment_intent": intent, "status": "open", "fee": 1500}),
    )
    .await;
    journey
        .reload_until("/admin/reconciliation", "main", "dispute open")
        .await;
    journey.check_accessibility("reconciliation").await;
    b.screenshot("03-reconciliation").await;
    journey.open("/admin/orders?flagged=yes").await;
    assert!(b.text("table").await.contains(&order_id[..8]));
    b.screenshot("04-flagged-orders").await;
    journey.browser.close().await;
}

/// A buyer reviews what they bought (and edits the review) and asks the seller a question; the
/// seller answers both (and edits the reply), and another shopper sees it all on the product page
/// — and can report a message to the staff, who dismiss the report.
#[tokio::test]
async fn a_buyer_reviews_and_asks_and_the_seller_answers() {
    let journey = Journey::start("reviews-and-questions", DESKTOP).await;
    let app = &journey.app;
    let (seller, product) = app
        .potter_with("Ribbed Planter", json!({"price": "18.00"}))
        .await;
    bought(app, "green-thumb", &product, 1).await;
    let b = &journey.browser;

    journey.sign_in("green-thumb").await;
    journey.open("/orders").await;
    journey.check_accessibility("orders").await;
    b.click("table a").await;
    b.wait_for_url("the order", |u| u.contains("/orders/"))
        .await;
    b.click_text("a", "Review").await;
    b.wait_for_url("the review form", |u| u.ends_with("/review"))
        .await;
    journey.check_accessibility("review form").await;
    b.click("#rating-5").await;
    b.fill("#f-title", "Lovely ribs").await;
    b.fill("#f-body", "Holds water, looks great on the sill.")
        .await;
    b.click("form[action$='/review'] button").await;
    b.wait_for_text(".flash", "your review is posted").await;
    // Second thoughts: the author edits it from the product page.
    journey.open(&format!("/products/{product}")).await;
    b.click_text("details.report summary", "Edit your review")
        .await;
    b.fill(
        "form[action$='/edit'] input[name='title']",
        "Lovely ribs, sturdy too",
    )
    .await;
    b.click("form[action$='/edit'] button").await;
    b.wait_for_text(".flash", "Your review is saved").await;
    b.wait_for_text("main", "Lovely ribs, sturdy too").await;

    journey.open(&format!("/products/{product}")).await;
    b.fill("#f-subject", "Drainage").await;
    b.fill("#f-question", "Does it have a drainage hole?").await;
    b.click("#ask button").await;
    b.wait_for_text(".flash", "Your question is posted").await;
    let thread = b.current_url().await;
    journey.sign_out().await;

    journey.sign_in(&seller.username).await;
    journey.open("/notifications").await;
    b.wait_for_text("main", "New question about Ribbed Planter")
        .await;
    journey.check_accessibility("notifications").await;
    journey.open(thread.trim_start_matches(&app.address)).await;
    b.fill("#f-reply", "Yes — one, with a cork plug.").await;
    b.click("form[action$='/reply'] button").await;
    b.wait_for_text(".flash", "Your reply is posted").await;
    journey.open(&format!("/products/{product}")).await;
    b.fill("form[action$='/reply'] textarea", "Thanks!").await;
    b.click("form[action$='/reply'] button").await;
    b.wait_for_text(".flash", "Your reply is posted").await;
    b.click_text("details.report summary", "Edit your reply")
        .await;
    b.fill("form[action$='/reply/edit'] textarea", "Thank you!")
        .await;
    b.click("form[action$='/reply/edit'] button").await;
    b.wait_for_text(".flash", "Your reply is saved").await;
    journey.sign_out().await;

    app.register("window-shopper", false).await;
    journey.sign_in("window-shopper").await;
    journey.open(&format!("/products/{product}")).await;
    let page = b.text("main").await;
    assert!(
        page.contains("Lovely ribs") && page.contains("Thank you!"),
        "{page}"
    );
    assert!(page.contains("Drainage"), "{page}");
    journey
        .check_accessibility("product page with reviews and questions")
        .await;
    b.screenshot("01-product-with-reviews").await;
    journey.open(thread.trim_start_matches(&app.address)).await;
    assert!(b.text("main").await.contains("with a cork plug"));
    b.click("details.report summary").await;
    b.click("details.report button").await;
    b.wait_for_text(".flash", "Our staff will look at it").await;
    b.screenshot("02-thread-reported").await;
    journey.sign_out().await;

    journey.sign_in("owner").await;
    journey.open("/admin/reports").await;
    b.wait_for_text("main", "message reported for spam").await;
    journey.check_accessibility("moderation queue").await;
    b.fill("input[name='note']", "A fair question, not spam.")
        .await;
    b.click("button[value='dismiss']").await;
    b.wait_for_text(".flash", "Report resolved").await;
    journey.browser.close().await;
}
