//! The external facts the ledger books, and the unique key each one is booked under.

use std::fmt;

use time::OffsetDateTime;

use crate::ids::{AdjustmentId, OrderId, OrderItemId, UserId};
use crate::money::Cents;

/// The external fact an entry books. Its [`EntryKey`] is unique in the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// An order was paid (confirmed by Stripe, or free).
    OrderPaid {
        /// The order.
        order: OrderId,
    },
    /// A Stripe transfer to a seller's connected account.
    Transfer {
        /// `tr_…`.
        transfer_id: String,
        /// The order it pays out, if any.
        order: Option<OrderId>,
        /// The seller.
        seller: UserId,
        /// Amount transferred.
        amount: Cents,
    },
    /// A Stripe transfer reversal (money recovered from a seller).
    TransferReversal {
        /// `trr_…`.
        reversal_id: String,
        /// The order concerned, if any.
        order: Option<OrderId>,
        /// The seller.
        seller: UserId,
        /// Amount recovered.
        amount: Cents,
    },
    /// A Stripe refund on an order's charge.
    Refund {
        /// `re_…`.
        refund_id: String,
        /// The order.
        order: OrderId,
        /// Amount returned to the buyer.
        amount: Cents,
        /// The line it names (our refunds carry `order_item_id`), or `None` (dashboard refunds).
        line: Option<OrderItemId>,
        /// When Stripe created it: the canonical order of refunds.
        created: OffsetDateTime,
    },
    /// A refund Stripe reported earlier failed or was canceled: its money stayed with us.
    RefundFailed {
        /// `re_…` of the refund.
        refund_id: String,
        /// The order.
        order: OrderId,
    },
    /// A dispute was opened and Stripe withdrew the disputed amount and its fee from the platform's
    /// balance (`charge.dispute.created`, `charge.dispute.funds_withdrawn`). The order's payouts are
    /// held until it closes.
    DisputeOpened {
        /// `dp_…`.
        dispute_id: String,
        /// The order.
        order: OrderId,
        /// Disputed amount withdrawn.
        amount: Cents,
        /// Stripe's dispute fee.
        fee: Cents,
        /// When the dispute was created.
        created: OffsetDateTime,
    },
    /// A dispute closed as lost: the disputed amount and the fee are gone.
    DisputeLost {
        /// `dp_…`.
        dispute_id: String,
        /// The order.
        order: OrderId,
        /// Disputed amount withdrawn.
        amount: Cents,
        /// Stripe's dispute fee.
        fee: Cents,
        /// When the dispute was created.
        created: OffsetDateTime,
    },
    /// A dispute closed as won (or its funds were reinstated): the disputed amount comes back, and
    /// whatever a loss booked is undone.
    DisputeWon {
        /// `dp_…`.
        dispute_id: String,
        /// The order.
        order: OrderId,
        /// The dispute fee Stripe kept after all (the sum of the dispute's balance-transaction
        /// fees at the end; zero when the fee was returned).
        fee: Cents,
    },
    /// A second successful payment of an order already paid: money received that belongs to the
    /// buyer until it is refunded.
    ExtraPayment {
        /// `pi_…` of that payment.
        payment_intent: String,
        /// The order.
        order: OrderId,
        /// Amount received.
        amount: Cents,
    },
    /// The refund of an extra payment: the buyer's money goes back.
    ExtraPaymentRefund {
        /// `re_…`.
        refund_id: String,
        /// The order.
        order: OrderId,
        /// Amount returned.
        amount: Cents,
    },
    /// The refund of an extra payment failed after all (or was canceled): the money stayed with us,
    /// and whatever its refund booked is undone.
    ExtraPaymentRefundFailed {
        /// `re_…` of the refund.
        refund_id: String,
        /// The order.
        order: OrderId,
        /// What the refund booked (zero when it was not booked).
        amount: Cents,
    },
    /// An owner's adjustment of a seller's balance.
    Adjustment {
        /// Its id.
        adjustment_id: AdjustmentId,
        /// The seller.
        seller: UserId,
        /// Positive credits the seller (the platform owes more), negative debits.
        amount: Cents,
        /// The order concerned, if any.
        order: Option<OrderId>,
    },
}

impl Fact {
    /// The unique key of the fact.
    pub fn key(&self) -> EntryKey {
        EntryKey(match self {
            Fact::OrderPaid { order } => format!("order_paid:{order}"),
            Fact::Transfer { transfer_id, .. } => format!("transfer:{transfer_id}"),
            Fact::TransferReversal { reversal_id, .. } => {
                format!("transfer_reversal:{reversal_id}")
            }
            Fact::Refund { refund_id, .. } => format!("refund:{refund_id}"),
            Fact::RefundFailed { refund_id, .. } => format!("refund_failed:{refund_id}"),
            Fact::DisputeOpened { dispute_id, .. } => format!("dispute_opened:{dispute_id}"),
            Fact::DisputeLost { dispute_id, .. } => format!("dispute_lost:{dispute_id}"),
            Fact::DisputeWon { dispute_id, .. } => format!("dispute_won:{dispute_id}"),
            Fact::Adjustment { adjustment_id, .. } => format!("adjustment:{adjustment_id}"),
            Fact::ExtraPayment { payment_intent, .. } => format!("extra_payment:{payment_intent}"),
            Fact::ExtraPaymentRefund { refund_id, .. } => {
                format!("extra_payment_refund:{refund_id}")
            }
            Fact::ExtraPaymentRefundFailed { refund_id, .. } => {
                format!("extra_payment_refund_failed:{refund_id}")
            }
        })
    }

    /// The kind of fact, as stored: `order_paid`, `transfer`, `transfer_reversal`, `refund`,
    /// `refund_failed`, `dispute_opened`, `dispute_lost`, `dispute_won`, `adjustment`,
    /// `extra_payment`, `extra_payment_refund`, `extra_payment_refund_failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::OrderPaid { .. } => "order_paid",
            Fact::Transfer { .. } => "transfer",
            Fact::TransferReversal { .. } => "transfer_reversal",
            Fact::Refund { .. } => "refund",
            Fact::RefundFailed { .. } => "refund_failed",
            Fact::DisputeOpened { .. } => "dispute_opened",
            Fact::DisputeLost { .. } => "dispute_lost",
            Fact::DisputeWon { .. } => "dispute_won",
            Fact::Adjustment { .. } => "adjustment",
            Fact::ExtraPayment { .. } => "extra_payment",
            Fact::ExtraPaymentRefund { .. } => "extra_payment_refund",
            Fact::ExtraPaymentRefundFailed { .. } => "extra_payment_refund_failed",
        }
    }

    /// The order the fact concerns, if any.
    pub fn order(&self) -> Option<OrderId> {
        match self {
            Fact::OrderPaid { order }
            | Fact::Refund { order, .. }
            | Fact::RefundFailed { order, .. }
            | Fact::DisputeOpened { order, .. }
            | Fact::DisputeLost { order, .. }
            | Fact::DisputeWon { order, .. }
            | Fact::ExtraPayment { order, .. }
            | Fact::ExtraPaymentRefund { order, .. }
            | Fact::ExtraPaymentRefundFailed { order, .. } => Some(*order),
            Fact::Transfer { order, .. }
            | Fact::TransferReversal { order, .. }
            | Fact::Adjustment { order, .. } => *order,
        }
    }
}

/// The unique key of an entry (`refund:re_…`), enforced by the ledger and by storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryKey(String);

impl EntryKey {
    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
