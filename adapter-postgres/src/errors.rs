//! Maps database errors to the ports' [`StoreError`], by constraint name. No sqlx type leaves
//! this crate.

use marketplace_ports::ports::StoreError;

/// Integrity violations (class 23) become `Conflict { constraint }`; everything else is
/// `Unavailable` with a message for the logs.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("23")) => {
            StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unknown").to_owned(),
            }
        }
        _ => StoreError::Unavailable(error.to_string()),
    }
}

/// A stored value our types reject (a bad enum spelling, a negative rate): the row is corrupt.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("corrupt {what} row: {detail}"))
}

/// An update or delete that must have touched a row: none means the row does not exist.
pub(crate) fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
