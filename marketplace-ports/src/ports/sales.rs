//! Sales figures for the dashboards: a seller's sales over a period and latest lines sold, and a
//! buyer's spending. Each is one aggregate query, never a scan per request row.

use async_trait::async_trait;
use marketplace_domain::ids::UserId;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderLine;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError};

/// A seller's sales over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalesSummary {
    /// Σ gross of their paid lines.
    pub gross: Cents,
    /// Σ net.
    pub net: Cents,
    /// Orders with their lines.
    pub orders: i64,
    /// Units sold.
    pub units: i64,
}

/// One line sold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRow {
    /// The line.
    pub item: OrderLine,
    /// When the order was paid.
    pub paid_at: Option<OffsetDateTime>,
}

/// A buyer's spending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuyerSummary {
    /// Σ totals of paid orders less what was refunded.
    pub total_spent: Cents,
    /// Paid orders.
    pub paid_orders: i64,
}

/// Sales reads.
#[async_trait]
pub trait SalesQueries: Send + Sync {
    /// A seller's paid sales since a time.
    async fn seller_sales(
        &self,
        seller: UserId,
        since: OffsetDateTime,
    ) -> Result<SalesSummary, StoreError>;
    /// A seller's latest paid lines.
    async fn recent_sales(&self, seller: UserId, limit: i64) -> Result<Vec<SaleRow>, StoreError>;
    /// A buyer's spending.
    async fn buyer_summary(&self, buyer: UserId) -> Result<BuyerSummary, StoreError>;
}

impl Queries {
    /// Sales reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn sales(&self) -> Result<&dyn SalesQueries, StoreError> {
        self.get()
    }
}
