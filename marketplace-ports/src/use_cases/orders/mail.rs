//! The guest's paid-order e-mail (a job, queued when the order is paid): the tokenised order link
//! and the download links of its files, rendered by the mail templates into the outbox, once.

use marketplace_domain::ids::{MailId, OrderId};
use uuid::Uuid;

use crate::ports::{Mail, MailDownload, MailLine, MailRecord, MailStatus};
use crate::use_cases::Deps;
use crate::use_cases::shared::jobs::JobError;

/// Writes the paid-order e-mail of a guest order to the outbox (nothing for registered buyers).
///
/// # Errors
/// [`JobError::Permanent`] for an unknown order; storage failures are transient.
pub async fn send_order_mail(deps: &Deps, order_id: OrderId) -> Result<(), JobError> {
    let orders = deps.queries.orders()?;
    let Some(order) = orders.order(order_id).await? else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    let Some(to) = order.guest_email.clone() else {
        return Ok(());
    };
    let token = order.guest_token();
    let downloads = orders
        .order_assets(order_id)
        .await?
        .into_iter()
        .map(|asset| MailDownload {
            url: deps.links.download(order_id, asset.id, token),
            file_name: asset.original_filename,
        })
        .collect();
    let mail = Mail::OrderPaid {
        order_id,
        order_url: deps.links.order_page(order_id, token),
        lines: order
            .lines()
            .iter()
            .map(|line| MailLine {
                quantity: line.quantity,
                title: line.title.clone(),
                gross: line.gross,
            })
            .collect(),
        currency: order.currency,
        downloads,
    };
    let rendered = deps.mail.render(&mail);
    let record = MailRecord {
        id: MailId::from_uuid(Uuid::now_v7()),
        to,
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: MailStatus::Queued,
        order_id: Some(order_id),
        // The key this mail has always had: one paid-order mail per order.
        dedupe_key: Some(format!("order:{order_id}")),
        created_at: deps.clock.now(),
    };
    let mut tx = deps.uow.begin().await?;
    tx.mail()?.insert_mail(&record).await?;
    tx.commit().await?;
    Ok(())
}
