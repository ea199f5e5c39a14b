//! Payout planning (SPEC §4.5): how much to transfer to a seller for an order, if anything.
//!
//! One payout record exists per (order, seller). The amount is the smaller of what this order still
//! owes the seller (net and shipping of their lines, less what was refunded of them) and the
//! seller's whole balance, so a debt from an earlier refund is netted before money leaves, and a
//! payout never exceeds the balance. A payout that was decided keeps its amount on every retry so
//! the idempotency key `payout:{order}:{seller}` always goes with the same request; a paid one is
//! never paid again.

use crate::ids::{OrderId, UserId};
use crate::ledger::{Component, LineMoney, OrderMoney, RefundState};
use crate::money::{Cents, MoneyError};

/// Why a payout was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The seller cannot receive transfers yet; retried when their account becomes ready.
    SellerNotReady,
    /// Nothing is owed: the order's claim was netted against the seller's debt.
    NothingOwed,
}

impl SkipReason {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::SellerNotReady => "seller_not_ready",
            SkipReason::NothingOwed => "nothing_owed",
        }
    }

    /// Parses [`SkipReason::as_str`].
    pub fn parse(text: &str) -> Option<SkipReason> {
        match text {
            "seller_not_ready" => Some(SkipReason::SellerNotReady),
            "nothing_owed" => Some(SkipReason::NothingOwed),
            _ => None,
        }
    }
}

/// The state of the payout record of one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// Decided, transfer not confirmed yet.
    Pending {
        /// The amount decided.
        amount: Cents,
    },
    /// Transferred.
    Paid {
        /// The amount.
        amount: Cents,
        /// Stripe's transfer id.
        transfer_id: String,
    },
    /// Not transferred, for a reason.
    Skipped(SkipReason),
    /// The last attempt failed with a retryable error.
    Failed {
        /// The amount decided.
        amount: Cents,
    },
}

/// What to do about a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutDecision {
    /// Transfer this amount with the payout's idempotency key.
    Transfer {
        /// Amount (positive).
        amount: Cents,
    },
    /// Record a skip.
    Skip(SkipReason),
    /// Nothing to do: it was paid.
    AlreadyPaid {
        /// The transfer that paid it.
        transfer_id: String,
    },
}

/// What the planner needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutContext {
    /// The seller's Connect account is ready.
    pub seller_ready: bool,
    /// What this order still owes the seller ([`order_claim`]).
    pub order_claim: Cents,
    /// The seller's ledger balance (positive: owed to them).
    pub seller_balance: Cents,
    /// The payout record so far, if any.
    pub existing: Option<PayoutStatus>,
}

/// Decides a payout.
pub fn plan_payout(context: &PayoutContext) -> PayoutDecision {
    match &context.existing {
        Some(PayoutStatus::Paid { transfer_id, .. }) => {
            return PayoutDecision::AlreadyPaid {
                transfer_id: transfer_id.clone(),
            };
        }
        // The same request again: the idempotency key must always carry the same amount.
        Some(PayoutStatus::Pending { amount } | PayoutStatus::Failed { amount }) => {
            return PayoutDecision::Transfer { amount: *amount };
        }
        // A netted claim is settled for good.
        Some(PayoutStatus::Skipped(SkipReason::NothingOwed)) => {
            return PayoutDecision::Skip(SkipReason::NothingOwed);
        }
        Some(PayoutStatus::Skipped(SkipReason::SellerNotReady)) | None => {}
    }
    if !context.seller_ready {
        return PayoutDecision::Skip(SkipReason::SellerNotReady);
    }
    let amount = context.order_claim.min(context.seller_balance);
    if amount.is_positive() {
        PayoutDecision::Transfer { amount }
    } else {
        PayoutDecision::Skip(SkipReason::NothingOwed)
    }
}

/// What `order` still owes `seller`: net and shipping of their lines, less the net and shipping
/// already refunded from those lines.
///
/// # Errors
/// Overflow.
pub fn order_claim(
    order: &OrderMoney,
    refunds: &RefundState,
    seller: UserId,
) -> Result<Cents, MoneyError> {
    let (net, shipping) = (Component::Net.index(), Component::Shipping.index());
    let mut claim = Cents::ZERO;
    for (index, line) in order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.seller == seller)
    {
        let refunded = refunds.lines.get(index).map_or(Ok(Cents::ZERO), |parts| {
            parts[net].checked_add(parts[shipping])
        })?;
        claim = claim
            .checked_add(LineMoney::seller_part(line)?)?
            .checked_sub(refunded)?;
    }
    Ok(claim)
}

/// The idempotency key of a payout: `payout:{order}:{seller}`.
pub fn payout_idempotency_key(order: OrderId, seller: UserId) -> String {
    format!("payout:{order}:{seller}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(
        ready: bool,
        claim: i64,
        balance: i64,
        existing: Option<PayoutStatus>,
    ) -> PayoutContext {
        PayoutContext {
            seller_ready: ready,
            order_claim: Cents::new(claim),
            seller_balance: Cents::new(balance),
            existing,
        }
    }

    #[test]
    fn pays_the_smaller_of_claim_and_balance() {
        assert_eq!(
            plan_payout(&context(true, 900, 1500, None)),
            PayoutDecision::Transfer {
                amount: Cents::new(900)
            }
        );
        assert_eq!(
            plan_payout(&context(true, 900, 600, None)),
            PayoutDecision::Transfer {
                amount: Cents::new(600)
            }
        );
        assert_eq!(
            plan_payout(&context(true, 900, -50, None)),
            PayoutDecision::Skip(SkipReason::NothingOwed)
        );
        assert_eq!(
            plan_payout(&context(true, 0, 500, None)),
            PayoutDecision::Skip(SkipReason::NothingOwed)
        );
    }

    #[test]
    fn unready_sellers_are_skipped_and_retried_later() {
        assert_eq!(
            plan_payout(&context(false, 900, 900, None)),
            PayoutDecision::Skip(SkipReason::SellerNotReady)
        );
        let skipped = Some(PayoutStatus::Skipped(SkipReason::SellerNotReady));
        assert_eq!(
            plan_payout(&context(true, 900, 900, skipped)),
            PayoutDecision::Transfer {
                amount: Cents::new(900)
            }
        );
    }

    #[test]
    fn never_twice_and_retries_keep_their_amount() {
        let paid = Some(PayoutStatus::Paid {
            amount: Cents::new(900),
            transfer_id: "tr_1".into(),
        });
        assert_eq!(
            plan_payout(&context(true, 900, 900, paid)),
            PayoutDecision::AlreadyPaid {
                transfer_id: "tr_1".into()
            }
        );
        let pending = Some(PayoutStatus::Pending {
            amount: Cents::new(700),
        });
        assert_eq!(
            plan_payout(&context(true, 900, 100, pending)),
            PayoutDecision::Transfer {
                amount: Cents::new(700)
            }
        );
        let netted = Some(PayoutStatus::Skipped(SkipReason::NothingOwed));
        assert_eq!(
            plan_payout(&context(true, 900, 900, netted)),
            PayoutDecision::Skip(SkipReason::NothingOwed)
        );
    }
}
