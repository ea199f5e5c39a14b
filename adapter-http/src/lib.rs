//! # adapter-http
//!
//! The JSON API over HTTP, built with poem-openapi: every endpoint is described in the OpenAPI
//! document served at `/api/openapi.json` (interactive docs at `/api/docs`). Handlers are thin:
//! parse, call one use case, map the result. Errors always use the envelope of [`error`].

use std::time::Instant;

use marketplace_domain::files::UploadError;
use marketplace_domain::money::Currency;
use marketplace_ports::use_cases::{Services, UploadedFile};
use poem::http::{HeaderValue, header};
use poem::middleware::{CatchPanic, CookieJarManager};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;
use poem_openapi::types::multipart::Upload;
use tracing::Instrument;

pub mod api;
pub mod auth;
pub mod cache;
pub mod client;
pub mod document;
pub mod dto;
pub mod error;
pub mod files;
pub mod input;
pub mod json;
pub mod limits;
pub mod links;
pub mod mail;
pub mod params;

use api::accounts::AccountsApi;
use api::admin::AdminApi;
use api::books::BooksApi;
use api::cart::CartApi;
use api::catalog::CatalogApi;
use api::insights::InsightsApi;
use api::moderation::ModerationApi;
use api::money::MoneyApi;
use api::notifications::NotificationsApi;
use api::orders::OrdersApi;
use api::owner_tools::OwnerToolsApi;
use api::products::ProductsApi;
use api::qa::QaApi;
use api::refund_requests::RefundRequestsApi;
use api::reviews::ReviewsApi;
use api::seller::SellerApi;
use api::system::SystemApi;
use api::users::UsersApi;
use api::webhooks::WebhooksApi;
use error::ApiError;
use input::RejectNul;
use limits::BodyLimit;

/// HTTP settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// The currency prices are shown in.
    pub currency: Currency,
    /// Largest non-upload request body, in bytes.
    pub json_body_limit: u64,
    /// Largest multipart upload body, in bytes.
    pub upload_body_limit: u64,
    /// Our own proxies, whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: client::TrustedProxies,
    /// How public catalogue answers are cached (`CATALOG_CACHE_MB`).
    pub catalog_caching: cache::CatalogCaching,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            secure_cookies: false,
            currency: Currency::USD,
            json_body_limit: 1024 * 1024,
            upload_body_limit: marketplace_domain::files::ASSET_MAX_BYTES + 1024 * 1024,
            trusted_proxies: client::TrustedProxies::default(),
            catalog_caching: cache::CatalogCaching::default(),
        }
    }
}

type Apis = (
    SystemApi,
    AccountsApi,
    CatalogApi,
    ProductsApi,
    SellerApi,
    AdminApi,
    BooksApi,
    CartApi,
    OrdersApi,
    MoneyApi,
    WebhooksApi,
    // Poem implements `OpenApi` for tuples of up to 16: the community features are one element.
    (
        RefundRequestsApi,
        ReviewsApi,
        QaApi,
        ModerationApi,
        NotificationsApi,
        UsersApi,
        InsightsApi,
        OwnerToolsApi,
    ),
);

fn openapi_service(services: &Services, config: HttpConfig) -> OpenApiService<Apis, ()> {
    let apis = (
        SystemApi {
            services: services.clone(),
        },
        AccountsApi {
            services: services.clone(),
            config: config.clone(),
        },
        CatalogApi {
            services: services.clone(),
            currency: config.currency,
        },
        ProductsApi {
            services: services.clone(),
            currency: config.currency,
        },
        SellerApi {
            services: services.clone(),
            currency: config.currency,
        },
        AdminApi {
            services: services.clone(),
        },
        BooksApi {
            services: services.clone(),
        },
        CartApi {
            services: services.clone(),
            config,
        },
        OrdersApi {
            services: services.clone(),
        },
        MoneyApi {
            services: services.clone(),
        },
        WebhooksApi {
            services: services.clone(),
        },
        (
            RefundRequestsApi {
                services: services.clone(),
            },
            ReviewsApi {
                services: services.clone(),
            },
            QaApi {
                services: services.clone(),
            },
            ModerationApi {
                services: services.clone(),
            },
            NotificationsApi {
                services: services.clone(),
            },
            UsersApi {
                services: services.clone(),
            },
            InsightsApi {
                services: services.clone(),
            },
            OwnerToolsApi {
                services: services.clone(),
            },
        ),
    );
    OpenApiService::new(apis, "Home Craft 3D marketplace API", env!("CARGO_PKG_VERSION")).description(
        "Multi-vendor marketplace for 3D-printed models and digital 3D files. Amounts are integer \
         cents (`*_cents`) with a `currency`. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`. \
         Authenticate with `Authorization: Bearer <token>` from login, or with the session cookie plus \
         `X-CSRF-Token` on writes.",
    )
}

/// The OpenAPI document as JSON (for snapshot tests and clients), as `/api/openapi.json` serves
/// it.
pub fn openapi_json(services: &Services, config: HttpConfig) -> String {
    document::finish(&openapi_service(services, config).spec())
}

/// Every route of the application, with its middleware.
pub fn routes(services: Services, config: HttpConfig) -> impl Endpoint<Output = Response> {
    let api = openapi_service(&services, config.clone());
    let spec = document::finish(&api.spec());
    let spec = poem::get(poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(spec.clone())
    }));
    let docs = api.swagger_ui();
    let catalog_cache = cache::CatalogCache::new(config.catalog_caching.clone(), services.clone());
    Route::new()
        .nest("/", api)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .with(catalog_cache)
        .with(RejectNul)
        .with(BodyLimit {
            other: config.json_body_limit,
            multipart: config.upload_body_limit,
        })
        .with(CookieJarManager::new())
        .data(services)
        .data(config.trusted_proxies.clone())
        .catch_all_error(|error| async move { error_response(error) })
        .with(
            CatchPanic::new().with_handler(|_| {
                ApiError::internal(&"a request handler panicked").into_response()
            }),
        )
        .around(keep_order_tokens_private)
        .around(log_request)
}

/// True when a request carries a guest order token (`t=` or `X-Order-Token`) or reaches the
/// pages that hand one out (orders, checkout, refund requests — the API's and the storefront's).
fn touches_order_tokens(request: &Request) -> bool {
    let path = request.uri().path();
    [
        "/api/v1/orders",
        "/api/v1/checkout",
        "/api/v1/refund-requests",
        "/orders",
        "/checkout",
        "/refund-requests",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
        || request.headers().contains_key("x-order-token")
        || request.uri().query().is_some_and(carries_order_token)
}

/// True when a query string has a `t` parameter, however it is escaped (`%74=` is `t=`; bytes that
/// are not UTF-8 decode as replacement characters, so every query decodes).
fn carries_order_token(query: &str) -> bool {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_or(true, |pairs| pairs.iter().any(|(name, _)| name == "t"))
}

/// Responses that carry a guest order token, or answer a request made with one, are never stored
/// by a cache nor passed on in a `Referer` (`Cache-Control: no-store`,
/// `Referrer-Policy: no-referrer`). The storefront's pages go through it too.
pub async fn keep_order_tokens_private<E: Endpoint>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let private = touches_order_tokens(&request);
    let mut response = match next.call(request).await {
        Ok(response) => response.into_response(),
        Err(error) => error_response(error),
    };
    if private {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Ok(response)
}

/// The response for an error that escaped an operation: operations' own error responses pass
/// through untouched; anything else (unknown route, bad method, body limit) gets the envelope.
fn error_response(error: poem::Error) -> Response {
    if error.is_from_response() {
        return error.into_response();
    }
    if error.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED {
        // A method no route has (TRACE, or DELETE on a list): 405 in the envelope.
        let mut response =
            ApiError::bad_request("method_not_allowed", error.to_string()).into_response();
        response.set_status(poem::http::StatusCode::METHOD_NOT_ALLOWED);
        return response;
    }
    ApiError::from_request_error(error).into_response()
}

/// Gives every request an id (the storefront's too) (kept from `X-Request-Id` when sane), logs method, path, status and
/// time, and returns the id in the response.
pub async fn log_request<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let mut response = match next.call(request).instrument(span.clone()).await {
        Ok(response) => response.into_response(),
        Err(error) => error_response(error),
    };
    let status = response.status();
    let elapsed_ms = started.elapsed().as_millis();
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// Reads an uploaded file into memory after checking its size against `max` (so an oversized file
/// is refused before it is read), giving a 413 for files too large.
///
/// # Errors
/// [`ApiError`] 413 when too large, 400 when the temporary file cannot be read.
pub async fn read_upload(upload: Upload, max: u64) -> Result<UploadedFile, ApiError> {
    let size = u64::try_from(upload.size()).unwrap_or(u64::MAX);
    if size > max {
        return Err(UploadError::TooLarge { size, limit: max }.into());
    }
    let file_name = upload.file_name().unwrap_or_default().to_owned();
    input::form_text("file", &file_name)?;
    let bytes = upload.into_vec().await.map_err(|e| {
        ApiError::bad_request("upload_failed", format!("could not read the upload: {e}"))
    })?;
    Ok(UploadedFile { file_name, bytes })
}

#[cfg(test)]
mod tests {
    use super::carries_order_token;

    #[test]
    fn an_order_token_is_seen_however_the_query_spells_it() {
        for query in [
            "t=abc",
            "a=1&t=abc",
            "%74=abc",
            "t",
            "a=1&%74",
            "x=%ff%fe&%74=1",
        ] {
            assert!(carries_order_token(query), "{query}");
        }
        for query in ["", "a=1", "tt=1", "at=1&page=2", "q=t"] {
            assert!(!carries_order_token(query), "{query}");
        }
    }
}
