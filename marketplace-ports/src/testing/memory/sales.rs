//! Sales figures, in memory.

use std::collections::BTreeSet;

use async_trait::async_trait;
use marketplace_domain::ids::UserId;
use marketplace_domain::money::Cents;
use time::OffsetDateTime;

use super::MemoryStore;
use crate::ports::{BuyerSummary, SaleRow, SalesQueries, SalesSummary, StoreError};

fn overflow(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait]
impl SalesQueries for MemoryStore {
    async fn seller_sales(
        &self,
        seller: UserId,
        since: OffsetDateTime,
    ) -> Result<SalesSummary, StoreError> {
        let s = self.read("sales.seller_sales")?;
        let mut summary = SalesSummary::default();
        let mut orders = BTreeSet::new();
        for order in s
            .orders
            .values()
            .filter(|o| o.paid_at.is_some_and(|at| at >= since))
        {
            for line in order.lines().iter().filter(|l| l.seller_id == seller) {
                summary.gross = summary.gross.checked_add(line.gross).map_err(overflow)?;
                summary.net = summary.net.checked_add(line.net).map_err(overflow)?;
                summary.units = summary.units.saturating_add(i64::from(line.quantity));
                orders.insert(order.id);
            }
        }
        summary.orders = i64::try_from(orders.len()).unwrap_or(i64::MAX);
        Ok(summary)
    }

    async fn recent_sales(&self, seller: UserId, limit: i64) -> Result<Vec<SaleRow>, StoreError> {
        let s = self.read("sales.recent_sales")?;
        let mut sales: Vec<SaleRow> = s
            .orders
            .values()
            .filter(|o| o.paid_at.is_some())
            .flat_map(|o| {
                o.lines()
                    .iter()
                    .filter(|l| l.seller_id == seller)
                    .map(|l| SaleRow {
                        item: l.clone(),
                        paid_at: o.paid_at,
                    })
            })
            .collect();
        sales.sort_by(|a, b| b.paid_at.cmp(&a.paid_at).then(a.item.id.cmp(&b.item.id)));
        sales.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(sales)
    }

    async fn buyer_summary(&self, buyer: UserId) -> Result<BuyerSummary, StoreError> {
        let s = self.read("sales.buyer_summary")?;
        let paid: Vec<_> = s
            .orders
            .values()
            .filter(|o| o.buyer_id == Some(buyer) && o.paid_at.is_some())
            .collect();
        let total_spent = paid.iter().try_fold(Cents::ZERO, |acc, o| {
            acc.checked_add(o.total)?.checked_sub(o.refunded)
        });
        Ok(BuyerSummary {
            total_spent: total_spent.map_err(overflow)?,
            paid_orders: i64::try_from(paid.len()).unwrap_or(i64::MAX),
        })
    }
}
