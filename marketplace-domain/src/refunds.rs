//! Refund requests (docs/money.md, "Refunds"): one per physical line of a paid order, for the
//! line's gross plus its exact tax and shipping shares; the seller (or an owner or staff) decides,
//! then the approved amount is refunded through Stripe.

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
}

impl RefundRequestStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundRequestStatus::Requested => "requested",
            RefundRequestStatus::Approved => "approved",
            RefundRequestStatus::Declined => "declined",
            RefundRequestStatus::Canceled => "canceled",
            RefundRequestStatus::Refunded => "refunded",
        }
    }

    /// Parses [`RefundRequestStatus::as_str`].
    pub fn parse(text: &str) -> Option<RefundRequestStatus> {
        [
            RefundRequestStatus::Requested,
            RefundRequestStatus::Approved,
            RefundRequestStatus::Declined,
            RefundRequestStatus::Canceled,
            RefundRequestStatus::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
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

    /// approved → refunded.
    ///
    /// # Errors
    /// [`RefundRequestError::IllegalTransition`] from any other state.
    pub fn mark_refunded(self) -> Result<Self, RefundRequestError> {
        self.to(
            RefundAction::Refund,
            RefundRequestStatus::Approved,
            RefundRequestStatus::Refunded,
        )
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
    /// Only paid orders (not yet fully refunded) can be refunded.
    #[error("refund requests are available only for paid orders (this one is {status})")]
    OrderNotPaid {
        /// The order's status.
        status: OrderStatus,
    },
    /// Digital files are never refundable.
    #[error("refund requests are only for physical items; digital files are not refundable")]
    NotPhysical,
    /// One request per line.
    #[error("a refund request already exists for this item")]
    AlreadyRequested,
    /// Nothing was paid for the line.
    #[error("nothing was paid for this item")]
    NothingPaid,
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

/// Checks that a refund may be requested for `line` and returns the amount to snapshot: the line's
/// gross plus its exact shares of tax and shipping.
///
/// # Errors
/// [`RefundRequestError`] when the order is not paid, the line is digital or free, or a request
/// exists.
pub fn refund_request_amount(
    order_status: OrderStatus,
    line: &LineMoney,
    already_requested: bool,
) -> Result<Cents, RefundRequestError> {
    if !matches!(
        order_status,
        OrderStatus::Paid | OrderStatus::PartiallyRefunded
    ) {
        return Err(RefundRequestError::OrderNotPaid {
            status: order_status,
        });
    }
    if !line.requires_shipping {
        return Err(RefundRequestError::NotPhysical);
    }
    if already_requested {
        return Err(RefundRequestError::AlreadyRequested);
    }
    let amount = line.paid()?;
    if amount.is_positive() {
        Ok(amount)
    } else {
        Err(RefundRequestError::NothingPaid)
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

    #[test]
    fn the_request_amount_is_gross_plus_exact_tax_and_shipping_shares() {
        assert_eq!(
            refund_request_amount(OrderStatus::Paid, &line(true), false),
            Ok(Cents::new(1333))
        );
        assert_eq!(
            refund_request_amount(OrderStatus::Paid, &line(false), false),
            Err(RefundRequestError::NotPhysical)
        );
        assert_eq!(
            refund_request_amount(OrderStatus::Paid, &line(true), true),
            Err(RefundRequestError::AlreadyRequested)
        );
        assert_eq!(
            refund_request_amount(OrderStatus::Pending, &line(true), false),
            Err(RefundRequestError::OrderNotPaid {
                status: OrderStatus::Pending
            })
        );
    }

    #[test]
    fn the_state_machine_allows_only_its_paths() {
        use RefundRequestStatus::*;
        assert_eq!(Requested.approve(), Ok(Approved));
        assert_eq!(Requested.decline(), Ok(Declined));
        assert_eq!(Requested.cancel(), Ok(Canceled));
        assert_eq!(Approved.mark_refunded(), Ok(Refunded));
        assert!(matches!(
            Requested.mark_refunded(),
            Err(RefundRequestError::IllegalTransition { .. })
        ));
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
        for status in [Requested, Approved, Declined, Canceled, Refunded] {
            assert_eq!(RefundRequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            RefundReason::parse("wrong_item"),
            Some(RefundReason::WrongItem)
        );
    }
}
