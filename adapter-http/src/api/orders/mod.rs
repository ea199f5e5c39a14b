//! Orders and checkout: placing an order from the cart, paying it, reading it (buyer,
//! staff, or the holder of the guest token), downloads, and sellers' views of their sales.

mod dto;

pub use dto::*;

use std::collections::HashMap;

use marketplace_domain::ids::{AssetId, OrderId};
use marketplace_domain::money::FeePercent;
use marketplace_domain::orders::{Order, OrderLine, PaymentReference, ShippingAddress};
use marketplace_ports::ports::{AssetRecord, DownloadRecord, EntitlementRecord, OrderEventRecord};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::orders::{
    CheckoutOutcome, OrderAccess, OrderDetail, OrderView, ReturnUrls,
};
use poem::{Request, RequestBody};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaParamIn, MetaSchemaRef};
use poem_openapi::types::Type;
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::cart::CartToken;
use super::{ApiTags, first_token};
use crate::auth::{Auth, MaybeAuth};
use crate::dto::{KindDto, PageDto, PayoutDto, page_request, payout_dto};
use crate::error::ApiResult;
use crate::files::{Assets, Served, stream_file};
use crate::json::JsonBody;
use crate::params::{PageNumber, PerPage};

/// Header a guest may send the order token in, instead of `?t=`.
pub const ORDER_TOKEN_HEADER: &str = "X-Order-Token";

/// Orders.
pub struct OrdersApi {
    /// Use cases.
    pub services: Services,
}

/// The guest order token a request carries: the `t` query parameter, else the `X-Order-Token`
/// header. Documented as the query parameter.
pub struct OrderToken(pub Option<String>);

impl<'a> ApiExtractor<'a> for OrderToken {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::Parameter];
    type ParamType = String;
    type ParamRawType = String;

    fn param_in() -> Option<MetaParamIn> {
        Some(MetaParamIn::Query)
    }

    fn param_schema_ref() -> Option<MetaSchemaRef> {
        Some(String::schema_ref())
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let query = request
            .params::<HashMap<String, String>>()
            .ok()
            .and_then(|mut params| params.remove(param_opts.name));
        let header = request
            .headers()
            .get(ORDER_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(OrderToken(first_token([query, header])))
    }
}

impl OrderToken {
    /// Who asks: the caller (if logged in) and this token.
    pub(crate) fn access<'a>(&'a self, auth: &'a MaybeAuth) -> OrderAccess<'a> {
        OrderAccess {
            actor: auth.actor(),
            token: self.0.as_deref(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Orders")]
impl OrdersApi {
    /// Place an order from the cart (send `{}` when logged in; guests send `guest_email`). The
    /// cart is emptied when the order is saved, so placing it again is 409 `cart_empty` (two
    /// placements at once make one order). Guests get the order's `access_token`.
    #[oai(path = "/orders", method = "post")]
    async fn place(
        &self,
        auth: MaybeAuth,
        #[oai(name = "X-Cart-Token")] cart: CartToken,
        body: JsonBody<PlaceOrderRequest>,
    ) -> ApiResult<PlaceOrderResponse> {
        let placed = self
            .services
            .order_placement
            .place(cart.owner(&auth), body.0.guest_email.as_deref())
            .await?;
        let token = placed.order.guest_token().map(str::to_owned);
        let dto = order_dto(&OrderView::for_buyer(placed.order), token);
        Ok(PlaceOrderResponse::Created(Json(dto)))
    }

    /// Your orders, newest first.
    #[oai(path = "/orders", method = "get")]
    async fn mine(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<OrderDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self.services.orders.mine(auth.actor(), request).await?;
        Ok(Json(PageDto::from_page(found, view_dto)))
    }

    /// Your paid orders, newest first.
    #[oai(path = "/orders/purchases", method = "get")]
    async fn purchases(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<OrderDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .orders
            .purchases(auth.actor(), request)
            .await?;
        Ok(Json(PageDto::from_page(found, view_dto)))
    }

    /// An order: for its buyer, staff, or whoever holds its guest token (`?t=` or
    /// `X-Order-Token`). Anyone else gets 404.
    #[oai(path = "/orders/:id", method = "get")]
    async fn get(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
    ) -> ApiResult<Json<OrderDetailDto>> {
        let detail = self
            .services
            .orders
            .get(OrderId::from_uuid(id.0), token.access(&auth))
            .await?;
        Ok(Json(detail_dto(detail)))
    }

    /// Pay a pending order: free orders are paid at once; otherwise you get a hosted checkout
    /// page (the same one on repeated calls while it is open, a new one once it expired). Payment
    /// is confirmed by Stripe's webhook, not by this call. Refused (409) while a seller cannot be
    /// paid.
    #[oai(path = "/orders/:id/checkout", method = "post")]
    async fn checkout(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        body: JsonBody<CheckoutRequest>,
    ) -> ApiResult<Json<CheckoutDto>> {
        let returns = ReturnUrls {
            success: body.0.success_url,
            cancel: body.0.cancel_url,
        };
        let outcome = self
            .services
            .checkout
            .checkout(OrderId::from_uuid(id.0), token.access(&auth), &returns)
            .await?;
        Ok(Json(match outcome {
            CheckoutOutcome::Paid => CheckoutDto {
                status: "paid".to_owned(),
                checkout_url: None,
            },
            CheckoutOutcome::Redirect { url } => CheckoutDto {
                status: "pending".to_owned(),
                checkout_url: Some(url),
            },
        }))
    }

    /// The downloads of an order's files, newest first (buyer, staff or guest token).
    #[oai(path = "/orders/:id/downloads", method = "get")]
    async fn downloads(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<DownloadLogDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .orders
            .downloads(OrderId::from_uuid(id.0), token.access(&auth), request)
            .await?;
        Ok(Json(PageDto::from_page(found, download_log_dto)))
    }

    /// How often each of your products was downloaded, most downloaded first.
    #[oai(path = "/seller/downloads", method = "get", tag = "ApiTags::Seller")]
    async fn seller_downloads(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<ProductDownloadsDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .orders
            .seller_downloads(auth.actor(), request)
            .await?;
        Ok(Json(PageDto::from_page(found, |p| ProductDownloadsDto {
            product_id: p.product_id.get(),
            title: p.title,
            downloads: p.downloads,
        })))
    }

    /// Download a file of a paid order (buyer, staff or guest token): counted and logged. 403
    /// `entitlement_revoked` after a full refund or a lost chargeback, `entitlement_expired`,
    /// `download_limit_reached`.
    #[oai(path = "/orders/:id/assets/:asset_id", method = "get")]
    async fn download(
        &self,
        auth: MaybeAuth,
        id: Path<Uuid>,
        asset_id: Path<Uuid>,
        #[oai(name = "t")] token: OrderToken,
    ) -> ApiResult<Served<Assets>> {
        let download = self
            .services
            .orders
            .download(
                OrderId::from_uuid(id.0),
                AssetId::from_uuid(asset_id.0),
                token.access(&auth),
            )
            .await?;
        Ok(stream_file(
            self.services.files.clone(),
            download.blob,
            Some(&download.file_name),
            "private, no-store",
        ))
    }

    /// Where Stripe sends the buyer after paying: shows the order (which turns `paid` when the
    /// payment's webhook arrives; it may still say `pending` for a moment).
    #[oai(path = "/checkout/complete", method = "get")]
    async fn complete(
        &self,
        auth: MaybeAuth,
        session_id: Query<String>,
        #[oai(name = "t")] token: OrderToken,
    ) -> ApiResult<Json<OrderDetailDto>> {
        let detail = self
            .services
            .orders
            .by_session(&session_id.0, token.access(&auth))
            .await?;
        Ok(Json(detail_dto(detail)))
    }

    /// Paid orders with your lines, newest first (owners: every paid order).
    #[oai(path = "/seller/orders", method = "get", tag = "ApiTags::Seller")]
    async fn seller_orders(
        &self,
        auth: Auth,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<PageDto<OrderDto>>> {
        let request = page_request(page.0, per_page.0)?;
        let found = self
            .services
            .orders
            .seller_orders(auth.actor(), request)
            .await?;
        Ok(Json(PageDto::from_page(found, view_dto)))
    }

    /// One paid order with only your lines and payouts (owners: everything).
    #[oai(path = "/seller/orders/:id", method = "get", tag = "ApiTags::Seller")]
    async fn seller_order(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<Json<OrderDetailDto>> {
        let detail = self
            .services
            .orders
            .seller_order(auth.actor(), OrderId::from_uuid(id.0))
            .await?;
        Ok(Json(detail_dto(detail)))
    }
}
