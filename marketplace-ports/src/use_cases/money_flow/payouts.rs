//! The payout job: one seller's payout for one order (docs/money.md, "Payouts"). Decide under
//! locks, transfer with no transaction open, book the outcome. Each attempt has its own idempotency
//! key and amount; an attempt whose outcome is unknown is sent again only after looking for its
//! transfer at Stripe, because Stripe forgets idempotency keys after 24 hours.

use std::collections::BTreeMap;

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::ledger::{Fact, JournalEntry, transfer_entry};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::{Order, OrderEvent};
use marketplace_domain::payouts::{
    PayoutContext, PayoutDecision, PayoutSoFar, PayoutStatus, SellerReadiness, SkipReason,
    payout_idempotency_key, plan_payout,
};
use marketplace_domain::reconcile::Anomaly;
use time::OffsetDateTime;

use crate::ports::{NewTransfer, PaymentError, PayoutRecord, StoreError, Transfer, Tx};
use crate::use_cases::Deps;
use crate::use_cases::shared::booking::{Booked, insert_entry, record_events};
use crate::use_cases::shared::charges::charge_of;
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::reconciliation::refresh_flags;
use crate::use_cases::shared::recovery::balance_as_payouts_see_it;

/// How long after its last change a pending attempt can have no request under way (Stripe calls
/// time out in seconds, a job's lease is five minutes).
const QUIET_AFTER: time::Duration = time::Duration::minutes(10);

/// The metadata key naming a transfer's payout attempt (transfers of the first attempt made before
/// it existed carry none).
const ATTEMPT_METADATA: &str = "payout_attempt";

/// Pays (or skips) `seller` for `order_id`.
///
/// # Errors
/// [`JobError::Transient`] when it is worth retrying (storage, Stripe unavailable, no charge
/// known yet), [`JobError::Permanent`] otherwise.
pub async fn run_payout(deps: &Deps, order_id: OrderId, seller: UserId) -> Result<(), JobError> {
    let now = deps.clock.now();
    // 1. Decide under locks: the order (serialises with refunds), the seller's balance
    //    (serialises the seller's payouts) and the payout record.
    let mut tx = deps.uow.begin().await?;
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Err(JobError::Permanent(format!(
            "order {order_id} does not exist"
        )));
    };
    // Only once the payment is confirmed (a refund seen before the payment event moves the status
    // but funds nothing), and never for a free checkout.
    if order.paid_at.is_none() || order.paid_free() {
        return Ok(());
    }
    let entries = tx.ledger()?.order_entries(order_id).await?;
    let facts: Vec<&Fact> = entries.iter().map(JournalEntry::fact).collect();
    let status = tx
        .connect()?
        .get_connect(seller)
        .await?
        .map(|c| c.status)
        .unwrap_or_default();
    let balance = tx
        .ledger()?
        .lock_seller_balance(seller, order.currency)
        .await?;
    let seller_balance = balance_as_payouts_see_it(tx.as_mut(), seller, balance, &order).await?;
    let existing = tx
        .payouts()?
        .get_payout_for_update(order_id, seller)
        .await?;
    let so_far = existing.as_ref().map(|p| PayoutSoFar {
        status: p.status.clone(),
        attempts: p.attempts,
    });
    // When the record last changed: an attempt untouched this long has no request under way.
    let quiet = existing
        .as_ref()
        .is_some_and(|p| now - p.updated_at > QUIET_AFTER);
    // An unresolved charge mismatch holds the payouts; an open dispute does by the facts.
    let anomalies = tx.reconciliation()?.order_anomalies(order_id).await?;
    let context = PayoutContext::new(
        &order.money(),
        &facts,
        seller,
        SellerReadiness::from_ready(status.is_ready()),
        seller_balance,
        so_far,
    )?
    .held(anomalies.iter().any(Anomaly::holds_payouts));
    let still_owed = context.order_owes().min(seller_balance);
    let (amount, attempt, resend) = match plan_payout(&context) {
        PayoutDecision::AlreadyPaid { .. } => return Ok(()),
        PayoutDecision::Skip(reason) => {
            let unchanged = existing
                .as_ref()
                .is_some_and(|p| p.status == PayoutStatus::Skipped(reason));
            let attempts = existing.as_ref().map_or(0, |p| p.attempts);
            let skipped = PayoutStatus::Skipped(reason);
            let write = PayoutWrite {
                status: skipped,
                attempts,
                last_error: None,
            };
            write_payout(tx.as_mut(), existing, (order_id, seller), write, now).await?;
            if !unchanged {
                let why = match reason {
                    SkipReason::SellerNotReady => "the seller is not ready",
                    SkipReason::NothingOwed => {
                        "nothing is owed now (netted against the seller's balance, or refunded)"
                    }
                    SkipReason::OnHold => "the order's payouts are on hold",
                };
                let event = OrderEvent::transfer_skipped(seller, why);
                record_events(tx.as_mut(), order_id, &[event], now).await?;
            }
            refresh_flags(tx.as_mut(), order_id, now).await?;
            tx.commit().await?;
            return Ok(());
        }
        PayoutDecision::Transfer {
            amount,
            attempt,
            resend,
        } => (amount, attempt, resend),
    };
    let pending = PayoutStatus::Pending { amount };
    let write = PayoutWrite {
        status: pending,
        attempts: attempt,
        last_error: None,
    };
    write_payout(tx.as_mut(), existing, (order_id, seller), write, now).await?;
    refresh_flags(tx.as_mut(), order_id, now).await?;
    tx.commit().await?;

    // 2. Talk to Stripe with no transaction open.
    let found = if resend {
        find_attempt(deps, &order, seller, attempt).await?
    } else {
        None
    };
    // An attempt of unknown outcome that Stripe does not have, with no request of it under way,
    // is not sent again for more than the order owes now: it is abandoned and decided afresh.
    let abandon = resend && found.is_none() && quiet && amount > still_owed;
    let result = match found {
        Some(found) => Ok(found),
        None if abandon => Err(PaymentError::Rejected {
            code: "attempt_abandoned".to_owned(),
            message: format!(
                "attempt {attempt} of {amount} is not at Stripe and the order owes {still_owed} now"
            ),
        }),
        None => match send_transfer(deps, &order, seller, amount, attempt, &status).await? {
            // A refusal may answer a retry of a request Stripe did carry out but whose answer was
            // lost (once it forgot the key, the same request can be refused for want of funds):
            // only a refusal with no transfer of this attempt at Stripe means none was made.
            Err(refused) if !refused.is_transient() => {
                match find_attempt(deps, &order, seller, attempt).await? {
                    Some(found) => Ok(found),
                    None => Err(refused),
                }
            }
            answer => answer,
        },
    };

    // 3. Book the outcome, locking in the same order as the decision: the order, the seller's
    //    balance, then the payout record.
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    tx.orders()?.get_order_for_update(order_id).await?;
    tx.ledger()?
        .lock_seller_balance(seller, order.currency)
        .await?;
    let existing = tx
        .payouts()?
        .get_payout_for_update(order_id, seller)
        .await?;
    // Another run of the same payout may have booked this attempt meanwhile (a job queued again
    // while this one waited for Stripe): then the record is no longer this attempt's to write.
    let ours = existing
        .as_ref()
        .is_some_and(|p| p.attempts == attempt && p.status == PayoutStatus::Pending { amount });
    match result {
        Ok(transfer) => {
            let entry = transfer_entry(
                &transfer.id,
                Some(order_id),
                seller,
                transfer.amount,
                order.currency,
            )?;
            // The money moved: its entry is booked whoever writes the record (once, by its key).
            if insert_entry(tx.as_mut(), &entry, now).await? == Booked::New {
                let event = OrderEvent::transfer_created(&transfer.id, transfer.amount, seller);
                record_events(tx.as_mut(), order_id, &[event], now).await?;
            }
            if ours {
                let paid = PayoutStatus::Paid {
                    amount: transfer.amount,
                    transfer_id: transfer.id.clone(),
                };
                let write = PayoutWrite {
                    status: paid,
                    attempts: attempt,
                    last_error: None,
                };
                write_payout(tx.as_mut(), existing, (order_id, seller), write, now).await?;
            }
            refresh_flags(tx.as_mut(), order_id, now).await?;
            tx.commit().await?;
            Ok(())
        }
        Err(error) if !ours => {
            // Settled by another run: this answer changes nothing.
            drop(tx);
            tracing::info!(%order_id, %seller, %error, "a stale payout run's error is ignored");
            Ok(())
        }
        Err(error) => {
            // A transient error leaves the outcome unknown: the attempt stays pending and is sent
            // again as it was. A refusal means no transfer was made: the next run decides afresh.
            let status = if error.is_transient() {
                PayoutStatus::Pending { amount }
            } else {
                PayoutStatus::Failed { amount }
            };
            let write = PayoutWrite {
                status,
                attempts: attempt,
                last_error: Some(error.to_string()),
            };
            write_payout(tx.as_mut(), existing, (order_id, seller), write, now).await?;
            let event = OrderEvent::transfer_failed(seller, &error);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            refresh_flags(tx.as_mut(), order_id, now).await?;
            tx.commit().await?;
            if abandon {
                // Decided afresh on the job's next run.
                return Err(JobError::Transient(error.to_string()));
            }
            Err(error.into())
        }
    }
}

/// Sends attempt `attempt` of the payout: funded by the order's own charge (never the platform's
/// balance), grouped by the order, with metadata naming the order, the seller and the attempt.
/// The outer error is the job's (no charge known yet, no connected account); the inner one is
/// Stripe's answer.
async fn send_transfer(
    deps: &Deps,
    order: &Order,
    seller: UserId,
    amount: Cents,
    attempt: u32,
    status: &marketplace_domain::connect::ConnectStatus,
) -> Result<Result<Transfer, PaymentError>, JobError> {
    let destination = status
        .stripe_account_id
        .clone()
        .ok_or_else(|| JobError::Permanent("the seller has no connected account".to_owned()))?;
    let charge = charge_of(deps, order.id).await?.ok_or_else(|| {
        JobError::Transient(format!("the charge of order {} is not known yet", order.id))
    })?;
    let mut metadata = BTreeMap::new();
    metadata.insert("order_id".to_owned(), order.id.to_string());
    metadata.insert("seller_id".to_owned(), seller.to_string());
    metadata.insert(ATTEMPT_METADATA.to_owned(), attempt.to_string());
    let request = NewTransfer {
        amount,
        currency: order.currency,
        destination,
        source_transaction: Some(charge),
        transfer_group: order.id.to_string(),
        metadata,
    };
    Ok(deps
        .payments
        .create_transfer(&request, &payout_idempotency_key(order.id, seller, attempt))
        .await)
}

/// The transfer an earlier send of attempt `attempt` created, if Stripe has one: listed by the
/// order's transfer group, with metadata naming this seller and attempt.
///
/// # Errors
/// [`JobError::Transient`] when Stripe cannot be asked now (the attempt stays pending).
async fn find_attempt(
    deps: &Deps,
    order: &Order,
    seller: UserId,
    attempt: u32,
) -> Result<Option<Transfer>, JobError> {
    let listed = deps
        .payments
        .transfers_of_group(&order.id.to_string())
        .await
        .map_err(|e| JobError::Transient(format!("looking for an earlier transfer: {e}")))?;
    let order_id = order.id.to_string();
    let seller_id = seller.to_string();
    Ok(listed
        .into_iter()
        .find(|t| {
            let named = |key: &str| t.metadata.get(key).map(String::as_str);
            named("order_id") == Some(order_id.as_str())
                && named("seller_id") == Some(seller_id.as_str())
                && named(ATTEMPT_METADATA).map_or(attempt == 1, |a| a == attempt.to_string())
        })
        .map(|t| Transfer {
            id: t.id,
            amount: t.amount,
        }))
}

/// The state a payout record is written with.
struct PayoutWrite {
    status: PayoutStatus,
    attempts: u32,
    last_error: Option<String>,
}

/// Writes the payout record of (order, seller): updates it, or creates it on the first decision.
async fn write_payout(
    tx: &mut dyn Tx,
    existing: Option<PayoutRecord>,
    (order_id, seller_id): (OrderId, UserId),
    write: PayoutWrite,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let PayoutWrite {
        status,
        attempts,
        last_error,
    } = write;
    match existing {
        Some(record) => {
            let record = PayoutRecord {
                status,
                attempts,
                last_error,
                updated_at: now,
                ..record
            };
            tx.payouts()?.update_payout(&record).await
        }
        None => {
            let record = PayoutRecord {
                order_id,
                seller_id,
                status,
                attempts,
                last_error,
                created_at: now,
                updated_at: now,
            };
            tx.payouts()?.insert_payout(&record).await
        }
    }
}
