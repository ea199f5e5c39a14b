//! Moderation end to end: reports (one open per content and reporter, never hiding anything by
//! themselves), staff dismissing, removing and suspending, suspended users refused everywhere they
//! could write, reinstatement, and the audit log of every staff action.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, User, expect_error, expect_json, expect_not_found, spawn_app,
};

async fn report(app: &TestApp, who: &User, target: &str, id: &str) -> reqwest::Response {
    app.post(
        "/api/v1/reports",
        Some(&who.token),
        json!({"target_type": target, "target_id": id, "reason": "spam", "details": "ads"}),
    )
    .await
}

async fn resolve(app: &TestApp, report: &Value, action: &str) -> reqwest::Response {
    app.post(
        &format!(
            "/api/v1/admin/reports/{}/resolve",
            report["id"].as_str().unwrap()
        ),
        Some(&app.owner.token),
        json!({"action": action, "note": format!("{action}: checked by staff")}),
    )
    .await
}

async fn login(app: &TestApp, username: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"username": username, "password": PASSWORD}),
    )
    .await
}

#[tokio::test]
async fn reports_are_resolved_by_staff_and_every_action_is_audited() {
    let app = spawn_app().await;
    let (seller, product) = app.potter_with("Sample", json!({"is_free": true})).await;
    let buyer = app.register("spammer", false).await;
    let review = app
        .free_purchase_reviewed(
            &buyer,
            &product,
            json!({"rating": 1, "body": "Visit my shop elsewhere!"}),
        )
        .await;
    let review_id = review["id"].as_str().unwrap().to_owned();
    let reply = expect_json(
        app.post(
            &format!("/api/v1/reviews/{review_id}/reply"),
            Some(&seller.token),
            json!({"body": "This is not a real review."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let thread = expect_json(
        app.post(
            &format!("/api/v1/products/{product}/questions"),
            Some(&buyer.token),
            json!({"body": "Cheap pills at my site"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let message_id = thread["messages"][0]["id"].as_str().unwrap().to_owned();

    let first = app.register("watcher", false).await;
    let second = app.register("neighbour", false).await;
    let on_review = expect_json(
        report(&app, &first, "review", &review_id).await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        report(&app, &first, "review", &review_id).await,
        StatusCode::CONFLICT,
        "already_reported",
        None,
    )
    .await;
    expect_json(
        report(&app, &second, "review", &review_id).await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        report(&app, &buyer, "review", &review_id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "own_content",
        None,
    )
    .await;
    expect_not_found(report(&app, &first, "seller_review", &review_id).await).await;
    expect_error(
        app.post(
            "/api/v1/reports",
            Some(&first.token),
            json!({"target_type": "review", "target_id": review_id, "reason": "rude"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("reason"),
    )
    .await;
    let reviews_path = format!("/api/v1/products/{product}/reviews");
    let shown = expect_json(app.get(&reviews_path, None).await, StatusCode::OK).await;
    assert_eq!(shown["total"], 1, "a report hides nothing by itself");

    // Only staff and owners see the queue.
    expect_not_found(app.get("/api/v1/admin/reports", Some(&first.token)).await).await;
    let queue = expect_json(
        app.get("/api/v1/admin/reports?status=open", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["total"], 2);

    // Remove: the review goes, its rating stops counting, both reports are resolved.
    let removed = expect_json(resolve(&app, &on_review, "remove").await, StatusCode::OK).await;
    assert_eq!(
        (removed["status"].as_str(), removed["resolution"].as_str()),
        (Some("resolved"), Some("removed"))
    );
    expect_error(
        resolve(&app, &on_review, "dismiss").await,
        StatusCode::CONFLICT,
        "already_resolved",
        None,
    )
    .await;
    let shown = expect_json(app.get(&reviews_path, None).await, StatusCode::OK).await;
    assert_eq!(shown["total"], 0);
    let detail = expect_json(
        app.get(&format!("/api/v1/products/{product}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            detail["avg_rating"].clone(),
            detail["review_count"].as_i64()
        ),
        (Value::Null, Some(0))
    );
    let open = expect_json(
        app.get("/api/v1/admin/reports?status=open", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        open["total"], 0,
        "the other report of the removed review is resolved too"
    );

    // Dismiss leaves the content; suspend removes it and locks its author out.
    let on_reply = expect_json(
        report(&app, &first, "reply", reply["id"].as_str().unwrap()).await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(resolve(&app, &on_reply, "dismiss").await, StatusCode::OK).await;
    let on_message = expect_json(
        report(&app, &first, "message", &message_id).await,
        StatusCode::CREATED,
    )
    .await;
    let suspended = expect_json(resolve(&app, &on_message, "suspend").await, StatusCode::OK).await;
    assert_eq!(suspended["resolution"], "suspended");
    let thread_now = expect_json(
        app.get(
            &format!("/api/v1/questions/{}", thread["id"].as_str().unwrap()),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread_now["messages"][0]["deleted"], true);
    for (path, body) in [
        (
            format!("/api/v1/products/{product}/questions"),
            json!({"body": "Back again"}),
        ),
        (
            "/api/v1/reports".to_owned(),
            json!({"target_type": "reply", "target_id": reply["id"], "reason": "other"}),
        ),
    ] {
        expect_error(
            app.post(&path, Some(&buyer.token), body).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        )
        .await;
    }
    // Everywhere else they could write (or read as themselves), their session is gone too.
    let thread_id = thread["id"].as_str().unwrap();
    let writes = [
        app.post(
            &format!("/api/v1/questions/{thread_id}/messages"),
            Some(&buyer.token),
            json!({"body": "Still here"}),
        )
        .await,
        app.delete(
            &format!("/api/v1/questions/messages/{message_id}"),
            Some(&buyer.token),
        )
        .await,
        app.put(
            &format!("/api/v1/reviews/{review_id}"),
            Some(&buyer.token),
            json!({"rating": 5, "body": "Me again"}),
        )
        .await,
        app.patch(
            "/api/v1/me/profile",
            Some(&buyer.token),
            json!({"first_name": "Renamed"}),
        )
        .await,
        app.put(
            "/api/v1/me/notification-preferences",
            Some(&buyer.token),
            json!({"mail_muted": []}),
        )
        .await,
        app.post(
            "/api/v1/cart/items",
            Some(&buyer.token),
            json!({"product_id": product, "quantity": 1}),
        )
        .await,
        app.post("/api/v1/orders", Some(&buyer.token), json!({}))
            .await,
        app.get("/api/v1/me", Some(&buyer.token)).await,
    ];
    for refused in writes {
        expect_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    }

    expect_error(
        login(&app, "spammer").await,
        StatusCode::FORBIDDEN,
        "account_suspended",
        None,
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/admin/users/{}/suspend", seller.id),
            Some(&first.token),
            json!({"note": "no"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    expect_json(
        app.post(
            &format!("/api/v1/admin/users/{}/reinstate", buyer.id),
            Some(&app.owner.token),
            json!({"note": "appealed; one more chance"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_json(login(&app, "spammer").await, StatusCode::OK).await;

    let actions = app.audit_actions().await;
    for action in [
        "report.removed",
        "report.dismissed",
        "report.suspended",
        "user.suspend",
        "user.reinstate",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    // Who, what, when and why.
    let log = expect_json(
        app.get(
            "/api/v1/admin/audit-log?per_page=100",
            Some(&app.owner.token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let reinstated = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.reinstate")
        .unwrap();
    assert_eq!(reinstated["actor_id"], app.owner.id.as_str());
    assert_eq!(reinstated["subject"], format!("user:{}", buyer.id));
    assert!(
        reinstated["detail"]
            .as_str()
            .unwrap()
            .contains("appealed; one more chance")
    );
    assert!(reinstated["created_at"].is_string());
}
