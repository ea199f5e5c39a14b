//! Second payments of orders already paid (docs/money.md, "Payment"): the money belongs to the
//! buyer, so a job refunds it, one Stripe refund per payment with the idempotency key
//! `extra-payment:{payment intent}`; the refund's webhook books it back out of `ExtraPayments`.

use std::collections::BTreeMap;

use marketplace_domain::ids::OrderId;
use marketplace_domain::money::Cents;
use marketplace_domain::orders::OrderEvent;
use marketplace_domain::reconcile::AnomalyKind;

use crate::ports::NewRefund;
use crate::use_cases::Deps;
use crate::use_cases::shared::booking::record_events;
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::reconciliation::refresh_flags;

/// The idempotency key of an extra payment's refund.
pub fn extra_payment_refund_key(payment_intent: &str) -> String {
    format!("extra-payment:{payment_intent}")
}

/// Refunds the unresolved second payments of `order_id`, then marks them resolved.
///
/// # Errors
/// [`JobError::Transient`] while Stripe or storage is unavailable, [`JobError::Permanent`] when
/// Stripe refuses (an owner then refunds it by hand).
pub async fn refund_extra_payments(deps: &Deps, order_id: OrderId) -> Result<(), JobError> {
    let mut tx = deps.uow.begin().await?;
    let anomalies = tx.reconciliation()?.order_anomalies(order_id).await?;
    drop(tx);
    let owed: Vec<(String, Cents)> = anomalies
        .into_iter()
        .filter(|a| a.kind == AnomalyKind::ExtraPayment && !a.resolved)
        .filter_map(|a| Some((a.reference, a.amount?)))
        .filter(|(_, amount)| amount.is_positive())
        .collect();
    if owed.is_empty() {
        return Ok(());
    }
    let mut events = Vec::new();
    let mut refunded = Vec::new();
    for (payment_intent, amount) in &owed {
        let metadata = BTreeMap::from([
            ("order_id".to_owned(), order_id.to_string()),
            ("extra_payment".to_owned(), payment_intent.clone()),
        ]);
        let refund = deps
            .payments
            .create_refund(
                &NewRefund {
                    payment_intent: payment_intent.clone(),
                    amount: *amount,
                    metadata,
                },
                &extra_payment_refund_key(payment_intent),
            )
            .await?;
        events.push(OrderEvent::warning(format!(
            "the second payment {payment_intent} was refunded automatically ({}, {amount})",
            refund.id
        )));
        refunded.push(payment_intent.as_str());
    }
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    tx.orders()?.get_order_for_update(order_id).await?;
    // Only the payments refunded here: one that arrived meanwhile has its own job run.
    for payment_intent in refunded {
        tx.reconciliation()?
            .resolve_anomalies(
                order_id,
                AnomalyKind::ExtraPayment,
                Some(payment_intent),
                now,
            )
            .await?;
    }
    record_events(tx.as_mut(), order_id, &events, now).await?;
    refresh_flags(tx.as_mut(), order_id, now).await?;
    tx.commit().await?;
    Ok(())
}
