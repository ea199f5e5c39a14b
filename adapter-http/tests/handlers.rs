//! The HTTP layer on its own: routes over the in-memory stores, called without a server. What is
//! checked here is HTTP's part — authentication by bearer token or cookie, CSRF on cookie writes,
//! and the error envelope with the status each kind of failure gets.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use adapter_http::{HttpConfig, routes};
use marketplace_ports::testing::{MemoryStore, TestDeps};
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method, StatusCode};
use poem::{Endpoint, EndpointExt, Request, Response};
use serde_json::{Value, json};

struct Api {
    store: MemoryStore,
    endpoint: BoxEndpoint<'static, Response>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// The envelope's error code.
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

fn api() -> Api {
    let test = TestDeps::default();
    let store = test.store.clone();
    let endpoint = routes(test.services(), HttpConfig::default()).boxed();
    Api { store, endpoint }
}

impl Api {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path.parse().unwrap());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .content_type("application/json")
                .body(body.to_owned()),
            None => request.finish(),
        };
        let response = self.endpoint.call(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.into_body().into_string().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, None).await
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        self.send(Method::POST, path, headers, body).await
    }

    /// Registers `name` and returns their session token and CSRF token.
    async fn register(&self, name: &str) -> (String, String) {
        let body = json!({
            "username": name,
            "password": "Tr1cky-Sailboat",
            "email": format!("{name}@example.com"),
        });
        let reply = self
            .post("/api/v1/auth/register", &[], Some(&body.to_string()))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let token = reply.body["token"].as_str().unwrap().to_owned();
        let csrf = reply.body["csrf_token"].as_str().unwrap().to_owned();
        (token, csrf)
    }
}

#[tokio::test]
async fn errors_come_in_one_envelope_with_the_status_of_their_kind() {
    let api = api();
    let reply = api.get("/api/v1/nothing-here", &[]).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert!(reply.headers.contains_key("x-request-id"));

    let register = "/api/v1/auth/register";
    let reply = api.post(register, &[], Some("{")).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    let bad = json!({"username": "bad name", "password": "1"}).to_string();
    let reply = api.post(register, &[], Some(&bad)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let fields = reply.body["error"]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["password", "username"]);
    let wrong_type = json!({"username": 7, "password": "Tr1cky-Sailboat"}).to_string();
    let reply = api.post(register, &[], Some(&wrong_type)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body["error"]["fields"]["username"].is_array(),
        "{}",
        reply.body
    );

    api.register("maker").await;
    let login = json!({"username": "maker", "password": "wrong"}).to_string();
    for _ in 0..5 {
        let reply = api.post("/api/v1/auth/login", &[], Some(&login)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials")
        );
    }
    let reply = api.post("/api/v1/auth/login", &[], Some(&login)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::TOO_MANY_REQUESTS, "throttled")
    );
    assert_eq!(reply.headers["retry-after"], "900");
}

#[tokio::test]
async fn bearer_tokens_authenticate_until_logout() {
    let api = api();
    let (token, _) = api.register("maker").await;
    let bearer = format!("Bearer {token}");
    let reply = api.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["username"], "maker");

    let reply = api.get("/api/v1/me", &[]).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let forged = [("authorization", "Bearer not-a-session")];
    let reply = api.get("/api/v1/me", &forged).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = api.get("/api/v1/cart", &forged).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "bad credentials are not anonymous"
    );

    let reply = api
        .post("/api/v1/auth/logout", &[("authorization", &bearer)], None)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::NO_CONTENT,
        "bearer writes need no CSRF token"
    );
    let reply = api.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_change_anything() {
    let api = api();
    let (token, csrf) = api.register("maker").await;
    let cookie = format!("hc3_session={token}");
    let reply = api.get("/api/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(reply.status, StatusCode::OK, "reads need no CSRF token");
    assert_eq!(reply.body["csrf_token"], csrf.as_str());

    let logout = "/api/v1/auth/logout";
    let reply = api.post(logout, &[("cookie", &cookie)], None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "csrf_failed")
    );
    let wrong = [("cookie", cookie.as_str()), ("x-csrf-token", "guess")];
    let reply = api.post(logout, &wrong, None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = api.get("/api/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the refused logout changed nothing"
    );

    let behind_a_proxy = [
        ("cookie", cookie.as_str()),
        ("authorization", "Basic c3RhZ2U6cGFzcw=="),
    ];
    let reply = api.get("/api/v1/me", &behind_a_proxy).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "another scheme leaves the cookie to decide"
    );

    let right = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let reply = api.post(logout, &right, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = api.get("/api/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unavailable_database_is_a_503_not_a_client_error() {
    let api = api();
    let (token, _) = api.register("maker").await;
    api.store.fail("accounts.session_user");
    let bearer = format!("Bearer {token}");
    let reply = api.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(!reply.code().is_empty());
    api.store.fail("catalog.active_category_tree");
    let reply = api.get("/api/v1/categories", &[]).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
}
