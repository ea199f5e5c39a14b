//! The engagement store's contract: daily counts, trending marks and the analytics read from them.

use marketplace_domain::catalog::{CategoryType, ProductKind};
use marketplace_domain::engagement::{DailyCounts, TrendingSignals, day_of, trending_window_start};
use marketplace_domain::ids::{OrderId, OrderItemId, ProductId};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderLine;
use marketplace_domain::pagination::PageRequest;
use time::Duration;

use super::{Subject, at, id, product, seed_category, seed_product, seed_user, seller_roles};
use crate::ports::{ActivityTotals, ListingOrder, ListingSignal, ProductFilter, TrendingMark};

fn line(product: &crate::ports::ProductRecord, quantity: u32, gross: i64, fee: i64) -> OrderLine {
    OrderLine {
        id: OrderItemId::from_uuid(id()),
        order_id: OrderId::from_uuid(id()),
        product_id: product.id,
        seller_id: product.seller_id,
        title: product.listing.title.clone(),
        kind: product.listing.kind,
        quantity,
        unit_price: Cents::new(gross / i64::from(quantity)),
        gross: Cents::new(gross),
        fee: Cents::new(fee),
        net: Cents::new(gross - fee),
        tax: Cents::ZERO,
        shipping: Cents::ZERO,
        position: 0,
    }
}

/// Batches and transactions add up per product and day; the window, the trending order, the
/// marks, the buckets' filters and the analytics all read the same counts.
pub async fn daily_counts_add_up_and_feed_trending_and_analytics(s: Subject) {
    let maker = seed_user(&s, "maker", seller_roles()).await;
    let other = seed_user(&s, "other", seller_roles()).await;
    let models = seed_category(&s, CategoryType::Model, "minis").await;
    let files = seed_category(&s, CategoryType::File, "scans").await;
    let owl = product(maker, models, ProductKind::Model, "Owl", 1);
    let fox = product(maker, models, ProductKind::Model, "Fox", 2);
    let mut scan = product(other, files, ProductKind::File, "Scan", 3);
    scan.listing.is_featured = true;
    scan.listing.is_trending = true;
    for p in [&owl, &fox, &scan] {
        seed_product(&s, p).await;
    }
    let today = day_of(at(0));
    let long_ago = today - Duration::days(30);
    let counts = |views, clicks, add_to_carts| DailyCounts {
        views,
        clicks,
        add_to_carts,
    };
    let mut tx = s.uow.begin().await.unwrap();
    let engagement = tx.engagement().unwrap();
    engagement
        .add_engagement(&[
            (owl.id, long_ago, counts(100, 0, 0)),
            (owl.id, today, counts(4, 2, 1)),
            (fox.id, today, counts(1, 0, 0)),
            (ProductId::from_uuid(id()), today, counts(7, 7, 7)),
        ])
        .await
        .unwrap();
    engagement
        .add_engagement(&[(owl.id, today, counts(1, 0, 0))])
        .await
        .unwrap();
    engagement
        .count_sales(today, &[line(&owl, 2, 2000, 200)])
        .await
        .unwrap();
    engagement.count_review(fox.id, today).await.unwrap();
    tx.commit().await.unwrap();

    let queries = s.queries.engagement().unwrap();
    let signals = queries
        .trending_signals(trending_window_start(today))
        .await
        .unwrap();
    let of = |p: ProductId| signals.iter().find(|(q, _)| *q == p).map(|(_, s)| *s);
    assert_eq!(
        of(owl.id),
        Some(TrendingSignals {
            purchases: 1,
            add_to_carts: 1,
            clicks: 2,
            reviews: 0,
            views: 5,
        }),
        "the day 30 days ago is outside the window"
    );
    assert_eq!(
        of(fox.id),
        Some(TrendingSignals {
            views: 1,
            reviews: 1,
            ..TrendingSignals::default()
        })
    );
    assert_eq!(of(scan.id), None);
    assert_eq!(signals.len(), 2, "unknown listings are dropped");
    assert_eq!(
        queries
            .trending_signals(long_ago)
            .await
            .unwrap()
            .iter()
            .find(|(p, _)| *p == owl.id)
            .map(|(_, s)| s.views),
        Some(105)
    );

    let listings = s.queries.listings().unwrap();
    let trending = ProductFilter {
        order: ListingOrder::Trending,
        ..ProductFilter::default()
    };
    let order = |rows: Vec<crate::ports::ProductListRow>| {
        rows.into_iter().map(|r| r.product.id).collect::<Vec<_>>()
    };
    assert!(
        !listings
            .any_with_signal(&trending, ListingSignal::Trending)
            .await
            .unwrap()
    );
    assert_eq!(
        order(listings.first_products(&trending, 10).await.unwrap()),
        [scan.id, fox.id, owl.id],
        "without scores: newest first"
    );
    let mut tx = s.uow.begin().await.unwrap();
    tx.engagement()
        .unwrap()
        .set_trending_points(&[(owl.id, 40), (fox.id, 9)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        order(listings.first_products(&trending, 10).await.unwrap()),
        [owl.id, fox.id, scan.id]
    );
    assert!(
        listings
            .any_with_signal(&trending, ListingSignal::Trending)
            .await
            .unwrap()
    );
    let files_only = ProductFilter {
        kind: Some(ProductKind::File),
        ..trending.clone()
    };
    assert!(
        !listings
            .any_with_signal(&files_only, ListingSignal::Trending)
            .await
            .unwrap()
    );
    assert!(
        !listings
            .any_with_signal(&trending, ListingSignal::Reviewed)
            .await
            .unwrap()
    );
    let mut tx = s.uow.begin().await.unwrap();
    let engagement = tx.engagement().unwrap();
    engagement
        .set_trending_points(&[(fox.id, 9)])
        .await
        .unwrap();
    engagement.set_trending_ranks(&[fox.id]).await.unwrap();
    tx.commit().await.unwrap();
    let rows = listings.first_products(&trending, 10).await.unwrap();
    let marks: Vec<(ProductId, TrendingMark)> =
        rows.iter().map(|r| (r.product.id, r.trending)).collect();
    assert_eq!(
        marks,
        [
            (
                fox.id,
                TrendingMark {
                    points: 9,
                    rank: Some(1)
                }
            ),
            (scan.id, TrendingMark::default()),
            (owl.id, TrendingMark::default()),
        ],
        "points not given again drop to zero"
    );
    let mut tx = s.uow.begin().await.unwrap();
    tx.engagement()
        .unwrap()
        .set_trending_ranks(&[scan.id, owl.id])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ranks: Vec<Option<u8>> = listings
        .first_products(&trending, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.trending.rank)
        .collect();
    assert_eq!(ranks, [None, Some(1), Some(2)]);

    let featured = ProductFilter {
        featured_only: true,
        ..ProductFilter::default()
    };
    assert_eq!(
        order(listings.first_products(&featured, 8).await.unwrap()),
        [scan.id]
    );
    let picked = ProductFilter {
        picked_trending_only: true,
        ..ProductFilter::default()
    };
    assert_eq!(
        order(listings.first_products(&picked, 8).await.unwrap()),
        [scan.id]
    );
    let rest = ProductFilter {
        exclude: vec![scan.id, fox.id],
        ..ProductFilter::default()
    };
    assert_eq!(
        order(listings.first_products(&rest, 8).await.unwrap()),
        [owl.id]
    );
    assert_eq!(
        order(
            listings
                .first_products(&ProductFilter::default(), 2)
                .await
                .unwrap()
        ),
        [scan.id, fox.id]
    );

    let since = trending_window_start(today);
    let mine = queries
        .seller_activity(maker, since, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        mine.totals,
        ActivityTotals {
            views: 6,
            clicks: 2,
            add_to_carts: 1,
            orders: 1,
            units: 2,
            gross: Cents::new(2000),
            net: Cents::new(1800),
            fee: Cents::new(200),
            reviews: 1,
        }
    );
    assert_eq!(mine.products.total, 2);
    let per_product: Vec<(ProductId, i64, i64)> = mine
        .products
        .items
        .iter()
        .map(|p| (p.product_id, p.totals.views, p.totals.gross.get()))
        .collect();
    assert_eq!(per_product, [(owl.id, 5, 2000), (fox.id, 1, 0)]);
    assert_eq!(mine.products.items[0].title, "Owl");
    let theirs = queries
        .seller_activity(other, since, PageRequest::first())
        .await
        .unwrap();
    assert_eq!(
        (theirs.totals, theirs.products.total),
        (ActivityTotals::default(), 0)
    );

    let overview = queries.marketplace_overview(since, 10).await.unwrap();
    assert_eq!(
        (
            overview.products_total,
            overview.products_active,
            overview.sellers,
            overview.orders_paid,
            overview.orders_pending
        ),
        (3, 3, 2, 0, 0)
    );
    assert_eq!(overview.period, mine.totals);
    let top: Vec<_> = overview
        .top_sellers
        .iter()
        .map(|t| {
            (
                t.seller_id,
                t.username.as_str(),
                t.gross.get(),
                t.units,
                t.orders,
            )
        })
        .collect();
    assert_eq!(
        top,
        [(maker, "maker", 2000, 2, 1)],
        "sellers without sales are not ranked"
    );
    let later = queries
        .marketplace_overview(today + Duration::days(1), 10)
        .await
        .unwrap();
    assert_eq!(
        (later.period, later.top_sellers.len()),
        (ActivityTotals::default(), 0)
    );
}

/// The dashboard's totals follow the listings and orders as they are written: every listing and
/// the active ones, the sellers with a listing, orders ever paid and orders waiting for payment.
pub async fn the_dashboards_totals_follow_listings_and_orders(s: Subject) {
    let f = super::shopping::fixture(&s).await;
    let more = seed_category(&s, CategoryType::Model, "more").await;
    let mut hare = product(f.print.seller_id, more, ProductKind::Model, "Hare", 2);
    hare.listing.is_active = false;
    seed_product(&s, &hare).await;
    let totals = |o: &crate::ports::MarketplaceOverview| {
        (
            o.products_total,
            o.products_active,
            o.sellers,
            o.orders_paid,
            o.orders_pending,
        )
    };
    let queries = s.queries.engagement().unwrap();
    let since = day_of(at(0));
    assert_eq!(
        totals(&queries.marketplace_overview(since, 10).await.unwrap()),
        (3, 2, 2, 0, 0),
        "a second listing of one seller adds a listing, not a seller"
    );
    let mut orders = Vec::new();
    for n in 0..3 {
        let placed = super::shopping::order(f.buyer, &f.print, &f.file, 3 + n);
        super::shopping::insert(&s, &placed).await;
        orders.push(placed);
    }
    assert_eq!(
        totals(&queries.marketplace_overview(since, 10).await.unwrap()),
        (3, 2, 2, 0, 3)
    );
    let mut tx = s.uow.begin().await.unwrap();
    for placed in orders.iter_mut().take(2) {
        let _ = placed
            .apply_payment(&marketplace_domain::orders::Payment::Free, &[], at(9))
            .unwrap();
        tx.orders().unwrap().update_order(placed).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        totals(&queries.marketplace_overview(since, 10).await.unwrap()),
        (3, 2, 2, 2, 1)
    );
    // Saving a paid order again changes nothing.
    let mut tx = s.uow.begin().await.unwrap();
    tx.orders().unwrap().update_order(&orders[0]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        totals(&queries.marketplace_overview(since, 10).await.unwrap()),
        (3, 2, 2, 2, 1)
    );
}
