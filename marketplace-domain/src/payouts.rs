//! Payout planning (docs/money.md, "Payouts"): how much to transfer to a seller for an order, if
//! anything.
//!
//! One payout record exists per (order, seller). The amount is the smaller of what this order still
//! owes the seller (net and shipping of their lines, less what was refunded of them) and the
//! seller's whole balance, so a debt from an earlier refund is netted before money leaves, and a
//! payout never exceeds the balance. A payout that was decided keeps its amount on every retry so
//! the idempotency key `payout:{order}:{seller}` always goes with the same request; a paid one is
//! never paid again.
//!
//! When refunds or disputes reach an order after its seller was paid, the seller owes their share
//! back. That debt is netted against later payouts, and an owner may also recover it at once with
//! a Stripe transfer reversal: [`plan_reversal`] decides how much may be taken back, never more
//! than the seller was overpaid for the order nor more than they owe overall.

use crate::ids::{OrderId, ReversalId, UserId};
use crate::ledger::{
    Component, Fact, JournalEntry, Ledger, LedgerError, LineMoney, OrderMoney, RefundState,
    refund_state,
};
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
#[must_use = "a payout decision must be carried out or recorded"]
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

/// What the planner needs to know about one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutContext {
    /// The seller's Connect account is ready.
    pub seller_ready: bool,
    /// What this order still owes the seller ([`order_claim`]).
    pub order_claim: Cents,
    /// The seller's balance as payouts see it (positive: owed to them; payouts under way already
    /// taken off).
    pub seller_balance: Cents,
    /// The payout record so far, if any.
    pub existing: Option<PayoutStatus>,
}

impl PayoutContext {
    /// The context of `seller`'s payout for `order`, given the facts booked for the order so far
    /// (what it still owes the seller is worked out from them), the seller's balance and the
    /// payout record so far.
    ///
    /// # Errors
    /// The errors of [`order_claim`].
    pub fn new(
        order: &OrderMoney,
        booked: &[&Fact],
        seller: UserId,
        seller_ready: bool,
        seller_balance: Cents,
        existing: Option<PayoutStatus>,
    ) -> Result<PayoutContext, LedgerError> {
        Ok(PayoutContext {
            seller_ready,
            order_claim: order_claim(order, booked, seller)?,
            seller_balance,
            existing,
        })
    }
}

impl PayoutContext {
    /// The context from an in-memory [`Ledger`]: the order's booked facts and the seller's balance
    /// come from it (for services that keep their books with this crate alone).
    ///
    /// # Errors
    /// The errors of [`order_claim`], and overflow.
    pub fn from_ledger(
        ledger: &Ledger,
        order: &OrderMoney,
        seller: UserId,
        seller_ready: bool,
        existing: Option<PayoutStatus>,
    ) -> Result<PayoutContext, LedgerError> {
        let booked: Vec<&Fact> = ledger
            .order_entries(order.order)
            .into_iter()
            .map(JournalEntry::fact)
            .collect();
        let balance = ledger.seller_balance(seller, order.currency)?;
        PayoutContext::new(order, &booked, seller, seller_ready, balance, existing)
    }
}

/// Decides what to do about `seller`'s payout for one order:
///
/// - paid already: nothing ([`PayoutDecision::AlreadyPaid`]), never twice;
/// - decided before (pending, or failed and retried): the same amount again, so the idempotency
///   key `payout:{order}:{seller}` always goes with the same request;
/// - netted before ("nothing owed"): stays skipped;
/// - the seller cannot receive transfers: skipped until their account is ready;
/// - otherwise `min(what the order still owes them, their balance)`, skipped as "nothing owed"
///   when that is not positive (the claim is netted against their debt).
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

/// What `order` still owes `seller`, given the facts booked for the order: net and shipping of
/// their lines, less the net and shipping refunded (or lost to disputes) from those lines.
///
/// # Errors
/// The errors of [`refund_state`].
pub fn order_claim(
    order: &OrderMoney,
    booked: &[&Fact],
    seller: UserId,
) -> Result<Cents, LedgerError> {
    Ok(claim_given(order, &refund_state(order, booked)?, seller)?)
}

/// [`order_claim`] when the order's refund state is at hand.
///
/// # Errors
/// Overflow.
pub fn claim_given(
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

/// The state of one transfer reversal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReversalStatus {
    /// Decided; Stripe's answer not known yet. Retries reuse its amount and key.
    Pending,
    /// Stripe reversed the transfer.
    Reversed {
        /// Stripe's reversal id (`trr_…`).
        reversal_id: String,
    },
    /// Stripe refused (the seller's Stripe balance was too low, say); the debt stays and is netted
    /// against later payouts.
    Refused,
}

impl ReversalStatus {
    /// Stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReversalStatus::Pending => "pending",
            ReversalStatus::Reversed { .. } => "reversed",
            ReversalStatus::Refused => "refused",
        }
    }
}

/// What [`plan_reversal`] needs to know about one (order, seller) whose payout was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversalContext {
    /// The amount of the transfer that paid the seller for the order.
    pub transferred: Cents,
    /// What the order owes the seller today ([`order_claim`]: their part less refunds).
    pub order_claim: Cents,
    /// Already reversed (or being reversed) for this order and seller.
    pub reversed: Cents,
    /// The seller's balance as payouts see it (ledger balance less payouts under way plus
    /// reversals under way): negative when they owe the platform.
    pub seller_balance: Cents,
}

/// How much of a paid-out transfer to take back: what the seller was overpaid for this order
/// (transferred − what the order owes them now − already reversed), at most what they owe
/// overall (a debt already netted against later payouts is not recovered twice). Zero when there
/// is nothing to recover.
///
/// # Errors
/// Overflow.
pub fn plan_reversal(context: &ReversalContext) -> Result<Cents, MoneyError> {
    let overpaid = context
        .transferred
        .checked_sub(context.order_claim)?
        .checked_sub(context.reversed)?;
    let debt = Cents::ZERO.checked_sub(context.seller_balance)?;
    Ok(overpaid.min(debt).max(Cents::ZERO))
}

/// The idempotency key of a transfer reversal: `reversal:{reversal record id}`, so a retry after
/// an unknown outcome never reverses twice.
pub fn reversal_idempotency_key(reversal: ReversalId) -> String {
    format!("reversal:{reversal}")
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

    fn reversal(transferred: i64, claim: i64, reversed: i64, balance: i64) -> i64 {
        plan_reversal(&ReversalContext {
            transferred: Cents::new(transferred),
            order_claim: Cents::new(claim),
            reversed: Cents::new(reversed),
            seller_balance: Cents::new(balance),
        })
        .unwrap()
        .get()
    }

    #[test]
    fn a_reversal_recovers_refunds_made_after_the_payout_only() {
        // Paid 1440; a 400 refund took 360 of the seller's part: they owe 360.
        assert_eq!(reversal(1440, 1080, 0, -360), 360);
        // Refunded before the payout: the transfer was already smaller, nothing to recover.
        assert_eq!(reversal(1080, 1080, 0, 0), 0);
        // Fully refunded after the payout; 1000 already reversed.
        assert_eq!(reversal(1440, 0, 1000, -440), 440);
        assert_eq!(reversal(1440, 0, 1440, 0), 0, "never reversed twice");
    }

    #[test]
    fn a_reversal_never_takes_more_than_the_seller_owes() {
        // A later sale netted part of the debt already.
        assert_eq!(reversal(1440, 0, 0, -500), 500);
        // The debt is gone altogether.
        assert_eq!(reversal(1440, 0, 0, 200), 0);
        // The payout itself was netted down to 500: the seller was overpaid by 500 at most.
        assert_eq!(reversal(500, 0, 0, -1440), 500);
    }
}
