//! The site configuration, in memory.

use async_trait::async_trait;
use marketplace_domain::site::SiteConfig;
use time::OffsetDateTime;

use super::{MemoryStore, Working};
use crate::ports::{SiteConfigQueries, SiteConfigStore, StoreError};

pub(crate) struct MemSiteConfig(pub(crate) Working);

#[async_trait]
impl SiteConfigStore for MemSiteConfig {
    async fn site_config(&mut self) -> Result<SiteConfig, StoreError> {
        Ok(self.0.state("site_config.site_config")?.site.clone())
    }

    async fn site_config_for_update(&mut self) -> Result<SiteConfig, StoreError> {
        // One transaction at a time holds the working copy: nothing to lock.
        Ok(self
            .0
            .state("site_config.site_config_for_update")?
            .site
            .clone())
    }

    async fn update_site_config(
        &mut self,
        config: &SiteConfig,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.0.state("site_config.update_site_config")?.site = config.clone();
        Ok(())
    }
}

#[async_trait]
impl SiteConfigQueries for MemoryStore {
    async fn site_config(&self) -> Result<SiteConfig, StoreError> {
        Ok(self.read("site_config.site_config")?.site)
    }
}
