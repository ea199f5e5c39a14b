//! Authentication for the API: a session token sent as `Authorization: Bearer <token>` or in the
//! `hc3_session` cookie. Cookie-authenticated unsafe requests must also send the session's CSRF
//! token in `X-CSRF-Token` (synchronizer token, compared in constant time); bearer requests are
//! not exposed to CSRF and need none.

use marketplace_ports::use_cases::discovery::Visitor;
use marketplace_ports::use_cases::{Actor, Services};
use poem::http::{Method, StatusCode, header};
use poem::{Request, RequestBody};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};
use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hc3_session";
/// Name of the (script-readable) cookie carrying the CSRF token.
pub const CSRF_COOKIE: &str = "hc3_csrf";
/// The storefront's one-time message cookie (set by a redirect, shown by the next page): a page
/// answered while it is present is personal, so never cached.
pub const FLASH_COOKIE: &str = "hc3_flash";
/// Header cookie-authenticated writes must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A cookie for the whole site that scripts cannot read: `HttpOnly`, `SameSite=Lax`, `Path=/`,
/// and `Secure` when the site is served over HTTPS. Every such cookie we set is made here, so
/// none is set with weaker attributes by mistake.
pub fn site_cookie(name: &str, value: &str, secure: bool) -> poem::web::cookie::Cookie {
    let mut cookie = poem::web::cookie::Cookie::new_with_str(name, value);
    cookie.set_http_only(true);
    cookie.set_same_site(poem::web::cookie::SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(secure);
    cookie
}

/// Tells the browser to forget a cookie we set for the whole site: an empty value, `Path=/` and
/// `Max-Age=0`. (A removal without the path would only reach cookies of the request's own
/// folder, so the site-wide cookie would live on.)
pub fn forget_cookie(jar: &poem::web::cookie::CookieJar, name: &str) {
    let mut cookie = poem::web::cookie::Cookie::new_with_str(name, "");
    cookie.set_path("/");
    cookie.set_max_age(std::time::Duration::ZERO);
    jar.add(cookie);
}

/// A verified caller and the token they used.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// Who.
    pub actor: Actor,
    /// The session token (needed to log out).
    pub token: String,
}

/// `Authorization: Bearer <session token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct BearerAuth(Authenticated);

/// The `hc3_session` cookie (browsers). Unsafe methods also need `X-CSRF-Token`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "hc3_session",
    key_in = "cookie",
    checker = "check_cookie"
)]
pub struct CookieAuth(Authenticated);

/// A required login, by bearer token or session cookie. The credential sent decides which is
/// checked (a bearer token first), so its own failure is what the caller gets: a database outage
/// while checking a token is a 503, not "invalid session".
pub enum Auth {
    /// Bearer token.
    Bearer(BearerAuth),
    /// Session cookie.
    Cookie(CookieAuth),
}

impl<'a> ApiExtractor<'a> for Auth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        BearerAuth::register(registry);
        CookieAuth::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        let mut schemes = BearerAuth::security_schemes();
        schemes.extend(CookieAuth::security_schemes());
        schemes
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        if bearer_sent(request) {
            BearerAuth::from_request(request, body, param_opts)
                .await
                .map(Auth::Bearer)
        } else {
            CookieAuth::from_request(request, body, param_opts)
                .await
                .map(Auth::Cookie)
        }
    }
}

impl Auth {
    /// The verified caller.
    pub fn actor(&self) -> &Actor {
        &self.authenticated().actor
    }

    /// The caller and token.
    pub fn authenticated(&self) -> &Authenticated {
        match self {
            Auth::Bearer(BearerAuth(a)) | Auth::Cookie(CookieAuth(a)) => a,
        }
    }

    fn into_authenticated(self) -> Authenticated {
        match self {
            Auth::Bearer(BearerAuth(a)) | Auth::Cookie(CookieAuth(a)) => a,
        }
    }
}

/// An optional login: anonymous when no credentials are sent, but credentials that are sent must
/// be valid (an expired token is a 401, not a silent downgrade to anonymous).
pub struct MaybeAuth(pub Option<Authenticated>);

impl MaybeAuth {
    /// The caller, if logged in.
    pub fn actor(&self) -> Option<&Actor> {
        self.0.as_ref().map(|a| &a.actor)
    }
}

impl<'a> ApiExtractor<'a> for MaybeAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        Auth::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        Auth::security_schemes()
    }

    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        if !carries_credentials(request) {
            return Ok(MaybeAuth(None));
        }
        let auth = Auth::from_request(request, body, param_opts).await?;
        Ok(MaybeAuth(Some(auth.into_authenticated())))
    }
}

/// Whether the request names a signed-in user (a bearer token or the session cookie): what it is
/// answered may then depend on who that is.
fn carries_credentials(request: &Request) -> bool {
    bearer_sent(request) || request.cookie().get(SESSION_COOKIE).is_some()
}

/// Whether the request carries a bearer token (another `Authorization` scheme, such as the Basic
/// credentials of a proxy in front of the site, is not ours and leaves the cookie to decide).
fn bearer_sent(request: &Request) -> bool {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

fn unauthenticated() -> poem::Error {
    poem::Error::from_string("invalid or expired session", StatusCode::UNAUTHORIZED)
}

async fn authenticate(request: &Request, token: &str) -> poem::Result<Authenticated> {
    let services = request.data::<Services>().ok_or_else(|| {
        poem::Error::from_string("services missing", StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    match services.sessions.authenticate(token).await {
        Ok(Some(actor)) => Ok(Authenticated {
            actor,
            token: token.to_owned(),
        }),
        Ok(None) => Err(unauthenticated()),
        Err(error) => {
            tracing::error!(%error, "authentication failed");
            Err(poem::Error::from_string(
                "authentication is unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
            ))
        }
    }
}

async fn check_bearer(request: &Request, bearer: Bearer) -> poem::Result<Authenticated> {
    authenticate(request, &bearer.token).await
}

async fn check_cookie(request: &Request, key: ApiKey) -> poem::Result<Authenticated> {
    let authenticated = authenticate(request, &key.key).await?;
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let expected = authenticated.actor.csrf_token.as_bytes();
        if !bool::from(sent.as_bytes().ct_eq(expected)) {
            return Err(poem::Error::from_string(
                "cookie-authenticated requests that change data must send the X-CSRF-Token header",
                StatusCode::FORBIDDEN,
            ));
        }
    }
    Ok(authenticated)
}

/// Who a request comes from, for throttling engagement counts: a hash of its session (bearer
/// token or cookie), else of its anonymous cart token, else its client address. Nothing of it is
/// stored or logged; behind a proxy not listed in `TRUSTED_PROXIES`, anonymous clients without
/// cookies share the proxy's address.
pub struct VisitorKey(pub Visitor);

impl<'a> ApiExtractor<'a> for VisitorKey {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::PoemExtractor];
    type ParamType = ();
    type ParamRawType = ();

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(VisitorKey(visitor_of(request)))
    }
}

/// The engagement throttle's key for a request: a digest of its credential (session, bearer
/// token or cart token), else the client's address.
pub fn visitor_of(request: &Request) -> Visitor {
    use std::hash::{Hash as _, Hasher as _};
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| bearer_sent(request))
        .map(str::to_owned);
    let session = request
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| c.value_str().to_owned());
    let cart = crate::api::cart::cart_token_of(request, crate::api::cart::CART_HEADER);
    let credential = crate::api::first_token([bearer, session, cart]);
    let key = match credential {
        Some(credential) => {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            credential.hash(&mut hasher);
            format!("k:{:016x}", hasher.finish())
        }
        None => format!("a:{}", crate::client::client_address(request)),
    };
    Visitor(key)
}
