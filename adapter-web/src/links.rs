//! The public URLs the use cases hand out (in e-mails and as Stripe's return addresses): the
//! storefront's pages, so a person following a link lands on a page, not on JSON. Downloads stay
//! the file's own address.

use marketplace_domain::ids::{AssetId, OrderId, RefundRequestId};
use marketplace_domain::notifications::NotificationKind;
use marketplace_ports::ports::Links;
use uuid::Uuid;

use crate::form::encode;

/// Links to the storefront under the site's public base URL.
#[derive(Clone, Debug)]
pub struct SiteLinks {
    base: String,
}

impl SiteLinks {
    /// Links under `base_url` (trailing slashes are ignored).
    pub fn new(base_url: &str) -> SiteLinks {
        SiteLinks {
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }
}

/// `?t=<token>` (or `&t=` after another parameter), when there is a token.
fn token_query(separator: char, token: Option<&str>) -> String {
    token
        .map(|t| format!("{separator}t={}", encode(t)))
        .unwrap_or_default()
}

/// The storefront page of what a notification is about (its kind says what `subject` is).
pub fn notification_page(kind: NotificationKind, subject: Uuid) -> String {
    match kind {
        NotificationKind::NewQuestion | NotificationKind::ThreadReply => {
            format!("/questions/{subject}")
        }
        NotificationKind::NewReview | NotificationKind::ReportOutcome => {
            "/notifications".to_owned()
        }
        NotificationKind::RefundRequest => format!("/refund-requests/{subject}"),
        NotificationKind::Sale => format!("/seller/orders/{subject}"),
    }
}

impl Links for SiteLinks {
    fn order_page(&self, order: OrderId, guest_token: Option<&str>) -> String {
        format!(
            "{}/orders/{order}{}",
            self.base,
            token_query('?', guest_token)
        )
    }

    fn download(&self, order: OrderId, asset: AssetId, guest_token: Option<&str>) -> String {
        format!(
            "{}/api/v1/orders/{order}/assets/{asset}{}",
            self.base,
            token_query('?', guest_token)
        )
    }

    fn checkout_success(&self, guest_token: Option<&str>) -> String {
        format!(
            "{}/checkout/complete?session_id={{CHECKOUT_SESSION_ID}}{}",
            self.base,
            token_query('&', guest_token)
        )
    }

    fn checkout_cancel(&self, order: OrderId, guest_token: Option<&str>) -> String {
        self.order_page(order, guest_token)
    }

    fn connect_return(&self) -> String {
        format!("{}/seller/connect/return", self.base)
    }

    fn connect_refresh(&self) -> String {
        format!("{}/seller/connect/refresh", self.base)
    }

    fn notification(&self, kind: NotificationKind, subject: Uuid) -> String {
        format!("{}{}", self.base, notification_page(kind, subject))
    }

    fn refund_request(&self, request: RefundRequestId, guest_token: Option<&str>) -> String {
        format!(
            "{}/refund-requests/{request}{}",
            self.base,
            token_query('?', guest_token)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_to_pages_and_guest_links_carry_the_token() {
        let links = SiteLinks::new("https://shop.example/");
        let order = OrderId::from_uuid(Uuid::from_u128(1));
        let asset = AssetId::from_uuid(Uuid::from_u128(2));
        assert_eq!(
            links.order_page(order, Some("tok")),
            format!("https://shop.example/orders/{order}?t=tok")
        );
        assert_eq!(
            links.download(order, asset, None),
            format!("https://shop.example/api/v1/orders/{order}/assets/{asset}")
        );
        assert_eq!(
            links.checkout_success(Some("tok")),
            "https://shop.example/checkout/complete?session_id={CHECKOUT_SESSION_ID}&t=tok"
        );
        assert_eq!(
            links.connect_return(),
            "https://shop.example/seller/connect/return"
        );
    }
}
