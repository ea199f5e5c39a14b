//! Running the marketplace (owners; staff where the use cases let them): the dashboard, the site
//! configuration, categories, orders with their reconciliation flags and actions, refund
//! requests, background jobs, the mail outbox, webhook events, the moderation queue, and users
//! with their roles. Every rule — who may, what is valid — is the use cases'.

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
struct SiteForm {
    fee_percent: String,
    currency: String,
    allowed_shipping_countries: String,
    dispute_fee_to_sellers: Option<String>,
    download_limit: String,
    download_expiry_days: String,
}

impl SiteForm {
    fn of(config: &SiteConfig) -> SiteForm {
        SiteForm {
            fee_percent: config.fee.get().normalize().to_string(),
            currency: config.currency.as_str().to_ascii_uppercase(),
            allowed_shipping_countries: config.allowed_shipping_countries.join(", "),
            dispute_fee_to_sellers: config.dispute_fee_to_sellers.then(|| "on".to_owned()),
            download_limit: config
                .downloads
                .limit
                .map(|n| n.to_string())
                .unwrap_or_default(),
            download_expiry_days: config
                .downloads
                .expiry_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }
}

fn site_page(
    visitor: &Visitor,
    values: &SiteForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Site settings" }
        (admin_nav())
        (form::summary(errors, &["fee_percent", "currency", "allowed_shipping_countries", "download_limit", "download_expiry_days"]))
        div.form-card {
            form method="post" action="/admin/site-config" novalidate {
                (visitor.csrf_field())
                (Input::text("fee_percent", "Marketplace fee (%)", &values.fee_percent).required().hint("Applies to orders placed from now on; each order keeps the fee it was placed with.").render(errors))
                (Input::text("currency", "Currency", &values.currency).required().hint("Three letters, like USD.").render(errors))
                (Input::text("allowed_shipping_countries", "Countries printed models ship to", &values.allowed_shipping_countries).hint("Two-letter codes separated by commas, like US, CA.").render(errors))
                div.checkbox {
                    input #f-dispute type="checkbox" name="dispute_fee_to_sellers" value="on" checked[values.dispute_fee_to_sellers.is_some()];
                    label for="f-dispute" { "Charge Stripe's dispute fees to the sellers" }
                }
                (Input::text("download_limit", "Downloads per purchase", &values.download_limit).kind("number").hint("Empty: unlimited.").render(errors))
                (Input::text("download_expiry_days", "Days downloads stay open", &values.download_expiry_days).kind("number").hint("Empty: forever.").render(errors))
                button type="submit" { "Save settings" }
            }
        }
    };
    render_status(visitor, status, "Site settings", content)
}

/// `GET /admin/site-config`.
#[handler]
pub async fn site_config(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/site-config")?;
    let config = site
        .services
        .site_admin
        .site_config(actor)
        .await
        .or_page()?;
    Ok(site_page(
        &visitor,
        &SiteForm::of(&config),
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

fn optional_number(errors: &mut FieldErrors, field: &str, text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "Enter a whole number, or leave it empty.");
            None
        }
    }
}

/// `POST /admin/site-config`.
#[handler]
pub async fn save_site_config(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: SiteForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/site-config")?;
    let mut errors = FieldErrors::default();
    let fee = values.fee_percent.trim().parse::<rust_decimal::Decimal>();
    if fee.is_err() {
        errors.add("fee_percent", "Enter a percentage like 10 or 12.5.");
    }
    let limit = optional_number(&mut errors, "download_limit", &values.download_limit);
    let expiry = optional_number(
        &mut errors,
        "download_expiry_days",
        &values.download_expiry_days,
    );
    let countries: Vec<String> = values
        .allowed_shipping_countries
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if let (Ok(fee), true) = (fee, errors.is_empty()) {
        let result = site
            .services
            .site_admin
            .update_site_config(
                actor,
                fee,
                values.currency.trim(),
                &countries,
                values.dispute_fee_to_sellers.is_some(),
                DownloadPolicy {
                    limit,
                    expiry_days: expiry,
                },
            )
            .await;
        match result {
            Ok(saved) => {
                return Ok(visitor.redirect_with_notice(
                    "/admin/site-config",
                    &format!(
                        "Settings saved. The fee is now {}.",
                        format::percent(saved.fee.get())
                    ),
                ));
            }
            Err(error) => match (field_errors(&error), refusal(&error)) {
                (Some(fields), _) => errors = fields,
                (None, Some(message)) => errors.add("form", message),
                (None, None) => return Err(WebError::from_use_case(&error)),
            },
        }
    }
    Ok(site_page(
        &visitor,
        &values,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// `GET /admin/categories`: every category, with forms to add and change them.
#[handler]
pub async fn categories(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/categories")?;
    let all = site.services.category_admin.all(actor).await.or_page()?;
    let roots: Vec<_> = all.iter().filter(|c| c.parent_id.is_none()).collect();
    let content = html! {
        h1 { "Categories" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Tree" } th.num scope="col" { "Order" } th scope="col" { "Visible" } th scope="col" { "Change" } } }
            tbody { @for c in &all {
                tr {
                    td { @if c.parent_id.is_some() { "— " } (c.name) }
                    td { @match c.category_type { CategoryType::Model => "Models", CategoryType::File => "Files" } }
                    td.num { (c.sort_order) }
                    td { @if c.is_active { "Yes" } @else { "No" } }
                    td {
                        form.inline method="post" action={"/admin/categories/" (c.id)} {
                            (visitor.csrf_field())
                            label.visually-hidden for={"name-" (c.id)} { "New name for " (c.name) }
                            input.qty-input id={"name-" (c.id)} type="text" name="name" value=(c.name) required;
                            " "
                            input type="hidden" name="is_active" value=(if c.is_active { "false" } else { "true" });
                            button.link type="submit" name="save" value="rename" { "Rename" span.visually-hidden { " " (c.name) } }
                            " · "
                            button.link type="submit" name="save" value="toggle" { @if c.is_active { "Hide" } @else { "Show" } span.visually-hidden { " " (c.name) } }
                        }
                        " · "
                        form.inline method="post" action={"/admin/categories/" (c.id) "/delete"} {
                            (visitor.csrf_field())
                            button.link type="submit" { "Delete" span.visually-hidden { " " (c.name) } }
                        }
                    }
                }
            } }
        } }
        h2 { "Add a category" }
        div.form-card {
            form method="post" action="/admin/categories" {
                (visitor.csrf_field())
                div.field {
                    label for="f-type" { "Tree" }
                    select #f-type name="category_type" { option value="MODEL" { "3D models" } option value="FILE" { "3D files" } }
                }
                (Input::text("name", "Name", "").required().render(&FieldErrors::default()))
                div.field {
                    label for="f-parent" { "Inside" }
                    select #f-parent name="parent_id" {
                        option value="" { "Nothing (a top category)" }
                        @for root in &roots { option value=(root.id) { (root.name) } }
                    }
                }
                button type="submit" { "Add" }
            }
        }
    };
    Ok(render(&visitor, "Categories", content))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CategoryForm {
    category_type: String,
    name: String,
    parent_id: String,
    is_active: String,
    save: String,
}

fn category_type(text: &str) -> Option<CategoryType> {
    match text {
        "MODEL" => Some(CategoryType::Model),
        "FILE" => Some(CategoryType::File),
        _ => None,
    }
}

/// `POST /admin/categories`.
#[handler]
pub async fn create_category(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: CategoryForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let kind = category_type(&values.category_type)
        .ok_or_else(|| WebError::BadRequest("Choose a tree.".to_owned()))?;
    let parent = form::optional_choice(
        Some(&values.parent_id),
        |id| Uuid::parse_str(id).ok().map(CategoryId::from_uuid),
        "Choose a parent.",
    )?;
    let result = site
        .services
        .category_admin
        .create(
            actor,
            NewCategory {
                category_type: kind,
                name: values.name,
                slug: None,
                parent_id: parent,
                description: None,
                is_active: Some(true),
                sort_order: None,
            },
        )
        .await;
    visitor.after("/admin/categories", result, "Category added.")
}

fn category_id(text: &str) -> Result<CategoryId, WebError> {
    form::path_id(text).map(CategoryId::from_uuid)
}

/// `POST /admin/categories/{id}`: rename, or show/hide.
#[handler]
pub async fn update_category(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: CategoryForm = form::read(&visitor, &body)?;
    let id = category_id(&id)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let changes = if values.save == "toggle" {
        CategoryChanges {
            is_active: Some(values.is_active == "true"),
            ..CategoryChanges::default()
        }
    } else {
        CategoryChanges {
            name: Some(values.name),
            ..CategoryChanges::default()
        }
    };
    let result = site
        .services
        .category_admin
        .update(actor, id, changes)
        .await;
    visitor.after("/admin/categories", result, "Category changed.")
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

/// `POST /admin/categories/{id}/delete`: refused while listings use it.
#[handler]
pub async fn delete_category(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let id = category_id(&id)?;
    let actor = require_staff(&visitor, "/admin/categories")?;
    let result = site.services.category_admin.delete(actor, id).await;
    visitor.after("/admin/categories", result, "Category deleted.")
}

fn day(field: &str, text: Option<&str>) -> Result<Option<time::OffsetDateTime>, WebError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse_day(text)
            .map(Some)
            .map_err(|e| WebError::BadRequest(format!("{field}: {e}"))),
    }
}

const ORDER_STATUSES: [OrderStatus; 5] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::PartiallyRefunded,
    OrderStatus::Refunded,
    OrderStatus::Canceled,
];

/// `GET /admin/orders`: every order, searchable (id, e-mail, Stripe id) and filtered by state,
/// day and flags.
#[handler]
pub async fn orders(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/orders")?;
    let params: Params = form::query(request.uri().query())?;
    let text = params.q.clone().unwrap_or_default();
    let status_text = params.status.clone().unwrap_or_default();
    let status = form::optional_choice(
        Some(&status_text),
        OrderStatus::parse,
        "Choose an offered state.",
    )?;
    let flagged_text = params.flagged.clone().unwrap_or_default();
    let flagged = match flagged_text.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let page = form::page_request(params.page.as_deref(), 25)?;
    let query = OwnerOrderQuery {
        text: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        status,
        seller: None,
        since: day("since", params.since.as_deref())?,
        until: day("until", params.until.as_deref())?,
        flagged,
    };
    let found = site
        .services
        .order_admin
        .orders(actor, query, page)
        .await
        .or_page()?;
    let since = params.since.clone().unwrap_or_default();
    let until = params.until.clone().unwrap_or_default();
    let content = html! {
        h1 { "Orders" }
        (admin_nav())
        form.filters method="get" action="/admin/orders" {
            div.field.wide { label for="f-q" { "Order id, e-mail or Stripe id" } input #f-q type="search" name="q" value=(text); }
            div.field { label for="f-status" { "State" } select #f-status name="status" {
                option value="" { "Any" }
                @for s in ORDER_STATUSES { option value=(s.as_str()) selected[status == Some(s)] { (s.as_str().replace('_', " ")) } }
            } }
            div.field { label for="f-flagged" { "Flags" } select #f-flagged name="flagged" {
                option value="" { "Any" }
                option value="yes" selected[flagged == Some(true)] { "Flagged" }
                option value="no" selected[flagged == Some(false)] { "Not flagged" }
            } }
            div.field { label for="f-since" { "Placed from (YYYY-MM-DD)" } input #f-since type="text" name="since" value=(since) inputmode="numeric"; }
            div.field { label for="f-until" { "Placed before" } input #f-until type="text" name="until" value=(until) inputmode="numeric"; }
            div { button type="submit" { "Search" } }
        }
        p.muted { (found.total) " orders" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Buyer" } th scope="col" { "State" } th.num scope="col" { "Total" } th scope="col" { "Flags" } } }
            tbody { @for row in &found.items {
                @let o = &row.order;
                tr {
                    td { a href={"/admin/orders/" (o.id)} { (short_id(o.id)) } }
                    td { (format::time(o.created_at)) }
                    td { (row.email) }
                    td { (status_badge(o.status)) }
                    td.num { (format::cents(o.total, o.currency)) }
                    td { @for flag in &row.flags { span.badge.hot { (flag.replace('_', " ")) } " " } }
                }
            } }
        } }
        (pager(&found, &format!("/admin/orders?q={}&status={}&flagged={}&since={}&until={}", encode(&text), encode(&status_text), encode(&flagged_text), encode(&since), encode(&until))))
    };
    Ok(render(&visitor, "Orders", content))
}

/// `GET /admin/orders/{id}`: the whole order, its payouts and history, and its flags with what
/// can be done about them.
#[handler]
pub async fn order_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = OrderId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, &format!("/admin/orders/{id}"))?;
    let detail = site
        .services
        .orders
        .get(id, visitor.order_access(None))
        .await
        .or_page()?;
    let flagged = site
        .services
        .order_admin
        .orders(
            actor,
            OwnerOrderQuery {
                text: Some(id.to_string()),
                ..OwnerOrderQuery::default()
            },
            marketplace_domain::pagination::PageRequest::first(),
        )
        .await
        .or_page()?;
    let flags: Vec<String> = flagged
        .items
        .into_iter()
        .find(|row| row.order.id == id)
        .map(|row| row.flags)
        .unwrap_or_default();
    let order = &detail.view.order;
    let currency = order.currency;
    let mut sellers: Vec<UserId> = order.lines().iter().map(|l| l.seller_id).collect();
    sellers.sort_by_key(|s| s.get());
    sellers.dedup();
    let content = html! {
        h1 { "Order " (short_id(order.id)) " " (status_badge(order.status)) }
        (admin_nav())
        p.muted { "Placed " (format::time(order.created_at)) " · fee " (format::percent(marketplace_domain::money::FeePercent::from_basis_points(order.fee_rate).get())) }
        @if !flags.is_empty() {
            section.panel aria-labelledby="flags" {
                h2 #flags { "Reconciliation flags" }
                ul { @for flag in &flags { li { span.badge.hot { (flag.replace('_', " ")) } } } }
                @let resolvable: Vec<&String> = flags.iter().filter(|f| AnomalyKind::parse(f).is_some()).collect();
                @if !resolvable.is_empty() {
                    form method="post" action={"/admin/orders/" (order.id) "/resolve"} {
                        (visitor.csrf_field())
                        div.field { label for="f-kind" { "Resolve" } select #f-kind name="kind" { @for f in &resolvable { option value=(f) { (f.replace('_', " ")) } } } }
                        div.field { label for="f-note" { "What you did (for the audit log)" } input #f-note type="text" name="note" required maxlength="500"; }
                        button type="submit" { "Mark resolved" }
                    }
                }
            }
        }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Item" } th scope="col" { "Seller" } th.num scope="col" { "Qty" } th.num scope="col" { "Gross" } th.num scope="col" { "Fee" } th.num scope="col" { "Seller net" } } }
            tbody { @for line in detail.view.lines() { tr {
                td { (line.title) } td { a href={"/sellers/" (line.seller_id)} { (short_id(line.seller_id)) } }
                td.num { (line.quantity) } td.num { (format::cents(line.gross, currency)) }
                td.num { (format::cents(line.fee, currency)) } td.num { (format::cents(line.net, currency)) }
            } } }
            tfoot {
                tr { td colspan="5" { "Total paid" } td.num { (format::cents(order.total, currency)) } }
                tr { td colspan="5" { "Refunded" } td.num { (format::cents(order.refunded, currency)) } }
            }
        } }
        h2 { "Payouts" }
        @if detail.payouts.is_empty() { p.muted { "None yet." } }
        ul { @for p in &detail.payouts {
            @let (label, amount) = crate::pages::seller::payout_status(&p.status);
            li { "Seller " (short_id(p.seller_id)) ": " (label) @if let Some(amount) = amount { " — " (format::cents(amount, currency)) } @if let Some(e) = &p.last_error { " (" (e) ")" } }
        } }
        form method="post" action={"/admin/orders/" (order.id) "/retry-payouts"} {
            (visitor.csrf_field())
            button.secondary type="submit" { "Retry unpaid payouts" }
        }
        h2 { "Sellers' money" }
        @for seller in &sellers {
            section.panel aria-label={"Seller " (short_id(seller))} {
                h3 { "Seller " a href={"/sellers/" (seller)} { (short_id(seller)) } }
                form method="post" action={"/admin/orders/" (order.id) "/reversals"} {
                    (visitor.csrf_field())
                    input type="hidden" name="seller_id" value=(seller);
                    p.muted { "Refunds and lost disputes after a payout are netted against the seller's later payouts; this takes their share back now by reversing the transfer." }
                    button.secondary type="submit" { "Reverse the payout now" }
                }
                form method="post" action="/admin/adjustments" {
                    (visitor.csrf_field())
                    input type="hidden" name="seller_id" value=(seller);
                    input type="hidden" name="order_id" value=(order.id);
                    input type="hidden" name="idempotency_key" value=(uuid::Uuid::new_v4());
                    div.field { label for={"amount-" (seller)} { "Adjust the seller's balance by (−5.00 takes, 5.00 gives)" } input id={"amount-" (seller)} type="text" name="amount" required inputmode="decimal"; }
                    div.field { label for={"why-" (seller)} { "Why (for the audit log)" } input id={"why-" (seller)} type="text" name="note" required maxlength="500"; }
                    button.secondary type="submit" { "Book the adjustment" }
                }
            }
        }
        h2 { "History" }
        ol { @for e in &detail.events { li { (format::time(e.created_at)) " — " (e.message) } } }
    };
    Ok(render(&visitor, "Order", content))
}

/// `POST /admin/orders/{id}/resolve`: an anomaly was looked at (audited).
#[handler]
pub async fn resolve_flag(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: NoteForm = form::read(&visitor, &body)?;
    let id = OrderId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/orders")?;
    let kind = AnomalyKind::parse(values.kind.trim())
        .ok_or_else(|| WebError::BadRequest("Choose a flag to resolve.".to_owned()))?;
    let result = site
        .services
        .books
        .resolve(actor, id, kind, &values.note)
        .await;
    visitor.after(&format!("/admin/orders/{id}"), result, "Resolved.")
}

/// `POST /admin/orders/{id}/retry-payouts`.
#[handler]
pub async fn retry_payouts(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let id = OrderId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/orders")?;
    let result = site.services.payout_admin.retry_payouts(actor, id).await;
    visitor.after(
        &format!("/admin/orders/{id}"),
        result,
        "Unpaid payouts are queued again.",
    )
}

/// `GET /admin/reconciliation`: orders whose money needs a look, and why.
#[handler]
pub async fn reconciliation(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/reconciliation")?;
    let params: Params = form::query(request.uri().query())?;
    let flag = params.flag.clone().unwrap_or_default();
    let page = form::page_request(params.page.as_deref(), 25)?;
    let filter = ReconFilter {
        flag: Some(flag.trim().to_owned()).filter(|f| !f.is_empty()),
        since: day("since", params.since.as_deref())?,
        until: day("until", params.until.as_deref())?,
        seller: None,
    };
    let report = site
        .services
        .books
        .report(actor, &filter, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Reconciliation" }
        (admin_nav())
        form.filters method="get" action="/admin/reconciliation" {
            div.field.wide { label for="f-flag" { "Flag" } input #f-flag type="text" name="flag" value=(flag) placeholder="charge_mismatch, dispute_open, …"; }
            div { button type="submit" { "Show" } }
        }
        @if report.items.is_empty() { p { "Nothing needs a look." } }
        @for order in &report.items {
            article.panel {
                h2 { a href={"/admin/orders/" (order.order_id)} { "Order " (short_id(order.order_id)) } " " (status_badge(order.status)) }
                p.muted { (format::cents(order.total, order.currency)) " · flagged " (format::time(order.flagged_at)) }
                ul { @for f in &order.flags { li { span.badge.hot { (f.code.replace('_', " ")) } " " (f.detail) } } }
            }
        }
        (pager(&report, &format!("/admin/reconciliation?flag={}", encode(&flag))))
    };
    Ok(render(&visitor, "Reconciliation", content))
}

/// `GET /admin/refund-requests`: every seller's refund requests.
#[handler]
pub async fn refund_requests(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    require_staff(&visitor, "/admin/refund-requests")?;
    crate::pages::refunds::queue_page(
        &visitor,
        &site,
        request,
        RefundQueue::Marketplace { seller: None },
        "/admin/refund-requests",
        "Refund requests",
        admin_nav(),
    )
    .await
}

/// `GET /admin/jobs`: background work, with the dead ones to retry.
#[handler]
pub async fn jobs(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/jobs")?;
    let params: Params = form::query(request.uri().query())?;
    let status_text = params.status.clone().unwrap_or_default();
    let status = form::optional_choice(
        Some(&status_text),
        JobStatus::parse,
        "Choose an offered state.",
    )?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let found = site
        .services
        .job_admin
        .jobs(actor, status, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Jobs" }
        (admin_nav())
        form.filters method="get" action="/admin/jobs" {
            div.field { label for="f-status" { "State" } select #f-status name="status" {
                option value="" { "Any" }
                @for s in JobStatus::ALL { option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) } }
            } }
            div { button type="submit" { "Show" } }
        }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Kind" } th scope="col" { "Order" } th scope="col" { "State" } th.num scope="col" { "Attempts" } th scope="col" { "Next run" } th scope="col" { "Last error" } th scope="col" { "Action" } } }
            tbody { @for job in &found.items { tr {
                td { (job.kind.name().as_str().replace('_', " ")) }
                td { a href={"/admin/orders/" (job.kind.order())} { (short_id(job.kind.order())) } }
                td { (job.status.as_str()) }
                td.num { (job.attempts) " / " (job.max_attempts) }
                td { (format::time(job.run_at)) }
                td { (job.last_error.as_deref().unwrap_or("")) }
                td { @if job.status == JobStatus::Dead {
                    form method="post" action={"/admin/jobs/" (job.id) "/retry"} { (visitor.csrf_field()) button.link type="submit" { "Retry" span.visually-hidden { " the " (job.kind.name().as_str().replace('_', " ")) " job of order " (short_id(job.kind.order())) } } }
                } }
            } } }
        } }
        (pager(&found, &format!("/admin/jobs?status={}", encode(&status_text))))
    };
    Ok(render(&visitor, "Jobs", content))
}

/// `POST /admin/jobs/{id}/retry`.
#[handler]
pub async fn retry_job(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let id = JobId::from_uuid(form::path_id(&id)?);
    let actor = require_staff(&visitor, "/admin/jobs")?;
    let result = site.services.job_admin.retry_job(actor, id).await;
    visitor.after("/admin/jobs", result, "The job is queued again.")
}

/// `GET /admin/outbox`: mail waiting or sent.
#[handler]
pub async fn outbox(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/outbox")?;
    let params: Params = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let mails = site
        .services
        .site_admin
        .outbox(actor, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Outbox" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "To" } th scope="col" { "Subject" } th scope="col" { "State" } th scope="col" { "Queued" } } }
            tbody { @for m in &mails.items { tr {
                td { (m.to) } td { (m.subject) } td { (m.status.as_str()) } td { (format::time(m.created_at)) }
            } } }
        } }
        (pager(&mails, "/admin/outbox"))
    };
    Ok(render(&visitor, "Outbox", content))
}

/// `GET /admin/webhooks`: received Stripe events and their outcome.
#[handler]
pub async fn webhooks(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_staff(&visitor, "/admin/webhooks")?;
    let params: Params = form::query(request.uri().query())?;
    let status_text = params.status.clone().unwrap_or_default();
    let status = form::optional_choice(
        Some(&status_text),
        WebhookStatus::parse,
        "Choose an offered state.",
    )?;
    let page = form::page_request(params.page.as_deref(), 25)?;
    let events = site
        .services
        .webhook_admin
        .webhook_events(actor, status, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Webhook events" }
        (admin_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "State" } th scope="col" { "Outcome" } th scope="col" { "Received" } th scope="col" { "Action" } } }
            tbody { @for e in &events.items { tr {
                td { code { (e.id) } } td { (e.event_type) } td { (e.status.as_str()) } td { (e.outcome) } td { (format::time(e.received_at)) }
                td { form method="post" action={"/admin/webhooks/" (e.id) "/process"} { (visitor.csrf_field()) button.link type="submit" { "Process again" span.visually-hidden { " " (e.id) } } } }
            } } }
        } }
        (pager(&events, &format!("/admin/webhooks?status={}", encode(&status_text))))
    };
    Ok(render(&visitor, "Webhook events", content))
}

/// `POST /admin/webhooks/{id}/process`: run a received event again (recorded as an owner action).
#[handler]
pub async fn process_webhook(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let _: NoteForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/webhooks")?;
    let result = site.services.webhooks.process_again(actor, &id).await;
    visitor.after("/admin/webhooks", result, "The event was processed again.")
}

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MoneyForm {
    seller_id: String,
    order_id: String,
    amount: String,
    note: String,
    idempotency_key: String,
}

/// `POST /admin/orders/{id}/reversals`: take a seller's share of later refunds back now.
#[handler]
pub async fn reverse_payout(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let values: MoneyForm = form::read(&visitor, &body)?;
    let id = OrderId::from_uuid(form::path_id(&id)?);
    let seller = UserId::from_uuid(form::path_id(values.seller_id.trim())?);
    let actor = require_staff(&visitor, "/admin/orders")?;
    let result = site
        .services
        .payout_admin
        .reverse_payout(actor, id, seller)
        .await;
    visitor.after(
        &format!("/admin/orders/{id}"),
        result,
        "The reversal is queued; the order's history shows Stripe's answer.",
    )
}

/// Reads a signed amount typed in the currency's units (`-5.00`, `12.5`) as cents.
fn signed_cents(text: &str) -> Option<i64> {
    let text = text.trim().replace('−', "-");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, text.trim_start_matches('+').trim()),
    };
    let cents = marketplace_domain::money::Cents::parse_price(digits)
        .ok()?
        .get();
    Some(if negative { -cents } else { cents })
}

/// `POST /admin/adjustments`: a balanced adjustment of a seller's balance, booked once per form
/// (the form's key).
#[handler]
pub async fn adjust(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let values: MoneyForm = form::read(&visitor, &body)?;
    let actor = require_staff(&visitor, "/admin/orders")?;
    let back = match Uuid::parse_str(values.order_id.trim()) {
        Ok(order) => format!("/admin/orders/{order}"),
        Err(_) => "/admin/orders".to_owned(),
    };
    let seller = UserId::from_uuid(form::path_id(values.seller_id.trim())?);
    let Some(amount) = signed_cents(&values.amount) else {
        return Ok(visitor.redirect_with_problem(&back, "Type an amount like -5.00 or 12.50."));
    };
    let currency = site.config.currency.as_str().to_owned();
    let result = site
        .services
        .books
        .adjust(
            actor,
            &marketplace_domain::adjustments::AdjustmentInput {
                seller,
                amount,
                currency,
                note: values.note,
                idempotency_key: values.idempotency_key,
            },
        )
        .await;
    visitor.after(&back, result, "The adjustment is booked.")
}

#[cfg(test)]
mod tests {
    use super::signed_cents;

    #[test]
    fn adjustments_are_typed_in_units_with_a_sign() {
        assert_eq!(signed_cents("-5.00"), Some(-500));
        assert_eq!(signed_cents("−5"), Some(-500));
        assert_eq!(signed_cents("12.5"), Some(1250));
        assert_eq!(signed_cents("+0.01"), Some(1));
        assert_eq!(signed_cents("five"), None);
        assert_eq!(signed_cents(""), None);
    }
}
