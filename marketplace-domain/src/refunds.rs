//! Refund requests (docs/money.md, "Refund requests"): one open or approved request per physical
//! line of a paid order, for the line's gross plus its exact tax and shipping shares, never more
//! than is still refundable on the line; the seller (or an owner or staff) decides, then the
//! approved amount is refunded through Stripe, and a refused refund may be triggered again.

use std::fmt;

use crate::ledger::LineMoney;
use crate::money::{Cents, MoneyError};
use crate::orders::OrderStatus;

/// Why a buyer asks for a refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefundReason {
    /// Arrived damaged.
    Damaged,
    /// Not as described.
    NotAsDescribed,
    /// Arrived too late.
    Late,
    /// Wrong item received.
    WrongItem,
    /// Something else.
    Other,
}

impl RefundReason {
    /// Stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::Damaged => "damaged",
            RefundReason::NotAsDescribed => "not_as_described",
            RefundReason::Late => "late",
            RefundReason::WrongItem => "wrong_item",
            RefundReason::Other => "other",
        }
    }

    /// Parses [`RefundReason::as_str`].
    pub fn parse(text: &str) -> Option<RefundReason> {
        [
            RefundReason::Damaged,
            RefundReason::NotAsDescribed,
            RefundReason::Late,
            RefundReason::WrongItem,
            RefundReason::Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// Where a refund request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefundRequestStatus {
    /// Waiting for the seller.
    Requested,
    /// Accepted; the Stripe refund may be triggered.
    Approved,
    /// Refused.
    Declined,
    /// Withdrawn by the buyer.
    Canceled,
    /// Refunded through Stripe.
    Refunded,
    /// Stripe refused the refund; it may be triggered again.
    Failed,
}

impl RefundRequestStatus {
    /// Every state.
    pub const ALL: [RefundRequestStatus; 6] = [
        RefundRequestStatus::Requested,
        RefundRequestStatus::Approved,
        RefundRequestStatus::Declined,
        RefundRequestStatus::Canceled,
        RefundRequestStatus::Refunded,
        RefundRequestStatus::Failed,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundRequestStatus::Requested => "requested",
            RefundRequestStatus::Approved => "approved",
            RefundRequestStatus::Declined => "declined",
            RefundRequestStatus::Canceled => "canceled",
            RefundRequestStatus::Refunded => "refunded",
            RefundRequestStatus::Failed => "failed",
        }
    }

    /// Parses [`RefundRequestStatus::as_str`].
    pub fn parse(text: &str) -> Option<RefundRequestStatus> {
        RefundRequestStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// True while the request holds its line (no second request for it): requested, approved,
    /// refunded, or failed and waiting to be triggered again.
    pub fn holds_the_line(self) -> bool {
        !matches!(
            self,
            RefundRequestStatus::Declined | RefundRequestStatus::Canceled
        )
    }

    fn to(
        self,
        action: RefundAction,
        allowed_from: RefundRequestStatus,
        next: RefundRequestStatus,
    ) -> Result<Self, RefundRequestError> {
        if self == allowed_from {
            Ok(next)
        } else {
            Err(RefundRequestError::IllegalTransition { from: self, action })
        }
    }

    /// requested → approved.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn approve(self) -> Result<Self, RefundRequestError> {
        self.to(
            RefundAction::Approve,
            RefundRequestStatus::Requested,
            RefundRequestStatus::Approved,
        )
    }

    /// requested → declined.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn decline(self) -> Result<Self, RefundRequestError> {
        self.to(
            RefundAction::Decline,
            RefundRequestStatus::Requested,
            RefundRequestStatus::Declined,
        )
    }

    /// requested → canceled.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn cancel(self) -> Result<Self, RefundRequestError> {
        self.to(
            RefundAction::Cancel,
            RefundRequestStatus::Requested,
            RefundRequestStatus::Canceled,
        )
    }
}

/// A request's place in the refund flow: its status, how many Stripe refunds were asked for, and
/// whether one is being asked for now (so a second trigger cannot send a second refund).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefundProgress {
    /// Where it stands.
    pub status: RefundRequestStatus,
    /// Stripe refunds asked for so far (the attempt in flight included).
    pub attempts: u32,
    /// A refund job holds the current attempt: its outcome is not known yet.
    pub in_flight: bool,
}

impl RefundProgress {
    /// A new request.
    pub fn requested() -> RefundProgress {
        RefundProgress {
            status: RefundRequestStatus::Requested,
            attempts: 0,
            in_flight: false,
        }
    }

    fn with_status(self, status: RefundRequestStatus) -> RefundProgress {
        RefundProgress { status, ..self }
    }

    /// requested → approved.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn approve(self) -> Result<RefundProgress, RefundRequestError> {
        Ok(self.with_status(self.status.approve()?))
    }

    /// requested → declined.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn decline(self) -> Result<RefundProgress, RefundRequestError> {
        Ok(self.with_status(self.status.decline()?))
    }

    /// requested → canceled.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn cancel(self) -> Result<RefundProgress, RefundRequestError> {
        Ok(self.with_status(self.status.cancel()?))
    }

    /// Starts a Stripe refund attempt: an approved request with no attempt in flight, or a failed
    /// one tried again (approved once more while it runs). The new attempt's number names its
    /// idempotency key ([`refund_request_key`]).
    ///
    /// # Errors
    /// [`RefundRequestError::RefundInFlight`] while an attempt runs,
    /// [`RefundRequestError::IllegalTransition`] unless approved or failed.
    pub fn trigger(self) -> Result<RefundProgress, RefundRequestError> {
        match self.status {
            RefundRequestStatus::Approved | RefundRequestStatus::Failed if self.in_flight => {
                Err(RefundRequestError::RefundInFlight)
            }
            RefundRequestStatus::Approved | RefundRequestStatus::Failed => Ok(RefundProgress {
                status: RefundRequestStatus::Approved,
                attempts: self.attempts.saturating_add(1),
                in_flight: true,
            }),
            from => Err(RefundRequestError::IllegalTransition {
                from,
                action: RefundAction::Refund,
            }),
        }
    }

    /// Stripe accepted the attempt in flight (its refund succeeded or is settling): refunded.
    /// `None` when there is nothing to change (no attempt in flight, or already refunded).
    pub fn refund_accepted(self) -> Option<RefundProgress> {
        (self.in_flight && self.status == RefundRequestStatus::Approved).then_some(RefundProgress {
            status: RefundRequestStatus::Refunded,
            in_flight: false,
            ..self
        })
    }

    /// Stripe refused the attempt in flight, or a refund it had accepted failed later (the money
    /// stayed with us): failed, and it may be triggered again. `None` when there is nothing to
    /// change.
    pub fn refund_refused(self) -> Option<RefundProgress> {
        let refusable = (self.in_flight && self.status == RefundRequestStatus::Approved)
            || self.status == RefundRequestStatus::Refunded;
        refusable.then_some(RefundProgress {
            status: RefundRequestStatus::Failed,
            in_flight: false,
            ..self
        })
    }
}

/// The Stripe idempotency key of a request's refund attempt: `refundreq-{id}` for the first, and
/// `refundreq-{id}-{attempt}` for an attempt after Stripe refused the one before (Stripe answers
/// a key it has seen with the answer it gave, so a retry of a refused refund needs a new key; an
/// attempt whose outcome is unknown keeps its key).
pub fn refund_request_key(request: impl fmt::Display, attempt: u32) -> String {
    if attempt <= 1 {
        format!("refundreq-{request}")
    } else {
        format!("refundreq-{request}-{attempt}")
    }
}

impl fmt::Display for RefundRequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was attempted on a refund request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundAction {
    /// Approve.
    Approve,
    /// Decline.
    Decline,
    /// Cancel.
    Cancel,
    /// Refund through Stripe.
    Refund,
}

/// Why a refund request cannot be made or moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundRequestError {
    /// Nothing was charged for the order.
    #[error("this order was free: there is nothing to refund")]
    FreeOrder,
    /// The line was refunded in full already.
    #[error("this item was refunded in full already")]
    AlreadyRefunded,
    /// Only paid orders (not yet fully refunded) can be refunded.
    #[error("refund requests are available only for paid orders (this one is {status})")]
    OrderNotPaid {
        /// The order's status.
        status: OrderStatus,
    },
    /// Digital files are never refundable through a request.
    #[error("refund requests are only for physical items; digital files are not refundable")]
    NotPhysical,
    /// One request per line.
    #[error("a refund request already exists for this item")]
    AlreadyRequested,
    /// Nothing was paid for the line.
    #[error("nothing was paid for this item")]
    NothingPaid,
    /// A refund of this request is being sent to Stripe now.
    #[error("a refund of this request is being sent to Stripe; wait for its outcome")]
    RefundInFlight,
    /// The state does not allow the action.
    #[error("cannot {action:?} a refund request that is {from}")]
    IllegalTransition {
        /// Current state.
        from: RefundRequestStatus,
        /// Attempted action.
        action: RefundAction,
    },
    /// Overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl RefundRequestError {
    /// The stable code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            RefundRequestError::FreeOrder => "free_order",
            RefundRequestError::AlreadyRefunded => "already_refunded",
            RefundRequestError::OrderNotPaid { .. } => "order_not_paid",
            RefundRequestError::NotPhysical => "digital_line",
            RefundRequestError::AlreadyRequested => "already_requested",
            RefundRequestError::NothingPaid => "nothing_paid",
            RefundRequestError::RefundInFlight => "refund_in_progress",
            RefundRequestError::IllegalTransition { .. } => "illegal_transition",
            RefundRequestError::Money(_) => "amount_overflow",
        }
    }
}

/// What deciding whether a line may be refunded needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundableLine<'a> {
    /// The order's status.
    pub order_status: OrderStatus,
    /// Nothing was charged for the order (a free checkout).
    pub free_order: bool,
    /// The line, as money.
    pub line: &'a LineMoney,
    /// What refunds and lost disputes already took from the line (all components).
    pub refunded: Cents,
    /// A request of the line is open, approved, refunded or failed already.
    pub requested: bool,
}

/// Checks that a refund may be requested for a line and returns the amount to snapshot: the
/// line's gross plus its exact shares of tax and shipping, less what refunds already took from it
/// (never more than is still refundable on the line).
///
/// # Errors
/// [`RefundRequestError`]: a free order, an order not paid, a digital line, a request already,
/// or nothing left to refund.
pub fn refund_request_amount(request: &RefundableLine<'_>) -> Result<Cents, RefundRequestError> {
    if request.free_order {
        return Err(RefundRequestError::FreeOrder);
    }
    if !matches!(
        request.order_status,
        OrderStatus::Paid | OrderStatus::PartiallyRefunded
    ) {
        return Err(RefundRequestError::OrderNotPaid {
            status: request.order_status,
        });
    }
    if !request.line.requires_shipping {
        return Err(RefundRequestError::NotPhysical);
    }
    if request.requested {
        return Err(RefundRequestError::AlreadyRequested);
    }
    let paid = request.line.paid()?;
    if !paid.is_positive() {
        return Err(RefundRequestError::NothingPaid);
    }
    let left = paid.checked_sub(request.refunded)?;
    if left.is_positive() {
        Ok(left)
    } else {
        Err(RefundRequestError::AlreadyRefunded)
    }
}

/// What an attempt of a refund request may ask Stripe for now: its snapshotted `amount`, less
/// what other refunds or lost disputes took from its line since (`line_refunded` is all they took,
/// of `line_paid`), and never more than the order still has refundable (`order_refundable`).
///
/// # Errors
/// [`RefundRequestError::AlreadyRefunded`] when nothing is left to send.
pub fn refund_to_send(
    amount: Cents,
    line_paid: Cents,
    line_refunded: Cents,
    order_refundable: Cents,
) -> Result<Cents, RefundRequestError> {
    let left_on_line = line_paid.checked_sub(line_refunded)?;
    let send = amount.min(left_on_line).min(order_refundable);
    if send.is_positive() {
        Ok(send)
    } else {
        Err(RefundRequestError::AlreadyRefunded)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::ids::{OrderItemId, UserId};

    fn line(physical: bool) -> LineMoney {
        LineMoney {
            line: OrderItemId::from_uuid(Uuid::from_u128(1)),
            seller: UserId::from_uuid(Uuid::from_u128(2)),
            net: Cents::new(900),
            fee: Cents::new(100),
            tax: Cents::new(83),
            shipping: Cents::new(250),
            requires_shipping: physical,
        }
    }

    fn request(line: &LineMoney) -> RefundableLine<'_> {
        RefundableLine {
            order_status: OrderStatus::Paid,
            free_order: false,
            line,
            refunded: Cents::ZERO,
            requested: false,
        }
    }

    #[test]
    fn the_request_amount_is_gross_plus_exact_tax_and_shipping_shares() {
        let (physical, digital) = (line(true), line(false));
        assert_eq!(
            refund_request_amount(&request(&physical)),
            Ok(Cents::new(1333))
        );
        let partly = RefundableLine {
            refunded: Cents::new(333),
            order_status: OrderStatus::PartiallyRefunded,
            ..request(&physical)
        };
        assert_eq!(
            refund_request_amount(&partly),
            Ok(Cents::new(1000)),
            "never more than is left on the line"
        );
        let refused = |r: RefundableLine<'_>| refund_request_amount(&r).unwrap_err().code();
        assert_eq!(refused(request(&digital)), "digital_line");
        let requested = RefundableLine {
            requested: true,
            ..request(&physical)
        };
        assert_eq!(refused(requested), "already_requested");
        let pending = RefundableLine {
            order_status: OrderStatus::Pending,
            ..request(&physical)
        };
        assert_eq!(refused(pending), "order_not_paid");
        let free = RefundableLine {
            free_order: true,
            ..request(&physical)
        };
        assert_eq!(refused(free), "free_order");
        let all = RefundableLine {
            refunded: Cents::new(1333),
            ..request(&physical)
        };
        assert_eq!(refused(all), "already_refunded");
    }

    #[test]
    fn the_state_machine_allows_only_its_paths() {
        use RefundRequestStatus::*;
        assert_eq!(Requested.approve(), Ok(Approved));
        assert_eq!(Requested.decline(), Ok(Declined));
        assert_eq!(Requested.cancel(), Ok(Canceled));
        assert!(
            Approved.cancel().is_err(),
            "the buyer cancels only while requested"
        );
        assert!(!Declined.holds_the_line() && !Canceled.holds_the_line());
        assert!(Requested.holds_the_line() && Failed.holds_the_line() && Refunded.holds_the_line());
        assert!(matches!(
            Approved.approve(),
            Err(RefundRequestError::IllegalTransition { .. })
        ));
        assert!(matches!(
            Declined.approve(),
            Err(RefundRequestError::IllegalTransition { .. })
        ));
        assert!(matches!(
            Refunded.cancel(),
            Err(RefundRequestError::IllegalTransition { .. })
        ));
        for status in [Requested, Approved, Declined, Canceled, Refunded, Failed] {
            assert_eq!(RefundRequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            RefundReason::parse("wrong_item"),
            Some(RefundReason::WrongItem)
        );
    }

    #[test]
    fn an_attempt_never_sends_what_was_refunded_since_the_request() {
        let (paid, amount) = (Cents::new(1333), Cents::new(1333));
        assert_eq!(
            refund_to_send(amount, paid, Cents::ZERO, Cents::new(5000)),
            Ok(amount)
        );
        assert_eq!(
            refund_to_send(amount, paid, Cents::new(333), Cents::new(5000)),
            Ok(Cents::new(1000)),
            "a dashboard refund took 3.33 from the line since"
        );
        assert_eq!(
            refund_to_send(amount, paid, Cents::ZERO, Cents::new(700)),
            Ok(Cents::new(700)),
            "an open dispute holds the rest of the charge"
        );
        assert_eq!(
            refund_to_send(amount, paid, paid, Cents::new(5000)),
            Err(RefundRequestError::AlreadyRefunded)
        );
    }

    fn at(status: RefundRequestStatus) -> RefundProgress {
        RefundProgress {
            status,
            ..RefundProgress::requested()
        }
    }

    #[test]
    fn a_refund_is_sent_once_per_attempt_and_a_refused_one_again() {
        use RefundRequestStatus::*;
        let approved = RefundProgress::requested().approve().unwrap();
        let sent = approved.trigger().unwrap();
        assert_eq!(
            (sent.status, sent.attempts, sent.in_flight),
            (Approved, 1, true)
        );
        assert_eq!(
            sent.trigger(),
            Err(RefundRequestError::RefundInFlight),
            "a second trigger while the first runs sends nothing"
        );
        let refunded = sent.refund_accepted().unwrap();
        assert_eq!((refunded.status, refunded.in_flight), (Refunded, false));
        assert_eq!(refunded.refund_accepted(), None, "a replay changes nothing");
        assert!(refunded.trigger().is_err(), "never refunded twice");

        let refused = sent.refund_refused().unwrap();
        assert_eq!((refused.status, refused.in_flight), (Failed, false));
        assert_eq!(refused.refund_refused(), None);
        let again = refused.trigger().unwrap();
        assert_eq!(
            (again.status, again.attempts, again.in_flight),
            (Approved, 2, true)
        );
        assert_eq!(
            refunded.refund_refused().map(|p| p.status),
            Some(Failed),
            "a refund that fails after Stripe accepted it can be sent again"
        );
        assert_eq!(approved.refund_accepted(), None, "nothing was sent");
        assert_eq!(approved.refund_refused(), None);
        for status in [Requested, Declined, Canceled, Refunded] {
            assert!(matches!(
                at(status).trigger(),
                Err(RefundRequestError::IllegalTransition { .. })
            ));
        }
        assert!(
            at(Approved).cancel().is_err(),
            "the buyer cancels only while requested"
        );
        assert_eq!(refund_request_key("r1", 1), "refundreq-r1");
        assert_eq!(refund_request_key("r1", 3), "refundreq-r1-3");
    }
}
