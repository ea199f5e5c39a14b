//! The job queue: background work written in the same transaction as the change that needs it,
//! claimed by workers with `FOR UPDATE SKIP LOCKED`, retried with backoff, parked as dead after
//! too many attempts.

use async_trait::async_trait;
use marketplace_domain::ids::{JobId, OrderId, UserId};
use marketplace_domain::pagination::{Page, PageRequest};
use time::OffsetDateTime;

use super::uow::{Queries, StoreError, Tx};

/// The kinds of jobs, by name: the one place their stored spelling lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobName {
    /// [`JobKind::Payout`].
    Payout,
    /// [`JobKind::OrderMail`].
    OrderMail,
    /// [`JobKind::RefundSync`].
    RefundSync,
    /// [`JobKind::Reversal`].
    Reversal,
    /// [`JobKind::ExtraPaymentRefund`].
    ExtraPaymentRefund,
    /// [`JobKind::RefundRequests`].
    RefundRequests,
}

impl JobName {
    /// Every name.
    pub const ALL: [JobName; 6] = [
        JobName::Payout,
        JobName::OrderMail,
        JobName::RefundSync,
        JobName::Reversal,
        JobName::ExtraPaymentRefund,
        JobName::RefundRequests,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobName::Payout => "payout",
            JobName::OrderMail => "order_mail",
            JobName::RefundSync => "refund_sync",
            JobName::Reversal => "reversal",
            JobName::ExtraPaymentRefund => "extra_payment_refund",
            JobName::RefundRequests => "refund_request",
        }
    }

    /// Parses [`JobName::as_str`].
    pub fn parse(text: &str) -> Option<JobName> {
        JobName::ALL.into_iter().find(|n| n.as_str() == text)
    }
}

/// What a background job does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Pay (or skip) one seller for one order.
    Payout {
        /// Order.
        order: OrderId,
        /// Seller.
        seller: UserId,
    },
    /// Write the paid-order e-mail of a guest order into the outbox.
    OrderMail {
        /// Order.
        order: OrderId,
    },
    /// Read a charge's refunds from Stripe and book the ones we missed.
    RefundSync {
        /// Order.
        order: OrderId,
    },
    /// Take back from a seller, by reversing their payout transfer, what refunds after the payout
    /// made them owe for one order.
    Reversal {
        /// Order.
        order: OrderId,
        /// Seller.
        seller: UserId,
    },
    /// Refund the second payments an order received after it was paid (the buyer's money).
    ExtraPaymentRefund {
        /// Order.
        order: OrderId,
    },
    /// Send the Stripe refunds of an order's refund requests that were triggered.
    RefundRequests {
        /// Order.
        order: OrderId,
    },
}

impl JobKind {
    /// The kind's name.
    pub fn name(&self) -> JobName {
        match self {
            JobKind::Payout { .. } => JobName::Payout,
            JobKind::OrderMail { .. } => JobName::OrderMail,
            JobKind::RefundSync { .. } => JobName::RefundSync,
            JobKind::Reversal { .. } => JobName::Reversal,
            JobKind::ExtraPaymentRefund { .. } => JobName::ExtraPaymentRefund,
            JobKind::RefundRequests { .. } => JobName::RefundRequests,
        }
    }

    /// The order the job is about.
    pub fn order(&self) -> OrderId {
        match self {
            JobKind::Payout { order, .. }
            | JobKind::OrderMail { order }
            | JobKind::RefundSync { order }
            | JobKind::ExtraPaymentRefund { order }
            | JobKind::RefundRequests { order }
            | JobKind::Reversal { order, .. } => *order,
        }
    }

    /// The seller the job is about, if any.
    pub fn seller(&self) -> Option<UserId> {
        match self {
            JobKind::Payout { seller, .. } | JobKind::Reversal { seller, .. } => Some(*seller),
            JobKind::OrderMail { .. }
            | JobKind::RefundSync { .. }
            | JobKind::ExtraPaymentRefund { .. }
            | JobKind::RefundRequests { .. } => None,
        }
    }

    /// Rebuilds a kind from its stored name, order and seller; `None` when they do not fit.
    pub fn from_parts(name: JobName, order: OrderId, seller: Option<UserId>) -> Option<JobKind> {
        Some(match name {
            JobName::Payout => JobKind::Payout {
                order,
                seller: seller?,
            },
            JobName::OrderMail => JobKind::OrderMail { order },
            JobName::RefundSync => JobKind::RefundSync { order },
            JobName::ExtraPaymentRefund => JobKind::ExtraPaymentRefund { order },
            JobName::RefundRequests => JobKind::RefundRequests { order },
            JobName::Reversal => JobKind::Reversal {
                order,
                seller: seller?,
            },
        })
    }

    /// At most one queued job per key.
    pub fn dedupe_key(&self) -> String {
        match self.seller() {
            Some(seller) => format!("{}:{}:{seller}", self.name().as_str(), self.order()),
            None => format!("{}:{}", self.name().as_str(), self.order()),
        }
    }
}

/// A job's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to run (possibly after a backoff).
    Queued,
    /// Claimed by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after too many attempts; waits for an owner.
    Dead,
}

impl JobStatus {
    /// Every state.
    pub const ALL: [JobStatus; 4] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Dead,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    /// Parses [`JobStatus::as_str`].
    pub fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A background job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// Id.
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// State.
    pub status: JobStatus,
    /// Attempts started so far.
    pub attempts: i32,
    /// After this many attempts it is dead.
    pub max_attempts: i32,
    /// Not before this time.
    pub run_at: OffsetDateTime,
    /// Last error.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// The job queue, inside a transaction.
#[async_trait]
pub trait JobQueue: Send {
    /// Queues a job unless one with the same key is queued already.
    async fn enqueue(
        &mut self,
        kind: &JobKind,
        run_at: OffsetDateTime,
        max_attempts: i32,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Claims the next due job (or one whose worker vanished): marks it running until `lease_until`
    /// and counts the attempt. Skips jobs other workers hold (`FOR UPDATE SKIP LOCKED`).
    async fn claim(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>, StoreError>;
    /// Marks a job done. Like `retry` and `bury`, it applies only while the job is still held by
    /// the claim that counted `attempt` (running, that many attempts): a worker whose lease ran
    /// out, and whose job another worker took over, changes nothing (`false`).
    async fn complete(
        &mut self,
        id: JobId,
        attempt: i32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Puts a job back in the queue for `run_at`, keeping the error (see `complete`).
    async fn retry(
        &mut self,
        id: JobId,
        attempt: i32,
        run_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Parks a job as dead (see `complete`).
    async fn bury(
        &mut self,
        id: JobId,
        attempt: i32,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Requeues a dead job (an owner's retry), with a fresh attempt budget. `false` when no dead
    /// job has this id.
    async fn revive(&mut self, id: JobId, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Requeues every dead job of these kinds, one per key; dead duplicates of a key that is
    /// queued again are marked done. Returns how many were queued.
    async fn revive_all(
        &mut self,
        kinds: &[JobName],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// Job reads.
#[async_trait]
pub trait JobQueries: Send + Sync {
    /// Jobs in a state (all when `None`), newest first.
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        page: PageRequest,
    ) -> Result<Page<JobRecord>, StoreError>;
}

impl dyn Tx + '_ {
    /// The job queue of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn jobs(&mut self) -> Result<&mut (dyn JobQueue + 'static), StoreError> {
        self.store()
    }
}

impl Queries {
    /// Job reads.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the adapter wired none.
    pub fn jobs(&self) -> Result<&dyn JobQueries, StoreError> {
        self.get()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_parts() {
        let order = OrderId::from_uuid(Uuid::from_u128(1));
        let seller = UserId::from_uuid(Uuid::from_u128(2));
        for kind in [
            JobKind::Payout { order, seller },
            JobKind::OrderMail { order },
            JobKind::RefundSync { order },
            JobKind::Reversal { order, seller },
            JobKind::ExtraPaymentRefund { order },
        ] {
            let name = JobName::parse(kind.name().as_str()).unwrap();
            assert_eq!(
                JobKind::from_parts(name, kind.order(), kind.seller()),
                Some(kind.clone())
            );
        }
        assert_eq!(JobKind::from_parts(JobName::Payout, order, None), None);
        assert_eq!(
            JobKind::Payout { order, seller }.dedupe_key(),
            format!("payout:{order}:{seller}")
        );
        assert_eq!(
            JobKind::OrderMail { order }.dedupe_key(),
            format!("order_mail:{order}")
        );
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
    }
}
