//! Owner tools. For now: overriding a seller's Stripe Connect status, until onboarding through
//! Stripe exists.

use marketplace_domain::connect::{ConnectStatus, parse_account_id};
use marketplace_domain::ids::UserId;
use marketplace_domain::validation::FieldErrors;

use super::{Actor, Deps};
use crate::ports::{ConnectAccountRecord, StoreError};

/// Why an owner operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
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

/// Owner tools.
#[derive(Clone)]
pub struct AdminService {
    deps: Deps,
}

impl AdminService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        AdminService { deps }
    }

    /// Sets a seller's Connect account row (owners only). Records when onboarding started and when
    /// the account first became ready, as the original did.
    ///
    /// # Errors
    /// [`AdminError::Forbidden`], [`AdminError::NotFound`], [`AdminError::Invalid`].
    pub async fn set_connect_status(
        &self,
        actor: &Actor,
        user: UserId,
        status: ConnectOverride,
    ) -> Result<ConnectAccountRecord, AdminError> {
        if !actor.roles.is_owner() {
            return Err(AdminError::Forbidden);
        }
        let account_id = match status.stripe_account_id.trim() {
            "" => None,
            raw => Some(parse_account_id(raw).map_err(|e| {
                AdminError::Invalid(FieldErrors::single("stripe_account_id", e.to_string()))
            })?),
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        tx.users()
            .get_user(user)
            .await?
            .ok_or(AdminError::NotFound)?;
        let previous = tx.connect().get_connect(user).await?;
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
            status,
            updated_at: now,
        };
        match previous {
            None => tx.connect().insert_connect(&record).await?,
            Some(_) => tx.connect().update_connect(&record).await?,
        }
        tx.commit().await?;
        Ok(record)
    }
}
