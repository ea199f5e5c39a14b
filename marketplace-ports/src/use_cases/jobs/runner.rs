//! Runs queued jobs. A job is a row written in the same transaction as the change that needs it; a
//! worker claims it (`FOR UPDATE SKIP LOCKED`), runs it with no transaction open during the
//! Stripe call, and marks it done, retries it with exponential backoff, or parks it as dead after
//! too many attempts. Handlers are idempotent: a job may run again after a crash.

use time::Duration;

use crate::ports::{JobKind, JobRecord, StoreError};
use crate::use_cases::money_flow::extra_payments::refund_extra_payments;
use crate::use_cases::money_flow::payouts::run_payout;
use crate::use_cases::money_flow::refunds::sync_refunds;
use crate::use_cases::money_flow::reversals::run_reversal;
use crate::use_cases::orders::mail::send_order_mail;
use crate::use_cases::refund_requests::refunds::send_refund_requests;
use crate::use_cases::shared::jobs::JobError;

/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::minutes(10);

/// What one run of the worker did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobRun {
    /// No job was due.
    Idle,
    /// A job finished.
    Done(JobKind),
    /// A job failed and will run again.
    Retrying(JobKind),
    /// A job failed for the last time.
    Dead(JobKind),
}

operation_group!(
    /// Runs queued jobs.
    JobRunner
);

impl JobRunner {
    /// Claims and runs the next due job, if any.
    ///
    /// # Errors
    /// Only when the queue itself cannot be read or written.
    pub async fn run_next(&self) -> Result<JobRun, StoreError> {
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let Some(job) = tx
            .jobs()?
            .claim(now, now + self.deps.settings.job_lease)
            .await?
        else {
            return Ok(JobRun::Idle);
        };
        tx.commit().await?;
        let result = self.execute(&job).await;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let name = job.kind.name().as_str();
        let (run, held) = match result {
            Ok(()) => (
                JobRun::Done(job.kind.clone()),
                tx.jobs()?.complete(job.id, job.attempts, now).await?,
            ),
            Err(JobError::Transient(error)) if job.attempts < job.max_attempts => {
                let delay = backoff(self.deps.settings.job_retry_base, job.attempts);
                tracing::warn!(job = %job.id, kind = name, attempt = job.attempts, %error, "job failed; retrying");
                let held = tx
                    .jobs()?
                    .retry(job.id, job.attempts, now + delay, &error, now)
                    .await?;
                (JobRun::Retrying(job.kind.clone()), held)
            }
            Err(JobError::Transient(error) | JobError::Permanent(error)) => {
                tracing::error!(job = %job.id, kind = name, attempt = job.attempts, %error, "job is dead");
                let held = tx.jobs()?.bury(job.id, job.attempts, &error, now).await?;
                (JobRun::Dead(job.kind.clone()), held)
            }
        };
        if !held {
            // Its lease ran out and another worker took it over: that run's outcome counts.
            tracing::warn!(job = %job.id, kind = name, attempt = job.attempts, "job was taken over by another worker; this run's outcome is dropped");
        }
        tx.commit().await?;
        Ok(run)
    }

    async fn execute(&self, job: &JobRecord) -> Result<(), JobError> {
        match &job.kind {
            JobKind::Payout { order, seller } => run_payout(&self.deps, *order, *seller).await,
            JobKind::OrderMail { order } => send_order_mail(&self.deps, *order).await,
            JobKind::RefundSync { order } => sync_refunds(&self.deps, *order).await,
            JobKind::Reversal { order, seller } => run_reversal(&self.deps, *order, *seller).await,
            JobKind::ExtraPaymentRefund { order } => {
                refund_extra_payments(&self.deps, *order).await
            }
            JobKind::RefundRequests { order } => send_refund_requests(&self.deps, *order).await,
        }
    }
}

/// `base × 2^(attempt − 1)`, at most ten minutes.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let factor = 2_i32.saturating_pow(exponent);
    base.checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let base = Duration::seconds(2);
        assert_eq!(backoff(base, 1), Duration::seconds(2));
        assert_eq!(backoff(base, 2), Duration::seconds(4));
        assert_eq!(backoff(base, 5), Duration::seconds(32));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }
}
