//! Running the marketplace (owners; staff where the use cases let them): the dashboard, the site
//! configuration, categories, orders with their reconciliation flags and actions, refund
//! requests, background jobs, the mail outbox, webhook events, the moderation queue, and users
//! with their roles. Every rule — who may, what is valid — is the use cases'.

mod operations;
mod order_desk;
mod people;
mod settings;

pub use operations::*;
pub use order_desk::*;
pub use people::*;
pub use settings::*;

use marketplace_domain::catalog::CategoryType;
use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::ids::{CategoryId, JobId, OrderId, ReportId, UserId};
use marketplace_domain::moderation::ReportStatus;
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::reconcile::AnomalyKind;
use marketplace_domain::site::SiteConfig;
use marketplace_domain::validation::{FieldErrors, parse_day};
use marketplace_ports::ports::{JobStatus, ReconFilter, ReportFilter, WebhookStatus};
use marketplace_ports::use_cases::Actor;
use marketplace_ports::use_cases::admin::{OwnerOrderQuery, RoleChange};
use marketplace_ports::use_cases::catalog::{CategoryChanges, NewCategory};
use marketplace_ports::use_cases::moderation::ResolveReport;
use marketplace_ports::use_cases::refund_requests::RefundQueue;
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input, encode};
use crate::format;
use crate::page::{pager, render, render_status};
use crate::pages::orders::{short_id, status_badge};
use crate::visitor::Visitor;

/// Owners and staff only; others are told they may not.
fn require_staff<'a>(visitor: &'a Visitor, next: &str) -> Result<&'a Actor, WebError> {
    let actor = visitor.require(next)?;
    if !(actor.roles.is_owner() || actor.roles.is_staff()) {
        return Err(WebError::Forbidden(
            "These pages are for the people who run the marketplace.".to_owned(),
        ));
    }
    Ok(actor)
}

fn admin_nav() -> Markup {
    html! {
        nav aria-label="Administration" {
            ul.chips {
                li { a href="/admin" { "Dashboard" } }
                li { a href="/admin/orders" { "Orders" } }
                li { a href="/admin/reconciliation" { "Reconciliation" } }
                li { a href="/admin/refund-requests" { "Refund requests" } }
                li { a href="/admin/reports" { "Moderation" } }
                li { a href="/admin/users" { "Users" } }
                li { a href="/admin/categories" { "Categories" } }
                li { a href="/admin/site-config" { "Site settings" } }
                li { a href="/admin/jobs" { "Jobs" } }
                li { a href="/admin/outbox" { "Outbox" } }
                li { a href="/admin/webhooks" { "Webhooks" } }
                li { a href="/admin/audit-log" { "Audit log" } }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    q: Option<String>,
    status: Option<String>,
    flag: Option<String>,
    flagged: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page: Option<String>,
}

/// `GET /admin`: the marketplace at a glance.
#[handler]
pub async fn dashboard(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin")?;
    let d = site.services.analytics.dashboard(actor).await.or_page()?;
    let currency = d.site.currency;
    let o = &d.overview;
    let content = html! {
        h1 { "Dashboard" }
        (admin_nav())
        ul.stats {
            li { "Active listings" strong { (o.products_active) } span.muted { " of " (o.products_total) } }
            li { "Sellers" strong { (o.sellers) } }
            li { "Paid orders" strong { (o.orders_paid) } }
            li { "Awaiting payment" strong { (o.orders_pending) } }
            li { "Sales since " (d.since) strong { (format::cents(o.period.gross, currency)) } }
            li { "Fees since " (d.since) strong { (format::cents(o.period.fee, currency)) } }
        }
        h2 { "Top sellers since " (d.since) }
        @if o.top_sellers.is_empty() { p.muted { "No sales in the period." } } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Seller" } th.num scope="col" { "Orders" } th.num scope="col" { "Units" } th.num scope="col" { "Sales" } } }
                tbody { @for s in &o.top_sellers { tr {
                    td { a href={"/sellers/" (s.seller_id)} { (s.username) } }
                    td.num { (s.orders) } td.num { (s.units) } td.num { (format::cents(s.gross, currency)) }
                } } }
            } }
        }
        h2 { "Settings" }
        p { "Fee " strong { (format::percent(d.site.fee.get())) } " · currency " (currency.as_str().to_ascii_uppercase()) " · " a href="/admin/site-config" { "change" } }
    };
    Ok(render(&visitor, "Dashboard", content))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoteForm {
    note: String,
    kind: String,
    action: String,
    is_seller: Option<String>,
    is_staff: Option<String>,
    suspend: String,
}

fn day(field: &str, text: Option<&str>) -> Result<Option<time::OffsetDateTime>, WebError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse_day(text)
            .map(Some)
            .map_err(|e| WebError::BadRequest(format!("{field}: {e}"))),
    }
}
