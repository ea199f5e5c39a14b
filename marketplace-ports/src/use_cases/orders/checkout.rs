//! Paying an order: at once when it costs nothing, otherwise through a Stripe Checkout Session
//! (re-used while open, replaced once expired). No Stripe call is made while a transaction is open.

use std::collections::BTreeMap;

use marketplace_domain::ids::OrderId;
use marketplace_domain::orders::{Order, OrderStateError, OrderStatus, Payment};
use marketplace_domain::site::check_return_url;
use marketplace_domain::validation::FieldErrors;

use super::{OrderAccess, is_buyer};
use crate::ports::{
    CheckoutLine, CheckoutSessionStatus, NewCheckoutSession, PaymentError, StoreError,
};
use crate::use_cases::shared::booking::{BookingError, mark_paid, record_events};
use crate::use_cases::shared::sellers::unready_sellers;
use crate::use_cases::{ErrorKind, UseCaseError};

/// Why an order could not be paid.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// No such order, or not the caller's (the same answer, on purpose).
    #[error("order not found")]
    NotFound,
    /// The order cannot be paid in its state.
    #[error("this order is {0} and cannot be paid")]
    NotPayable(OrderStatus),
    /// The buyer has paid; the payment's confirmation has not arrived yet.
    #[error("the payment was made and is waiting for confirmation")]
    PaymentInProgress,
    /// Some sellers cannot receive payouts yet.
    #[error("these sellers haven't completed payout setup yet: {}", .0.join(", "))]
    SellersNotReady(Vec<String>),
    /// The payment provider failed.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// Booking a free order failed (a bug).
    #[error(transparent)]
    Booking(#[from] BookingError),
    /// A return URL is not one buyers may be sent to.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UseCaseError for CheckoutError {
    fn kind(&self) -> ErrorKind {
        match self {
            CheckoutError::NotFound => ErrorKind::NotFound,
            CheckoutError::Invalid(fields) => ErrorKind::Invalid(fields.clone()),
            CheckoutError::NotPayable(_) => ErrorKind::Conflict {
                code: "order_not_payable",
            },
            CheckoutError::PaymentInProgress => ErrorKind::Conflict {
                code: "payment_in_progress",
            },
            CheckoutError::SellersNotReady(_) => ErrorKind::Conflict {
                code: "sellers_not_ready",
            },
            CheckoutError::Payment(e) => e.kind(),
            CheckoutError::Booking(BookingError::Store(e)) | CheckoutError::Store(e) => e.kind(),
            CheckoutError::Booking(BookingError::Ledger(_)) => ErrorKind::Internal,
        }
    }
}

/// Where a web client wants the buyer sent back after Stripe's page (absent: our own pages).
/// Each must be an absolute http(s) URL of an origin in `Settings::allowed_return_origins`; the
/// success URL gets `session_id={CHECKOUT_SESSION_ID}` added. An open session keeps the URLs it
/// was made with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReturnUrls {
    /// After paying.
    pub success: Option<String>,
    /// After giving up.
    pub cancel: Option<String>,
}

impl ReturnUrls {
    fn checked(&self, allowed: &[String]) -> Result<(), CheckoutError> {
        let mut fields = FieldErrors::default();
        for (field, url) in [("success_url", &self.success), ("cancel_url", &self.cancel)] {
            if let Some(url) = url
                && let Err(error) = check_return_url(url, allowed)
            {
                fields.add(field, error.to_string());
            }
        }
        if fields.is_empty() {
            Ok(())
        } else {
            Err(CheckoutError::Invalid(fields))
        }
    }
}

/// `url` with `session_id={CHECKOUT_SESSION_ID}` added to its query (before any fragment).
fn with_session_id(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{separator}session_id={{CHECKOUT_SESSION_ID}}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// What checkout did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// Nothing to pay: the order is paid.
    Paid,
    /// Pay on this hosted page.
    Redirect {
        /// The Checkout Session's URL.
        url: String,
    },
}

operation_group!(
    /// Paying orders.
    Checkout
);

impl Checkout {
    /// Pays an order: its buyer or the holder of its guest token only.
    ///
    /// # Errors
    /// [`CheckoutError::NotFound`] (also for anyone but the buyer), [`CheckoutError::NotPayable`],
    /// [`CheckoutError::SellersNotReady`], [`CheckoutError::PaymentInProgress`],
    /// [`CheckoutError::Payment`], [`CheckoutError::Invalid`] for a return URL of an origin not
    /// allowed.
    pub async fn checkout(
        &self,
        id: OrderId,
        access: OrderAccess<'_>,
        returns: &ReturnUrls,
    ) -> Result<CheckoutOutcome, CheckoutError> {
        returns.checked(&self.deps.settings.allowed_return_origins)?;
        let now = self.deps.clock.now();
        let mut tx = self.deps.uow.begin().await?;
        let mut order = tx
            .orders()?
            .get_order_for_update(id)
            .await?
            // Only the buyer pays (or the holder of the guest token): staff and owners may see
            // every order, but not start paying someone else's.
            .filter(|order| is_buyer(self.deps.crypto.as_ref(), order, access))
            .ok_or(CheckoutError::NotFound)?;
        order.ensure_payable().map_err(|e| match e {
            OrderStateError::NotPayable { status } => CheckoutError::NotPayable(status),
            _ => CheckoutError::NotPayable(order.status),
        })?;
        let unready = unready_sellers(tx.as_mut(), &order).await?;
        if !unready.is_empty() && !access.actor.is_some_and(|a| a.roles.is_owner()) {
            return Err(CheckoutError::SellersNotReady(unready));
        }
        if order.is_free() {
            mark_paid(tx.as_mut(), &mut order, &Payment::Free, &self.deps, now).await?;
            tx.commit().await?;
            return Ok(CheckoutOutcome::Paid);
        }
        let shipping_countries = if order.ships() {
            Some(
                tx.site_config()?
                    .site_config()
                    .await?
                    .allowed_shipping_countries,
            )
        } else {
            None
        };
        drop(tx);

        if let Some(session) = order.open_session() {
            match self.deps.payments.retrieve_checkout_session(session).await {
                Ok(current) if current.status == CheckoutSessionStatus::Open => {
                    if let Some(url) = current.url.or(order.checkout.url.clone()) {
                        return Ok(CheckoutOutcome::Redirect { url });
                    }
                }
                Ok(current) if current.status == CheckoutSessionStatus::Complete => {
                    return Err(CheckoutError::PaymentInProgress);
                }
                // Expired, or unknown to the provider (the simulator restarted): make a new one.
                Ok(_) | Err(PaymentError::Rejected { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        let attempt = order.next_checkout_attempt();
        let request = self.session_request(&order, shipping_countries, returns);
        let session = self
            .deps
            .payments
            .create_checkout_session(&request, &format!("checkout:{}:{attempt}", order.id))
            .await?;

        let mut tx = self.deps.uow.begin().await?;
        let mut order = tx
            .orders()?
            .get_order_for_update(id)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        if let Some(event) =
            order.record_checkout_session(attempt, &session.id, session.url.clone(), now)
        {
            tx.orders()?.update_order(&order).await?;
            record_events(tx.as_mut(), id, &[event], now).await?;
        }
        tx.commit().await?;
        session
            .url
            .map(|url| CheckoutOutcome::Redirect { url })
            .ok_or_else(|| {
                PaymentError::Rejected {
                    code: "no_url".into(),
                    message: "the session has no URL".into(),
                }
                .into()
            })
    }

    fn session_request(
        &self,
        order: &Order,
        shipping_countries: Option<Vec<String>>,
        returns: &ReturnUrls,
    ) -> NewCheckoutSession {
        let token = order.guest_token();
        let mut lines: Vec<CheckoutLine> = order
            .lines()
            .iter()
            .map(|line| CheckoutLine {
                name: line.title.clone(),
                unit_amount: line.unit_price,
                quantity: line.quantity,
            })
            .collect();
        for (name, amount) in [("Tax", order.tax), ("Shipping", order.shipping)] {
            if amount.is_positive() {
                lines.push(CheckoutLine {
                    name: name.to_owned(),
                    unit_amount: amount,
                    quantity: 1,
                });
            }
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("order_id".to_owned(), order.id.to_string());
        metadata.insert("order_token".to_owned(), order.access_token.clone());
        NewCheckoutSession {
            currency: order.currency,
            lines,
            success_url: returns
                .success
                .as_deref()
                .map_or_else(|| self.deps.links.checkout_success(token), with_session_id),
            cancel_url: returns
                .cancel
                .clone()
                .unwrap_or_else(|| self.deps.links.checkout_cancel(order.id, token)),
            client_reference_id: order.id.to_string(),
            metadata,
            transfer_group: order.id.to_string(),
            customer_email: order.guest_email.clone(),
            shipping_countries,
        }
    }
}
