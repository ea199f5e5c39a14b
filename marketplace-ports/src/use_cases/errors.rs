//! What kind of failure a use case reports, so that any adapter can answer it (an HTTP status, a
//! page, an exit code) without reading error messages.
//!
//! Every use case has its own error enum (`*Error`, one per operation group) whose variants say
//! what happened in that group's words; each implements [`UseCaseError`] to say which
//! [`ErrorKind`] it is. The error's `Display` is the message for the person who asked, except for
//! the kinds that say otherwise (unavailable, provider rejected, internal): those are logged and
//! answered with their own generic message.

use marketplace_domain::files::UploadError;
use marketplace_domain::validation::FieldErrors;

use crate::ports::{CryptoError, PaymentError, StoreError};

/// The kinds of failure every adapter knows how to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Absent, or not the caller's to see (the same answer, on purpose).
    NotFound,
    /// The request itself is unacceptable (malformed, or not genuine).
    BadRequest {
        /// Stable machine-readable code.
        code: &'static str,
    },
    /// Missing or wrong credentials.
    Unauthenticated {
        /// Stable machine-readable code.
        code: &'static str,
    },
    /// Known caller, not allowed (where existence is not secret).
    Forbidden {
        /// Stable machine-readable code.
        code: &'static str,
    },
    /// The state does not allow it now (already done, in use, not ready…).
    Conflict {
        /// Stable machine-readable code.
        code: &'static str,
    },
    /// Some fields are invalid, each with its messages.
    Invalid(FieldErrors),
    /// Well-formed input that cannot be processed, for a reason that is not one field's.
    Unprocessable {
        /// Stable machine-readable code.
        code: &'static str,
    },
    /// An uploaded file or body is too large.
    TooLarge,
    /// Too many attempts; retry later.
    Throttled {
        /// Seconds until a retry may succeed.
        retry_after_seconds: u64,
    },
    /// A dependency (database, payment provider) is unavailable: retry shortly. The error itself
    /// is logged; the caller gets `message`.
    Unavailable {
        /// Stable machine-readable code.
        code: &'static str,
        /// What the caller is told.
        message: &'static str,
    },
    /// The payment provider refused our request (a bug of ours or a broken account): logged.
    ProviderRejected,
    /// A bug or a broken invariant: logged, answered generically.
    Internal,
}

/// A use case's error: it knows its kind.
pub trait UseCaseError: std::error::Error {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
}

impl UseCaseError for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound => ErrorKind::NotFound,
            StoreError::Conflict { .. } => ErrorKind::Conflict { code: "conflict" },
            StoreError::Unavailable(_) => ErrorKind::Unavailable {
                code: "unavailable",
                message: "the database is unavailable; retry shortly",
            },
        }
    }
}

impl UseCaseError for PaymentError {
    fn kind(&self) -> ErrorKind {
        match self {
            PaymentError::Declined { .. } => ErrorKind::Conflict {
                code: "payment_declined",
            },
            PaymentError::Transient { .. } => ErrorKind::Unavailable {
                code: "payment_provider_unavailable",
                message: "the payment provider is unavailable; retry shortly",
            },
            PaymentError::Rejected { .. } => ErrorKind::ProviderRejected,
        }
    }
}

impl UseCaseError for UploadError {
    fn kind(&self) -> ErrorKind {
        match self {
            UploadError::TooLarge { .. } => ErrorKind::TooLarge,
            UploadError::Empty | UploadError::NotAnImage | UploadError::UnsupportedAsset { .. } => {
                ErrorKind::Invalid(FieldErrors::single("file", self.to_string()))
            }
        }
    }
}

impl UseCaseError for CryptoError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_and_payment_failures_have_kinds_adapters_can_answer() {
        assert_eq!(StoreError::NotFound.kind(), ErrorKind::NotFound);
        assert!(matches!(
            StoreError::Unavailable("reset".into()).kind(),
            ErrorKind::Unavailable {
                code: "unavailable",
                ..
            }
        ));
        let declined = PaymentError::Declined {
            message: "card declined".into(),
        };
        assert_eq!(
            declined.kind(),
            ErrorKind::Conflict {
                code: "payment_declined"
            }
        );
        assert_eq!(declined.to_string(), "card declined");
        assert_eq!(
            PaymentError::Rejected {
                code: "x".into(),
                message: "y".into()
            }
            .kind(),
            ErrorKind::ProviderRejected
        );
    }
}
