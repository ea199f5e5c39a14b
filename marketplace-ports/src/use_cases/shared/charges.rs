//! The charge that funds an order's transfers: Stripe names it on the payment intent
//! (`latest_charge`), and we remember it on the order once known.

use marketplace_domain::ids::OrderId;

use super::jobs::JobError;
use crate::use_cases::Deps;

/// The order's charge id, reading it from its payment intent (and remembering it) if needed.
/// `None` when the order has no payment intent yet or Stripe names no charge.
///
/// # Errors
/// [`JobError`] when storage or Stripe fail.
pub async fn charge_of(deps: &Deps, order_id: OrderId) -> Result<Option<String>, JobError> {
    let Some(order) = deps.queries.orders()?.order(order_id).await? else {
        return Ok(None);
    };
    if order.charge_id.is_some() {
        return Ok(order.charge_id.clone());
    }
    let Some(payment_intent) = order.stripe_payment_intent() else {
        return Ok(None);
    };
    let intent = deps
        .payments
        .retrieve_payment_intent(payment_intent)
        .await?;
    if let Some(charge) = &intent.latest_charge {
        let now = deps.clock.now();
        let mut tx = deps.uow.begin().await?;
        if let Some(mut order) = tx.orders()?.get_order_for_update(order_id).await?
            && order.remember_charge(charge, now)
        {
            tx.orders()?.update_order(&order).await?;
        }
        tx.commit().await?;
    }
    Ok(intent.latest_charge)
}
