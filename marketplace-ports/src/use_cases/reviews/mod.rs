//! Reviews (docs/reviews.md): buyers review the products they bought and the sellers they bought
//! from, and sellers answer ([`write`]); anyone reads a product's or a seller's reviews and a
//! seller's rating ([`read`]).

pub mod read;
pub mod write;

use marketplace_domain::ledger::LedgerError;
use marketplace_domain::reviews::ReviewRefusal;
use marketplace_domain::validation::FieldErrors;

pub use read::{ReviewReading, SellerProfile};
pub use write::{ReviewInput, ReviewTarget, ReviewWriting};

use crate::ports::StoreError;
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why a review operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such order, line, seller, product or review.
    #[error("not found")]
    NotFound,
    /// The purchase may not be reviewed (or the review edited), with the reason.
    #[error(transparent)]
    Refused(#[from] ReviewRefusal),
    /// The caller may not do this (answer someone else's review, edit another's).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// For people.
        message: &'static str,
    },
    /// The review was answered already.
    #[error("this review has a reply already; edit it instead")]
    AlreadyReplied,
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// The order's books cannot be read (a broken invariant).
    #[error(transparent)]
    Books(#[from] LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReviewError {
    fn from(error: StoreError) -> Self {
        if error.is_conflict_on("reviews_one_per_line")
            || error.is_conflict_on("reviews_one_per_order_seller")
        {
            ReviewError::Refused(ReviewRefusal::AlreadyReviewed)
        } else if error.is_conflict_on("review_replies_one_per_review") {
            ReviewError::AlreadyReplied
        } else {
            ReviewError::Store(error)
        }
    }
}

impl UseCaseError for ReviewError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReviewError::NotFound => ErrorKind::NotFound,
            ReviewError::Refused(refusal) => match refusal {
                ReviewRefusal::AlreadyReviewed => ErrorKind::Conflict {
                    code: refusal.code(),
                },
                ReviewRefusal::NotPurchased
                | ReviewRefusal::OwnListing
                | ReviewRefusal::EditWindowClosed => ErrorKind::Forbidden {
                    code: refusal.code(),
                },
                ReviewRefusal::OrderNotPaid | ReviewRefusal::LineRefunded => {
                    ErrorKind::Unprocessable {
                        code: refusal.code(),
                    }
                }
            },
            ReviewError::Forbidden { code, .. } => ErrorKind::Forbidden { code },
            ReviewError::AlreadyReplied => ErrorKind::Conflict {
                code: "already_replied",
            },
            ReviewError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            ReviewError::Books(_) => ErrorKind::Internal,
            ReviewError::Store(e) => e.kind(),
        }
    }
}
