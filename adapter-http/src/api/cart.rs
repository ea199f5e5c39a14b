//! The cart. Anonymous carts are known by a cart token, sent back in the
//! `X-Cart-Token` header (or the `hc3_cart` cookie); a logged-in user's cart is theirs, and an
//! anonymous token they send is merged into it.

use marketplace_domain::ids::ProductId;
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::cart::{CartLineView, CartOwner, CartView, RemovedLine};
use poem::web::cookie::CookieJar;
use poem::{Request, RequestBody};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaParamIn, MetaSchemaRef};
use poem_openapi::types::Type;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApiTags, first_token};
use crate::HttpConfig;
use crate::auth::MaybeAuth;
use crate::dto::KindDto;
use crate::error::ApiResult;
use crate::json::JsonBody;

/// Name of the cookie carrying an anonymous cart's token.
pub const CART_COOKIE: &str = "hc3_cart";
/// Header carrying an anonymous cart's token, both ways.
pub const CART_HEADER: &str = "X-Cart-Token";

/// How long a browser keeps the cart cookie.
const CART_COOKIE_DAYS: u64 = 30;

/// The cart.
pub struct CartApi {
    /// Use cases.
    pub services: Services,
    /// Cookie settings.
    pub config: HttpConfig,
}

/// A product to put in the cart.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AddItemRequest {
    /// The listing.
    pub product_id: Uuid,
    /// How many (1–99; digital files are always 1). Default 1.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "99")))]
    pub quantity: Option<i64>,
}

/// A new quantity.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct SetQuantityRequest {
    /// 0 removes the line; otherwise 1–99 (files stay at 1).
    #[oai(validator(minimum(value = "0"), maximum(value = "99")))]
    pub quantity: i64,
}

/// A line of the cart.
#[derive(Debug, Object)]
pub struct CartLineDto {
    /// The listing.
    pub product_id: Uuid,
    /// Its title.
    pub title: String,
    /// `MODEL` or `FILE`.
    pub kind: KindDto,
    /// The seller.
    pub seller_id: Uuid,
    /// The seller's public name.
    pub seller_name: String,
    /// Quantity.
    pub quantity: u32,
    /// Unit price in cents (0 when free).
    pub unit_price_cents: i64,
    /// `quantity × unit_price_cents`.
    pub line_total_cents: i64,
    /// The seller can be paid now (else this line blocks checkout).
    pub can_buy: bool,
}

/// A line dropped because its listing became unavailable.
#[derive(Debug, Object)]
pub struct RemovedLineDto {
    /// The listing.
    pub product_id: Uuid,
    /// Its title.
    pub title: String,
    /// Why it was dropped.
    pub reason: String,
}

/// The cart.
#[derive(Debug, Object)]
pub struct CartDto {
    /// The anonymous cart's token: send it back as `X-Cart-Token` (null for a logged-in user's
    /// cart, and before anything was added).
    #[oai(nullable)]
    pub token: Option<String>,
    /// Lines, oldest first.
    pub lines: Vec<CartLineDto>,
    /// Σ line totals, in cents.
    pub subtotal_cents: i64,
    /// Currency of every amount.
    pub currency: String,
    /// True when there are lines and every seller can be paid.
    pub can_checkout: bool,
    /// Sellers who haven't finished payout setup (their lines block checkout).
    pub unready_sellers: Vec<String>,
    /// Lines dropped by this request because they became unavailable.
    pub removed: Vec<RemovedLineDto>,
}

fn line_dto(line: CartLineView) -> CartLineDto {
    CartLineDto {
        product_id: line.product_id.get(),
        title: line.title,
        kind: line.kind.into(),
        seller_id: line.seller_id.get(),
        seller_name: line.seller_name,
        quantity: line.quantity,
        unit_price_cents: line.unit_price.get(),
        line_total_cents: line.line_total.get(),
        can_buy: line.can_buy,
    }
}

fn removed_dto(line: RemovedLine) -> RemovedLineDto {
    RemovedLineDto {
        product_id: line.product_id.get(),
        title: line.title,
        reason: line.reason,
    }
}

/// The cart as sent.
pub fn cart_dto(view: CartView) -> CartDto {
    CartDto {
        token: view.token,
        lines: view.lines.into_iter().map(line_dto).collect(),
        subtotal_cents: view.subtotal.get(),
        currency: view.currency.to_string(),
        can_checkout: view.can_checkout,
        unready_sellers: view.unready_sellers,
        removed: view.removed.into_iter().map(removed_dto).collect(),
    }
}

/// The cart, with its token in `X-Cart-Token`.
#[derive(ApiResponse)]
pub enum CartResponse {
    /// The cart after the change.
    #[oai(status = 200)]
    Ok(
        Json<CartDto>,
        #[oai(header = "X-Cart-Token")] Option<String>,
    ),
}

/// The anonymous cart token a request carries: the `X-Cart-Token` header, else the `hc3_cart`
/// cookie; blank values count as none. Documented as the header parameter.
pub struct CartToken(pub Option<String>);

impl CartToken {
    /// The cart's owner: the caller (if logged in) and this token.
    pub(crate) fn owner<'a>(&'a self, auth: &'a MaybeAuth) -> CartOwner<'a> {
        CartOwner {
            actor: auth.actor(),
            token: self.0.as_deref(),
        }
    }
}

impl<'a> ApiExtractor<'a> for CartToken {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::Parameter];
    type ParamType = String;
    type ParamRawType = String;

    fn param_in() -> Option<MetaParamIn> {
        Some(MetaParamIn::Header)
    }

    fn param_schema_ref() -> Option<MetaSchemaRef> {
        Some(String::schema_ref())
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(CartToken(cart_token_of(request, param_opts.name)))
    }
}

/// The anonymous cart token of a request: the `header` (`X-Cart-Token`), else the `hc3_cart`
/// cookie; blank values count as none.
pub fn cart_token_of(request: &Request, header: &str) -> Option<String> {
    let sent = request
        .headers()
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cookie = request
        .cookie()
        .get(CART_COOKIE)
        .map(|c| c.value_str().to_owned());
    first_token([sent, cookie])
}

/// Keeps a browser's cart cookie in step with its cart: set while the cart is anonymous (when the
/// browser did not send that token already), removed once it has been merged into a user's cart.
/// The storefront keeps the same cookie.
pub fn keep_cart_cookie(
    jar: &CookieJar,
    cart_token: Option<&str>,
    sent: Option<&str>,
    secure: bool,
) {
    match cart_token {
        Some(token) if sent != Some(token) => {
            let mut cookie = crate::auth::site_cookie(CART_COOKIE, token, secure);
            cookie.set_max_age(std::time::Duration::from_secs(
                CART_COOKIE_DAYS * 24 * 60 * 60,
            ));
            jar.add(cookie);
        }
        None if sent.is_some() => crate::auth::forget_cookie(jar, CART_COOKIE),
        _ => {}
    }
}

impl CartApi {
    /// Answers with the cart, keeping the browser's cookie in step.
    fn respond(&self, view: CartView, sent: Option<&str>, jar: &CookieJar) -> CartResponse {
        keep_cart_cookie(jar, view.token.as_deref(), sent, self.config.secure_cookies);
        let token = view.token.clone();
        CartResponse::Ok(Json(cart_dto(view)), token)
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Cart")]
impl CartApi {
    /// The cart. Lines whose listing became unavailable are dropped and listed in `removed`.
    #[oai(path = "/cart", method = "get")]
    async fn view(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] token: CartToken,
        jar: &CookieJar,
    ) -> ApiResult<CartResponse> {
        let view = self.services.cart.view(token.owner(&auth)).await?;
        Ok(self.respond(view, token.0.as_deref(), jar))
    }

    /// Put a listing in the cart (quantities add up, capped at 99; files stay at 1). Inactive
    /// listings, sellers who cannot be paid yet and your own listings are refused (409, with a
    /// code saying why). Creates an anonymous cart when none is sent.
    #[oai(path = "/cart/items", method = "post")]
    async fn add(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] token: CartToken,
        body: JsonBody<AddItemRequest>,
        jar: &CookieJar,
    ) -> ApiResult<CartResponse> {
        let view = self
            .services
            .cart
            .add(
                token.owner(&auth),
                ProductId::from_uuid(body.0.product_id),
                body.0.quantity.unwrap_or(1),
            )
            .await?;
        Ok(self.respond(view, token.0.as_deref(), jar))
    }

    /// Change a line's quantity; 0 removes it.
    #[oai(path = "/cart/items/:product_id", method = "patch")]
    async fn set_quantity(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] token: CartToken,
        product_id: Path<Uuid>,
        body: JsonBody<SetQuantityRequest>,
        jar: &CookieJar,
    ) -> ApiResult<CartResponse> {
        let view = self
            .services
            .cart
            .set_quantity(
                token.owner(&auth),
                ProductId::from_uuid(product_id.0),
                body.0.quantity,
            )
            .await?;
        Ok(self.respond(view, token.0.as_deref(), jar))
    }

    /// Remove a line (removing a line that is not there is fine).
    #[oai(path = "/cart/items/:product_id", method = "delete")]
    async fn remove(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] token: CartToken,
        product_id: Path<Uuid>,
        jar: &CookieJar,
    ) -> ApiResult<CartResponse> {
        let view = self
            .services
            .cart
            .remove(token.owner(&auth), ProductId::from_uuid(product_id.0))
            .await?;
        Ok(self.respond(view, token.0.as_deref(), jar))
    }

    /// Empty the cart.
    #[oai(path = "/cart", method = "delete")]
    async fn clear(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] token: CartToken,
        jar: &CookieJar,
    ) -> ApiResult<CartResponse> {
        let view = self.services.cart.clear(token.owner(&auth)).await?;
        Ok(self.respond(view, token.0.as_deref(), jar))
    }
}
