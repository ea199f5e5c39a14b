//! Public links to our own pages: in e-mails, and as the addresses Stripe sends people back to.
//! Implemented by the adapter that serves those pages (the JSON API today, the web storefront
//! later), so no use case spells a URL.

use marketplace_domain::ids::{AssetId, OrderId, RefundRequestId};
use marketplace_domain::notifications::NotificationKind;
use uuid::Uuid;

/// The public URLs the use cases hand out.
pub trait Links: Send + Sync {
    /// An order's page; guests' links carry their order token.
    fn order_page(&self, order: OrderId, guest_token: Option<&str>) -> String;
    /// A file bought in an order.
    fn download(&self, order: OrderId, asset: AssetId, guest_token: Option<&str>) -> String;
    /// Where Stripe sends a buyer after paying; contains Stripe's `{CHECKOUT_SESSION_ID}`
    /// placeholder.
    fn checkout_success(&self, guest_token: Option<&str>) -> String;
    /// Where Stripe sends a buyer who gives up paying.
    fn checkout_cancel(&self, order: OrderId, guest_token: Option<&str>) -> String;
    /// Where Stripe sends a seller who finished onboarding.
    fn connect_return(&self) -> String;
    /// Where Stripe sends a seller whose onboarding link expired.
    fn connect_refresh(&self) -> String;
    /// What a notification is about (its kind says what `subject` is).
    fn notification(&self, kind: NotificationKind, subject: Uuid) -> String;
    /// A refund request's page; guests' links carry their order token.
    fn refund_request(&self, request: RefundRequestId, guest_token: Option<&str>) -> String;
}
