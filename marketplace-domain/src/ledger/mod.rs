//! The double-entry ledger (SPEC §4.4).
//!
//! Every money movement is a [`JournalEntry`]: postings to [`Account`]s that sum to zero (debits
//! positive, credits negative), keyed by the external fact that caused it ([`Fact`] →
//! [`EntryKey`]). An unbalanced entry cannot be built. The [`Ledger`] is append-only and refuses a
//! second entry for the same key, so replaying an event never books twice.
//!
//! Accounts and their normal sides:
//!
//! | account | side | meaning |
//! |---|---|---|
//! | `Clearing` | debit | the platform's Stripe balance for marketplace money |
//! | `FeeRevenue` | credit | the platform's commission |
//! | `TaxPayable` | credit | tax collected, owed to the authorities |
//! | `SellerPayable(s)` | credit | what the platform owes seller `s` (negative: the seller owes) |
//! | `DisputeCosts` | debit | Stripe's dispute fees |
//! | `Losses` | debit | money returned that no line could absorb (zero unless facts conflict) |
//! | `Adjustments` | debit | owner corrections made to sellers' balances |
//!
//! Money returned to buyers and money transferred to sellers leave through `Clearing`; their totals
//! are the credits of refund/dispute entries and transfer entries ([`Ledger::outflows`]).

mod order_book;

use std::collections::HashSet;
use std::fmt;

use time::OffsetDateTime;

use crate::ids::{AdjustmentId, OrderId, OrderItemId, UserId};
use crate::money::{AllocationError, Cents, Currency, MoneyError};

pub use order_book::{
    LineMoney, OrderMoney, RefundState, adjustment_entry, check_refund_amount, order_event_entry,
    order_paid_entry, refund_state, transfer_entry, transfer_reversal_entry,
};

/// A ledger account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// The platform's Stripe balance.
    Clearing,
    /// Platform commission.
    FeeRevenue,
    /// Tax collected.
    TaxPayable,
    /// What the platform owes a seller.
    SellerPayable(UserId),
    /// Stripe's dispute fees.
    DisputeCosts,
    /// Money returned (refunded or disputed) beyond what the order's lines could absorb.
    Losses,
    /// Owner corrections.
    Adjustments,
}

impl Account {
    /// Stable text form for storage: `clearing`, `seller_payable:<uuid>`, ….
    pub fn code(&self) -> String {
        match self {
            Account::Clearing => "clearing".to_owned(),
            Account::FeeRevenue => "fee_revenue".to_owned(),
            Account::TaxPayable => "tax_payable".to_owned(),
            Account::SellerPayable(seller) => format!("seller_payable:{seller}"),
            Account::DisputeCosts => "dispute_costs".to_owned(),
            Account::Losses => "losses".to_owned(),
            Account::Adjustments => "adjustments".to_owned(),
        }
    }

    /// Parses [`Account::code`].
    pub fn parse(code: &str) -> Option<Account> {
        match code {
            "clearing" => Some(Account::Clearing),
            "fee_revenue" => Some(Account::FeeRevenue),
            "tax_payable" => Some(Account::TaxPayable),
            "dispute_costs" => Some(Account::DisputeCosts),
            "losses" => Some(Account::Losses),
            "adjustments" => Some(Account::Adjustments),
            other => other
                .strip_prefix("seller_payable:")
                .and_then(|id| id.parse().ok())
                .map(|id| Account::SellerPayable(UserId::from_uuid(id))),
        }
    }
}

/// Which part of a line's paid amount a posting concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// The seller's net.
    Net,
    /// The platform's fee.
    Fee,
    /// The line's tax share.
    Tax,
    /// The line's shipping share (the seller's, who ships).
    Shipping,
}

impl Component {
    /// Every component, in split order.
    pub const ALL: [Component; 4] = [
        Component::Net,
        Component::Fee,
        Component::Tax,
        Component::Shipping,
    ];

    /// Position in [`Component::ALL`] (and in [`LineMoney::components`]).
    pub fn index(self) -> usize {
        match self {
            Component::Net => 0,
            Component::Fee => 1,
            Component::Tax => 2,
            Component::Shipping => 3,
        }
    }

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Net => "net",
            Component::Fee => "fee",
            Component::Tax => "tax",
            Component::Shipping => "shipping",
        }
    }

    /// Parses [`Component::as_str`].
    pub fn parse(text: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// One side of an entry: an amount on an account (debit positive, credit negative), optionally
/// attributed to an order line and a component of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// The account.
    pub account: Account,
    /// Signed amount: debit > 0, credit < 0.
    pub amount: Cents,
    /// The order line it concerns, if any.
    pub line: Option<OrderItemId>,
    /// The part of the line, if any.
    pub component: Option<Component>,
}

impl Posting {
    /// A debit of `amount` (positive) to `account`.
    pub fn debit(account: Account, amount: Cents) -> Posting {
        Posting {
            account,
            amount,
            line: None,
            component: None,
        }
    }

    /// A credit of `amount` (given positive) to `account`.
    pub fn credit(account: Account, amount: Cents) -> Result<Posting, MoneyError> {
        Ok(Posting::debit(account, amount.checked_neg()?))
    }

    /// Attributes the posting to a line's component.
    pub fn on_line(mut self, line: OrderItemId, component: Component) -> Posting {
        self.line = Some(line);
        self.component = Some(component);
        self
    }
}

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
    /// A dispute closed as won: whatever its loss booked is reinstated.
    DisputeWon {
        /// `dp_…`.
        dispute_id: String,
        /// The order.
        order: OrderId,
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
            Fact::DisputeLost { dispute_id, .. } => format!("dispute_lost:{dispute_id}"),
            Fact::DisputeWon { dispute_id, .. } => format!("dispute_won:{dispute_id}"),
            Fact::Adjustment { adjustment_id, .. } => format!("adjustment:{adjustment_id}"),
        })
    }

    /// The kind of fact, as stored: `order_paid`, `transfer`, `transfer_reversal`, `refund`,
    /// `refund_failed`, `dispute_lost`, `dispute_won`, `adjustment`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::OrderPaid { .. } => "order_paid",
            Fact::Transfer { .. } => "transfer",
            Fact::TransferReversal { .. } => "transfer_reversal",
            Fact::Refund { .. } => "refund",
            Fact::RefundFailed { .. } => "refund_failed",
            Fact::DisputeLost { .. } => "dispute_lost",
            Fact::DisputeWon { .. } => "dispute_won",
            Fact::Adjustment { .. } => "adjustment",
        }
    }

    /// The order the fact concerns, if any.
    pub fn order(&self) -> Option<OrderId> {
        match self {
            Fact::OrderPaid { order }
            | Fact::Refund { order, .. }
            | Fact::RefundFailed { order, .. }
            | Fact::DisputeLost { order, .. }
            | Fact::DisputeWon { order, .. } => Some(*order),
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

/// Why an entry could not be built or posted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The postings do not sum to zero.
    #[error("entry {key} does not balance: postings sum to {imbalance}")]
    Unbalanced {
        /// The entry.
        key: EntryKey,
        /// Σ postings.
        imbalance: Cents,
    },
    /// An amount that must be positive was not.
    #[error("{what} must be positive, got {amount}")]
    NonPositiveAmount {
        /// What it was.
        what: &'static str,
        /// The amount.
        amount: Cents,
    },
    /// A refund (or dispute) larger than what is still refundable.
    #[error("cannot return {requested}: only {refundable} is still refundable")]
    RefundExceedsRefundable {
        /// Asked for.
        requested: Cents,
        /// Still refundable.
        refundable: Cents,
    },
    /// The fact concerns another order than the one given.
    #[error("the fact concerns order {fact_order:?}, not {order}")]
    WrongOrder {
        /// The order given.
        order: OrderId,
        /// The fact's order.
        fact_order: Option<OrderId>,
    },
    /// This kind of fact is not booked by this builder.
    #[error("{0} is not an order event")]
    NotAnOrderEvent(EntryKey),
    /// An order's line ids do not match its priced lines one to one.
    #[error("{ids} line ids for {lines} priced lines")]
    LineCountMismatch {
        /// Priced lines.
        lines: usize,
        /// Ids given.
        ids: usize,
    },
    /// A fact already booked was given as new.
    #[error("{0} is already booked")]
    AlreadyBooked(EntryKey),
    /// An allocation failed.
    #[error(transparent)]
    Allocation(#[from] AllocationError),
    /// Arithmetic overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A balanced journal entry. Construct with [`JournalEntry::new`]; the fields stay private so an
/// unbalanced entry cannot exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    fact: Fact,
    currency: Currency,
    postings: Vec<Posting>,
}

impl JournalEntry {
    /// Builds an entry, dropping zero postings.
    ///
    /// # Errors
    /// [`LedgerError::Unbalanced`] when the postings do not sum to zero.
    pub fn new(
        fact: Fact,
        currency: Currency,
        postings: Vec<Posting>,
    ) -> Result<JournalEntry, LedgerError> {
        let postings: Vec<Posting> = postings
            .into_iter()
            .filter(|p| !p.amount.is_zero())
            .collect();
        let imbalance = Cents::sum(postings.iter().map(|p| p.amount))?;
        if !imbalance.is_zero() {
            return Err(LedgerError::Unbalanced {
                key: fact.key(),
                imbalance,
            });
        }
        Ok(JournalEntry {
            fact,
            currency,
            postings,
        })
    }

    /// The unique key.
    pub fn key(&self) -> EntryKey {
        self.fact.key()
    }

    /// The fact booked.
    pub fn fact(&self) -> &Fact {
        &self.fact
    }

    /// Currency of every posting.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The postings (none of them zero; they sum to zero).
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// Σ postings on `account` in this entry.
    pub fn amount_on(&self, account: Account) -> Result<Cents, MoneyError> {
        Cents::sum(
            self.postings
                .iter()
                .filter(|p| p.account == account)
                .map(|p| p.amount),
        )
    }
}

/// Whether a posting booked something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    /// Appended.
    Booked,
    /// The key was already in the ledger: nothing changed.
    AlreadyBooked,
}

/// Cumulative money that left the clearing account, by destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outflows {
    /// Charges received (order-paid entries).
    pub charges: Cents,
    /// Transfers to sellers, net of reversals.
    pub transfers: Cents,
    /// Refunds to buyers.
    pub refunds: Cents,
    /// Money and fees lost to disputes, net of reinstatements.
    pub disputes: Cents,
}

/// An append-only set of journal entries, at most one per key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    entries: Vec<JournalEntry>,
    keys: HashSet<EntryKey>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// True when an entry with this key exists.
    pub fn contains(&self, key: &EntryKey) -> bool {
        self.keys.contains(key)
    }

    /// Appends an entry unless one with its key exists (then nothing changes).
    pub fn post(&mut self, entry: JournalEntry) -> Posted {
        if self.keys.insert(entry.key()) {
            self.entries.push(entry);
            Posted::Booked
        } else {
            Posted::AlreadyBooked
        }
    }

    /// Every entry, in booking order.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// The entries of one order, in booking order.
    pub fn order_entries(&self, order: OrderId) -> Vec<&JournalEntry> {
        self.entries
            .iter()
            .filter(|e| e.fact.order() == Some(order))
            .collect()
    }

    /// Σ postings on `account` in `currency` (debit-positive).
    ///
    /// # Errors
    /// Overflow.
    pub fn balance(&self, account: Account, currency: Currency) -> Result<Cents, MoneyError> {
        Cents::sum(
            self.entries
                .iter()
                .filter(|e| e.currency == currency)
                .flat_map(|e| e.postings.iter())
                .filter(|p| p.account == account)
                .map(|p| p.amount),
        )
    }

    /// What the platform owes `seller` (positive) or the seller owes (negative).
    ///
    /// # Errors
    /// Overflow.
    pub fn seller_balance(&self, seller: UserId, currency: Currency) -> Result<Cents, MoneyError> {
        self.balance(Account::SellerPayable(seller), currency)?
            .checked_neg()
    }

    /// Σ postings on `account` attributed to `line` and `component` (debit-positive).
    ///
    /// # Errors
    /// Overflow.
    pub fn line_balance(
        &self,
        account: Account,
        line: OrderItemId,
        component: Component,
    ) -> Result<Cents, MoneyError> {
        Cents::sum(
            self.entries
                .iter()
                .flat_map(|e| e.postings.iter())
                .filter(|p| {
                    p.account == account && p.line == Some(line) && p.component == Some(component)
                })
                .map(|p| p.amount),
        )
    }

    /// Money in and out of clearing, by kind of fact.
    ///
    /// # Errors
    /// Overflow.
    pub fn outflows(&self, currency: Currency) -> Result<Outflows, MoneyError> {
        let mut flows = Outflows::default();
        for entry in self.entries.iter().filter(|e| e.currency == currency) {
            let clearing = entry.amount_on(Account::Clearing)?;
            match entry.fact {
                Fact::OrderPaid { .. } => flows.charges = flows.charges.checked_add(clearing)?,
                Fact::Transfer { .. } | Fact::TransferReversal { .. } => {
                    flows.transfers = flows.transfers.checked_sub(clearing)?;
                }
                Fact::Refund { .. } | Fact::RefundFailed { .. } => {
                    flows.refunds = flows.refunds.checked_sub(clearing)?
                }
                Fact::DisputeLost { .. } | Fact::DisputeWon { .. } => {
                    // A late refund can re-spread an earlier dispute's split but never its cash.
                    flows.disputes = flows.disputes.checked_sub(clearing)?;
                }
                Fact::Adjustment { .. } => {}
            }
        }
        Ok(flows)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn seller(n: u128) -> UserId {
        UserId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn an_unbalanced_entry_cannot_be_built() {
        let fact = Fact::Transfer {
            transfer_id: "tr_1".into(),
            order: None,
            seller: seller(1),
            amount: Cents::new(100),
        };
        let result = JournalEntry::new(
            fact,
            Currency::USD,
            vec![
                Posting::debit(Account::SellerPayable(seller(1)), Cents::new(100)),
                Posting::credit(Account::Clearing, Cents::new(99)).unwrap(),
            ],
        );
        assert!(
            matches!(result, Err(LedgerError::Unbalanced { imbalance, .. }) if imbalance == Cents::new(1))
        );
    }

    #[test]
    fn the_ledger_books_each_key_once() {
        let mut ledger = Ledger::new();
        let entry =
            transfer_entry("tr_1", None, seller(1), Cents::new(100), Currency::USD).unwrap();
        assert_eq!(ledger.post(entry.clone()), Posted::Booked);
        assert_eq!(ledger.post(entry), Posted::AlreadyBooked);
        assert_eq!(ledger.entries().len(), 1);
        assert_eq!(
            ledger.seller_balance(seller(1), Currency::USD).unwrap(),
            Cents::new(-100)
        );
        assert_eq!(
            ledger.balance(Account::Clearing, Currency::USD).unwrap(),
            Cents::new(-100)
        );
    }

    #[test]
    fn account_and_component_codes_round_trip() {
        for account in [
            Account::Clearing,
            Account::FeeRevenue,
            Account::TaxPayable,
            Account::SellerPayable(seller(7)),
            Account::DisputeCosts,
            Account::Losses,
            Account::Adjustments,
        ] {
            assert_eq!(Account::parse(&account.code()), Some(account));
        }
        assert_eq!(Account::parse("seller_payable:nope"), None);
        for component in Component::ALL {
            assert_eq!(Component::parse(component.as_str()), Some(component));
        }
    }
}
