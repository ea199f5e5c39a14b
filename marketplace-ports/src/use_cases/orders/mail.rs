//! The guest's paid-order e-mail (a job, queued when the order is paid): the tokenised order link
//! and the download links of its files, rendered by the mail templates into the outbox, once.

use marketplace_domain::ids::OrderId;

use crate::ports::{Mail, MailDownload, MailLine};
use crate::use_cases::Deps;
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::mail::queue_mail;

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
    let mut tx = deps.uow.begin().await?;
    // The key this mail has always had: one paid-order mail per order.
    let key = format!("order:{order_id}");
    let now = deps.clock.now();
    queue_mail(tx.as_mut(), deps, to, &mail, Some(order_id), key, now).await?;
    tx.commit().await?;
    Ok(())
}
