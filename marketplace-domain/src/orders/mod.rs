//! Orders: pricing a cart ([`pricing`]), the status machine ([`status`]), the order itself and
//! every change to it ([`order`]), and its history ([`events`]).

pub mod events;
pub mod order;
pub mod pricing;
pub mod status;

pub use events::{OrderEvent, OrderEventKind};
pub use order::{
    CheckoutCompletion, CheckoutPaymentStatus, CheckoutState, CompletedCheckout, NewLine, NewOrder,
    Order, OrderChange, OrderData, OrderLine, Payment, PaymentReference, SellerShare, SessionEnd,
    ShippingAddress,
};
pub use pricing::{
    CartItem, MAX_QUANTITY, OrderKind, PricedLine, PricedOrder, PricingError, PricingTerms,
    price_order,
};
pub use status::{OrderStateError, OrderStatus};
