//! Delivering outbox mail to the mail server, one mail per step: claim it (a short transaction),
//! send it with no transaction open, record the outcome. A transient failure is tried again with
//! the jobs' backoff; a refusal, or running out of attempts, marks it failed for good. Without a
//! mail server configured, mail stays in the outbox (`GET /api/v1/admin/outbox`).

use marketplace_domain::ids::MailId;

use crate::ports::{SendError, StoreError};
use crate::use_cases::jobs::runner::backoff;

/// What one delivery step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryRun {
    /// Nothing due (or no mail server).
    Idle,
    /// Delivered.
    Sent(MailId),
    /// Not delivered now; tried again later.
    Retrying(MailId),
    /// Not delivered, for good.
    Failed(MailId),
}

operation_group!(
    /// Delivering outbox mail.
    MailDelivery
);

impl MailDelivery {
    /// Delivers the oldest due mail, if any.
    ///
    /// # Errors
    /// Storage failures (the mail is then tried again once its lease ends).
    pub async fn deliver_next(&self) -> Result<DeliveryRun, StoreError> {
        let Some(sender) = &self.deps.mail_sender else {
            return Ok(DeliveryRun::Idle);
        };
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let claimed = tx
            .mail()?
            .claim_due_mail(now, now + self.deps.settings.job_lease)
            .await?;
        tx.commit().await?;
        let Some(claimed) = claimed else {
            return Ok(DeliveryRun::Idle);
        };
        let id = claimed.mail.id;
        let outcome = sender.send(&claimed.mail).await;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let run = match outcome {
            Ok(()) => {
                tx.mail()?.mail_sent(id, claimed.attempt, now).await?;
                DeliveryRun::Sent(id)
            }
            Err(SendError::Transient(error))
                if claimed.attempt < self.deps.settings.job_max_attempts =>
            {
                let retry_at = now + backoff(self.deps.settings.job_retry_base, claimed.attempt);
                tx.mail()?
                    .mail_not_sent(id, claimed.attempt, &error, Some(retry_at))
                    .await?;
                tracing::warn!(mail = %id, attempt = claimed.attempt, %error, "mail not delivered; will try again");
                DeliveryRun::Retrying(id)
            }
            Err(SendError::Transient(error) | SendError::Permanent(error)) => {
                tx.mail()?
                    .mail_not_sent(id, claimed.attempt, &error, None)
                    .await?;
                tracing::error!(mail = %id, attempt = claimed.attempt, %error, "mail not delivered, for good");
                DeliveryRun::Failed(id)
            }
        };
        tx.commit().await?;
        Ok(run)
    }
}
