//! Refunds and disputes made outside the app (Stripe dashboard) after the seller was paid: each is
//! booked once whatever event carries it, the order's refunded amount and status move forward, and
//! the seller's share comes back as a debt.

use adapter_postgres::testing::query_i64;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{OpenCheckout, TestApp, eventually, expect_error, expect_json, spawn_app};

/// A paid order of 2 × 8.00 (fee 1.60, net 14.40) whose payout went out; returns it with the
/// payment intent.
async fn paid_and_paid_out(app: &TestApp) -> (OpenCheckout, String) {
    let open = app.open_checkout("8.00", 2).await;
    let landing = app.pay(&open.url).await;
    app.payouts_paid(&open.order_id, 1).await;
    let intent = app.payment_intent_of(&landing).await;
    (open, intent)
}

async fn order_with(app: &TestApp, open: &OpenCheckout, refunded: i64) -> serde_json::Value {
    app.order_until(
        &open.order_id,
        Some(&open.buyer),
        None,
        &format!("{refunded} cents are refunded"),
        |o| o["refunded_cents"] == refunded,
    )
    .await
}

#[tokio::test]
async fn dashboard_refunds_after_the_payout_are_booked_once_and_become_the_sellers_debt() {
    let app = spawn_app().await;
    let (open, intent) = paid_and_paid_out(&app).await;
    assert_eq!(app.fee_revenue_of(&open.order_id).await.abs(), 160);

    // A partial refund: 4.00, of which 3.60 is the seller's and 0.40 the platform's fee.
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 400}),
    )
    .await;
    let partial = order_with(&app, &open, 400).await;
    assert_eq!(partial["status"], "partially_refunded");
    eventually("the seller owes their share", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -360).then_some(())
    })
    .await;

    // The rest, with every webhook delivered twice (refund.created and the cumulative
    // charge.refunded both carry it).
    app.sim_post("/_sim/webhooks/duplicate", json!({"count": 2}))
        .await;
    app.sim_post("/_sim/refunds", json!({"payment_intent": intent}))
        .await;
    let full = order_with(&app, &open, 1600).await;
    assert_eq!(full["status"], "refunded");
    eventually("the seller owes the whole net", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -1440).then_some(())
    })
    .await;
    let refunds = query_i64(
        &app.db,
        &format!(
            "select count(*) from journal_entries where kind = 'refund' and order_id = '{}'",
            open.order_id
        ),
    )
    .await;
    assert_eq!(refunds, 2, "each Stripe refund is booked once");
    assert_eq!(
        app.fee_revenue_of(&open.order_id).await,
        0,
        "a refunded order earns no fee"
    );
    app.assert_ledger_balanced().await;
    // Downloads and payouts are over for this order; the buyer's spending is back to 0.
    let dashboard = expect_json(
        app.get("/api/v1/me/dashboard", Some(&open.buyer.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dashboard["total_spent_cents"], 0);
    let checkout = app.checkout(&open.order_id, Some(&open.buyer), None).await;
    expect_error(checkout, StatusCode::CONFLICT, "order_not_payable", None).await;
}

#[tokio::test]
async fn a_lost_dispute_returns_the_money_and_books_the_fee_once() {
    let app = spawn_app().await;
    let (open, intent) = paid_and_paid_out(&app).await;
    app.sim_post(
        "/_sim/disputes",
        json!({"payment_intent": intent, "status": "lost", "fee": 1500}),
    )
    .await;
    let disputed = order_with(&app, &open, 1600).await;
    assert_eq!(disputed["status"], "refunded");
    assert!(
        disputed["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] != "dispute"),
        "dispute events (and their fees) are not the buyer's: {disputed}"
    );
    let disputed = app.order_as_owner(&open.order_id).await;
    assert!(
        disputed["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "dispute")
    );
    let lost = query_i64(
        &app.db,
        &format!(
            "select count(*) from journal_entries where kind = 'dispute_lost' and order_id = '{}'",
            open.order_id
        ),
    )
    .await;
    assert_eq!(lost, 1);
    assert_eq!(
        query_i64(
            &app.db,
            "select coalesce(sum(amount_cents), 0)::bigint from journal_postings where account = 'dispute_costs'"
        )
        .await,
        1500,
        "the dispute fee is the platform's cost"
    );
    eventually("the seller owes the net", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -1440).then_some(())
    })
    .await;
    app.assert_ledger_balanced().await;
}

async fn reversals_of(app: &TestApp, order: &str) -> Vec<serde_json::Value> {
    expect_json(
        app.get(
            &format!("/api/v1/admin/orders/{order}/reversals"),
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

async fn ask_reversal(app: &TestApp, token: &str, order: &str, seller: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/admin/orders/{order}/reversals"),
        Some(token),
        json!({"seller_id": seller}),
    )
    .await
}

/// Waits until the order has `count` reversals and none is under way.
async fn settled_reversals(app: &TestApp, order: &str, count: usize) -> Vec<serde_json::Value> {
    eventually("the reversals are settled", || async {
        let reversals = reversals_of(app, order).await;
        (reversals.len() == count && reversals.iter().all(|r| r["status"] != "pending"))
            .then_some(reversals)
    })
    .await
}

#[tokio::test]
async fn an_owner_takes_back_refunds_after_the_payout_by_reversing_the_transfer() {
    let app = spawn_app().await;
    let (open, intent) = paid_and_paid_out(&app).await;
    let order = open.order_id.clone();
    let seller = open.seller.id.clone();

    // Nothing to take back before a refund; only owners may ask; bad bodies change nothing.
    let early = ask_reversal(&app, &app.owner.token, &order, &seller).await;
    expect_error(early, StatusCode::CONFLICT, "nothing_to_recover", None).await;
    let by_seller = ask_reversal(&app, &open.seller.token, &order, &seller).await;
    expect_error(by_seller, StatusCode::FORBIDDEN, "forbidden", None).await;
    // Someone who sold nothing in the order — a user, or no one at all — has nothing to reverse.
    for stranger in [
        open.buyer.id.as_str(),
        "00000000-0000-7000-8000-00000000beef",
    ] {
        let not_theirs = ask_reversal(&app, &app.owner.token, &order, stranger).await;
        expect_error(
            not_theirs,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_seller_of_order",
            None,
        )
        .await;
    }
    let unknown = ask_reversal(
        &app,
        &app.owner.token,
        "00000000-0000-7000-8000-000000000000",
        &seller,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let malformed = app
        .post(
            &format!("/api/v1/admin/orders/{order}/reversals"),
            Some(&app.owner.token),
            json!({"seller_id": "not a uuid"}),
        )
        .await;
    assert!(malformed.status().is_client_error());
    assert!(reversals_of(&app, &order).await.is_empty());

    // A 4.00 refund after the payout: the seller owes 3.60 and the owner takes it back.
    app.sim_post(
        "/_sim/refunds",
        json!({"payment_intent": intent, "amount": 400}),
    )
    .await;
    order_with(&app, &open, 400).await;
    let queued = expect_json(
        ask_reversal(&app, &app.owner.token, &order, &seller).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(queued["amount_cents"], 360);
    assert_eq!(queued["status"], "queued");
    let reversals = settled_reversals(&app, &order, 1).await;
    assert_eq!(reversals[0]["status"], "reversed");
    assert_eq!(reversals[0]["amount_cents"], 360);
    let reversal_id = reversals[0]["id"].as_str().unwrap();
    let requests = app.stripe_requests("POST", "/v1/transfers/").await;
    assert!(
        !requests.is_empty()
            && requests
                .iter()
                .all(|r| r["idempotency_key"] == format!("reversal:{reversal_id}")),
        "{requests:?}"
    );
    let money = app.seller_money(&open.seller).await;
    assert_eq!(money["balance_cents"], 0, "the debt is repaid");
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(transfers[0]["amount"], 1440);
    assert_eq!(transfers[0]["amount_reversed"], 360);
    let again = ask_reversal(&app, &app.owner.token, &order, &seller).await;
    expect_error(again, StatusCode::CONFLICT, "nothing_to_recover", None).await;

    // The rest is refunded; Stripe refuses the first reversal (the seller's Stripe balance is
    // too low): shown as refused, the debt stays to be netted. A later try succeeds.
    app.sim_post("/_sim/refunds", json!({"payment_intent": intent}))
        .await;
    order_with(&app, &open, 1600).await;
    eventually("the seller owes the rest of the net", || async {
        let money = app.seller_money(&open.seller).await;
        (money["balance_cents"] == -1080).then_some(())
    })
    .await;
    app.sim_post(
        "/_sim/faults",
        json!({"path_prefix": "/v1/transfers/", "kind": "400", "code": "balance_insufficient"}),
    )
    .await;
    let queued = expect_json(
        ask_reversal(&app, &app.owner.token, &order, &seller).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(queued["amount_cents"], 1080);
    let reversals = settled_reversals(&app, &order, 2).await;
    assert_eq!(reversals[1]["status"], "refused");
    assert!(
        reversals[1]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("balance_insufficient")),
        "{reversals:?}"
    );
    assert_eq!(app.seller_money(&open.seller).await["balance_cents"], -1080);
    order_with(&app, &open, 1600).await;
    let refused_order = app.order_as_owner(&open.order_id).await;
    assert!(
        refused_order["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "warning" && e["message"].as_str().unwrap().contains("refused")),
        "{refused_order}"
    );

    expect_json(
        ask_reversal(&app, &app.owner.token, &order, &seller).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let reversals = settled_reversals(&app, &order, 3).await;
    assert_eq!(reversals[2]["status"], "reversed");
    assert_eq!(reversals[2]["amount_cents"], 1080);
    assert_eq!(app.seller_money(&open.seller).await["balance_cents"], 0);
    let transfers = app.sim_get("/_sim/transfers").await;
    assert_eq!(transfers[0]["amount_reversed"], 1440);
    assert_eq!(transfers[0]["reversed"], true);
    let booked = query_i64(
        &app.db,
        &format!(
            "select count(*) from journal_entries where kind = 'transfer_reversal' and order_id = '{order}'"
        ),
    )
    .await;
    assert_eq!(booked, 2, "each reversal Stripe made is booked once");
    app.assert_ledger_balanced().await;
}
