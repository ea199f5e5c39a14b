//! Refund requests end to end (HTTP, PostgreSQL, the simulator): a buyer asks for one line of a
//! two-seller order back after both sellers were paid, the seller approves and triggers it, the
//! refund's webhooks arrive reversed and again, and the money is booked once on that line only;
//! guests ask with their token and e-mail; illegal moves change nothing; a refund Stripe refuses
//! fails and is sent again.

use adapter_postgres::testing::query_i64;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, User, eventually, expect_error, expect_json, expect_not_found, spawn_app,
};
use crate::webhooks::{event, signed_outcome};

/// A paid order of a 10.00 vase from `vases` and a 20.00 lamp from `lamps`, bought by `customer`.
struct TwoSellers {
    vases: User,
    lamps: User,
    buyer: User,
    order_id: String,
    vase_line: String,
    lamp_line: String,
    category: String,
}

async fn product(app: &TestApp, seller: &User, category: &str, title: &str, price: &str) -> String {
    app.listing(
        seller,
        json!({"kind": "MODEL", "title": title, "category_id": category, "price": price}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The buyer puts `products` in their cart, orders and pays; returns the order.
async fn buy(app: &TestApp, buyer: &User, products: &[&str]) -> Value {
    for product in products {
        let (status, _, _) = app.add_to_cart(Some(buyer), None, product, 1).await;
        assert_eq!(status, StatusCode::OK);
    }
    let order = app.place_order(Some(buyer), None, None).await;
    let id = order["id"].as_str().unwrap();
    let checkout = expect_json(app.checkout(id, Some(buyer), None).await, StatusCode::OK).await;
    app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    order
}

fn line_of(order: &Value, product: &str) -> String {
    order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["product_id"] == product)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn two_sellers_paid_out(app: &TestApp) -> TwoSellers {
    let category = app.category("MODEL", "Homeware", None).await;
    let vases = app.onboarded_seller("vases").await;
    let lamps = app.onboarded_seller("lamps").await;
    let vase = product(app, &vases, &category, "Vase", "10.00").await;
    let lamp = product(app, &lamps, &category, "Lamp", "20.00").await;
    let buyer = app.register("customer", false).await;
    let order = buy(app, &buyer, &[&vase, &lamp]).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    app.payouts_paid(&order_id, 2).await;
    TwoSellers {
        vase_line: line_of(&order, &vase),
        lamp_line: line_of(&order, &lamp),
        vases,
        lamps,
        buyer,
        order_id,
        category,
    }
}

fn request_path(order: &str, line: &str) -> String {
    format!("/api/v1/orders/{order}/items/{line}/refund-request")
}

async fn decide(app: &TestApp, who: &User, id: &str, action: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/refund-requests/{id}/{action}"),
        Some(&who.token),
        json!({"note": format!("{action} by {}", who.username)}),
    )
    .await
}

/// Reads a request (as `who`) until its status is `status`.
async fn request_until(app: &TestApp, who: &User, id: &str, status: &str) -> Value {
    let path = format!("/api/v1/refund-requests/{id}");
    eventually(&format!("the request is {status}"), || async {
        let body = expect_json(app.get(&path, Some(&who.token)).await, StatusCode::OK).await;
        (body["status"] == status).then_some(body)
    })
    .await
}

/// How many Stripe refunds are booked on the order.
async fn refunds_booked(app: &TestApp, order: &str) -> i64 {
    query_i64(
        &app.db,
        &format!("select count(*) from journal_entries where order_id = '{order}' and key like 'refund:%'"),
    )
    .await
}

async fn balance(app: &TestApp, seller: &User) -> i64 {
    app.seller_money(seller).await["balance_cents"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_line_refunded_after_both_payouts_is_booked_once_on_its_seller_only() {
    let app = spawn_app().await;
    let t = two_sellers_paid_out(&app).await;
    let made = expect_json(
        app.post(
            &request_path(&t.order_id, &t.vase_line),
            Some(&t.buyer.token),
            json!({"reason": "damaged", "notes": "It arrived in pieces."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["status"], "requested");
    assert_eq!(
        made["amount_cents"], 1000,
        "the vase's gross; no tax or shipping"
    );
    assert_eq!(made["order_id"], t.order_id.as_str());
    assert_eq!(made["order_item_id"], t.vase_line.as_str());
    let id = made["id"].as_str().unwrap().to_owned();

    let queue = |who: &User| {
        let token = who.token.clone();
        let app = &app;
        async move {
            expect_json(
                app.get(
                    "/api/v1/seller/refund-requests?status=requested",
                    Some(&token),
                )
                .await,
                StatusCode::OK,
            )
            .await["total"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!((queue(&t.vases).await, queue(&t.lamps).await), (1, 0));
    expect_not_found(decide(&app, &t.lamps, &id, "approve").await).await;
    expect_error(
        decide(&app, &t.buyer, &id, "approve").await,
        StatusCode::FORBIDDEN,
        "not_your_decision",
        None,
    )
    .await;
    let approved = expect_json(decide(&app, &t.vases, &id, "approve").await, StatusCode::OK).await;
    assert_eq!(approved["status"], "approved");

    // The refund's webhooks are held, then arrive in reverse order, then again as new events.
    app.sim_post("/_sim/webhooks/hold", json!({})).await;
    let sent = expect_json(decide(&app, &t.vases, &id, "trigger").await, StatusCode::OK).await;
    assert_eq!(sent["refund_in_flight"], true);
    let refunded = request_until(&app, &t.buyer, &id, "refunded").await;
    let refund_id = refunded["stripe_refund_id"].as_str().unwrap().to_owned();
    let asked = app.stripe_requests("POST", "/v1/refunds").await;
    assert_eq!(asked.len(), 1, "one refund: {asked:?}");
    let released = app
        .sim_post("/_sim/webhooks/release", json!({"reverse": true}))
        .await;
    assert_eq!(
        released["released"], 2,
        "charge.refunded, then refund.created"
    );
    let refund = app.stripe_get(&format!("/v1/refunds/{refund_id}")).await;
    let charge = app
        .stripe_get(&format!(
            "/v1/charges/{}",
            refund["charge"].as_str().unwrap()
        ))
        .await;
    assert_eq!(refund["metadata"]["order_item_id"], t.vase_line.as_str());
    assert_eq!(refund["metadata"]["refund_request_id"], id.as_str());
    // Stripe sends both again as new events: acknowledged, booked no second time.
    let again = event("evt_again_charge", "charge.refunded", &charge);
    assert_ne!(signed_outcome(&app, &again).await, "failed");
    let again = event("evt_again_refund", "refund.updated", &refund);
    assert_eq!(signed_outcome(&app, &again).await, "ignored");
    let order = app
        .order_until(
            &t.order_id,
            Some(&t.buyer),
            None,
            "the vase is refunded",
            |o| o["refunded_cents"] == 1000,
        )
        .await;
    assert_eq!(order["status"], "partially_refunded");
    let booked = refunds_booked(&app, &t.order_id).await;
    assert_eq!(booked, 1, "booked once");
    assert_eq!(
        balance(&app, &t.vases).await,
        -900,
        "the vase's seller owes its net"
    );
    assert_eq!(
        balance(&app, &t.lamps).await,
        0,
        "the lamp's seller is untouched"
    );
    assert_eq!(
        app.fee_revenue_of(&t.order_id).await.abs(),
        200,
        "the platform keeps no fee on the refunded vase"
    );
    let history: Vec<String> = request_until(&app, &t.vases, &id, "refunded").await["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, ["requested", "approved", "approved", "refunded"]);

    // The vase's seller's next sale (15.00, net 13.50) is paid net of the 9.00 debt.
    let urn = product(&app, &t.vases, &t.category, "Urn", "15.00").await;
    let next = buy(&app, &t.buyer, &[&urn]).await;
    let next_id = next["id"].as_str().unwrap();
    app.payouts_paid(next_id, 1).await;
    let paid: Vec<i64> = app
        .sim_transfers()
        .await
        .iter()
        .filter(|tr| tr["transfer_group"] == next_id)
        .map(|tr| tr["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(paid, [450]);
    assert_eq!(balance(&app, &t.vases).await, 0, "the debt is repaid");
    let outbox = app.outbox().await;
    // Refund-request mails only (sellers also hear of their sales).
    let to = |address: &str| {
        outbox
            .iter()
            .filter(|m| m["to"] == address)
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("refund")
            })
            .count()
    };
    assert_eq!(
        to("vases@example.com"),
        1,
        "the seller hears of the request"
    );
    assert_eq!(
        to("customer@example.com"),
        2,
        "the buyer: approved, refunded"
    );
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_guest_asks_with_the_order_token_and_the_checkout_email() {
    let app = spawn_app().await;
    let category = app.category("MODEL", "Homeware", None).await;
    let seller = app.onboarded_seller("vases").await;
    let vase = product(&app, &seller, &category, "Vase", "12.00").await;
    let (_, _, cart) = app.add_to_cart(None, None, &vase, 1).await;
    let order = app
        .place_order(None, cart.as_deref(), Some("guest@example.com"))
        .await;
    let order_id = order["id"].as_str().unwrap();
    let token = order["access_token"].as_str().unwrap();
    let checkout = expect_json(
        app.checkout(order_id, None, Some(token)).await,
        StatusCode::OK,
    )
    .await;
    app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    app.order_until(order_id, None, Some(token), "the order is paid", |o| {
        o["status"] == "paid"
    })
    .await;
    let line = line_of(&order, &vase);
    let path = request_path(order_id, &line);
    let ask = |query: String, email: &'static str| {
        let path = format!("{path}{query}");
        let app = &app;
        async move {
            app.post(&path, None, json!({"reason": "late", "email": email}))
                .await
        }
    };
    expect_error(
        ask(format!("?t={token}"), "someone@example.com").await,
        StatusCode::FORBIDDEN,
        "email_mismatch",
        None,
    )
    .await;
    expect_not_found(ask("?t=guessed".into(), "guest@example.com").await).await;
    expect_not_found(ask(String::new(), "guest@example.com").await).await;
    let made = expect_json(
        ask(format!("?t={token}"), "Guest@Example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (made["status"].as_str(), made["amount_cents"].as_i64()),
        (Some("requested"), Some(1200))
    );
    let id = made["id"].as_str().unwrap();
    let seen = expect_json(
        app.get(&format!("/api/v1/refund-requests/{id}?t={token}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["history"][0]["status"], "requested");
    expect_not_found(
        app.get(&format!("/api/v1/refund-requests/{id}"), None)
            .await,
    )
    .await;
}

#[tokio::test]
async fn illegal_moves_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let t = two_sellers_paid_out(&app).await;
    let path = request_path(&t.order_id, &t.vase_line);
    let made = expect_json(
        app.post(&path, Some(&t.buyer.token), json!({"reason": "wrong_item"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    // The line's seller hears of it in the app; the other seller does not.
    let inbox_kinds = |who: &User| {
        let app = &app;
        let token = who.token.clone();
        async move {
            expect_json(
                app.get("/api/v1/notifications", Some(&token)).await,
                StatusCode::OK,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["kind"].as_str().unwrap().to_owned())
                .filter(|kind| kind == "refund_request")
                .count()
        }
    };
    assert_eq!(inbox_kinds(&t.vases).await, 1);
    assert_eq!(inbox_kinds(&t.lamps).await, 0);
    assert_eq!(inbox_kinds(&t.buyer).await, 0);
    expect_error(
        app.post(&path, Some(&t.buyer.token), json!({"reason": "wrong_item"}))
            .await,
        StatusCode::CONFLICT,
        "already_requested",
        None,
    )
    .await;
    expect_error(
        app.post(
            &path,
            Some(&t.buyer.token),
            json!({"reason": "broken", "notes": "x".repeat(2001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("reason"),
    )
    .await;
    expect_error(
        app.post(
            &request_path(&t.order_id, &t.lamp_line),
            Some(&t.buyer.token),
            json!({"reason": "damaged", "notes": "x".repeat(2001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("notes"),
    )
    .await;
    expect_error(
        decide(&app, &t.vases, &id, "trigger").await,
        StatusCode::CONFLICT,
        "illegal_transition",
        None,
    )
    .await;
    expect_not_found(decide(&app, &t.lamps, &id, "decline").await).await;
    expect_json(decide(&app, &t.vases, &id, "decline").await, StatusCode::OK).await;
    for action in ["approve", "decline", "trigger"] {
        expect_error(
            decide(&app, &t.vases, &id, action).await,
            StatusCode::CONFLICT,
            "illegal_transition",
            None,
        )
        .await;
    }
    expect_error(
        app.post(
            &format!("/api/v1/refund-requests/{id}/cancel"),
            Some(&t.buyer.token),
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "illegal_transition",
        None,
    )
    .await;
    let declined = request_until(&app, &t.buyer, &id, "declined").await;
    assert_eq!(
        inbox_kinds(&t.buyer).await,
        1,
        "the buyer hears of the decision"
    );
    assert_eq!(inbox_kinds(&t.lamps).await, 0);
    assert_eq!(
        declined["history"].as_array().unwrap().len(),
        2,
        "requested, declined"
    );
    assert!(
        app.stripe_requests("POST", "/v1/refunds").await.is_empty(),
        "nothing was sent"
    );

    // A declined request frees the line; approving twice is refused.
    let again = expect_json(
        app.post(&path, Some(&t.buyer.token), json!({"reason": "damaged"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let again_id = again["id"].as_str().unwrap().to_owned();
    expect_json(
        decide(&app, &app.owner, &again_id, "approve").await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        decide(&app, &t.vases, &again_id, "approve").await,
        StatusCode::CONFLICT,
        "illegal_transition",
        None,
    )
    .await;
    let audit = expect_json(
        app.get("/api/v1/admin/audit-log", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "refund_request.approve"),
        "the owner's override is audited: {audit}"
    );

    // Digital lines and free orders are refused with their codes.
    let files = app.category("FILE", "Scans", None).await;
    let scan = app
        .listing(
            &t.lamps,
            json!({"kind": "FILE", "title": "Scan", "category_id": files, "price": "4.00"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let digital = buy(&app, &t.buyer, &[&scan]).await;
    let digital_id = digital["id"].as_str().unwrap().to_owned();
    app.order_until(&digital_id, Some(&t.buyer), None, "the scan is paid", |o| {
        o["status"] == "paid"
    })
    .await;
    expect_error(
        app.post(
            &request_path(&digital_id, &line_of(&digital, &scan)),
            Some(&t.buyer.token),
            json!({"reason": "other"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "digital_line",
        None,
    )
    .await;
    let gift = app
        .listing(
            &t.lamps,
            json!({"kind": "MODEL", "title": "Sample", "category_id": t.category, "is_free": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = app.add_to_cart(Some(&t.buyer), None, &gift, 1).await;
    assert_eq!(status, StatusCode::OK);
    let free = app.place_order(Some(&t.buyer), None, None).await;
    let free_id = free["id"].as_str().unwrap().to_owned();
    let paid = expect_json(
        app.checkout(&free_id, Some(&t.buyer), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    expect_error(
        app.post(
            &request_path(&free_id, &line_of(&free, &gift)),
            Some(&t.buyer.token),
            json!({"reason": "other"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "free_order",
        None,
    )
    .await;
    let mine = expect_json(
        app.get("/api/v1/refund-requests", Some(&t.buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        mine["total"], 2,
        "the declined one and the approved one, nothing else"
    );
}

#[tokio::test]
async fn a_refund_stripe_refuses_fails_and_is_sent_again_once() {
    let app = spawn_app().await;
    let t = two_sellers_paid_out(&app).await;
    let made = expect_json(
        app.post(
            &request_path(&t.order_id, &t.lamp_line),
            Some(&t.buyer.token),
            json!({"reason": "not_as_described"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    expect_json(decide(&app, &t.lamps, &id, "approve").await, StatusCode::OK).await;
    app.sim_post(
        "/_sim/faults",
        json!({"method": "POST", "path_prefix": "/v1/refunds", "kind": "400",
               "code": "charge_disputed", "count": 1}),
    )
    .await;
    expect_json(decide(&app, &t.lamps, &id, "trigger").await, StatusCode::OK).await;
    let failed = request_until(&app, &t.buyer, &id, "failed").await;
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .contains("charge_disputed"),
        "Stripe's reason is kept: {failed}"
    );
    assert_eq!(
        app.order_until(
            &t.order_id,
            Some(&t.buyer),
            None,
            "nothing is refunded",
            |_| true
        )
        .await["refunded_cents"],
        0
    );
    expect_json(
        decide(&app, &app.owner, &id, "trigger").await,
        StatusCode::OK,
    )
    .await;
    let refunded = request_until(&app, &t.buyer, &id, "refunded").await;
    assert_eq!(refunded["refund_attempts"], 2);
    let keys: Vec<String> = app
        .stripe_requests("POST", "/v1/refunds")
        .await
        .iter()
        .map(|r| r["idempotency_key"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        keys.contains(&format!("refundreq-{id}-2")),
        "a new key for the new attempt: {keys:?}"
    );
    app.order_until(
        &t.order_id,
        Some(&t.buyer),
        None,
        "the lamp is refunded once",
        |o| o["refunded_cents"] == 2000,
    )
    .await;
    app.jobs_settled().await;
    let booked = refunds_booked(&app, &t.order_id).await;
    assert_eq!(
        booked, 1,
        "the refused attempt booked nothing, the retry once"
    );
    let lamps_queue = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/refund-requests?status=refunded&seller_id={}",
                t.lamps.id
            ),
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lamps_queue["total"], 1);
    assert_eq!(lamps_queue["items"][0]["id"], id.as_str());
    assert_eq!(balance(&app, &t.lamps).await, -1800);
    assert_eq!(balance(&app, &t.vases).await, 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn unpaid_orders_and_lines_already_refunded_are_refused_with_their_reason() {
    let app = spawn_app().await;
    let category = app.category("MODEL", "Homeware", None).await;
    let vases = app.onboarded_seller("vases").await;
    let vase = product(&app, &vases, &category, "Vase", "10.00").await;
    let lamp = product(&app, &vases, &category, "Lamp", "20.00").await;
    let buyer = app.register("customer", false).await;

    // Placed, never paid.
    let (status, _, _) = app.add_to_cart(Some(&buyer), None, &vase, 1).await;
    assert_eq!(status, StatusCode::OK);
    let unpaid = app.place_order(Some(&buyer), None, None).await;
    let unpaid_id = unpaid["id"].as_str().unwrap();
    expect_error(
        app.post(
            &request_path(unpaid_id, &line_of(&unpaid, &vase)),
            Some(&buyer.token),
            json!({"reason": "late"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "order_not_paid",
        None,
    )
    .await;

    // Paid; then the vase's line is refunded in full at Stripe (a refund naming it).
    for product in [&vase, &lamp] {
        let (status, _, _) = app.add_to_cart(Some(&buyer), None, product, 1).await;
        assert_eq!(status, StatusCode::OK);
    }
    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let checkout = expect_json(
        app.checkout(&order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await;
    let landing = app.pay(checkout["checkout_url"].as_str().unwrap()).await;
    let intent = app.payment_intent_of(&landing).await;
    app.order_until(&order_id, Some(&buyer), None, "paid", |o| {
        o["status"] == "paid"
    })
    .await;
    let vase_line = line_of(&order, &vase);
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 1000,
               "metadata": {"order_id": order_id, "order_item_id": vase_line}}),
    )
    .await;
    app.order_until(&order_id, Some(&buyer), None, "the vase is refunded", |o| {
        o["refunded_cents"] == 1000
    })
    .await;
    expect_error(
        app.post(
            &request_path(&order_id, &vase_line),
            Some(&buyer.token),
            json!({"reason": "damaged"}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_refunded",
        None,
    )
    .await;
    let lamp_request = expect_json(
        app.post(
            &request_path(&order_id, &line_of(&order, &lamp)),
            Some(&buyer.token),
            json!({"reason": "damaged"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(lamp_request["amount_cents"], 2000);
    let mine = expect_json(
        app.get("/api/v1/refund-requests", Some(&buyer.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total"], 1, "the refused requests left nothing behind");
}
