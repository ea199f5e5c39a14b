//! The order status machine: pending → paid ⇄ partially refunded ⇄ refunded, and pending →
//! canceled. A payment only moves it forward; refunds set it from the refunds that stand, so
//! events may arrive in any order and a failed refund undoes what it did.

use std::fmt;

use crate::money::Cents;

/// An order's payment status: pending → paid ⇄ partially_refunded ⇄ refunded, and
/// pending → canceled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed, not paid.
    Pending,
    /// Paid.
    Paid,
    /// Part of the payment returned.
    PartiallyRefunded,
    /// All of the payment returned.
    Refunded,
    /// Abandoned before payment.
    Canceled,
}

impl OrderStatus {
    /// Every state, along the payment path, then canceled.
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
        OrderStatus::Canceled,
    ];

    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Canceled => "canceled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Position on the payment path; canceled is off it.
    fn rank(self) -> Option<u8> {
        match self {
            OrderStatus::Pending => Some(0),
            OrderStatus::Paid => Some(1),
            OrderStatus::PartiallyRefunded => Some(2),
            OrderStatus::Refunded => Some(3),
            OrderStatus::Canceled => None,
        }
    }

    /// True once money was received (paid or any refunded state).
    pub fn was_paid(self) -> bool {
        self.rank().is_some_and(|rank| rank >= 1)
    }

    /// The status after a confirmed payment. A later "paid" never undoes a refund.
    ///
    /// # Errors
    /// [`OrderStateError::PaymentForCanceledOrder`]: money arrived for an abandoned order.
    pub fn on_payment(self) -> Result<OrderStatus, OrderStateError> {
        match self {
            OrderStatus::Pending => Ok(OrderStatus::Paid),
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded => Ok(self),
            OrderStatus::Canceled => Err(OrderStateError::PaymentForCanceledOrder),
        }
    }

    /// The status once `refunded` of `total` stands returned (the refunds and lost disputes in
    /// force). It follows that amount in both directions: a failed refund or a won dispute brings a
    /// `refunded` order back to `partially_refunded` or `paid`. `paid` says whether the payment was
    /// confirmed; a refund seen before the payment event still counts as money having arrived, and
    /// once nothing stands refunded an unconfirmed order is `pending` again.
    ///
    /// # Errors
    /// [`OrderStateError::RefundOfCanceledOrder`].
    pub fn on_refunds(
        self,
        paid: bool,
        refunded: Cents,
        total: Cents,
    ) -> Result<OrderStatus, OrderStateError> {
        if self == OrderStatus::Canceled {
            return Err(OrderStateError::RefundOfCanceledOrder);
        }
        Ok(if refunded.is_positive() && refunded >= total {
            OrderStatus::Refunded
        } else if refunded.is_positive() {
            OrderStatus::PartiallyRefunded
        } else if paid {
            OrderStatus::Paid
        } else {
            OrderStatus::Pending
        })
    }

    /// Cancels a pending order (idempotent on a canceled one).
    ///
    /// # Errors
    /// [`OrderStateError::CannotCancel`] once paid.
    pub fn cancel(self) -> Result<OrderStatus, OrderStateError> {
        match self {
            OrderStatus::Pending | OrderStatus::Canceled => Ok(OrderStatus::Canceled),
            other => Err(OrderStateError::CannotCancel { status: other }),
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An illegal order status change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderStateError {
    /// Only pending orders can be paid.
    #[error("this order is {status} and cannot be paid")]
    NotPayable {
        /// Its status.
        status: OrderStatus,
    },
    /// A new order's lines must name each priced line once.
    #[error("{named} line(s) named for {priced} priced line(s)")]
    LinesMismatch {
        /// Priced lines.
        priced: usize,
        /// Lines named.
        named: usize,
    },
    /// A payment was confirmed for a canceled order.
    #[error("a payment arrived for a canceled order")]
    PaymentForCanceledOrder,
    /// A refund was reported for a canceled (never paid) order.
    #[error("a refund was reported for a canceled order")]
    RefundOfCanceledOrder,
    /// Only pending orders can be canceled.
    #[error("an order that is {status} cannot be canceled")]
    CannotCancel {
        /// Its status.
        status: OrderStatus,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Cents;

    #[test]
    fn order_status_only_moves_forward() {
        use OrderStatus::*;
        assert_eq!(Pending.on_payment(), Ok(Paid));
        assert_eq!(
            Refunded.on_payment(),
            Ok(Refunded),
            "a late paid never undoes a refund"
        );
        assert_eq!(
            Canceled.on_payment(),
            Err(OrderStateError::PaymentForCanceledOrder)
        );
        let total = Cents::new(1000);
        assert_eq!(
            Paid.on_refunds(true, Cents::new(1), total),
            Ok(PartiallyRefunded)
        );
        assert_eq!(
            PartiallyRefunded.on_refunds(true, total, total),
            Ok(Refunded)
        );
        assert_eq!(
            Refunded.on_refunds(true, Cents::new(1), total),
            Ok(PartiallyRefunded),
            "a failed refund brings the status back"
        );
        assert_eq!(
            Refunded.on_refunds(true, Cents::ZERO, total),
            Ok(Paid),
            "every refund failed"
        );
        assert_eq!(
            Pending.on_refunds(false, Cents::new(5), total),
            Ok(PartiallyRefunded),
            "refund seen before payment"
        );
        assert_eq!(
            PartiallyRefunded.on_refunds(false, Cents::ZERO, total),
            Ok(Pending),
            "that refund failed before the payment was confirmed"
        );
        assert_eq!(
            Canceled.on_refunds(true, Cents::new(5), total),
            Err(OrderStateError::RefundOfCanceledOrder)
        );
        assert_eq!(Pending.cancel(), Ok(Canceled));
        assert_eq!(
            Paid.cancel(),
            Err(OrderStateError::CannotCancel { status: Paid })
        );
        for status in [Pending, Paid, PartiallyRefunded, Refunded, Canceled] {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
    }
}
