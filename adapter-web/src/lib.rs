//! # adapter-web
//!
//! The storefront: server-rendered HTML pages (maud templates, compiled with the crate) for
//! shoppers, sellers and owners, over the same use cases and the same sessions as the JSON API.
//! Pages work without JavaScript; every form carries a CSRF token and every write answers with a
//! redirect and a flash message (post/redirect/get). Handlers parse, call one use case and render;
//! no business rule lives here.
//!
//! It builds on `adapter-http`'s plumbing — the session and cart cookies, client addresses, the
//! request log — and never calls its API: [`routes`] sends API paths to the API endpoint it is
//! given and serves every other path itself. See `docs/architecture.md` ("The storefront").

use adapter_http::client::TrustedProxies;
use marketplace_domain::money::Currency;
use marketplace_ports::use_cases::Services;
use poem::middleware::{CatchPanic, CookieJarManager};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, post};

pub mod assets;
pub mod error;
pub mod form;
pub mod format;
pub mod links;
pub mod page;
pub mod pages;
pub mod visitor;

/// Storefront settings.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// The currency prices are shown in.
    pub currency: Currency,
    /// Largest form body, in bytes (uploads excepted).
    pub form_body_limit: u64,
    /// Largest upload form body, in bytes.
    pub upload_body_limit: u64,
    /// How anonymous catalogue pages are cached (`CATALOG_CACHE_MB`, kept apart from the API's).
    pub catalog_caching: adapter_http::cache::CatalogCaching,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            currency: Currency::USD,
            form_body_limit: 64 * 1024,
            upload_body_limit: marketplace_domain::files::ASSET_MAX_BYTES + 1024 * 1024,
            catalog_caching: adapter_http::cache::CatalogCaching::default(),
        }
    }
}

/// What every page handler reaches through the request's data: the use cases and the settings.
#[derive(Clone)]
pub struct Site {
    /// Use cases.
    pub services: Services,
    /// Settings.
    pub config: WebConfig,
}

/// True for the paths the JSON API owns (everything under `/api/` and `/webhooks/`, and the health
/// probes); the storefront serves the rest.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/webhooks/")
        || path == "/healthz"
        || path == "/readyz"
}

/// The whole site: the API endpoint for API paths, the storefront for every other path.
pub fn routes<A>(
    services: Services,
    config: WebConfig,
    trusted_proxies: TrustedProxies,
    api: A,
) -> impl Endpoint<Output = Response>
where
    A: Endpoint + 'static,
{
    let cache =
        adapter_http::cache::CatalogCache::new(config.catalog_caching.clone(), services.clone())
            .with_form_tokens(adapter_http::cache::FormTokens {
                cookie: visitor::FORM_COOKIE,
                is_token: visitor::is_form_token,
                secure: config.secure_cookies,
                issue: visitor::issue_form_token,
            });
    let site = Site { services, config };
    let limits = adapter_http::limits::BodyLimit {
        other: site.config.form_body_limit,
        multipart: site.config.upload_body_limit,
    };
    let storefront = pages::routes(Route::new())
        .at("/static/site.css", get(assets::stylesheet))
        .at("/favicon.svg", get(assets::favicon))
        .at("/favicon.ico", get(assets::favicon))
        .at("/robots.txt", get(assets::robots))
        .at("/logout", post(pages::accounts::logout))
        .catch_error(error::not_found)
        .with(cache)
        .with(limits)
        // Errors become pages inside the cookie jar, so what a failed request changed in it (a
        // flash shown, a dead session forgotten) still reaches the browser.
        .catch_all_error(|error| async move { error::from_poem(error) })
        .with(CookieJarManager::new())
        .data(site)
        .data(trusted_proxies)
        .with(CatchPanic::new().with_handler(|_| error::panicked()))
        .around(adapter_http::keep_order_tokens_private)
        .around(adapter_http::log_request);
    BesideApi {
        api,
        storefront: storefront.boxed(),
    }
}

/// Sends API paths to the API and the rest to the storefront.
struct BesideApi<A> {
    api: A,
    storefront: poem::endpoint::BoxEndpoint<'static, Response>,
}

impl<A: Endpoint> Endpoint for BesideApi<A> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if is_api_path(request.uri().path()) {
            self.api
                .call(request)
                .await
                .map(IntoResponse::into_response)
        } else {
            self.storefront.call(request).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_api_path;

    #[test]
    fn the_api_keeps_its_paths_and_the_storefront_gets_the_rest() {
        for path in [
            "/api/v1/products",
            "/api/docs",
            "/webhooks/stripe",
            "/healthz",
            "/readyz",
        ] {
            assert!(is_api_path(path), "{path}");
        }
        for path in ["/", "/products", "/apiary", "/healthz/x", "/webhooks"] {
            assert!(!is_api_path(path), "{path}");
        }
    }
}
