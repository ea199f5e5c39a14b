//! The buyer dashboard: latest orders and spending.

use marketplace_domain::money::Currency;
use marketplace_domain::orders::Order;
use marketplace_domain::pagination::PageRequest;

use crate::ports::{BuyerSummary, OrderFilter, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why the buyer dashboard could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum BuyerDashboardError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for BuyerDashboardError {
    fn kind(&self) -> ErrorKind {
        match self {
            BuyerDashboardError::Store(e) => e.kind(),
        }
    }
}

/// The buyer dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerDashboard {
    /// Latest orders.
    pub recent_orders: Vec<Order>,
    /// Spending on paid orders.
    pub summary: BuyerSummary,
    /// Currency.
    pub currency: Currency,
}

operation_group!(
    /// The buyer dashboard.
    BuyerDashboard
);

impl BuyerDashboard {
    /// The caller's buyer dashboard.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn dashboard(&self, actor: &Actor) -> Result<ConsumerDashboard, BuyerDashboardError> {
        let queries = &self.deps.queries;
        let latest = PageRequest::parse(Some(1), Some(10)).unwrap_or_else(|_| PageRequest::first());
        let filter = OrderFilter {
            buyer: Some(actor.user_id),
            ..OrderFilter::default()
        };
        Ok(ConsumerDashboard {
            recent_orders: queries.orders()?.list_orders(filter, latest).await?.items,
            summary: queries.sales()?.buyer_summary(actor.user_id).await?,
            currency: queries.site_config()?.site_config().await?.currency,
        })
    }
}
