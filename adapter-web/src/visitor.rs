//! Who is visiting: the signed-in user (the same `hc3_session` cookie as the API), the anonymous
//! cart's token, the flash message left by the last redirect, and the token every form must
//! carry.
//!
//! CSRF: a signed-in visitor's forms carry the session's CSRF token; an anonymous visitor's carry
//! a random token that is also in the `hc3_form` cookie (double submit). Both are compared in
//! constant time. Cookies are `SameSite=Lax` besides, so another site cannot post with them.

use adapter_http::api::cart::CART_COOKIE;
use adapter_http::auth::{SESSION_COOKIE, site_cookie};
use marketplace_ports::use_cases::Actor;
use marketplace_ports::use_cases::cart::CartOwner;
use marketplace_ports::use_cases::orders::OrderAccess;
use maud::{Markup, html};
use poem::http::Method;
use poem::web::cookie::CookieJar;
use poem::{FromRequest, Request, RequestBody};
use subtle::ConstantTimeEq;

use crate::Site;
use crate::error::WebError;

/// The anonymous visitor's form token cookie.
pub const FORM_COOKIE: &str = "hc3_form";
/// The flash message cookie (set by a redirect, shown and cleared by the next page).
pub use adapter_http::auth::FLASH_COOKIE;
/// The name of the hidden form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// How a flash message looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashKind {
    /// Something was done.
    Notice,
    /// Something could not be done.
    Problem,
}

/// A one-time message shown on the page a redirect leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// How it looks.
    pub kind: FlashKind,
    /// What it says.
    pub message: String,
}

/// The visitor of one request.
pub struct Visitor {
    signed_in: Option<(Actor, String)>,
    cart_token: Option<String>,
    /// The form token the browser sent in `hc3_form`, if any.
    sent_form_token: Option<String>,
    /// The token this page's forms carry, decided when the first form asks for it: an anonymous
    /// visitor gets the `hc3_form` cookie only from a page with a form, so pages without one (the
    /// cacheable catalogue pages) never set a cookie.
    form_token: std::sync::OnceLock<String>,
    flash: Option<Flash>,
    jar: CookieJar,
    secure_cookies: bool,
}

impl Visitor {
    /// The signed-in user, if any.
    pub fn actor(&self) -> Option<&Actor> {
        self.signed_in.as_ref().map(|(actor, _)| actor)
    }

    /// The signed-in user, or a redirect to the sign-in page coming back to `next`.
    ///
    /// # Errors
    /// [`WebError::SignIn`] for anonymous visitors.
    pub fn require(&self, next: &str) -> Result<&Actor, WebError> {
        self.actor().ok_or_else(|| WebError::SignIn {
            next: next.to_owned(),
        })
    }

    /// The session token (to sign out).
    pub fn session_token(&self) -> Option<&str> {
        self.signed_in.as_ref().map(|(_, token)| token.as_str())
    }

    /// The anonymous cart's token the browser sent.
    pub fn cart_token(&self) -> Option<&str> {
        self.cart_token.as_deref()
    }

    /// Whose cart this request works on.
    pub fn cart_owner(&self) -> CartOwner<'_> {
        CartOwner {
            actor: self.actor(),
            token: self.cart_token(),
        }
    }

    /// Who asks for an order: the user, and a guest token if the page has one.
    pub fn order_access<'a>(&'a self, token: Option<&'a str>) -> OrderAccess<'a> {
        OrderAccess {
            actor: self.actor(),
            token,
        }
    }

    /// The message the last redirect left, if any.
    pub fn flash(&self) -> Option<&Flash> {
        self.flash.as_ref()
    }

    /// The cookie jar of the response (for cart and session cookies).
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }

    /// Whether cookies are marked `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The token this visitor's forms carry: the session's CSRF token, or for anonymous visitors
    /// the one in their `hc3_form` cookie (set now when they have none).
    fn form_token(&self) -> &str {
        self.form_token.get_or_init(|| {
            if let Some((actor, _)) = &self.signed_in {
                return actor.csrf_token.clone();
            }
            if let Some(sent) = &self.sent_form_token {
                return sent.clone();
            }
            issue_form_token(&self.jar, self.secure_cookies)
        })
    }

    /// The hidden field every form carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(CSRF_FIELD) value=(self.form_token()); }
    }

    /// Checks the token a form sent.
    ///
    /// # Errors
    /// [`WebError::Forbidden`] when it is missing or not this visitor's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        // What the browser sent along: a token minted by this very request is no proof.
        let expected = match &self.signed_in {
            Some((actor, _)) => actor.csrf_token.as_str(),
            None => self.sent_form_token.as_deref().unwrap_or_default(),
        };
        if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(WebError::Forbidden(
                "This form has expired. Go back, reload the page and try again.".to_owned(),
            ));
        }
        Ok(())
    }

    /// Leaves a message for the next page.
    pub fn set_flash(&self, kind: FlashKind, message: &str) {
        let kind = match kind {
            FlashKind::Notice => "n",
            FlashKind::Problem => "p",
        };
        let value = serde_urlencoded::to_string([("k", kind), ("m", message)]).unwrap_or_default();
        self.jar
            .add(site_cookie(FLASH_COOKIE, &value, self.secure_cookies));
    }

    /// A notice for the next page, and the redirect to it.
    pub fn redirect_with_notice(&self, to: &str, message: &str) -> poem::Response {
        self.set_flash(FlashKind::Notice, message);
        crate::page::see_other(to)
    }

    /// The answer to a write: back to `back` with `done` when it worked, with the reason when
    /// the use case refused it (a conflict, a rule, invalid fields), an error page otherwise.
    ///
    /// # Errors
    /// The [`WebError`] of a failure no flash can explain (unavailable, not found…).
    pub fn after<T, E: marketplace_ports::use_cases::UseCaseError>(
        &self,
        back: &str,
        result: Result<T, E>,
        done: &str,
    ) -> Result<poem::Response, WebError> {
        match result {
            Ok(_) => Ok(self.redirect_with_notice(back, done)),
            Err(error) => match crate::error::refusal(&error) {
                Some(message) => Ok(self.redirect_with_problem(back, &message)),
                None => Err(WebError::from_use_case(&error)),
            },
        }
    }

    /// A problem for the next page, and the redirect to it.
    pub fn redirect_with_problem(&self, to: &str, message: &str) -> poem::Response {
        self.set_flash(FlashKind::Problem, message);
        crate::page::see_other(to)
    }
}

fn read_flash(value: &str) -> Option<Flash> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(value).ok()?;
    let find = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let kind = match find("k")?.as_str() {
        "p" => FlashKind::Problem,
        _ => FlashKind::Notice,
    };
    let message: String = find("m")?.chars().take(300).collect();
    Some(Flash { kind, message })
}

/// How long an anonymous visitor's form token is (hex digits).
pub const FORM_TOKEN_LENGTH: usize = 64;

/// Whether a cookie's value is a form token we could have made (64 hex digits): anything else is
/// ignored and a new token made. The page cache uses the same check, so a page and its cached copy
/// always agree on a visitor's token.
pub fn is_form_token(value: &str) -> bool {
    value.len() == FORM_TOKEN_LENGTH && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Makes a new form token and sets its `hc3_form` cookie: the one way an anonymous visitor's
/// token is issued, by a page with a form and by the page cache serving a kept product page.
pub fn issue_form_token(jar: &CookieJar, secure: bool) -> String {
    let token = random_token();
    jar.add(site_cookie(FORM_COOKIE, &token, secure));
    token
}

/// 32 random bytes as hex (two version-4 UUIDs' random bits are enough for a form token).
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl<'a> FromRequest<'a> for Visitor {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let site = request
            .data::<Site>()
            .ok_or(WebError::Internal)
            .map_err(poem::Error::from)?;
        let jar = request.cookie().clone();
        let secure_cookies = site.config.secure_cookies;
        let signed_in = match jar.get(SESSION_COOKIE) {
            None => None,
            Some(cookie) => {
                let token = cookie.value_str().to_owned();
                match site.services.sessions.authenticate(&token).await {
                    Ok(Some(actor)) => Some((actor, token)),
                    Ok(None) => {
                        // Expired or revoked: forget it, and carry on as a guest.
                        adapter_http::api::accounts::clear_session_cookies(&jar);
                        None
                    }
                    Err(error) => {
                        tracing::error!(%error, "checking a session failed");
                        return Err(WebError::Unavailable.into());
                    }
                }
            }
        };
        let sent_form_token = jar
            .get(FORM_COOKIE)
            .map(|cookie| cookie.value_str().to_owned())
            .filter(|token| is_form_token(token));
        // A flash is shown once: by the first page rendered after the redirect.
        let flash = match jar.get(FLASH_COOKIE) {
            Some(cookie) if request.method() == Method::GET => {
                adapter_http::auth::forget_cookie(&jar, FLASH_COOKIE);
                read_flash(cookie.value_str())
            }
            _ => None,
        };
        let cart_token = jar
            .get(CART_COOKIE)
            .map(|c| c.value_str().trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Visitor {
            signed_in,
            cart_token,
            sent_form_token,
            form_token: std::sync::OnceLock::new(),
            flash,
            jar,
            secure_cookies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie_encoding() {
        let value = serde_urlencoded::to_string([("k", "p"), ("m", "Café; “quoted” & more=1")])
            .unwrap_or_default();
        assert!(!value.contains(';') && !value.contains(' '));
        assert_eq!(
            read_flash(&value),
            Some(Flash {
                kind: FlashKind::Problem,
                message: "Café; “quoted” & more=1".to_owned()
            })
        );
        assert_eq!(read_flash("garbage"), None);
    }

    #[test]
    fn form_tokens_are_long_and_different() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
