//! Refund requests (docs/money.md, "Refund requests"): buyers and guests ask for a physical line's
//! money back ([`requests`]); the line's seller, an owner or staff decide and trigger the Stripe
//! refund ([`decisions`]); a job sends it ([`refunds`]), and the refund's webhook books it on the
//! line like any refund of ours.

pub mod decisions;
pub mod refunds;
pub mod requests;

use marketplace_domain::ledger::LedgerError;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::refunds::RefundRequestError as Refusal;
use marketplace_domain::validation::{FieldErrors, bounded_text};

pub use decisions::{RefundDecision, RefundDecisions, RefundQueue};
pub use requests::RefundRequests;

use marketplace_domain::ids::RefundRequestId;
use marketplace_domain::orders::Order;
use marketplace_domain::refunds::RefundProgress;

use crate::ports::{RefundRequestFilter, RefundRequestRecord, RefundRequestStep, StoreError, Tx};
use crate::use_cases::shared::refund_requests::{StepBy, move_request};
use crate::use_cases::{Deps, ErrorKind, UseCaseError};

/// The longest note a buyer or a decider may write.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Why a refund request operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RefundRequestError {
    /// No such request, order or line, or not the caller's (the same answer, on purpose).
    #[error("refund request not found")]
    NotFound,
    /// The caller can see the request but may not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The guest's e-mail is not the one the order was placed with.
    #[error("the e-mail does not match the order's")]
    EmailMismatch,
    /// The refund rules refuse it (state, kind of line, nothing left to refund…).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Some fields are invalid.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// The order's books cannot be read (a broken invariant, for an owner).
    #[error(transparent)]
    Books(#[from] LedgerError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RefundRequestError {
    fn from(error: StoreError) -> Self {
        if error.is_conflict_on("refund_requests_one_per_line") {
            RefundRequestError::Refused(Refusal::AlreadyRequested)
        } else {
            RefundRequestError::Store(error)
        }
    }
}

impl UseCaseError for RefundRequestError {
    fn kind(&self) -> ErrorKind {
        match self {
            RefundRequestError::NotFound => ErrorKind::NotFound,
            RefundRequestError::Forbidden(code) => ErrorKind::Forbidden { code },
            RefundRequestError::EmailMismatch => ErrorKind::Forbidden {
                code: "email_mismatch",
            },
            RefundRequestError::Refused(refusal) => match refusal {
                Refusal::IllegalTransition { .. }
                | Refusal::RefundInFlight
                | Refusal::AlreadyRequested
                | Refusal::AlreadyRefunded => ErrorKind::Conflict {
                    code: refusal.code(),
                },
                Refusal::FreeOrder
                | Refusal::OrderNotPaid { .. }
                | Refusal::NotPhysical
                | Refusal::NothingPaid
                | Refusal::Money(_) => ErrorKind::Unprocessable {
                    code: refusal.code(),
                },
            },
            RefundRequestError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            RefundRequestError::Books(_) => ErrorKind::Internal,
            RefundRequestError::Store(e) => e.kind(),
        }
    }
}

/// A request with the history of its decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequestDetail {
    /// The request.
    pub request: RefundRequestRecord,
    /// Every step, oldest first.
    pub history: Vec<RefundRequestStep>,
}

/// Locks the request's order, then the request (the order every writer of a request takes them
/// in), moves it as `change` decides and records the step; the caller commits.
async fn step(
    tx: &mut dyn Tx,
    deps: &Deps,
    order: &Order,
    id: RefundRequestId,
    by: StepBy<'_>,
    change: impl FnOnce(RefundProgress) -> Result<RefundProgress, Refusal>,
) -> Result<RefundRequestRecord, RefundRequestError> {
    tx.orders()?
        .get_order_for_update(order.id)
        .await?
        .ok_or(RefundRequestError::NotFound)?;
    let mut request = tx
        .refund_requests()?
        .refund_request_for_update(id)
        .await?
        .ok_or(RefundRequestError::NotFound)?;
    let next = change(request.progress)?;
    let now = deps.clock.now();
    move_request(tx, deps, order, &mut request, next, by, now).await?;
    Ok(request)
}

/// The requests matching `filter`, newest first.
async fn list(
    deps: &Deps,
    filter: RefundRequestFilter,
    page: PageRequest,
) -> Result<Page<RefundRequestRecord>, RefundRequestError> {
    Ok(deps
        .queries
        .refund_requests()?
        .refund_requests(filter, page)
        .await?)
}

/// Checks a note: trimmed, at most [`MAX_NOTE_CHARS`].
fn note(field: &str, text: Option<&str>) -> Result<String, RefundRequestError> {
    bounded_text(text.unwrap_or_default(), MAX_NOTE_CHARS)
        .map_err(|e| RefundRequestError::Invalid(FieldErrors::single(field, e.to_string())))
}
