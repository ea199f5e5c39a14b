//! Sales figures for the dashboards, each one aggregate query.

use async_trait::async_trait;
use marketplace_domain::ids::UserId;
use marketplace_domain::money::Cents;
use marketplace_ports::ports::{BuyerSummary, SaleRow, SalesQueries, SalesSummary, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgStore;
use crate::errors::store_error;
use crate::orders::lines_of;

#[async_trait]
impl SalesQueries for PgStore {
    async fn seller_sales(
        &self,
        seller: UserId,
        since: OffsetDateTime,
    ) -> Result<SalesSummary, StoreError> {
        let row = sqlx::query!(
            r#"select coalesce(sum(i.gross_cents), 0)::bigint as "gross!",
                      coalesce(sum(i.net_cents), 0)::bigint as "net!",
                      count(distinct i.order_id) as "orders!",
                      coalesce(sum(i.quantity), 0)::bigint as "units!"
               from order_items i join orders o on o.id = i.order_id
               where i.seller_id = $1 and o.paid_at >= $2"#,
            seller.get(),
            since
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(SalesSummary {
            gross: Cents::new(row.gross),
            net: Cents::new(row.net),
            orders: row.orders,
            units: row.units,
        })
    }

    async fn recent_sales(&self, seller: UserId, limit: i64) -> Result<Vec<SaleRow>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        let rows = sqlx::query!(
            "select i.id, i.order_id, o.paid_at from order_items i join orders o on o.id = i.order_id
             where i.seller_id = $1 and o.paid_at is not null
             order by o.paid_at desc, i.id limit $2",
            seller.get(),
            limit
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        let orders: Vec<Uuid> = rows.iter().map(|row| row.order_id).collect();
        let lines = lines_of(&mut conn, &orders).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                lines
                    .iter()
                    .find(|line| line.id.get() == row.id)
                    .map(|line| SaleRow {
                        item: line.clone(),
                        paid_at: row.paid_at,
                    })
            })
            .collect())
    }

    async fn buyer_summary(&self, buyer: UserId) -> Result<BuyerSummary, StoreError> {
        let row = sqlx::query!(
            r#"select coalesce(sum(total_cents - refunded_cents), 0)::bigint as "total!",
                      count(*) as "count!"
               from orders where buyer_id = $1 and paid_at is not null"#,
            buyer.get()
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(BuyerSummary {
            total_spent: Cents::new(row.total),
            paid_orders: row.count,
        })
    }
}
