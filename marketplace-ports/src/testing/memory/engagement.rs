//! Daily counts and trending marks, in memory.

use std::collections::BTreeMap;

use async_trait::async_trait;
use marketplace_domain::engagement::{DailyCounts, TRENDING_BADGE_TOP_N, TrendingSignals};
use marketplace_domain::ids::{ProductId, UserId};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{OrderLine, OrderStatus};
use marketplace_domain::pagination::PageRequest;
use time::Date;

use super::listings::page_of;
use super::{MemoryStore, State, Working};
use crate::ports::{
    ActivityTotals, EngagementQueries, EngagementStore, MarketplaceOverview, ProductActivity,
    SellerActivity, StoreError, TopSeller, TrendingMark,
};

pub(crate) struct MemEngagement(pub(crate) Working);

fn cents(a: Cents, b: Cents) -> Cents {
    Cents::new(a.get().saturating_add(b.get()))
}

fn add(total: &mut ActivityTotals, more: &ActivityTotals) {
    total.views = total.views.saturating_add(more.views);
    total.clicks = total.clicks.saturating_add(more.clicks);
    total.add_to_carts = total.add_to_carts.saturating_add(more.add_to_carts);
    total.orders = total.orders.saturating_add(more.orders);
    total.units = total.units.saturating_add(more.units);
    total.gross = cents(total.gross, more.gross);
    total.net = cents(total.net, more.net);
    total.fee = cents(total.fee, more.fee);
    total.reviews = total.reviews.saturating_add(more.reviews);
}

fn row(s: &mut State, product: ProductId, day: Date) -> Option<&mut (UserId, ActivityTotals)> {
    let seller = s.products.get(&product)?.seller_id;
    Some(
        s.daily_stats
            .entry((product, day))
            .or_insert((seller, ActivityTotals::default())),
    )
}

#[async_trait]
impl EngagementStore for MemEngagement {
    async fn add_engagement(
        &mut self,
        batch: &[(ProductId, Date, DailyCounts)],
    ) -> Result<(), StoreError> {
        let mut s = self.0.state("engagement.add_engagement")?;
        for (product, day, counts) in batch {
            if let Some((_, totals)) = row(&mut s, *product, *day) {
                add(
                    totals,
                    &ActivityTotals {
                        views: counts.views,
                        clicks: counts.clicks,
                        add_to_carts: counts.add_to_carts,
                        ..ActivityTotals::default()
                    },
                );
            }
        }
        Ok(())
    }

    async fn count_sales(&mut self, day: Date, lines: &[OrderLine]) -> Result<(), StoreError> {
        let mut s = self.0.state("engagement.count_sales")?;
        for line in lines {
            if let Some((_, totals)) = row(&mut s, line.product_id, day) {
                add(
                    totals,
                    &ActivityTotals {
                        orders: 1,
                        units: i64::from(line.quantity),
                        gross: line.gross,
                        net: line.net,
                        fee: line.fee,
                        ..ActivityTotals::default()
                    },
                );
            }
        }
        Ok(())
    }

    async fn count_review(&mut self, product: ProductId, day: Date) -> Result<(), StoreError> {
        let mut s = self.0.state("engagement.count_review")?;
        if let Some((_, totals)) = row(&mut s, product, day) {
            totals.reviews = totals.reviews.saturating_add(1);
        }
        Ok(())
    }

    async fn set_trending_points(&mut self, points: &[(ProductId, i64)]) -> Result<(), StoreError> {
        let mut s = self.0.state("engagement.set_trending_points")?;
        for mark in s.trending.values_mut() {
            mark.points = 0;
        }
        for (product, points) in points {
            if s.products.contains_key(product) {
                s.trending.entry(*product).or_default().points = *points;
            }
        }
        Ok(())
    }

    async fn set_trending_ranks(&mut self, ranked: &[ProductId]) -> Result<(), StoreError> {
        let mut s = self.0.state("engagement.set_trending_ranks")?;
        for mark in s.trending.values_mut() {
            mark.rank = None;
        }
        for (rank, product) in ranked.iter().take(TRENDING_BADGE_TOP_N).enumerate() {
            if s.products.contains_key(product) {
                s.trending
                    .entry(*product)
                    .or_insert_with(TrendingMark::default)
                    .rank = u8::try_from(rank + 1).ok();
            }
        }
        Ok(())
    }
}

fn since_day(
    s: &State,
    since: Date,
) -> impl Iterator<Item = (&ProductId, &UserId, &ActivityTotals)> {
    s.daily_stats
        .iter()
        .filter(move |((_, day), _)| *day >= since)
        .map(|((product, _), (seller, totals))| (product, seller, totals))
}

#[async_trait]
impl EngagementQueries for MemoryStore {
    async fn trending_signals(
        &self,
        since: Date,
    ) -> Result<Vec<(ProductId, TrendingSignals)>, StoreError> {
        let s = self.read("engagement.trending_signals")?;
        let mut signals: BTreeMap<ProductId, TrendingSignals> = BTreeMap::new();
        for (product, _, totals) in since_day(&s, since) {
            let entry = signals.entry(*product).or_default();
            entry.purchases += totals.orders;
            entry.add_to_carts += totals.add_to_carts;
            entry.clicks += totals.clicks;
            entry.reviews += totals.reviews;
            entry.views += totals.views;
        }
        Ok(signals.into_iter().collect())
    }

    async fn seller_activity(
        &self,
        seller: UserId,
        since: Date,
        page: PageRequest,
    ) -> Result<SellerActivity, StoreError> {
        let s = self.read("engagement.seller_activity")?;
        let mut totals = ActivityTotals::default();
        let mut per_product: BTreeMap<ProductId, ActivityTotals> = BTreeMap::new();
        for (product, owner, day_totals) in since_day(&s, since) {
            if *owner == seller {
                add(&mut totals, day_totals);
                add(per_product.entry(*product).or_default(), day_totals);
            }
        }
        let mut products: Vec<ProductActivity> = per_product
            .into_iter()
            .map(|(product_id, totals)| ProductActivity {
                product_id,
                title: s
                    .products
                    .get(&product_id)
                    .map(|p| p.listing.title.clone())
                    .unwrap_or_default(),
                totals,
            })
            .collect();
        products.sort_by_key(|p| {
            (
                std::cmp::Reverse(p.totals.gross),
                std::cmp::Reverse(p.totals.views),
                p.product_id,
            )
        });
        Ok(SellerActivity {
            totals,
            products: page_of(products, page),
        })
    }

    async fn marketplace_overview(
        &self,
        since: Date,
        top: u32,
    ) -> Result<MarketplaceOverview, StoreError> {
        let s = self.read("engagement.marketplace_overview")?;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let mut period = ActivityTotals::default();
        let mut sellers: BTreeMap<UserId, ActivityTotals> = BTreeMap::new();
        for (_, seller, totals) in since_day(&s, since) {
            add(&mut period, totals);
            add(sellers.entry(*seller).or_default(), totals);
        }
        let mut top_sellers: Vec<TopSeller> = sellers
            .into_iter()
            .filter(|(_, totals)| totals.orders > 0)
            .map(|(seller_id, totals)| TopSeller {
                seller_id,
                username: s
                    .users
                    .get(&seller_id)
                    .map(|u| u.username.clone())
                    .unwrap_or_default(),
                gross: totals.gross,
                units: totals.units,
                orders: totals.orders,
            })
            .collect();
        top_sellers.sort_by_key(|t| (std::cmp::Reverse(t.gross), t.username.clone()));
        top_sellers.truncate(usize::try_from(top).unwrap_or(usize::MAX));
        let mut with_listings: Vec<UserId> = s.products.values().map(|p| p.seller_id).collect();
        with_listings.sort_unstable();
        with_listings.dedup();
        Ok(MarketplaceOverview {
            products_total: count(s.products.len()),
            products_active: count(s.products.values().filter(|p| p.listing.is_active).count()),
            sellers: count(with_listings.len()),
            orders_paid: count(s.orders.values().filter(|o| o.paid_at.is_some()).count()),
            orders_pending: count(
                s.orders
                    .values()
                    .filter(|o| o.status == OrderStatus::Pending)
                    .count(),
            ),
            period,
            top_sellers,
        })
    }
}
