//! The entries of the simple money facts: transfers to sellers and their reversals, owner
//! adjustments, and second payments of orders already paid with their refunds. Each moves one
//! amount between two accounts.

use crate::ids::{AdjustmentId, OrderId, UserId};
use crate::money::{Cents, Currency};

use super::order_book::positive;
use super::{Account, Fact, JournalEntry, LedgerError, Posting};

/// An entry moving a positive `amount` from `credit` to `debit`, booking `fact`.
fn two_sided(
    what: &'static str,
    fact: Fact,
    amount: Cents,
    currency: Currency,
    (debit, credit): (Account, Account),
) -> Result<JournalEntry, LedgerError> {
    positive(what, amount)?;
    JournalEntry::new(
        fact,
        currency,
        vec![
            Posting::debit(debit, amount),
            Posting::credit(credit, amount)?,
        ],
    )
}

/// A transfer to a seller: their payable and clearing both go down.
///
/// # Errors
/// A non-positive amount.
pub fn transfer_entry(
    transfer_id: &str,
    order: Option<OrderId>,
    seller: UserId,
    amount: Cents,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    let fact = Fact::Transfer {
        transfer_id: transfer_id.to_owned(),
        order,
        seller,
        amount,
    };
    let accounts = (Account::SellerPayable(seller), Account::Clearing);
    two_sided("a transfer", fact, amount, currency, accounts)
}

/// A transfer reversal: money comes back from the seller's account, reducing what they owe.
///
/// # Errors
/// A non-positive amount.
pub fn transfer_reversal_entry(
    reversal_id: &str,
    order: Option<OrderId>,
    seller: UserId,
    amount: Cents,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    let fact = Fact::TransferReversal {
        reversal_id: reversal_id.to_owned(),
        order,
        seller,
        amount,
    };
    let accounts = (Account::Clearing, Account::SellerPayable(seller));
    two_sided("a transfer reversal", fact, amount, currency, accounts)
}

/// An owner adjustment: a positive amount credits the seller (the platform bears it), a negative one
/// debits them.
///
/// # Errors
/// A zero amount.
pub fn adjustment_entry(
    adjustment_id: AdjustmentId,
    seller: UserId,
    amount: Cents,
    order: Option<OrderId>,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    if amount.is_zero() {
        return Err(LedgerError::NonPositiveAmount {
            what: "an adjustment",
            amount,
        });
    }
    let fact = Fact::Adjustment {
        adjustment_id,
        seller,
        amount,
        order,
    };
    JournalEntry::new(
        fact,
        currency,
        vec![
            Posting::debit(Account::Adjustments, amount),
            Posting::credit(Account::SellerPayable(seller), amount)?,
        ],
    )
}

/// A second payment of an order already paid: the money is in, and owed to the buyer.
///
/// # Errors
/// A non-positive amount.
pub fn extra_payment_entry(
    order: OrderId,
    payment_intent: &str,
    amount: Cents,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    let fact = Fact::ExtraPayment {
        payment_intent: payment_intent.to_owned(),
        order,
        amount,
    };
    let accounts = (Account::Clearing, Account::ExtraPayments);
    two_sided("an extra payment", fact, amount, currency, accounts)
}

/// The failure of an extra payment's refund: the money came back, so whatever its refund booked
/// (`booked`, zero when it was not booked, which still records the failure so a late "succeeded"
/// books nothing) returns to `ExtraPayments`.
///
/// # Errors
/// A negative amount.
pub fn extra_payment_refund_failed_entry(
    order: OrderId,
    refund_id: &str,
    booked: Cents,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    let fact = Fact::ExtraPaymentRefundFailed {
        refund_id: refund_id.to_owned(),
        order,
        amount: booked,
    };
    if booked.is_zero() {
        return JournalEntry::new(fact, currency, Vec::new());
    }
    let accounts = (Account::Clearing, Account::ExtraPayments);
    two_sided(
        "a failed extra payment's refund",
        fact,
        booked,
        currency,
        accounts,
    )
}

/// The refund of an extra payment: the buyer's money leaves.
///
/// # Errors
/// A non-positive amount.
pub fn extra_payment_refund_entry(
    order: OrderId,
    refund_id: &str,
    amount: Cents,
    currency: Currency,
) -> Result<JournalEntry, LedgerError> {
    let fact = Fact::ExtraPaymentRefund {
        refund_id: refund_id.to_owned(),
        order,
        amount,
    };
    let accounts = (Account::ExtraPayments, Account::Clearing);
    two_sided(
        "an extra payment's refund",
        fact,
        amount,
        currency,
        accounts,
    )
}
