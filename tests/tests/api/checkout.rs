//! The money flow end to end: cart → order → Stripe Checkout on the simulator's page → webhook →
//! ledger → payout transfers, for registered buyers, guests, free orders and sellers who are not
//! ready.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, eventually, expect_error, expect_json, expect_not_found, spawn_app,
    spawn_app_with, stl_bytes,
};

/// Categories of both trees.
struct Shop {
    models: String,
    files: String,
}

async fn shop(app: &TestApp) -> Shop {
    Shop {
        models: app.category("MODEL", "Figurines", None).await,
        files: app.category("FILE", "STL Files", None).await,
    }
}

/// A MODEL listing.
async fn model(app: &TestApp, shop: &Shop, seller: &User, title: &str, price: &str) -> String {
    app.listing(
        seller,
        json!({"kind": "MODEL", "title": title, "category_id": shop.models, "price": price}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A FILE listing with one STL asset; returns (product id, asset id).
async fn file(app: &TestApp, shop: &Shop, seller: &User, body: Value) -> (String, String) {
    let mut body = body;
    body["kind"] = json!("FILE");
    body["category_id"] = json!(shop.files);
    let product = app.listing(seller, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asset = app.upload_stl(seller, &product).await;
    (product, asset)
}

/// The value of one form parameter of a recorded request.
fn param<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == name)
        .and_then(|p| p[1].as_str())
}

/// The simulator's transfers of one order.
async fn transfers_of(app: &TestApp, order: &str) -> Vec<Value> {
    app.sim_get("/_sim/transfers")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["transfer_group"] == order)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_buyer_pays_two_sellers_and_each_receives_exactly_their_net() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let alice = app.onboarded_seller("alice").await;
    let bob = app.onboarded_seller("bob").await;
    let alice_account = expect_json(
        app.get("/api/v1/seller/connect", Some(&alice.token)).await,
        StatusCode::OK,
    )
    .await["account"]["stripe_account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owl = model(&app, &shop, &alice, "Owl figurine", "24.99").await;
    let (owl_stl, asset) = file(
        &app,
        &shop,
        &bob,
        json!({"title": "Owl STL", "price": "5.05"}),
    )
    .await;
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{owl}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["can_buy"], true);

    let buyer = app.register("buyer", false).await;
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, &owl, 2).await;
    assert_eq!(status, StatusCode::OK);
    let (status, cart, _) = app.add_to_cart(Some(&buyer), None, &owl_stl, 5).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        cart["subtotal_cents"],
        2 * 2499 + 505,
        "the file line stays at quantity 1"
    );
    assert_eq!(cart["can_checkout"], true);

    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "pending");
    assert_eq!(order["kind"], "mixed");
    assert_eq!(order["total_cents"], 5503);
    assert!(
        order["access_token"].is_null(),
        "registered buyers get no guest token"
    );
    let items = order["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|i| i["marketplace_fee_cents"].is_null() && i["seller_net_cents"].is_null()),
        "the buyer sees nothing of the sellers' money: {order}"
    );
    let whole = expect_json(
        app.get(
            &format!("/api/v1/orders/{order_id}"),
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = whole["items"].as_array().unwrap();
    let line = |product: &str| items.iter().find(|i| i["product_id"] == product).unwrap();
    // 10 % of 49.98 = 4.998 → 5.00; 10 % of 5.05 = 0.505 → 0.51 (half-up).
    assert_eq!(line(&owl)["marketplace_fee_cents"], 500);
    assert_eq!(line(&owl)["seller_net_cents"], 4498);
    assert_eq!(line(&owl_stl)["marketplace_fee_cents"], 51);
    assert_eq!(line(&owl_stl)["seller_net_cents"], 454);
    let cart = expect_json(
        app.get("/api/v1/cart", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        cart["lines"].as_array().unwrap().len(),
        0,
        "the cart was emptied"
    );

    let checkout = expect_json(
        app.checkout(&order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(checkout["status"], "pending");
    let url = checkout["checkout_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.sim), "{url} is the simulator's page");
    // Asking again while the session is open gives the same page, without a new session.
    let again = expect_json(
        app.checkout(&order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["checkout_url"], url.as_str());
    let sessions = app.stripe_requests("POST", "/v1/checkout/sessions").await;
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert_eq!(session["idempotency_key"], format!("checkout:{order_id}:1"));
    assert_eq!(
        param(session, "payment_intent_data[transfer_group]"),
        Some(order_id.as_str())
    );
    assert_eq!(
        param(session, "metadata[order_id]"),
        Some(order_id.as_str())
    );
    assert_eq!(
        param(session, "shipping_address_collection[allowed_countries][0]"),
        Some("US")
    );

    // Download before payment: the order is the buyer's, but not paid.
    let early = app
        .get(
            &format!("/api/v1/orders/{order_id}/assets/{asset}"),
            Some(&buyer.token),
        )
        .await;
    expect_error(early, StatusCode::FORBIDDEN, "order_not_paid", None).await;

    let landing = app.pay(&url).await;
    assert!(
        landing.starts_with("http://127.0.0.1/checkout/complete?session_id=cs_"),
        "{landing}"
    );
    let paid = app
        .order_until(&order_id, Some(&buyer), None, "the order is paid", |o| {
            o["status"] == "paid"
        })
        .await;
    assert!(paid["paid_at"].is_string());
    assert_eq!(paid["shipping_address"]["city"], "Springfield");
    let session_id = landing.split("session_id=").nth(1).unwrap();
    let complete = expect_json(
        app.get(
            &format!("/api/v1/checkout/complete?session_id={session_id}"),
            Some(&buyer.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(complete["id"], order_id.as_str());

    // Both sellers are paid their net, by transfers tied to the charge and the order.
    app.payouts_paid(&order_id, 2).await;
    let transfers = transfers_of(&app, &order_id).await;
    assert_eq!(transfers.len(), 2);
    let intent_id = app
        .stripe_get(&format!("/v1/checkout/sessions/{session_id}"))
        .await["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned();
    let charge = app
        .stripe_get(&format!("/v1/payment_intents/{intent_id}"))
        .await["latest_charge"]
        .as_str()
        .unwrap()
        .to_owned();
    for transfer in &transfers {
        assert_eq!(transfer["source_transaction"], charge.as_str());
        assert_eq!(transfer["currency"], "usd");
        let expected = if transfer["destination"] == alice_account.as_str() {
            4498
        } else {
            454
        };
        assert_eq!(transfer["amount"], expected);
    }
    let transfer_calls = app.stripe_requests("POST", "/v1/transfers").await;
    for call in &transfer_calls {
        let key = call["idempotency_key"].as_str().unwrap();
        assert!(
            key == format!("payout:{order_id}:{}", alice.id)
                || key == format!("payout:{order_id}:{}", bob.id),
            "{key}"
        );
    }

    for (seller, net) in [(&alice, 4498), (&bob, 454)] {
        let money = app.seller_money(seller).await;
        assert_eq!(
            money["balance_cents"], 0,
            "{} is paid in full",
            seller.username
        );
        let entries = money["entries"]["items"].as_array().unwrap();
        let amount_of = |kind: &str| -> i64 {
            entries
                .iter()
                .filter(|e| e["kind"] == kind)
                .map(|e| e["amount_cents"].as_i64().unwrap())
                .sum()
        };
        assert_eq!(amount_of("order_paid"), net);
        assert_eq!(amount_of("transfer"), -net);
        let payouts = money["payouts"].as_array().unwrap();
        assert_eq!(payouts.len(), 1);
        assert_eq!(payouts[0]["status"], "paid");
        assert_eq!(payouts[0]["amount_cents"], net);
    }
    let transfers_only = expect_json(
        app.get("/api/v1/seller/payouts?kind=transfer", Some(&alice.token))
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&Value> = transfers_only["entries"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["kind"])
        .collect();
    assert_eq!(kinds, [&json!("transfer")]);
    let by_order = expect_json(
        app.get(
            &format!("/api/v1/seller/payouts?q={order_id}"),
            Some(&alice.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        by_order["entries"]["total"], 2,
        "order_paid and transfer of this order"
    );
    app.assert_ledger_balanced().await;

    // The buyer downloads the file; the order shows in purchases and the dashboard.
    let detail = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    let downloads = detail["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 1);
    let download = app
        .get(downloads[0]["url"].as_str().unwrap(), Some(&buyer.token))
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().to_vec(), stl_bytes());
    let purchases = expect_json(
        app.get("/api/v1/orders/purchases", Some(&buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(purchases["total"], 1);
    let dashboard = expect_json(
        app.get("/api/v1/me/dashboard", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dashboard["total_spent_cents"], 5503);
    assert_eq!(dashboard["paid_orders"], 1);

    // Sellers see the order with their own line only.
    let alice_view = expect_json(
        app.get(
            &format!("/api/v1/seller/orders/{order_id}"),
            Some(&alice.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let alice_items = alice_view["items"].as_array().unwrap();
    assert_eq!(alice_items.len(), 1);
    assert_eq!(alice_items[0]["product_id"], owl.as_str());
    // Each seller sees their own money only, and the address only when one of their lines ships.
    assert_eq!(alice_view["subtotal_cents"], 4998);
    assert_eq!(alice_view["total_cents"], 4998);
    assert_eq!(alice_view["refunded_cents"], 0);
    assert_eq!(alice_view["shipping_address"]["city"], "Springfield");
    assert!(alice_view["buyer_id"].is_null() && alice_view["payment_reference"].is_null());
    let bob_view = expect_json(
        app.get(
            &format!("/api/v1/seller/orders/{order_id}"),
            Some(&bob.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bob_view["items"].as_array().unwrap().len(), 1);
    assert_eq!(bob_view["total_cents"], 505, "only the file's money");
    assert!(
        bob_view["shipping_address"].is_null(),
        "a file's seller does not see where the print ships: {bob_view}"
    );
    let bob_payouts = bob_view["payouts"].as_array().unwrap();
    assert!(
        bob_payouts
            .iter()
            .all(|p| p["seller_id"] == bob.id.as_str())
    );
    let bob_list = expect_json(
        app.get("/api/v1/seller/orders", Some(&bob.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bob_list["items"][0]["total_cents"], 505);
    assert!(bob_list["items"][0]["shipping_address"].is_null());
    // The buyer sees what they paid and what happened to it, nothing of the sellers' money.
    let mine = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total_cents"], 5503);
    assert!(
        mine["payment_reference"]
            .as_str()
            .is_some_and(|p| p.starts_with("pi_")),
        "the payment intent: {mine}"
    );
    assert_eq!(mine["payouts"], json!([]), "{mine}");
    assert!(
        mine["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["kind"].as_str().unwrap().starts_with("transfer")),
        "{mine}"
    );
    assert!(mine["items"][0]["seller_net_cents"].is_null());
    let seller_dashboard = expect_json(
        app.get("/api/v1/seller/dashboard", Some(&alice.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seller_dashboard["last_30_days"]["gross_cents"], 4998);
    assert_eq!(seller_dashboard["last_30_days"]["net_cents"], 4498);
    assert_eq!(seller_dashboard["last_30_days"]["units"], 2);
    assert_eq!(seller_dashboard["balance_cents"], 0);
    assert_eq!(seller_dashboard["ready"], true);

    // Another user sees nothing of it, as buyer or as seller.
    let stranger = app.register("stranger", false).await;
    for path in [
        format!("/api/v1/orders/{order_id}"),
        format!("/api/v1/seller/orders/{order_id}"),
    ] {
        expect_not_found(app.get(&path, Some(&stranger.token)).await).await;
    }
}

#[tokio::test]
async fn a_guest_buys_a_file_with_a_token_and_gets_the_links_by_mail() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let seller = app.onboarded_seller("maker").await;
    let (product, asset) = file(
        &app,
        &shop,
        &seller,
        json!({"title": "Vase STL", "price": "3.00"}),
    )
    .await;

    let (status, cart, header) = app.add_to_cart(None, None, &product, 1).await;
    assert_eq!(status, StatusCode::OK);
    let cart_token = header.expect("an anonymous cart token comes back in X-Cart-Token");
    assert_eq!(cart["token"], cart_token.as_str());

    let missing = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("X-Cart-Token", &cart_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("guest_email"),
    )
    .await;
    let order = app
        .place_order(None, Some(&cart_token), Some("Guest@Example.COM"))
        .await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let token = order["access_token"].as_str().unwrap().to_owned();
    assert_eq!(order["guest_email"], "guest@example.com");
    assert_eq!(order["kind"], "digital");

    // Only the token opens the order.
    for path in [
        format!("/api/v1/orders/{order_id}"),
        format!("/api/v1/orders/{order_id}?t=wrong-token"),
    ] {
        expect_not_found(app.get(&path, None).await).await;
    }
    let stranger = app.register("nosy", false).await;
    expect_not_found(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&stranger.token))
            .await,
    )
    .await;
    let by_header = app
        .client
        .get(app.url(&format!("/api/v1/orders/{order_id}")))
        .header("X-Order-Token", &token)
        .send()
        .await
        .unwrap();
    // What carries or is reached by the token is neither cached nor referred.
    for (name, value) in [
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(by_header.headers()[name], value, "{name}");
    }
    assert_eq!(
        expect_json(by_header, StatusCode::OK).await["status"],
        "pending"
    );
    let as_staff = app.order_as_owner(&order_id).await;
    assert!(
        as_staff["access_token"].is_null(),
        "staff get no credential to act as the guest"
    );
    let as_guest = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}?t={token}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        as_guest["fee_percent"].is_null(),
        "the fee rate is the sellers' money"
    );
    let catalog = app.get("/api/v1/products", None).await;
    assert!(catalog.headers().get("referrer-policy").is_none());
    // Whoever holds the emptied cart cannot have the order (nor its token) by placing it again.
    let again = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("X-Cart-Token", &cart_token)
        .json(&json!({"guest_email": "someone.else@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["cache-control"], "no-store");
    let refused = expect_error(again, StatusCode::CONFLICT, "cart_empty", None).await;
    assert!(!refused.to_string().contains(&token));

    // No download before payment, whoever asks.
    let download_path = format!("/api/v1/orders/{order_id}/assets/{asset}?t={token}");
    expect_error(
        app.get(&download_path, None).await,
        StatusCode::FORBIDDEN,
        "order_not_paid",
        None,
    )
    .await;
    expect_not_found(
        app.get(&format!("/api/v1/orders/{order_id}/assets/{asset}"), None)
            .await,
    )
    .await;

    // Checkout needs the token too.
    expect_not_found(app.checkout(&order_id, None, None).await).await;
    let checkout = expect_json(
        app.checkout(&order_id, None, Some(&token)).await,
        StatusCode::OK,
    )
    .await;
    let landing = app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    assert!(
        landing.contains(&format!("t={token}")),
        "the guest lands with the token: {landing}"
    );
    let session = app.stripe_requests("POST", "/v1/checkout/sessions").await;
    assert_eq!(
        param(&session[0], "customer_email"),
        Some("guest@example.com")
    );
    assert_eq!(
        param(
            &session[0],
            "shipping_address_collection[allowed_countries][0]"
        ),
        None,
        "a digital order collects no shipping address"
    );
    app.order_until(
        &order_id,
        None,
        Some(&token),
        "the guest order is paid",
        |o| o["status"] == "paid",
    )
    .await;

    let download = app.get(&download_path, None).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("owl.stl")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), stl_bytes());

    // The receipt with the tokenised links waits in the outbox.
    let mail = eventually("the guest mail is queued", || async {
        app.outbox()
            .await
            .into_iter()
            .find(|m| m["order_id"] == order_id.as_str())
    })
    .await;
    assert_eq!(mail["to"], "guest@example.com");
    let body = mail["body"].as_str().unwrap();
    assert!(
        // The order link leads to the storefront's page; the download link to the file.
        body.contains(&format!("127.0.0.1/orders/{order_id}?t={token}")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "/api/v1/orders/{order_id}/assets/{asset}?t={token}"
        )),
        "{body}"
    );
    expect_error(
        app.get("/api/v1/admin/outbox", Some(&seller.token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    app.payouts_paid(&order_id, 1).await;
    app.assert_ledger_balanced().await;

    // Paid and paid out, the guest's view still shows only what the guest paid and what became
    // of it: no payouts, no transfer ids, no seller fees or nets.
    let as_guest = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}?t={token}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(as_guest["status"], "paid");
    assert_eq!(as_guest["payouts"], json!([]), "{as_guest}");
    assert!(as_guest["fee_percent"].is_null());
    assert!(
        as_guest["items"][0]["marketplace_fee_cents"].is_null()
            && as_guest["items"][0]["seller_net_cents"].is_null(),
        "{as_guest}"
    );
    let text = as_guest.to_string();
    assert!(
        !text.contains("tr_"),
        "no transfer id reaches the guest: {text}"
    );
    assert!(
        app.order_as_owner(&order_id)
            .await
            .to_string()
            .contains("tr_"),
        "while staff do see the transfer"
    );
}

#[tokio::test]
async fn a_free_order_is_paid_without_stripe() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let seller = app.onboarded_seller("giver").await;
    let (product, asset) = file(
        &app,
        &shop,
        &seller,
        json!({"title": "Free keychain", "price": "0", "is_free": true}),
    )
    .await;
    let buyer = app.register("taker", false).await;
    app.add_to_cart(Some(&buyer), None, &product, 1).await;
    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(order["total_cents"], 0);
    let checkout = expect_json(
        app.checkout(order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(checkout["status"], "paid");
    assert!(checkout["checkout_url"].is_null());
    let detail = expect_json(
        app.get(&format!("/api/v1/orders/{order_id}"), Some(&buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["status"], "paid");
    assert_eq!(detail["payment_reference"], "FREE");
    assert!(
        app.stripe_requests("POST", "/v1/checkout/sessions")
            .await
            .is_empty()
    );
    let download = app
        .get(
            &format!("/api/v1/orders/{order_id}/assets/{asset}"),
            Some(&buyer.token),
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    // Paying again is refused: the order is no longer pending.
    expect_error(
        app.checkout(order_id, Some(&buyer), None).await,
        StatusCode::CONFLICT,
        "order_not_payable",
        None,
    )
    .await;
    app.assert_ledger_balanced().await;
    assert!(
        app.stripe_requests("POST", "/v1/transfers")
            .await
            .is_empty(),
        "nothing to transfer"
    );
}

#[tokio::test]
async fn a_seller_who_is_not_ready_blocks_checkout_and_is_paid_after_onboarding() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let seller = app.register("latecomer", true).await;
    let account = app.complete_onboarding(&seller).await;
    let product = model(&app, &shop, &seller, "Planter", "12.00").await;

    // Buyer one opens a checkout while the seller is ready.
    let first = app.register("first", false).await;
    app.add_to_cart(Some(&first), None, &product, 1).await;
    let first_order = app.place_order(Some(&first), None, None).await;
    let first_id = first_order["id"].as_str().unwrap().to_owned();
    let url = expect_json(
        app.checkout(&first_id, Some(&first), None).await,
        StatusCode::OK,
    )
    .await["checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();

    // Buyer two has the product in the cart and an order placed.
    let second = app.register("second", false).await;
    app.add_to_cart(Some(&second), None, &product, 1).await;
    let second_order = app.place_order(Some(&second), None, None).await;
    let second_id = second_order["id"].as_str().unwrap().to_owned();

    // Stripe disables the seller's payouts (account.updated on the Connect endpoint).
    app.sim_post(
        &format!("/_sim/accounts/{account}"),
        json!({"payouts_enabled": false}),
    )
    .await;
    let token = seller.token.clone();
    eventually("the seller is no longer ready", || async {
        let status = expect_json(
            app.get("/api/v1/seller/connect", Some(&token)).await,
            StatusCode::OK,
        )
        .await;
        (status["ready"] == false).then_some(())
    })
    .await;
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{product}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["can_buy"], false);
    let refused = app.checkout(&second_id, Some(&second), None).await;
    let body = expect_error(refused, StatusCode::CONFLICT, "sellers_not_ready", None).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("latecomer")
    );
    let third = app.register("third", false).await;
    let (status, body, _) = app.add_to_cart(Some(&third), None, &product, 1).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "seller_not_ready");

    // Buyer one pays the session opened earlier: the order is paid, the payout skipped.
    app.pay(&url).await;
    app.order_until(
        &first_id,
        Some(&first),
        None,
        "the first order is paid",
        |o| o["status"] == "paid",
    )
    .await;
    let skipped = eventually("the payout is skipped", || async {
        let money = app.seller_money(&seller).await;
        let payouts = money["payouts"].as_array().unwrap().clone();
        (payouts.len() == 1 && payouts[0]["status"] == "skipped").then_some(money)
    })
    .await;
    assert_eq!(skipped["payouts"][0]["skip_reason"], "seller_not_ready");
    assert_eq!(
        skipped["balance_cents"], 1080,
        "owed: 12.00 less the 10 % fee"
    );
    assert!(transfers_of(&app, &first_id).await.is_empty());

    // The seller onboards again through the simulator; account.updated makes them ready and the
    // skipped payout is paid.
    let again = app.complete_onboarding(&seller).await;
    assert_eq!(again, account, "the same Express account is continued");
    app.payouts_paid(&first_id, 1).await;
    let transfers = transfers_of(&app, &first_id).await;
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0]["amount"], 1080);
    assert_eq!(transfers[0]["destination"], account.as_str());
    assert_eq!(app.seller_money(&seller).await["balance_cents"], 0);
    // Checkout works again for buyer two.
    let checkout = expect_json(
        app.checkout(&second_id, Some(&second), None).await,
        StatusCode::OK,
    )
    .await;
    assert!(checkout["checkout_url"].is_string());
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_web_client_sends_buyers_back_to_its_own_pages_of_an_allowed_origin_only() {
    let (app, _) = spawn_app_with(
        |config| config.allowed_return_origins = vec!["https://shop.example".to_owned()],
        std::future::pending(),
    )
    .await;
    let shop = shop(&app).await;
    let seller = app.onboarded_seller("maker").await;
    let vase = model(&app, &shop, &seller, "Vase", "12.00").await;
    let buyer = app.register("buyer", false).await;
    app.add_to_cart(Some(&buyer), None, &vase, 1).await;
    let order = app.place_order(Some(&buyer), None, None).await;
    let path = format!("/api/v1/orders/{}/checkout", order["id"].as_str().unwrap());
    for (body, field) in [
        (
            json!({"success_url": "https://evil.example/thanks"}),
            "success_url",
        ),
        (json!({"cancel_url": "/relative"}), "cancel_url"),
        (
            json!({"success_url": "https://shop.example@evil.example/"}),
            "success_url",
        ),
    ] {
        let refused = app.post(&path, Some(&buyer.token), body).await;
        expect_error(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    assert!(
        app.stripe_requests("POST", "/v1/checkout/sessions")
            .await
            .is_empty(),
        "nothing reached Stripe"
    );
    let accepted = app
        .post(
            &path,
            Some(&buyer.token),
            json!({"success_url": "https://shop.example/thanks#top",
                   "cancel_url": "https://shop.example/cart"}),
        )
        .await;
    expect_json(accepted, StatusCode::OK).await;
    let sessions = app.stripe_requests("POST", "/v1/checkout/sessions").await;
    assert_eq!(
        param(&sessions[0], "success_url"),
        Some("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}#top")
    );
    assert_eq!(
        param(&sessions[0], "cancel_url"),
        Some("https://shop.example/cart")
    );
}
