//! Owner tools: site configuration, a seller's Connect status override, the job queue (dead jobs
//! and retries), payout retries, transfer reversals and the mail outbox.

use marketplace_domain::connect::{ConnectStatus, parse_account_id};
use marketplace_domain::ids::{JobId, OrderId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_domain::payout::PayoutStatus;
use marketplace_domain::site::{SiteConfig, site_config_from_input};
use marketplace_domain::validation::FieldErrors;
use rust_decimal::Decimal;

use super::booking::enqueue;
use super::connect::requeue_skipped_payouts;
use super::jobs::{JobFailure, Recovery, recoverable};
use super::{Actor, Deps};
use crate::ports::{
    ConnectAccountRecord, JobKind, JobRecord, JobStatus, MailRecord, OrderRecord, ReversalRecord,
    StoreError, Tx, order_money,
};

/// Why an owner operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such user, or no such paid order.
    #[error("not found")]
    NotFound,
    /// Some fields are invalid.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The seller was not paid for this order, so there is no transfer to reverse.
    #[error("the seller was not paid for this order; refunds only lowered what it owes them")]
    NotPaidOut,
    /// The seller owes nothing back for this order (or it was already taken back or netted).
    #[error("the seller owes nothing back for this order")]
    NothingToRecover,
    /// The order's money does not add up; the message is for logs.
    #[error("inconsistent order money: {0}")]
    Inconsistent(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a requested transfer reversal would take back now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversalPreview {
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// Amount the job will take back unless something changes first.
    pub amount: marketplace_domain::money::Cents,
    /// The order's currency.
    pub currency: marketplace_domain::money::Currency,
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
    /// the account first became ready, as the original did; a seller becoming ready gets the
    /// payouts skipped meanwhile queued again, as with `account.updated`.
    ///
    /// # Errors
    /// [`AdminError::Forbidden`], [`AdminError::NotFound`], [`AdminError::Invalid`].
    pub async fn set_connect_status(
        &self,
        actor: &Actor,
        user: UserId,
        status: ConnectOverride,
    ) -> Result<ConnectAccountRecord, AdminError> {
        Self::require_owner(actor)?;
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
            status_event_at: previous.as_ref().and_then(|p| p.status_event_at),
            synced_at: previous.as_ref().and_then(|p| p.synced_at),
            status,
            updated_at: now,
        };
        let was_ready = previous.as_ref().is_some_and(|p| p.status.is_ready());
        match previous {
            None => tx.connect().insert_connect(&record).await?,
            Some(_) => tx.connect().update_connect(&record).await?,
        }
        if record.status.is_ready() && !was_ready {
            requeue_skipped_payouts(tx.as_mut(), user, &self.deps.settings, now).await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    fn require_owner(actor: &Actor) -> Result<(), AdminError> {
        if actor.roles.is_owner() {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// The site configuration (owners).
    ///
    /// # Errors
    /// [`AdminError::Forbidden`].
    pub async fn site_config(&self, actor: &Actor) -> Result<SiteConfig, AdminError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.site_config().await?)
    }

    /// Changes the site configuration (owners). The fee is clamped to 0–100 % with two decimals;
    /// it applies to orders created after this commits.
    ///
    /// # Errors
    /// [`AdminError::Forbidden`], [`AdminError::Invalid`].
    pub async fn update_site_config(
        &self,
        actor: &Actor,
        fee_percent: Decimal,
        currency: &str,
        countries: &[String],
    ) -> Result<SiteConfig, AdminError> {
        Self::require_owner(actor)?;
        let config = site_config_from_input(fee_percent, currency, countries)
            .map_err(AdminError::Invalid)?;
        let mut tx = self.deps.uow.begin().await?;
        tx.platform()
            .update_site_config(&config, self.deps.clock.now())
            .await?;
        tx.commit().await?;
        Ok(config)
    }

    /// Jobs in a state (owners): dead jobs are the ones waiting for attention.
    ///
    /// # Errors
    /// [`AdminError::Forbidden`].
    pub async fn jobs(
        &self,
        actor: &Actor,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, AdminError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.list_jobs(status, page).await?)
    }

    /// Puts a dead job back in the queue (owners).
    ///
    /// # Errors
    /// [`AdminError::NotFound`] when no dead job has this id.
    pub async fn retry_job(&self, actor: &Actor, id: JobId) -> Result<(), AdminError> {
        Self::require_owner(actor)?;
        let mut tx = self.deps.uow.begin().await?;
        if !tx.jobs().revive(id, self.deps.clock.now()).await? {
            return Err(AdminError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues the payouts of a paid order that are not paid yet (owners). Returns how many.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown or unpaid order.
    pub async fn retry_payouts(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<usize, AdminError> {
        Self::require_owner(actor)?;
        self.queue_unpaid_payouts(order_id, "owner").await
    }

    /// The operator's `payouts retry` (the command line, which runs with the database's own
    /// rights, so there is no actor to check): with an order, queues its unpaid payouts; without,
    /// puts every dead payout and reversal job back in the queue. Returns how many were queued.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown or unpaid order.
    pub async fn operator_retry_payouts(&self, order: Option<OrderId>) -> Result<u64, AdminError> {
        match order {
            Some(order_id) => {
                let queued = self.queue_unpaid_payouts(order_id, "operator").await?;
                Ok(u64::try_from(queued).unwrap_or(u64::MAX))
            }
            None => {
                let mut tx = self.deps.uow.begin().await?;
                let kinds = [JobKind::PAYOUT, JobKind::REVERSAL];
                let revived = tx.jobs().revive_all(&kinds, self.deps.clock.now()).await?;
                tx.commit().await?;
                Ok(revived)
            }
        }
    }

    async fn queue_unpaid_payouts(
        &self,
        order_id: OrderId,
        who: &str,
    ) -> Result<usize, AdminError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let order = paid_order_for_update(tx.as_mut(), order_id).await?;
        let items = tx.orders().order_items(order_id).await?;
        let payouts = tx.payouts().order_payouts(order_id).await?;
        let mut queued = 0_usize;
        for seller in order_money(&order, &items).sellers() {
            let paid = payouts
                .iter()
                .any(|p| p.seller_id == seller && matches!(p.status, PayoutStatus::Paid { .. }));
            if !paid {
                enqueue(
                    tx.as_mut(),
                    &JobKind::Payout {
                        order: order_id,
                        seller,
                    },
                    &self.deps.settings,
                    now,
                )
                .await?;
                queued = queued.saturating_add(1);
            }
        }
        tx.orders()
            .add_event(
                order_id,
                "warning",
                &format!("{who} queued {queued} payout retry(ies)"),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Asks for the seller's part of refunds made after their payout of this order to be taken
    /// back now by reversing the payout transfer (owners). The reversal runs as a job, which
    /// decides the final amount under locks; this returns what would be taken back now.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown or unpaid order, [`AdminError::NotPaidOut`],
    /// [`AdminError::NothingToRecover`].
    pub async fn reverse_payout(
        &self,
        actor: &Actor,
        order_id: OrderId,
        seller: UserId,
    ) -> Result<ReversalPreview, AdminError> {
        Self::require_owner(actor)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let order = paid_order_for_update(tx.as_mut(), order_id).await?;
        let amount = match recoverable(tx.as_mut(), &order, seller)
            .await
            .map_err(|e| match e {
                JobFailure::Transient(message) => {
                    AdminError::Store(StoreError::Unavailable(message))
                }
                JobFailure::Permanent(message) => AdminError::Inconsistent(message),
            })? {
            Recovery::NotPaidOut => return Err(AdminError::NotPaidOut),
            Recovery::NothingOwed => return Err(AdminError::NothingToRecover),
            Recovery::Recover { amount, .. } => amount,
        };
        enqueue(
            tx.as_mut(),
            &JobKind::Reversal {
                order: order_id,
                seller,
            },
            &self.deps.settings,
            now,
        )
        .await?;
        tx.orders()
            .add_event(
                order_id,
                "reversal_requested",
                &format!("owner asked to take back {amount} from seller {seller}"),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(ReversalPreview {
            order_id,
            seller_id: seller,
            amount,
            currency: order.currency,
        })
    }

    /// The transfer reversals of an order, oldest first (owners).
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown order.
    pub async fn order_reversals(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<Vec<ReversalRecord>, AdminError> {
        Self::require_owner(actor)?;
        if self.deps.queries.order_detail(order_id).await?.is_none() {
            return Err(AdminError::NotFound);
        }
        Ok(self.deps.queries.order_reversals(order_id).await?)
    }

    /// The mail outbox (owners).
    ///
    /// # Errors
    /// [`AdminError::Forbidden`].
    pub async fn outbox(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<MailRecord>, AdminError> {
        Self::require_owner(actor)?;
        Ok(self.deps.queries.list_outbox(page).await?)
    }
}

/// The order, locked, if it exists and was paid; [`AdminError::NotFound`] otherwise (money tools
/// have nothing to do with unpaid orders).
async fn paid_order_for_update(
    tx: &mut dyn Tx,
    order_id: OrderId,
) -> Result<OrderRecord, AdminError> {
    let order = tx
        .orders()
        .get_order_for_update(order_id)
        .await?
        .ok_or(AdminError::NotFound)?;
    if order.status.was_paid() {
        Ok(order)
    } else {
        Err(AdminError::NotFound)
    }
}
