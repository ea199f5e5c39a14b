//! Registration, login, sessions, CSRF, throttling, profiles and avatars.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    PASSWORD, expect_error, expect_json, expect_not_found, png_bytes, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn register_then_login_then_update_the_profile() {
    let app = spawn_app().await;

    let registered = app.register("Alice", false).await;
    let me = expect_json(
        app.get("/api/v1/me", Some(&registered.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["username"], "Alice");
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(
        (me["is_seller"].clone(), me["is_owner"].clone()),
        (json!(false), json!(false))
    );

    // Usernames are case-insensitive for login too.
    let logged_in = app.login("alice").await;
    assert_eq!(logged_in.id, registered.id);

    let updated = app
        .patch(
            "/api/v1/me/profile",
            Some(&logged_in.token),
            json!({"first_name": "Alice", "last_name": "Maker", "shop_name": "Alice Prints",
                   "phone_1": "+1(555)123-4567", "state": "ny", "zip_code": "10001", "city": "New York",
                   "is_seller": true}),
        )
        .await;
    let profile = expect_json(updated, StatusCode::OK).await;
    assert_eq!(profile["state"], "NY");
    assert_eq!(profile["public_name"], "Alice Prints");
    assert_eq!(profile["user"]["is_seller"], true);

    let read = expect_json(
        app.get("/api/v1/me/profile", Some(&logged_in.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["phone_1"], "+1(555)123-4567");
    assert_eq!(read["zip_code"], "10001");

    // Clearing a field with an empty string.
    let cleared = app
        .patch(
            "/api/v1/me/profile",
            Some(&logged_in.token),
            json!({"shop_name": ""}),
        )
        .await;
    assert_eq!(
        expect_json(cleared, StatusCode::OK).await["public_name"],
        "Alice"
    );

    // Logout ends that session only.
    let logout = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&logged_in.token),
            None,
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.get("/api/v1/me", Some(&logged_in.token)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    expect_json(
        app.get("/api/v1/me", Some(&registered.token)).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn invalid_profile_fields_are_all_reported_and_nothing_changes() {
    let app = spawn_app().await;
    let user = app.register("bob", false).await;
    app.patch(
        "/api/v1/me/profile",
        Some(&user.token),
        json!({"city": "Austin"}),
    )
    .await;

    let response = app
        .patch(
            "/api/v1/me/profile",
            Some(&user.token),
            json!({"phone_1": "call me", "state": "ZZ", "zip_code": "1234", "email": "nope", "city": "Dallas"}),
        )
        .await;
    let body = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("phone_1"),
    )
    .await;
    for field in ["state", "zip_code", "email"] {
        assert!(
            body["error"]["fields"][field].is_array(),
            "{field} missing in {body}"
        );
    }
    let profile = expect_json(
        app.get("/api/v1/me/profile", Some(&user.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        profile["city"], "Austin",
        "a refused update changes nothing"
    );

    // Roles are not self-editable.
    let owner_attempt = app
        .patch(
            "/api/v1/me/profile",
            Some(&user.token),
            json!({"is_owner": true}),
        )
        .await;
    expect_error(
        owner_attempt,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("is_owner"),
    )
    .await;
    let me = expect_json(
        app.get("/api/v1/me", Some(&user.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["is_owner"], false);
}

#[tokio::test]
async fn registration_rules_and_duplicate_usernames() {
    let app = spawn_app().await;
    app.register("carol", false).await;
    let duplicate = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "CAROL", "password": PASSWORD}),
        )
        .await;
    expect_error(
        duplicate,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("username"),
    )
    .await;

    let weak = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "dave", "password": "12345678"}),
        )
        .await;
    let body = expect_error(
        weak,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("password"),
    )
    .await;
    assert_eq!(
        body["error"]["fields"]["password"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "numeric and common: {body}"
    );

    let similar = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "printmaster", "password": "printmaster1"}),
        )
        .await;
    expect_error(
        similar,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("password"),
    )
    .await;

    // None of the refused registrations created an account.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "dave", "password": "12345678"}),
        )
        .await;
    expect_error(login, StatusCode::UNAUTHORIZED, "invalid_credentials", None).await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_username() {
    let app = spawn_app().await;
    app.register("erin", false).await;
    for _ in 0..5 {
        let response = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "erin", "password": "wrong-password"}),
            )
            .await;
        expect_error(
            response,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            None,
        )
        .await;
    }
    let throttled = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "Erin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(throttled.headers()["retry-after"], "900");
    expect_error(throttled, StatusCode::TOO_MANY_REQUESTS, "throttled", None).await;
    // Another user from the same address is not locked out by erin's failures.
    app.register("frank", false).await;
    app.login("frank").await;
}

/// Twenty failed logins from one address lock that address out; behind a trusted proxy the
/// address is the client's own (from `X-Forwarded-For`), so one client does not lock out everyone
/// behind the proxy, and an untrusted peer cannot pick its address with the header.
#[tokio::test]
async fn failed_logins_are_throttled_per_client_address_behind_trusted_proxies() {
    let (app, _) = spawn_app_with(
        |config| {
            config.trusted_proxies =
                adapter_http::client::TrustedProxies::parse("127.0.0.1/32").unwrap();
        },
        std::future::pending(),
    )
    .await;
    app.register("wendy", false).await;
    let login = |client: &'static str, username: String, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", format!("203.0.113.50, {client}"))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    // Twenty different usernames (the per-username limit stays out of it), one client.
    for n in 0..20 {
        let response = login("198.51.100.1", format!("nobody{n}"), "wrong-password")
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = login("198.51.100.1", "wendy".to_owned(), PASSWORD)
        .await
        .unwrap();
    expect_error(locked, StatusCode::TOO_MANY_REQUESTS, "throttled", None).await;
    // Another client behind the same proxy signs in.
    let other = login("198.51.100.2", "wendy".to_owned(), PASSWORD)
        .await
        .unwrap();
    expect_json(other, StatusCode::OK).await;

    // Without trusted proxies the header is ignored: the socket's address is the client.
    let direct = spawn_app().await;
    direct.register("xena", false).await;
    for n in 0..20 {
        let response = direct
            .client
            .post(direct.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", format!("192.0.2.{n}"))
            .json(&json!({"username": format!("nobody{n}"), "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let spoofed = direct
        .client
        .post(direct.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", "192.0.2.99")
        .json(&json!({"username": "xena", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(spoofed, StatusCode::TOO_MANY_REQUESTS, "throttled", None).await;
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_writes() {
    let app = spawn_app().await;
    app.register("gina", false).await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "gina", "password": PASSWORD}),
        )
        .await;
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("hc3_session="))
        .expect("session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    let body = expect_json(login, StatusCode::OK).await;
    let cookie_header = format!("hc3_session={}", body["token"].as_str().unwrap());
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie_header)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(me, StatusCode::OK).await["csrf_token"],
        csrf.as_str()
    );

    let forged = app
        .client
        .patch(app.url("/api/v1/me/profile"))
        .header("cookie", &cookie_header)
        .json(&json!({"city": "Forged"}))
        .send()
        .await
        .unwrap();
    expect_error(forged, StatusCode::FORBIDDEN, "csrf_failed", None).await;
    let wrong = app
        .client
        .patch(app.url("/api/v1/me/profile"))
        .header("cookie", &cookie_header)
        .header("x-csrf-token", "0".repeat(64))
        .json(&json!({"city": "Forged"}))
        .send()
        .await
        .unwrap();
    expect_error(wrong, StatusCode::FORBIDDEN, "csrf_failed", None).await;

    let genuine = app
        .client
        .patch(app.url("/api/v1/me/profile"))
        .header("cookie", &cookie_header)
        .header("x-csrf-token", &csrf)
        .json(&json!({"city": "Genuine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(genuine, StatusCode::OK).await["city"],
        "Genuine"
    );
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401() {
    let app = spawn_app().await;
    expect_error(
        app.get("/api/v1/me", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    expect_error(
        app.get("/api/v1/me", Some("not-a-token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
    )
    .await;
    // An optional-login page refuses a bad token instead of silently treating it as anonymous.
    let product = uuid::Uuid::new_v4();
    let response = app
        .get(&format!("/api/v1/products/{product}"), Some("expired"))
        .await;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated", None).await;
    expect_not_found(app.get(&format!("/api/v1/products/{product}"), None).await).await;
}

#[tokio::test]
async fn avatars_are_uploaded_served_and_removed() {
    let app = spawn_app().await;
    let user = app.register("hana", false).await;
    let uploaded = app
        .upload_with(
            Method::PUT,
            "/api/v1/me/avatar",
            &user.token,
            "me.png",
            png_bytes(),
            &[],
        )
        .await;
    let profile = expect_json(uploaded, StatusCode::OK).await;
    let url = profile["avatar_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/users/{}/avatar", user.id));

    let image = app.get(&url, None).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().to_vec(), png_bytes());

    let not_image = app
        .upload_with(
            Method::PUT,
            "/api/v1/me/avatar",
            &user.token,
            "me.png",
            b"<script>".to_vec(),
            &[],
        )
        .await;
    expect_error(
        not_image,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("file"),
    )
    .await;
    assert_eq!(
        app.get(&url, None).await.status(),
        StatusCode::OK,
        "the refused upload kept the old avatar"
    );

    assert_eq!(
        app.delete("/api/v1/me/avatar", Some(&user.token))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_not_found(app.get(&url, None).await).await;
}
