//! Sales figures for the dashboards.

use marketplace_domain::ids::UserId;
use marketplace_domain::money::Cents;
use marketplace_ports::ports::{BuyerSummary, SaleRow, SalesSummary, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::errors::store_error;
use crate::orders::items_of_orders;

pub(crate) async fn seller_sales(
    conn: &mut PgConnection,
    seller: UserId,
    since: OffsetDateTime,
) -> Result<SalesSummary, StoreError> {
    let (gross, net, orders, units): (i64, i64, i64, i64) = sqlx::query_as(
        "select coalesce(sum(i.gross_cents), 0)::bigint, coalesce(sum(i.net_cents), 0)::bigint,
                count(distinct i.order_id), coalesce(sum(i.quantity), 0)::bigint
         from order_items i join orders o on o.id = i.order_id
         where i.seller_id = $1 and o.paid_at >= $2",
    )
    .bind(seller.get())
    .bind(since)
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(SalesSummary {
        gross: Cents::new(gross),
        net: Cents::new(net),
        orders,
        units,
    })
}

pub(crate) async fn recent_sales(
    conn: &mut PgConnection,
    seller: UserId,
    limit: i64,
) -> Result<Vec<SaleRow>, StoreError> {
    let rows: Vec<(uuid::Uuid, uuid::Uuid, Option<OffsetDateTime>)> = sqlx::query_as(
        "select i.id, i.order_id, o.paid_at from order_items i join orders o on o.id = i.order_id
         where i.seller_id = $1 and o.paid_at is not null
         order by o.paid_at desc, i.id limit $2",
    )
    .bind(seller.get())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let orders: Vec<marketplace_domain::ids::OrderId> = rows
        .iter()
        .map(|(_, order, _)| marketplace_domain::ids::OrderId::from_uuid(*order))
        .collect();
    let items = items_of_orders(conn, &orders).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(item, _, paid_at)| {
            items
                .iter()
                .find(|i| i.id.get() == item)
                .map(|item| SaleRow {
                    item: item.clone(),
                    paid_at,
                })
        })
        .collect())
}

pub(crate) async fn listing_counts(
    conn: &mut PgConnection,
    seller: UserId,
) -> Result<(i64, i64), StoreError> {
    sqlx::query_as(
        "select count(*) filter (where is_active), count(*) filter (where not is_active) from products where seller_id = $1",
    )
    .bind(seller.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)
}

pub(crate) async fn buyer_summary(
    conn: &mut PgConnection,
    buyer: UserId,
) -> Result<BuyerSummary, StoreError> {
    let (total, count): (i64, i64) = sqlx::query_as(
        "select coalesce(sum(total_cents - refunded_cents), 0)::bigint, count(*) from orders where buyer_id = $1 and paid_at is not null",
    )
    .bind(buyer.get())
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(BuyerSummary {
        total_spent: Cents::new(total),
        paid_orders: count,
    })
}
