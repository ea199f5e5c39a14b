//! Payout planning (docs/money.md, "Payouts"): how much to transfer to a seller for an order, if
//! anything.
//!
//! One payout record exists per (order, seller). Every attempt decides its amount afresh, under the
//! caller's locks: the smaller of what this order still owes the seller (net and shipping of their
//! lines, less what was refunded of them, less what the ledger shows was already transferred for
//! it) and the seller's whole balance, so a debt from an earlier refund is netted before money
//! leaves, and a payout never exceeds the balance. Only an attempt whose outcome is unknown (it may
//! have created a transfer) is sent again as it was, with the same amount and idempotency key, after
//! looking for its transfer at Stripe. What was paid is never paid again (a paid payout is topped
//! up only by what the order still owes beyond its booked transfers), and a skipped one is decided
//! again whenever it is run (a failed refund or a won dispute may make the order owe more).
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
    /// The seller cannot receive transfers yet; decided again when their account becomes ready.
    SellerNotReady,
    /// Nothing is owed now: the order's claim was netted against the seller's debt, or refunds
    /// took it. Decided again when something raises what the order owes.
    NothingOwed,
    /// The order's payouts are held (an open dispute, or a charge that does not match the order)
    /// until the hold is released.
    OnHold,
}

impl SkipReason {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::SellerNotReady => "seller_not_ready",
            SkipReason::NothingOwed => "nothing_owed",
            SkipReason::OnHold => "on_hold",
        }
    }

    /// Parses [`SkipReason::as_str`].
    pub fn parse(text: &str) -> Option<SkipReason> {
        match text {
            "seller_not_ready" => Some(SkipReason::SellerNotReady),
            "nothing_owed" => Some(SkipReason::NothingOwed),
            "on_hold" => Some(SkipReason::OnHold),
            _ => None,
        }
    }
}

/// The state of the payout record of one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// An attempt was decided and its transfer may exist: sent, or about to be, with no answer
    /// recorded yet (or a transient error that leaves the outcome unknown).
    Pending {
        /// The amount decided for this attempt.
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
    /// Stripe refused the last attempt: no transfer was made. The next run decides afresh.
    Failed {
        /// The amount that attempt asked for.
        amount: Cents,
    },
}

/// What to do about a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a payout decision must be carried out or recorded"]
pub enum PayoutDecision {
    /// Transfer this amount with the idempotency key of this attempt
    /// ([`payout_idempotency_key`]).
    Transfer {
        /// Amount (positive).
        amount: Cents,
        /// The attempt's number (1 for the first): part of its idempotency key.
        attempt: u32,
        /// The attempt was made before and its outcome is unknown: look for its transfer at
        /// Stripe (by transfer group and metadata) before sending it again, because Stripe
        /// forgets idempotency keys after 24 hours.
        resend: bool,
    },
    /// Record a skip.
    Skip(SkipReason),
    /// Nothing to do: it was paid.
    AlreadyPaid {
        /// The transfer that paid it.
        transfer_id: String,
    },
}

/// The payout record so far of one (order, seller), as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutSoFar {
    /// Its state.
    pub status: PayoutStatus,
    /// How many attempts were decided (each with its own idempotency key).
    pub attempts: u32,
}

/// Whether the seller can receive transfers now (their Stripe Connect account is ready): a payout
/// to a seller who cannot waits (`Skip(SellerNotReady)`) and is planned again when they can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SellerReadiness {
    /// Transfers can be sent.
    Ready,
    /// Not yet (onboarding unfinished, or Stripe disabled payouts).
    NotReady,
}

impl SellerReadiness {
    /// `Ready` when `ready`.
    pub fn from_ready(ready: bool) -> SellerReadiness {
        if ready {
            SellerReadiness::Ready
        } else {
            SellerReadiness::NotReady
        }
    }
}

/// What the planner knows about one (order, seller). Built only from the order's booked facts
/// ([`PayoutContext::new`], [`PayoutContext::from_ledger`]), so what the ledger shows was already
/// transferred for the order is always taken off, whoever calls the planner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutContext {
    seller_ready: bool,
    on_hold: bool,
    order_owes: Cents,
    seller_balance: Cents,
    existing: Option<PayoutSoFar>,
}

impl PayoutContext {
    /// The context of `seller`'s payout for `order`, given the facts booked for the order so far
    /// (what it still owes the seller is worked out from them, transfers and reversals included,
    /// and an open dispute holds the payout), the seller's balance as payouts see it, and the
    /// payout record so far.
    ///
    /// # Errors
    /// The errors of [`order_owes`].
    pub fn new(
        order: &OrderMoney,
        booked: &[&Fact],
        seller: UserId,
        readiness: SellerReadiness,
        seller_balance: Cents,
        existing: Option<PayoutSoFar>,
    ) -> Result<PayoutContext, LedgerError> {
        let state = refund_state(order, booked)?;
        Ok(PayoutContext {
            seller_ready: readiness == SellerReadiness::Ready,
            on_hold: state.open_disputes > 0,
            order_owes: owes_given(order, &state, booked, seller)?,
            seller_balance,
            existing,
        })
    }

    /// The context from an in-memory [`Ledger`]: the order's booked facts and the seller's balance
    /// come from it (for services that keep their books with this crate alone).
    ///
    /// # Errors
    /// The errors of [`order_owes`], and overflow.
    pub fn from_ledger(
        ledger: &Ledger,
        order: &OrderMoney,
        seller: UserId,
        readiness: SellerReadiness,
        existing: Option<PayoutSoFar>,
    ) -> Result<PayoutContext, LedgerError> {
        let booked: Vec<&Fact> = ledger
            .order_entries(order.order)
            .into_iter()
            .map(JournalEntry::fact)
            .collect();
        let balance = ledger.seller_balance(seller, order.currency)?;
        PayoutContext::new(order, &booked, seller, readiness, balance, existing)
    }

    /// Holds the order's payouts for a reason the facts do not show (a charge that does not match
    /// the order, say): no new attempt is decided while held. An open dispute holds them already.
    pub fn held(mut self, on_hold: bool) -> PayoutContext {
        self.on_hold |= on_hold;
        self
    }

    /// True when no new attempt may be decided now.
    pub fn on_hold(&self) -> bool {
        self.on_hold
    }

    /// What the order still owes the seller ([`order_owes`]).
    pub fn order_owes(&self) -> Cents {
        self.order_owes
    }
}

/// Decides what to do about `seller`'s payout for one order:
///
/// - paid already: nothing ([`PayoutDecision::AlreadyPaid`]), never twice for what was paid; only
///   when the order owes the seller more than its booked transfers paid (a refund failed after the
///   amount was decided) does a new attempt top it up;
/// - an attempt whose outcome is unknown (pending): the same amount and key again, after looking
///   for its transfer at Stripe;
/// - the seller cannot receive transfers: skipped until their account is ready;
/// - the order's payouts are held: skipped until released;
/// - otherwise a new attempt for `min(what the order still owes them, their balance)`, skipped as
///   "nothing owed" when that is not positive (the claim is netted against their debt). A failed
///   or skipped payout is decided afresh this way every time it runs.
pub fn plan_payout(context: &PayoutContext) -> PayoutDecision {
    let attempts = context.existing.as_ref().map_or(0, |p| p.attempts);
    match context.existing.as_ref().map(|p| &p.status) {
        // Paid: never again, unless the order owes the seller more than its transfers paid (a
        // refund that failed after the amount was decided), which a new attempt tops up.
        Some(PayoutStatus::Paid { transfer_id, .. }) => {
            let top_up = context.seller_ready
                && !context.on_hold
                && context.order_owes.is_positive()
                && context.seller_balance.is_positive();
            if !top_up {
                return PayoutDecision::AlreadyPaid {
                    transfer_id: transfer_id.clone(),
                };
            }
        }
        // It may exist at Stripe: the same request again, never a second transfer.
        Some(PayoutStatus::Pending { amount }) => {
            return PayoutDecision::Transfer {
                amount: *amount,
                attempt: attempts.max(1),
                resend: true,
            };
        }
        Some(PayoutStatus::Failed { .. } | PayoutStatus::Skipped(_)) | None => {}
    }
    if !context.seller_ready {
        return PayoutDecision::Skip(SkipReason::SellerNotReady);
    }
    if context.on_hold {
        return PayoutDecision::Skip(SkipReason::OnHold);
    }
    let amount = context.order_owes.min(context.seller_balance);
    if amount.is_positive() {
        PayoutDecision::Transfer {
            amount,
            attempt: attempts.saturating_add(1),
            resend: false,
        }
    } else {
        PayoutDecision::Skip(SkipReason::NothingOwed)
    }
}

/// What `order` is worth to `seller`, given the facts booked for the order: net and shipping of
/// their lines, less the net and shipping refunded (or lost to disputes) from those lines. Transfers
/// are not taken off (see [`order_owes`]).
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

/// What `order` still owes `seller`: [`order_claim`] less what the booked transfers for this order
/// paid them, plus what reversals of those transfers took back.
///
/// # Errors
/// The errors of [`refund_state`], and overflow.
pub fn order_owes(
    order: &OrderMoney,
    booked: &[&Fact],
    seller: UserId,
) -> Result<Cents, LedgerError> {
    owes_given(order, &refund_state(order, booked)?, booked, seller)
}

fn owes_given(
    order: &OrderMoney,
    state: &RefundState,
    booked: &[&Fact],
    seller: UserId,
) -> Result<Cents, LedgerError> {
    let mut owes = claim_given(order, state, seller)?;
    let mut seen = std::collections::BTreeSet::new();
    for fact in booked {
        if !seen.insert(fact.key()) {
            continue;
        }
        match fact {
            Fact::Transfer {
                order: Some(o),
                seller: s,
                amount,
                ..
            } if *o == order.order && *s == seller => owes = owes.checked_sub(*amount)?,
            Fact::TransferReversal {
                order: Some(o),
                seller: s,
                amount,
                ..
            } if *o == order.order && *s == seller => owes = owes.checked_add(*amount)?,
            _ => {}
        }
    }
    Ok(owes)
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

/// The idempotency key of a payout attempt: `payout:{order}:{seller}` for the first attempt,
/// `payout:{order}:{seller}:{attempt}` after Stripe refused an earlier one (a key always goes with
/// one amount).
pub fn payout_idempotency_key(order: OrderId, seller: UserId, attempt: u32) -> String {
    if attempt <= 1 {
        format!("payout:{order}:{seller}")
    } else {
        format!("payout:{order}:{seller}:{attempt}")
    }
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
            on_hold: false,
            order_owes: Cents::new(claim),
            seller_balance: Cents::new(balance),
            existing: existing.map(|status| PayoutSoFar {
                status,
                attempts: 1,
            }),
        }
    }

    fn transfer(amount: i64, attempt: u32) -> PayoutDecision {
        PayoutDecision::Transfer {
            amount: Cents::new(amount),
            attempt,
            resend: false,
        }
    }

    #[test]
    fn pays_the_smaller_of_claim_and_balance() {
        assert_eq!(
            plan_payout(&context(true, 900, 1500, None)),
            transfer(900, 1)
        );
        assert_eq!(
            plan_payout(&context(true, 900, 600, None)),
            transfer(600, 1)
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
    fn unready_sellers_and_held_orders_are_skipped_and_decided_again_later() {
        assert_eq!(
            plan_payout(&context(false, 900, 900, None)),
            PayoutDecision::Skip(SkipReason::SellerNotReady)
        );
        assert_eq!(
            plan_payout(&context(true, 900, 900, None).held(true)),
            PayoutDecision::Skip(SkipReason::OnHold)
        );
        let skipped = Some(PayoutStatus::Skipped(SkipReason::SellerNotReady));
        assert_eq!(
            plan_payout(&context(true, 900, 900, skipped)),
            transfer(900, 2)
        );
    }

    #[test]
    fn never_twice_and_only_an_unknown_outcome_keeps_its_amount() {
        let paid = Some(PayoutStatus::Paid {
            amount: Cents::new(900),
            transfer_id: "tr_1".into(),
        });
        assert_eq!(
            plan_payout(&context(true, 0, 900, paid.clone())),
            PayoutDecision::AlreadyPaid {
                transfer_id: "tr_1".into()
            }
        );
        assert_eq!(
            plan_payout(&context(true, 405, 0, paid.clone())),
            PayoutDecision::AlreadyPaid {
                transfer_id: "tr_1".into()
            },
            "nothing to pay it from"
        );
        // A refund failed after the amount was decided: the order owes 405 more.
        assert_eq!(
            plan_payout(&context(true, 405, 405, paid)),
            transfer(405, 2),
            "topped up under a new key"
        );
        // The first attempt may have created a transfer: the same request again.
        let pending = Some(PayoutStatus::Pending {
            amount: Cents::new(700),
        });
        assert_eq!(
            plan_payout(&context(true, 900, 100, pending)),
            PayoutDecision::Transfer {
                amount: Cents::new(700),
                attempt: 1,
                resend: true
            }
        );
    }

    #[test]
    fn a_refused_attempt_is_decided_again_with_a_new_key() {
        // Defect: the transfer failed, a full refund arrived, the retry paid the stored 900.
        let failed = Some(PayoutStatus::Failed {
            amount: Cents::new(900),
        });
        assert_eq!(
            plan_payout(&context(true, 0, 0, failed.clone())),
            PayoutDecision::Skip(SkipReason::NothingOwed)
        );
        assert_eq!(
            plan_payout(&context(true, 400, 900, failed)),
            transfer(400, 2)
        );
        assert_ne!(
            payout_idempotency_key(
                OrderId::from_uuid(uuid::Uuid::nil()),
                UserId::from_uuid(uuid::Uuid::nil()),
                1
            ),
            payout_idempotency_key(
                OrderId::from_uuid(uuid::Uuid::nil()),
                UserId::from_uuid(uuid::Uuid::nil()),
                2
            ),
        );
    }

    #[test]
    fn nothing_owed_is_decided_again() {
        // Defect: a full refund before the payout made it "nothing owed"; the refund then failed.
        let netted = Some(PayoutStatus::Skipped(SkipReason::NothingOwed));
        assert_eq!(
            plan_payout(&context(true, 900, 900, netted)),
            transfer(900, 2)
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
