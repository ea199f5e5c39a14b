//! The site configuration (fee, currency, shipping countries): one row, read inside the
//! transaction that snapshots it so a change applies to orders created after it commits.

use async_trait::async_trait;
use marketplace_domain::site::SiteConfig;
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// The site configuration, inside a transaction.
#[async_trait]
pub trait SiteConfigStore: Send {
    /// The committed configuration.
    async fn site_config(&mut self) -> Result<SiteConfig, StoreError>;
    /// The configuration, locked until the transaction ends (for a change that must know what it
    /// replaces; plain reads use [`SiteConfigStore::site_config`] and never wait).
    async fn site_config_for_update(&mut self) -> Result<SiteConfig, StoreError>;
    /// Replaces the configuration.
    async fn update_site_config(
        &mut self,
        config: &SiteConfig,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// Configuration reads.
#[async_trait]
pub trait SiteConfigQueries: Send + Sync {
    /// The site configuration.
    async fn site_config(&self) -> Result<SiteConfig, StoreError>;
}

/// Whether the database answers (readiness checks).
#[async_trait]
pub trait HealthQueries: Send + Sync {
    /// `Ok` when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The site configuration of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn site_config(&mut self) -> Result<&mut (dyn SiteConfigStore + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Configuration reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn site_config(&self) -> Result<&dyn SiteConfigQueries, StoreError> {
        self.get()
    }

    /// Readiness checks.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn health(&self) -> Result<&dyn HealthQueries, StoreError> {
        self.get()
    }
}
