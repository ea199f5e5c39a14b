//! The payout job: one seller's payout for one order (docs/money.md, "Payouts"). Decide under
//! locks, transfer with no transaction open, book the outcome. The idempotency key
//! `payout:{order}:{seller}` is the same on every attempt, so Stripe makes at most one transfer.

use std::collections::BTreeMap;

use marketplace_domain::ids::{OrderId, UserId};
use marketplace_domain::ledger::{Fact, JournalEntry, transfer_entry};
use marketplace_domain::orders::OrderEvent;
use marketplace_domain::payouts::{
    PayoutContext, PayoutDecision, PayoutStatus, SkipReason, payout_idempotency_key, plan_payout,
};
use time::OffsetDateTime;

use crate::ports::{NewTransfer, PayoutRecord, StoreError, Tx};
use crate::use_cases::Deps;
use crate::use_cases::shared::booking::{insert_entry, record_events};
use crate::use_cases::shared::charges::charge_of;
use crate::use_cases::shared::jobs::JobError;
use crate::use_cases::shared::recovery::balance_as_payouts_see_it;

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
    if !order.status.was_paid() || order.paid_free() {
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
    let context = PayoutContext::new(
        &order.money(),
        &facts,
        seller,
        status.is_ready(),
        seller_balance,
        existing.as_ref().map(|p| p.status.clone()),
    )?;
    let amount = match plan_payout(&context) {
        PayoutDecision::AlreadyPaid { .. } => return Ok(()),
        PayoutDecision::Skip(reason) => {
            let skipped = PayoutStatus::Skipped(reason);
            write_payout(tx.as_mut(), existing, order_id, seller, skipped, None, now).await?;
            let why = match reason {
                SkipReason::SellerNotReady => "the seller is not ready",
                SkipReason::NothingOwed => "nothing is owed (netted against the seller's balance)",
            };
            let event = OrderEvent::transfer_skipped(seller, why);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            tx.commit().await?;
            return Ok(());
        }
        PayoutDecision::Transfer { amount } => amount,
    };
    let pending = PayoutStatus::Pending { amount };
    write_payout(tx.as_mut(), existing, order_id, seller, pending, None, now).await?;
    tx.commit().await?;

    // 2. Talk to Stripe with no transaction open.
    let destination = status
        .stripe_account_id
        .clone()
        .ok_or_else(|| JobError::Permanent("the seller has no connected account".to_owned()))?;
    // Transfers are funded by the order's own charge (never the platform's balance).
    let charge = charge_of(deps, order_id).await?.ok_or_else(|| {
        JobError::Transient(format!("the charge of order {order_id} is not known yet"))
    })?;
    let mut metadata = BTreeMap::new();
    metadata.insert("order_id".to_owned(), order_id.to_string());
    metadata.insert("seller_id".to_owned(), seller.to_string());
    let request = NewTransfer {
        amount,
        currency: order.currency,
        destination,
        source_transaction: Some(charge),
        transfer_group: order_id.to_string(),
        metadata,
    };
    let result = deps
        .payments
        .create_transfer(&request, &payout_idempotency_key(order_id, seller))
        .await;

    // 3. Book the outcome.
    let now = deps.clock.now();
    let mut tx = deps.uow.begin().await?;
    let existing = tx
        .payouts()?
        .get_payout_for_update(order_id, seller)
        .await?;
    match result {
        Ok(transfer) => {
            let entry = transfer_entry(
                &transfer.id,
                Some(order_id),
                seller,
                transfer.amount,
                order.currency,
            )?;
            insert_entry(tx.as_mut(), &entry, now).await?;
            let paid = PayoutStatus::Paid {
                amount: transfer.amount,
                transfer_id: transfer.id.clone(),
            };
            write_payout(tx.as_mut(), existing, order_id, seller, paid, None, now).await?;
            let event = OrderEvent::transfer_created(&transfer.id, transfer.amount, seller);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            tx.commit().await?;
            Ok(())
        }
        Err(error) => {
            let failed = PayoutStatus::Failed { amount };
            let message = Some(error.to_string());
            write_payout(
                tx.as_mut(),
                existing,
                order_id,
                seller,
                failed,
                message,
                now,
            )
            .await?;
            let event = OrderEvent::transfer_failed(seller, &error);
            record_events(tx.as_mut(), order_id, &[event], now).await?;
            tx.commit().await?;
            Err(error.into())
        }
    }
}

/// Writes the payout record of (order, seller): updates it, or creates it on the first decision.
async fn write_payout(
    tx: &mut dyn Tx,
    existing: Option<PayoutRecord>,
    order_id: OrderId,
    seller_id: UserId,
    status: PayoutStatus,
    last_error: Option<String>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match existing {
        Some(record) => {
            let record = PayoutRecord {
                status,
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
                last_error,
                created_at: now,
                updated_at: now,
            };
            tx.payouts()?.insert_payout(&record).await
        }
    }
}
