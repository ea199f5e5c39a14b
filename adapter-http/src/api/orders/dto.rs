//! The orders API's request and response bodies, and how orders, lines, downloads and events
//! become them (who sees sellers' money is decided by the use case, passed in here).

use super::*;

/// Placing an order.
#[derive(Debug, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// Required for guests (where the receipt and download links go); ignored for logged-in
    /// buyers.
    #[oai(nullable)]
    pub guest_email: Option<String>,
}

/// One line of an order (a snapshot taken when it was placed).
#[derive(Debug, Object)]
pub struct OrderItemDto {
    /// Line id.
    pub id: Uuid,
    /// The listing.
    pub product_id: Uuid,
    /// The seller.
    pub seller_id: Uuid,
    /// Title when ordered.
    pub title: String,
    /// `MODEL` or `FILE`.
    pub kind: KindDto,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub unit_price_cents: i64,
    /// `quantity × unit_price_cents`.
    pub gross_cents: i64,
    /// The platform's fee on this line (sellers' money: absent in the buyer's view).
    #[oai(nullable)]
    pub marketplace_fee_cents: Option<i64>,
    /// What the seller earns: gross − fee (absent in the buyer's view).
    #[oai(nullable)]
    pub seller_net_cents: Option<i64>,
    /// This line's share of the order's tax.
    pub tax_cents: i64,
    /// This line's share of the order's shipping.
    pub shipping_cents: i64,
    /// A digital file.
    pub is_digital: bool,
    /// Ships physically.
    pub requires_shipping: bool,
}

/// Where a physical order ships.
#[derive(Debug, Object)]
pub struct ShippingAddressDto {
    /// Recipient.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Line 1.
    pub line1: String,
    /// Line 2.
    pub line2: String,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// Country code.
    pub country: String,
}

/// An order.
#[derive(Debug, Object)]
pub struct OrderDto {
    /// Id.
    pub id: Uuid,
    /// `pending`, `paid`, `partially_refunded`, `refunded` or `canceled`.
    pub status: String,
    /// `digital`, `physical` or `mixed`.
    pub kind: String,
    /// Currency of every amount.
    pub currency: String,
    /// Σ line gross.
    pub subtotal_cents: i64,
    /// Tax.
    pub tax_cents: i64,
    /// Shipping.
    pub shipping_cents: i64,
    /// What the buyer pays.
    pub total_cents: i64,
    /// Returned to the buyer so far.
    pub refunded_cents: i64,
    /// The marketplace fee rate when the order was placed (percent, two decimals; sellers' money:
    /// absent in the buyer's view).
    #[oai(nullable)]
    pub fee_percent: Option<String>,
    /// The registered buyer.
    #[oai(nullable)]
    pub buyer_id: Option<Uuid>,
    /// The guest's e-mail.
    #[oai(nullable)]
    pub guest_email: Option<String>,
    /// What the payment is tied to: Stripe's payment intent (`pi_…`) once a checkout completes,
    /// `FREE` for free orders; absent before payment and in sellers' views.
    #[oai(nullable)]
    pub payment_reference: Option<String>,
    /// When payment was confirmed.
    #[oai(nullable)]
    pub paid_at: Option<OffsetDateTime>,
    /// Shipping address collected at checkout.
    #[oai(nullable)]
    pub shipping_address: Option<ShippingAddressDto>,
    /// Placed.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Lines (in seller views: only the seller's own).
    pub items: Vec<OrderItemDto>,
    /// The guest access token: keep it, it is the only way back to a guest order.
    #[oai(nullable)]
    pub access_token: Option<String>,
}

/// A file bought in an order.
#[derive(Debug, Object)]
pub struct DownloadDto {
    /// The file.
    pub asset_id: Uuid,
    /// The listing it belongs to.
    pub product_id: Uuid,
    /// File name.
    pub file_name: String,
    /// Size.
    pub size_bytes: i64,
    /// Where to download it (with the guest token for guest orders).
    pub url: String,
}

/// What a paid digital line lets its buyer download.
#[derive(Debug, Object)]
pub struct EntitlementDto {
    /// The line.
    pub order_item_id: Uuid,
    /// The product whose files (as they were when it was paid for) it covers.
    pub product_id: Uuid,
    /// Downloads so far.
    pub downloads: u32,
    /// Downloads allowed (absent: unlimited).
    #[oai(nullable)]
    pub download_limit: Option<u32>,
    /// Downloads left (absent: unlimited).
    #[oai(nullable)]
    pub remaining_downloads: Option<u32>,
    /// When downloads end (absent: never).
    #[oai(nullable)]
    pub expires_at: Option<OffsetDateTime>,
    /// Refunded in full or charged back: no more downloads.
    pub revoked: bool,
}

/// One download of an order's file.
#[derive(Debug, Object)]
pub struct DownloadLogDto {
    /// The line whose entitlement it used.
    pub order_item_id: Uuid,
    /// The file.
    pub asset_id: Uuid,
    /// Who (absent for a guest with the order token).
    #[oai(nullable)]
    pub user_id: Option<Uuid>,
    /// Bytes served.
    pub bytes: i64,
    /// When.
    pub downloaded_at: OffsetDateTime,
    /// Counted against the purchase's downloads (the buyer's; staff's are only logged).
    pub counted: bool,
}

/// How often one of your products was downloaded.
#[derive(Debug, Object)]
pub struct ProductDownloadsDto {
    /// The product.
    pub product_id: Uuid,
    /// Its title.
    pub title: String,
    /// Downloads by all its buyers.
    pub downloads: i64,
}

/// An entry of the order's history.
#[derive(Debug, Object)]
pub struct OrderEventDto {
    /// `created`, `paid`, `transfer_created`, `warning`, …
    pub kind: String,
    /// Details.
    pub message: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// An order with its downloads, history and payouts.
#[derive(Debug, Object)]
pub struct OrderDetailDto {
    /// The order.
    #[oai(flatten)]
    pub order: OrderDto,
    /// Files to download now: those of digital purchases whose entitlement stands.
    pub downloads: Vec<DownloadDto>,
    /// The entitlement of each paid digital line: downloads used and left, expiry, revocation.
    pub entitlements: Vec<EntitlementDto>,
    /// History, oldest first.
    pub events: Vec<OrderEventDto>,
    /// Payouts to sellers (sellers see their own; owners all).
    pub payouts: Vec<PayoutDto>,
}

/// What checkout did.
#[derive(Debug, Object)]
pub struct CheckoutDto {
    /// The order's status now: `paid` for free orders, else `pending` until the payment's
    /// webhook arrives.
    pub status: String,
    /// Pay here (absent for free orders).
    #[oai(nullable)]
    pub checkout_url: Option<String>,
}

/// Where a web client wants the buyer sent back (both optional; the body may be empty).
#[derive(Debug, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// After paying: an absolute URL of an origin in `ALLOWED_RETURN_ORIGINS`;
    /// `session_id={CHECKOUT_SESSION_ID}` is added to it. Absent: our order page.
    #[oai(nullable, validator(max_length = 2048))]
    pub success_url: Option<String>,
    /// After giving up on Stripe's page: an absolute URL of an allowed origin. Absent: the order.
    #[oai(nullable, validator(max_length = 2048))]
    pub cancel_url: Option<String>,
}

/// Placing an order.
#[derive(ApiResponse)]
pub enum PlaceOrderResponse {
    /// Placed; the cart is now empty.
    #[oai(status = 201)]
    Created(Json<OrderDto>),
}

pub(super) fn item_dto(item: &OrderLine, seller_money: bool) -> OrderItemDto {
    OrderItemDto {
        id: item.id.get(),
        product_id: item.product_id.get(),
        seller_id: item.seller_id.get(),
        title: item.title.clone(),
        kind: item.kind.into(),
        quantity: item.quantity,
        unit_price_cents: item.unit_price.get(),
        gross_cents: item.gross.get(),
        marketplace_fee_cents: seller_money.then(|| item.fee.get()),
        seller_net_cents: seller_money.then(|| item.net.get()),
        tax_cents: item.tax.get(),
        shipping_cents: item.shipping.get(),
        is_digital: item.kind.is_digital(),
        requires_shipping: item.kind.requires_shipping(),
    }
}

pub(super) fn address_dto(address: &ShippingAddress) -> ShippingAddressDto {
    ShippingAddressDto {
        name: address.name.clone(),
        phone: address.phone.clone(),
        line1: address.line1.clone(),
        line2: address.line2.clone(),
        city: address.city.clone(),
        state: address.state.clone(),
        postal_code: address.postal_code.clone(),
        country: address.country.clone(),
    }
}

/// The wire spelling of how an order was paid: `FREE` for free checkouts, nothing otherwise.
pub(super) fn payment_reference(order: &Order) -> Option<String> {
    match &order.payment {
        Some(PaymentReference::Free) => Some("FREE".to_owned()),
        Some(PaymentReference::StripePaymentIntent(intent)) => Some(intent.clone()),
        None => None,
    }
}

/// Builds the order as its audience sees it: a seller gets their share's totals and no buyer
/// details (the address only when one of their lines ships); a buyer no sellers' money.
pub fn order_dto(view: &OrderView, token: Option<String>) -> OrderDto {
    let order = &view.order;
    let share = view.seller_share();
    let buyer = view.shows_buyer();
    OrderDto {
        id: order.id.get(),
        status: order.status.as_str().to_owned(),
        kind: order.kind.as_str().to_owned(),
        currency: order.currency.to_string(),
        subtotal_cents: share.map_or(order.subtotal, |s| s.subtotal).get(),
        tax_cents: share.map_or(order.tax, |s| s.tax).get(),
        shipping_cents: share.map_or(order.shipping, |s| s.shipping).get(),
        total_cents: share.map_or(order.total, |s| s.total).get(),
        refunded_cents: share.map_or(order.refunded, |s| s.refunded).get(),
        fee_percent: view.shows_seller_money().then(|| {
            FeePercent::from_basis_points(order.fee_rate)
                .get()
                .to_string()
        }),
        buyer_id: order.buyer_id.filter(|_| buyer).map(|b| b.get()),
        guest_email: order.guest_email.clone().filter(|_| buyer),
        payment_reference: payment_reference(order).filter(|_| buyer),
        paid_at: order.paid_at,
        shipping_address: order
            .shipping_address
            .as_ref()
            .filter(|_| view.shows_address())
            .map(address_dto),
        created_at: order.created_at,
        updated_at: order.updated_at,
        items: view
            .lines()
            .map(|line| item_dto(line, view.shows_seller_money()))
            .collect(),
        access_token: token,
    }
}

pub(super) fn view_dto(view: OrderView) -> OrderDto {
    order_dto(&view, None)
}

pub(super) fn download_dto(order: OrderId, asset: AssetRecord, token: Option<&str>) -> DownloadDto {
    let query = token.map(|t| format!("?t={t}")).unwrap_or_default();
    DownloadDto {
        asset_id: asset.id.get(),
        product_id: asset.product_id.get(),
        url: format!("/api/v1/orders/{order}/assets/{}{query}", asset.id),
        file_name: asset.original_filename,
        size_bytes: asset.size_bytes,
    }
}

pub(super) fn entitlement_dto(record: EntitlementRecord) -> EntitlementDto {
    let e = record.entitlement;
    EntitlementDto {
        order_item_id: record.order_item_id.get(),
        product_id: record.product_id.get(),
        downloads: e.downloads,
        download_limit: e.download_limit,
        remaining_downloads: e.remaining(),
        expires_at: e.expires_at,
        revoked: e.revoked,
    }
}

pub(super) fn download_log_dto(download: DownloadRecord) -> DownloadLogDto {
    DownloadLogDto {
        order_item_id: download.order_item_id.get(),
        asset_id: download.asset_id.get(),
        user_id: download.user_id.map(|u| u.get()),
        bytes: download.bytes,
        downloaded_at: download.downloaded_at,
        counted: download.counted,
    }
}

pub(super) fn event_dto(event: OrderEventRecord) -> OrderEventDto {
    OrderEventDto {
        kind: event.kind.as_str().to_owned(),
        message: event.message,
        created_at: event.created_at,
    }
}

/// The wire shape of an order's page.
pub fn detail_dto(detail: OrderDetail) -> OrderDetailDto {
    let order_id = detail.view.order.id;
    let token = detail.access_token;
    OrderDetailDto {
        downloads: detail
            .downloads
            .into_iter()
            .map(|asset| download_dto(order_id, asset, token.as_deref()))
            .collect(),
        entitlements: detail
            .entitlements
            .into_iter()
            .map(entitlement_dto)
            .collect(),
        events: detail.events.into_iter().map(event_dto).collect(),
        payouts: detail.payouts.into_iter().map(payout_dto).collect(),
        order: order_dto(&detail.view, token),
    }
}
