//! The storefront's own static files, compiled into the binary: the stylesheet (served under a
//! URL naming its content, so browsers keep it for a year), the favicon and `robots.txt`.

use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::{Request, Response, handler};
use sha2::{Digest, Sha256};

/// The stylesheet.
pub const STYLESHEET: &str = include_str!("../assets/site.css");
/// The logo, inline in the header (and the favicon's picture).
pub const LOGO_SVG: &str = include_str!("../assets/logo.svg");

static STYLESHEET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
});

/// The stylesheet's URL, naming its version so a new build is fetched at once.
pub fn stylesheet_url() -> String {
    format!("/static/site.css?v={}", *STYLESHEET_VERSION)
}

fn with_version(request: &Request, content_type: &str, body: &'static str) -> Response {
    let etag = format!("\"{}\"", *STYLESHEET_VERSION);
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|tag| tag.trim() == etag));
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ETAG, etag);
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder.content_type(content_type).body(body)
    }
}

/// `GET /static/site.css`.
#[handler]
pub fn stylesheet(request: &Request) -> Response {
    with_version(request, "text/css; charset=utf-8", STYLESHEET)
}

/// `GET /favicon.svg` (and `/favicon.ico`, which browsers ask for on their own).
#[handler]
pub fn favicon() -> Response {
    Response::builder()
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .content_type("image/svg+xml")
        .body(LOGO_SVG)
}

/// `GET /robots.txt`: the catalogue may be indexed; carts, orders and accounts not. Listing cards'
/// links (`/products/{id}/go`) stay open, as they are how crawlers reach the product pages; a
/// crawler's pass counts as one throttled click per listing, as in the original.
#[handler]
pub fn robots() -> Response {
    Response::builder()
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .content_type("text/plain; charset=utf-8")
        .body(
            "User-agent: *\nDisallow: /cart\nDisallow: /checkout\nDisallow: /orders\n\
             Disallow: /account\nDisallow: /seller\nDisallow: /admin\nDisallow: /api/\n",
        )
}
