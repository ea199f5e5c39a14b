//! Stripe Connect onboarding (SPEC §3.6): sellers create an Express account, finish onboarding on
//! Stripe's pages, and become ready to sell once details are submitted and charges and payouts are
//! enabled. Readiness comes from `account.updated`, from an explicit sync, or from a status read
//! (at most once a minute per account, SPEC §9 item 18). When a seller becomes ready, the payouts
//! skipped while they were not are queued again.

use marketplace_domain::connect::ConnectStatus;
use marketplace_domain::ids::UserId;
use marketplace_domain::validation::FieldErrors;
use time::{Duration, OffsetDateTime};

use super::booking::enqueue;
use super::{Actor, Deps, Settings};
use crate::ports::{ConnectAccountRecord, ConnectedAccount, JobKind, PaymentError, StoreError, Tx};

/// Status reads refresh an unready account from Stripe at most this often.
const REFRESH_INTERVAL: Duration = Duration::minutes(1);

/// Why an onboarding step failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
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

/// A seller's payout setup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectView {
    /// The account row (absent before onboarding starts).
    pub account: Option<ConnectAccountRecord>,
    /// Linked, details submitted, charges and payouts enabled.
    pub ready: bool,
}

/// Onboarding.
#[derive(Clone)]
pub struct ConnectService {
    deps: Deps,
}

impl ConnectService {
    /// Builds the service.
    pub fn new(deps: Deps) -> Self {
        ConnectService { deps }
    }

    fn require_seller(actor: &Actor) -> Result<(), ConnectFailure> {
        if actor.roles.is_seller() {
            Ok(())
        } else {
            Err(ConnectFailure::NotASeller)
        }
    }

    /// The caller's payout setup; an unready linked account is refreshed from Stripe when its last
    /// read is older than a minute.
    ///
    /// # Errors
    /// [`ConnectFailure::NotASeller`]; a Stripe failure only logs (the stored status is shown).
    pub async fn status(&self, actor: &Actor) -> Result<ConnectView, ConnectFailure> {
        Self::require_seller(actor)?;
        let now = self.deps.clock.now();
        let account = self.deps.queries.connect_account(actor.user_id).await?;
        let stale = account.as_ref().is_some_and(|a| {
            a.status.stripe_account_id.is_some()
                && !a.status.is_ready()
                && a.synced_at
                    .is_none_or(|synced| now - synced >= REFRESH_INTERVAL)
        });
        if stale {
            match self.sync(actor).await {
                Ok(view) => return Ok(view),
                Err(ConnectFailure::Payment(error)) => {
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
    /// [`ConnectFailure::Invalid`] without an e-mail, [`ConnectFailure::Payment`].
    pub async fn start(&self, actor: &Actor) -> Result<String, ConnectFailure> {
        Self::require_seller(actor)?;
        let now = self.deps.clock.now();
        let existing = self.deps.queries.connect_account(actor.user_id).await?;
        let account_id = match existing
            .as_ref()
            .and_then(|a| a.status.stripe_account_id.clone())
        {
            Some(id) => id,
            None => {
                let (user, profile) = self
                    .deps
                    .queries
                    .user_profile(actor.user_id)
                    .await?
                    .ok_or(ConnectFailure::NotStarted)?;
                let email = [user.email, profile.email]
                    .into_iter()
                    .find(|e| !e.trim().is_empty())
                    .ok_or_else(|| {
                        ConnectFailure::Invalid(FieldErrors::single(
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
                let previous = tx.connect().get_connect(actor.user_id).await?;
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
                    None => tx.connect().insert_connect(&record).await?,
                    Some(_) => tx.connect().update_connect(&record).await?,
                }
                tx.commit().await?;
                account.id
            }
        };
        let base = &self.deps.settings.site_base_url;
        Ok(self
            .deps
            .payments
            .create_account_link(
                &account_id,
                &format!("{base}/api/v1/seller/connect/refresh"),
                &format!("{base}/api/v1/seller/connect/return"),
            )
            .await?)
    }

    /// Reads the caller's account from Stripe now and stores its status.
    ///
    /// # Errors
    /// [`ConnectFailure::NotStarted`], [`ConnectFailure::Payment`].
    pub async fn sync(&self, actor: &Actor) -> Result<ConnectView, ConnectFailure> {
        Self::require_seller(actor)?;
        let account_id = self
            .deps
            .queries
            .connect_account(actor.user_id)
            .await?
            .and_then(|a| a.status.stripe_account_id)
            .ok_or(ConnectFailure::NotStarted)?;
        let account = self.deps.payments.retrieve_account(&account_id).await?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        apply_account_status(tx.as_mut(), &account, None, &self.deps.settings, now).await?;
        tx.commit().await?;
        let account = self.deps.queries.connect_account(actor.user_id).await?;
        let ready = account.as_ref().is_some_and(|a| a.status.is_ready());
        Ok(ConnectView { account, ready })
    }
}

fn status_of(account: &ConnectedAccount) -> ConnectStatus {
    ConnectStatus {
        stripe_account_id: Some(account.id.clone()),
        details_submitted: account.details_submitted,
        charges_enabled: account.charges_enabled,
        payouts_enabled: account.payouts_enabled,
    }
}

/// Applies an account's state to the seller holding it. `event_created` (webhooks) guards against
/// an older `account.updated` overwriting a newer one; a direct read (`None`) always applies.
/// Returns what changed, or `None` when no seller holds the account or the event is stale.
/// Queues again the payouts skipped while `seller` was not ready (they just became ready).
/// Returns how many.
pub(crate) async fn requeue_skipped_payouts(
    tx: &mut dyn Tx,
    seller: UserId,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let orders = tx.payouts().skipped_not_ready(seller).await?;
    for order in &orders {
        enqueue(
            tx,
            &JobKind::Payout {
                order: *order,
                seller,
            },
            settings,
            now,
        )
        .await?;
    }
    Ok(orders.len())
}

pub(crate) async fn apply_account_status(
    tx: &mut dyn Tx,
    account: &ConnectedAccount,
    event_created: Option<OffsetDateTime>,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Option<String>, StoreError> {
    let Some(mut record) = tx.connect().find_connect_by_account(&account.id).await? else {
        return Ok(None);
    };
    if let (Some(created), Some(applied)) = (event_created, record.status_event_at)
        && created < applied
    {
        return Ok(None);
    }
    let was_ready = record.status.is_ready();
    record.status = status_of(account);
    if event_created.is_some() {
        record.status_event_at = event_created;
    } else {
        record.synced_at = Some(now);
    }
    let ready = record.status.is_ready();
    if ready && record.onboarding_completed_at.is_none() {
        record.onboarding_completed_at = Some(now);
    }
    record.updated_at = now;
    tx.connect().update_connect(&record).await?;
    let requeued = if ready && !was_ready {
        requeue_skipped_payouts(tx, record.user_id, settings, now).await?
    } else {
        0
    };
    Ok(Some(format!(
        "seller {} is {}{}",
        record.user_id,
        if ready { "ready" } else { "not ready" },
        if requeued > 0 {
            format!("; {requeued} skipped payout(s) queued again")
        } else {
            String::new()
        }
    )))
}
