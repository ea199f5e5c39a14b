//! Owners: the site configuration (changes apply to orders created after they commit) and the mail
//! outbox.

use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::site::{SiteConfig, site_config_from_input};
use marketplace_domain::validation::FieldErrors;
use rust_decimal::Decimal;

use super::is_owner;
use crate::ports::{AuditEntry, MailRecord, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a site tool failed.
#[derive(Debug, thiserror::Error)]
pub enum SiteAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for SiteAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            SiteAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            SiteAdminError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            SiteAdminError::Store(e) => e.kind(),
        }
    }
}

operation_group!(
    /// Owners: site configuration and outbox.
    SiteAdmin
);

impl SiteAdmin {
    fn require_owner(actor: &Actor) -> Result<(), SiteAdminError> {
        if is_owner(actor) {
            Ok(())
        } else {
            Err(SiteAdminError::Forbidden)
        }
    }

    /// The site configuration.
    ///
    /// # Errors
    /// [`SiteAdminError::Forbidden`].
    pub async fn site_config(&self, actor: &Actor) -> Result<SiteConfig, SiteAdminError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.site_config()?.site_config().await?)
    }

    /// Changes the site configuration. The fee is clamped to 0–100 % with two decimals; it and
    /// who bears dispute fees apply to orders created after this commits, the download policy to
    /// purchases paid after it. A change is recorded in the audit log (`site.config`), setting by
    /// setting, in the same transaction.
    ///
    /// # Errors
    /// [`SiteAdminError::Forbidden`], [`SiteAdminError::Invalid`].
    pub async fn update_site_config(
        &self,
        actor: &Actor,
        fee_percent: Decimal,
        currency: &str,
        countries: &[String],
        dispute_fee_to_sellers: bool,
        downloads: DownloadPolicy,
    ) -> Result<SiteConfig, SiteAdminError> {
        Self::require_owner(actor)?;
        let config = site_config_from_input(
            fee_percent,
            currency,
            countries,
            dispute_fee_to_sellers,
            downloads,
        )
        .map_err(SiteAdminError::Invalid)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        // Locked, so two owners saving at once are audited against what each really replaced.
        let before = tx.site_config()?.site_config_for_update().await?;
        let changes = config.changes_from(&before);
        tx.site_config()?.update_site_config(&config, now).await?;
        if !changes.is_empty() {
            let entry = AuditEntry {
                actor_id: actor.user_id,
                action: "site.config".to_owned(),
                subject: "site".to_owned(),
                detail: changes.join("; "),
                created_at: now,
            };
            tx.adjustments()?.record_audit(&entry).await?;
        }
        tx.commit().await?;
        Ok(config)
    }

    /// The mail outbox, newest first.
    ///
    /// # Errors
    /// [`SiteAdminError::Forbidden`].
    pub async fn outbox(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<MailRecord>, SiteAdminError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.mail()?.list_outbox(page).await?)
    }
}
