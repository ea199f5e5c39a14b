//! Owners and operators moving money by hand: queueing an order's unpaid payouts again, putting
//! dead payout and reversal jobs back in the queue, and taking back a seller's part of refunds made
//! after their payout (a transfer reversal, run as a job).

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::money::{Cents, Currency};
use marketplace_domain::orders::{Order, OrderEvent};
use marketplace_domain::payouts::PayoutStatus;

use super::is_owner;
use crate::ports::{JobKind, JobName, ReversalRecord, StoreError, Tx};
use crate::use_cases::shared::booking::{enqueue, record_events};
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::recovery::{Recovery, recoverable};
use crate::use_cases::{Actor, ErrorKind, UseCaseError};

/// Why a payout tool failed.
#[derive(Debug, thiserror::Error)]
pub enum PayoutAdminError {
    /// Only owners.
    #[error("only the marketplace owner can do this")]
    Forbidden,
    /// No such order, or it was never paid (money tools have nothing to do with unpaid orders).
    #[error("order not found")]
    NotFound,
    /// The user sold nothing in this order.
    #[error("this user is not a seller of the order")]
    NotASellerOfOrder,
    /// The seller was not paid for this order, so there is no transfer to reverse.
    #[error("the seller was not paid for this order; refunds only lowered what it owes them")]
    NotPaidOut,
    /// The seller owes nothing back for this order (or it was already taken back or netted).
    #[error("the seller owes nothing back for this order")]
    NothingToRecover,
    /// The order's money does not add up (logged): it needs a look before money moves.
    #[error("this order's money does not add up; it needs a look before money moves")]
    Inconsistent(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for PayoutAdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            PayoutAdminError::Forbidden => ErrorKind::Forbidden { code: "forbidden" },
            PayoutAdminError::NotFound => ErrorKind::NotFound,
            PayoutAdminError::NotASellerOfOrder => ErrorKind::Unprocessable {
                code: "not_a_seller_of_order",
            },
            PayoutAdminError::NotPaidOut => ErrorKind::Conflict {
                code: "not_paid_out",
            },
            PayoutAdminError::NothingToRecover => ErrorKind::Conflict {
                code: "nothing_to_recover",
            },
            PayoutAdminError::Inconsistent(_) => ErrorKind::Conflict {
                code: "order_money_inconsistent",
            },
            PayoutAdminError::Store(e) => e.kind(),
        }
    }
}

impl From<JobError> for PayoutAdminError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Transient(message) => {
                PayoutAdminError::Store(StoreError::Unavailable(message))
            }
            JobError::Permanent(message) => {
                tracing::error!(%message, "an order's money does not add up");
                PayoutAdminError::Inconsistent(message)
            }
        }
    }
}

/// What a requested transfer reversal would take back now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversalPreview {
    /// Order.
    pub order_id: OrderId,
    /// Seller.
    pub seller_id: UserId,
    /// Amount the job will take back unless something changes first.
    pub amount: Cents,
    /// The order's currency.
    pub currency: Currency,
}

operation_group!(
    /// Owners and operators: payout retries and transfer reversals.
    PayoutAdmin
);

impl PayoutAdmin {
    fn require_owner(actor: &Actor) -> Result<(), PayoutAdminError> {
        if is_owner(actor) {
            Ok(())
        } else {
            Err(PayoutAdminError::Forbidden)
        }
    }

    /// Queues the payouts of a paid order that are not paid yet. Returns how many.
    ///
    /// # Errors
    /// [`PayoutAdminError::NotFound`] for an unknown or unpaid order.
    pub async fn retry_payouts(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<usize, PayoutAdminError> {
        Self::require_owner(actor)?;
        self.queue_unpaid_payouts(order_id, "owner").await
    }

    /// The operator's `payouts retry` (the command line, which runs with the database's own
    /// rights, so there is no actor to check): with an order, queues its unpaid payouts; without,
    /// puts every dead payout and reversal job back in the queue. Returns how many were queued.
    ///
    /// # Errors
    /// [`PayoutAdminError::NotFound`] for an unknown or unpaid order.
    pub async fn operator_retry_payouts(
        &self,
        order: Option<OrderId>,
    ) -> Result<u64, PayoutAdminError> {
        match order {
            Some(order_id) => {
                let queued = self.queue_unpaid_payouts(order_id, "operator").await?;
                Ok(u64::try_from(queued).unwrap_or(u64::MAX))
            }
            None => {
                let mut tx = self.deps.uow.begin().await?;
                let kinds = [JobName::Payout, JobName::Reversal];
                let revived = tx.jobs()?.revive_all(&kinds, self.deps.clock.now()).await?;
                tx.commit().await?;
                Ok(revived)
            }
        }
    }

    async fn queue_unpaid_payouts(
        &self,
        order_id: OrderId,
        who: &str,
    ) -> Result<usize, PayoutAdminError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let order = paid_order_for_update(tx.as_mut(), order_id).await?;
        let payouts = tx.payouts()?.order_payouts(order_id).await?;
        let mut queued = 0_usize;
        for seller in order.sellers() {
            let paid = payouts
                .iter()
                .any(|p| p.seller_id == seller && matches!(p.status, PayoutStatus::Paid { .. }));
            if !paid {
                let payout = JobKind::Payout {
                    order: order_id,
                    seller,
                };
                enqueue(tx.as_mut(), &payout, &self.deps.settings, now).await?;
                queued = queued.saturating_add(1);
            }
        }
        let event = OrderEvent::payout_retries_queued(who, queued);
        record_events(tx.as_mut(), order_id, &[event], now).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Asks for the seller's part of refunds made after their payout of this order to be taken
    /// back now by reversing the payout transfer. The reversal runs as a job, which decides the
    /// final amount under locks; this returns what would be taken back now.
    ///
    /// # Errors
    /// [`PayoutAdminError::NotFound`] for an unknown or unpaid order,
    /// [`PayoutAdminError::NotASellerOfOrder`], [`PayoutAdminError::NotPaidOut`],
    /// [`PayoutAdminError::NothingToRecover`].
    pub async fn reverse_payout(
        &self,
        actor: &Actor,
        order_id: OrderId,
        seller: UserId,
    ) -> Result<ReversalPreview, PayoutAdminError> {
        Self::require_owner(actor)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let order = paid_order_for_update(tx.as_mut(), order_id).await?;
        if !order.sellers().contains(&seller) {
            return Err(PayoutAdminError::NotASellerOfOrder);
        }
        let amount = match recoverable(tx.as_mut(), &order, seller).await? {
            Recovery::NotPaidOut => return Err(PayoutAdminError::NotPaidOut),
            Recovery::NothingOwed => return Err(PayoutAdminError::NothingToRecover),
            Recovery::Recover { amount, .. } => amount,
        };
        let reversal = JobKind::Reversal {
            order: order_id,
            seller,
        };
        enqueue(tx.as_mut(), &reversal, &self.deps.settings, now).await?;
        let event = OrderEvent::reversal_requested(amount, seller);
        record_events(tx.as_mut(), order_id, &[event], now).await?;
        tx.commit().await?;
        Ok(ReversalPreview {
            order_id,
            seller_id: seller,
            amount,
            currency: order.currency,
        })
    }

    /// The transfer reversals of an order, oldest first.
    ///
    /// # Errors
    /// [`PayoutAdminError::NotFound`] for an unknown order.
    pub async fn order_reversals(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<Vec<ReversalRecord>, PayoutAdminError> {
        Self::require_owner(actor)?;
        if self.deps.queries.orders()?.order(order_id).await?.is_none() {
            return Err(PayoutAdminError::NotFound);
        }
        Ok(self
            .deps
            .queries
            .payouts()?
            .order_reversals(order_id)
            .await?)
    }
}

/// The order, locked, if it exists and was paid.
async fn paid_order_for_update(
    tx: &mut dyn Tx,
    order_id: OrderId,
) -> Result<Order, PayoutAdminError> {
    tx.orders()?
        .get_order_for_update(order_id)
        .await?
        .filter(|order| order.status.was_paid())
        .ok_or(PayoutAdminError::NotFound)
}
