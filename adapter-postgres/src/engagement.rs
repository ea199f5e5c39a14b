//! Daily counts per product (`product_daily_stats`), the trending marks on `products`, and the
//! analytics read from them (docs/discovery.md).

use async_trait::async_trait;
use marketplace_domain::engagement::{DailyCounts, TrendingSignals};
use marketplace_domain::ids::{ProductId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderLine;
use marketplace_domain::pagination::PageRequest;
use marketplace_ports::ports::{
    ActivityTotals, EngagementQueries, EngagementStore, MarketplaceOverview, ProductActivity,
    SellerActivity, StoreError, TopSeller,
};
use time::Date;
use uuid::Uuid;

use crate::errors::store_error;
use crate::paging;
use crate::{PgStore, TxConn};

/// The daily counts of one transaction.
pub(crate) struct PgEngagement(pub(crate) TxConn);

#[async_trait]
impl EngagementStore for PgEngagement {
    async fn add_engagement(
        &mut self,
        batch: &[(ProductId, Date, DailyCounts)],
    ) -> Result<(), StoreError> {
        let products: Vec<Uuid> = batch.iter().map(|(p, _, _)| p.get()).collect();
        let days: Vec<Date> = batch.iter().map(|(_, d, _)| *d).collect();
        let views: Vec<i64> = batch.iter().map(|(_, _, c)| c.views).collect();
        let clicks: Vec<i64> = batch.iter().map(|(_, _, c)| c.clicks).collect();
        let adds: Vec<i64> = batch.iter().map(|(_, _, c)| c.add_to_carts).collect();
        // Rows in (product, day) order, so concurrent writers lock them in the same order.
        sqlx::query!(
            "insert into product_daily_stats as s (product_id, day, seller_id, views, clicks,
                add_to_carts)
             select b.product_id, b.day, p.seller_id, sum(b.views), sum(b.clicks),
                    sum(b.add_to_carts)
             from unnest($1::uuid[], $2::date[], $3::int8[], $4::int8[], $5::int8[])
                  as b (product_id, day, views, clicks, add_to_carts)
             join products p on p.id = b.product_id
             group by b.product_id, b.day, p.seller_id
             order by b.product_id, b.day
             on conflict (product_id, day) do update
             set views = s.views + excluded.views, clicks = s.clicks + excluded.clicks,
                 add_to_carts = s.add_to_carts + excluded.add_to_carts",
            &products,
            &days,
            &views,
            &clicks,
            &adds,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn count_sales(&mut self, day: Date, lines: &[OrderLine]) -> Result<(), StoreError> {
        let products: Vec<Uuid> = lines.iter().map(|l| l.product_id.get()).collect();
        let units: Vec<i64> = lines.iter().map(|l| i64::from(l.quantity)).collect();
        let gross: Vec<i64> = lines.iter().map(|l| l.gross.get()).collect();
        let net: Vec<i64> = lines.iter().map(|l| l.net.get()).collect();
        let fee: Vec<i64> = lines.iter().map(|l| l.fee.get()).collect();
        sqlx::query!(
            "insert into product_daily_stats as s (product_id, day, seller_id, purchases, units,
                gross_cents, net_cents, fee_cents)
             select l.product_id, $1, p.seller_id, count(*), sum(l.units), sum(l.gross),
                    sum(l.net), sum(l.fee)
             from unnest($2::uuid[], $3::int8[], $4::int8[], $5::int8[], $6::int8[])
                  as l (product_id, units, gross, net, fee)
             join products p on p.id = l.product_id
             group by l.product_id, p.seller_id
             order by l.product_id
             on conflict (product_id, day) do update
             set purchases = s.purchases + excluded.purchases, units = s.units + excluded.units,
                 gross_cents = s.gross_cents + excluded.gross_cents,
                 net_cents = s.net_cents + excluded.net_cents,
                 fee_cents = s.fee_cents + excluded.fee_cents",
            day,
            &products,
            &units,
            &gross,
            &net,
            &fee,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn count_review(&mut self, product: ProductId, day: Date) -> Result<(), StoreError> {
        sqlx::query!(
            "insert into product_daily_stats as s (product_id, day, seller_id, reviews)
             select p.id, $2, p.seller_id, 1 from products p where p.id = $1
             on conflict (product_id, day) do update set reviews = s.reviews + 1",
            product.get(),
            day,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn set_trending_points(&mut self, points: &[(ProductId, i64)]) -> Result<(), StoreError> {
        let ids: Vec<Uuid> = points.iter().map(|(p, _)| p.get()).collect();
        let values: Vec<i64> = points.iter().map(|(_, v)| *v).collect();
        let mut conn = self.0.lock().await;
        // SKIP LOCKED: the refresh never waits for (nor deadlocks with) a request holding a
        // listing; a skipped listing keeps its points until the next refresh.
        sqlx::query!(
            "update products p set trending_points = 0
             where p.id in (select id from products
                            where (trending_points <> 0 or trending_rank is not null)
                              and trending_points <> 0 and id <> all($1::uuid[])
                            order by id for no key update skip locked)",
            &ids,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        sqlx::query!(
            "update products p set trending_points = b.points
             from unnest($1::uuid[], $2::int8[]) as b (id, points)
             where p.id = b.id and p.id in (select id from products
                                            where id = any($1::uuid[])
                                            order by id for no key update skip locked)",
            &ids,
            &values,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn set_trending_ranks(&mut self, ranked: &[ProductId]) -> Result<(), StoreError> {
        let ids: Vec<Uuid> = ranked.iter().map(|p| p.get()).collect();
        let mut conn = self.0.lock().await;
        sqlx::query!(
            "update products p set trending_rank = null
             where p.id in (select id from products
                            where (trending_points <> 0 or trending_rank is not null)
                              and trending_rank is not null and id <> all($1::uuid[])
                            order by id for no key update skip locked)",
            &ids,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        sqlx::query!(
            "update products p set trending_rank = b.rank
             from unnest($1::uuid[]) with ordinality as b (id, rank)
             where p.id = b.id and p.id in (select id from products
                                            where id = any($1::uuid[])
                                            order by id for no key update skip locked)",
            &ids,
        )
        .execute(&mut **conn)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

/// Sums of the daily counts as one row.
struct TotalsRow {
    views: i64,
    clicks: i64,
    add_to_carts: i64,
    orders: i64,
    units: i64,
    gross: i64,
    net: i64,
    fee: i64,
    reviews: i64,
}

impl From<TotalsRow> for ActivityTotals {
    fn from(row: TotalsRow) -> Self {
        ActivityTotals {
            views: row.views,
            clicks: row.clicks,
            add_to_carts: row.add_to_carts,
            orders: row.orders,
            units: row.units,
            gross: Cents::new(row.gross),
            net: Cents::new(row.net),
            fee: Cents::new(row.fee),
            reviews: row.reviews,
        }
    }
}

#[async_trait]
impl EngagementQueries for PgStore {
    async fn trending_signals(
        &self,
        since: Date,
    ) -> Result<Vec<(ProductId, TrendingSignals)>, StoreError> {
        let rows = sqlx::query!(
            r#"select product_id, sum(purchases)::int8 as "purchases!",
                      sum(add_to_carts)::int8 as "add_to_carts!", sum(clicks)::int8 as "clicks!",
                      sum(reviews)::int8 as "reviews!", sum(views)::int8 as "views!"
               from product_daily_stats where day >= $1
               group by product_id order by product_id"#,
            since,
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    ProductId::from_uuid(r.product_id),
                    TrendingSignals {
                        purchases: r.purchases,
                        add_to_carts: r.add_to_carts,
                        clicks: r.clicks,
                        reviews: r.reviews,
                        views: r.views,
                    },
                )
            })
            .collect())
    }

    async fn seller_activity(
        &self,
        seller: UserId,
        since: Date,
        page: PageRequest,
    ) -> Result<SellerActivity, StoreError> {
        let totals = sqlx::query!(
            r#"select coalesce(sum(views), 0)::int8 as "views!",
                      coalesce(sum(clicks), 0)::int8 as "clicks!",
                      coalesce(sum(add_to_carts), 0)::int8 as "add_to_carts!",
                      coalesce(sum(purchases), 0)::int8 as "orders!",
                      coalesce(sum(units), 0)::int8 as "units!",
                      coalesce(sum(gross_cents), 0)::int8 as "gross!",
                      coalesce(sum(net_cents), 0)::int8 as "net!",
                      coalesce(sum(fee_cents), 0)::int8 as "fee!",
                      coalesce(sum(reviews), 0)::int8 as "reviews!",
                      count(distinct product_id) as "products!"
               from product_daily_stats where seller_id = $1 and day >= $2"#,
            seller.get(),
            since,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let rows = sqlx::query!(
            r#"select d.product_id, p.title,
                      sum(d.views)::int8 as "views!", sum(d.clicks)::int8 as "clicks!",
                      sum(d.add_to_carts)::int8 as "add_to_carts!",
                      sum(d.purchases)::int8 as "orders!", sum(d.units)::int8 as "units!",
                      sum(d.gross_cents)::int8 as "gross!", sum(d.net_cents)::int8 as "net!",
                      sum(d.fee_cents)::int8 as "fee!", sum(d.reviews)::int8 as "reviews!"
               from product_daily_stats d join products p on p.id = d.product_id
               where d.seller_id = $1 and d.day >= $2
               group by d.product_id, p.title
               order by sum(d.gross_cents) desc, sum(d.views) desc, d.product_id
               limit $3 offset $4"#,
            seller.get(),
            since,
            paging::limit(page),
            paging::offset(page),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let products = rows
            .into_iter()
            .map(|r| ProductActivity {
                product_id: ProductId::from_uuid(r.product_id),
                title: r.title,
                totals: ActivityTotals::from(TotalsRow {
                    views: r.views,
                    clicks: r.clicks,
                    add_to_carts: r.add_to_carts,
                    orders: r.orders,
                    units: r.units,
                    gross: r.gross,
                    net: r.net,
                    fee: r.fee,
                    reviews: r.reviews,
                }),
            })
            .collect();
        Ok(SellerActivity {
            totals: ActivityTotals::from(TotalsRow {
                views: totals.views,
                clicks: totals.clicks,
                add_to_carts: totals.add_to_carts,
                orders: totals.orders,
                units: totals.units,
                gross: totals.gross,
                net: totals.net,
                fee: totals.fee,
                reviews: totals.reviews,
            }),
            products: paging::page_of(products, page, totals.products),
        })
    }

    async fn marketplace_overview(
        &self,
        since: Date,
        top: u32,
    ) -> Result<MarketplaceOverview, StoreError> {
        let counts = sqlx::query!(
            // Totals kept by the writes (migration 0024, and 0020 for active listings): a few
            // rows each, whatever the size of the catalogue and the order book.
            r#"select (select coalesce(sum(listings), 0) from catalog_totals)::int8 as "products_total!",
                      (select coalesce(sum(listings), 0) from active_listing_counts)::int8
                          as "products_active!",
                      (select coalesce(sum(sellers), 0) from catalog_totals)::int8 as "sellers!",
                      (select coalesce(sum(paid), 0) from order_totals)::int8 as "orders_paid!",
                      (select coalesce(sum(pending), 0) from order_totals)::int8 as "orders_pending!""#
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let period = sqlx::query_as!(
            TotalsRow,
            r#"select coalesce(sum(views), 0)::int8 as "views!",
                      coalesce(sum(clicks), 0)::int8 as "clicks!",
                      coalesce(sum(add_to_carts), 0)::int8 as "add_to_carts!",
                      coalesce(sum(purchases), 0)::int8 as "orders!",
                      coalesce(sum(units), 0)::int8 as "units!",
                      coalesce(sum(gross_cents), 0)::int8 as "gross!",
                      coalesce(sum(net_cents), 0)::int8 as "net!",
                      coalesce(sum(fee_cents), 0)::int8 as "fee!",
                      coalesce(sum(reviews), 0)::int8 as "reviews!"
               from product_daily_stats where day >= $1"#,
            since,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let top_sellers = sqlx::query!(
            r#"select d.seller_id, u.username, sum(d.gross_cents)::int8 as "gross!",
                      sum(d.units)::int8 as "units!", sum(d.purchases)::int8 as "orders!"
               from product_daily_stats d join users u on u.id = d.seller_id
               where d.day >= $1
               group by d.seller_id, u.username
               having sum(d.purchases) > 0
               order by sum(d.gross_cents) desc, u.username
               limit $2"#,
            since,
            i64::from(top),
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| TopSeller {
            seller_id: UserId::from_uuid(r.seller_id),
            username: r.username,
            gross: Cents::new(r.gross),
            units: r.units,
            orders: r.orders,
        })
        .collect();
        Ok(MarketplaceOverview {
            products_total: counts.products_total,
            products_active: counts.products_active,
            sellers: counts.sellers,
            orders_paid: counts.orders_paid,
            orders_pending: counts.orders_pending,
            period: period.into(),
            top_sellers,
        })
    }
}
