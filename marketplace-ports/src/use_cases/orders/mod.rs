//! Orders: placing one from the cart ([`place`]), paying it ([`checkout`]), reading orders, lists
//! and downloads ([`read`]), and the guest's paid-order e-mail ([`mail`], a job).
//!
//! Payment is confirmed only by webhook; the checkout return URL only shows the order.

pub mod checkout;
pub mod mail;
pub mod place;
pub mod read;

use marketplace_domain::ids::UserId;
use marketplace_domain::orders::{Order, OrderLine, SellerShare};

pub use checkout::{Checkout, CheckoutError, CheckoutOutcome, ReturnUrls};
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

/// Who an order is shown to, and so what of it they see (docs/architecture.md, "Order views").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Staff and owners: everything.
    Staff,
    /// The buyer (or the holder of the guest token): what they paid and what happened to it,
    /// nothing of the sellers' money.
    Buyer,
    /// One seller: their lines and their own money; the address only when one of their lines
    /// ships.
    Seller {
        /// The seller.
        seller: UserId,
        /// Their part of the order.
        share: SellerShare,
    },
}

/// An order as one caller sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The order.
    pub order: Order,
    /// Who it is shown to.
    pub audience: Audience,
}

impl OrderView {
    /// The whole order, for staff.
    pub fn whole(order: Order) -> OrderView {
        OrderView {
            order,
            audience: Audience::Staff,
        }
    }

    /// The buyer's view.
    pub fn for_buyer(order: Order) -> OrderView {
        OrderView {
            order,
            audience: Audience::Buyer,
        }
    }

    /// The lines this view shows.
    pub fn lines(&self) -> impl Iterator<Item = &OrderLine> {
        let only = match self.audience {
            Audience::Seller { seller, .. } => Some(seller),
            Audience::Staff | Audience::Buyer => None,
        };
        self.order
            .lines()
            .iter()
            .filter(move |l| only.is_none_or(|s| l.seller_id == s))
    }

    /// The seller's share, in a seller's view.
    pub fn seller_share(&self) -> Option<&SellerShare> {
        match &self.audience {
            Audience::Seller { share, .. } => Some(share),
            Audience::Staff | Audience::Buyer => None,
        }
    }

    /// True when the sellers' money (fees, nets) is shown: not to buyers.
    pub fn shows_seller_money(&self) -> bool {
        self.audience != Audience::Buyer
    }

    /// True when the shipping address is shown: to buyers and staff, and to a seller one of whose
    /// lines ships.
    pub fn shows_address(&self) -> bool {
        self.seller_share().is_none_or(|share| share.ships)
    }

    /// True when who bought it (account, e-mail, payment reference) is shown: not to sellers.
    pub fn shows_buyer(&self) -> bool {
        self.seller_share().is_none()
    }
}

/// True when `access` may see `order`: its buyer, an owner (staff, superuser or the owner flag),
/// or the holder of its guest token (compared in constant time).
pub(crate) fn may_see(crypto: &dyn Crypto, order: &Order, access: OrderAccess<'_>) -> bool {
    access.actor.is_some_and(|a| a.roles.is_owner()) || is_buyer(crypto, order, access)
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
