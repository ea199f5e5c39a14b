//! Owners' user tools end to end: the directory, and role changes that take effect at once in
//! existing sessions, are audited, and only owners can make.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app};

async fn roles(app: &TestApp, who: &str, body: serde_json::Value) -> reqwest::Response {
    app.put(
        &format!("/api/v1/admin/users/{who}/roles"),
        Some(&app.owner.token),
        body,
    )
    .await
}

#[tokio::test]
async fn owners_find_users_and_change_their_roles_at_once() {
    let app = spawn_app().await;
    let maker = app.register("collector", false).await;
    let other = app.register("bystander", false).await;
    let found = expect_json(
        app.get("/api/v1/admin/users?q=COLL", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["username"], "collector");
    assert_eq!(found["items"][0]["is_seller"], false);
    expect_error(
        app.get("/api/v1/admin/users", Some(&other.token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;

    // A seller-only page tells whether the role is there.
    let seller_page = || app.get("/api/v1/seller/orders", Some(&maker.token));
    assert_eq!(
        seller_page().await.status(),
        StatusCode::NOT_FOUND,
        "not a seller yet"
    );
    let granted = expect_json(
        roles(
            &app,
            &maker.id,
            json!({"is_seller": true, "note": "verified maker"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(granted["is_seller"], true);
    expect_json(seller_page().await, StatusCode::OK).await;
    expect_json(
        roles(
            &app,
            &maker.id,
            json!({"is_seller": false, "note": "policy breach"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        seller_page().await.status(),
        StatusCode::NOT_FOUND,
        "revoked at once, in the same session"
    );

    // Staff moderate at once; nobody but an owner changes roles, and no owner their own.
    assert_eq!(
        app.get("/api/v1/admin/reports", Some(&other.token))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    expect_json(
        roles(
            &app,
            &other.id,
            json!({"is_staff": true, "note": "new moderator"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        app.get("/api/v1/admin/reports", Some(&other.token)).await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.put(
            &format!("/api/v1/admin/users/{}/roles", maker.id),
            Some(&maker.token),
            json!({"is_staff": true, "note": "me"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    )
    .await;
    expect_error(
        roles(
            &app,
            &app.owner.id,
            json!({"is_seller": false, "note": "oops"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "own_roles",
        None,
    )
    .await;
    expect_error(
        roles(&app, &maker.id, json!({"is_seller": true, "note": " "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("note"),
    )
    .await;
    let role_changes = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "user.roles")
        .count();
    assert_eq!(role_changes, 3);
}
