//! Booking money facts on an order inside an open transaction: payment, refunds and disputes, and
//! the jobs they trigger. Shared by free checkout, the webhooks and the background jobs, so the
//! same fact is always booked the same way.

use marketplace_domain::ids::{JournalEntryId, OrderId};
use marketplace_domain::ledger::{
    Fact, JournalEntry, LedgerError, order_event_entry, order_paid_entry, refund_state,
};
use marketplace_domain::order::OrderStateError;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Settings;
use crate::ports::{JobKind, OrderRecord, StoreError, Tx, order_money};

/// Why booking failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The money core refused the fact (it is recorded as a warning on the order instead).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Storage failed (the whole transaction must roll back).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What booking did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booked {
    /// Appended to the journal.
    New,
    /// The fact was booked before.
    Already,
}

/// Appends an entry; a key already in the journal is not an error.
pub(crate) async fn insert_entry(
    tx: &mut dyn Tx,
    entry: &JournalEntry,
    now: OffsetDateTime,
) -> Result<Booked, StoreError> {
    match tx
        .ledger()
        .insert_entry(JournalEntryId::from_uuid(Uuid::now_v7()), entry, now)
        .await
    {
        Ok(()) => Ok(Booked::New),
        Err(e) if e.is_conflict_on("journal_entries_key_key") => Ok(Booked::Already),
        Err(e) => Err(e),
    }
}

/// Queues a job (a no-op when the same job is already queued).
pub(crate) async fn enqueue(
    tx: &mut dyn Tx,
    kind: &JobKind,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.jobs()
        .enqueue(kind, now, settings.job_max_attempts, now)
        .await
}

/// How the payment was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Payment {
    /// Nothing to pay.
    Free,
    /// Through Stripe.
    Stripe {
        /// The payment intent.
        payment_intent: Option<String>,
    },
}

/// Marks a (locked) order paid: books the order-paid entry once, updates its status (forward
/// only), and queues the payouts and the guest's e-mail. Idempotent.
pub(crate) async fn mark_paid(
    tx: &mut dyn Tx,
    order: &mut OrderRecord,
    payment: Payment,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Booked, BookingError> {
    let items = tx.orders().order_items(order.id).await?;
    let money = order_money(order, &items);
    let booked = insert_entry(tx, &order_paid_entry(&money)?, now).await?;
    match order.status.on_payment() {
        Ok(status) => order.status = status,
        Err(OrderStateError::PaymentForCanceledOrder) => {
            tx.orders()
                .add_event(
                    order.id,
                    "warning",
                    "payment received for a canceled order: booked as paid",
                    now,
                )
                .await?;
            order.status = marketplace_domain::order::OrderStatus::Paid;
        }
        Err(other) => return Err(StoreError::Unavailable(other.to_string()).into()),
    }
    order.paid_at = order.paid_at.or(Some(now));
    match &payment {
        Payment::Free => order.payment_reference = Some("FREE".to_owned()),
        Payment::Stripe { payment_intent } => {
            if order.stripe_payment_intent_id.is_none() {
                order.stripe_payment_intent_id.clone_from(payment_intent);
            }
        }
    }
    // Refunds seen before the payment still count.
    let entries = tx.ledger().order_entries(order.id).await?;
    let state = refund_state(
        &money,
        &entries.iter().map(JournalEntry::fact).collect::<Vec<_>>(),
    )?;
    order.refunded = state.refunded;
    if let Ok(status) = order.status.on_refunds(state.refunded, order.total) {
        order.status = status;
    }
    order.updated_at = now;
    tx.orders().update_order(order).await?;
    if booked == Booked::New {
        let how = match &payment {
            Payment::Free => "free checkout".to_owned(),
            Payment::Stripe { payment_intent } => {
                format!(
                    "Stripe payment {}",
                    payment_intent.as_deref().unwrap_or("(no payment intent)")
                )
            }
        };
        tx.orders()
            .add_event(order.id, "paid", &format!("paid via {how}"), now)
            .await?;
        if payment != Payment::Free && order.total.is_positive() {
            for seller in money.sellers() {
                enqueue(
                    tx,
                    &JobKind::Payout {
                        order: order.id,
                        seller,
                    },
                    settings,
                    now,
                )
                .await?;
            }
        }
        if order.guest_email.is_some() {
            enqueue(tx, &JobKind::OrderMail { order: order.id }, settings, now).await?;
        }
    }
    Ok(booked)
}

/// Books a refund, failed refund or dispute outcome on an order (locking it), and moves the order's
/// refunded amount and status forward.
pub(crate) async fn book_order_fact(
    tx: &mut dyn Tx,
    order_id: OrderId,
    fact: Fact,
    now: OffsetDateTime,
) -> Result<Booked, BookingError> {
    let Some(mut order) = tx.orders().get_order_for_update(order_id).await? else {
        return Err(StoreError::NotFound.into());
    };
    let items = tx.orders().order_items(order.id).await?;
    let money = order_money(&order, &items);
    let entries = tx.ledger().order_entries(order.id).await?;
    let key = fact.key();
    if entries.iter().any(|e| e.key() == key) {
        return Ok(Booked::Already);
    }
    let booked: Vec<&JournalEntry> = entries.iter().collect();
    let entry = order_event_entry(&money, &booked, fact)?;
    let outcome = insert_entry(tx, &entry, now).await?;
    let mut facts: Vec<&Fact> = entries.iter().map(JournalEntry::fact).collect();
    facts.push(entry.fact());
    let state = refund_state(&money, &facts)?;
    order.refunded = state.refunded;
    match order.status.on_refunds(state.refunded, order.total) {
        Ok(status) => order.status = status,
        Err(error) => {
            tx.orders()
                .add_event(order.id, "warning", &error.to_string(), now)
                .await?
        }
    }
    order.updated_at = now;
    tx.orders().update_order(&order).await?;
    let (kind, message) = describe(entry.fact());
    tx.orders().add_event(order.id, kind, &message, now).await?;
    Ok(outcome)
}

fn describe(fact: &Fact) -> (&'static str, String) {
    match fact {
        Fact::Refund {
            refund_id,
            amount,
            line,
            ..
        } => (
            "refunded",
            match line {
                Some(line) => format!("refund {refund_id} of {amount} for line {line}"),
                None => format!("refund {refund_id} of {amount}"),
            },
        ),
        Fact::RefundFailed { refund_id, .. } => (
            "warning",
            format!("refund {refund_id} failed; its money stays with the order"),
        ),
        Fact::DisputeLost {
            dispute_id,
            amount,
            fee,
            ..
        } => (
            "dispute",
            format!("dispute {dispute_id} lost: {amount} withdrawn, fee {fee}"),
        ),
        Fact::DisputeWon { dispute_id, .. } => (
            "dispute",
            format!("dispute {dispute_id} won: funds reinstated"),
        ),
        other => ("warning", format!("booked {}", other.key())),
    }
}
