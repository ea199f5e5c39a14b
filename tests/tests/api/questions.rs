//! Questions and answers end to end: who may ask and reply, the author's 30-minute delete window
//! on the application's clock, staff deleting at any time, and deleted messages keeping their
//! place.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, expect_error, expect_json, expect_not_found, spawn_app};

async fn ask(app: &TestApp, who: &User, product: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/products/{product}/questions"),
        Some(&who.token),
        body,
    )
    .await
}

async fn reply(app: &TestApp, who: &User, thread: &str, body: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/questions/{thread}/messages"),
        Some(&who.token),
        json!({"body": body}),
    )
    .await
}

async fn delete(app: &TestApp, who: &User, message: &str) -> reqwest::Response {
    app.delete(
        &format!("/api/v1/questions/messages/{message}"),
        Some(&who.token),
    )
    .await
}

#[tokio::test]
async fn askers_sellers_and_staff_talk_and_messages_are_deleted_in_place() {
    let app = spawn_app().await;
    let (seller, product) = app.potter_with("Vase", json!({"price": "10.00"})).await;
    let asker = app.register("curious", false).await;
    let other = app.register("bystander", false).await;

    expect_error(
        app.post(
            &format!("/api/v1/products/{product}/questions"),
            None,
            json!({"body": "Hello?"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    for (body, field) in [
        (json!({"body": "  "}), "body"),
        (
            json!({"subject": "s".repeat(181), "body": "Does it hold water?"}),
            "subject",
        ),
        (json!({"body": "nul\u{0}"}), "body"),
    ] {
        expect_error(
            ask(&app, &asker, &product, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let thread = expect_json(
        ask(
            &app,
            &asker,
            &product,
            json!({"subject": "Water", "body": "Does it hold water?"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let first = thread["messages"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(thread["author"], "curious");

    // The asker, the seller and staff reply; anyone else is refused.
    expect_json(
        reply(&app, &seller, &thread_id, "Yes, it is sealed.").await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        reply(&app, &asker, &thread_id, "Thanks!").await,
        StatusCode::CREATED,
    )
    .await;
    let staff_note = expect_json(
        reply(&app, &app.owner, &thread_id, "Staff: answered.").await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        reply(&app, &other, &thread_id, "Me too").await,
        StatusCode::FORBIDDEN,
        "not_participant",
        None,
    )
    .await;

    // The author deletes within 30 minutes; after that only staff can.
    let second = expect_json(
        reply(&app, &asker, &thread_id, "Oops, wrong thread").await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_error(
        delete(&app, &other, &second).await,
        StatusCode::FORBIDDEN,
        "not_your_message",
        None,
    )
    .await;
    let after = expect_json(delete(&app, &asker, &second).await, StatusCode::OK).await;
    let gone = after["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == second.as_str())
        .unwrap();
    assert_eq!(
        (gone["deleted"].as_bool(), gone["body"].as_str()),
        (Some(true), Some(""))
    );
    app.clock.advance(time::Duration::minutes(31));
    expect_error(
        delete(&app, &asker, &first).await,
        StatusCode::FORBIDDEN,
        "delete_window_closed",
        None,
    )
    .await;
    expect_json(delete(&app, &app.owner, &first).await, StatusCode::OK).await;
    expect_json(
        delete(&app, &app.owner, staff_note["id"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;

    let listed = expect_json(
        app.get(&format!("/api/v1/products/{product}/questions"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(
        listed["items"][0]["subject"], "",
        "the question was deleted, its subject with it"
    );
    let shown: Vec<(bool, String)> = listed["items"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["deleted"].as_bool().unwrap(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (true, String::new()),
            (false, "Yes, it is sealed.".to_owned()),
            (false, "Thanks!".to_owned()),
            (true, String::new()),
            (true, String::new()),
        ],
        "deleted messages keep their place, their text hidden"
    );

    // Inactive products take no questions.
    expect_json(
        app.patch(
            &format!("/api/v1/seller/products/{product}"),
            Some(&seller.token),
            json!({"is_active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_not_found(ask(&app, &asker, &product, json!({"body": "Still there?"})).await).await;
}
