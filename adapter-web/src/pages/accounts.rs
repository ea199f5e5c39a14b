//! Signing in, registering and signing out. A browser session is the same `hc3_session` cookie the
//! API uses; signing in merges the anonymous cart into the user's.

use adapter_http::api::accounts::{
    clear_session_cookies, merge_anonymous_cart, set_session_cookies,
};
use adapter_http::api::cart::CART_COOKIE;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::use_cases::accounts::{Login, Register, SignedIn};
use marketplace_ports::use_cases::{ErrorKind, UseCaseError};
use maud::html;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::Site;
use crate::error::{WebError, field_errors, refusal};
use crate::form::{self, Input, local_path};
use crate::page::render_status;
use crate::visitor::Visitor;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextParam {
    next: Option<String>,
}

fn login_page(
    visitor: &Visitor,
    username: &str,
    next: &str,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Sign in" }
        (form::summary(errors, &["username", "password"]))
        div.form-card {
            form method="post" action="/login" {
                (visitor.csrf_field())
                input type="hidden" name="next" value=(next);
                (Input::text("username", "Username", username).required().autocomplete("username").render(errors))
                (Input::text("password", "Password", "").kind("password").required().autocomplete("current-password").render(errors))
                button type="submit" { "Sign in" }
            }
            p { "New here? " a href={"/register?next=" (form::encode(next))} { "Create an account" } "." }
        }
    };
    render_status(visitor, status, "Sign in", content)
}

/// `GET /login`.
#[handler]
pub async fn login_form(visitor: Visitor, request: &Request) -> Result<Response, WebError> {
    let params: NextParam = form::query(request.uri().query())?;
    let next = local_path(params.next.as_deref());
    if visitor.actor().is_some() {
        return Ok(crate::page::see_other(&next));
    }
    Ok(login_page(
        &visitor,
        "",
        &next,
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Starts the browser session of a user who just signed in or registered, bringing their
/// anonymous cart along.
async fn start_session(visitor: &Visitor, site: &Site, signed_in: &SignedIn) {
    if let Some(cart) = visitor.cart_token()
        && merge_anonymous_cart(&site.services, &signed_in.token, cart).await
    {
        visitor.jar().remove(CART_COOKIE);
    }
    set_session_cookies(visitor.jar(), signed_in, visitor.secure_cookies());
}

/// `POST /login`.
#[handler]
pub async fn login(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
    body: String,
) -> Result<Response, WebError> {
    let form: LoginForm = form::read(&visitor, &body)?;
    let next = local_path(form.next.as_deref());
    let result = site
        .services
        .sessions
        .login(Login {
            username: form.username.clone(),
            password: form.password,
            client_address: adapter_http::client::client_address(request),
        })
        .await;
    match result {
        Ok(signed_in) => {
            start_session(&visitor, &site, &signed_in).await;
            Ok(visitor.redirect_with_notice(
                &next,
                &format!("Welcome back, {}.", signed_in.user.username),
            ))
        }
        Err(error) => {
            let errors = match error.kind() {
                ErrorKind::Unauthenticated { .. } => FieldErrors::single(
                    "password",
                    "That username and password do not match an account.",
                ),
                ErrorKind::Throttled { .. } => FieldErrors::single(
                    "form",
                    "Too many failed attempts. Wait a few minutes and try again.",
                ),
                ErrorKind::Forbidden { .. } => FieldErrors::single("form", error.to_string()),
                ErrorKind::Invalid(fields) => fields,
                _ => return Err(WebError::from_use_case(&error)),
            };
            Ok(login_page(
                &visitor,
                &form.username,
                &next,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

struct RegisterValues<'a> {
    username: &'a str,
    email: &'a str,
    seller: bool,
    next: &'a str,
}

fn register_page(
    visitor: &Visitor,
    values: &RegisterValues<'_>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Create an account" }
        (form::summary(errors, &["username", "email", "password"]))
        div.form-card {
            form method="post" action="/register" {
                (visitor.csrf_field())
                input type="hidden" name="next" value=(values.next);
                (Input::text("username", "Username", values.username).required().autocomplete("username").hint("Letters, digits and @ . + - _ only.").render(errors))
                (Input::text("email", "E-mail address", values.email).kind("email").required().autocomplete("email").render(errors))
                (Input::text("password", "Password", "").kind("password").required().autocomplete("new-password").hint("At least 8 characters, not all digits, not a common password, not like your username.").render(errors))
                div.checkbox {
                    input #f-seller type="checkbox" name="register_as_seller" value="on" checked[values.seller];
                    label for="f-seller" { "I want to sell my models and files" }
                }
                button type="submit" { "Create account" }
            }
            p { "Already have an account? " a href={"/login?next=" (form::encode(values.next))} { "Sign in" } "." }
        }
    };
    render_status(visitor, status, "Create an account", content)
}

/// `GET /register`.
#[handler]
pub async fn register_form(visitor: Visitor, request: &Request) -> Result<Response, WebError> {
    let params: NextParam = form::query(request.uri().query())?;
    let next = local_path(params.next.as_deref());
    Ok(register_page(
        &visitor,
        &RegisterValues {
            username: "",
            email: "",
            seller: false,
            next: &next,
        },
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    register_as_seller: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /register`: creates the account and signs in; sellers go on to set up payouts.
#[handler]
pub async fn register(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let form: RegisterForm = form::read(&visitor, &body)?;
    let seller = form.register_as_seller.is_some();
    let next = local_path(form.next.as_deref());
    let result = site
        .services
        .registration
        .register(Register {
            username: form.username.clone(),
            password: form.password,
            email: Some(form.email.clone()).filter(|e| !e.trim().is_empty()),
            register_as_seller: seller,
        })
        .await;
    match result {
        Ok(signed_in) => {
            start_session(&visitor, &site, &signed_in).await;
            let to = if seller && next == "/" {
                "/seller".to_owned()
            } else {
                next
            };
            Ok(visitor.redirect_with_notice(&to, "Welcome! Your account is ready."))
        }
        Err(error) => {
            let errors = match (field_errors(&error), refusal(&error)) {
                (Some(fields), _) => fields,
                (None, Some(message)) => FieldErrors::single("username", message),
                (None, None) => return Err(WebError::from_use_case(&error)),
            };
            Ok(register_page(
                &visitor,
                &RegisterValues {
                    username: &form.username,
                    email: &form.email,
                    seller,
                    next: &next,
                },
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {}

/// `POST /logout`.
#[handler]
pub async fn logout(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: LogoutForm = form::read(&visitor, &body)?;
    if let Some(token) = visitor.session_token() {
        site.services
            .sessions
            .logout(token)
            .await
            .map_err(|e| WebError::from_use_case(&e))?;
    }
    clear_session_cookies(visitor.jar());
    Ok(visitor.redirect_with_notice("/", "You are signed out."))
}
