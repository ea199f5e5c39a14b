//! Booking money facts on an order inside an open transaction: payment, refunds and disputes, and
//! the jobs they trigger. Free checkout, the webhooks and the background jobs all book through
//! here, so the same fact is always booked the same way. The rules themselves are the domain's
//! ([`Order::apply_payment`], [`Order::apply_money_event`]); this module loads, persists and
//! queues.

use marketplace_domain::engagement::day_of;
use marketplace_domain::ids::{JournalEntryId, OrderId, OrderItemId};
use marketplace_domain::ledger::{
    EntryKey, Fact, JournalEntry, LedgerError, extra_payment_refund_entry,
    extra_payment_refund_failed_entry,
};
use marketplace_domain::money::Cents;
use marketplace_domain::notifications::NotificationKind;
use marketplace_domain::orders::{Order, OrderChange, OrderEvent, Payment};
use marketplace_domain::payouts::SkipReason;
use marketplace_domain::reconcile::{Anomaly, AnomalyKind};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::{JobKind, RefundData, RefundStatus, StoreError, Tx};
use crate::use_cases::shared::entitlements::{grant_entitlements, sync_revocations};
use crate::use_cases::shared::notifications::{Notice, notify};
use crate::use_cases::shared::reconciliation::refresh_flags;
use crate::use_cases::shared::refund_requests::apply_refund_outcome;
use crate::use_cases::shared::sellers::queue_payouts_in_order;
use crate::use_cases::{Deps, Settings};

/// Why booking failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The money core refused the fact.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Storage failed (the whole transaction must roll back).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a fact was booked now or before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booked {
    /// Appended to the journal.
    New,
    /// The fact was booked before.
    Already,
}

/// Appends an entry; a key already in the journal (a replay) is not an error.
///
/// # Errors
/// Storage failures.
pub async fn insert_entry(
    tx: &mut dyn Tx,
    entry: &JournalEntry,
    now: OffsetDateTime,
) -> Result<Booked, StoreError> {
    match tx
        .ledger()?
        .insert_entry(JournalEntryId::from_uuid(Uuid::now_v7()), entry, now)
        .await
    {
        Ok(()) => Ok(Booked::New),
        Err(e) if e.is_conflict_on("journal_entries_key_key") => Ok(Booked::Already),
        Err(e) => Err(e),
    }
}

/// Queues a job (a no-op when the same job is queued already).
///
/// # Errors
/// Storage failures.
pub async fn enqueue(
    tx: &mut dyn Tx,
    kind: &JobKind,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.jobs()?
        .enqueue(kind, now, settings.job_max_attempts, now)
        .await
}

/// Appends events to an order's history.
///
/// # Errors
/// Storage failures.
pub async fn record_events(
    tx: &mut dyn Tx,
    order: OrderId,
    events: &[OrderEvent],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    tx.orders()?.add_events(order, events, now).await
}

/// Persists an order after a change: the order itself, the change's entry, its events and its
/// anomalies, then brings the order's reconciliation flags up to date.
///
/// # Errors
/// Storage failures.
pub async fn persist(
    tx: &mut dyn Tx,
    order: &Order,
    change: &OrderChange,
    now: OffsetDateTime,
) -> Result<Booked, StoreError> {
    let booked = match &change.entry {
        Some(entry) => insert_entry(tx, entry, now).await?,
        None => Booked::Already,
    };
    if let (Some(entry), Booked::Already) = (&change.entry, booked) {
        // The order had not booked it, yet the journal has its key: another order booked the
        // same Stripe object. Nothing of it is applied here.
        let warning = OrderEvent::warning(format!(
            "{} was booked on another order already: not applied to this one",
            entry.key()
        ));
        record_events(tx, order.id, &[warning], now).await?;
        return Ok(Booked::Already);
    }
    tx.orders()?.update_order(order).await?;
    record_events(tx, order.id, &change.events, now).await?;
    if !change.anomalies.is_empty() {
        tx.reconciliation()?
            .record_anomalies(order.id, &change.anomalies, now)
            .await?;
    }
    refresh_flags(tx, order.id, now).await?;
    Ok(booked)
}

/// What a newly paid order needs: its digital entitlements, its lines counted in the daily sales,
/// a payout per seller (unless nothing was charged), the guest's e-mail, and a sale notification
/// for each seller.
///
/// # Errors
/// Storage failures.
pub async fn after_payment(
    tx: &mut dyn Tx,
    order: &Order,
    deps: &Deps,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let settings = &deps.settings;
    let entries = tx.ledger()?.order_entries(order.id).await?;
    grant_entitlements(tx, order, &entries, now).await?;
    tx.engagement()?
        .count_sales(day_of(now), order.lines())
        .await?;
    queue_payouts(tx, order, settings, now).await?;
    if order.guest_email.is_some() {
        enqueue(tx, &JobKind::OrderMail { order: order.id }, settings, now).await?;
    }
    for seller in order.sellers() {
        let items: Vec<String> = order
            .lines()
            .iter()
            .filter(|line| line.seller_id == seller)
            .map(|line| format!("{} × {}", line.quantity, line.title))
            .collect();
        let notice = Notice {
            user: seller,
            kind: NotificationKind::Sale,
            subject: order.id.get(),
            title: "You made a sale".to_owned(),
            body: format!("Order {} was paid: {}.", order.id, items.join(", ")),
        };
        notify(tx, deps, notice, None, now).await?;
    }
    Ok(())
}

/// Queues a payout job per seller of an order that was charged (none for free checkouts).
///
/// # Errors
/// Storage failures.
pub async fn queue_payouts(
    tx: &mut dyn Tx,
    order: &Order,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if order.paid_free() || !order.total.is_positive() {
        return Ok(());
    }
    for seller in order.sellers() {
        let payout = JobKind::Payout {
            order: order.id,
            seller,
        };
        enqueue(tx, &payout, settings, now).await?;
    }
    Ok(())
}

/// Marks a (locked) order paid: books the order-paid entry once, moves its status forward, and the
/// first time queues its payouts and the guest's e-mail and grants its digital entitlements.
/// Idempotent.
///
/// # Errors
/// [`BookingError::Ledger`] when the money core refuses (nothing changed then).
pub async fn mark_paid(
    tx: &mut dyn Tx,
    order: &mut Order,
    payment: &Payment,
    deps: &Deps,
    now: OffsetDateTime,
) -> Result<Booked, BookingError> {
    let booked = tx.ledger()?.order_entries(order.id).await?;
    let change = order.apply_payment(payment, &booked, now)?;
    let outcome = persist(tx, order, &change, now).await?;
    if change.booked_something() {
        after_payment(tx, order, deps, now).await?;
    }
    Ok(outcome)
}

/// An order locked for booking, with the entries booked on it so far: loaded once per fact, and
/// read by every check before the fact is applied.
pub struct LockedBooks {
    /// The order, locked for the transaction.
    pub order: Order,
    /// Its journal entries.
    pub entries: Vec<JournalEntry>,
}

/// Locks an order and loads its entries; `None` for an unknown order.
///
/// # Errors
/// Storage failures.
pub async fn lock_books(
    tx: &mut dyn Tx,
    order_id: OrderId,
) -> Result<Option<LockedBooks>, StoreError> {
    let Some(order) = tx.orders()?.get_order_for_update(order_id).await? else {
        return Ok(None);
    };
    let entries = tx.ledger()?.order_entries(order_id).await?;
    Ok(Some(LockedBooks { order, entries }))
}

/// Books a refund, failed refund, dispute or dispute outcome on a locked order, sets its refunded
/// amount and status from the refunds that stand, revokes or gives back its files, and, for a
/// paid order, queues its sellers'
/// payouts again (with their payouts netted to nothing on other orders): a failed refund or a won
/// dispute may make an order owe them more, and the payout job decides afresh (a paid payout is
/// only topped up by what its order still owes).
///
/// # Errors
/// [`BookingError::Ledger`] when the money core refuses the fact (nothing changed then).
pub async fn book_order_fact(
    tx: &mut dyn Tx,
    books: LockedBooks,
    fact: Fact,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Booked, BookingError> {
    let LockedBooks {
        mut order,
        mut entries,
    } = books;
    let change = order.apply_money_event(fact, &entries, now)?;
    if !change.booked_something() {
        return Ok(Booked::Already);
    }
    let booked = persist(tx, &order, &change, now).await?;
    if let (Booked::New, Some(entry)) = (booked, &change.entry) {
        entries.push(entry.clone());
        sync_revocations(tx, &order, &entries, now).await?;
    }
    if order.paid_at.is_some() && !order.paid_free() && booked == Booked::New {
        // This order's payouts, and, since its sellers' balances may have risen, their payouts
        // netted to nothing on other orders: all decided again, queued in one order.
        let mut payouts = Vec::new();
        for seller in order.sellers() {
            payouts.push((order.id, seller));
            let netted = tx
                .payouts()?
                .skipped_payouts(seller, SkipReason::NothingOwed)
                .await?;
            payouts.extend(netted.into_iter().map(|o| (o, seller)));
        }
        queue_payouts_in_order(tx, payouts, settings, now).await?;
    }
    Ok(booked)
}

/// Books an order fact on a locked order; the money core's refusals become warnings on the order
/// (the event that carried it is still acknowledged), storage failures propagate. Returns what
/// was booked, if anything.
///
/// # Errors
/// Storage failures.
pub async fn book(
    tx: &mut dyn Tx,
    books: LockedBooks,
    fact: Fact,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Option<EntryKey>, StoreError> {
    let key = fact.key();
    let order_id = books.order.id;
    match book_order_fact(tx, books, fact, settings, now).await {
        Ok(Booked::New) => Ok(Some(key)),
        Ok(Booked::Already) => Ok(None),
        Err(BookingError::Store(e)) => Err(e),
        Err(BookingError::Ledger(e)) => {
            record_events(tx, order_id, &[OrderEvent::not_booked(&key, &e)], now).await?;
            Ok(None)
        }
    }
}

/// A refund of a second payment the order received (booked as the buyer's money) leaves
/// `ExtraPayments`, not the order's lines. `None` when the refund is not one of those.
///
/// # Errors
/// Storage failures.
async fn book_extra_payment_refund(
    tx: &mut dyn Tx,
    books: &LockedBooks,
    refund: &RefundData,
    now: OffsetDateTime,
) -> Result<Option<Option<EntryKey>>, StoreError> {
    let Some(intent) = refund.payment_intent.as_deref() else {
        return Ok(None);
    };
    let LockedBooks { order, entries } = books;
    let order_id = order.id;
    let extra = format!("extra_payment:{intent}");
    if !entries.iter().any(|e| e.key().as_str() == extra) {
        return Ok(None);
    }
    let failed_key = format!("extra_payment_refund_failed:{}", refund.id);
    if entries.iter().any(|e| e.key().as_str() == failed_key) {
        // It failed already: a late "succeeded" books nothing.
        return Ok(Some(None));
    }
    let entry = match &refund.status {
        RefundStatus::Succeeded => {
            extra_payment_refund_entry(order_id, &refund.id, refund.amount, order.currency)
        }
        RefundStatus::Failed | RefundStatus::Canceled => {
            // Undo what its success booked (nothing if it was not booked), and flag the payment
            // for an owner again: the buyer's money is back with us.
            let refunded_key = format!("extra_payment_refund:{}", refund.id);
            let booked = entries
                .iter()
                .find(|e| e.key().as_str() == refunded_key)
                .map_or(Cents::ZERO, |e| match e.fact() {
                    Fact::ExtraPaymentRefund { amount, .. } => *amount,
                    _ => Cents::ZERO,
                });
            tx.reconciliation()?
                .reopen_anomaly(order_id, AnomalyKind::ExtraPayment, intent)
                .await?;
            extra_payment_refund_failed_entry(order_id, &refund.id, booked, order.currency)
        }
        RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Other(_) => {
            return Ok(Some(None));
        }
    };
    let entry = match entry {
        Ok(entry) => entry,
        Err(error) => {
            let warning = OrderEvent::warning(format!(
                "the refund {} of the second payment {intent} was not booked: {error}",
                refund.id
            ));
            record_events(tx, order_id, &[warning], now).await?;
            return Ok(Some(None));
        }
    };
    let key = entry.key();
    Ok(Some(match insert_entry(tx, &entry, now).await? {
        Booked::New => {
            record_events(tx, order_id, &[OrderEvent::booked(entry.fact())], now).await?;
            refresh_flags(tx, order_id, now).await?;
            Some(key)
        }
        Booked::Already => None,
    }))
}

/// A money fact in another currency than its order's is recorded as an anomaly and a warning,
/// never booked (its amount cannot be added to the order's). Returns whether that happened.
///
/// # Errors
/// Storage failures.
pub async fn refuse_other_currency(
    tx: &mut dyn Tx,
    order: &Order,
    reference: &str,
    amount: Cents,
    currency: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let Some(currency) = currency else {
        return Ok(false);
    };
    let order_id = order.id;
    if currency.eq_ignore_ascii_case(order.currency.as_str()) {
        return Ok(false);
    }
    let anomaly = Anomaly {
        kind: AnomalyKind::CurrencyMismatch,
        reference: reference.to_owned(),
        amount: Some(amount),
        currency: Some(currency.to_owned()),
        resolved: false,
    };
    tx.reconciliation()?
        .record_anomalies(order_id, &[anomaly], now)
        .await?;
    let warning = OrderEvent::warning(format!(
        "{reference} is in {currency}, the order in {}: recorded, not booked",
        order.currency
    ));
    record_events(tx, order_id, &[warning], now).await?;
    refresh_flags(tx, order_id, now).await?;
    Ok(true)
}

/// Books a Stripe refund by its id once, whatever event carries it: a succeeded refund is booked
/// against the line its metadata names (else spread over the order), a failed or canceled one
/// cancels it, a pending one waits for its update. The refund request it names, if any, learns
/// the outcome. Returns what was booked, if anything.
///
/// # Errors
/// Storage failures.
pub async fn book_refund(
    tx: &mut dyn Tx,
    order_id: OrderId,
    refund: &RefundData,
    deps: &Deps,
    now: OffsetDateTime,
) -> Result<Option<EntryKey>, StoreError> {
    let settings = &deps.settings;
    let Some(books) = lock_books(tx, order_id).await? else {
        return Ok(None);
    };
    apply_refund_outcome(tx, deps, &books.order, refund, now).await?;
    let currency = refund.currency.as_deref();
    let order = &books.order;
    if refuse_other_currency(tx, order, &refund.id, refund.amount, currency, now).await? {
        return Ok(None);
    }
    if let Some(booked) = book_extra_payment_refund(tx, &books, refund, now).await? {
        return Ok(booked);
    }
    let fact = match refund.status {
        RefundStatus::Succeeded => Fact::Refund {
            refund_id: refund.id.clone(),
            order: order_id,
            amount: refund.amount,
            line: refund
                .order_item_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())
                .map(OrderItemId::from_uuid),
            created: refund.created,
        },
        RefundStatus::Failed | RefundStatus::Canceled => Fact::RefundFailed {
            refund_id: refund.id.clone(),
            order: order_id,
        },
        RefundStatus::Pending | RefundStatus::RequiresAction | RefundStatus::Other(_) => {
            return Ok(None);
        }
    };
    book(tx, books, fact, settings, now).await
}
