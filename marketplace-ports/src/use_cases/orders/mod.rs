//! Orders: placing one from the cart ([`place`]), paying it ([`checkout`]), reading orders, lists
//! and downloads ([`read`]), and the guest's paid-order e-mail ([`mail`], a job).
//!
//! Payment is confirmed only by webhook; the checkout return URL only shows the order.

pub mod checkout;
pub mod mail;
pub mod place;
pub mod read;

use marketplace_domain::ids::UserId;
use marketplace_domain::orders::{Order, OrderLine};

pub use checkout::{Checkout, CheckoutError, CheckoutOutcome};
pub use place::{OrderPlacement, PlaceOrderError, Placed};
pub use read::{Download, OrderDetail, OrderReadError, OrderReading};

use crate::ports::Crypto;
use crate::use_cases::Actor;

/// Who is asking about an order: a logged-in user, the holder of the guest token, or both.
#[derive(Clone, Copy, Debug)]
pub struct OrderAccess<'a> {
    /// The logged-in user.
    pub actor: Option<&'a Actor>,
    /// The guest token sent (`?t=` or `X-Order-Token`).
    pub token: Option<&'a str>,
}

/// An order as one caller sees it: all its lines, or in a seller's view only theirs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The order.
    pub order: Order,
    /// Show only this seller's lines.
    pub only_seller: Option<UserId>,
}

impl OrderView {
    /// The whole order.
    pub fn whole(order: Order) -> OrderView {
        OrderView {
            order,
            only_seller: None,
        }
    }

    /// The lines this view shows.
    pub fn lines(&self) -> impl Iterator<Item = &OrderLine> {
        self.order
            .lines()
            .iter()
            .filter(|l| self.only_seller.is_none_or(|s| l.seller_id == s))
    }
}

/// True when `access` may see `order`: its buyer, staff, or the holder of its guest token
/// (compared in constant time).
pub(crate) fn may_see(crypto: &dyn Crypto, order: &Order, access: OrderAccess<'_>) -> bool {
    access.actor.is_some_and(|a| a.roles.is_staff()) || is_buyer(crypto, order, access)
}

/// True when `access` is the order's buyer: the registered buyer, or the holder of its guest token
/// (compared in constant time).
pub(crate) fn is_buyer(crypto: &dyn Crypto, order: &Order, access: OrderAccess<'_>) -> bool {
    if access
        .actor
        .is_some_and(|a| Some(a.user_id) == order.buyer_id)
    {
        return true;
    }
    match (order.guest_token(), access.token) {
        (Some(expected), Some(sent)) => crypto.secrets_match(sent, expected),
        _ => false,
    }
}
