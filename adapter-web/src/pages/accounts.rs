//! Signing in, registering and signing out. A browser session is the same `hc3_session` cookie the
//! API uses; signing in merges the anonymous cart into the user's.

use adapter_http::api::accounts::{
    clear_session_cookies, merge_anonymous_cart, set_session_cookies,
};
use adapter_http::api::cart::CART_COOKIE;
use marketplace_domain::accounts::ProfileChanges;
use marketplace_domain::notifications::NotificationKind;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::use_cases::accounts::{Login, Register, SignedIn};
use marketplace_ports::use_cases::{ErrorKind, UseCaseError};
use maud::html;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
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
        adapter_http::auth::forget_cookie(visitor.jar(), CART_COOKIE);
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

/// The profile form's values, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileForm {
    first_name: String,
    last_name: String,
    shop_name: String,
    email: String,
    phone_1: String,
    phone_2: String,
    address_1: String,
    address_2: String,
    city: String,
    state: String,
    zip_code: String,
    is_seller: Option<String>,
}

impl ProfileForm {
    fn of(profile: &marketplace_ports::ports::Profile, is_seller: bool) -> ProfileForm {
        ProfileForm {
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            shop_name: profile.shop_name.clone(),
            email: profile.email.clone(),
            phone_1: profile.phone_1.clone(),
            phone_2: profile.phone_2.clone(),
            address_1: profile.address_1.clone(),
            address_2: profile.address_2.clone(),
            city: profile.city.clone(),
            state: profile.state.clone(),
            zip_code: profile.zip_code.clone(),
            is_seller: is_seller.then(|| "on".to_owned()),
        }
    }
}

/// What the account page shows besides the form: the user's id and whether they have an avatar.
struct AccountFacts<'a> {
    user: marketplace_domain::ids::UserId,
    has_avatar: bool,
    muted: &'a [NotificationKind],
}

fn account_page(
    visitor: &Visitor,
    values: &ProfileForm,
    facts: &AccountFacts<'_>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let muted = facts.muted;
    let shown = [
        "first_name",
        "last_name",
        "shop_name",
        "email",
        "phone_1",
        "phone_2",
        "address_1",
        "address_2",
        "city",
        "state",
        "zip_code",
    ];
    let content = html! {
        h1 { "Your account" }
        p { a href="/orders" { "Your orders" } " · " a href="/refund-requests" { "Refund requests" } " · " a href="/notifications" { "Notifications" } }
        (form::summary(errors, &shown))
        div.form-card {
            form method="post" action="/account" novalidate {
                (visitor.csrf_field())
                (Input::text("first_name", "First name", &values.first_name).autocomplete("given-name").render(errors))
                (Input::text("last_name", "Last name", &values.last_name).autocomplete("family-name").render(errors))
                (Input::text("email", "E-mail address", &values.email).kind("email").autocomplete("email").render(errors))
                (Input::text("phone_1", "Phone", &values.phone_1).kind("tel").autocomplete("tel").render(errors))
                (Input::text("phone_2", "Other phone", &values.phone_2).kind("tel").render(errors))
                (Input::text("address_1", "Address", &values.address_1).autocomplete("address-line1").render(errors))
                (Input::text("address_2", "Address line 2", &values.address_2).autocomplete("address-line2").render(errors))
                (Input::text("city", "City", &values.city).autocomplete("address-level2").render(errors))
                (Input::text("state", "State (two letters)", &values.state).autocomplete("address-level1").render(errors))
                (Input::text("zip_code", "ZIP code", &values.zip_code).autocomplete("postal-code").render(errors))
                (Input::text("shop_name", "Shop name (shown on your listings)", &values.shop_name).render(errors))
                div.checkbox {
                    input #f-is_seller type="checkbox" name="is_seller" value="on" checked[values.is_seller.is_some()];
                    label for="f-is_seller" { "I sell on Home Craft 3D" }
                }
                button type="submit" { "Save" }
            }
        }
        h2 { "Picture" }
        div.form-card {
            @if facts.has_avatar {
                p { img.avatar src={"/api/v1/users/" (facts.user) "/avatar"} alt="Your picture" width="96" height="96"; }
                form method="post" action="/account/avatar/delete" {
                    (visitor.csrf_field())
                    button.link type="submit" { "Remove the picture" }
                }
            }
            form method="post" action="/account/avatar" enctype="multipart/form-data" {
                (visitor.csrf_field())
                div.field { label for="f-avatar" { "A new picture (PNG, JPEG, GIF or WebP, up to 5 MB)" } input #f-avatar type="file" name="file" accept="image/png,image/jpeg,image/gif,image/webp" required; }
                button.secondary type="submit" { "Upload" }
            }
        }
        h2 { "E-mail notifications" }
        div.form-card {
            form method="post" action="/account/notifications" {
                (visitor.csrf_field())
                fieldset {
                    legend { "E-mail me about" }
                    @for kind in NotificationKind::ALL {
                        div.checkbox {
                            input type="checkbox" id={"mail-" (kind.as_str())} name="mail" value=(kind.as_str()) checked[!muted.contains(&kind)];
                            label for={"mail-" (kind.as_str())} { (crate::pages::notifications::kind_label(kind)) }
                        }
                    }
                }
                button.secondary type="submit" { "Save e-mail choices" }
            }
        }
    };
    render_status(visitor, status, "Your account", content)
}

/// `GET /account`: the profile and e-mail choices.
#[handler]
pub async fn account(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = visitor.require("/account")?;
    let (user, profile) = site.services.profiles.profile(actor).await.or_page()?;
    let muted = site
        .services
        .notifications
        .preferences(actor)
        .await
        .or_page()?;
    Ok(account_page(
        &visitor,
        &ProfileForm::of(&profile, user.roles.is_seller),
        &AccountFacts {
            user: user.id,
            has_avatar: profile.avatar.is_some(),
            muted: muted.muted(),
        },
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// `POST /account`: save the profile.
#[handler]
pub async fn save_account(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: ProfileForm = form::read(&visitor, &body)?;
    let actor = visitor.require("/account")?;
    let changes = ProfileChanges {
        first_name: some(&values.first_name),
        last_name: some(&values.last_name),
        shop_name: some(&values.shop_name),
        email: some(&values.email),
        phone_1: some(&values.phone_1),
        phone_2: some(&values.phone_2),
        address_1: some(&values.address_1),
        address_2: some(&values.address_2),
        city: some(&values.city),
        state: some(&values.state),
        zip_code: some(&values.zip_code),
        is_seller: Some(values.is_seller.is_some()),
    };
    match site.services.profiles.update_profile(actor, changes).await {
        Ok(_) => Ok(visitor.redirect_with_notice("/account", "Your profile is saved.")),
        Err(error) => {
            let errors = match (field_errors(&error), refusal(&error)) {
                (Some(errors), _) => errors,
                (None, Some(message)) => FieldErrors::single("form", message),
                (None, None) => return Err(WebError::from_use_case(&error)),
            };
            let muted = site
                .services
                .notifications
                .preferences(actor)
                .await
                .or_page()?;
            let (user, profile) = site.services.profiles.profile(actor).await.or_page()?;
            Ok(account_page(
                &visitor,
                &values,
                &AccountFacts {
                    user: user.id,
                    has_avatar: profile.avatar.is_some(),
                    muted: muted.muted(),
                },
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

/// `POST /account/notifications`: which notifications also come by e-mail.
#[handler]
pub async fn save_mail_choices(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: MailChoices = form::read(&visitor, &body)?;
    let wanted: Vec<String> = serde_urlencoded::from_str::<Vec<(String, String)>>(&body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(name, _)| name == "mail")
        .map(|(_, value)| value)
        .collect();
    let actor = visitor.require("/account")?;
    let muted: Vec<String> = NotificationKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .filter(|k| !wanted.contains(k))
        .collect();
    site.services
        .notifications
        .set_preferences(actor, &muted)
        .await
        .or_page()?;
    Ok(visitor.redirect_with_notice("/account", "Your e-mail choices are saved."))
}

#[derive(Deserialize)]
struct MailChoices {}

/// `POST /account/avatar` (multipart: `file`).
#[handler]
pub async fn upload_avatar(
    visitor: Visitor,
    site: Data<&Site>,
    multipart: poem::web::Multipart,
) -> Result<Response, WebError> {
    let actor = visitor.require("/account")?;
    let upload = crate::form::read_upload_form(
        &visitor,
        multipart,
        marketplace_domain::files::IMAGE_MAX_BYTES,
    )
    .await?;
    let Some(file) = upload.file else {
        return Ok(visitor.redirect_with_problem("/account", "Choose a picture to upload."));
    };
    let result = site.services.profiles.set_avatar(actor, file).await;
    visitor.after("/account", result, "Your picture is saved.")
}

/// `POST /account/avatar/delete`.
#[handler]
pub async fn delete_avatar(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: MailChoices = form::read(&visitor, &body)?;
    let actor = visitor.require("/account")?;
    site.services
        .profiles
        .delete_avatar(actor)
        .await
        .or_page()?;
    Ok(visitor.redirect_with_notice("/account", "Your picture is removed."))
}
