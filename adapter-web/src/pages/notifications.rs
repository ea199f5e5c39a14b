//! In-app notifications: the list (unread first to the eye), opening one marks it read, and
//! "mark all read".

use marketplace_domain::ids::NotificationId;
use marketplace_domain::notifications::NotificationKind;
use maud::html;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::Site;
use crate::error::{Failed, WebError};
use crate::form;
use crate::format;
use crate::links::notification_page;
use crate::page::{pager, render};
use crate::visitor::Visitor;

/// How a kind of notification is called on pages.
pub fn kind_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::NewQuestion => "Questions about my listings",
        NotificationKind::ThreadReply => "Replies in questions I am part of",
        NotificationKind::NewReview => "Reviews of my listings and shop",
        NotificationKind::ReportOutcome => "What happened to my reports",
        NotificationKind::RefundRequest => "Refund requests and their decisions",
        NotificationKind::Sale => "Sales",
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    unread: Option<String>,
    page: Option<String>,
}

/// `GET /notifications`.
#[handler]
pub async fn inbox(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = visitor.require("/notifications")?;
    let params: Params = form::query(request.uri().query())?;
    let unread_only = params.unread.as_deref() == Some("1");
    let page = form::page_request(params.page.as_deref(), 20)?;
    let inbox = site
        .services
        .notifications
        .inbox(actor, unread_only, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Notifications" }
        div.actions {
            span { (inbox.unread) " unread" }
            @if unread_only { a href="/notifications" { "Show all" } } @else { a href="/notifications?unread=1" { "Show unread only" } }
            @if inbox.unread > 0 {
                form.inline method="post" action="/notifications/read-all" {
                    (visitor.csrf_field())
                    button.secondary type="submit" { "Mark all read" }
                }
            }
        }
        @if inbox.page.items.is_empty() {
            p.muted { "Nothing here." }
        }
        @for n in &inbox.page.items {
            article.review {
                h2 {
                    @if n.read_at.is_none() { span.badge.hot { "New" } " " }
                    (n.title)
                }
                p { (n.body) }
                div.muted {
                    (format::time(n.created_at)) " · "
                    form.inline method="post" action={"/notifications/" (n.id) "/open"} {
                        (visitor.csrf_field())
                        input type="hidden" name="to" value=(notification_page(n.kind, n.subject_id));
                        button.link type="submit" { "Open" span.visually-hidden { " " (n.title) } }
                    }
                }
            }
        }
        (pager(&inbox.page, if unread_only { "/notifications?unread=1" } else { "/notifications" }))
    };
    Ok(render(&visitor, "Notifications", content))
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
struct OpenForm {
    #[serde(default)]
    to: Option<String>,
}

/// `POST /notifications/{id}/open`: marks it read and goes to what it is about.
#[handler]
pub async fn open(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: OpenForm = form::read(&visitor, &body)?;
    let actor = visitor.require("/notifications")?;
    let id = NotificationId::from_uuid(form::path_id(&id)?);
    site.services
        .notifications
        .mark_read(actor, id)
        .await
        .or_page()?;
    Ok(crate::page::see_other(&form::local_path(
        fields.to.as_deref(),
    )))
}

/// `POST /notifications/read-all`.
#[handler]
pub async fn read_all(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: Empty = form::read(&visitor, &body)?;
    let actor = visitor.require("/notifications")?;
    site.services
        .notifications
        .mark_all_read(actor)
        .await
        .or_page()?;
    Ok(visitor.redirect_with_notice("/notifications", "Everything is marked read."))
}
