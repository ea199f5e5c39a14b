//! How a job attempt fails: worth retrying, or not.

use marketplace_domain::ledger::LedgerError;
use marketplace_domain::money::MoneyError;

use crate::ports::{PaymentError, StoreError};

/// Why a job attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later.
    #[error("{0}")]
    Transient(String),
    /// Will not get better by retrying; the job is parked as dead for an owner to look at.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        JobError::Transient(error.to_string())
    }
}

impl From<PaymentError> for JobError {
    fn from(error: PaymentError) -> Self {
        if error.is_transient() {
            JobError::Transient(error.to_string())
        } else {
            JobError::Permanent(error.to_string())
        }
    }
}

impl From<LedgerError> for JobError {
    fn from(error: LedgerError) -> Self {
        JobError::Permanent(error.to_string())
    }
}

impl From<MoneyError> for JobError {
    fn from(error: MoneyError) -> Self {
        JobError::Permanent(error.to_string())
    }
}
