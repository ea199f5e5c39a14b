//! The site configuration (one row), and the readiness check.

use async_trait::async_trait;
use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::money::{BasisPoints, Currency, FeePercent};
use marketplace_domain::site::SiteConfig;
use marketplace_ports::ports::{HealthQueries, SiteConfigQueries, SiteConfigStore, StoreError};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::errors::{corrupt, store_error};
use crate::{PgStore, TxConn};

fn count(n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt("site config", n))
}

fn stored(n: Option<u32>) -> Result<Option<i32>, StoreError> {
    n.map(i32::try_from)
        .transpose()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

async fn site_config(conn: &mut PgConnection) -> Result<SiteConfig, StoreError> {
    let row = sqlx::query!(
        "select fee_bps, currency, allowed_shipping_countries, dispute_fee_to_sellers,
                download_limit, download_expiry_days
         from site_config where id"
    )
    .fetch_one(conn)
    .await
    .map_err(store_error)?;
    Ok(SiteConfig {
        fee: FeePercent::from_basis_points(
            BasisPoints::from_stored(i64::from(row.fee_bps))
                .map_err(|e| corrupt("site config", e))?,
        ),
        currency: Currency::parse(&row.currency).map_err(|e| corrupt("site config", e))?,
        allowed_shipping_countries: row.allowed_shipping_countries,
        dispute_fee_to_sellers: row.dispute_fee_to_sellers,
        downloads: DownloadPolicy {
            limit: row.download_limit.map(count).transpose()?,
            expiry_days: row.download_expiry_days.map(count).transpose()?,
        },
    })
}

/// The site configuration of one transaction.
pub(crate) struct PgSiteConfig(pub(crate) TxConn);

#[async_trait]
impl SiteConfigStore for PgSiteConfig {
    async fn site_config(&mut self) -> Result<SiteConfig, StoreError> {
        site_config(&mut *self.0.lock().await).await
    }

    async fn site_config_for_update(&mut self) -> Result<SiteConfig, StoreError> {
        let mut conn = self.0.lock().await;
        sqlx::query!("select id from site_config where id for update")
            .fetch_one(&mut **conn)
            .await
            .map_err(store_error)?;
        site_config(&mut conn).await
    }

    async fn update_site_config(
        &mut self,
        config: &SiteConfig,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let fee_bps = i32::try_from(config.fee.basis_points().get())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        sqlx::query!(
            "update site_config set fee_bps = $1, currency = $2, allowed_shipping_countries = $3,
                updated_at = $4, dispute_fee_to_sellers = $5, download_limit = $6,
                download_expiry_days = $7
             where id",
            fee_bps,
            config.currency.as_str(),
            &config.allowed_shipping_countries,
            now,
            config.dispute_fee_to_sellers,
            stored(config.downloads.limit)?,
            stored(config.downloads.expiry_days)?,
        )
        .execute(&mut **self.0.lock().await)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl SiteConfigQueries for PgStore {
    async fn site_config(&self) -> Result<SiteConfig, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        site_config(&mut conn).await
    }
}

#[async_trait]
impl HealthQueries for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar!("select 1 as one")
            .fetch_one(&self.pool)
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}
