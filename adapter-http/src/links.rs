//! The public URLs of the JSON API's pages, handed to the use cases through the `Links` port (for
//! e-mails and Stripe's return addresses). One place knows the routes they point at.

use marketplace_domain::ids::{AssetId, OrderId, RefundRequestId};
use marketplace_domain::notifications::NotificationKind;
use marketplace_ports::ports::Links;
use uuid::Uuid;

/// Links to this API, under the site's public base URL.
#[derive(Clone, Debug)]
pub struct ApiLinks {
    base: String,
}

impl ApiLinks {
    /// Links under `base_url` (trailing slashes are ignored).
    pub fn new(base_url: &str) -> ApiLinks {
        ApiLinks {
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }
}

/// `?t=<token>` (or `&t=` after another parameter), when there is a token.
fn token_query(separator: char, token: Option<&str>) -> String {
    token
        .map(|t| format!("{separator}t={t}"))
        .unwrap_or_default()
}

/// The API path of what a notification is about (its kind says what `subject` is).
pub fn notification_path(kind: NotificationKind, subject: Uuid) -> String {
    match kind {
        NotificationKind::NewQuestion | NotificationKind::ThreadReply => {
            format!("/api/v1/questions/{subject}")
        }
        NotificationKind::NewReview => format!("/api/v1/reviews/{subject}"),
        NotificationKind::ReportOutcome => "/api/v1/notifications".to_owned(),
        NotificationKind::RefundRequest => format!("/api/v1/refund-requests/{subject}"),
        NotificationKind::Sale => format!("/api/v1/seller/orders/{subject}"),
    }
}

impl Links for ApiLinks {
    fn order_page(&self, order: OrderId, guest_token: Option<&str>) -> String {
        format!(
            "{}/api/v1/orders/{order}{}",
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
            "{}/api/v1/checkout/complete?session_id={{CHECKOUT_SESSION_ID}}{}",
            self.base,
            token_query('&', guest_token)
        )
    }

    fn checkout_cancel(&self, order: OrderId, guest_token: Option<&str>) -> String {
        self.order_page(order, guest_token)
    }

    fn connect_return(&self) -> String {
        format!("{}/api/v1/seller/connect/return", self.base)
    }

    fn connect_refresh(&self) -> String {
        format!("{}/api/v1/seller/connect/refresh", self.base)
    }

    fn notification(&self, kind: NotificationKind, subject: Uuid) -> String {
        format!("{}{}", self.base, notification_path(kind, subject))
    }

    fn refund_request(&self, request: RefundRequestId, guest_token: Option<&str>) -> String {
        format!(
            "{}/api/v1/refund-requests/{request}{}",
            self.base,
            token_query('?', guest_token)
        )
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn guest_links_carry_the_token_and_others_do_not() {
        let links = ApiLinks::new("https://shop.example/");
        let order = OrderId::from_uuid(Uuid::from_u128(1));
        let asset = AssetId::from_uuid(Uuid::from_u128(2));
        assert_eq!(
            links.order_page(order, Some("tok")),
            format!("https://shop.example/api/v1/orders/{order}?t=tok")
        );
        assert_eq!(
            links.download(order, asset, None),
            format!("https://shop.example/api/v1/orders/{order}/assets/{asset}")
        );
        assert_eq!(
            links.checkout_success(Some("tok")),
            "https://shop.example/api/v1/checkout/complete?session_id={CHECKOUT_SESSION_ID}&t=tok"
        );
        assert_eq!(
            links.connect_return(),
            "https://shop.example/api/v1/seller/connect/return"
        );
    }
}
