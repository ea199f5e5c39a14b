//! How flags are spelled in reports and filters, and what each says to people.

use std::fmt;

use super::ReconFlag;

impl ReconFlag {
    /// The flag's code, as filters and reports spell it.
    pub fn code(&self) -> &'static str {
        match self {
            ReconFlag::SubtotalMismatch { .. } => "subtotal_mismatch",
            ReconFlag::TotalMismatch { .. } => "total_mismatch",
            ReconFlag::LineFeeMismatch { .. } => "line_fee_mismatch",
            ReconFlag::PaidWithoutStripeIds => "paid_without_stripe_ids",
            ReconFlag::PaidWithoutLedgerEntry => "paid_without_ledger_entry",
            ReconFlag::PaidWithoutPayout { .. } => "paid_without_payout",
            ReconFlag::PayoutSkippedNotReady { .. } => "payout_skipped_not_ready",
            ReconFlag::UnbalancedEntry { .. } => "unbalanced_entry",
            ReconFlag::TransfersExceedCharge { .. } => "transfers_exceed_charge",
            ReconFlag::ChargeMismatch { .. } => "charge_mismatch",
            ReconFlag::CurrencyMismatch { .. } => "currency_mismatch",
            ReconFlag::ExtraPayment { .. } => "extra_payment",
            ReconFlag::UnallocatedRefund { .. } => "unallocated_refund",
            ReconFlag::UnabsorbedLoss { .. } => "unabsorbed_loss",
            ReconFlag::DisputeOpen { .. } => "dispute_open",
            ReconFlag::PayoutOnHold { .. } => "payout_on_hold",
            ReconFlag::PayoutFailed { .. } => "payout_failed",
            ReconFlag::ReversalRefused { .. } => "reversal_refused",
            ReconFlag::RefundsMismatch { .. } => "refunds_mismatch",
        }
    }

    /// Every code, for validating filters.
    pub const CODES: [&'static str; 19] = [
        "subtotal_mismatch",
        "total_mismatch",
        "line_fee_mismatch",
        "paid_without_stripe_ids",
        "paid_without_ledger_entry",
        "paid_without_payout",
        "payout_skipped_not_ready",
        "unbalanced_entry",
        "transfers_exceed_charge",
        "charge_mismatch",
        "currency_mismatch",
        "extra_payment",
        "unallocated_refund",
        "unabsorbed_loss",
        "dispute_open",
        "payout_on_hold",
        "payout_failed",
        "reversal_refused",
        "refunds_mismatch",
    ];
}

impl fmt::Display for ReconFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReconFlag::SubtotalMismatch {
                subtotal,
                lines_gross,
            } => write!(f, "subtotal {subtotal}, lines add up to {lines_gross}"),
            ReconFlag::TotalMismatch { total, expected } => {
                write!(f, "total {total}, expected {expected}")
            }
            ReconFlag::LineFeeMismatch {
                line,
                expected_fee,
                stored_fee,
                ..
            } => write!(
                f,
                "line {line}: fee {stored_fee}, the rule gives {expected_fee}"
            ),
            ReconFlag::PaidWithoutStripeIds => f.write_str("paid, but Stripe ids are missing"),
            ReconFlag::PaidWithoutLedgerEntry => f.write_str("paid, but no payment is booked"),
            ReconFlag::PaidWithoutPayout { seller } => {
                write!(f, "seller {seller} is ready and has no payout")
            }
            ReconFlag::PayoutSkippedNotReady { seller } => {
                write!(f, "seller {seller} is not ready to be paid")
            }
            ReconFlag::UnbalancedEntry { key, imbalance } => {
                write!(f, "entry {key} is off by {imbalance}")
            }
            ReconFlag::TransfersExceedCharge { transferred, total } => {
                write!(f, "{transferred} transferred for a charge of {total}")
            }
            ReconFlag::ChargeMismatch { charged, total } => {
                write!(f, "Stripe charged {charged} for a total of {total}")
            }
            ReconFlag::CurrencyMismatch {
                reference,
                currency,
            } => write!(f, "{reference} is in {currency}"),
            ReconFlag::ExtraPayment {
                payment_intent,
                amount,
            } => match amount {
                Some(amount) => write!(f, "a second payment {payment_intent} of {amount}"),
                None => write!(f, "a second payment {payment_intent}"),
            },
            ReconFlag::UnallocatedRefund { amount } => {
                write!(f, "{amount} refunded beyond the line it named")
            }
            ReconFlag::UnabsorbedLoss { amount } => {
                write!(f, "{amount} returned beyond what the lines held")
            }
            ReconFlag::DisputeOpen { count } => write!(f, "{count} dispute(s) open"),
            ReconFlag::PayoutOnHold { seller } => write!(f, "seller {seller}'s payout is held"),
            ReconFlag::PayoutFailed { seller } => {
                write!(f, "Stripe refused seller {seller}'s payout")
            }
            ReconFlag::ReversalRefused { seller } => {
                write!(f, "Stripe refused a reversal from seller {seller}")
            }
            ReconFlag::RefundsMismatch { stripe, booked } => {
                write!(
                    f,
                    "Stripe shows {stripe} refunded, the refunds booked add up to {booked}"
                )
            }
        }
    }
}
