//! What may be taken back from a seller who was paid for an order and then refunds or disputes
//! made them owe their part (docs/money.md, "Transfer reversals"). Used when an owner asks for a
//! reversal and when the reversal job decides its amount.

use marketplace_domain::ids::UserId;
use marketplace_domain::ledger::{Fact, JournalEntry};
use marketplace_domain::money::Cents;
use marketplace_domain::orders::Order;
use marketplace_domain::payouts::{PayoutStatus, ReversalContext, order_claim, plan_reversal};

use super::jobs::JobError;
use crate::ports::Tx;

/// What [`recoverable`] found for one (order, seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The seller was not paid for this order: refunds only lowered what it owes them.
    NotPaidOut,
    /// Paid, but they owe nothing back (or it was already taken back or netted).
    NothingOwed,
    /// Take this amount back by reversing this transfer.
    Recover {
        /// The payout's transfer.
        transfer_id: String,
        /// Amount (positive).
        amount: Cents,
    },
}

/// What may be taken back from `seller` for `order` now. Locks the seller's balance and the
/// payout record (in the payout job's order: order, balance, payout), so call it inside the
/// transaction that acts on the answer, after locking the order.
///
/// # Errors
/// [`JobError::Transient`] for storage failures, [`JobError::Permanent`] when the order's money
/// does not add up.
pub async fn recoverable(
    tx: &mut dyn Tx,
    order: &Order,
    seller: UserId,
) -> Result<Recovery, JobError> {
    let balance = tx
        .ledger()?
        .lock_seller_balance(seller, order.currency)
        .await?;
    let payout = tx
        .payouts()?
        .get_payout_for_update(order.id, seller)
        .await?;
    let Some(PayoutStatus::Paid {
        amount: latest,
        transfer_id,
    }) = payout.map(|p| p.status)
    else {
        return Ok(Recovery::NotPaidOut);
    };
    let entries = tx.ledger()?.order_entries(order.id).await?;
    let facts: Vec<&Fact> = entries.iter().map(JournalEntry::fact).collect();
    // Every transfer booked for this order and seller (a payout topped up has more than one).
    let transferred = Cents::sum(facts.iter().filter_map(|f| match f {
        Fact::Transfer {
            order: Some(o),
            seller: s,
            amount,
            ..
        } if *o == order.id && *s == seller => Some(*amount),
        _ => None,
    }))?;
    let claim = order_claim(&order.money(), &facts, seller)?;
    let seller_balance = balance_as_payouts_see_it(tx, seller, balance, order).await?;
    let reversed = tx.reversals()?.reversed_total(order.id, seller).await?;
    // The payout's latest transfer is the one reversed, and Stripe takes back at most what is
    // left of it; any more stays a debt, netted against later payouts.
    let left_of_latest = latest.checked_sub(tx.reversals()?.reversed_from(&transfer_id).await?)?;
    let amount = plan_reversal(&ReversalContext {
        transferred,
        order_claim: claim,
        reversed,
        seller_balance,
    })?
    .min(left_of_latest);
    Ok(if amount.is_positive() {
        Recovery::Recover {
            transfer_id,
            amount,
        }
    } else {
        Recovery::NothingOwed
    })
}

/// The seller's ledger balance less payouts under way (money leaving) plus reversals under way
/// (money coming back), leaving out `order`'s own: what payouts and reversals decide on.
///
/// # Errors
/// [`JobError::Transient`] for storage failures, [`JobError::Permanent`] on overflow.
pub async fn balance_as_payouts_see_it(
    tx: &mut dyn Tx,
    seller: UserId,
    ledger_balance: Cents,
    order: &Order,
) -> Result<Cents, JobError> {
    let leaving = tx
        .payouts()?
        .unconfirmed_total(seller, order.currency, order.id)
        .await?;
    let coming_back = tx
        .reversals()?
        .pending_reversals_total(seller, order.currency, order.id)
        .await?;
    Ok(ledger_balance
        .checked_sub(leaving)?
        .checked_add(coming_back)?)
}
