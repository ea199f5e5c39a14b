//! Engagement: what shoppers do with listings (views, clicks, adds to cart, purchases, reviews),
//! counted per product per day, and the trending rank and analytics built from those daily counts.
//! See docs/discovery.md.

use std::collections::{HashMap, VecDeque};

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::ids::ProductId;
use crate::reviews::RatingSummary;

/// Something a visitor did with a listing that is counted as it happens (purchases and reviews
/// are counted by the transactions that make them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngagementKind {
    /// Opened the product page.
    View,
    /// Followed the listing from a list (`POST /products/{id}/click`).
    Click,
    /// Put it in a cart (counted once per cart: only when the cart gets a new line for it).
    AddToCart,
}

impl EngagementKind {
    /// How long one visitor's repeats of this event on one product are not counted again: views
    /// 10 minutes, clicks 5 minutes, as the original. Adds to cart have no time window: the cart
    /// counts only the add that creates the product's line.
    pub fn throttle_window(self) -> Option<Duration> {
        match self {
            EngagementKind::View => Some(Duration::minutes(10)),
            EngagementKind::Click => Some(Duration::minutes(5)),
            EngagementKind::AddToCart => None,
        }
    }
}

/// The longest throttle window: entries older than this can be forgotten.
const LONGEST_WINDOW: Duration = Duration::minutes(10);

/// Remembers when each visitor last had each event counted on each product, so repeats inside
/// the window are not counted again, without a write per request. Bounded: past `capacity`
/// entries, expired ones are forgotten, and while it is still full new visitors' events are not
/// counted (a flood of fresh visitor keys cannot inflate the counts or the memory). Expired
/// entries are found in the order they were counted, so a call costs the same however full it is.
#[derive(Debug)]
pub struct EngagementThrottle {
    last: HashMap<(String, ProductId, EngagementKind), OffsetDateTime>,
    /// Per throttled kind, what was counted in the order it was counted (oldest first). An entry
    /// whose time no longer matches `last` was counted again later and is only skipped.
    counted: HashMap<EngagementKind, VecDeque<(String, ProductId, OffsetDateTime)>>,
    capacity: usize,
}

impl EngagementThrottle {
    /// A throttle remembering at most `capacity` (visitor, product, event) entries.
    pub fn new(capacity: usize) -> Self {
        EngagementThrottle {
            last: HashMap::new(),
            counted: HashMap::new(),
            capacity,
        }
    }

    /// True when this event counts: the visitor has not had the same event on the same product
    /// counted within its window (an event without a window always counts).
    pub fn admit(
        &mut self,
        visitor: &str,
        product: ProductId,
        kind: EngagementKind,
        now: OffsetDateTime,
    ) -> bool {
        let Some(window) = kind.throttle_window() else {
            return true;
        };
        self.forget_expired(now);
        let key = (visitor.to_owned(), product, kind);
        match self.last.get(&key) {
            Some(last) if within(*last, window, now) => return false,
            Some(_) => {}
            None if self.last.len() >= self.capacity => return false,
            None => {}
        }
        self.counted
            .entry(kind)
            .or_default()
            .push_back((key.0.clone(), product, now));
        self.last.insert(key, now);
        true
    }

    /// Forgets the entries whose window has passed, oldest first (each is looked at once).
    fn forget_expired(&mut self, now: OffsetDateTime) {
        for (kind, queue) in &mut self.counted {
            let window = kind.throttle_window().unwrap_or(LONGEST_WINDOW);
            while let Some((visitor, product, at)) = queue.front() {
                if within(*at, window, now) {
                    break;
                }
                let key = (visitor.clone(), *product, *kind);
                if self.last.get(&key) == Some(at) {
                    self.last.remove(&key);
                }
                queue.pop_front();
            }
        }
    }

    /// How many entries it remembers.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// True when it remembers nothing.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// True when `now` is less than `window` after `since`.
fn within(since: OffsetDateTime, window: Duration, now: OffsetDateTime) -> bool {
    since.checked_add(window).is_none_or(|until| now < until)
}

/// The UTC calendar day of an instant: engagement is counted per product per UTC day.
pub fn day_of(at: OffsetDateTime) -> Date {
    at.to_offset(UtcOffset::UTC).date()
}

/// The counts of one product on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyCounts {
    /// Product page views.
    pub views: i64,
    /// Clicks from lists.
    pub clicks: i64,
    /// Adds to cart.
    pub add_to_carts: i64,
}

impl DailyCounts {
    /// Counts one event.
    pub fn count(&mut self, kind: EngagementKind) {
        let counter = match kind {
            EngagementKind::View => &mut self.views,
            EngagementKind::Click => &mut self.clicks,
            EngagementKind::AddToCart => &mut self.add_to_carts,
        };
        *counter = counter.saturating_add(1);
    }
}

/// Events counted in memory since the last flush, per product per day: what the next batch adds
/// to the stored daily counts.
#[derive(Debug, Default)]
pub struct EngagementTally {
    counts: HashMap<(ProductId, Date), DailyCounts>,
}

impl EngagementTally {
    /// Counts one event on the day it happened.
    pub fn count(&mut self, product: ProductId, kind: EngagementKind, at: OffsetDateTime) {
        self.counts
            .entry((product, day_of(at)))
            .or_default()
            .count(kind);
    }

    /// True when nothing was counted since the last drain.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Takes everything counted so far, ordered by (product, day) so concurrent batches lock rows
    /// in the same order.
    pub fn drain(&mut self) -> Vec<(ProductId, Date, DailyCounts)> {
        let mut batch: Vec<_> = self
            .counts
            .drain()
            .map(|((product, day), counts)| (product, day, counts))
            .collect();
        batch.sort_by_key(|(product, day, _)| (*product, *day));
        batch
    }

    /// Puts a batch back (a failed write), adding to whatever was counted meanwhile.
    pub fn restore(&mut self, batch: Vec<(ProductId, Date, DailyCounts)>) {
        for (product, day, counts) in batch {
            let entry = self.counts.entry((product, day)).or_default();
            entry.views = entry.views.saturating_add(counts.views);
            entry.clicks = entry.clicks.saturating_add(counts.clicks);
            entry.add_to_carts = entry.add_to_carts.saturating_add(counts.add_to_carts);
        }
    }
}

/// Days the trending score looks back, today included.
pub const TRENDING_WINDOW_DAYS: i64 = 30;

/// How many of the best positive trending scores carry the trending badge.
pub const TRENDING_BADGE_TOP_N: usize = 12;

/// The first day inside the trending window ending `today`: the window is the
/// [`TRENDING_WINDOW_DAYS`] UTC days up to and including today.
pub fn trending_window_start(today: Date) -> Date {
    today
        .checked_sub(Duration::days(TRENDING_WINDOW_DAYS - 1))
        .unwrap_or(Date::MIN)
}

/// One product's activity inside a window, summed from its daily counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrendingSignals {
    /// Paid order lines.
    pub purchases: i64,
    /// Adds to cart.
    pub add_to_carts: i64,
    /// Clicks from lists.
    pub clicks: i64,
    /// Reviews written.
    pub reviews: i64,
    /// Product page views.
    pub views: i64,
}

/// Weights of the trending score, in quarter points per event (the original's
/// 6 · purchases + 3 · adds to cart + 1.25 · clicks + 2 · reviews + 0.25 · views, times four so
/// it stays an exact integer).
pub const QUARTER_POINTS: TrendingSignals = TrendingSignals {
    purchases: 24,
    add_to_carts: 12,
    clicks: 5,
    reviews: 8,
    views: 1,
};

impl TrendingSignals {
    /// The activity part of the trending score, in quarter points.
    pub fn quarter_points(&self) -> i64 {
        let w = QUARTER_POINTS;
        [
            (self.purchases, w.purchases),
            (self.add_to_carts, w.add_to_carts),
            (self.clicks, w.clicks),
            (self.reviews, w.reviews),
            (self.views, w.views),
        ]
        .into_iter()
        .fold(0i64, |sum, (count, weight)| {
            sum.saturating_add(count.saturating_mul(weight))
        })
    }
}

/// A product's trending score: its activity in the window plus its average rating (1 · rating,
/// zero without reviews), as an exact fraction of quarter points: (numerator, denominator).
/// The PostgreSQL adapter orders by the same expression, `trending_points + 4 · rating_sum /
/// review_count`.
pub fn trending_score(quarter_points: i64, rating: RatingSummary) -> (i64, i64) {
    if rating.count <= 0 {
        return (quarter_points, 1);
    }
    (
        quarter_points
            .saturating_mul(rating.count)
            .saturating_add(rating.sum.saturating_mul(4)),
        rating.count,
    )
}

/// The trending score as shown, in points with two decimals rounded half up (`"12.50"`).
pub fn trending_score_display(quarter_points: i64, rating: RatingSummary) -> String {
    let (numerator, denominator) = trending_score(quarter_points, rating);
    // hundredths = round_half_up(numerator / denominator / 4 · 100) = (50·n + d) / (2·d).
    let hundredths = i128::from(numerator)
        .saturating_mul(50)
        .saturating_add(i128::from(denominator))
        .checked_div(i128::from(denominator).saturating_mul(2))
        .unwrap_or_default();
    format!("{}.{:02}", hundredths / 100, (hundredths % 100).abs())
}

/// The share of views that became paid order lines, in percent with two decimals rounded half
/// up (`"2.50"`); `None` without views.
pub fn conversion_percent(orders: i64, views: i64) -> Option<String> {
    if views <= 0 || orders < 0 {
        return None;
    }
    // hundredths of a percent = round_half_up(orders / views · 10 000).
    let hundredths = i128::from(orders)
        .saturating_mul(20_000)
        .saturating_add(i128::from(views))
        .checked_div(i128::from(views).saturating_mul(2))?;
    Some(format!("{}.{:02}", hundredths / 100, hundredths % 100))
}

/// How many listings each bucket of the home page holds.
pub const HOME_BUCKET_SIZE: u32 = 8;

/// How many "more like this" listings a product page shows.
pub const MORE_LIKE_THIS: u32 = 8;

/// The periods seller analytics cover, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnalyticsPeriod {
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
    /// The last 90 days.
    Quarter,
}

impl AnalyticsPeriod {
    /// Every period, shortest first.
    pub const ALL: [AnalyticsPeriod; 3] = [
        AnalyticsPeriod::Week,
        AnalyticsPeriod::Month,
        AnalyticsPeriod::Quarter,
    ];

    /// The period of `days` (7, 30 or 90).
    pub fn of_days(days: i64) -> Option<AnalyticsPeriod> {
        match days {
            7 => Some(AnalyticsPeriod::Week),
            30 => Some(AnalyticsPeriod::Month),
            90 => Some(AnalyticsPeriod::Quarter),
            _ => None,
        }
    }

    /// Its length in days.
    pub fn days(self) -> i64 {
        match self {
            AnalyticsPeriod::Week => 7,
            AnalyticsPeriod::Month => 30,
            AnalyticsPeriod::Quarter => 90,
        }
    }

    /// The first UTC day of the period ending `today` (today included).
    pub fn start(self, today: Date) -> Date {
        today
            .checked_sub(Duration::days(self.days().saturating_sub(1)))
            .unwrap_or(Date::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::{Month, Time};
    use uuid::Uuid;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap()
    }

    fn at(day: Date, hour: u8, minute: u8, second: u8, offset_hours: i8) -> OffsetDateTime {
        day.with_time(Time::from_hms(hour, minute, second).unwrap())
            .assume_offset(UtcOffset::from_hms(offset_hours, 0, 0).unwrap())
    }

    fn product(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn views_count_once_per_ten_minutes_and_clicks_once_per_five() {
        let mut throttle = EngagementThrottle::new(100);
        let at = at(date(2026, 11, 30), 10, 0, 0, 0);
        let p = product(1);
        assert!(throttle.admit("v1", p, EngagementKind::View, at));
        assert!(!throttle.admit("v1", p, EngagementKind::View, at + Duration::minutes(9)));
        assert!(!throttle.admit("v1", p, EngagementKind::View, at + Duration::seconds(599)));
        assert!(throttle.admit("v1", p, EngagementKind::View, at + Duration::minutes(10)));
        // Another visitor, another product and another kind are counted on their own.
        assert!(throttle.admit("v2", p, EngagementKind::View, at));
        assert!(throttle.admit("v1", product(2), EngagementKind::View, at));
        assert!(throttle.admit("v1", p, EngagementKind::Click, at));
        assert!(!throttle.admit("v1", p, EngagementKind::Click, at + Duration::minutes(4)));
        assert!(throttle.admit("v1", p, EngagementKind::Click, at + Duration::minutes(5)));
        // Adds to cart are throttled by the cart, not by time.
        assert!(throttle.admit("v1", p, EngagementKind::AddToCart, at));
        assert!(throttle.admit("v1", p, EngagementKind::AddToCart, at));
    }

    #[test]
    fn a_full_throttle_forgets_expired_entries_and_refuses_new_visitors_while_full() {
        let mut throttle = EngagementThrottle::new(2);
        let at = at(date(2026, 11, 30), 10, 0, 0, 0);
        assert!(throttle.admit("a", product(1), EngagementKind::View, at));
        assert!(throttle.admit("b", product(1), EngagementKind::Click, at));
        // Full, nothing expired: a new visitor is not counted, a known one still throttled.
        assert!(!throttle.admit("c", product(1), EngagementKind::View, at));
        assert!(!throttle.admit("a", product(1), EngagementKind::View, at));
        assert_eq!(throttle.len(), 2);
        // Five minutes on, the click expired and makes room; the view is still remembered.
        let later = at + Duration::minutes(5);
        assert!(throttle.admit("c", product(1), EngagementKind::View, later));
        assert!(!throttle.admit("a", product(1), EngagementKind::View, later));
        assert_eq!(throttle.len(), 2);
        // Ten minutes after its view, `a` is forgotten; counted again, it is remembered from
        // then on (its first, expired entry does not take the new one away).
        let much_later = at + Duration::minutes(10);
        assert!(throttle.admit("a", product(1), EngagementKind::View, much_later));
        assert!(!throttle.admit("c", product(1), EngagementKind::View, much_later));
        assert!(!throttle.admit(
            "a",
            product(1),
            EngagementKind::View,
            much_later + Duration::minutes(9)
        ));
    }

    #[test]
    fn a_visitor_counted_again_after_the_window_stays_remembered_for_the_new_window() {
        let mut throttle = EngagementThrottle::new(10);
        let at = at(date(2026, 11, 30), 10, 0, 0, 0);
        let p = product(1);
        assert!(throttle.admit("v", p, EngagementKind::View, at));
        assert!(throttle.admit("v", p, EngagementKind::View, at + Duration::minutes(10)));
        // Twelve minutes in, the first entry is past its window and forgotten, the second not.
        assert!(!throttle.admit("v", p, EngagementKind::View, at + Duration::minutes(12)));
        assert_eq!(throttle.len(), 1);
        assert!(throttle.admit("v", p, EngagementKind::View, at + Duration::minutes(20)));
    }

    #[test]
    fn the_tally_counts_per_product_per_utc_day_and_restores_a_failed_batch() {
        let mut tally = EngagementTally::default();
        let p = product(1);
        // 23:59:59 UTC and 00:00 the next day are two days; a +02:00 time is placed by UTC.
        tally.count(
            p,
            EngagementKind::View,
            at(date(2026, 11, 29), 23, 59, 59, 0),
        );
        tally.count(p, EngagementKind::View, at(date(2026, 11, 30), 0, 0, 0, 0));
        tally.count(
            p,
            EngagementKind::Click,
            at(date(2026, 11, 30), 1, 30, 0, 2),
        );
        tally.count(
            p,
            EngagementKind::AddToCart,
            at(date(2026, 11, 30), 12, 0, 0, 0),
        );
        let batch = tally.drain();
        assert!(tally.is_empty());
        assert_eq!(
            batch,
            vec![
                (
                    p,
                    date(2026, 11, 29),
                    DailyCounts {
                        views: 1,
                        clicks: 1,
                        add_to_carts: 0
                    }
                ),
                (
                    p,
                    date(2026, 11, 30),
                    DailyCounts {
                        views: 1,
                        clicks: 0,
                        add_to_carts: 1
                    }
                ),
            ]
        );
        tally.count(p, EngagementKind::View, at(date(2026, 11, 30), 13, 0, 0, 0));
        tally.restore(batch);
        let again = tally.drain();
        assert_eq!(again[1].2.views, 2);
        assert_eq!(again[0].2.clicks, 1);
    }

    #[test]
    fn the_window_is_thirty_utc_days_including_today() {
        let today = date(2026, 11, 30);
        assert_eq!(trending_window_start(today), date(2026, 11, 1));
        assert_eq!(AnalyticsPeriod::Week.start(today), date(2026, 11, 24));
        assert_eq!(AnalyticsPeriod::Quarter.start(today), date(2026, 9, 2));
        assert_eq!(AnalyticsPeriod::of_days(30), Some(AnalyticsPeriod::Month));
        assert_eq!(AnalyticsPeriod::of_days(31), None);
    }

    #[test]
    fn the_score_uses_the_originals_weights() {
        let signals = TrendingSignals {
            purchases: 2,
            add_to_carts: 3,
            clicks: 4,
            reviews: 1,
            views: 7,
        };
        // 6·2 + 3·3 + 1.25·4 + 2·1 + 0.25·7 = 12 + 9 + 5 + 2 + 1.75 = 29.75 points.
        assert_eq!(signals.quarter_points(), 119);
        let rated = RatingSummary { count: 3, sum: 13 };
        // + 13/3 stars = 34.0833… points.
        assert_eq!(trending_score(119, rated), (119 * 3 + 52, 3));
        assert_eq!(trending_score_display(119, rated), "34.08");
        assert_eq!(
            trending_score_display(119, RatingSummary::default()),
            "29.75"
        );
        assert_eq!(trending_score(0, RatingSummary::default()), (0, 1));
        assert_eq!(
            TrendingSignals {
                views: 1,
                ..TrendingSignals::default()
            }
            .quarter_points(),
            1
        );
    }

    #[test]
    fn conversion_is_orders_per_view_in_percent() {
        assert_eq!(conversion_percent(1, 40).as_deref(), Some("2.50"));
        assert_eq!(conversion_percent(2, 3).as_deref(), Some("66.67"));
        assert_eq!(conversion_percent(3, 0), None);
        assert_eq!(conversion_percent(0, 9).as_deref(), Some("0.00"));
    }
}
