//! An order's flags from its books: the stored figures' checks ([`reconcile`]) plus what its
//! refunds, disputes, payouts, reversals and recorded anomalies say.

use crate::ids::UserId;
use crate::ledger::{Fact, JournalEntry, LedgerError, refund_state};
use crate::money::Cents;
use crate::orders::{Order, PaymentReference};
use crate::payouts::{PayoutStatus, SkipReason};

use super::{ReconFlag, ReconLine, ReconOrder, ReconPayout, StoredEntry, reconcile};

/// What kind of money anomaly was recorded on an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnomalyKind {
    /// Stripe charged another amount than the order's total (payouts held until resolved).
    ChargeMismatch,
    /// A Stripe object in another currency than the order's (recorded, never booked).
    CurrencyMismatch,
    /// A second successful payment of an order already paid.
    ExtraPayment,
    /// A refund named a line beyond what it held: the platform carries the excess until an owner
    /// settles it (with an adjustment, say) and resolves this.
    UnallocatedRefund,
}

impl AnomalyKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::ChargeMismatch => "charge_mismatch",
            AnomalyKind::CurrencyMismatch => "currency_mismatch",
            AnomalyKind::ExtraPayment => "extra_payment",
            AnomalyKind::UnallocatedRefund => "unallocated_refund",
        }
    }

    /// Parses [`AnomalyKind::as_str`].
    pub fn parse(text: &str) -> Option<AnomalyKind> {
        match text {
            "charge_mismatch" => Some(AnomalyKind::ChargeMismatch),
            "currency_mismatch" => Some(AnomalyKind::CurrencyMismatch),
            "extra_payment" => Some(AnomalyKind::ExtraPayment),
            "unallocated_refund" => Some(AnomalyKind::UnallocatedRefund),
            _ => None,
        }
    }
}

/// A money fact that could not be taken as it came, recorded on its order for an owner (once per
/// kind and Stripe reference).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// What it is.
    pub kind: AnomalyKind,
    /// The Stripe object (`cs_…`, `pi_…`, `re_…`, `dp_…`).
    pub reference: String,
    /// The amount it carried, if any.
    pub amount: Option<Cents>,
    /// The currency it came in, as Stripe spelled it.
    pub currency: Option<String>,
    /// Whether an owner resolved it.
    pub resolved: bool,
}

impl Anomaly {
    /// True when it holds the order's payouts (an unresolved charge mismatch).
    pub fn holds_payouts(&self) -> bool {
        !self.resolved && self.kind == AnomalyKind::ChargeMismatch
    }
}

/// Everything about one order's money that its flags are computed from.
pub struct OrderBooks<'a> {
    /// The order.
    pub order: &'a Order,
    /// Its journal entries.
    pub journal: &'a [JournalEntry],
    /// Its payout records.
    pub payouts: &'a [ReconPayout],
    /// Sellers with a refused transfer reversal on it.
    pub refused_reversals: &'a [UserId],
    /// Its recorded anomalies.
    pub anomalies: &'a [Anomaly],
    /// Whether a seller can receive payouts now.
    pub seller_ready: &'a dyn Fn(UserId) -> bool,
}

/// The flags of one order: [`reconcile`]'s checks of the stored figures, plus what its refunds,
/// disputes, payouts, reversals and unresolved anomalies say. Rounding over many lines raises none.
///
/// # Errors
/// The order's facts cannot be folded (see [`refund_state`]), or overflow.
pub fn order_flags(books: &OrderBooks<'_>) -> Result<Vec<ReconFlag>, LedgerError> {
    let order = books.order;
    let stored = ReconOrder {
        status: order.status,
        subtotal: order.subtotal,
        tax: order.tax,
        shipping: order.shipping,
        total: order.total,
        fee_rate: order.fee_rate,
        free_checkout: order.payment == Some(PaymentReference::Free),
        stripe_session_id: order.checkout.session_id.clone(),
        stripe_payment_intent_id: order.stripe_payment_intent().map(str::to_owned),
    };
    let lines: Vec<ReconLine> = order
        .lines()
        .iter()
        .map(|l| ReconLine {
            line: l.id,
            seller: l.seller_id,
            quantity: l.quantity,
            unit_price: l.unit_price,
            fee: l.fee,
            net: l.net,
        })
        .collect();
    let entries: Vec<StoredEntry> = books
        .journal
        .iter()
        .map(|e| StoredEntry {
            key: e.key().as_str().to_owned(),
            postings: e.postings().to_vec(),
        })
        .collect();
    let mut flags = reconcile(&stored, &lines, &entries, books.payouts, books.seller_ready)?;
    let facts: Vec<&Fact> = books.journal.iter().map(JournalEntry::fact).collect();
    // What the ledger shows the sellers kept (a topped-up payout has several transfers; the
    // payout records only name the last).
    let transferred = Cents::sum(
        facts
            .iter()
            .filter_map(|f| match f {
                Fact::Transfer { amount, .. } => Some(Ok(*amount)),
                Fact::TransferReversal { amount, .. } => Some(amount.checked_neg()),
                _ => None,
            })
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let flagged = flags
        .iter()
        .any(|f| matches!(f, ReconFlag::TransfersExceedCharge { .. }));
    if !flagged && transferred > order.total {
        flags.push(ReconFlag::TransfersExceedCharge {
            transferred,
            total: order.total,
        });
    }
    let state = refund_state(&order.money(), &facts)?;
    // Unallocated money is flagged until an owner resolves it (after settling it).
    let unresolved = |kind: AnomalyKind| {
        books
            .anomalies
            .iter()
            .any(|a| a.kind == kind && !a.resolved)
    };
    if state.unallocated.is_positive() && unresolved(AnomalyKind::UnallocatedRefund) {
        flags.push(ReconFlag::UnallocatedRefund {
            amount: state.unallocated,
        });
    }
    if state.unabsorbed.is_positive() {
        flags.push(ReconFlag::UnabsorbedLoss {
            amount: state.unabsorbed,
        });
    }
    if let Some((stripe, _)) = order.stripe_refunded
        && stripe != state.refund_cash
    {
        flags.push(ReconFlag::RefundsMismatch {
            stripe,
            booked: state.refund_cash,
        });
    }
    if state.open_disputes > 0 {
        flags.push(ReconFlag::DisputeOpen {
            count: state.open_disputes,
        });
    }
    for payout in books.payouts {
        match payout.status {
            PayoutStatus::Skipped(SkipReason::OnHold) => flags.push(ReconFlag::PayoutOnHold {
                seller: payout.seller,
            }),
            PayoutStatus::Failed { .. } => flags.push(ReconFlag::PayoutFailed {
                seller: payout.seller,
            }),
            _ => {}
        }
    }
    for seller in books.refused_reversals {
        flags.push(ReconFlag::ReversalRefused { seller: *seller });
    }
    for anomaly in books.anomalies.iter().filter(|a| !a.resolved) {
        let flag = match anomaly.kind {
            AnomalyKind::ChargeMismatch => ReconFlag::ChargeMismatch {
                charged: anomaly.amount.unwrap_or(Cents::ZERO),
                total: order.total,
            },
            AnomalyKind::CurrencyMismatch => ReconFlag::CurrencyMismatch {
                reference: anomaly.reference.clone(),
                currency: anomaly.currency.clone().unwrap_or_default(),
            },
            AnomalyKind::ExtraPayment => ReconFlag::ExtraPayment {
                payment_intent: anomaly.reference.clone(),
                amount: anomaly.amount,
            },
            // Flagged above, from what is unallocated now.
            AnomalyKind::UnallocatedRefund => continue,
        };
        flags.push(flag);
    }
    Ok(flags)
}
