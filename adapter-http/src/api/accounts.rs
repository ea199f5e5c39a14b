//! Registration, login, logout, the current user, profile and avatar.

use marketplace_domain::accounts::ProfileChanges;
use marketplace_domain::files::IMAGE_MAX_BYTES;
use marketplace_domain::ids::UserId;
use marketplace_ports::ports::{Profile, UserRecord};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::accounts::{Login, Register, SignedIn};
use poem::Request;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use serde::Deserialize;

use super::ApiTags;
use super::cart::{CART_COOKIE, CartToken};
use crate::auth::{Auth, CSRF_COOKIE, SESSION_COOKIE};
use crate::dto::UserDto;
use crate::error::ApiResult;
use crate::files::{Images, Served, serve_image};
use crate::json::JsonBody;
use crate::{HttpConfig, read_upload};

/// Accounts.
pub struct AccountsApi {
    /// Use cases.
    pub services: Services,
    /// Cookie settings.
    pub config: HttpConfig,
}

/// A registration.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Wanted username (letters, digits, `@ . + - _`; unique whatever the case).
    #[oai(validator(pattern = r"^[\w.@+-]+$", max_length = 150))]
    pub username: String,
    /// Password (8+ characters, not all digits, not common, not like the username).
    #[oai(validator(min_length = 8, max_length = 256))]
    pub password: String,
    /// Optional e-mail.
    #[oai(nullable, validator(max_length = 254))]
    pub email: Option<String>,
    /// Opt in as a seller right away.
    #[oai(nullable)]
    pub register_as_seller: Option<bool>,
}

/// Credentials.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case).
    pub username: String,
    /// Password.
    pub password: String,
}

/// A signed-in session.
#[derive(Debug, Object)]
pub struct SessionDto {
    /// The user.
    pub user: UserDto,
    /// Session token: send it as `Authorization: Bearer <token>` (also set as the `hc3_session`
    /// cookie).
    pub token: String,
    /// CSRF token: cookie-authenticated writes must send it in `X-CSRF-Token` (also set as the
    /// readable `hc3_csrf` cookie).
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
}

/// `/me`.
#[derive(Debug, Object)]
pub struct MeDto {
    /// The user.
    #[oai(flatten)]
    pub user: UserDto,
    /// The session's CSRF token, for cookie-authenticated clients.
    pub csrf_token: String,
}

/// A profile.
#[derive(Debug, Object)]
pub struct ProfileDto {
    /// The user.
    pub user: UserDto,
    /// Shop name, else username: how sellers are shown.
    pub public_name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Shop name.
    pub shop_name: String,
    /// Contact e-mail.
    pub email: String,
    /// Phone 1.
    pub phone_1: String,
    /// Phone 2.
    pub phone_2: String,
    /// Address line 1.
    pub address_1: String,
    /// Address line 2.
    pub address_2: String,
    /// City.
    pub city: String,
    /// US state code.
    pub state: String,
    /// ZIP code.
    pub zip_code: String,
    /// Avatar URL, if any.
    #[oai(nullable)]
    pub avatar_url: Option<String>,
}

/// Profile changes: absent fields stay, empty strings clear. `is_owner` is not editable.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// First name (≤ 150).
    #[oai(nullable, validator(max_length = 150))]
    pub first_name: Option<String>,
    /// Last name (≤ 150).
    #[oai(nullable, validator(max_length = 150))]
    pub last_name: Option<String>,
    /// Shop name (≤ 80).
    #[oai(nullable, validator(max_length = 80))]
    pub shop_name: Option<String>,
    /// Contact e-mail.
    #[oai(nullable, validator(max_length = 254))]
    pub email: Option<String>,
    /// Phone: digits and `- + ( )`, 7–20 characters.
    #[oai(nullable, validator(pattern = r"^([0-9+()-]{7,20})?$"))]
    pub phone_1: Option<String>,
    /// Second phone, same rule.
    #[oai(nullable, validator(pattern = r"^([0-9+()-]{7,20})?$"))]
    pub phone_2: Option<String>,
    /// Address line 1.
    #[oai(nullable, validator(max_length = 255))]
    pub address_1: Option<String>,
    /// Address line 2.
    #[oai(nullable, validator(max_length = 255))]
    pub address_2: Option<String>,
    /// City.
    #[oai(nullable, validator(max_length = 120))]
    pub city: Option<String>,
    /// US state code (incl. DC).
    #[oai(
        nullable,
        validator(
            pattern = r"^([Aa][Ll]|[Aa][Kk]|[Aa][Zz]|[Aa][Rr]|[Cc][Aa]|[Cc][Oo]|[Cc][Tt]|[Dd][Ee]|[Ff][Ll]|[Gg][Aa]|[Hh][Ii]|[Ii][Dd]|[Ii][Ll]|[Ii][Nn]|[Ii][Aa]|[Kk][Ss]|[Kk][Yy]|[Ll][Aa]|[Mm][Ee]|[Mm][Dd]|[Mm][Aa]|[Mm][Ii]|[Mm][Nn]|[Mm][Ss]|[Mm][Oo]|[Mm][Tt]|[Nn][Ee]|[Nn][Vv]|[Nn][Hh]|[Nn][Jj]|[Nn][Mm]|[Nn][Yy]|[Nn][Cc]|[Nn][Dd]|[Oo][Hh]|[Oo][Kk]|[Oo][Rr]|[Pp][Aa]|[Rr][Ii]|[Ss][Cc]|[Ss][Dd]|[Tt][Nn]|[Tt][Xx]|[Uu][Tt]|[Vv][Tt]|[Vv][Aa]|[Ww][Aa]|[Ww][Vv]|[Ww][Ii]|[Ww][Yy]|[Dd][Cc])?$"
        )
    )]
    pub state: Option<String>,
    /// ZIP: `12345` or `12345-6789`.
    #[oai(nullable, validator(pattern = r"^([0-9]{5}(-[0-9]{4})?)?$"))]
    pub zip_code: Option<String>,
    /// Seller opt-in.
    #[oai(nullable)]
    pub is_seller: Option<bool>,
}

/// An avatar upload.
#[derive(Debug, Multipart)]
#[oai(deny_unknown_fields)]
pub struct AvatarUpload {
    /// PNG, JPEG, GIF or WebP, at most 5 MiB.
    pub file: Upload,
}

/// Registration answer.
#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// Registered and signed in.
    #[oai(status = 201)]
    Created(Json<SessionDto>),
}

/// Logout and deletion answer.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn profile_dto(user: &UserRecord, profile: Profile) -> ProfileDto {
    ProfileDto {
        user: UserDto::from(user),
        public_name: marketplace_domain::accounts::public_seller_name(
            &profile.shop_name,
            &user.username,
        ),
        first_name: profile.first_name,
        last_name: profile.last_name,
        shop_name: profile.shop_name,
        email: profile.email,
        phone_1: profile.phone_1,
        phone_2: profile.phone_2,
        address_1: profile.address_1,
        address_2: profile.address_2,
        city: profile.city,
        state: profile.state,
        zip_code: profile.zip_code,
        avatar_url: profile
            .avatar
            .map(|_| format!("/api/v1/users/{}/avatar", user.id)),
    }
}

/// Starts a browser session: the HttpOnly session cookie and the script-readable CSRF cookie,
/// both `SameSite=Lax`, living as long as the session. The storefront signs in the same way.
pub fn set_session_cookies(jar: &CookieJar, signed_in: &SignedIn, secure: bool) {
    let max_age = std::time::Duration::from_secs(
        u64::try_from((signed_in.expires_at - OffsetDateTime::now_utc()).whole_seconds())
            .unwrap_or(0),
    );
    let mut session = crate::auth::site_cookie(SESSION_COOKIE, &signed_in.token, secure);
    session.set_max_age(max_age);
    jar.add(session);
    let mut csrf = Cookie::new_with_str(CSRF_COOKIE, &signed_in.csrf_token);
    csrf.set_same_site(SameSite::Lax);
    csrf.set_path("/");
    csrf.set_secure(secure);
    csrf.set_max_age(max_age);
    jar.add(csrf);
}

/// Ends a browser session's cookies (the session itself is ended by the use case).
pub fn clear_session_cookies(jar: &CookieJar) {
    crate::auth::forget_cookie(jar, SESSION_COOKIE);
    crate::auth::forget_cookie(jar, CSRF_COOKIE);
}

/// Moves an anonymous cart into the user's cart after a login. The login stands even if this
/// fails (the cart is merged by the next cart request that sends the token). True when merged.
pub async fn merge_anonymous_cart(
    services: &Services,
    session_token: &str,
    cart_token: &str,
) -> bool {
    let merged = match services.sessions.authenticate(session_token).await {
        Ok(Some(actor)) => services
            .cart
            .merge_into_user(&actor, cart_token)
            .await
            .map_err(|e| e.to_string()),
        Ok(None) => Err("the new session is not valid".to_owned()),
        Err(error) => Err(error.to_string()),
    };
    if let Err(error) = &merged {
        tracing::warn!(%error, "merging the anonymous cart on login failed");
    }
    merged.is_ok()
}

fn session_dto(signed_in: SignedIn) -> SessionDto {
    SessionDto {
        user: UserDto::from(&signed_in.user),
        token: signed_in.token,
        csrf_token: signed_in.csrf_token,
        expires_at: signed_in.expires_at,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Register, and be signed in.
    #[oai(path = "/auth/register", method = "post")]
    async fn register(
        &self,
        body: JsonBody<RegisterRequest>,
        jar: &CookieJar,
    ) -> ApiResult<RegisterResponse> {
        let body = body.0;
        let signed_in = self
            .services
            .registration
            .register(Register {
                username: body.username,
                password: body.password,
                email: body.email,
                register_as_seller: body.register_as_seller.unwrap_or(false),
            })
            .await?;
        set_session_cookies(jar, &signed_in, self.config.secure_cookies);
        Ok(RegisterResponse::Created(Json(session_dto(signed_in))))
    }

    /// Sign in. Failed attempts are throttled per username and per client address (429 with
    /// `Retry-After`; behind the proxies of `TRUSTED_PROXIES`, the address they forward). An anonymous cart sent along (`X-Cart-Token` or its cookie) is merged into
    /// the user's cart.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        body: JsonBody<LoginRequest>,
        #[oai(name = "X-Cart-Token")] cart: CartToken,
        jar: &CookieJar,
        request: &Request,
    ) -> ApiResult<Json<SessionDto>> {
        let signed_in = self
            .services
            .sessions
            .login(Login {
                username: body.0.username,
                password: body.0.password,
                client_address: crate::client::client_address(request),
            })
            .await?;
        if let Some(token) = &cart.0
            && merge_anonymous_cart(&self.services, &signed_in.token, token).await
        {
            crate::auth::forget_cookie(jar, CART_COOKIE);
        }
        set_session_cookies(jar, &signed_in, self.config.secure_cookies);
        Ok(Json(session_dto(signed_in)))
    }

    /// End the current session.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(&self, auth: Auth, jar: &CookieJar) -> ApiResult<NoContent> {
        self.services
            .sessions
            .logout(&auth.authenticated().token)
            .await?;
        clear_session_cookies(jar);
        Ok(NoContent::Done)
    }

    /// The current user.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: Auth) -> ApiResult<Json<MeDto>> {
        let (user, _) = self.services.profiles.profile(auth.actor()).await?;
        Ok(Json(MeDto {
            user: UserDto::from(&user),
            csrf_token: auth.actor().csrf_token.clone(),
        }))
    }

    /// The current user's profile.
    #[oai(path = "/me/profile", method = "get")]
    async fn profile(&self, auth: Auth) -> ApiResult<Json<ProfileDto>> {
        let (user, profile) = self.services.profiles.profile(auth.actor()).await?;
        Ok(Json(profile_dto(&user, profile)))
    }

    /// Change the profile; every invalid field is reported at once (422).
    #[oai(path = "/me/profile", method = "patch")]
    async fn update_profile(
        &self,
        auth: Auth,
        body: JsonBody<ProfileUpdate>,
    ) -> ApiResult<Json<ProfileDto>> {
        let b = body.0;
        let changes = ProfileChanges {
            first_name: b.first_name,
            last_name: b.last_name,
            shop_name: b.shop_name,
            email: b.email,
            phone_1: b.phone_1,
            phone_2: b.phone_2,
            address_1: b.address_1,
            address_2: b.address_2,
            city: b.city,
            state: b.state,
            zip_code: b.zip_code,
            is_seller: b.is_seller,
        };
        let (user, profile) = self
            .services
            .profiles
            .update_profile(auth.actor(), changes)
            .await?;
        Ok(Json(profile_dto(&user, profile)))
    }

    /// Upload (replace) the avatar.
    #[oai(path = "/me/avatar", method = "put")]
    async fn set_avatar(&self, auth: Auth, upload: AvatarUpload) -> ApiResult<Json<ProfileDto>> {
        let file = read_upload(upload.file, IMAGE_MAX_BYTES).await?;
        self.services
            .profiles
            .set_avatar(auth.actor(), file)
            .await?;
        let (user, profile) = self.services.profiles.profile(auth.actor()).await?;
        Ok(Json(profile_dto(&user, profile)))
    }

    /// Remove the avatar.
    #[oai(path = "/me/avatar", method = "delete")]
    async fn delete_avatar(&self, auth: Auth) -> ApiResult<NoContent> {
        self.services.profiles.delete_avatar(auth.actor()).await?;
        Ok(NoContent::Done)
    }

    /// A user's avatar image (kept five minutes, then revalidated: `If-None-Match` with its
    /// `ETag` gets `304 Not Modified` until the avatar changes).
    #[oai(path = "/users/:user_id/avatar", method = "get")]
    async fn avatar(
        &self,
        user_id: Path<Uuid>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> ApiResult<Served<Images>> {
        let meta = self
            .services
            .files
            .avatar(UserId::from_uuid(user_id.0))
            .await?;
        Ok(serve_image(
            self.services.files.clone(),
            meta,
            if_none_match.0.as_deref(),
            "public, max-age=300",
        ))
    }
}
