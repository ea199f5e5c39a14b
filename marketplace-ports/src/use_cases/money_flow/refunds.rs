//! The refund sync job: when a `charge.refunded` event says more was refunded than the refunds it
//! lists, read the charge's refunds from Stripe and book the ones we missed (each by its id,
//! once).

use marketplace_domain::ids::OrderId;

use crate::use_cases::Deps;
use crate::use_cases::shared::booking::book_refund;
use crate::use_cases::shared::charges::charge_of;
use crate::use_cases::shared::jobs::JobError;

/// Books the refunds of `order_id`'s charge that are not booked yet.
///
/// # Errors
/// [`JobError::Transient`] while the charge is not known or Stripe is unavailable.
pub async fn sync_refunds(deps: &Deps, order_id: OrderId) -> Result<(), JobError> {
    let Some(charge) = charge_of(deps, order_id).await? else {
        return Err(JobError::Transient(format!(
            "order {order_id} has no charge yet"
        )));
    };
    let refunds = deps.payments.charge_refunds(&charge).await?;
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    for refund in &refunds {
        book_refund(tx.as_mut(), order_id, refund, deps, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
