//! Public catalogue answers: cached in the process, validated with `ETag`s.
//!
//! The catalogue's reads (the list, the home page, categories, a listing's page, reviews and
//! sellers' public pages) answer every anonymous visitor alike, so their JSON is kept here, keyed
//! by path and query, for as long as the [`CatalogVersion`] it was computed under is current: a
//! commit that changes anything those pages show moves the version (in this instance before the
//! commit returns, in the others when PostgreSQL's notification arrives), and nothing is served
//! from the cache while the version is unknown. Every such answer carries a strong `ETag` (a
//! digest of its bytes) and `Cache-Control: public, no-cache`, so browsers and proxies revalidate
//! and get `304 Not Modified` when nothing changed. Requests with credentials (a session cookie
//! or an `Authorization` header) pass through untouched: what they see may depend on who asks.
//! The storefront's anonymous catalogue pages (home, browse, category and seller pages) are kept
//! the same way by an instance of their own, unless the visitor has a flash message waiting. A
//! listing's page is kept too, though its forms carry the visitor's own form token: the token is
//! masked in the kept page and each visitor's is put back when it is served ([`FormTokens`]).
//! See docs/architecture.md, "Caching the catalogue".

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use marketplace_domain::ids::ProductId;
use marketplace_ports::ports::CatalogVersion;
use marketplace_ports::use_cases::Services;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::cookie::CookieJar;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// What answers are kept under: the current catalogue version and the memory they may use.
#[derive(Clone, Debug, Default)]
pub struct CatalogCaching {
    /// The version answers are checked against (moved by the store).
    pub version: CatalogVersion,
    /// Bytes of JSON (and keys) the cache may hold; 0 keeps nothing (answers still carry
    /// `ETag`s and revalidate).
    pub budget_bytes: usize,
}

/// How public catalogue answers may be stored by browsers and proxies: kept, but checked with
/// the server (a `304` when unchanged) before each use; `Vary` keeps a signed-in user's answer
/// apart from the anonymous one.
const CACHE_CONTROL: &str = "public, no-cache";
const VARY: &str = "Authorization, Cookie";

/// The catalogue reads whose anonymous answers are the same for everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CatalogRead {
    /// A listing's page: a view is counted even when the page comes from the cache.
    Listing(ProductId),
    /// The storefront's page of a listing: the same for everyone but the form token its forms
    /// carry (kept only by a cache that knows the storefront's [`FormTokens`]); a view is counted
    /// on every answer, as for [`CatalogRead::Listing`].
    ListingPage(ProductId),
    /// Any other public catalogue read.
    Other,
}

/// How the storefront gives anonymous visitors the form token of its double-submit CSRF check:
/// the cookie it is kept in and how a new one is issued. A cache that knows them keeps listing
/// pages with the token masked and serves each visitor the page with theirs (minting it, and its
/// cookie, for a first visit), so the page is computed once for everyone.
#[derive(Clone, Copy, Debug)]
pub struct FormTokens {
    /// The cookie holding a visitor's token.
    pub cookie: &'static str,
    /// Whether a cookie's value is a token the storefront would use (anything else is not: a new
    /// one is made). The storefront's own check, so the page and the cache never disagree.
    pub is_token: fn(&str) -> bool,
    /// Whether the cookie is marked `Secure`.
    pub secure: bool,
    /// Makes a new token and sets its cookie in the jar (the storefront's own way, so a token
    /// issued here is the same as one a page issues).
    pub issue: fn(&CookieJar, bool) -> String,
}

/// What stands for the visitor's token in a kept page: the value of a form's `csrf` field. Page
/// text is escaped, so no content can spell it (`<` becomes `&lt;`).
const MASKED_TOKEN: &str = "<hc3-form-token>";

/// The token as a page carries it: the value of a form's hidden `csrf` field. Only that is
/// masked and put back, never the same characters elsewhere in the page.
/// How a form's CSRF field starts in a page.
const CSRF_FIELD: &str = "name=\"csrf\"";

fn csrf_value(token: &str) -> String {
    format!("name=\"csrf\" value=\"{token}\"")
}

/// How a page that carries the visitor's own token may be stored: by their browser only.
const PRIVATE_CACHE_CONTROL: &str = "private, no-cache";

/// The query parameters catalogue reads take. A request with any other is answered but not kept,
/// so made-up parameters cannot crowd useful answers out of the cache.
const KNOWN_PARAMETERS: [&str; 6] = ["kind", "q", "category", "sort", "page", "per_page"];

/// Whether every parameter of `query` is one catalogue reads take.
fn known_parameters(query: Option<&str>) -> bool {
    query.is_none_or(|query| {
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .all(|pair| {
                let name = pair.split('=').next().unwrap_or_default();
                KNOWN_PARAMETERS.contains(&name)
            })
    })
}

/// Cookies whose presence makes an answer personal: the session, and the storefront's flash
/// message (shown once, by the next page).
const PERSONAL_COOKIES: [&[u8]; 2] = [
    crate::auth::SESSION_COOKIE.as_bytes(),
    crate::auth::FLASH_COOKIE.as_bytes(),
];

/// Which catalogue read a request is, if it may be answered from the cache.
fn catalog_read(request: &Request) -> Option<CatalogRead> {
    let personal_cookie = request.headers().get_all(header::COOKIE).iter().any(|v| {
        PERSONAL_COOKIES
            .iter()
            .any(|name| v.as_bytes().windows(name.len()).any(|w| w == *name))
    });
    if request.method() != Method::GET
        || personal_cookie
        || request.headers().contains_key(header::AUTHORIZATION)
        || !known_parameters(request.uri().query())
    {
        return None;
    }
    let is_id = |segment: &str| Uuid::parse_str(segment).is_ok();
    let Some(path) = request.uri().path().strip_prefix("/api/v1/") else {
        // The storefront's pages that are the same for every anonymous visitor (a listing's page
        // but for the visitor's form token).
        let segments: Vec<&str> = request.uri().path().split('/').skip(1).collect();
        return match segments.as_slice() {
            [""] | ["products"] => Some(CatalogRead::Other),
            ["categories", id] | ["sellers", id] if is_id(id) => Some(CatalogRead::Other),
            ["products", id] => Uuid::parse_str(id)
                .ok()
                .map(|id| CatalogRead::ListingPage(ProductId::from_uuid(id))),
            _ => None,
        };
    };
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["products" | "home" | "categories"] => Some(CatalogRead::Other),
        ["categories", id] | ["sellers", id] if is_id(id) => Some(CatalogRead::Other),
        ["products", id, "reviews"] | ["sellers", id, "reviews"] if is_id(id) => {
            Some(CatalogRead::Other)
        }
        ["products", id] => Uuid::parse_str(id)
            .ok()
            .map(|id| CatalogRead::Listing(ProductId::from_uuid(id))),
        _ => None,
    }
}

/// Headers an answer is replayed with, besides its type (the storefront's page protections).
/// Never a `Set-Cookie`: a kept answer is everyone's.
const REPLAYED_HEADERS: [&str; 4] = [
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
];

/// One kept answer.
struct Kept {
    content_type: HeaderValue,
    etag: HeaderValue,
    headers: Vec<(&'static str, HeaderValue)>,
    body: bytes::Bytes,
    /// The body holds [`MASKED_TOKEN`] where the visitor's form token goes.
    masked: bool,
}

impl Kept {
    fn of(content_type: Option<HeaderValue>, body: bytes::Bytes) -> Kept {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex_prefix(&digest));
        Kept {
            content_type: content_type
                .unwrap_or_else(|| HeaderValue::from_static("application/json; charset=utf-8")),
            // Hex digits and quotes only: always a valid header value.
            etag: HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
            headers: Vec::new(),
            body,
            masked: false,
        }
    }

    /// A page read for a visitor whose form token is `token`, to keep for everyone: with the token
    /// masked where a form's `csrf` field carries it, as it is when it has no form. `None` when a
    /// form carries any other token: the page is that visitor's alone and never kept.
    fn masking(
        content_type: Option<HeaderValue>,
        body: &[u8],
        token: Option<&str>,
    ) -> Option<Kept> {
        if let (Some(token), Ok(text)) = (token, std::str::from_utf8(body)) {
            let field = csrf_value(token);
            if text.contains(&field) {
                let masked = text.replace(&field, &csrf_value(MASKED_TOKEN));
                return Some(Kept {
                    masked: true,
                    ..Kept::of(content_type, bytes::Bytes::from(masked))
                });
            }
        }
        let has_form = body
            .windows(CSRF_FIELD.len())
            .any(|w| w == CSRF_FIELD.as_bytes());
        (!has_form).then(|| Kept::of(content_type, bytes::Bytes::copy_from_slice(body)))
    }

    /// With the replayable headers of the answer it was made from.
    fn replaying(mut self, headers: &poem::http::HeaderMap) -> Kept {
        self.headers = REPLAYED_HEADERS
            .iter()
            .filter_map(|name| headers.get(*name).map(|value| (*name, value.clone())))
            .collect();
        self
    }

    fn size(&self, key: &str) -> usize {
        self.body.len().saturating_add(key.len())
    }

    /// The answer to a request that sent `if_none_match` (304 when it names this answer), for a
    /// visitor whose form token is `token`: a masked page gets it back, with an `ETag` of its own
    /// (the page's and the token's) and for that visitor's browser only.
    fn respond_to(&self, if_none_match: Option<&HeaderValue>, token: Option<&str>) -> Response {
        let personal = token.filter(|_| self.masked);
        let etag = match personal {
            Some(token) => {
                let page = self.etag.to_str().unwrap_or_default().trim_matches('"');
                let visitor = hex_prefix(&Sha256::digest(token.as_bytes()));
                HeaderValue::from_str(&format!("\"{page}-{visitor}\""))
                    .unwrap_or_else(|_| self.etag.clone())
            }
            None => self.etag.clone(),
        };
        let unchanged = if_none_match
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| names_etag(tags, etag.to_str().unwrap_or_default()));
        let cache_control = if personal.is_some() {
            PRIVATE_CACHE_CONTROL
        } else {
            CACHE_CONTROL
        };
        let mut builder = Response::builder()
            .header(header::ETAG, etag)
            .header(header::CACHE_CONTROL, cache_control)
            .header(header::VARY, VARY);
        for (name, value) in &self.headers {
            builder = builder.header(*name, value.clone());
        }
        if unchanged {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        let body = match personal {
            // Kept bodies are masked from text, so they are text.
            Some(token) => match std::str::from_utf8(&self.body) {
                Ok(text) => {
                    bytes::Bytes::from(text.replace(&csrf_value(MASKED_TOKEN), &csrf_value(token)))
                }
                Err(_) => self.body.clone(),
            },
            None => self.body.clone(),
        };
        builder
            .header(header::CONTENT_TYPE, self.content_type.clone())
            .body(Body::from_bytes(body))
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Whether an `If-None-Match` list names `etag` (or is `*`); weak comparison, as RFC 9110 asks.
pub(crate) fn names_etag(tags: &str, etag: &str) -> bool {
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The kept answers of one catalogue version.
#[derive(Default)]
struct Entries {
    version: u64,
    bytes: usize,
    answers: HashMap<String, Arc<Kept>>,
}

/// The cache, shared by every request of the process.
struct Store {
    caching: CatalogCaching,
    entries: RwLock<Entries>,
}

impl Store {
    fn get(&self, key: &str) -> Option<Arc<Kept>> {
        let version = self.caching.version.current()?;
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.version != version {
            return None;
        }
        entries.answers.get(key).cloned()
    }

    /// Keeps an answer computed under `version`, unless the catalogue moved on meanwhile or it
    /// does not fit.
    fn put(&self, version: u64, key: String, kept: Arc<Kept>) {
        let size = kept.size(&key);
        if size > self.caching.budget_bytes || self.caching.version.current() != Some(version) {
            return;
        }
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.version != version {
            if entries.version > version {
                return;
            }
            *entries = Entries {
                version,
                ..Entries::default()
            };
        }
        // Over budget: start again (the answers come back as they are asked for).
        if entries.bytes.saturating_add(size) > self.caching.budget_bytes {
            *entries = Entries {
                version,
                ..Entries::default()
            };
        }
        if let Some(replaced) = entries.answers.insert(key.clone(), kept) {
            entries.bytes = entries.bytes.saturating_sub(replaced.size(&key));
        }
        entries.bytes = entries.bytes.saturating_add(size);
    }
}

/// The middleware: answers catalogue reads from the cache, keeps fresh ones, and adds `ETag`s.
pub struct CatalogCache {
    store: Arc<Store>,
    services: Services,
    form_tokens: Option<FormTokens>,
}

impl CatalogCache {
    /// A cache over `caching`; `services` count the views of listing pages it answers.
    pub fn new(caching: CatalogCaching, services: Services) -> CatalogCache {
        CatalogCache {
            store: Arc::new(Store {
                caching,
                entries: RwLock::new(Entries::default()),
            }),
            services,
            form_tokens: None,
        }
    }

    /// Also keeps the storefront's listing pages, giving each visitor their own form token
    /// (needs poem's `CookieJarManager` around it).
    #[must_use]
    pub fn with_form_tokens(mut self, tokens: FormTokens) -> CatalogCache {
        self.form_tokens = Some(tokens);
        self
    }
}

impl<E: Endpoint> Middleware<E> for CatalogCache {
    type Output = CatalogCacheEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CatalogCacheEndpoint {
            inner,
            store: self.store.clone(),
            services: self.services.clone(),
            form_tokens: self.form_tokens,
        }
    }
}

/// [`CatalogCache`] around an endpoint.
pub struct CatalogCacheEndpoint<E> {
    inner: E,
    store: Arc<Store>,
    services: Services,
    form_tokens: Option<FormTokens>,
}

impl FormTokens {
    /// The token in the visitor's cookie, if it is one (of our length and alphabet: it goes into
    /// the page as it is).
    fn sent(&self, jar: &CookieJar) -> Option<String> {
        jar.get(self.cookie)
            .map(|cookie| cookie.value_str().to_owned())
            .filter(|token| {
                (self.is_token)(token) && token.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    }

    /// The visitor's token, made now (with its cookie) when they have none.
    fn of_visitor(&self, jar: &CookieJar) -> String {
        self.sent(jar)
            .unwrap_or_else(|| (self.issue)(jar, self.secure))
    }
}

impl<E: Endpoint> Endpoint for CatalogCacheEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let read = catalog_read(&request).filter(|read| {
            !matches!(read, CatalogRead::ListingPage(_)) || self.form_tokens.is_some()
        });
        let Some(read) = read else {
            return self
                .inner
                .call(request)
                .await
                .map(IntoResponse::into_response);
        };
        let key = request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |pq| pq.as_str().to_owned(),
        );
        let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
        // Only listing pages read the cookie jar (a cache configured with form tokens runs
        // inside poem's `CookieJarManager`; the API's has no jar).
        let tokens = match read {
            CatalogRead::ListingPage(_) => self
                .form_tokens
                .map(|tokens| (tokens, request.cookie().clone())),
            _ => None,
        };
        if let Some(kept) = self.store.get(&key) {
            if let CatalogRead::Listing(product) | CatalogRead::ListingPage(product) = read {
                let visitor = crate::auth::visitor_of(&request);
                self.services
                    .engagement
                    .view_of_cached_page(&visitor, product);
            }
            let token = match &tokens {
                Some((tokens, jar)) if kept.masked => Some(tokens.of_visitor(jar)),
                _ => None,
            };
            return Ok(kept.respond_to(if_none_match.as_ref(), token.as_deref()));
        }
        let version = self.store.caching.version.current();
        let response = self.inner.call(request).await?.into_response();
        if response.status() != StatusCode::OK {
            return Ok(response);
        }
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let headers = response.headers().clone();
        let body = response.into_body().into_bytes().await?;
        // The page's forms carry the token the visitor sent, or the one the page just made.
        let token = tokens.as_ref().and_then(|(tokens, jar)| tokens.sent(jar));
        let kept = match tokens {
            Some(_) => Kept::masking(content_type.clone(), &body, token.as_deref()),
            None => Some(Kept::of(content_type.clone(), body.clone())),
        };
        let Some(kept) = kept else {
            // A form whose token could not be masked carries this visitor's own: the page is
            // theirs alone, answered for their browser only and never kept.
            let mut answer = Kept::of(content_type, body)
                .replaying(&headers)
                .respond_to(if_none_match.as_ref(), None);
            answer.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(PRIVATE_CACHE_CONTROL),
            );
            return Ok(answer);
        };
        let kept = Arc::new(kept.replaying(&headers));
        let answer = kept.respond_to(if_none_match.as_ref(), token.as_deref());
        if let Some(version) = version {
            self.store.put(version, key, kept);
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        Request::builder().uri(uri.parse().expect("uri")).finish()
    }

    #[test]
    fn only_anonymous_catalogue_reads_are_cached() {
        let id = Uuid::nil();
        for path in [
            "/api/v1/products?sort=new".to_owned(),
            "/api/v1/home".to_owned(),
            "/api/v1/categories".to_owned(),
            format!("/api/v1/categories/{id}"),
            format!("/api/v1/products/{id}/reviews"),
            format!("/api/v1/sellers/{id}"),
            format!("/api/v1/sellers/{id}/reviews"),
        ] {
            assert_eq!(
                catalog_read(&get(&path)),
                Some(CatalogRead::Other),
                "{path}"
            );
        }
        assert_eq!(
            catalog_read(&get(&format!("/api/v1/products/{id}"))),
            Some(CatalogRead::Listing(ProductId::from_uuid(id)))
        );
        assert_eq!(
            catalog_read(&get(
                "/api/v1/products?sort=new&page=2&per_page=5&kind=FILE&q=owl"
            )),
            Some(CatalogRead::Other)
        );
        for path in [
            "/api/v1/products?sort=new&flood=1",
            "/api/v1/cart",
            "/api/v1/products/not-an-id",
            "/api/v1/seller/products",
            "/api/v1/products/00000000-0000-0000-0000-000000000000/images/x",
            "/api/v1/categories/slug",
            "/healthz",
            "/cart",
            "/products/not-an-id",
            "/orders",
            "/login",
        ] {
            assert_eq!(catalog_read(&get(path)), None, "{path}");
        }
        for path in [
            "/".to_owned(),
            "/products?q=owl&kind=FILE&category=&sort=top&page=2".to_owned(),
            format!("/categories/{id}"),
            format!("/sellers/{id}"),
        ] {
            assert_eq!(
                catalog_read(&get(&path)),
                Some(CatalogRead::Other),
                "{path}"
            );
        }
        assert_eq!(
            catalog_read(&get(&format!("/products/{id}"))),
            Some(CatalogRead::ListingPage(ProductId::from_uuid(id)))
        );
        let with_flash = Request::builder()
            .uri("/".parse().expect("uri"))
            .header(header::COOKIE, "hc3_form=x; hc3_flash=k%3Dn")
            .finish();
        assert_eq!(catalog_read(&with_flash), None);
        let signed_in = Request::builder()
            .uri("/api/v1/products".parse().expect("uri"))
            .header(header::AUTHORIZATION, "Bearer abc")
            .finish();
        assert_eq!(catalog_read(&signed_in), None);
        let with_session = Request::builder()
            .uri("/api/v1/products".parse().expect("uri"))
            .header(header::COOKIE, "theme=dark; hc3_session=abc")
            .finish();
        assert_eq!(catalog_read(&with_session), None);
        let post = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/products".parse().expect("uri"))
            .finish();
        assert_eq!(catalog_read(&post), None);
    }

    #[test]
    fn an_etag_list_is_matched_weakly_and_by_star() {
        let kept = Kept::of(None, bytes::Bytes::from_static(b"{}"));
        let tag = kept.etag.to_str().expect("ascii").to_owned();
        assert!(names_etag(&tag, &tag));
        assert!(names_etag(&format!("\"x\", W/{tag}"), &tag));
        assert!(names_etag("*", &tag));
        assert!(!names_etag("\"other\"", &tag));
        assert_eq!(
            kept.respond_to(Some(&kept.etag), None).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(kept.respond_to(None, None).status(), StatusCode::OK);
    }

    #[test]
    fn a_kept_page_masks_its_visitors_token_and_gives_each_visitor_theirs() {
        let token_a = "a".repeat(64);
        let token_b = "b".repeat(64);
        let page = format!("<form><input name=\"csrf\" value=\"{token_a}\"></form>");
        let kept = Kept::masking(None, page.as_bytes(), Some(&token_a)).expect("kept");
        assert!(kept.masked);
        assert!(!String::from_utf8_lossy(&kept.body).contains(&token_a));
        let for_b = kept.respond_to(None, Some(&token_b));
        let etag_b = for_b.headers()[header::ETAG].clone();
        assert_eq!(
            for_b.headers()[header::CACHE_CONTROL],
            PRIVATE_CACHE_CONTROL
        );
        let etag_a = kept.respond_to(None, Some(&token_a)).headers()[header::ETAG].clone();
        assert_ne!(etag_a, etag_b, "each visitor's page has its own tag");
        assert_eq!(
            kept.respond_to(Some(&etag_b), Some(&token_b)).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            kept.respond_to(Some(&etag_a), Some(&token_b)).status(),
            StatusCode::OK,
            "another visitor's tag does not match"
        );
        // A page without the token (no form) is kept as it is, for everyone.
        let plain = Kept::masking(None, b"<p>no form</p>", Some(&token_a)).expect("kept");
        assert!(!plain.masked);
        assert_eq!(
            plain.respond_to(None, Some(&token_b)).headers()[header::CACHE_CONTROL],
            CACHE_CONTROL
        );
        // A form carrying some other token is that visitor's alone: never kept.
        assert!(Kept::masking(None, page.as_bytes(), Some(&token_b)).is_none());
        assert!(Kept::masking(None, page.as_bytes(), None).is_none());
    }

    #[tokio::test]
    async fn a_kept_page_is_served_with_the_visitors_token() {
        let (sent, token) = ("a".repeat(64), "c".repeat(64));
        // The same characters in the page's text (a description, say) are left alone.
        let page = format!("<p>{sent}</p><input name=\"csrf\" value=\"{sent}\">");
        let kept = Kept::masking(None, page.as_bytes(), Some(&sent)).expect("kept");
        let body = kept
            .respond_to(None, Some(&token))
            .into_body()
            .into_string()
            .await
            .expect("text");
        assert_eq!(
            body,
            format!("<p>{sent}</p><input name=\"csrf\" value=\"{token}\">")
        );
    }

    fn store(budget_bytes: usize) -> Store {
        let version = CatalogVersion::default();
        version.start_following();
        Store {
            caching: CatalogCaching {
                version,
                budget_bytes,
            },
            entries: RwLock::new(Entries::default()),
        }
    }

    fn answer(body: &'static [u8]) -> Arc<Kept> {
        Arc::new(Kept::of(None, bytes::Bytes::from_static(body)))
    }

    #[test]
    fn an_answer_lives_as_long_as_its_version() {
        let store = store(1024);
        let v1 = store.caching.version.current().expect("following");
        store.put(v1, "/a".into(), answer(b"one"));
        assert!(store.get("/a").is_some());
        store.caching.version.advance();
        assert!(store.get("/a").is_none(), "a change drops it");
        // Computed before the change, stored after it: never kept.
        store.put(v1, "/a".into(), answer(b"stale"));
        assert!(store.get("/a").is_none());
        let v2 = store.caching.version.current().expect("following");
        store.put(v2, "/a".into(), answer(b"two"));
        assert_eq!(store.get("/a").expect("kept").body.as_ref(), b"two");
        store.caching.version.stop_following();
        assert!(store.get("/a").is_none(), "nothing is served while deaf");
    }

    #[test]
    fn the_cache_stays_within_its_budget() {
        let store = store(20);
        let v = store.caching.version.current().expect("following");
        store.put(v, "/a".into(), answer(b"0123456789"));
        store.put(v, "/b".into(), answer(b"0123456789"));
        let entries = store.entries.read().expect("lock");
        assert!(entries.bytes <= 20, "{} bytes", entries.bytes);
        assert_eq!(entries.answers.len(), 1, "the cache started again");
        drop(entries);
        store.put(v, "/big".into(), answer(b"0123456789012345678901234"));
        assert!(store.get("/big").is_none(), "larger than the whole budget");
        let off = self::store(0);
        off.put(v, "/a".into(), answer(b"x"));
        assert!(off.get("/a").is_none(), "a budget of 0 keeps nothing");
    }
}
