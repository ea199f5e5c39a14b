//! Journal entries (balanced by construction) and the in-memory [`Ledger`] that keeps them, at
//! most one per key.

use std::collections::{BTreeMap, HashSet};

use crate::ids::{OrderId, OrderItemId, UserId};
use crate::money::{AllocationError, Cents, Currency, MoneyError};

use super::{Account, Component, EntryKey, Fact, Posting};

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

    /// How this entry changes each seller's balance, on the payable's normal side (positive: the
    /// platform owes the seller more), for every seller it touches. Stores keep running balances
    /// with it, so they never restate which side a payable grows on.
    ///
    /// # Errors
    /// Overflow.
    pub fn seller_balance_changes(&self) -> Result<BTreeMap<UserId, Cents>, MoneyError> {
        let mut changes = BTreeMap::new();
        for posting in &self.postings {
            if let Account::SellerPayable(seller) = posting.account {
                let change = posting.account.normal_side().signed(posting.amount)?;
                let total: &mut Cents = changes.entry(seller).or_insert(Cents::ZERO);
                *total = total.checked_add(change)?;
            }
        }
        Ok(changes)
    }
}

/// Whether posting an entry booked something. A replayed fact is never an error: its key is
/// already there, so it is [`Posted::AlreadyBooked`] and nothing changes (the database's unique
/// key on entries gives the same answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a replayed fact books nothing; say which happened"]
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

/// One account's line in a [`TrialBalance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialBalanceRow {
    /// The account.
    pub account: Account,
    /// Σ debits (positive).
    pub debits: Cents,
    /// Σ credits (positive).
    pub credits: Cents,
}

impl TrialBalanceRow {
    /// The balance on the account's normal side.
    ///
    /// # Errors
    /// Overflow.
    pub fn balance(&self) -> Result<Cents, MoneyError> {
        self.account
            .normal_side()
            .signed(self.debits.checked_sub(self.credits)?)
    }
}

/// Debits and credits per account: the classic check that the books balance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrialBalance {
    /// One row per account with postings, in account order.
    pub rows: Vec<TrialBalanceRow>,
    /// Σ debits.
    pub total_debits: Cents,
    /// Σ credits.
    pub total_credits: Cents,
}

impl TrialBalance {
    /// True when debits equal credits (always, for entries built by this crate).
    pub fn is_balanced(&self) -> bool {
        self.total_debits == self.total_credits
    }
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

    /// Σ postings on `account` in `currency`, debit-positive (credits count negative).
    ///
    /// # Errors
    /// Overflow.
    pub fn debit_balance(&self, account: Account, currency: Currency) -> Result<Cents, MoneyError> {
        Cents::sum(
            self.entries
                .iter()
                .filter(|e| e.currency == currency)
                .flat_map(|e| e.postings.iter())
                .filter(|p| p.account == account)
                .map(|p| p.amount),
        )
    }

    /// The balance of `account` on its normal side ([`Account::normal_side`]): positive is what
    /// the account normally holds — money in clearing, fees earned, tax owed, what the platform
    /// owes a seller, dispute costs and losses borne, adjustments granted.
    ///
    /// # Errors
    /// Overflow.
    pub fn balance(&self, account: Account, currency: Currency) -> Result<Cents, MoneyError> {
        account
            .normal_side()
            .signed(self.debit_balance(account, currency)?)
    }

    /// What the platform owes `seller` (positive) or the seller owes (negative).
    ///
    /// # Errors
    /// Overflow.
    pub fn seller_balance(&self, seller: UserId, currency: Currency) -> Result<Cents, MoneyError> {
        self.balance(Account::SellerPayable(seller), currency)
    }

    /// The platform's commission earned, net of what refunds gave back.
    ///
    /// # Errors
    /// Overflow.
    pub fn fee_revenue(&self, currency: Currency) -> Result<Cents, MoneyError> {
        self.balance(Account::FeeRevenue, currency)
    }

    /// The money marketplace sales left in the platform's Stripe balance.
    ///
    /// # Errors
    /// Overflow.
    pub fn clearing(&self, currency: Currency) -> Result<Cents, MoneyError> {
        self.balance(Account::Clearing, currency)
    }

    /// Every account's debits and credits in `currency`, in account order. Double entry means the
    /// two totals are always equal ([`TrialBalance::is_balanced`]).
    ///
    /// # Errors
    /// Overflow.
    pub fn trial_balance(&self, currency: Currency) -> Result<TrialBalance, MoneyError> {
        let mut rows: std::collections::BTreeMap<Account, TrialBalanceRow> = Default::default();
        for posting in self
            .entries
            .iter()
            .filter(|e| e.currency == currency)
            .flat_map(|e| e.postings.iter())
        {
            let row = rows.entry(posting.account).or_insert(TrialBalanceRow {
                account: posting.account,
                debits: Cents::ZERO,
                credits: Cents::ZERO,
            });
            if posting.amount.is_negative() {
                row.credits = row.credits.checked_sub(posting.amount)?;
            } else {
                row.debits = row.debits.checked_add(posting.amount)?;
            }
        }
        let rows: Vec<TrialBalanceRow> = rows.into_values().collect();
        Ok(TrialBalance {
            total_debits: Cents::sum(rows.iter().map(|r| r.debits))?,
            total_credits: Cents::sum(rows.iter().map(|r| r.credits))?,
            rows,
        })
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
                Fact::OrderPaid { .. } | Fact::ExtraPayment { .. } => {
                    flows.charges = flows.charges.checked_add(clearing)?;
                }
                Fact::ExtraPaymentRefund { .. } | Fact::ExtraPaymentRefundFailed { .. } => {
                    flows.refunds = flows.refunds.checked_sub(clearing)?;
                }
                Fact::Transfer { .. } | Fact::TransferReversal { .. } => {
                    flows.transfers = flows.transfers.checked_sub(clearing)?;
                }
                Fact::Refund { .. } | Fact::RefundFailed { .. } => {
                    flows.refunds = flows.refunds.checked_sub(clearing)?
                }
                Fact::DisputeOpened { .. } | Fact::DisputeLost { .. } | Fact::DisputeWon { .. } => {
                    // A late refund can re-spread an earlier dispute's split but never its cash.
                    flows.disputes = flows.disputes.checked_sub(clearing)?;
                }
                Fact::Adjustment { .. } => {}
            }
        }
        Ok(flows)
    }
}
