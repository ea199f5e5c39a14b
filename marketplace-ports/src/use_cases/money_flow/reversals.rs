//! The transfer reversal job: takes back from a seller what refunds after their payout made them
//! owe for one order (docs/money.md, "Transfer reversals"). Decide under locks, reverse the
//! transfer with no transaction open, book the outcome. A reversal Stripe refuses is recorded as
//! refused and leaves the debt to be netted against later payouts.

use marketplace_domain::ids::{OrderId, ReversalId, UserId};
use marketplace_domain::ledger::transfer_reversal_entry;
use marketplace_domain::orders::OrderEvent;
use marketplace_domain::payouts::{ReversalStatus, SkipReason, reversal_idempotency_key};
use uuid::Uuid;

use crate::ports::ReversalRecord;
use crate::use_cases::Deps;
use crate::use_cases::shared::booking::{insert_entry, record_events};
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::reconciliation::refresh_flags;
use crate::use_cases::shared::recovery::{Recovery, recoverable};
use crate::use_cases::shared::sellers::queue_payouts_in_order;

/// Reverses (part of) `seller`'s payout transfer for `order_id`, if they owe anything back.
///
/// # Errors
/// [`JobError::Transient`] when it is worth retrying (with the same amount and key),
/// [`JobError::Permanent`] otherwise.
pub async fn run_reversal(deps: &Deps, order_id: OrderId, seller: UserId) -> Result<(), JobError> {
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    let pending = tx
        .reversals()?
        .pending_reversal_for_update(order_id, seller)
        .await?;
    let reversal = match pending {
        // An earlier attempt's outcome is unknown: the same amount under the same key.
        Some(pending) => pending,
        None => match recoverable(tx.as_mut(), &order, seller).await? {
            Recovery::Recover {
                transfer_id,
                amount,
            } => {
                let record = ReversalRecord {
                    id: ReversalId::from_uuid(Uuid::now_v7()),
                    order_id,
                    seller_id: seller,
                    transfer_id,
                    amount,
                    currency: order.currency,
                    status: ReversalStatus::Pending,
                    last_error: None,
                    created_at: now,
                    updated_at: now,
                };
                tx.reversals()?.insert_reversal(&record).await?;
                record
            }
            Recovery::NotPaidOut | Recovery::NothingOwed => {
                let event = OrderEvent::reversal_skipped(seller);
                record_events(tx.as_mut(), order_id, &[event], now).await?;
                tx.commit().await?;
                return Ok(());
            }
        },
    };
    tx.commit().await?;

    let result = deps
        .payments
        .create_transfer_reversal(
            &reversal.transfer_id,
            reversal.amount,
            &reversal_idempotency_key(reversal.id),
        )
        .await;

    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    // The order first, like every transaction that moves money on it (docs/money.md, "Payouts").
    tx.orders()?.get_order_for_update(order_id).await?;
    let mut record = reversal;
    record.updated_at = now;
    let outcome = match result {
        Ok(reversed) => {
            let entry = transfer_reversal_entry(
                &reversed.id,
                Some(order_id),
                seller,
                reversed.amount,
                record.currency,
            )?;
            insert_entry(tx.as_mut(), &entry, now).await?;
            let event = OrderEvent::transfer_reversed(&reversed.id, reversed.amount, seller);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            // The seller's balance rose: this order's payout (a refund may have failed since) and
            // their payouts netted to nothing may be owed now.
            let netted = tx
                .payouts()?
                .skipped_payouts(seller, SkipReason::NothingOwed)
                .await?;
            let payouts =
                std::iter::once((order_id, seller)).chain(netted.into_iter().map(|o| (o, seller)));
            queue_payouts_in_order(tx.as_mut(), payouts, &deps.settings, now).await?;
            record.reversed(reversed.id, reversed.amount);
            Ok(())
        }
        Err(error) if error.is_transient() => {
            record.failed_for_now(error.to_string());
            Err(JobError::Transient(error.to_string()))
        }
        Err(error) => {
            let event = OrderEvent::reversal_refused(record.amount, seller, &error);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            record.refused(error.to_string());
            Ok(())
        }
    };
    tx.reversals()?.update_reversal(&record).await?;
    refresh_flags(tx.as_mut(), order_id, now).await?;
    tx.commit().await?;
    outcome
}
