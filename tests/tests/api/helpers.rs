//! The test harness: boots the real application on port 0 against a fresh database and talks to it
//! over HTTP, like any client.

use adapter_postgres::testing::fresh_database;
use std::time::Duration;

use app::{Config, DatabaseConfig, JobsConfig, PaymentsConfig, StripeTuning};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// A running application and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A client without a cookie store (tests choose their credentials explicitly).
    pub client: reqwest::Client,
    /// Bearer token of an owner account created at start.
    pub owner: User,
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct User {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Bearer token.
    pub token: String,
}

/// The password every test user gets.
pub const PASSWORD: &str = "Sturdy-Filament-77";

/// Boots a fresh application (own database) and returns a handle to it.
pub async fn spawn_app() -> TestApp {
    let config = Config {
        database: DatabaseConfig::Options(Box::new(fresh_database().await)),
        bind: "127.0.0.1:0".parse().unwrap(),
        site_base_url: "http://127.0.0.1".into(),
        db_max_connections: 8,
        log_format: app::config::LogFormat::Pretty,
        payments: PaymentsConfig::Simulator,
        stripe: StripeTuning {
            timeout: Duration::from_millis(1500),
            max_retries: 3,
            backoff: Duration::from_millis(20),
        },
        jobs: JobsConfig {
            workers: 2,
            poll_interval: Duration::from_millis(25),
            retry_base: Duration::from_millis(100),
            max_attempts: 4,
        },
        smtp_url: None,
    };
    let application = app::build(config).await.expect("the app builds");
    let address = format!("http://{}", application.address());
    let owner_record = application
        .services()
        .accounts
        .create_owner("owner", Some("owner@example.com"), PASSWORD)
        .await
        .expect("create the owner");
    tokio::spawn(application.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut app = TestApp {
        address,
        client,
        owner: User {
            id: owner_record.id.to_string(),
            username: "owner".into(),
            token: String::new(),
        },
    };
    app.owner = app.login("owner").await;
    app
}

impl TestApp {
    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("the request is sent")
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.send(Method::PUT, path, token, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::DELETE, path, token, None).await
    }

    /// POST multipart with one `file` part and extra text fields.
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        self.upload_with(Method::POST, path, token, file_name, bytes, fields)
            .await
    }

    /// Sends multipart with one `file` part and extra text fields.
    pub async fn upload_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the upload is sent")
    }

    /// Registers a user (optionally as a seller) and returns its session.
    pub async fn register(&self, username: &str, seller: bool) -> User {
        let response = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com"),
                       "register_as_seller": seller}),
            )
            .await;
        let body = expect_json(response, StatusCode::CREATED).await;
        User {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs a user in with [`PASSWORD`].
    pub async fn login(&self, username: &str) -> User {
        let response = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        let body = expect_json(response, StatusCode::OK).await;
        User {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a category as the owner.
    pub async fn category(&self, kind: &str, name: &str, parent: Option<&str>) -> String {
        let response = self
            .post(
                "/api/v1/admin/categories",
                Some(&self.owner.token),
                json!({"type": kind, "name": name, "parent_id": parent}),
            )
            .await;
        expect_json(response, StatusCode::CREATED).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Marks a seller's Stripe Connect account ready, as the owner.
    pub async fn make_ready(&self, seller: &User) {
        let response = self
            .put(
                &format!("/api/v1/admin/sellers/{}/connect", seller.id),
                Some(&self.owner.token),
                json!({"stripe_account_id": format!("acct_{}", seller.username.replace(['-', '_'], "")),
                       "details_submitted": true, "charges_enabled": true, "payouts_enabled": true}),
            )
            .await;
        expect_json(response, StatusCode::OK).await;
    }

    /// A seller with a ready account.
    pub async fn ready_seller(&self, username: &str) -> User {
        let seller = self.register(username, true).await;
        self.make_ready(&seller).await;
        seller
    }

    /// Creates a listing; returns its JSON.
    pub async fn listing(&self, seller: &User, body: Value) -> Value {
        let response = self
            .post("/api/v1/seller/products", Some(&seller.token), body)
            .await;
        expect_json(response, StatusCode::CREATED).await
    }
}

/// Asserts the status and returns the JSON body (printing it on a mismatch).
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Asserts an error response: its status, its code, and (if given) that `field` has a message.
pub async fn expect_error(
    response: Response,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) -> Value {
    let body = expect_json(response, status).await;
    assert_eq!(
        body["error"]["code"], code,
        "unexpected error code in {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "no message in {body}"
    );
    if let Some(field) = field {
        let messages = &body["error"]["fields"][field];
        assert!(
            messages.as_array().is_some_and(|m| !m.is_empty()),
            "expected a message for field {field:?} in {body}"
        );
    }
    body
}

/// A tiny valid PNG (1×1, from the PNG test suite's structure).
pub fn png_bytes() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// A small ASCII STL file.
pub fn stl_bytes() -> Vec<u8> {
    b"solid cube\n  facet normal 0 0 1\n    outer loop\n      vertex 0 0 0\n      vertex 1 0 0\n      vertex 0 1 0\n    endloop\n  endfacet\nendsolid cube\n"
        .to_vec()
}
