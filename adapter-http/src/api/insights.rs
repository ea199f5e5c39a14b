//! Seller analytics and the admin dashboard.

use marketplace_ports::ports::{ActivityTotals, ProductActivity, TopSeller};
use marketplace_ports::use_cases::Services;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::Date;
use uuid::Uuid;

use super::ApiTags;
use super::admin::{SiteConfigDto, site_config_dto};
use crate::auth::Auth;
use crate::dto::{PageDto, page_request};
use crate::error::ApiResult;
use crate::params::{PageNumber, Param, PerPage, PeriodDays};

/// Seller analytics and the admin dashboard.
pub struct InsightsApi {
    /// Use cases.
    pub services: Services,
}

/// What listings did over a period: engagement (throttled per visitor) and sales (paid lines,
/// counted when paid).
#[derive(Debug, Object)]
pub struct ActivityDto {
    /// Product page views.
    pub views: i64,
    /// Clicks from lists.
    pub clicks: i64,
    /// Adds to cart (once per cart).
    pub add_to_carts: i64,
    /// Paid orders (one per order and listing).
    pub orders: i64,
    /// Units paid for.
    pub units: i64,
    /// Paid orders per view, in percent with two decimals (absent without views).
    #[oai(nullable)]
    pub conversion_percent: Option<String>,
    /// Gross of the paid lines (price × quantity).
    pub gross_cents: i64,
    /// The sellers' net of those lines (gross − the marketplace fee).
    pub net_cents: i64,
    /// The marketplace fee on those lines.
    pub fee_cents: i64,
    /// Reviews written.
    pub reviews: i64,
}

fn activity_dto(totals: ActivityTotals) -> ActivityDto {
    ActivityDto {
        conversion_percent: totals.conversion_percent(),
        views: totals.views,
        clicks: totals.clicks,
        add_to_carts: totals.add_to_carts,
        orders: totals.orders,
        units: totals.units,
        gross_cents: totals.gross.get(),
        net_cents: totals.net.get(),
        fee_cents: totals.fee.get(),
        reviews: totals.reviews,
    }
}

/// One listing's activity.
#[derive(Debug, Object)]
pub struct ProductActivityDto {
    /// The listing.
    pub product_id: Uuid,
    /// Its title.
    pub title: String,
    /// What it did.
    #[oai(flatten)]
    pub activity: ActivityDto,
}

fn product_activity_dto(product: ProductActivity) -> ProductActivityDto {
    ProductActivityDto {
        product_id: product.product_id.get(),
        title: product.title,
        activity: activity_dto(product.totals),
    }
}

/// A seller's analytics.
#[derive(Debug, Object)]
pub struct SellerAnalyticsDto {
    /// Days covered (7, 30 or 90), today included.
    pub days: i64,
    /// The first UTC day covered.
    pub since: String,
    /// Every listing together.
    pub totals: ActivityDto,
    /// Listings with any activity, most gross first, then most views.
    pub products: PageDto<ProductActivityDto>,
}

/// A top seller of the period.
#[derive(Debug, Object)]
pub struct TopSellerDto {
    /// Seller.
    pub seller_id: Uuid,
    /// Username.
    pub username: String,
    /// Gross of their paid lines.
    pub gross_cents: i64,
    /// Units sold.
    pub units: i64,
    /// Paid orders (one per order and listing).
    pub orders: i64,
}

fn top_seller_dto(seller: TopSeller) -> TopSellerDto {
    TopSellerDto {
        seller_id: seller.seller_id.get(),
        username: seller.username,
        gross_cents: seller.gross.get(),
        units: seller.units,
        orders: seller.orders,
    }
}

/// The admin dashboard.
#[derive(Debug, Object)]
pub struct AdminDashboardDto {
    /// Every listing.
    pub products_total: i64,
    /// Active listings.
    pub products_active: i64,
    /// Users with at least one listing.
    pub sellers: i64,
    /// Orders paid, ever (refunded ones included).
    pub orders_paid: i64,
    /// Orders placed and not paid.
    pub orders_pending: i64,
    /// Days the sales figures cover, today included.
    pub days: i64,
    /// Their first UTC day.
    pub since: String,
    /// Gross sales of the period (`revenue`), counted when paid.
    pub revenue_cents: i64,
    /// The marketplace's fees on those sales.
    pub fee_revenue_cents: i64,
    /// Everything of the period: engagement and sales.
    pub activity: ActivityDto,
    /// Sellers with the most gross in the period (up to 10).
    pub top_sellers: Vec<TopSellerDto>,
    /// The site configuration in force.
    pub site_config: SiteConfigDto,
}

fn day_text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

#[OpenApi(prefix_path = "/api/v1")]
impl InsightsApi {
    /// Your listings' views, clicks, adds to cart, orders, units, conversion, gross and net over
    /// the last `days` (7, 30 or 90; default 30), in total and per listing (paginated).
    #[oai(path = "/seller/analytics", method = "get", tag = "ApiTags::Seller")]
    async fn seller_analytics(
        &self,
        auth: Auth,
        days: Query<Option<PeriodDays>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<SellerAnalyticsDto>> {
        let request = page_request(page.0, per_page.0)?;
        let analytics = self
            .services
            .analytics
            .seller(auth.actor(), days.0.map_or(30, Param::into_inner), request)
            .await?;
        Ok(Json(SellerAnalyticsDto {
            days: analytics.period.days(),
            since: day_text(analytics.since),
            totals: activity_dto(analytics.activity.totals),
            products: PageDto::from_page(analytics.activity.products, product_activity_dto),
        }))
    }

    /// The marketplace at a glance (owners): listings, sellers, paid and pending orders, the last
    /// 30 days' revenue and fee revenue, the top sellers, and the site configuration.
    #[oai(path = "/admin/dashboard", method = "get", tag = "ApiTags::Admin")]
    async fn dashboard(&self, auth: Auth) -> ApiResult<Json<AdminDashboardDto>> {
        let d = self.services.analytics.dashboard(auth.actor()).await?;
        let o = d.overview;
        Ok(Json(AdminDashboardDto {
            products_total: o.products_total,
            products_active: o.products_active,
            sellers: o.sellers,
            orders_paid: o.orders_paid,
            orders_pending: o.orders_pending,
            days: d.period.days(),
            since: day_text(d.since),
            revenue_cents: o.period.gross.get(),
            fee_revenue_cents: o.period.fee.get(),
            activity: activity_dto(o.period),
            top_sellers: o.top_sellers.into_iter().map(top_seller_dto).collect(),
            site_config: site_config_dto(d.site),
        }))
    }
}
