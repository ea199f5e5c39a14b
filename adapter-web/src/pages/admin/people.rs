//! Moderation, users and their roles, and the audit log.

use super::*;

/// `GET /admin/reports`: the moderation queue.
#[handler]
pub async fn reports(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/reports")?;
    let params: Params = form::query(request.uri().query())?;
    let status_text = params.status.clone().unwrap_or_else(|| "open".to_owned());
    let filter = match status_text.as_str() {
        "resolved" => ReportFilter::Resolved,
        "" | "all" => ReportFilter::All,
        _ => ReportFilter::Open,
    };
    let page = form::page_request(params.page.as_deref(), 25)?;
    let found = site
        .services
        .moderation
        .reports(actor, filter, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Moderation" }
        (admin_nav())
        p.chips { a href="/admin/reports?status=open" { "Open" } " " a href="/admin/reports?status=resolved" { "Resolved" } " " a href="/admin/reports?status=all" { "All" } }
        @if found.items.is_empty() { p { "Nothing to look at." } }
        @for r in &found.items {
            article.panel {
                h2 { (r.target.as_str().replace('_', " ")) " reported for " (r.reason.as_str()) }
                p.muted { (format::time(r.created_at)) " · " code { (r.target_id) } }
                @if !r.details.is_empty() { p { (r.details) } }
                @match r.status {
                    ReportStatus::Open => {
                        form method="post" action={"/admin/reports/" (r.id) "/resolve"} {
                            (visitor.csrf_field())
                            div.field { label for={"note-" (r.id)} { "Why (for the audit log)" } input id={"note-" (r.id)} type="text" name="note" required maxlength="500"; }
                            div.actions {
                                button.secondary type="submit" name="action" value="dismiss" { "Dismiss" }
                                button type="submit" name="action" value="remove" { "Remove the content" }
                                button.danger type="submit" name="action" value="suspend" { "Remove and suspend the author" }
                            }
                        }
                    }
                    ReportStatus::Resolved(how) => { p { "Resolved: " (how.as_str()) @if !r.resolution_note.is_empty() { " — " (r.resolution_note) } } }
                }
            }
        }
        (pager(&found, &format!("/admin/reports?status={}", encode(&status_text))))
    };
    Ok(render(&visitor, "Moderation", content))
}

/// `POST /admin/reports/{id}/resolve`.
#[handler]
pub async fn resolve_report(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: NoteForm = form::read(&visitor, &body)?;
    let id = ReportId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/reports")?;
    let result = site
        .services
        .moderation
        .resolve(
            actor,
            id,
            &ResolveReport {
                action: values.action,
                note: values.note,
            },
        )
        .await;
    visitor.after("/admin/reports", result, "Report resolved.")
}

/// `GET /admin/users`: users, searchable, with their roles.
#[handler]
pub async fn users(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/users")?;
    let params: Params = form::query(request.uri().query())?;
    let text = params.q.clone().unwrap_or_default();
    let page = form::page_request(params.page.as_deref(), 25)?;
    let found = site
        .services
        .user_admin
        .users(actor, Some(text.as_str()), page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Users" }
        (admin_nav())
        form.filters method="get" action="/admin/users" {
            div.field.wide { label for="f-q" { "Username or e-mail" } input #f-q type="search" name="q" value=(text); }
            div { button type="submit" { "Search" } }
        }
        div.table-wrap { table {
            thead { tr { th scope="col" { "User" } th scope="col" { "E-mail" } th scope="col" { "Roles" } th scope="col" { "Change" } } }
            tbody { @for u in &found.items { tr {
                td { (u.username) @if !u.is_active { " " span.badge.status-refunded { "Suspended" } } }
                td { (u.email) }
                td { @if u.roles.is_owner() { "owner " } @if u.roles.is_staff { "staff " } @if u.roles.is_seller { "seller" } }
                td {
                    @if u.id != actor.user_id {
                        form method="post" action={"/admin/users/" (u.id) "/roles"} {
                            (visitor.csrf_field())
                            span.checkbox { input type="checkbox" id={"seller-" (u.id)} name="is_seller" value="on" checked[u.roles.is_seller]; label for={"seller-" (u.id)} { "Seller" span.visually-hidden { ": " (u.username) } } }
                            span.checkbox { input type="checkbox" id={"staff-" (u.id)} name="is_staff" value="on" checked[u.roles.is_staff]; label for={"staff-" (u.id)} { "Staff" span.visually-hidden { ": " (u.username) } } }
                            label.visually-hidden for={"why-" (u.id)} { "Why, for the audit log" }
                            input id={"why-" (u.id)} type="text" name="note" placeholder="Why (audit log)" required maxlength="500";
                            " "
                            button.secondary type="submit" name="suspend" value="" { "Save roles" span.visually-hidden { " of " (u.username) } }
                            " "
                            @if u.is_active {
                                button.danger type="submit" name="suspend" value="yes" { "Suspend" span.visually-hidden { " " (u.username) } }
                            } @else {
                                button.secondary type="submit" name="suspend" value="no" { "Lift suspension" span.visually-hidden { " of " (u.username) } }
                            }
                        }
                    }
                }
            } } }
        } }
        (pager(&found, &format!("/admin/users?q={}", encode(&text))))
    };
    Ok(render(&visitor, "Users", content))
}

/// `POST /admin/users/{id}/roles`: grant or revoke seller and staff, or suspend / lift a
/// suspension (audited, with the note).
#[handler]
pub async fn change_user(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: NoteForm = form::read(&visitor, &body)?;
    let id = UserId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/users")?;
    match values.suspend.as_str() {
        "yes" | "no" => {
            let suspend = values.suspend == "yes";
            let result = site
                .services
                .moderation
                .set_suspended(actor, id, suspend, &values.note)
                .await;
            let done = if suspend {
                "User suspended; their sessions are ended."
            } else {
                "Suspension lifted."
            };
            visitor.after("/admin/users", result, done)
        }
        _ => {
            let result = site
                .services
                .user_admin
                .set_roles(
                    actor,
                    id,
                    &RoleChange {
                        is_seller: Some(values.is_seller.is_some()),
                        is_staff: Some(values.is_staff.is_some()),
                        note: values.note,
                    },
                )
                .await;
            visitor.after("/admin/users", result, "Roles saved.")
        }
    }
}

/// `GET /admin/audit-log`: who did what to money, content and people, and why.
#[handler]
pub async fn audit_log(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/audit-log")?;
    let params: Params = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 50)?;
    let log = site.services.books.audit_log(actor, page).await.or_page()?;
    let content = html! {
        h1 { "Audit log" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Did" } th scope="col" { "To" } th scope="col" { "Why and details" } } }
            tbody { @for e in &log.items { tr {
                td { (format::time(e.created_at)) }
                td { (short_id(e.actor_id)) }
                td { (e.action) }
                td { code { (e.subject) } }
                td { (e.detail) }
            } } }
        } }
        (pager(&log, "/admin/audit-log"))
    };
    Ok(render(&visitor, "Audit log", content))
}
