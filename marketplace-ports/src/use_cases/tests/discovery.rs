//! Discovery: the engagement tally and its batch writer, the trending refresh, the home page's
//! buckets, and who may read analytics.

use marketplace_domain::catalog::{ListingChanges, ProductKind};
use marketplace_domain::engagement::day_of;
use marketplace_domain::ids::ProductId;
use marketplace_domain::pagination::PageRequest;
use time::Duration;

use super::World;
use crate::ports::{Clock, TrendingMark};
use crate::use_cases::discovery::{AnalyticsError, Visitor};
use crate::use_cases::listings::ProductQuery;
use crate::use_cases::{ErrorKind, UseCaseError};

fn visitor(key: &str) -> Visitor {
    Visitor(key.to_owned())
}

#[tokio::test]
async fn views_are_tallied_in_memory_and_a_failed_batch_is_kept_for_the_next() {
    let world = World::new();
    let (_, _, print) = world.shop().await;
    let listings = &world.services.listings;
    for key in ["a", "a", "b"] {
        listings.detail(None, &visitor(key), print).await.unwrap();
    }
    assert!(
        world.state().daily_stats.is_empty(),
        "nothing is written per request"
    );
    world.store.fail("uow.begin");
    assert!(world.services.engagement.flush().await.is_err());
    assert!(world.state().daily_stats.is_empty());
    // A view counted meanwhile joins the batch that failed.
    listings.detail(None, &visitor("c"), print).await.unwrap();
    assert_eq!(world.services.engagement.flush().await.unwrap(), 1);
    let today = day_of(world.clock.now());
    let (_, totals) = world.state().daily_stats[&(print, today)];
    assert_eq!(totals.views, 3, "a, b and c; a's second view was throttled");
    assert_eq!(world.services.engagement.flush().await.unwrap(), 0);
    // Ten minutes later `a` counts again, on the same day row.
    world.clock.advance(Duration::minutes(10));
    listings.detail(None, &visitor("a"), print).await.unwrap();
    world.services.engagement.flush().await.unwrap();
    let day = day_of(world.clock.now());
    assert_eq!(
        world.state().daily_stats[&(print, day)].1.views,
        if day == today { 4 } else { 1 }
    );
}

#[tokio::test]
async fn an_inactive_listing_is_not_counted_and_cannot_be_clicked() {
    let world = World::new();
    let (seller, _, print) = world.shop().await;
    world
        .services
        .my_listings
        .toggle_active(&seller, print)
        .await
        .unwrap();
    world
        .services
        .listings
        .detail(Some(&seller), &visitor("seller"), print)
        .await
        .unwrap();
    let refused = world
        .services
        .engagement
        .click(&visitor("x"), print)
        .await
        .unwrap_err();
    assert!(matches!(refused.kind(), ErrorKind::NotFound));
    assert_eq!(world.services.engagement.flush().await.unwrap(), 0);
}

#[tokio::test]
async fn the_refresh_scores_the_window_and_badges_only_positive_scores() {
    let world = World::new();
    let (seller, buyer, print) = world.shop().await;
    let quiet = world
        .listing(&seller, ProductKind::Model, "Quiet", "3.00")
        .await;
    let order = world.place(Some(&buyer), &[(print, 2)]).await;
    world.pay(&order, 1).await;
    world
        .services
        .engagement
        .click(&visitor("v"), print)
        .await
        .unwrap();
    world.services.engagement.flush().await.unwrap();
    let refreshed = world.services.engagement.refresh_trending().await.unwrap();
    // One add to cart (12) + one purchase (24) + one click (5) quarter points.
    assert_eq!(refreshed.scored, 1);
    assert_eq!(refreshed.badged, [print]);
    let state = world.state();
    assert_eq!(
        state.trending[&print],
        TrendingMark {
            points: 41,
            rank: Some(1)
        }
    );
    assert_eq!(
        state.trending.get(&quiet).copied().unwrap_or_default(),
        TrendingMark::default()
    );
    let list = world
        .services
        .listings
        .browse(
            ProductQuery {
                seller: None,
                sort: crate::use_cases::listings::ProductSort::Trending,
                ..ProductQuery::default()
            },
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert!(!list.trending_fallback);
    let order_and_badges: Vec<_> = list
        .page
        .items
        .iter()
        .map(|v| (v.product.id, v.trending_badge))
        .collect();
    assert_eq!(order_and_badges, [(print, true), (quiet, false)]);

    // Thirty days on, nothing is in the window: points and badges go.
    world.clock.advance(Duration::days(30));
    let refreshed = world.services.engagement.refresh_trending().await.unwrap();
    assert_eq!((refreshed.scored, refreshed.badged.len()), (0, 0));
    assert_eq!(world.state().trending[&print], TrendingMark::default());
}

#[tokio::test]
async fn only_the_twelve_best_scores_get_the_badge() {
    let world = World::new();
    let (seller, _, _) = world.shop().await;
    let mut listings = Vec::new();
    for n in 1..=13 {
        let listing = world
            .listing(&seller, ProductKind::Model, &format!("Piece {n}"), "4.00")
            .await;
        // Listing n is clicked by n different visitors: its score grows with n.
        for v in 0..n {
            world
                .services
                .engagement
                .click(&visitor(&format!("visitor {v}")), listing)
                .await
                .unwrap();
        }
        listings.push(listing);
    }
    world.services.engagement.flush().await.unwrap();
    let refreshed = world.services.engagement.refresh_trending().await.unwrap();
    assert_eq!(refreshed.scored, 13, "every clicked listing has points");
    let best_first: Vec<ProductId> = listings.iter().rev().take(12).copied().collect();
    assert_eq!(refreshed.badged, best_first, "the twelve best, best first");
    let state = world.state();
    assert_eq!(state.trending[&listings[12]].rank, Some(1));
    assert_eq!(state.trending[&listings[1]].rank, Some(12));
    assert_eq!(
        state.trending[&listings[0]],
        TrendingMark {
            points: 5,
            rank: None
        },
        "the thirteenth keeps its points but not the badge"
    );
}

#[tokio::test]
async fn the_home_page_buckets_follow_the_owners_flags() {
    let world = World::new();
    let owner = world.owner().await;
    let (seller, _, print) = world.shop().await;
    let vase = world
        .listing(&seller, ProductKind::Model, "Vase", "4.00")
        .await;
    let flags = ListingChanges {
        is_featured: Some(true),
        is_trending: Some(true),
        ..ListingChanges::default()
    };
    world
        .services
        .my_listings
        .update(&owner, print, flags)
        .await
        .unwrap();
    let home = world.services.home.home().await.unwrap();
    let ids = |views: &[crate::use_cases::listings::ProductView]| {
        views.iter().map(|v| v.product.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(&home.featured), [print]);
    assert_eq!(ids(&home.new), [vase, print]);
    assert_eq!(
        ids(&home.trending),
        [print, vase],
        "picked first, then by score"
    );
    assert!(home.trending[0].trending_badge && !home.trending[1].trending_badge);
    assert!(home.more.is_empty(), "every listing is in another bucket");
}

#[tokio::test]
async fn analytics_are_for_sellers_and_the_dashboard_for_owners() {
    let world = World::new();
    let owner = world.owner().await;
    let (seller, buyer, _) = world.shop().await;
    let analytics = &world.services.analytics;
    let page = PageRequest::first();
    assert!(matches!(
        analytics.seller(&buyer, 30, page).await.unwrap_err(),
        AnalyticsError::NotASeller
    ));
    let invalid = analytics.seller(&seller, 14, page).await.unwrap_err();
    assert!(matches!(invalid.kind(), ErrorKind::Invalid(f) if f.fields().contains_key("days")));
    let mine = analytics.seller(&seller, 7, page).await.unwrap();
    assert_eq!((mine.period.days(), mine.activity.products.total), (7, 0));
    assert!(matches!(
        analytics.dashboard(&seller).await.unwrap_err(),
        AnalyticsError::Forbidden
    ));
    let dashboard = analytics.dashboard(&owner).await.unwrap();
    assert_eq!(
        (
            dashboard.overview.products_total,
            dashboard.overview.sellers
        ),
        (1, 1)
    );
}
