//! Operations, documentation and robustness: no malformed input ever yields a 5xx.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{expect_error, expect_json, expect_not_found, png_bytes, spawn_app};

#[tokio::test]
async fn health_readiness_and_documentation_are_served() {
    let app = spawn_app().await;
    assert_eq!(
        expect_json(app.get("/healthz", None).await, StatusCode::OK).await["status"],
        "ok"
    );
    assert_eq!(
        expect_json(app.get("/readyz", None).await, StatusCode::OK).await["status"],
        "ok"
    );
    let docs = app.get("/api/docs", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));

    let spec = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/profile",
        "/api/v1/me/avatar",
        "/api/v1/categories",
        "/api/v1/categories/{id}",
        "/api/v1/admin/categories",
        "/api/v1/admin/categories/{id}",
        "/api/v1/admin/sellers/{user_id}/connect",
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/products/{id}/images/{image_id}",
        "/api/v1/seller/products",
        "/api/v1/seller/products/{id}",
        "/api/v1/seller/products/{id}/images",
        "/api/v1/seller/products/{id}/assets",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("BearerAuth") && schemes.contains_key("CookieAuth"));
    let error_schema = &spec["components"]["schemas"]["ErrorBody"];
    assert!(error_schema.is_object(), "the error envelope is documented");
}

#[tokio::test]
async fn unknown_routes_oversized_bodies_and_bad_paging_get_clear_4xx() {
    let app = spawn_app().await;
    expect_not_found(app.get("/api/v1/nope", None).await).await;
    let wrong_method = app
        .send(Method::DELETE, "/api/v1/products", None, None)
        .await;
    expect_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    )
    .await;

    let huge = json!({"username": "x".repeat(2 * 1024 * 1024), "password": "y"});
    let too_big = app.post("/api/v1/auth/register", None, huge).await;
    expect_error(
        too_big,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;

    let bad_page = app.get("/api/v1/products?per_page=101", None).await;
    expect_error(
        bad_page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("per_page"),
    )
    .await;
    let zero_page = app.get("/api/v1/products?page=0", None).await;
    expect_error(
        zero_page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("page"),
    )
    .await;
    let any_case = app.get("/api/v1/products?kind=model", None).await;
    expect_json(any_case, StatusCode::OK).await;
    let bad_kind = app.get("/api/v1/products?kind=STATUE", None).await;
    expect_error(
        bad_kind,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("kind"),
    )
    .await;
    let bad_category = app.get("/api/v1/products?category=not-a-uuid", None).await;
    expect_error(
        bad_category,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("category"),
    )
    .await;
    let not_json = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("username=x")
        .send()
        .await
        .unwrap();
    expect_error(
        not_json,
        StatusCode::BAD_REQUEST,
        "unsupported_media_type",
        None,
    )
    .await;
}

/// Every documented operation, hit with nonsense path parameters and bodies, anonymous and as the
/// owner, answers with a 2xx, 3xx or 4xx and a JSON error envelope when it fails — never a 5xx.
#[tokio::test]
async fn no_documented_operation_answers_5xx_to_garbage() {
    let app = spawn_app().await;
    let spec = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let bodies: Vec<Option<(&str, String)>> = vec![
        None,
        Some(("application/json", "{".to_owned())),
        Some(("application/json", "[]".to_owned())),
        Some(("application/json", "{}".to_owned())),
        Some(("application/json", "null".to_owned())),
        Some((
            "application/json",
            json!({"name": "x".repeat(5000), "price": "1e999", "type": 7}).to_string(),
        )),
        Some((
            "multipart/form-data; boundary=zzz",
            "--zzz\r\ngarbage".to_owned(),
        )),
        Some(("application/json", "\"\u{0000}\"".to_owned())),
    ];
    let parameters = [
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "%00",
        "..%2F..%2Fetc",
    ];
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, _) in operations.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for parameter in parameters {
                let concrete = fill_path(path, parameter);
                for token in [None, Some(app.owner.token.as_str())] {
                    for body in &bodies {
                        let mut request = app.client.request(method.clone(), app.url(&concrete));
                        if let Some(token) = token {
                            request = request.bearer_auth(token);
                        }
                        if let Some((content_type, text)) = body {
                            request = request
                                .header("content-type", *content_type)
                                .body(text.clone());
                        }
                        let response = request.send().await.unwrap();
                        let status = response.status();
                        let text = response.text().await.unwrap();
                        assert!(
                            !status.is_server_error(),
                            "{method} {concrete} with {body:?} answered {status}: {text}"
                        );
                        if status.is_client_error() {
                            let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                                panic!("{method} {concrete}: non-JSON error {text}")
                            });
                            assert!(
                                parsed["error"]["code"].is_string(),
                                "{method} {concrete}: {text}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} requests were made");
}

fn fill_path(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(value);
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A NUL character is refused where text enters, on every documented operation: in any query
/// parameter (400 `invalid_parameter` naming it), in a JSON body (422 naming the field), in a
/// path — never reaching the database, which would answer "unavailable".
#[tokio::test]
async fn a_nul_character_is_refused_where_text_enters_on_every_operation() {
    let app = spawn_app().await;
    let spec = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let owner = app.owner.token.as_str();
    let (mut queries, mut bodies) = (0, 0);
    for (path, operations) in spec["paths"].as_object().unwrap() {
        let concrete = fill_path(path, "00000000-0000-0000-0000-000000000000");
        for (method, operation) in operations.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in parameters.iter().filter(|p| p["in"] == "query") {
                let name = parameter["name"].as_str().unwrap();
                let url = app.url(&format!("{concrete}?{name}=a%00b"));
                let response = app
                    .client
                    .request(method.clone(), url)
                    .bearer_auth(owner)
                    .send()
                    .await
                    .unwrap();
                let body = expect_error(
                    response,
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    Some(name),
                )
                .await;
                assert!(body["error"]["message"].as_str().unwrap().contains("NUL"));
                queries += 1;
            }
            let json_body = operation["requestBody"]["content"]
                .as_object()
                .is_some_and(|content| content.keys().any(|k| k.starts_with("application/json")));
            if json_body && !path.starts_with("/webhooks/") {
                let response = app
                    .client
                    .request(method.clone(), app.url(&concrete))
                    .bearer_auth(owner)
                    .header("content-type", "application/json")
                    .body(r#"{"probe": {"deep": ["a\u0000b"]}}"#)
                    .send()
                    .await
                    .unwrap();
                expect_error(
                    response,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    Some("probe.deep.0"),
                )
                .await;
                bodies += 1;
            }
        }
    }
    assert!(
        queries > 40 && bodies > 30,
        "{queries} query parameters, {bodies} bodies"
    );

    // The places the attack reached the database before, by their own names.
    let listed = app.get("/api/v1/products?q=%00", None).await;
    expect_error(
        listed,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("q"),
    )
    .await;
    let completed = app
        .get("/api/v1/checkout/complete?session_id=%00", None)
        .await;
    expect_error(
        completed,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("session_id"),
    )
    .await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "a\u{0}b", "password": "x"}),
        )
        .await;
    expect_error(
        login,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("username"),
    )
    .await;
    let in_path = app.get("/api/v1/products/a%00b", None).await;
    expect_error(
        in_path,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("path"),
    )
    .await;
    // Upload form fields and file names.
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let product = app.model_listing(&seller, &models, "Vase").await;
    let images = format!("/api/v1/seller/products/{product}/images");
    let with_alt = app
        .upload(
            &images,
            &seller.token,
            "vase.png",
            png_bytes(),
            &[("alt_text", "a\0b")],
        )
        .await;
    expect_error(
        with_alt,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("alt_text"),
    )
    .await;
    // A NUL in a part's headers (the file name) does not even parse as multipart.
    let named = app
        .upload(&images, &seller.token, "va\0se.png", png_bytes(), &[])
        .await;
    expect_error(named, StatusCode::BAD_REQUEST, "bad_request", None).await;
}

#[tokio::test]
async fn a_method_no_route_has_is_405_in_the_envelope() {
    let app = spawn_app().await;
    for method in [Method::TRACE, Method::DELETE] {
        let response = app
            .client
            .request(method.clone(), app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
        expect_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        )
        .await;
    }
    let spec = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    let required = &spec["components"]["schemas"]["ErrorDetail"]["required"];
    assert!(
        !required
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == "fields")),
        "error.fields is documented as optional: {required}"
    );
}

/// Sends raw bytes to the app and returns the status line and the body.
async fn raw_request(app: &crate::helpers::TestApp, request: &[u8]) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Control characters in a header never reach the application: the HTTP parser answers a bare 400
/// (documented in the README); a tab, which HTTP allows, is an ordinary unknown cart token.
#[tokio::test]
async fn a_cart_token_with_a_control_character_is_refused_by_the_http_parser() {
    let app = spawn_app().await;
    for (token, expected) in [
        (&b"ab\x01cd"[..], "HTTP/1.1 400"),
        (&b"\x7f"[..], "HTTP/1.1 400"),
        (&b"ab\tcd"[..], "HTTP/1.1 200"),
    ] {
        let mut request =
            b"GET /api/v1/cart HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Cart-Token: ".to_vec();
        request.extend_from_slice(token);
        request.extend_from_slice(b"\r\n\r\n");
        let (status, body) = raw_request(&app, &request).await;
        assert!(status.starts_with(expected), "{token:?}: {status} {body}");
        if expected.ends_with("200") {
            let cart: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(cart["lines"], json!([]));
        }
    }
}
