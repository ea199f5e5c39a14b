//! Readiness: whether the application can reach its database.

use crate::ports::StoreError;

operation_group!(
    /// Readiness.
    Health
);

impl Health {
    /// `Ok` when the database answers.
    ///
    /// # Errors
    /// [`StoreError`] when it does not.
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.deps.queries.health()?.ping().await
    }
}
