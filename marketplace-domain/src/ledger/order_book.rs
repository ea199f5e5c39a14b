//! Booking an order's money: its payment, and its refunds and disputes (the simple entries are in
//! `entries`).
//!
//! Refunds and disputes are the hard part, because Stripe delivers them in any order, sometimes
//! twice, and a refund made in the dashboard does not say which line it is for. The rule:
//!
//! 1. The *refund state* of an order is a pure function of the set of refund and dispute facts
//!    booked for it ([`refund_state`]). Facts are replayed in their canonical order (Stripe's
//!    `created`, then key): a refund naming a line is taken from that line, and anything beyond the
//!    line's remaining amount is *unallocated* (never charged to another line's seller: the
//!    platform carries it on `UnallocatedRefunds` until an owner resolves it); any other refund or a
//!    lost dispute is spread over the lines by their remaining refundable amount ([`allocate`]). A
//!    lost dispute is
//!    limited to what is not yet refunded; a won dispute cancels the loss of the same dispute, and a
//!    failed refund cancels that refund. What
//!    no line can absorb (a disputed amount beyond what is refundable, or a refund seen while a
//!    dispute it preceded in reality still looks lost) goes to `Losses`, so a real refund is always
//!    bookable; once the missing fact arrives it moves back onto the lines. Each line's refunded
//!    total is then split over its components (net, fee, tax, shipping) in proportion to what was
//!    paid for them, so a fully refunded line returns exactly its fee.
//! 2. Booking a new fact posts the difference between the state with it and the state without it
//!    ([`order_event_entry`]). Delivered in order, that is exactly the new fact's own split; delivered
//!    late, the entry also re-spreads what earlier facts booked. Either way every balance ends up the
//!    same whatever the delivery order.

use std::collections::BTreeMap;

use crate::ids::{OrderId, OrderItemId, UserId};
use crate::money::{Cents, Currency, MoneyError, allocate};
use crate::orders::PricedOrder;

use super::{Account, Component, Fact, JournalEntry, LedgerError, Posting};

/// What was paid for one order line, by component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineMoney {
    /// The line.
    pub line: OrderItemId,
    /// Its seller.
    pub seller: UserId,
    /// The seller's net (`gross − fee`).
    pub net: Cents,
    /// The platform's fee.
    pub fee: Cents,
    /// The line's tax share.
    pub tax: Cents,
    /// The line's shipping share.
    pub shipping: Cents,
    /// A physical line (refund requests are only for these).
    pub requires_shipping: bool,
}

impl LineMoney {
    /// The components in [`Component::ALL`] order.
    pub fn components(&self) -> [Cents; 4] {
        [self.net, self.fee, self.tax, self.shipping]
    }

    /// `net + fee`.
    pub fn gross(&self) -> Result<Cents, MoneyError> {
        self.net.checked_add(self.fee)
    }

    /// What the buyer paid for the line: gross + tax + shipping.
    pub fn paid(&self) -> Result<Cents, MoneyError> {
        Cents::sum(self.components())
    }

    /// What the seller is owed for it: net + shipping.
    pub fn seller_part(&self) -> Result<Cents, MoneyError> {
        self.net.checked_add(self.shipping)
    }
}

/// An order's lines as money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderMoney {
    /// The order.
    pub order: OrderId,
    /// Its currency.
    pub currency: Currency,
    /// Its lines.
    pub lines: Vec<LineMoney>,
    /// Whether Stripe's dispute fees are charged to the order's sellers (in proportion to their
    /// part of it) rather than borne by the platform: the site's setting when the order was placed.
    pub dispute_fee_to_sellers: bool,
}

impl OrderMoney {
    /// Builds the money view of a priced order whose lines got the ids `line_ids` (same order).
    ///
    /// # Errors
    /// [`LedgerError::LineCountMismatch`] when the ids do not match the lines one to one.
    pub fn from_priced(
        order: OrderId,
        line_ids: &[OrderItemId],
        priced: &PricedOrder,
    ) -> Result<OrderMoney, LedgerError> {
        if line_ids.len() != priced.lines.len() {
            return Err(LedgerError::LineCountMismatch {
                lines: priced.lines.len(),
                ids: line_ids.len(),
            });
        }
        Ok(OrderMoney {
            order,
            dispute_fee_to_sellers: false,
            currency: priced.currency,
            lines: priced
                .lines
                .iter()
                .zip(line_ids)
                .map(|(line, id)| LineMoney {
                    line: *id,
                    seller: line.seller,
                    net: line.net,
                    fee: line.fee,
                    tax: line.tax,
                    shipping: line.shipping,
                    requires_shipping: line.requires_shipping(),
                })
                .collect(),
        })
    }

    /// Σ paid over the lines: the charge.
    ///
    /// # Errors
    /// Overflow.
    pub fn total(&self) -> Result<Cents, MoneyError> {
        self.lines
            .iter()
            .try_fold(Cents::ZERO, |acc, l| acc.checked_add(l.paid()?))
    }

    /// The sellers of the order, each once, in line order.
    pub fn sellers(&self) -> Vec<UserId> {
        let mut sellers: Vec<UserId> = Vec::new();
        for line in &self.lines {
            if !sellers.contains(&line.seller) {
                sellers.push(line.seller);
            }
        }
        sellers
    }
}

/// The entry for a paid order: clearing receives the total; each seller is owed its lines' net and
/// shipping; the platform earns the fees; tax becomes payable. Every posting names its line.
///
/// # Errors
/// Overflow.
pub fn order_paid_entry(order: &OrderMoney) -> Result<JournalEntry, LedgerError> {
    let mut postings = vec![Posting::debit(Account::Clearing, order.total()?)];
    for line in &order.lines {
        let payable = Account::SellerPayable(line.seller);
        postings.push(Posting::credit(payable, line.net)?.on_line(line.line, Component::Net));
        postings
            .push(Posting::credit(payable, line.shipping)?.on_line(line.line, Component::Shipping));
        postings.push(
            Posting::credit(Account::FeeRevenue, line.fee)?.on_line(line.line, Component::Fee),
        );
        postings.push(
            Posting::credit(Account::TaxPayable, line.tax)?.on_line(line.line, Component::Tax),
        );
    }
    JournalEntry::new(
        Fact::OrderPaid { order: order.order },
        order.currency,
        postings,
    )
}

pub(super) fn positive(what: &'static str, amount: Cents) -> Result<(), LedgerError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(LedgerError::NonPositiveAmount { what, amount })
    }
}

/// What an order's refunds and disputes amount to, per line and component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefundState {
    /// Per line (in [`OrderMoney::lines`] order), the refunded amount of each component.
    pub lines: Vec<[Cents; 4]>,
    /// Money returned to the buyer or withdrawn by disputes and absorbed by the lines.
    pub refunded: Cents,
    /// Σ refund amounts.
    pub refund_cash: Cents,
    /// Σ cash withdrawn by disputes: amount and fee of open and lost ones, and the fee Stripe kept
    /// of won ones.
    pub dispute_cash: Cents,
    /// Σ dispute fees the platform bears (open, lost, and kept by Stripe after a win).
    pub dispute_fees: Cents,
    /// Σ dispute fees charged to the order's sellers instead
    /// ([`OrderMoney::dispute_fee_to_sellers`]).
    pub seller_dispute_fees: Cents,
    /// Σ amounts of disputes still open: withdrawn, outcome unknown.
    pub disputed: Cents,
    /// How many disputes are open (opened, neither won nor lost): the order's payouts are held.
    pub open_disputes: usize,
    /// How many disputes were lost (and not won afterwards): the buyer's files are revoked.
    pub lost_disputes: usize,
    /// Money returned beyond what the lines could absorb.
    pub unabsorbed: Cents,
    /// The part of refunds naming a line that the line could not absorb (or naming a line that is
    /// not in the order): the platform carries it until an owner resolves it.
    pub unallocated: Cents,
}

impl RefundState {
    /// Books a dispute fee on whoever bears it for this order.
    fn add_dispute_fee(&mut self, order: &OrderMoney, fee: Cents) -> Result<(), MoneyError> {
        if order.dispute_fee_to_sellers {
            self.seller_dispute_fees = self.seller_dispute_fees.checked_add(fee)?;
        } else {
            self.dispute_fees = self.dispute_fees.checked_add(fee)?;
        }
        Ok(())
    }

    /// What is still refundable on the order: its total less what the lines absorbed, what refunds
    /// returned beyond a named line (that money left too) and what open disputes withdrew (Stripe
    /// does not refund disputed money). Never negative.
    ///
    /// # Errors
    /// Overflow.
    pub fn refundable(&self, order: &OrderMoney) -> Result<Cents, MoneyError> {
        Ok(order
            .total()?
            .checked_sub(self.refunded)?
            .checked_sub(self.unallocated)?
            .checked_sub(self.disputed)?
            .max(Cents::ZERO))
    }

    /// The refunded amount of one line (all components).
    ///
    /// # Errors
    /// Overflow.
    pub fn line_refunded(&self, index: usize) -> Result<Cents, MoneyError> {
        self.lines
            .get(index)
            .map_or(Ok(Cents::ZERO), |parts| Cents::sum(*parts))
    }
}

/// The refund state of `order` given the refund and dispute facts booked for it (duplicates by
/// key count once; other kinds of facts are ignored). See the module documentation for the rule.
///
/// # Errors
/// [`LedgerError::NonPositiveAmount`] for a zero or negative refund or dispute amount.
pub fn refund_state(order: &OrderMoney, facts: &[&Fact]) -> Result<RefundState, LedgerError> {
    let mut unique: BTreeMap<String, &Fact> = BTreeMap::new();
    for fact in facts {
        if is_order_event(fact) {
            unique.entry(fact.key().as_str().to_owned()).or_insert(fact);
        }
    }
    let failed: Vec<&str> = unique
        .values()
        .filter_map(|f| match f {
            Fact::RefundFailed { refund_id, .. } => Some(refund_id.as_str()),
            _ => None,
        })
        .collect();
    let won: BTreeMap<&str, Cents> = unique
        .values()
        .filter_map(|f| match f {
            Fact::DisputeWon {
                dispute_id, fee, ..
            } => Some((dispute_id.as_str(), *fee)),
            _ => None,
        })
        .collect();
    let lost: Vec<&str> = unique
        .values()
        .filter_map(|f| match f {
            Fact::DisputeLost { dispute_id, .. } => Some(dispute_id.as_str()),
            _ => None,
        })
        .collect();
    let mut sequence: Vec<&Fact> = unique.values().copied().collect();
    sequence.sort_by(|a, b| {
        canonical_time(a)
            .cmp(&canonical_time(b))
            .then_with(|| a.key().cmp(&b.key()))
    });

    let mut remaining: Vec<Cents> = order
        .lines
        .iter()
        .map(LineMoney::paid)
        .collect::<Result<_, _>>()?;
    let mut refunded = vec![Cents::ZERO; order.lines.len()];
    let mut state = RefundState::default();
    for fact in sequence {
        match fact {
            Fact::Refund {
                refund_id,
                amount,
                line,
                ..
            } if !failed.contains(&refund_id.as_str()) => {
                positive("a refund", *amount)?;
                match line {
                    // Taken from the line it names, never from another seller's line.
                    Some(named) => {
                        let take = match order.lines.iter().position(|m| m.line == *named) {
                            Some(index) => {
                                let take = (*amount).min(remaining[index]);
                                remaining[index] = remaining[index].checked_sub(take)?;
                                refunded[index] = refunded[index].checked_add(take)?;
                                take
                            }
                            None => Cents::ZERO,
                        };
                        state.unallocated =
                            state.unallocated.checked_add(amount.checked_sub(take)?)?;
                    }
                    None => {
                        let unabsorbed = spread(*amount, &mut remaining, &mut refunded)?;
                        state.unabsorbed = state.unabsorbed.checked_add(unabsorbed)?;
                    }
                }
                state.refund_cash = state.refund_cash.checked_add(*amount)?;
            }
            Fact::DisputeLost {
                dispute_id,
                amount,
                fee,
                ..
            } if !won.contains_key(dispute_id.as_str()) => {
                positive("a disputed amount", *amount)?;
                let unabsorbed = spread(*amount, &mut remaining, &mut refunded)?;
                state.unabsorbed = state.unabsorbed.checked_add(unabsorbed)?;
                state.add_dispute_fee(order, *fee)?;
                state.dispute_cash = Cents::sum([state.dispute_cash, *amount, *fee])?;
                state.lost_disputes = state.lost_disputes.saturating_add(1);
            }
            // Open: withdrawn, held on `DisputedFunds` until it is won or lost.
            Fact::DisputeOpened {
                dispute_id,
                amount,
                fee,
                ..
            } if !won.contains_key(dispute_id.as_str()) && !lost.contains(&dispute_id.as_str()) => {
                positive("a disputed amount", *amount)?;
                state.disputed = state.disputed.checked_add(*amount)?;
                state.add_dispute_fee(order, *fee)?;
                state.dispute_cash = Cents::sum([state.dispute_cash, *amount, *fee])?;
                state.open_disputes = state.open_disputes.saturating_add(1);
            }
            // Won: the amount came back; only the fee Stripe kept is a cost.
            Fact::DisputeWon { fee, .. } => {
                state.add_dispute_fee(order, *fee)?;
                state.dispute_cash = state.dispute_cash.checked_add(*fee)?;
            }
            _ => {}
        }
    }
    state.refunded = Cents::sum(refunded.iter().copied())?;
    state.lines = order
        .lines
        .iter()
        .zip(&refunded)
        .map(|(line, total)| {
            let parts = allocate(*total, &line.components())?;
            Ok([parts[0], parts[1], parts[2], parts[3]])
        })
        .collect::<Result<_, LedgerError>>()?;
    Ok(state)
}

fn canonical_time(fact: &Fact) -> Option<time::OffsetDateTime> {
    match fact {
        Fact::Refund { created, .. }
        | Fact::DisputeLost { created, .. }
        | Fact::DisputeOpened { created, .. } => Some(*created),
        _ => None,
    }
}

/// Takes `amount` from the lines in proportion to what each still has refundable; returns the part
/// no line could absorb.
fn spread(
    amount: Cents,
    remaining: &mut [Cents],
    refunded: &mut [Cents],
) -> Result<Cents, LedgerError> {
    let refundable = Cents::sum(remaining.iter().copied())?;
    let absorbed = amount.min(refundable);
    if absorbed.is_positive() {
        let shares = allocate(absorbed, remaining)?;
        for ((left, done), share) in remaining.iter_mut().zip(refunded.iter_mut()).zip(shares) {
            *left = left.checked_sub(share)?;
            *done = done.checked_add(share)?;
        }
    }
    Ok(amount.checked_sub(absorbed)?)
}

/// Checks that a refund we are about to ask Stripe for fits in what is still refundable.
///
/// # Errors
/// [`LedgerError::RefundExceedsRefundable`], or [`LedgerError::NonPositiveAmount`].
pub fn check_refund_amount(
    order: &OrderMoney,
    state: &RefundState,
    amount: Cents,
) -> Result<(), LedgerError> {
    positive("a refund", amount)?;
    let refundable = state.refundable(order)?;
    if amount > refundable {
        Err(LedgerError::RefundExceedsRefundable {
            requested: amount,
            refundable,
        })
    } else {
        Ok(())
    }
}

type PostingKey = (Account, Option<OrderItemId>, Option<Component>);

/// The postings that bring the ledger from "no refunds" to `state`, keyed for differencing.
fn state_postings(
    order: &OrderMoney,
    state: &RefundState,
) -> Result<BTreeMap<PostingKey, Cents>, LedgerError> {
    let mut postings: BTreeMap<PostingKey, Cents> = BTreeMap::new();
    let mut add = |key: PostingKey, amount: Cents| -> Result<(), MoneyError> {
        let slot = postings.entry(key).or_insert(Cents::ZERO);
        *slot = slot.checked_add(amount)?;
        Ok(())
    };
    for (line, parts) in order.lines.iter().zip(&state.lines) {
        for (component, amount) in Component::ALL.into_iter().zip(parts) {
            let account = match component {
                Component::Net | Component::Shipping => Account::SellerPayable(line.seller),
                Component::Fee => Account::FeeRevenue,
                Component::Tax => Account::TaxPayable,
            };
            add((account, Some(line.line), Some(component)), *amount)?;
        }
    }
    // Fees charged to sellers are spread over the lines by each seller's part (net and shipping);
    // when no line has a part, the platform bears them after all.
    let weights: Vec<Cents> = order
        .lines
        .iter()
        .map(LineMoney::seller_part)
        .collect::<Result<_, _>>()?;
    let mut platform_fees = state.dispute_fees;
    if state.seller_dispute_fees.is_positive() && weights.iter().any(|w| w.is_positive()) {
        let shares = allocate(state.seller_dispute_fees, &weights)?;
        for (line, share) in order.lines.iter().zip(shares) {
            add(
                (Account::SellerPayable(line.seller), Some(line.line), None),
                share,
            )?;
        }
    } else {
        platform_fees = platform_fees.checked_add(state.seller_dispute_fees)?;
    }
    add((Account::DisputeCosts, None, None), platform_fees)?;
    add((Account::DisputedFunds, None, None), state.disputed)?;
    add((Account::Losses, None, None), state.unabsorbed)?;
    add((Account::UnallocatedRefunds, None, None), state.unallocated)?;
    add(
        (Account::Clearing, None, None),
        state
            .refund_cash
            .checked_add(state.dispute_cash)?
            .checked_neg()?,
    )?;
    Ok(postings)
}

/// Refunds, failed refunds, disputes and their outcomes: the facts [`refund_state`] folds.
fn is_order_event(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::Refund { .. }
            | Fact::RefundFailed { .. }
            | Fact::DisputeOpened { .. }
            | Fact::DisputeLost { .. }
            | Fact::DisputeWon { .. }
    )
}

/// The entry booking a refund, a failed refund, a lost or a won dispute for `order`, given the entries
/// already booked for it: the difference between the refund states with and without the new fact.
///
/// A fact that is among `booked` already gives an entry with no postings under the same key:
/// posting it is [`Posted::AlreadyBooked`](super::Posted::AlreadyBooked), like any replay.
///
/// # Errors
/// [`LedgerError::WrongOrder`], [`LedgerError::NotAnOrderEvent`], and the errors of
/// [`refund_state`].
pub fn order_event_entry(
    order: &OrderMoney,
    booked: &[&JournalEntry],
    fact: Fact,
) -> Result<JournalEntry, LedgerError> {
    if !is_order_event(&fact) {
        return Err(LedgerError::NotAnOrderEvent(fact.key()));
    }
    if fact.order() != Some(order.order) {
        return Err(LedgerError::WrongOrder {
            order: order.order,
            fact_order: fact.order(),
        });
    }
    let before: Vec<&Fact> = booked
        .iter()
        .map(|e| e.fact())
        .filter(|f| f.order() == Some(order.order))
        .collect();
    let mut after = before.clone();
    after.push(&fact);
    let old = state_postings(order, &refund_state(order, &before)?)?;
    let new = state_postings(order, &refund_state(order, &after)?)?;
    let mut postings = Vec::new();
    for (posting_key, amount) in &new {
        let previous = old.get(posting_key).copied().unwrap_or(Cents::ZERO);
        postings.push(posting(*posting_key, amount.checked_sub(previous)?));
    }
    for (posting_key, amount) in &old {
        if !new.contains_key(posting_key) {
            postings.push(posting(*posting_key, amount.checked_neg()?));
        }
    }
    JournalEntry::new(fact, order.currency, postings)
}

fn posting((account, line, component): PostingKey, amount: Cents) -> Posting {
    Posting {
        account,
        amount,
        line,
        component,
    }
}
