//! Owners overriding a seller's Connect status (support, or a seller onboarded elsewhere).

use marketplace_domain::connect::{ConnectStatus, parse_account_id};
use marketplace_domain::ids::UserId;
use marketplace_domain::validation::FieldErrors;

use super::is_owner;
use crate::ports::{ConnectAccountRecord, StoreError};
use crate::use_cases::shared::sellers::requeue_skipped_payouts;
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why the override failed.
#[derive(Debug, thiserror::Error)]
pub enum SellerAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for SellerAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            SellerAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            SellerAdminError::NotFound => ErrorKind::NotFound,
            SellerAdminError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            SellerAdminError::Store(e) => e.kind(),
        }
    }
}

/// The Connect status an owner sets for a seller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOverride {
    /// `acct_…`, or empty to unlink.
    pub stripe_account_id: String,
    /// Details submitted.
    pub details_submitted: bool,
    /// Charges enabled.
    pub charges_enabled: bool,
    /// Payouts enabled.
    pub payouts_enabled: bool,
}

operation_group!(
    /// Owners: sellers' Connect status.
    SellerAdmin
);

impl SellerAdmin {
    /// Sets a seller's Connect account row. Records when onboarding started and when the account
    /// first became ready, as the original did; a seller becoming ready gets the payouts skipped
    /// meanwhile queued again, as with `account.updated`.
    ///
    /// # Errors
    /// [`SellerAdminError::Forbidden`], [`SellerAdminError::NotFound`],
    /// [`SellerAdminError::Invalid`].
    pub async fn set_connect_status(
        &self,
        actor: &Actor,
        user: UserId,
        status: ConnectOverride,
    ) -> Result<ConnectAccountRecord, SellerAdminError> {
        if !is_owner(actor) {
            return Err(SellerAdminError::Forbidden);
        }
        let account_id = match status.stripe_account_id.trim() {
            "" => None,
            raw => Some(parse_account_id(raw).map_err(|e| {
                SellerAdminError::Invalid(FieldErrors::single("stripe_account_id", e.to_string()))
            })?),
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.users()?
            .get_user(user)
            .await?
            .ok_or(SellerAdminError::NotFound)?;
        let previous = tx.connect()?.get_connect(user).await?;
        let status = ConnectStatus {
            stripe_account_id: account_id,
            details_submitted: status.details_submitted,
            charges_enabled: status.charges_enabled,
            payouts_enabled: status.payouts_enabled,
        };
        let started = previous.as_ref().and_then(|p| p.onboarding_started_at);
        let completed = previous.as_ref().and_then(|p| p.onboarding_completed_at);
        let record = ConnectAccountRecord {
            user_id: user,
            onboarding_started_at: started.or(status.stripe_account_id.as_ref().map(|_| now)),
            onboarding_completed_at: completed.or(status.is_ready().then_some(now)),
            status_event_at: previous.as_ref().and_then(|p| p.status_event_at),
            synced_at: previous.as_ref().and_then(|p| p.synced_at),
            status,
            updated_at: now,
        };
        let was_ready = previous.as_ref().is_some_and(|p| p.status.is_ready());
        match previous {
            None => tx.connect()?.insert_connect(&record).await?,
            Some(_) => tx.connect()?.update_connect(&record).await?,
        }
        if record.status.is_ready() && !was_ready {
            requeue_skipped_payouts(tx.as_mut(), user, &self.deps.settings, now).await?;
        }
        tx.commit().await?;
        Ok(record)
    }
}
