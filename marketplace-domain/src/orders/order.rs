//! An order as the marketplace keeps it, and every change to it.
//!
//! [`Order`] holds what was placed (buyer, lines, totals) and where its payment stands (status,
//! refunds, Stripe ids). Its fields can be read by anyone ([`OrderData`] through `Deref`) but only
//! its methods change them: placing, opening and ending checkout sessions, applying a payment, a
//! refund or a dispute outcome. Each method returns what the caller must persist besides the order
//! itself: the journal entry of a money fact and the events for the order's history. Facts that
//! were booked before change nothing, so every method can be replayed.
//!
//! Longer than our usual ~600 lines on purpose: the order is one aggregate, and keeping all of
//! its state changes in one file keeps every field's writers in sight.

use std::ops::Deref;

use time::OffsetDateTime;

use crate::catalog::ProductKind;
use crate::ids::{OrderId, OrderItemId, ProductId, UserId};
use crate::ledger::{
    Fact, JournalEntry, LedgerError, LineMoney, OrderMoney, RefundState, order_event_entry,
    order_paid_entry, refund_state,
};
use crate::money::{BasisPoints, Cents, Currency, MoneyError};
use crate::reconcile::{Anomaly, AnomalyKind};

use super::events::{OrderEvent, OrderEventKind};

mod checkout;
use super::pricing::{OrderKind, PricedOrder};
use super::status::{OrderStateError, OrderStatus};
pub use checkout::{
    CheckoutCompletion, CheckoutPaymentStatus, CheckoutState, CompletedCheckout, SessionEnd,
};

/// A shipping address collected at checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShippingAddress {
    /// Recipient.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Line 1.
    pub line1: String,
    /// Line 2.
    pub line2: String,
    /// City.
    pub city: String,
    /// State or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// Country code.
    pub country: String,
}

/// What an order's payment is tied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentReference {
    /// Nothing was to be paid: the order was paid at checkout without Stripe.
    Free,
    /// A Stripe payment intent (`pi_…`), known once a checkout completes.
    StripePaymentIntent(String),
}

impl PaymentReference {
    /// The payment intent, for Stripe payments.
    pub fn stripe_payment_intent(&self) -> Option<&str> {
        match self {
            PaymentReference::Free => None,
            PaymentReference::StripePaymentIntent(id) => Some(id),
        }
    }
}

/// How a payment was made, as it is confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payment {
    /// Nothing to pay.
    Free,
    /// Through Stripe.
    Stripe {
        /// The payment intent, when Stripe named one.
        payment_intent: Option<String>,
    },
}

/// One seller's part of an order ([`Order::seller_share`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SellerShare {
    /// Σ gross of their lines.
    pub subtotal: Cents,
    /// Their lines' shares of the tax.
    pub tax: Cents,
    /// Their lines' shares of the shipping.
    pub shipping: Cents,
    /// What the buyer paid for their lines.
    pub total: Cents,
    /// What was refunded of it (refunds and lost disputes that stand).
    pub refunded: Cents,
    /// One of their lines ships.
    pub ships: bool,
}

/// One line of an order: a snapshot of the product, its seller, price and money split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLine {
    /// Id.
    pub id: OrderItemId,
    /// The order.
    pub order_id: OrderId,
    /// The product.
    pub product_id: ProductId,
    /// The seller when ordered.
    pub seller_id: UserId,
    /// The title when ordered.
    pub title: String,
    /// Kind.
    pub kind: ProductKind,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub unit_price: Cents,
    /// `quantity × unit_price`.
    pub gross: Cents,
    /// The platform's fee.
    pub fee: Cents,
    /// The seller's net.
    pub net: Cents,
    /// The line's share of the order's tax.
    pub tax: Cents,
    /// The line's share of the order's shipping.
    pub shipping: Cents,
    /// Position in the order.
    pub position: i32,
}

impl OrderLine {
    /// The line as money.
    pub fn money(&self) -> LineMoney {
        LineMoney {
            line: self.id,
            seller: self.seller_id,
            net: self.net,
            fee: self.fee,
            tax: self.tax,
            shipping: self.shipping,
            requires_shipping: self.kind.requires_shipping(),
        }
    }
}

/// Everything an order records. Read it through an [`Order`]; change it only with `Order`'s
/// methods. Stores build it from their rows and [`Order::restore`] it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderData {
    /// Id.
    pub id: OrderId,
    /// Registered buyer.
    pub buyer_id: Option<UserId>,
    /// Guest e-mail (lower case), for guest orders.
    pub guest_email: Option<String>,
    /// Secret giving guests access to the order (compared in constant time).
    pub access_token: String,
    /// Status.
    pub status: OrderStatus,
    /// Digital, physical or mixed.
    pub kind: OrderKind,
    /// Currency.
    pub currency: Currency,
    /// The fee rate when it was placed.
    pub fee_rate: BasisPoints,
    /// Whether Stripe's dispute fees are charged to the sellers (the site's setting when it was
    /// placed).
    pub dispute_fee_to_sellers: bool,
    /// Σ line gross.
    pub subtotal: Cents,
    /// Tax.
    pub tax: Cents,
    /// Shipping.
    pub shipping: Cents,
    /// What the buyer pays.
    pub total: Cents,
    /// Returned to the buyer so far (refunds and lost disputes).
    pub refunded: Cents,
    /// What the payment is tied to.
    pub payment: Option<PaymentReference>,
    /// The Stripe Checkout state.
    pub checkout: CheckoutState,
    /// The charge (`ch_…`) that funds the sellers' transfers.
    pub charge_id: Option<String>,
    /// What Stripe last said was refunded of that charge (`charge.refunded`'s cumulative
    /// `amount_refunded`) and when it said so: reconciliation compares it with the refunds booked.
    pub stripe_refunded: Option<(Cents, OffsetDateTime)>,
    /// When the payment was confirmed.
    pub paid_at: Option<OffsetDateTime>,
    /// Where it ships.
    pub shipping_address: Option<ShippingAddress>,
    /// Placed.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// What a change to an order asks its caller to persist besides the order: the journal entry of a
/// new money fact (none for a replay) and the events for its history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "the entry and events must be stored with the order"]
pub struct OrderChange {
    /// The entry to append (absent when the fact was booked before).
    pub entry: Option<JournalEntry>,
    /// Events to append to the order's history.
    pub events: Vec<OrderEvent>,
    /// Money facts that could not be taken as they came, for an owner (once per kind and Stripe
    /// reference).
    pub anomalies: Vec<Anomaly>,
}

impl OrderChange {
    /// True when a new money fact was booked.
    pub fn booked_something(&self) -> bool {
        self.entry.is_some()
    }
}

/// A new order's lines: the id and title given to each priced line, in the same order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLine {
    /// The line's id.
    pub id: OrderItemId,
    /// The product's title when ordered.
    pub title: String,
}

/// An order to place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// Its id.
    pub id: OrderId,
    /// The registered buyer.
    pub buyer_id: Option<UserId>,
    /// The guest's e-mail (lower case).
    pub guest_email: Option<String>,
    /// The guest access secret.
    pub access_token: String,
    /// The priced cart.
    pub priced: PricedOrder,
    /// One per priced line.
    pub lines: Vec<NewLine>,
    /// Whether Stripe's dispute fees will be charged to the sellers (the site's setting now).
    pub dispute_fee_to_sellers: bool,
}

/// An order: its data (read through `Deref`) and its lines; changed only by its methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    data: OrderData,
    lines: Vec<OrderLine>,
}

impl Deref for Order {
    type Target = OrderData;

    fn deref(&self) -> &OrderData {
        &self.data
    }
}

impl Order {
    /// Rebuilds a stored order.
    pub fn restore(data: OrderData, lines: Vec<OrderLine>) -> Order {
        Order { data, lines }
    }

    /// Places an order: pending, with the priced lines. Returns it with its first event.
    ///
    /// # Errors
    /// [`OrderStateError::LinesMismatch`] when `lines` does not name each priced line once.
    pub fn place(
        new: NewOrder,
        now: OffsetDateTime,
    ) -> Result<(Order, OrderEvent), OrderStateError> {
        if new.lines.len() != new.priced.lines.len() {
            return Err(OrderStateError::LinesMismatch {
                priced: new.priced.lines.len(),
                named: new.lines.len(),
            });
        }
        let lines: Vec<OrderLine> = new
            .priced
            .lines
            .iter()
            .zip(new.lines)
            .zip(0_i32..)
            .map(|((priced, named), position)| OrderLine {
                id: named.id,
                order_id: new.id,
                product_id: priced.product,
                seller_id: priced.seller,
                title: named.title,
                kind: priced.kind,
                quantity: priced.quantity,
                unit_price: priced.unit_price,
                gross: priced.gross,
                fee: priced.fee,
                net: priced.net,
                tax: priced.tax,
                shipping: priced.shipping,
                position,
            })
            .collect();
        let priced = new.priced;
        let event = OrderEvent::created(lines.len(), priced.total);
        let data = OrderData {
            id: new.id,
            buyer_id: new.buyer_id,
            guest_email: new.guest_email,
            access_token: new.access_token,
            status: OrderStatus::Pending,
            kind: priced.kind,
            currency: priced.currency,
            fee_rate: priced.fee_rate,
            dispute_fee_to_sellers: new.dispute_fee_to_sellers,
            subtotal: priced.subtotal,
            tax: priced.tax,
            shipping: priced.shipping,
            total: priced.total,
            refunded: Cents::ZERO,
            payment: None,
            checkout: CheckoutState::default(),
            charge_id: None,
            stripe_refunded: None,
            paid_at: None,
            shipping_address: None,
            created_at: now,
            updated_at: now,
        };
        Ok((Order { data, lines }, event))
    }

    /// The lines, in position order.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    /// The data and the lines, for storing.
    pub fn into_parts(self) -> (OrderData, Vec<OrderLine>) {
        (self.data, self.lines)
    }

    /// The order's money: what each line paid, by component.
    pub fn money(&self) -> OrderMoney {
        OrderMoney {
            order: self.data.id,
            dispute_fee_to_sellers: self.data.dispute_fee_to_sellers,
            currency: self.data.currency,
            lines: self.lines.iter().map(OrderLine::money).collect(),
        }
    }

    /// What refunds and disputes took from the order, per line, given its booked entries.
    ///
    /// # Errors
    /// [`LedgerError`] when a booked refund or dispute amount is not positive, or on overflow.
    pub fn refunds(&self, booked: &[JournalEntry]) -> Result<RefundState, LedgerError> {
        let facts: Vec<&Fact> = booked.iter().map(JournalEntry::fact).collect();
        refund_state(&self.money(), &facts)
    }

    /// One seller's part of the order, as their view of it shows: their lines' gross, tax and
    /// shipping shares, what the buyer paid for them, what was refunded of it, and whether any of
    /// their lines ships (only then do they see where it goes).
    ///
    /// # Errors
    /// As [`Order::refunds`].
    pub fn seller_share(
        &self,
        seller: UserId,
        booked: &[JournalEntry],
    ) -> Result<SellerShare, LedgerError> {
        let refunds = self.refunds(booked)?;
        let mut share = SellerShare::default();
        for (index, line) in self.lines.iter().enumerate() {
            if line.seller_id != seller {
                continue;
            }
            share.subtotal = share.subtotal.checked_add(line.gross)?;
            share.tax = share.tax.checked_add(line.tax)?;
            share.shipping = share.shipping.checked_add(line.shipping)?;
            share.refunded = share.refunded.checked_add(refunds.line_refunded(index)?)?;
            share.ships |= line.kind == ProductKind::Model;
        }
        share.total = share
            .subtotal
            .checked_add(share.tax)?
            .checked_add(share.shipping)?;
        Ok(share)
    }

    /// Whether each line (in line order) was refunded in full: something was paid for it, and
    /// the refunds and lost disputes that stand took all of it back.
    ///
    /// # Errors
    /// As [`Order::refunds`].
    pub fn lines_refunded_in_full(
        &self,
        booked: &[JournalEntry],
    ) -> Result<Vec<bool>, LedgerError> {
        Ok(self.refunded_in_full(&self.refunds(booked)?)?)
    }

    fn refunded_in_full(&self, refunds: &RefundState) -> Result<Vec<bool>, MoneyError> {
        let mut full = Vec::with_capacity(self.lines.len());
        for (index, line) in self.lines.iter().enumerate() {
            let paid = line.money().paid()?;
            full.push(paid.is_positive() && refunds.line_refunded(index)? >= paid);
        }
        Ok(full)
    }

    /// Each FILE line with whether its entitlement stands revoked (docs/money.md, "Digital
    /// entitlements"): the line was refunded in full, or a dispute on the order was lost and not
    /// won afterwards. A refund that fails gives the files back.
    ///
    /// # Errors
    /// As [`Order::refunds`].
    pub fn file_lines_revoked(
        &self,
        booked: &[JournalEntry],
    ) -> Result<Vec<(OrderItemId, bool)>, LedgerError> {
        let refunds = self.refunds(booked)?;
        let lost_dispute = refunds.lost_disputes > 0;
        let full = self.refunded_in_full(&refunds)?;
        Ok(self
            .lines
            .iter()
            .zip(full)
            .filter(|(line, _)| line.kind == ProductKind::File)
            .map(|(line, full)| (line.id, lost_dispute || full))
            .collect())
    }

    /// The sellers of the order, each once, in line order.
    pub fn sellers(&self) -> Vec<UserId> {
        self.money().sellers()
    }

    /// The guest access token, for guest orders (registered buyers' orders have none to show).
    pub fn guest_token(&self) -> Option<&str> {
        self.data
            .guest_email
            .as_ref()
            .map(|_| self.data.access_token.as_str())
    }

    /// True when nothing is to be paid.
    pub fn is_free(&self) -> bool {
        self.data.total.is_zero()
    }

    /// True when it was paid at checkout without Stripe.
    pub fn paid_free(&self) -> bool {
        self.data.payment == Some(PaymentReference::Free)
    }

    /// True when anything in it ships.
    pub fn ships(&self) -> bool {
        self.lines.iter().any(|l| l.kind.requires_shipping())
    }

    /// Checks the order can be paid now.
    ///
    /// # Errors
    /// [`OrderStateError::NotPayable`] unless it is pending.
    pub fn ensure_payable(&self) -> Result<(), OrderStateError> {
        if self.data.status == OrderStatus::Pending {
            Ok(())
        } else {
            Err(OrderStateError::NotPayable {
                status: self.data.status,
            })
        }
    }

    /// Remembers the charge that funds the sellers' transfers (the first one named). Returns
    /// whether it was new.
    pub fn remember_charge(&mut self, charge: &str, now: OffsetDateTime) -> bool {
        if self.data.charge_id.is_some() {
            return false;
        }
        self.data.charge_id = Some(charge.to_owned());
        self.data.updated_at = now;
        true
    }

    /// Notes what Stripe says was refunded of the order's charge, as of `as_of` (an older report
    /// than the one kept changes nothing, so deliveries may come in any order). Returns whether it
    /// changed.
    pub fn note_stripe_refunded(
        &mut self,
        amount: Cents,
        as_of: OffsetDateTime,
        now: OffsetDateTime,
    ) -> bool {
        if self.data.stripe_refunded.is_some_and(|(_, at)| at > as_of) {
            return false;
        }
        self.data.stripe_refunded = Some((amount, as_of));
        self.data.updated_at = now;
        true
    }

    /// The payment intent, for Stripe payments.
    pub fn stripe_payment_intent(&self) -> Option<&str> {
        self.data
            .payment
            .as_ref()
            .and_then(PaymentReference::stripe_payment_intent)
    }

    /// Applies a confirmed payment: books the order-paid entry once (none when `booked` has it),
    /// moves the status forward (refunds seen before the payment still count) and records how it
    /// was paid. A payment for a canceled order is booked as paid, with a warning. On error
    /// nothing changed.
    ///
    /// # Errors
    /// [`LedgerError`] when the order's money cannot be booked (overflow).
    pub fn apply_payment(
        &mut self,
        payment: &Payment,
        booked: &[JournalEntry],
        now: OffsetDateTime,
    ) -> Result<OrderChange, LedgerError> {
        let money = self.money();
        let entry = order_paid_entry(&money)?;
        let facts: Vec<&Fact> = booked.iter().map(JournalEntry::fact).collect();
        let state = refund_state(&money, &facts)?;
        let newly = !booked.iter().any(|e| e.key() == entry.key());
        let mut events = Vec::new();
        self.data.status = match self.data.status.on_payment() {
            Ok(status) => status,
            Err(_) => {
                events.push(OrderEvent::warning(
                    "payment received for a canceled order: booked as paid",
                ));
                OrderStatus::Paid
            }
        };
        self.data.paid_at = self.data.paid_at.or(Some(now));
        match payment {
            Payment::Free => self.data.payment = Some(PaymentReference::Free),
            Payment::Stripe { payment_intent } => {
                if self.data.payment.is_none() {
                    self.data.payment = payment_intent
                        .clone()
                        .map(PaymentReference::StripePaymentIntent);
                }
            }
        }
        self.data.refunded = state.refunded;
        if let Ok(status) = self
            .data
            .status
            .on_refunds(true, state.refunded, self.data.total)
        {
            self.data.status = status;
        }
        self.data.updated_at = now;
        if !newly {
            return Ok(OrderChange {
                entry: None,
                events,
                anomalies: Vec::new(),
            });
        }
        let how = match payment {
            Payment::Free => "free checkout".to_owned(),
            Payment::Stripe { payment_intent } => format!(
                "Stripe payment {}",
                payment_intent.as_deref().unwrap_or("(no payment intent)")
            ),
        };
        events.push(OrderEvent::new(
            OrderEventKind::Paid,
            format!("paid via {how}"),
        ));
        Ok(OrderChange {
            entry: Some(entry),
            events,
            anomalies: Vec::new(),
        })
    }

    /// Applies a refund, a failed refund, a dispute or its outcome ([`Fact::Refund`],
    /// [`Fact::RefundFailed`], [`Fact::DisputeOpened`], [`Fact::DisputeLost`],
    /// [`Fact::DisputeWon`]): books it once, sets the refunded amount and the status from the
    /// refunds that stand, records an unallocated refund as an anomaly, and describes it in the
    /// history. A replay changes nothing.
    ///
    /// # Errors
    /// [`LedgerError`] when the money core refuses the fact (another order's, not an order event,
    /// a non-positive amount); nothing changed then.
    pub fn apply_money_event(
        &mut self,
        fact: Fact,
        booked: &[JournalEntry],
        now: OffsetDateTime,
    ) -> Result<OrderChange, LedgerError> {
        if booked.iter().any(|e| e.key() == fact.key()) {
            return Ok(OrderChange::default());
        }
        let money = self.money();
        let booked_refs: Vec<&JournalEntry> = booked.iter().collect();
        let entry = order_event_entry(&money, &booked_refs, fact)?;
        let mut facts: Vec<&Fact> = booked.iter().map(JournalEntry::fact).collect();
        facts.push(entry.fact());
        let state = refund_state(&money, &facts)?;
        let before = refund_state(&money, &facts[..facts.len().saturating_sub(1)])?;
        let mut events = Vec::new();
        self.data.refunded = state.refunded;
        let paid = self.data.paid_at.is_some();
        match self
            .data
            .status
            .on_refunds(paid, state.refunded, self.data.total)
        {
            Ok(status) => self.data.status = status,
            Err(error) => events.push(OrderEvent::warning(error.to_string())),
        }
        let mut anomalies = Vec::new();
        if state.unallocated > before.unallocated {
            let excess = state.unallocated.checked_sub(before.unallocated)?;
            events.push(OrderEvent::warning(format!(
                "{excess} of {} could not be taken from the line it names: held as an unallocated \
                 refund for an owner to resolve",
                entry.key()
            )));
            anomalies.push(Anomaly {
                kind: AnomalyKind::UnallocatedRefund,
                reference: entry.key().as_str().to_owned(),
                amount: Some(excess),
                currency: Some(self.data.currency.as_str().to_owned()),
                resolved: false,
            });
        }
        self.data.updated_at = now;
        events.push(OrderEvent::booked(entry.fact()));
        Ok(OrderChange {
            entry: Some(entry),
            events,
            anomalies,
        })
    }
}

#[cfg(test)]
mod tests;
