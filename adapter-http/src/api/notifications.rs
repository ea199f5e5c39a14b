//! A user's notifications and which of them also come by e-mail.

use marketplace_domain::ids::NotificationId;
use marketplace_domain::notifications::{MailPreferences, NotificationKind};
use marketplace_ports::ports::NotificationRecord;
use marketplace_ports::use_cases::Services;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::accounts::NoContent;
use crate::auth::Auth;
use crate::dto::page_request;
use crate::error::ApiResult;
use crate::json::JsonBody;
use crate::links::notification_path;
use crate::params::{PageNumber, PerPage};

/// Notifications.
pub struct NotificationsApi {
    /// Use cases.
    pub services: Services,
}

/// A notification.
#[derive(Debug, Object)]
pub struct NotificationDto {
    /// Id.
    pub id: Uuid,
    /// `new_question`, `thread_reply`, `new_review`, `report_outcome`, `refund_request` or
    /// `sale`.
    pub kind: String,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// What it is about: the thread, review, report, refund request or order its kind names.
    pub subject_id: Uuid,
    /// Where to look.
    pub link: String,
    /// Read.
    pub read: bool,
    /// When it was read.
    #[oai(nullable)]
    pub read_at: Option<OffsetDateTime>,
    /// Made.
    pub created_at: OffsetDateTime,
}

/// A page of notifications with the unread count.
#[derive(Debug, Object)]
pub struct InboxDto {
    /// The notifications, newest first.
    pub items: Vec<NotificationDto>,
    /// 1-based page number.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Matching notifications over all pages.
    pub total: u64,
    /// Unread notifications over all pages.
    pub unread: i64,
}

/// How many notifications were marked read.
#[derive(Debug, Object)]
pub struct MarkedDto {
    /// Notifications that were unread.
    pub marked: u64,
}

/// Which notifications come by e-mail.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// Kinds not to send by e-mail (they still appear in the app).
    #[oai(validator(
        pattern = r"^(new_question|thread_reply|new_review|report_outcome|refund_request|sale)$"
    ))]
    pub mail_muted: Vec<String>,
}

/// Which notifications come by e-mail.
#[derive(Debug, Object)]
pub struct PreferencesDto {
    /// Kinds not sent by e-mail.
    pub mail_muted: Vec<String>,
    /// Every kind there is.
    pub kinds: Vec<String>,
}

/// The wire shape of a notification (the link is the API path of what it is about).
fn notification_dto(n: NotificationRecord) -> NotificationDto {
    let link = notification_path(n.kind, n.subject_id);
    NotificationDto {
        id: n.id.get(),
        kind: n.kind.as_str().to_owned(),
        title: n.title,
        body: n.body,
        subject_id: n.subject_id,
        link,
        read: n.read_at.is_some(),
        read_at: n.read_at,
        created_at: n.created_at,
    }
}

fn preferences_dto(preferences: &MailPreferences) -> PreferencesDto {
    PreferencesDto {
        mail_muted: preferences
            .muted()
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect(),
        kinds: NotificationKind::ALL
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect(),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Accounts")]
impl NotificationsApi {
    /// Your notifications, newest first (`unread=true`: only unread ones), with the unread count.
    #[oai(path = "/notifications", method = "get")]
    async fn inbox(
        &self,
        auth: Auth,
        unread: Query<Option<bool>>,
        page: Query<Option<PageNumber>>,
        per_page: Query<Option<PerPage>>,
    ) -> ApiResult<Json<InboxDto>> {
        let request = page_request(page.0, per_page.0)?;
        let inbox = self
            .services
            .notifications
            .inbox(auth.actor(), unread.0.unwrap_or(false), request)
            .await?;
        Ok(Json(InboxDto {
            page: inbox.page.request.page(),
            per_page: inbox.page.request.per_page(),
            total: inbox.page.total,
            items: inbox.page.items.into_iter().map(notification_dto).collect(),
            unread: inbox.unread,
        }))
    }

    /// Mark one of your notifications read.
    #[oai(path = "/notifications/:id/read", method = "post")]
    async fn read(&self, auth: Auth, id: Path<Uuid>) -> ApiResult<NoContent> {
        self.services
            .notifications
            .mark_read(auth.actor(), NotificationId::from_uuid(id.0))
            .await?;
        Ok(NoContent::Done)
    }

    /// Mark all your notifications read.
    #[oai(path = "/notifications/read-all", method = "post")]
    async fn read_all(&self, auth: Auth) -> ApiResult<Json<MarkedDto>> {
        let marked = self
            .services
            .notifications
            .mark_all_read(auth.actor())
            .await?;
        Ok(Json(MarkedDto { marked }))
    }

    /// Which notifications also come by e-mail (all kinds unless muted).
    #[oai(path = "/me/notification-preferences", method = "get")]
    async fn preferences(&self, auth: Auth) -> ApiResult<Json<PreferencesDto>> {
        let preferences = self
            .services
            .notifications
            .preferences(auth.actor())
            .await?;
        Ok(Json(preferences_dto(&preferences)))
    }

    /// Choose which notification kinds not to receive by e-mail.
    #[oai(path = "/me/notification-preferences", method = "put")]
    async fn set_preferences(
        &self,
        auth: Auth,
        body: JsonBody<PreferencesBody>,
    ) -> ApiResult<Json<PreferencesDto>> {
        let preferences = self
            .services
            .notifications
            .set_preferences(auth.actor(), &body.0.mail_muted)
            .await?;
        Ok(Json(preferences_dto(&preferences)))
    }
}
