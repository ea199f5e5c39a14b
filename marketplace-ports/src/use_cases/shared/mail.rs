//! Writing a rendered mail into the outbox, in the caller's transaction.

use marketplace_domain::ids::{MailId, OrderId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{Mail, MailRecord, MailStatus, StoreError, Tx};
use crate::use_cases::Deps;

/// Renders `mail` for `to` and queues it, at most once per `dedupe_key`.
///
/// # Errors
/// Storage failures.
pub async fn queue_mail(
    tx: &mut dyn Tx,
    deps: &Deps,
    to: String,
    mail: &Mail,
    order_id: Option<OrderId>,
    dedupe_key: String,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let rendered = deps.mail.render(mail);
    let record = MailRecord {
        id: MailId::from_uuid(Uuid::now_v7()),
        to,
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: MailStatus::Queued,
        order_id,
        dedupe_key: Some(dedupe_key),
        created_at: now,
    };
    tx.mail()?.insert_mail(&record).await?;
    Ok(())
}
