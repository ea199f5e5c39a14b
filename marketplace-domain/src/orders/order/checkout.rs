//! Checkout: the order's Stripe Checkout sessions — opening one, reusing it while open, replacing
//! it when it ended — and applying a completed session's payment.

use time::OffsetDateTime;

use super::{Order, OrderChange, Payment, PaymentReference, ShippingAddress};
use crate::ledger::{JournalEntry, LedgerError, extra_payment_entry};
use crate::money::Cents;
use crate::orders::events::{OrderEvent, OrderEventKind};
use crate::reconcile::{Anomaly, AnomalyKind};

/// The order's Stripe Checkout: the current session and how many were opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckoutState {
    /// The current session (`cs_…`).
    pub session_id: Option<String>,
    /// Its hosted page.
    pub url: Option<String>,
    /// How many sessions were opened (part of the idempotency key of the next one).
    pub attempt: i32,
    /// The current session expired or its payment failed: a new one may be opened.
    pub expired: bool,
}

/// Whether Stripe says a completed checkout was paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutPaymentStatus {
    /// The money is there.
    Paid,
    /// Not yet (a delayed payment method).
    Unpaid,
    /// Nothing was to be paid.
    NoPaymentRequired,
    /// A status this version does not know (treated as not paid).
    Other(String),
}

impl CheckoutPaymentStatus {
    /// Parses Stripe's `payment_status`.
    pub fn parse(text: &str) -> CheckoutPaymentStatus {
        match text {
            "paid" => CheckoutPaymentStatus::Paid,
            "unpaid" => CheckoutPaymentStatus::Unpaid,
            "no_payment_required" => CheckoutPaymentStatus::NoPaymentRequired,
            other => CheckoutPaymentStatus::Other(other.to_owned()),
        }
    }

    /// Stripe's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            CheckoutPaymentStatus::Paid => "paid",
            CheckoutPaymentStatus::Unpaid => "unpaid",
            CheckoutPaymentStatus::NoPaymentRequired => "no_payment_required",
            CheckoutPaymentStatus::Other(other) => other,
        }
    }
}

/// A checkout session Stripe reports complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedCheckout {
    /// `cs_…`.
    pub session_id: String,
    /// Its payment intent.
    pub payment_intent: Option<String>,
    /// Whether the money is there.
    pub payment_status: CheckoutPaymentStatus,
    /// What Stripe charged.
    pub amount_total: Option<Cents>,
    /// The currency it charged in, as Stripe spells it (`usd`).
    pub currency: Option<String>,
    /// The shipping address collected.
    pub shipping: Option<ShippingAddress>,
}

/// How a checkout session ended without paying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Its delayed payment failed.
    PaymentFailed,
    /// It expired.
    Expired,
}

/// What a completed checkout did to the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutCompletion {
    /// Completed with a payment that has not settled.
    AwaitingPayment,
    /// Another payment had paid the order already: this one belongs to the buyer (recorded as an
    /// extra payment for an owner).
    PaidByAnotherPayment,
    /// The session charged in another currency than the order's: recorded, not booked.
    WrongCurrency,
    /// The payment was applied (`newly` false when it had been before).
    Paid {
        /// First time this payment was booked.
        newly: bool,
    },
    /// The money core refused the payment (recorded as a warning on the order).
    NotBooked(LedgerError),
}

impl Order {
    /// The current checkout session, unless it ended (then a new one may be opened).
    pub fn open_session(&self) -> Option<&str> {
        match &self.data.checkout {
            CheckoutState {
                session_id: Some(id),
                expired: false,
                ..
            } => Some(id),
            _ => None,
        }
    }

    /// The attempt number of the next checkout session (its idempotency key includes it).
    pub fn next_checkout_attempt(&self) -> i32 {
        let checkout = &self.data.checkout;
        if checkout.session_id.is_some() {
            checkout.attempt.saturating_add(1)
        } else {
            checkout.attempt.max(1)
        }
    }

    /// Records a newly opened checkout session, unless a later attempt was recorded meanwhile.
    pub fn record_checkout_session(
        &mut self,
        attempt: i32,
        session_id: &str,
        url: Option<String>,
        now: OffsetDateTime,
    ) -> Option<OrderEvent> {
        if attempt < self.data.checkout.attempt {
            return None;
        }
        self.data.checkout = CheckoutState {
            session_id: Some(session_id.to_owned()),
            url,
            attempt,
            expired: false,
        };
        self.data.updated_at = now;
        Some(OrderEvent::checkout_session_created(session_id))
    }

    /// A checkout session ended unpaid: if it is the current one, a new one may be opened.
    pub fn end_session(
        &mut self,
        session_id: &str,
        how: SessionEnd,
        now: OffsetDateTime,
    ) -> OrderEvent {
        if self.data.checkout.session_id.as_deref() == Some(session_id) {
            self.data.checkout.expired = true;
            self.data.updated_at = now;
        }
        let kind = match how {
            SessionEnd::PaymentFailed => OrderEventKind::PaymentFailed,
            SessionEnd::Expired => OrderEventKind::CheckoutExpired,
        };
        OrderEvent::new(kind, format!("session {session_id}"))
    }

    /// A checkout session completed: records its session, payment intent and shipping address,
    /// and applies its payment when the money is there. The session that pays is the order's
    /// payment, whatever an earlier attempt (a delayed payment that failed, say) left behind; a
    /// second payment of an order already paid is flagged for a refund.
    pub fn complete_checkout(
        &mut self,
        session: &CompletedCheckout,
        booked: &[JournalEntry],
        now: OffsetDateTime,
    ) -> (CheckoutCompletion, OrderChange) {
        let pays = session.payment_status == CheckoutPaymentStatus::Paid;
        let intent = session.payment_intent.clone();
        let mut events = Vec::new();
        // Money in another currency is recorded, never booked nor summed with the order's: not as
        // its payment, not as a second payment.
        if let Some(currency) = session
            .currency
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case(self.data.currency.as_str()))
        {
            events.push(OrderEvent::warning(format!(
                "session {} is in {currency}, the order in {}: not booked",
                session.session_id, self.data.currency
            )));
            let anomaly = Anomaly {
                kind: AnomalyKind::CurrencyMismatch,
                reference: session.session_id.clone(),
                amount: session.amount_total,
                currency: Some(currency.to_owned()),
                resolved: false,
            };
            return (
                CheckoutCompletion::WrongCurrency,
                OrderChange {
                    entry: None,
                    events,
                    anomalies: vec![anomaly],
                },
            );
        }
        if pays && !self.data.status.was_paid() {
            if self.stripe_payment_intent() != intent.as_deref() {
                // Its charge belonged to the earlier attempt.
                self.data.charge_id = None;
            }
            self.data.checkout.session_id = Some(session.session_id.clone());
            self.data.payment = intent.clone().map(PaymentReference::StripePaymentIntent);
        } else {
            if self.data.checkout.session_id.is_none() {
                self.data.checkout.session_id = Some(session.session_id.clone());
            }
            if self.data.payment.is_none() {
                self.data.payment = intent.clone().map(PaymentReference::StripePaymentIntent);
            }
            if pays && self.stripe_payment_intent() != intent.as_deref() {
                let reference = intent.clone().unwrap_or_else(|| session.session_id.clone());
                events.push(OrderEvent::warning(format!(
                    "a second payment ({reference}) arrived through session {} for an order already paid: it belongs to the buyer and is refunded",
                    session.session_id
                )));
                // Booked once, as the buyer's money, when its amount and payment intent are known.
                let entry = match (intent.as_deref(), session.amount_total) {
                    (Some(intent), Some(amount)) => {
                        extra_payment_entry(self.data.id, intent, amount, self.data.currency)
                            .ok()
                            .filter(|e| !booked.iter().any(|b| b.key() == e.key()))
                    }
                    _ => None,
                };
                return (
                    CheckoutCompletion::PaidByAnotherPayment,
                    OrderChange {
                        entry,
                        events,
                        anomalies: vec![Anomaly {
                            kind: AnomalyKind::ExtraPayment,
                            reference,
                            amount: session.amount_total,
                            currency: session.currency.clone(),
                            resolved: false,
                        }],
                    },
                );
            }
        }
        if session.shipping.is_some() {
            self.data.shipping_address.clone_from(&session.shipping);
        }
        self.data.updated_at = now;
        if !pays {
            events.push(OrderEvent::new(
                OrderEventKind::PaymentPending,
                format!(
                    "session {} completed, payment {}",
                    session.session_id,
                    session.payment_status.as_str()
                ),
            ));
            return (
                CheckoutCompletion::AwaitingPayment,
                OrderChange {
                    entry: None,
                    events,
                    anomalies: Vec::new(),
                },
            );
        }
        let mut anomalies = Vec::new();
        if let Some(amount) = session.amount_total.filter(|a| *a != self.data.total) {
            events.push(OrderEvent::warning(format!(
                "session {} charged {amount}, the order total is {}: payouts held until an owner resolves it",
                session.session_id, self.data.total
            )));
            anomalies.push(Anomaly {
                kind: AnomalyKind::ChargeMismatch,
                reference: session.session_id.clone(),
                amount: Some(amount),
                currency: session.currency.clone(),
                resolved: false,
            });
        }
        let payment = Payment::Stripe {
            payment_intent: intent,
        };
        match self.apply_payment(&payment, booked, now) {
            Ok(mut change) => {
                events.append(&mut change.events);
                let newly = change.booked_something();
                (
                    CheckoutCompletion::Paid { newly },
                    OrderChange {
                        entry: change.entry,
                        events,
                        anomalies,
                    },
                )
            }
            Err(error) => {
                events.push(OrderEvent::warning(format!("payment not booked: {error}")));
                (
                    CheckoutCompletion::NotBooked(error),
                    OrderChange {
                        entry: None,
                        events,
                        anomalies,
                    },
                )
            }
        }
    }
}
