//! Where the API's own answers point: the API path of what a notification is about. (The links
//! the use cases hand out in e-mails and to Stripe lead to the storefront's pages: see
//! `adapter_web::links`.)

use marketplace_domain::notifications::NotificationKind;
use uuid::Uuid;

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
