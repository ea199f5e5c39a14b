//! Stripe Connect onboarding: sellers create an Express account, finish onboarding on Stripe's
//! pages, and become ready to sell once details are submitted and charges and payouts are enabled.
//! Readiness comes from `account.updated`, from an explicit sync, or from a status read (at most
//! once a minute per account). When a seller becomes ready, the payouts skipped while they were
//! not are queued again.

use marketplace_domain::validation::FieldErrors;
use time::Duration;

use super::shared::sellers::{apply_account_status, status_of};
use crate::ports::{ConnectAccountRecord, PaymentError, StoreError};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Status reads refresh an unready account from Stripe at most this often.
const REFRESH_INTERVAL: Duration = Duration::minutes(1);

/// Why an onboarding step failed.
#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    /// Only sellers onboard.
    #[error("only sellers can set up payouts; opt in as a seller in your profile")]
    NotASeller,
    /// Something is missing (an e-mail to create the account with).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// No account yet.
    #[error("you haven't started Stripe onboarding yet")]
    NotStarted,
    /// Stripe failed.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for OnboardingError {
    fn kind(&self) -> ErrorKind {
        match self {
            OnboardingError::NotASeller => ErrorKind::Forbidden {
                code: "not_a_seller",
            },
            OnboardingError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            OnboardingError::NotStarted => ErrorKind::Conflict {
                code: "onboarding_not_started",
            },
            OnboardingError::Payment(e) => e.kind(),
            OnboardingError::Store(e) => e.kind(),
        }
    }
}

/// A seller's payout setup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectView {
    /// The account row (absent before onboarding starts).
    pub account: Option<ConnectAccountRecord>,
    /// Linked, details submitted, charges and payouts enabled.
    pub ready: bool,
}

operation_group!(
    /// Stripe Connect onboarding.
    Onboarding
);

impl Onboarding {
    fn require_seller(actor: &Actor) -> Result<(), OnboardingError> {
        if actor.roles.is_seller() {
            Ok(())
        } else {
            Err(OnboardingError::NotASeller)
        }
    }

    /// The caller's payout setup; an unready linked account is refreshed from Stripe when its last
    /// read is older than a minute.
    ///
    /// # Errors
    /// [`OnboardingError::NotASeller`]; a Stripe failure only logs (the stored status is shown).
    pub async fn status(&self, actor: &Actor) -> Result<ConnectView, OnboardingError> {
        Self::require_seller(actor)?;
        let now = self.deps.clock.now();
        let account = self
            .deps
            .queries
            .connect()?
            .connect_account(actor.user_id)
            .await?;
        let stale = account.as_ref().is_some_and(|a| {
            a.status.stripe_account_id.is_some()
                && !a.status.is_ready()
                && a.synced_at
                    .is_none_or(|synced| now - synced >= REFRESH_INTERVAL)
        });
        if stale {
            match self.sync(actor).await {
                Ok(view) => return Ok(view),
                Err(OnboardingError::Payment(error)) => {
                    tracing::warn!(%error, "refreshing a Connect account failed")
                }
                Err(other) => return Err(other),
            }
        }
        let ready = account.as_ref().is_some_and(|a| a.status.is_ready());
        Ok(ConnectView { account, ready })
    }

    /// Creates the caller's Express account if missing and returns a Stripe onboarding link.
    ///
    /// # Errors
    /// [`OnboardingError::Invalid`] without an e-mail, [`OnboardingError::Payment`].
    pub async fn start(&self, actor: &Actor) -> Result<String, OnboardingError> {
        Self::require_seller(actor)?;
        let now = self.deps.clock.now();
        let existing = self
            .deps
            .queries
            .connect()?
            .connect_account(actor.user_id)
            .await?;
        let account_id = match existing
            .as_ref()
            .and_then(|a| a.status.stripe_account_id.clone())
        {
            Some(id) => id,
            None => {
                let (user, profile) = self
                    .deps
                    .queries
                    .accounts()?
                    .user_profile(actor.user_id)
                    .await?
                    .ok_or(OnboardingError::NotStarted)?;
                let email = [user.email, profile.email]
                    .into_iter()
                    .find(|e| !e.trim().is_empty())
                    .ok_or_else(|| {
                        OnboardingError::Invalid(FieldErrors::single(
                            "email",
                            "add an e-mail to your profile first, then try again",
                        ))
                    })?;
                let account = self
                    .deps
                    .payments
                    .create_express_account(
                        &email,
                        &self.deps.settings.connect_country,
                        &format!("connect-account:{}", actor.user_id),
                    )
                    .await?;
                let mut tx = self.deps.uow.begin().await?;
                let previous = tx.connect()?.get_connect(actor.user_id).await?;
                let record = ConnectAccountRecord {
                    user_id: actor.user_id,
                    status: status_of(&account),
                    onboarding_started_at: previous
                        .as_ref()
                        .and_then(|p| p.onboarding_started_at)
                        .or(Some(now)),
                    onboarding_completed_at: previous
                        .as_ref()
                        .and_then(|p| p.onboarding_completed_at),
                    status_event_at: previous.as_ref().and_then(|p| p.status_event_at),
                    synced_at: Some(now),
                    updated_at: now,
                };
                match previous {
                    None => tx.connect()?.insert_connect(&record).await?,
                    Some(_) => tx.connect()?.update_connect(&record).await?,
                }
                tx.commit().await?;
                account.id
            }
        };
        let links = &self.deps.links;
        Ok(self
            .deps
            .payments
            .create_account_link(
                &account_id,
                &links.connect_refresh(),
                &links.connect_return(),
            )
            .await?)
    }

    /// Reads the caller's account from Stripe now and stores its status.
    ///
    /// # Errors
    /// [`OnboardingError::NotStarted`], [`OnboardingError::Payment`].
    pub async fn sync(&self, actor: &Actor) -> Result<ConnectView, OnboardingError> {
        Self::require_seller(actor)?;
        let connect = self.deps.queries.connect()?;
        let account_id = connect
            .connect_account(actor.user_id)
            .await?
            .and_then(|a| a.status.stripe_account_id)
            .ok_or(OnboardingError::NotStarted)?;
        let account = self.deps.payments.retrieve_account(&account_id).await?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        apply_account_status(tx.as_mut(), &account, None, &self.deps.settings, now).await?;
        tx.commit().await?;
        let account = connect.connect_account(actor.user_id).await?;
        let ready = account.as_ref().is_some_and(|a| a.status.is_ready());
        Ok(ConnectView { account, ready })
    }
}
