//! The double-entry ledger (docs/money.md, "The ledger").
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
//! | `DisputedFunds` | debit | amounts Stripe withdrew for disputes that are still open |
//! | `Losses` | debit | money returned that no line could absorb (zero unless facts conflict) |
//! | `UnallocatedRefunds` | debit | refunds naming a line beyond what that line could absorb, borne by the platform until an owner resolves them |
//! | `Adjustments` | debit | owner corrections made to sellers' balances |
//! | `ExtraPayments` | credit | second payments of paid orders: the buyers' money until refunded |
//!
//! Money returned to buyers and money transferred to sellers leave through `Clearing`; their totals
//! are the credits of refund/dispute entries and transfer entries ([`Ledger::outflows`]).

mod entries;
mod facts;
mod journal;
mod order_book;

use crate::ids::{OrderItemId, UserId};
use crate::money::{Cents, MoneyError};

pub use entries::{
    adjustment_entry, extra_payment_entry, extra_payment_refund_entry,
    extra_payment_refund_failed_entry, transfer_entry, transfer_reversal_entry,
};
pub use facts::{EntryKey, Fact};
pub use journal::{
    JournalEntry, Ledger, LedgerError, Outflows, Posted, TrialBalance, TrialBalanceRow,
};
pub use order_book::{
    LineMoney, OrderMoney, RefundState, check_refund_amount, order_event_entry, order_paid_entry,
    refund_state,
};

/// The side on which an account normally carries its balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Grows with debits (assets and costs: clearing, dispute costs, losses, adjustments).
    Debit,
    /// Grows with credits (revenue and liabilities: fees, tax payable, seller payables).
    Credit,
}

impl Side {
    /// A debit-positive amount seen from this side.
    ///
    /// # Errors
    /// Overflow.
    pub fn signed(self, debit_positive: Cents) -> Result<Cents, MoneyError> {
        match self {
            Side::Debit => Ok(debit_positive),
            Side::Credit => debit_positive.checked_neg(),
        }
    }
}

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
    /// Amounts Stripe withdrew for disputes that are still open: they come back if the dispute is
    /// won and become the lines' refunds if it is lost.
    DisputedFunds,
    /// Money returned (refunded or disputed) beyond what the order's lines could absorb.
    Losses,
    /// The part of a refund naming a line that the line could not absorb: never charged to another
    /// line's seller, borne by the platform until an owner resolves it with an adjustment.
    UnallocatedRefunds,
    /// Owner corrections.
    Adjustments,
    /// Second payments of orders already paid: the buyers' money, owed back until refunded.
    ExtraPayments,
}

impl Account {
    /// The side the account normally carries its balance on.
    pub fn normal_side(&self) -> Side {
        match self {
            Account::Clearing
            | Account::DisputeCosts
            | Account::DisputedFunds
            | Account::Losses
            | Account::UnallocatedRefunds
            | Account::Adjustments => Side::Debit,
            Account::FeeRevenue
            | Account::TaxPayable
            | Account::SellerPayable(_)
            | Account::ExtraPayments => Side::Credit,
        }
    }

    /// Stable text form for storage: `clearing`, `seller_payable:<uuid>`, ….
    pub fn code(&self) -> String {
        match self {
            Account::Clearing => "clearing".to_owned(),
            Account::FeeRevenue => "fee_revenue".to_owned(),
            Account::TaxPayable => "tax_payable".to_owned(),
            Account::SellerPayable(seller) => format!("seller_payable:{seller}"),
            Account::DisputeCosts => "dispute_costs".to_owned(),
            Account::DisputedFunds => "disputed_funds".to_owned(),
            Account::Losses => "losses".to_owned(),
            Account::UnallocatedRefunds => "unallocated_refunds".to_owned(),
            Account::Adjustments => "adjustments".to_owned(),
            Account::ExtraPayments => "extra_payments".to_owned(),
        }
    }

    /// Parses [`Account::code`].
    pub fn parse(code: &str) -> Option<Account> {
        match code {
            "clearing" => Some(Account::Clearing),
            "fee_revenue" => Some(Account::FeeRevenue),
            "tax_payable" => Some(Account::TaxPayable),
            "dispute_costs" => Some(Account::DisputeCosts),
            "disputed_funds" => Some(Account::DisputedFunds),
            "losses" => Some(Account::Losses),
            "unallocated_refunds" => Some(Account::UnallocatedRefunds),
            "adjustments" => Some(Account::Adjustments),
            "extra_payments" => Some(Account::ExtraPayments),
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

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::money::Currency;

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
        assert_eq!(ledger.clearing(Currency::USD).unwrap(), Cents::new(-100));
        let trial = ledger.trial_balance(Currency::USD).unwrap();
        assert!(trial.is_balanced());
        assert_eq!(trial.total_debits, Cents::new(100));
        assert_eq!(
            trial.rows,
            [
                TrialBalanceRow {
                    account: Account::Clearing,
                    debits: Cents::ZERO,
                    credits: Cents::new(100)
                },
                TrialBalanceRow {
                    account: Account::SellerPayable(seller(1)),
                    debits: Cents::new(100),
                    credits: Cents::ZERO
                },
            ]
        );
        assert_eq!(trial.rows[1].balance().unwrap(), Cents::new(-100));
    }

    #[test]
    fn an_entry_says_how_it_moves_each_sellers_balance() {
        let paid_out = transfer_entry("tr_1", None, seller(1), Cents::new(100), Currency::USD);
        let changes = paid_out.unwrap().seller_balance_changes().unwrap();
        assert_eq!(
            changes.into_iter().collect::<Vec<_>>(),
            [(seller(1), Cents::new(-100))]
        );
        let credited = adjustment_entry(
            crate::ids::AdjustmentId::from_uuid(Uuid::from_u128(9)),
            seller(2),
            Cents::new(250),
            None,
            Currency::USD,
        );
        let changes = credited.unwrap().seller_balance_changes().unwrap();
        assert_eq!(
            changes.into_iter().collect::<Vec<_>>(),
            [(seller(2), Cents::new(250))]
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
            Account::DisputedFunds,
            Account::Losses,
            Account::UnallocatedRefunds,
            Account::Adjustments,
            Account::ExtraPayments,
        ] {
            assert_eq!(Account::parse(&account.code()), Some(account));
        }
        assert_eq!(Account::parse("seller_payable:nope"), None);
        for component in Component::ALL {
            assert_eq!(Component::parse(component.as_str()), Some(component));
        }
    }
}
