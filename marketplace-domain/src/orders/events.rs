//! An order's history: append-only events, each of a known kind with a message for people (staff,
//! reconciliation). Every state change of an order says what happened through one of these; the
//! constructors below are the one place their wording lives.

use std::fmt;

use crate::ids::{OrderItemId, UserId};
use crate::ledger::{EntryKey, Fact};
use crate::money::Cents;

/// What kind of thing happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderEventKind {
    /// The order was placed.
    Created,
    /// A Stripe Checkout Session was opened for it.
    CheckoutSessionCreated,
    /// Its payment was confirmed.
    Paid,
    /// A checkout completed with a payment that has not settled yet.
    PaymentPending,
    /// A delayed payment failed.
    PaymentFailed,
    /// A checkout session expired unpaid.
    CheckoutExpired,
    /// A seller was paid by transfer.
    TransferCreated,
    /// A seller's payout was skipped (not ready, or nothing owed).
    TransferSkipped,
    /// An owner asked to take back a seller's part of later refunds.
    ReversalRequested,
    /// A transfer reversal took money back from a seller.
    TransferReversed,
    /// A requested reversal found nothing to take back.
    ReversalSkipped,
    /// A refund was booked.
    Refunded,
    /// A dispute was opened, changed or closed.
    Dispute,
    /// Something needs a person's attention.
    Warning,
    /// A buyer asked for a line's money back.
    RefundRequested,
    /// A refund request was approved, declined or canceled.
    RefundDecided,
    /// A refund request's Stripe refund was sent, accepted or refused.
    RefundProcessed,
}

impl OrderEventKind {
    /// Every kind.
    pub const ALL: [OrderEventKind; 17] = [
        OrderEventKind::Created,
        OrderEventKind::CheckoutSessionCreated,
        OrderEventKind::Paid,
        OrderEventKind::PaymentPending,
        OrderEventKind::PaymentFailed,
        OrderEventKind::CheckoutExpired,
        OrderEventKind::TransferCreated,
        OrderEventKind::TransferSkipped,
        OrderEventKind::ReversalRequested,
        OrderEventKind::TransferReversed,
        OrderEventKind::ReversalSkipped,
        OrderEventKind::Refunded,
        OrderEventKind::Dispute,
        OrderEventKind::Warning,
        OrderEventKind::RefundRequested,
        OrderEventKind::RefundDecided,
        OrderEventKind::RefundProcessed,
    ];

    /// True when the buyer's view of the order shows this event: what the buyer paid and what
    /// happened to it. Sellers' transfers and reversals, disputes (their fees are a seller's or
    /// the platform's cost) and warnings for people who run the marketplace are not the buyer's.
    pub fn shown_to_buyer(self) -> bool {
        matches!(
            self,
            OrderEventKind::Created
                | OrderEventKind::CheckoutSessionCreated
                | OrderEventKind::Paid
                | OrderEventKind::PaymentPending
                | OrderEventKind::PaymentFailed
                | OrderEventKind::CheckoutExpired
                | OrderEventKind::Refunded
                | OrderEventKind::RefundRequested
                | OrderEventKind::RefundDecided
                | OrderEventKind::RefundProcessed
        )
    }

    /// Stored and wire spelling (`created`, `paid`, `transfer_created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEventKind::Created => "created",
            OrderEventKind::CheckoutSessionCreated => "checkout_session_created",
            OrderEventKind::Paid => "paid",
            OrderEventKind::PaymentPending => "payment_pending",
            OrderEventKind::PaymentFailed => "payment_failed",
            OrderEventKind::CheckoutExpired => "checkout_expired",
            OrderEventKind::TransferCreated => "transfer_created",
            OrderEventKind::TransferSkipped => "transfer_skipped",
            OrderEventKind::ReversalRequested => "reversal_requested",
            OrderEventKind::TransferReversed => "transfer_reversed",
            OrderEventKind::ReversalSkipped => "reversal_skipped",
            OrderEventKind::Refunded => "refunded",
            OrderEventKind::Dispute => "dispute",
            OrderEventKind::Warning => "warning",
            OrderEventKind::RefundRequested => "refund_requested",
            OrderEventKind::RefundDecided => "refund_decided",
            OrderEventKind::RefundProcessed => "refund_processed",
        }
    }

    /// Parses [`OrderEventKind::as_str`].
    pub fn parse(text: &str) -> Option<OrderEventKind> {
        OrderEventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for OrderEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of an order's history, before it is stored (the store adds the time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    /// What happened.
    pub kind: OrderEventKind,
    /// The details, for people.
    pub message: String,
}

impl OrderEvent {
    /// An event of any kind.
    pub fn new(kind: OrderEventKind, message: impl Into<String>) -> OrderEvent {
        OrderEvent {
            kind,
            message: message.into(),
        }
    }

    /// A warning for staff.
    pub fn warning(message: impl Into<String>) -> OrderEvent {
        OrderEvent::new(OrderEventKind::Warning, message)
    }

    /// The order was placed with `lines` lines for `total`.
    pub fn created(lines: usize, total: Cents) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::Created,
            format!("{lines} line(s), total {total}"),
        )
    }

    /// A checkout session was opened.
    pub fn checkout_session_created(session: &str) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::CheckoutSessionCreated,
            format!("session {session}"),
        )
    }

    /// A payout to `seller` was skipped, for `why`.
    pub fn transfer_skipped(seller: UserId, why: &str) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::TransferSkipped,
            format!("payout to seller {seller} skipped: {why}"),
        )
    }

    /// `seller` was paid `amount` by transfer `transfer`.
    pub fn transfer_created(transfer: &str, amount: Cents, seller: UserId) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::TransferCreated,
            format!("transfer {transfer} of {amount} to seller {seller}"),
        )
    }

    /// A transfer to `seller` failed with `error`.
    pub fn transfer_failed(seller: UserId, error: &dyn fmt::Display) -> OrderEvent {
        OrderEvent::warning(format!("transfer to seller {seller} failed: {error}"))
    }

    /// An owner asked to take `amount` back from `seller`.
    pub fn reversal_requested(amount: Cents, seller: UserId) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::ReversalRequested,
            format!("owner asked to take back {amount} from seller {seller}"),
        )
    }

    /// Reversal `reversal` took `amount` back from `seller`.
    pub fn transfer_reversed(reversal: &str, amount: Cents, seller: UserId) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::TransferReversed,
            format!("reversal {reversal} took back {amount} from seller {seller}"),
        )
    }

    /// A reversal from `seller` found nothing to take back.
    pub fn reversal_skipped(seller: UserId) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::ReversalSkipped,
            format!("nothing to take back from seller {seller}"),
        )
    }

    /// Stripe refused to reverse `amount` from `seller`.
    pub fn reversal_refused(amount: Cents, seller: UserId, error: &dyn fmt::Display) -> OrderEvent {
        OrderEvent::warning(format!(
            "reversal of {amount} from seller {seller} refused: {error}; the debt is netted against later payouts"
        ))
    }

    /// `who` queued `count` payout retries.
    pub fn payout_retries_queued(who: &str, count: usize) -> OrderEvent {
        OrderEvent::warning(format!("{who} queued {count} payout retry(ies)"))
    }

    /// A dispute was opened or changed (`event_type` names the Stripe event).
    pub fn dispute_noted(
        event_type: &str,
        dispute: &str,
        amount: Cents,
        status: &str,
    ) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::Dispute,
            format!("{event_type}: dispute {dispute} of {amount} is {status}"),
        )
    }

    /// A dispute closed with an outcome that moves no money.
    pub fn dispute_closed(dispute: &str, status: &str) -> OrderEvent {
        OrderEvent::new(
            OrderEventKind::Dispute,
            format!("dispute {dispute} closed as {status}"),
        )
    }

    /// A money fact could not be booked.
    pub fn not_booked(key: &EntryKey, error: &dyn fmt::Display) -> OrderEvent {
        OrderEvent::warning(format!("{key} not booked: {error}"))
    }

    /// The history line of a booked refund, failed refund or dispute outcome.
    pub fn booked(fact: &Fact) -> OrderEvent {
        match fact {
            Fact::Refund {
                refund_id,
                amount,
                line,
                ..
            } => OrderEvent::new(
                OrderEventKind::Refunded,
                refund_message(refund_id, *amount, *line),
            ),
            Fact::RefundFailed { refund_id, .. } => OrderEvent::warning(format!(
                "refund {refund_id} failed; its money stays with the order"
            )),
            Fact::DisputeLost {
                dispute_id,
                amount,
                fee,
                ..
            } => OrderEvent::new(
                OrderEventKind::Dispute,
                format!("dispute {dispute_id} lost: {amount} withdrawn, fee {fee}"),
            ),
            Fact::DisputeOpened {
                dispute_id,
                amount,
                fee,
                ..
            } => OrderEvent::new(
                OrderEventKind::Dispute,
                format!(
                    "dispute {dispute_id} opened: {amount} withdrawn, fee {fee}; payouts on hold"
                ),
            ),
            Fact::DisputeWon { dispute_id, .. } => OrderEvent::new(
                OrderEventKind::Dispute,
                format!("dispute {dispute_id} won: funds reinstated, payouts released"),
            ),
            other => OrderEvent::warning(format!("booked {}", other.key())),
        }
    }
}

fn refund_message(refund_id: &str, amount: Cents, line: Option<OrderItemId>) -> String {
    match line {
        Some(line) => format!("refund {refund_id} of {amount} for line {line}"),
        None => format!("refund {refund_id} of {amount}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_spelling() {
        for kind in OrderEventKind::ALL {
            assert_eq!(OrderEventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrderEventKind::parse("nope"), None);
    }
}
