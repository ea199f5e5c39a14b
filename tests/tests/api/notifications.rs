//! Notifications end to end: each event reaches the right people only, in the app and by mail
//! unless they muted its kind; unread counts and marking read.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, expect_json, expect_not_found, spawn_app};

async fn inbox(app: &TestApp, who: &User) -> Value {
    expect_json(
        app.get("/api/v1/notifications", Some(&who.token)).await,
        StatusCode::OK,
    )
    .await
}

fn kinds(inbox: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

async fn mails_to(app: &TestApp, address: &str, subject_part: &str) -> usize {
    app.outbox()
        .await
        .iter()
        .filter(|m| m["to"] == address && m["subject"].as_str().unwrap().contains(subject_part))
        .count()
}

async fn ask(app: &TestApp, who: &User, product: &str, question: &str) -> Value {
    expect_json(
        app.post(
            &format!("/api/v1/products/{product}/questions"),
            Some(&who.token),
            json!({"body": question}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn each_event_reaches_the_right_people_only() {
    let app = spawn_app().await;
    let (seller, product) = app.potter_with("Sample", json!({"is_free": true})).await;
    let buyer = app.register("collector", false).await;
    let stranger = app.register("bystander", false).await;

    // A question tells the seller; the seller's answer tells the asker.
    let thread = ask(&app, &buyer, &product, "What size is it?").await;
    expect_json(
        app.post(
            &format!(
                "/api/v1/questions/{}/messages",
                thread["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({"body": "About 12 cm."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // A sale and a review tell the seller.
    let review = app
        .free_purchase_reviewed(&buyer, &product, json!({"rating": 5}))
        .await;

    // A report's outcome tells its reporter.
    let report = expect_json(
        app.post(
            "/api/v1/reports",
            Some(&stranger.token),
            json!({"target_type": "review", "target_id": review["id"], "reason": "other"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.post(
            &format!(
                "/api/v1/admin/reports/{}/resolve",
                report["id"].as_str().unwrap()
            ),
            Some(&app.owner.token),
            json!({"action": "dismiss", "note": "a genuine review"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let for_seller = inbox(&app, &seller).await;
    assert_eq!(kinds(&for_seller), ["new_question", "new_review", "sale"]);
    assert_eq!(for_seller["unread"], 3);
    assert!(
        !for_seller.to_string().contains("What size is it?"),
        "notifications never copy what was written: {for_seller}"
    );
    assert_eq!(kinds(&inbox(&app, &buyer).await), ["thread_reply"]);
    assert_eq!(kinds(&inbox(&app, &stranger).await), ["report_outcome"]);
    assert_eq!(
        mails_to(&app, "potter@example.com", "New question").await,
        1
    );

    // Read one, then all; nobody reads another's.
    let first = for_seller["items"][0]["id"].as_str().unwrap().to_owned();
    expect_not_found(
        app.post(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&buyer.token),
            json!({}),
        )
        .await,
    )
    .await;
    let read = app
        .post(
            &format!("/api/v1/notifications/{first}/read"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let unread = expect_json(
        app.get("/api/v1/notifications?unread=true", Some(&seller.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (unread["total"].as_i64(), unread["unread"].as_i64()),
        (Some(2), Some(2))
    );
    let all = expect_json(
        app.post(
            "/api/v1/notifications/read-all",
            Some(&seller.token),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["marked"], 2);

    // A muted kind still appears in the app, but no longer by mail.
    let prefs = expect_json(
        app.put(
            "/api/v1/me/notification-preferences",
            Some(&seller.token),
            json!({"mail_muted": ["new_question"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(prefs["mail_muted"], json!(["new_question"]));
    ask(&app, &stranger, &product, "Is it dishwasher safe?").await;
    assert_eq!(inbox(&app, &seller).await["unread"], 1);
    assert_eq!(
        mails_to(&app, "potter@example.com", "New question").await,
        1,
        "muted"
    );
    let refused = app
        .put(
            "/api/v1/me/notification-preferences",
            Some(&seller.token),
            json!({"mail_muted": ["everything"]}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
