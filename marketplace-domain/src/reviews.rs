//! Reviews (docs/reviews.md): buyers rate what they bought (one review per order line) and the
//! sellers they bought from (one per order and seller), 1–5 stars with a title and a body; the
//! reviewed seller may answer each review once. Averages are kept as a running count and sum, so
//! reading one never aggregates over reviews, and shown with two decimals, rounded half up.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::orders::OrderStatus;
use crate::validation::{FieldErrors, bounded_text, required_text};

/// The longest review title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// The longest review or reply body, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// How long after posting an author may still edit a review (a seller's reply stays editable).
pub const EDIT_WINDOW: Duration = Duration::days(30);

/// A star rating, 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    /// Checks a rating.
    ///
    /// # Errors
    /// A message when it is not 1–5.
    pub fn new(stars: i64) -> Result<Rating, &'static str> {
        u8::try_from(stars)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .map(Rating)
            .ok_or("must be a whole number of stars from 1 to 5")
    }

    /// The stars.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A review's words and stars, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewContent {
    /// Stars.
    pub rating: Rating,
    /// Title (may be empty), at most [`MAX_TITLE_CHARS`].
    pub title: String,
    /// Body (may be empty), at most [`MAX_BODY_CHARS`].
    pub body: String,
}

/// Rejects text holding a NUL character (no database stores it, no person types it).
fn no_nul(field: &str, text: &str, errors: &mut FieldErrors) -> bool {
    if text.contains('\0') {
        errors.add(field, "must not contain NUL characters");
        false
    } else {
        true
    }
}

/// Checks a review's rating, title and body, reporting every problem at once.
///
/// # Errors
/// Field errors on `rating`, `title` and `body`.
pub fn review_content(rating: i64, title: &str, body: &str) -> Result<ReviewContent, FieldErrors> {
    let mut errors = FieldErrors::new();
    let rating = errors.check("rating", Rating::new(rating));
    let title = if no_nul("title", title, &mut errors) {
        errors.check("title", bounded_text(title, MAX_TITLE_CHARS))
    } else {
        None
    };
    let body = if no_nul("body", body, &mut errors) {
        errors.check("body", bounded_text(body, MAX_BODY_CHARS))
    } else {
        None
    };
    match (rating, title, body) {
        (Some(rating), Some(title), Some(body)) => errors.into_result(ReviewContent {
            rating,
            title,
            body,
        }),
        _ => Err(errors),
    }
}

/// Checks a reply's body: required, at most [`MAX_BODY_CHARS`].
///
/// # Errors
/// A field error on `body`.
pub fn reply_body(body: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    if !no_nul("body", body, &mut errors) {
        return Err(errors);
    }
    required_text(body, MAX_BODY_CHARS).map_err(|e| FieldErrors::single("body", e.to_string()))
}

/// A running count and sum of ratings: what an average is shown from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingSummary {
    /// How many ratings.
    pub count: i64,
    /// Their sum.
    pub sum: i64,
}

impl RatingSummary {
    /// The average with two decimals, rounded half up (`"4.67"`); `None` without ratings.
    pub fn average(self) -> Option<String> {
        if self.count <= 0 || self.sum < 0 {
            return None;
        }
        // round_half_up(sum / count, 2) in integers: (200 · sum + count) / (2 · count) hundredths.
        let hundredths = self
            .sum
            .checked_mul(200)?
            .checked_add(self.count)?
            .checked_div(self.count.checked_mul(2)?)?;
        let (whole, cents) = (hundredths.checked_div(100)?, hundredths.checked_rem(100)?);
        Some(format!("{whole}.{cents:02}"))
    }
}

/// The prior of the top-rated order: every product starts as if it had [`TOP_PRIOR_COUNT`]
/// ratings of [`TOP_PRIOR_MEAN`] stars, so one 5-star review does not beat a hundred 4.8s.
pub const TOP_PRIOR_COUNT: i64 = 5;
/// See [`TOP_PRIOR_COUNT`].
pub const TOP_PRIOR_MEAN: i64 = 3;

impl RatingSummary {
    /// The Bayesian average the top-rated order sorts by, as an exact fraction
    /// `(TOP_PRIOR_COUNT · TOP_PRIOR_MEAN + sum) / (TOP_PRIOR_COUNT + count)`: (numerator,
    /// denominator). The PostgreSQL adapter orders by the same expression.
    pub fn top_score(self) -> (i64, i64) {
        (
            TOP_PRIOR_COUNT
                .saturating_mul(TOP_PRIOR_MEAN)
                .saturating_add(self.sum),
            TOP_PRIOR_COUNT.saturating_add(self.count),
        )
    }

    /// True when this summary ranks above `other` in the top-rated order.
    pub fn ranks_above(self, other: RatingSummary) -> bool {
        let ((a, b), (c, d)) = (self.top_score(), other.top_score());
        // a/b > c/d with positive denominators, in 128-bit integers.
        i128::from(a).saturating_mul(i128::from(d)) > i128::from(c).saturating_mul(i128::from(b))
    }
}

/// How a summary changes when a rating is added, changed or taken away: the deltas to apply to
/// the stored count and sum in one statement, so concurrent changes never lose one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatingDelta {
    /// Added to the count.
    pub count: i64,
    /// Added to the sum.
    pub sum: i64,
}

impl RatingDelta {
    /// A new rating.
    pub fn added(rating: Rating) -> RatingDelta {
        RatingDelta {
            count: 1,
            sum: i64::from(rating.get()),
        }
    }

    /// A rating changed from `old` to `new`.
    pub fn changed(old: Rating, new: Rating) -> RatingDelta {
        RatingDelta {
            count: 0,
            sum: i64::from(new.get()).saturating_sub(i64::from(old.get())),
        }
    }

    /// A rating taken away (its review removed by staff).
    pub fn removed(rating: Rating) -> RatingDelta {
        RatingDelta {
            count: -1,
            sum: 0_i64.saturating_sub(i64::from(rating.get())),
        }
    }

    /// True when it changes nothing.
    pub fn is_zero(self) -> bool {
        self.count == 0 && self.sum == 0
    }
}

/// Why a buyer may not review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    /// The caller did not buy it (or the line or seller is not in the order).
    #[error("only the buyer of this order can review it")]
    NotPurchased,
    /// The order is not paid (or was refunded in full).
    #[error("reviews open once the order is paid")]
    OrderNotPaid,
    /// Reviewed already.
    #[error("you have reviewed this already; edit your review instead")]
    AlreadyReviewed,
    /// The line was refunded in full: not a purchase any more.
    #[error("this item was refunded in full, so it can no longer be reviewed")]
    LineRefunded,
    /// A seller reviewing their own listing or themselves.
    #[error("sellers cannot review themselves")]
    OwnListing,
    /// The edit window closed.
    #[error("reviews can be edited for 30 days after they are posted")]
    EditWindowClosed,
}

impl ReviewRefusal {
    /// The stable code clients see.
    pub fn code(self) -> &'static str {
        match self {
            ReviewRefusal::NotPurchased => "not_purchased",
            ReviewRefusal::OrderNotPaid => "order_not_paid",
            ReviewRefusal::AlreadyReviewed => "already_reviewed",
            ReviewRefusal::LineRefunded => "line_refunded",
            ReviewRefusal::OwnListing => "own_listing",
            ReviewRefusal::EditWindowClosed => "edit_window_closed",
        }
    }
}

/// What deciding whether a purchase may be reviewed needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// The caller is the order's buyer (or holds its guest token).
    pub is_buyer: bool,
    /// The line (or a line of the seller) is part of the order.
    pub in_order: bool,
    /// The order's status.
    pub order_status: OrderStatus,
    /// The line was refunded in full (product reviews only).
    pub line_refunded: bool,
    /// The reviewer is the seller reviewed.
    pub own_listing: bool,
    /// A review exists already.
    pub reviewed: bool,
}

/// Checks that a purchase may be reviewed: by its buyer, of a paid (or partly refunded) order,
/// not refunded in full, not the reviewer's own listing, once.
///
/// # Errors
/// [`ReviewRefusal`], checked in that order.
pub fn may_review(purchase: Purchase) -> Result<(), ReviewRefusal> {
    if !purchase.is_buyer || !purchase.in_order {
        return Err(ReviewRefusal::NotPurchased);
    }
    if !matches!(
        purchase.order_status,
        OrderStatus::Paid | OrderStatus::PartiallyRefunded
    ) {
        return Err(ReviewRefusal::OrderNotPaid);
    }
    if purchase.line_refunded {
        return Err(ReviewRefusal::LineRefunded);
    }
    if purchase.own_listing {
        return Err(ReviewRefusal::OwnListing);
    }
    if purchase.reviewed {
        return Err(ReviewRefusal::AlreadyReviewed);
    }
    Ok(())
}

/// Checks that something posted at `posted_at` may still be edited at `now`.
///
/// # Errors
/// [`ReviewRefusal::EditWindowClosed`] after [`EDIT_WINDOW`].
pub fn may_edit(posted_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), ReviewRefusal> {
    match posted_at.checked_add(EDIT_WINDOW) {
        Some(closes) if now < closes => Ok(()),
        _ => Err(ReviewRefusal::EditWindowClosed),
    }
}

/// How a list of reviews is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewSort {
    /// Newest first.
    #[default]
    Newest,
    /// Most stars first (newest first among equals).
    Highest,
    /// Fewest stars first (newest first among equals).
    Lowest,
}

impl ReviewSort {
    /// Parses `newest`, `highest`, `lowest`.
    pub fn parse(text: &str) -> Option<ReviewSort> {
        match text {
            "newest" => Some(ReviewSort::Newest),
            "highest" => Some(ReviewSort::Highest),
            "lowest" => Some(ReviewSort::Lowest),
            _ => None,
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_checked_field_by_field() {
        let ok = review_content(5, "  Lovely  ", "Printed well.").unwrap();
        assert_eq!((ok.rating.get(), ok.title.as_str()), (5, "Lovely"));
        let refused = review_content(6, &"t".repeat(121), "nul\0").unwrap_err();
        assert_eq!(
            refused.fields().keys().collect::<Vec<_>>(),
            ["body", "rating", "title"]
        );
        assert!(review_content(0, "", "").is_err());
        assert!(
            review_content(1, "", "").is_ok(),
            "title and body may be empty"
        );
        assert!(reply_body("  ").is_err() && reply_body("Thanks!").is_ok());
    }

    #[test]
    fn averages_round_half_up_to_two_decimals() {
        let avg = |count, sum| RatingSummary { count, sum }.average();
        assert_eq!(avg(0, 0), None);
        assert_eq!(avg(3, 14).as_deref(), Some("4.67"));
        assert_eq!(avg(8, 37).as_deref(), Some("4.63"), "4.625 rounds up");
        assert_eq!(avg(1, 5).as_deref(), Some("5.00"));
        assert_eq!(avg(3, 4).as_deref(), Some("1.33"));
        let mut summary = RatingSummary::default();
        for delta in [
            RatingDelta::added(Rating(4)),
            RatingDelta::added(Rating(2)),
            RatingDelta::changed(Rating(2), Rating(5)),
            RatingDelta::removed(Rating(4)),
        ] {
            summary.count += delta.count;
            summary.sum += delta.sum;
        }
        assert_eq!(summary, RatingSummary { count: 1, sum: 5 });
    }

    #[test]
    fn one_five_star_review_does_not_beat_a_hundred_4_8s() {
        let one = RatingSummary { count: 1, sum: 5 };
        let hundred = RatingSummary {
            count: 100,
            sum: 480,
        };
        assert!(hundred.ranks_above(one) && !one.ranks_above(hundred));
        assert_eq!(one.top_score(), (20, 6));
        assert!(
            one.ranks_above(RatingSummary::default()),
            "3.33 beats the prior 3.00"
        );
        let poor = RatingSummary { count: 10, sum: 10 };
        assert!(RatingSummary::default().ranks_above(poor));
    }

    #[test]
    fn eligibility_says_why() {
        let paid = Purchase {
            is_buyer: true,
            in_order: true,
            order_status: OrderStatus::Paid,
            line_refunded: false,
            own_listing: false,
            reviewed: false,
        };
        assert_eq!(may_review(paid), Ok(()));
        let code = |p: Purchase| may_review(p).unwrap_err().code();
        assert_eq!(
            code(Purchase {
                is_buyer: false,
                ..paid
            }),
            "not_purchased"
        );
        assert_eq!(
            code(Purchase {
                in_order: false,
                ..paid
            }),
            "not_purchased"
        );
        let pending = Purchase {
            order_status: OrderStatus::Pending,
            ..paid
        };
        assert_eq!(code(pending), "order_not_paid");
        let refunded = Purchase {
            order_status: OrderStatus::Refunded,
            ..paid
        };
        assert_eq!(code(refunded), "order_not_paid");
        assert_eq!(
            code(Purchase {
                line_refunded: true,
                ..paid
            }),
            "line_refunded"
        );
        assert_eq!(
            code(Purchase {
                own_listing: true,
                ..paid
            }),
            "own_listing"
        );
        assert_eq!(
            code(Purchase {
                reviewed: true,
                ..paid
            }),
            "already_reviewed"
        );
        let partly = Purchase {
            order_status: OrderStatus::PartiallyRefunded,
            ..paid
        };
        assert_eq!(may_review(partly), Ok(()));
        let posted = OffsetDateTime::UNIX_EPOCH;
        assert!(may_edit(posted, posted + Duration::days(29)).is_ok());
        assert!(may_edit(posted, posted + EDIT_WINDOW).is_err());
    }
}
