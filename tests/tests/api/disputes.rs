//! The money core under disputes and refunds that go back on themselves, end to end with the
//! simulator: a dispute holds the order's payouts from the moment it opens; a win releases them and
//! a loss takes only what was not refunded; a refund that fails puts the order and the seller's
//! claim back; a refund naming one line never reaches another seller.

use adapter_postgres::testing::query_i64;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{OpenCheckout, TestApp, User, eventually, expect_json, spawn_app};

/// The payment intent behind a paid checkout (from the landing URL's session).
async fn intent_of(app: &TestApp, landing: &str) -> String {
    let session = landing.split("session_id=").nth(1).unwrap().to_owned();
    app.stripe_get(&format!("/v1/checkout/sessions/{session}"))
        .await["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A paid order of 2 × 8.00 from one seller (net 14.40), with its payment intent; with
/// `refused`, its first transfer is refused (the payout is left `failed`).
async fn paid(app: &TestApp, refused: bool) -> (OpenCheckout, String) {
    if refused {
        refuse_next_transfer(app).await;
    }
    let open = app.open_checkout("8.00", 2).await;
    let landing = app.pay(&open.url).await;
    let intent = intent_of(app, &landing).await;
    if refused {
        payout_status(app, &open.seller, "failed").await;
    }
    (open, intent)
}

/// Refuses the next transfer (a permanent error): the payout is left `failed`, its job dead.
async fn refuse_next_transfer(app: &TestApp) {
    app.sim_post(
        "/_sim/faults",
        json!({"method": "POST", "path_prefix": "/v1/transfers", "kind": "400", "count": 1,
               "code": "account_invalid"}),
    )
    .await;
}

async fn payout_status(app: &TestApp, seller: &User, wanted: &str) -> Value {
    eventually(&format!("the payout is {wanted}"), || async {
        let money = app.seller_money(seller).await;
        let payout = money["payouts"][0].clone();
        (payout["status"] == wanted).then_some(payout)
    })
    .await
}

async fn order_of(
    app: &TestApp,
    open: &OpenCheckout,
    what: &str,
    check: fn(&Value) -> bool,
) -> Value {
    app.order_until(&open.order_id, Some(&open.buyer), None, what, check)
        .await
}

fn sum_on(account: &str, order: &str) -> String {
    format!(
        "select coalesce(sum(p.amount_cents), 0)::bigint from journal_postings p
         join journal_entries e on e.id = p.entry_id
         where p.account = '{account}' and e.order_id = '{order}'"
    )
}

#[tokio::test]
async fn a_dispute_opened_before_the_payout_holds_it_and_a_win_releases_it() {
    let app = spawn_app().await;
    let (open, intent) = paid(&app, true).await;

    let dispute = app
        .sim_post(
            "/_sim/disputes",
            json!({"payment_intent": intent, "status": "open", "fee": 1500}),
        )
        .await;
    let dispute_id = dispute["id"].as_str().unwrap().to_owned();
    // Booked when it opens: the amount is withdrawn and the payout, decided again, is held.
    let held = payout_status(&app, &open.seller, "skipped").await;
    assert_eq!(held["skip_reason"], "on_hold");
    assert_eq!(
        query_i64(&app.db, &sum_on("disputed_funds", &open.order_id)).await,
        1600
    );
    assert_eq!(
        query_i64(&app.db, &sum_on("dispute_costs", &open.order_id)).await,
        1500
    );
    app.assert_ledger_balanced().await;
    assert!(app.sim_transfers().await.is_empty());

    // Won (the fee kept by Stripe): the money is back and the seller is paid, once.
    app.sim_post(
        &format!("/_sim/disputes/{dispute_id}/close"),
        json!({"status": "won"}),
    )
    .await;
    app.payouts_paid(&open.order_id, 1).await;
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(transfers.as_array().unwrap().len(), 1);
    assert_eq!(transfers[0]["amount"], 1440);
    assert_eq!(
        query_i64(&app.db, &sum_on("disputed_funds", &open.order_id)).await,
        0
    );
    assert_eq!(
        query_i64(&app.db, &sum_on("dispute_costs", &open.order_id)).await,
        1500,
        "the fee Stripe kept is the platform's cost"
    );
    let order = order_of(&app, &open, "the order is paid", |o| o["status"] == "paid").await;
    assert_eq!(order["refunded_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_dispute_lost_after_a_partial_refund_takes_only_the_rest() {
    let app = spawn_app().await;
    let (open, intent) = paid(&app, false).await;
    app.payouts_paid(&open.order_id, 1).await;
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 600}),
    )
    .await;
    order_of(&app, &open, "600 refunded", |o| o["refunded_cents"] == 600).await;
    // The buyer disputes the charge: Stripe can only take what was not refunded (10.00).
    let lost = app
        .sim_post(
            "/_sim/disputes",
            json!({"payment_intent": intent, "status": "lost", "fee": 1500}),
        )
        .await;
    assert_eq!(lost["amount"], 1000);
    let order = order_of(&app, &open, "all of it returned", |o| {
        o["refunded_cents"] == 1600
    })
    .await;
    assert_eq!(order["status"], "refunded");
    assert_eq!(
        query_i64(&app.db, &sum_on("losses", &open.order_id)).await,
        0,
        "nothing beyond what the lines held"
    );
    assert_eq!(
        query_i64(&app.db, &sum_on("disputed_funds", &open.order_id)).await,
        0
    );
    eventually("the seller owes the net of everything returned", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -1440).then_some(())
    })
    .await;
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_refund_that_fails_after_the_order_showed_refunded_puts_it_back_and_pays_the_seller() {
    let app = spawn_app().await;
    let (open, intent) = paid(&app, true).await;

    let refund = app
        .sim_post("/_sim/refunds", json!({"payment_intent": intent}))
        .await;
    let refunded = order_of(&app, &open, "refunded", |o| o["status"] == "refunded").await;
    assert_eq!(refunded["refunded_cents"], 1600);
    let skipped = payout_status(&app, &open.seller, "skipped").await;
    assert_eq!(skipped["skip_reason"], "nothing_owed");

    let refund_id = refund["id"].as_str().unwrap();
    app.sim_post(&format!("/_sim/refunds/{refund_id}/fail"), json!({}))
        .await;
    let back = order_of(&app, &open, "paid again", |o| o["status"] == "paid").await;
    assert_eq!(back["refunded_cents"], 0);
    // What the order owes the seller is back: the requeued payout pays it, once.
    app.payouts_paid(&open.order_id, 1).await;
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(transfers.as_array().unwrap().len(), 1);
    assert_eq!(transfers[0]["amount"], 1440);
    assert_eq!(app.seller_money(&open.seller).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_refund_naming_one_line_never_reaches_the_other_seller() {
    let app = spawn_app().await;
    let models = app.category("MODEL", "Workshop", None).await;
    let mut sellers = Vec::new();
    let mut products = Vec::new();
    for name in ["alice", "bob"] {
        let seller = app.onboarded_seller(name).await;
        let product = app
            .listing(
                &seller,
                json!({"kind": "MODEL", "title": format!("{name}'s piece"), "category_id": models, "price": "10.00"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        sellers.push(seller);
        products.push(product);
    }
    let buyer = app.register("customer", false).await;
    for product in &products {
        let (status, _, _) = app.add_to_cart(Some(&buyer), None, product, 1).await;
        assert_eq!(status, StatusCode::OK);
    }
    let order = app.place_order(Some(&buyer), None, None).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let alice_line = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["product_id"] == products[0].as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = expect_json(
        app.checkout(&order_id, Some(&buyer), None).await,
        StatusCode::OK,
    )
    .await["checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let landing = app.pay(&url).await;
    let intent = intent_of(&app, &landing).await;
    app.payouts_paid(&order_id, 2).await;

    // 15.00 naming alice's 10.00 line.
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 1500,
               "metadata": {"order_id": order_id, "order_item_id": alice_line}}),
    )
    .await;
    let open = OpenCheckout {
        seller: sellers[0].clone(),
        buyer,
        order_id: order_id.clone(),
        url,
    };
    let refunded = order_of(&app, &open, "the line is refunded", |o| {
        o["refunded_cents"] == 1000
    })
    .await;
    assert_eq!(refunded["status"], "partially_refunded");
    let refunded = app.order_as_owner(&open.order_id).await;
    assert!(
        refunded["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "warning" && e["message"].as_str().unwrap().contains("5.00")),
        "the unallocated 5.00 is called out: {refunded}"
    );
    eventually("alice owes her line's net", || async {
        let money = app.seller_money(&sellers[0]).await;
        (money["balance_cents"] == -900).then_some(())
    })
    .await;
    assert_eq!(
        app.seller_money(&sellers[1]).await["balance_cents"],
        0,
        "bob's line was not touched"
    );
    assert_eq!(
        query_i64(&app.db, &sum_on("unallocated_refunds", &order_id)).await,
        500
    );
    app.assert_ledger_balanced().await;

    // The owner sees it in reconciliation, decides alice bears it, and resolves the flag.
    assert_eq!(
        unallocated_flagged(&app, &order_id).await,
        1,
        "the order is in the report"
    );
    expect_json(
        app.post(
            "/api/v1/admin/adjustments",
            Some(&app.owner.token),
            json!({"seller_id": sellers[0].id, "amount_cents": -500, "currency": "usd",
                   "note": "the refund over her line was for her late delivery",
                   "idempotency_key": "unallocated-1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let resolved = app
        .post(
            &format!("/api/v1/admin/orders/{}/resolve", open.order_id),
            Some(&app.owner.token),
            json!({"kind": "unallocated_refund", "note": "moved to alice by adjustment"}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        unallocated_flagged(&app, &order_id).await,
        0,
        "resolved, it leaves the report"
    );
    assert_eq!(app.seller_money(&sellers[0]).await["balance_cents"], -1400);
    assert_eq!(app.seller_money(&sellers[1]).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

/// How many rows of the reconciliation report flag `order` with an unallocated refund.
async fn unallocated_flagged(app: &TestApp, order: &str) -> usize {
    let page = expect_json(
        app.get(
            "/api/v1/admin/reconciliation?flag=unallocated_refund",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["order_id"] == order)
        .count()
}

#[tokio::test]
async fn a_refused_payout_retried_after_a_full_refund_pays_nothing() {
    let app = spawn_app().await;
    let (open, intent) = paid(&app, true).await;
    app.sim_post("/_sim/refunds", json!({"payment_intent": intent}))
        .await;
    order_of(&app, &open, "refunded", |o| o["status"] == "refunded").await;
    // The refund requeued the payout, which found nothing owed; an owner's retry decides the same.
    let skipped = payout_status(&app, &open.seller, "skipped").await;
    assert_eq!(skipped["skip_reason"], "nothing_owed");
    let retry = format!("/api/v1/admin/orders/{}/retry-payouts", open.order_id);
    let queued = app.post(&retry, Some(&app.owner.token), json!({})).await;
    assert_eq!(queued.status(), StatusCode::OK);
    app.jobs_settled().await;
    payout_status(&app, &open.seller, "skipped").await;
    assert!(
        app.sim_transfers().await.is_empty(),
        "never the 14.40 decided before the refund"
    );
    let attempts = app.stripe_requests("POST", "/v1/transfers").await;
    assert_eq!(attempts.len(), 1, "only the refused attempt");
    assert_eq!(app.seller_money(&open.seller).await["balance_cents"], 0);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_site_can_charge_dispute_fees_to_the_sellers_of_orders_placed_afterwards() {
    let app = spawn_app().await;
    let config = expect_json(
        app.put(
            "/api/v1/admin/site-config",
            Some(&app.owner.token),
            json!({"fee_percent": "10", "currency": "usd", "allowed_shipping_countries": ["US"],
                   "dispute_fee_to_sellers": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(config["dispute_fee_to_sellers"], true);
    let read = expect_json(
        app.get("/api/v1/admin/site-config", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["dispute_fee_to_sellers"], true);

    let (open, intent) = paid(&app, false).await;
    app.payouts_paid(&open.order_id, 1).await;
    app.sim_post(
        "/_sim/disputes",
        json!({"payment_intent": intent, "status": "lost", "fee": 1500}),
    )
    .await;
    order_of(&app, &open, "all of it returned", |o| {
        o["refunded_cents"] == 1600
    })
    .await;
    eventually("the seller owes the net and the dispute fee", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -1440 - 1500).then_some(())
    })
    .await;
    assert_eq!(
        query_i64(&app.db, &sum_on("dispute_costs", &open.order_id)).await,
        0,
        "the platform bears none of it"
    );
    app.assert_ledger_balanced().await;
}
