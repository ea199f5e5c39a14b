//! Engagement and sales counted per product per day, the trending marks written from them, and
//! the analytics read from them (docs/discovery.md).

use async_trait::async_trait;
use marketplace_domain::engagement::{DailyCounts, TrendingSignals};
use marketplace_domain::ids::{ProductId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderLine;
use marketplace_domain::pagination::{Page, PageRequest};
use time::Date;

use super::uow::{Queries, StoreError, Tx};

/// What a product (or a seller, or the marketplace) did over some days, summed from the daily
/// counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityTotals {
    /// Product page views.
    pub views: i64,
    /// Clicks from lists.
    pub clicks: i64,
    /// Adds to cart.
    pub add_to_carts: i64,
    /// Paid order lines (one per order and product).
    pub orders: i64,
    /// Units paid for.
    pub units: i64,
    /// Gross of the paid lines (price × quantity), when they were paid.
    pub gross: Cents,
    /// The sellers' net of those lines.
    pub net: Cents,
    /// The platform's fee on those lines.
    pub fee: Cents,
    /// Reviews written.
    pub reviews: i64,
}

impl ActivityTotals {
    /// Paid lines per view, in percent (`engagement::conversion_percent`); `None` without views.
    pub fn conversion_percent(&self) -> Option<String> {
        marketplace_domain::engagement::conversion_percent(self.orders, self.views)
    }
}

/// One listing's totals in a seller's analytics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductActivity {
    /// The listing.
    pub product_id: ProductId,
    /// Its title now.
    pub title: String,
    /// What it did.
    pub totals: ActivityTotals,
}

/// A seller's analytics: their totals and one page of their listings that had any activity,
/// most gross first (then most views).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerActivity {
    /// Every listing together.
    pub totals: ActivityTotals,
    /// Per listing.
    pub products: Page<ProductActivity>,
}

/// A seller in the admin dashboard's top list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopSeller {
    /// Seller.
    pub seller_id: UserId,
    /// Username.
    pub username: String,
    /// Gross of their paid lines in the period.
    pub gross: Cents,
    /// Units sold.
    pub units: i64,
    /// Paid lines.
    pub orders: i64,
}

/// The marketplace at a glance (admin dashboard).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketplaceOverview {
    /// Every listing.
    pub products_total: i64,
    /// Active listings.
    pub products_active: i64,
    /// Users who have at least one listing.
    pub sellers: i64,
    /// Orders paid (or refunded after being paid), ever.
    pub orders_paid: i64,
    /// Orders placed and not paid yet.
    pub orders_pending: i64,
    /// Sales in the period (from the daily counts).
    pub period: ActivityTotals,
    /// The sellers with the most gross in the period, best first.
    pub top_sellers: Vec<TopSeller>,
}

/// Daily counts, inside a transaction.
#[async_trait]
pub trait EngagementStore: Send {
    /// Adds a batch of counted events to the daily counts (events of listings deleted since are
    /// dropped).
    async fn add_engagement(
        &mut self,
        batch: &[(ProductId, Date, DailyCounts)],
    ) -> Result<(), StoreError>;
    /// Counts an order's lines as paid on `day`.
    async fn count_sales(&mut self, day: Date, lines: &[OrderLine]) -> Result<(), StoreError>;
    /// Counts a review of `product` written on `day`.
    async fn count_review(&mut self, product: ProductId, day: Date) -> Result<(), StoreError>;
    /// Sets the activity part of the trending score of these listings and zero for every other.
    async fn set_trending_points(&mut self, points: &[(ProductId, i64)]) -> Result<(), StoreError>;
    /// Gives these listings the trending ranks 1, 2, … in this order, and every other none.
    async fn set_trending_ranks(&mut self, ranked: &[ProductId]) -> Result<(), StoreError>;
}

/// Reads of the daily counts.
#[async_trait]
pub trait EngagementQueries: Send + Sync {
    /// Each listing's signals over the days from `since` on (listings without any are left out).
    async fn trending_signals(
        &self,
        since: Date,
    ) -> Result<Vec<(ProductId, TrendingSignals)>, StoreError>;
    /// A seller's activity over the days from `since` on.
    async fn seller_activity(
        &self,
        seller: UserId,
        since: Date,
        page: PageRequest,
    ) -> Result<SellerActivity, StoreError>;
    /// The marketplace's totals, with sales and the `top` sellers over the days from `since` on.
    async fn marketplace_overview(
        &self,
        since: Date,
        top: u32,
    ) -> Result<MarketplaceOverview, StoreError>;
}

impl dyn Tx + '_ {
    /// The daily counts of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn engagement(&mut self) -> Result<&mut (dyn EngagementStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Reads of the daily counts.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn engagement(&self) -> Result<&dyn EngagementQueries, StoreError> {
        self.get()
    }
}
