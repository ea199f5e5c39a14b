//! Counting engagement without slowing the read path, and the periodic trending refresh.
//!
//! Views, clicks and adds to cart are throttled and tallied in memory ([`EngagementBuffer`]); a
//! background task writes the tally in one batch every second ([`Engagement::flush`]) and once
//! more at shutdown, so a crash loses at most the last second. Purchases and reviews are counted by
//! the transactions that make them. See docs/discovery.md.

use std::sync::{Arc, Mutex, MutexGuard};

use marketplace_domain::engagement::{
    DailyCounts, EngagementKind, EngagementTally, EngagementThrottle, TRENDING_BADGE_TOP_N, day_of,
    trending_score, trending_window_start,
};
use marketplace_domain::ids::ProductId;
use marketplace_domain::reviews::RatingSummary;
use time::{Date, OffsetDateTime};

use crate::ports::{ListingOrder, ProductFilter, StoreError};
use crate::use_cases::{ErrorKind, UseCaseError};

/// How many (visitor, product, event) entries the throttle remembers at most.
const THROTTLE_CAPACITY: usize = 200_000;

/// Who did something, as far as throttling goes: an opaque key the delivery adapter derives from
/// the session, the anonymous cart or the client address (never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visitor(pub String);

struct Recorder {
    throttle: EngagementThrottle,
    tally: EngagementTally,
}

/// The in-memory throttle and tally of engagement events, shared by every request of this
/// process. Recording takes a mutex for a few hash-map operations and never waits on I/O.
#[derive(Clone)]
pub struct EngagementBuffer(Arc<Mutex<Recorder>>);

impl Default for EngagementBuffer {
    fn default() -> Self {
        EngagementBuffer(Arc::new(Mutex::new(Recorder {
            throttle: EngagementThrottle::new(THROTTLE_CAPACITY),
            tally: EngagementTally::default(),
        })))
    }
}

impl EngagementBuffer {
    fn lock(&self) -> MutexGuard<'_, Recorder> {
        // A panic while holding the lock leaves counts, never broken invariants: keep going.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an event unless the visitor had the same one on the same product within its
    /// throttle window.
    pub fn record(
        &self,
        visitor: &Visitor,
        product: ProductId,
        kind: EngagementKind,
        now: OffsetDateTime,
    ) {
        let mut recorder = self.lock();
        if recorder.throttle.admit(&visitor.0, product, kind, now) {
            recorder.tally.count(product, kind, now);
        }
    }

    fn drain(&self) -> Vec<(ProductId, Date, DailyCounts)> {
        self.lock().tally.drain()
    }

    fn restore(&self, batch: Vec<(ProductId, Date, DailyCounts)>) {
        self.lock().tally.restore(batch);
    }
}

/// Why a click could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum EngagementError {
    /// No such active listing.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for EngagementError {
    fn kind(&self) -> ErrorKind {
        match self {
            EngagementError::NotFound => ErrorKind::NotFound,
            EngagementError::Store(e) => e.kind(),
        }
    }
}

/// What a trending refresh wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrendingRefresh {
    /// Listings with activity in the window.
    pub scored: usize,
    /// Listings that carry the computed badge, best first.
    pub badged: Vec<ProductId>,
}

operation_group!(
    /// Engagement: clicks, the batch writer of the tally, and the trending refresh.
    Engagement
);

impl Engagement {
    /// Counts a view of an active listing whose page was answered from a cache: the cache holds
    /// only pages of active listings, and drops them as soon as one changes, so it is not looked
    /// up again (the page's use case, [`ListingBrowsing::detail`], counts the others).
    ///
    /// [`ListingBrowsing::detail`]: crate::use_cases::listings::ListingBrowsing::detail
    pub fn view_of_cached_page(&self, visitor: &Visitor, product: ProductId) {
        self.deps.engagement.record(
            visitor,
            product,
            EngagementKind::View,
            self.deps.clock.now(),
        );
    }

    /// Counts a click from a list on an active listing.
    ///
    /// # Errors
    /// [`EngagementError::NotFound`] for a listing that does not exist or is inactive.
    pub async fn click(
        &self,
        visitor: &Visitor,
        product: ProductId,
    ) -> Result<(), EngagementError> {
        let active = self
            .deps
            .queries
            .listings()?
            .product_detail(product)
            .await?
            .is_some_and(|detail| detail.row.product.listing.is_active);
        if !active {
            return Err(EngagementError::NotFound);
        }
        self.deps.engagement.record(
            visitor,
            product,
            EngagementKind::Click,
            self.deps.clock.now(),
        );
        Ok(())
    }

    /// Writes everything tallied since the last flush in one transaction; on failure the batch
    /// goes back into the tally for the next attempt. Returns how many (product, day) rows it
    /// wrote.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let batch = self.deps.engagement.drain();
        if batch.is_empty() {
            return Ok(0);
        }
        match self.write(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(error) => {
                self.deps.engagement.restore(batch);
                Err(error)
            }
        }
    }

    async fn write(&self, batch: &[(ProductId, Date, DailyCounts)]) -> Result<(), StoreError> {
        let mut tx = self.deps.uow.begin().await?;
        tx.engagement()?.add_engagement(batch).await?;
        tx.commit().await
    }

    /// Recomputes every listing's trending points from the daily counts of the last
    /// [`TRENDING_WINDOW_DAYS`](marketplace_domain::engagement::TRENDING_WINDOW_DAYS) days, then
    /// the badge of the best positive scores. Idempotent; the job worker runs it on a schedule.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn refresh_trending(&self) -> Result<TrendingRefresh, StoreError> {
        let today = day_of(self.deps.clock.now());
        let signals = self
            .deps
            .queries
            .engagement()?
            .trending_signals(trending_window_start(today))
            .await?;
        let points: Vec<(ProductId, i64)> = signals
            .iter()
            .map(|(product, signals)| (*product, signals.quarter_points()))
            .filter(|(_, points)| *points != 0)
            .collect();
        let mut tx = self.deps.uow.begin().await?;
        tx.engagement()?.set_trending_points(&points).await?;
        tx.commit().await?;
        let filter = ProductFilter {
            order: ListingOrder::Trending,
            ..ProductFilter::default()
        };
        let limit = u32::try_from(TRENDING_BADGE_TOP_N).unwrap_or(u32::MAX);
        let best = self
            .deps
            .queries
            .listings()?
            .first_products(&filter, limit)
            .await?;
        let badged: Vec<ProductId> = best
            .iter()
            .filter(|row| {
                let rating = RatingSummary {
                    count: row.product.review_count,
                    sum: row.product.rating_sum,
                };
                trending_score(row.trending.points, rating).0 > 0
            })
            .map(|row| row.product.id)
            .collect();
        let mut tx = self.deps.uow.begin().await?;
        tx.engagement()?.set_trending_ranks(&badged).await?;
        tx.commit().await?;
        Ok(TrendingRefresh {
            scored: points.len(),
            badged,
        })
    }
}
