//! Seller analytics and the admin dashboard, read from the daily counts: a fixed number of
//! queries whatever the data's size.

use marketplace_domain::engagement::{AnalyticsPeriod, day_of};
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::site::SiteConfig;
use marketplace_domain::validation::FieldErrors;
use time::Date;

use crate::ports::{MarketplaceOverview, SellerActivity, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Days the admin dashboard's sales and top sellers cover, today included.
pub const DASHBOARD_DAYS: AnalyticsPeriod = AnalyticsPeriod::Month;

/// How many sellers the admin dashboard ranks.
pub const TOP_SELLERS: u32 = 10;

/// Why analytics could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// Seller analytics are for sellers.
    #[error("only sellers have analytics")]
    NotASeller,
    /// The admin dashboard is for owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// A parameter is invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for AnalyticsError {
    fn kind(&self) -> ErrorKind {
        match self {
            AnalyticsError::NotASeller => ErrorKind::Forbidden {
                code: "not_a_seller",
            },
            AnalyticsError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            AnalyticsError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            AnalyticsError::Store(e) => e.kind(),
        }
    }
}

/// A seller's analytics over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerAnalytics {
    /// The period.
    pub period: AnalyticsPeriod,
    /// Its first UTC day (the last is today).
    pub since: Date,
    /// Totals and the listings with activity.
    pub activity: SellerActivity,
}

/// The admin dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminDashboard {
    /// Days its sales cover.
    pub period: AnalyticsPeriod,
    /// Their first UTC day.
    pub since: Date,
    /// The numbers.
    pub overview: MarketplaceOverview,
    /// The site configuration in force.
    pub site: SiteConfig,
}

operation_group!(
    /// Seller analytics and the admin dashboard.
    Analytics
);

impl Analytics {
    /// A seller's views, clicks, adds to cart, orders, units, gross and net over the last `days`
    /// (7, 30 or 90) days, in total and per listing.
    ///
    /// # Errors
    /// [`AnalyticsError::NotASeller`]; [`AnalyticsError::Invalid`] for another number of days.
    pub async fn seller(
        &self,
        actor: &Actor,
        days: i64,
        page: PageRequest,
    ) -> Result<SellerAnalytics, AnalyticsError> {
        if !actor.roles.is_seller() {
            return Err(AnalyticsError::NotASeller);
        }
        let period = AnalyticsPeriod::of_days(days).ok_or_else(|| {
            AnalyticsError::Invalid(FieldErrors::single("days", "must be 7, 30 or 90"))
        })?;
        let since = period.start(day_of(self.deps.clock.now()));
        let activity = self
            .deps
            .queries
            .engagement()?
            .seller_activity(actor.user_id, since, page)
            .await?;
        Ok(SellerAnalytics {
            period,
            since,
            activity,
        })
    }

    /// The admin dashboard: listings, sellers, paid and pending orders, the last 30 days' sales
    /// and fee revenue, and the top sellers.
    ///
    /// # Errors
    /// [`AnalyticsError::Forbidden`] for anyone but an owner.
    pub async fn dashboard(&self, actor: &Actor) -> Result<AdminDashboard, AnalyticsError> {
        if !actor.roles.is_owner() {
            return Err(AnalyticsError::Forbidden);
        }
        let period = DASHBOARD_DAYS;
        let since = period.start(day_of(self.deps.clock.now()));
        let overview = self
            .deps
            .queries
            .engagement()?
            .marketplace_overview(since, TOP_SELLERS)
            .await?;
        let site = self.deps.queries.site_config()?.site_config().await?;
        Ok(AdminDashboard {
            period,
            since,
            overview,
            site,
        })
    }
}
