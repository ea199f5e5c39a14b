//! Sellers' payout setup (Stripe Connect onboarding), their money (balance, ledger, payouts,
//! dashboard; docs/money.md, "Payouts"), and the buyer dashboard.

use marketplace_domain::orders::Order;
use marketplace_ports::ports::{LedgerFilter, SaleRow, SellerLedgerLine};
use marketplace_ports::use_cases::Services;
use marketplace_ports::use_cases::connect::ConnectView;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::admin::{ConnectStatusDto, connect_status_dto};
use crate::auth::Auth;
use crate::dto::{PageDto, PayoutDto, page_request, payout_dto};
use crate::error::ApiResult;
use crate::params::{PageNumber, PerPage};

/// Seller money and dashboards.
pub struct MoneyApi {
    /// Use cases.
    pub services: Services,
}

/// A seller's payout setup.
#[derive(Debug, Object)]
pub struct ConnectDto {
    /// Linked, details submitted, charges and payouts enabled: listings can be sold.
    pub ready: bool,
    /// The account (absent before onboarding starts).
    #[oai(nullable)]
    pub account: Option<ConnectStatusDto>,
    /// What to do next.
    pub message: String,
}

/// Where to continue onboarding.
#[derive(Debug, Object)]
pub struct OnboardingLinkDto {
    /// Stripe's onboarding page (single use, expires within minutes).
    pub url: String,
}

/// One movement of a seller's balance.
#[derive(Debug, Object)]
pub struct LedgerLineDto {
    /// The entry's idempotency key (`order_paid:…`, `transfer:tr_…`, `refund:re_…`).
    pub key: String,
    /// `order_paid`, `transfer`, `refund`, `dispute_lost`, `dispute_won`, `adjustment`, …
    pub kind: String,
    /// The order concerned.
    #[oai(nullable)]
    pub order_id: Option<Uuid>,
    /// Effect on the balance (positive: owed more to the seller).
    pub amount_cents: i64,
    /// Currency.
    pub currency: String,
    /// Booked at.
    pub created_at: OffsetDateTime,
}

/// A seller's balance, its movements and their payouts.
#[derive(Debug, Object)]
pub struct SellerPayoutsDto {
    /// Signed balance: owed to the seller if positive, owed by them if negative.
    pub balance_cents: i64,
    /// Currency.
    pub currency: String,
    /// Balance movements, newest first.
    pub entries: PageDto<LedgerLineDto>,
    /// Payouts per order, newest first (same page as `entries`).
    pub payouts: Vec<PayoutDto>,
    /// Payouts over all pages.
    pub payouts_total: u64,
}

/// A line sold.
#[derive(Debug, Object)]
pub struct SaleDto {
    /// The order.
    pub order_id: Uuid,
    /// The listing.
    pub product_id: Uuid,
    /// Title.
    pub title: String,
    /// Quantity.
    pub quantity: u32,
    /// Gross.
    pub gross_cents: i64,
    /// Net to the seller.
    pub seller_net_cents: i64,
    /// When the order was paid.
    #[oai(nullable)]
    pub paid_at: Option<OffsetDateTime>,
}

/// Sales over a period.
#[derive(Debug, Object)]
pub struct SalesSummaryDto {
    /// Σ gross.
    pub gross_cents: i64,
    /// Σ net.
    pub net_cents: i64,
    /// Orders.
    pub orders: i64,
    /// Units.
    pub units: i64,
}

/// The seller dashboard.
#[derive(Debug, Object)]
pub struct SellerDashboardDto {
    /// Active listings.
    pub active_listings: i64,
    /// Inactive listings.
    pub inactive_listings: i64,
    /// Paid sales of the last 30 days.
    pub last_30_days: SalesSummaryDto,
    /// Latest lines sold.
    pub recent_sales: Vec<SaleDto>,
    /// Signed balance.
    pub balance_cents: i64,
    /// What can still be paid out: the balance less payouts under way, never below 0.
    pub payout_available_cents: i64,
    /// Currency.
    pub currency: String,
    /// Latest balance movements.
    pub latest_entries: Vec<LedgerLineDto>,
    /// Ready to sell.
    pub ready: bool,
    /// Payout setup.
    #[oai(nullable)]
    pub connect: Option<ConnectStatusDto>,
}

/// An order in a list.
#[derive(Debug, Object)]
pub struct OrderSummaryDto {
    /// Id.
    pub id: Uuid,
    /// Status.
    pub status: String,
    /// Total.
    pub total_cents: i64,
    /// Refunded.
    pub refunded_cents: i64,
    /// Currency.
    pub currency: String,
    /// Placed.
    pub created_at: OffsetDateTime,
    /// Paid.
    #[oai(nullable)]
    pub paid_at: Option<OffsetDateTime>,
}

/// The buyer dashboard.
#[derive(Debug, Object)]
pub struct ConsumerDashboardDto {
    /// Latest orders.
    pub recent_orders: Vec<OrderSummaryDto>,
    /// Σ totals of paid orders, less refunds.
    pub total_spent_cents: i64,
    /// Paid orders.
    pub paid_orders: i64,
    /// Currency.
    pub currency: String,
}

fn ledger_line_dto(line: SellerLedgerLine) -> LedgerLineDto {
    LedgerLineDto {
        key: line.key,
        kind: line.kind,
        order_id: line.order_id.map(|o| o.get()),
        amount_cents: line.amount.get(),
        currency: line.currency.to_string(),
        created_at: line.created_at,
    }
}

fn sale_dto(sale: SaleRow) -> SaleDto {
    SaleDto {
        order_id: sale.item.order_id.get(),
        product_id: sale.item.product_id.get(),
        title: sale.item.title,
        quantity: sale.item.quantity,
        gross_cents: sale.item.gross.get(),
        seller_net_cents: sale.item.net.get(),
        paid_at: sale.paid_at,
    }
}

fn order_summary_dto(order: Order) -> OrderSummaryDto {
    OrderSummaryDto {
        id: order.id.get(),
        status: order.status.as_str().to_owned(),
        total_cents: order.total.get(),
        refunded_cents: order.refunded.get(),
        currency: order.currency.to_string(),
        created_at: order.created_at,
        paid_at: order.paid_at,
    }
}

fn connect_dto(view: ConnectView, message: &str) -> ConnectDto {
    let message = if message.is_empty() {
        match (&view.account, view.ready) {
            (_, true) => "Stripe payouts are enabled. You're ready to sell!",
            (Some(a), false) if a.status.stripe_account_id.is_some() => {
                "Onboarding is not finished: POST /api/v1/seller/connect/start to continue."
            }
            _ => "Set up payouts: POST /api/v1/seller/connect/start to begin Stripe onboarding.",
        }
    } else {
        message
    };
    ConnectDto {
        ready: view.ready,
        account: view.account.map(connect_status_dto),
        message: message.to_owned(),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Seller")]
impl MoneyApi {
    /// Your payout setup (refreshed from Stripe at most once a minute while not ready).
    #[oai(path = "/seller/connect", method = "get")]
    async fn connect_status(&self, auth: Auth) -> ApiResult<Json<ConnectDto>> {
        let view = self.services.onboarding.status(auth.actor()).await?;
        Ok(Json(connect_dto(view, "")))
    }

    /// Start or continue Stripe onboarding: creates your Express account if needed (your
    /// profile or account needs an e-mail) and returns the onboarding page to send you to.
    #[oai(path = "/seller/connect/start", method = "post")]
    async fn connect_start(&self, auth: Auth) -> ApiResult<Json<OnboardingLinkDto>> {
        let url = self.services.onboarding.start(auth.actor()).await?;
        Ok(Json(OnboardingLinkDto { url }))
    }

    /// Read your account from Stripe now (if a webhook is late).
    #[oai(path = "/seller/connect/sync", method = "post")]
    async fn connect_sync(&self, auth: Auth) -> ApiResult<Json<ConnectDto>> {
        let view = self.services.onboarding.sync(auth.actor()).await?;
        Ok(Json(connect_dto(view, "")))
    }

    /// Where Stripe sends you after onboarding: your status, read from Stripe now.
    #[oai(path = "/seller/connect/return", method = "get")]
    async fn connect_return(&self, auth: Auth) -> ApiResult<Json<ConnectDto>> {
        let view = match self.services.onboarding.sync(auth.actor()).await {
            Ok(view) => view,
            Err(error) => {
                tracing::warn!(%error, "refreshing the Connect status on return failed");
                self.services.onboarding.status(auth.actor()).await?
            }
        };
        Ok(Json(connect_dto(view, "")))
    }

    /// Where Stripe sends you when the onboarding link expired or was abandoned.
    #[oai(path = "/seller/connect/refresh", method = "get")]
    async fn connect_refresh(&self, auth: Auth) -> ApiResult<Json<ConnectDto>> {
        let view = self.services.onboarding.status(auth.actor()).await?;
        Ok(Json(connect_dto(
            view,
            "Your Stripe onboarding link expired: POST /api/v1/seller/connect/start for a new one.",
        )))
    }

    /// Your balance, its movements (filter by `kind`, search `q` in keys and order ids) and your
    /// payouts.
    #[oai(path = "/seller/payouts", method = "get")]
    async fn payouts(
        &self,
        auth: Auth,
        kind: Query<Option<String>>,
        q: Query<Option<String>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<SellerPayoutsDto>> {
        let request = page_request(page.0, per_page.0)?;
        let filter = LedgerFilter {
            kind: kind
                .0
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty()),
            text: q.0.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
        };
        let money = self
            .services
            .seller_money
            .payouts(auth.actor(), &filter, request)
            .await?;
        Ok(Json(SellerPayoutsDto {
            balance_cents: money.balance.get(),
            currency: money.currency.to_string(),
            entries: PageDto::from_page(money.entries, ledger_line_dto),
            payouts_total: money.payouts.total,
            payouts: money.payouts.items.into_iter().map(payout_dto).collect(),
        }))
    }

    /// Your seller dashboard.
    #[oai(path = "/seller/dashboard", method = "get")]
    async fn seller_dashboard(&self, auth: Auth) -> ApiResult<Json<SellerDashboardDto>> {
        let d = self.services.seller_money.dashboard(auth.actor()).await?;
        Ok(Json(SellerDashboardDto {
            active_listings: d.active_listings,
            inactive_listings: d.inactive_listings,
            last_30_days: SalesSummaryDto {
                gross_cents: d.last_30_days.gross.get(),
                net_cents: d.last_30_days.net.get(),
                orders: d.last_30_days.orders,
                units: d.last_30_days.units,
            },
            recent_sales: d.recent_sales.into_iter().map(sale_dto).collect(),
            balance_cents: d.balance.get(),
            payout_available_cents: d.payout_available.get(),
            currency: d.currency.to_string(),
            latest_entries: d.latest_entries.into_iter().map(ledger_line_dto).collect(),
            ready: d.ready,
            connect: d.connect.map(connect_status_dto),
        }))
    }

    /// Your buyer dashboard: latest orders and what you spent.
    #[oai(path = "/me/dashboard", method = "get", tag = "ApiTags::Orders")]
    async fn consumer_dashboard(&self, auth: Auth) -> ApiResult<Json<ConsumerDashboardDto>> {
        let d = self
            .services
            .buyer_dashboard
            .dashboard(auth.actor())
            .await?;
        Ok(Json(ConsumerDashboardDto {
            recent_orders: d.recent_orders.into_iter().map(order_summary_dto).collect(),
            total_spent_cents: d.summary.total_spent.get(),
            paid_orders: d.summary.paid_orders,
            currency: d.currency.to_string(),
        }))
    }
}
