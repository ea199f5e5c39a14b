//! Refund requests: a buyer (or a guest, with the order's link and the checkout e-mail) asks for a
//! physical line's money back; the line's seller, an owner or staff approve or decline it with a
//! note and send the approved refund through Stripe. The pages show the request's history.

use marketplace_domain::ids::{OrderId, OrderItemId, RefundRequestId};
use marketplace_domain::refunds::{RefundReason, RefundRequestStatus};
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::RefundRequestRecord;
use marketplace_ports::use_cases::refund_requests::requests::NewRefundRequest;
use marketplace_ports::use_cases::refund_requests::{
    RefundDecision, RefundQueue, RefundRequestDetail,
};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input, encode};
use crate::format;
use crate::page::{pager, render, render_status};
use crate::pages::orders::{order_url, short_id};
use crate::visitor::Visitor;

const REASONS: [(&str, &str); 5] = [
    ("damaged", "It arrived damaged"),
    ("not_as_described", "It is not as described"),
    ("late", "It arrived late, or not at all"),
    ("wrong_item", "I received the wrong item"),
    ("other", "Something else"),
];

fn reason_label(reason: RefundReason) -> &'static str {
    REASONS
        .iter()
        .find(|(code, _)| *code == reason.as_str())
        .map_or("Other", |(_, label)| label)
}

/// How a request's state reads.
pub fn status_label(status: RefundRequestStatus) -> &'static str {
    match status {
        RefundRequestStatus::Requested => "Waiting for the seller",
        RefundRequestStatus::Approved => "Approved",
        RefundRequestStatus::Declined => "Declined",
        RefundRequestStatus::Canceled => "Withdrawn",
        RefundRequestStatus::Refunded => "Refunded",
        RefundRequestStatus::Failed => "Refund failed",
    }
}

fn status_badge(status: RefundRequestStatus) -> Markup {
    let class = match status {
        RefundRequestStatus::Refunded | RefundRequestStatus::Approved => "badge status-paid",
        RefundRequestStatus::Requested => "badge status-pending",
        RefundRequestStatus::Declined
        | RefundRequestStatus::Canceled
        | RefundRequestStatus::Failed => "badge status-refunded",
    };
    html! { span class=(class) { (status_label(status)) } }
}

fn ids(order: &str, line: &str) -> Result<(OrderId, OrderItemId), WebError> {
    let order = form::path_id(order)?;
    let line = form::path_id(line)?;
    Ok((OrderId::from_uuid(order), OrderItemId::from_uuid(line)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenParam {
    t: Option<String>,
    status: Option<String>,
    page: Option<String>,
}

struct RequestForm<'a> {
    reason: &'a str,
    notes: &'a str,
    email: &'a str,
}

/// The refund request form for an order's line: empty, or (with `refused`) again with what was
/// typed and the use case's field messages (422).
async fn request_page(
    visitor: &Visitor,
    site: &Site,
    (order, line): (OrderId, OrderItemId),
    token: Option<&str>,
    refused: Option<(&RequestForm<'_>, &FieldErrors)>,
) -> Result<Response, WebError> {
    let detail = site
        .services
        .orders
        .get(order, visitor.order_access(token))
        .await
        .or_page()?;
    let empty = RequestForm {
        reason: "",
        notes: "",
        email: "",
    };
    let no_errors = FieldErrors::default();
    let (values, errors, status) = match refused {
        Some((values, errors)) => (values, errors, StatusCode::UNPROCESSABLE_ENTITY),
        None => (&empty, &no_errors, StatusCode::OK),
    };
    let order = &detail.view.order;
    let item = order
        .lines()
        .iter()
        .find(|l| l.id == line)
        .ok_or(WebError::NotFound)?;
    let action = format!("/orders/{}/lines/{line}/refund", order.id);
    let content = html! {
        h1 { "Ask for a refund" }
        p { "For " strong { (item.title) } " from order " a href=(order_url(order.id, token)) { (short_id(order.id)) } "." }
        (form::summary(errors, &["reason", "notes", "email"]))
        div.form-card {
            form method="post" action=(action) novalidate {
                (visitor.csrf_field())
                @if let Some(token) = token { input type="hidden" name="t" value=(token); }
                fieldset aria-describedby=[form::described_by(errors, "reason")] {
                    legend { "What went wrong?" }
                    @for (code, label) in REASONS {
                        div.checkbox {
                            input type="radio" id={"r-" (code)} name="reason" value=(code) checked[values.reason == code];
                            label for={"r-" (code)} { (label) }
                        }
                    }
                    (form::field_errors(errors, "reason"))
                }
                div.field {
                    label for="f-notes" { "Tell the seller more (optional)" }
                    textarea #f-notes name="notes" rows="4" maxlength="2000" aria-describedby=[form::described_by(errors, "notes")] { (values.notes) }
                    (form::field_errors(errors, "notes"))
                }
                @if order.guest_email.is_some() && visitor.actor().is_none() {
                    (Input::text("email", "The e-mail address you ordered with", values.email).kind("email").required().autocomplete("email").render(errors))
                }
                p.muted { "The seller decides. If they approve, the line's price with its share of tax and shipping goes back to your card." }
                button type="submit" { "Send the request" }
            }
        }
    };
    Ok(render_status(visitor, status, "Ask for a refund", content))
}

/// `GET /orders/{id}/lines/{line}/refund?t=…`.
#[handler]
pub async fn request_form(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, line)): Path<(String, String)>,
    request: &Request,
) -> Result<Response, WebError> {
    let (order, line) = ids(&order, &line)?;
    let params: TokenParam = form::query(request.uri().query())?;
    request_page(&visitor, &site, (order, line), params.t.as_deref(), None).await
}

#[derive(Deserialize)]
struct RequestFields {
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    email: String,
}

/// `POST /orders/{id}/lines/{line}/refund`.
#[handler]
pub async fn request_refund(
    visitor: Visitor,
    site: Data<&Site>,
    Path((order, line)): Path<(String, String)>,
    body: String,
) -> Result<Response, WebError> {
    let fields: RequestFields = form::read(&visitor, &body)?;
    let (order, line) = ids(&order, &line)?;
    let token = fields.t.as_deref().filter(|t| !t.is_empty());
    let result = site
        .services
        .refund_requests
        .request(
            visitor.order_access(token),
            order,
            line,
            &NewRefundRequest {
                reason: fields.reason.clone(),
                notes: Some(fields.notes.clone()).filter(|n| !n.trim().is_empty()),
                email: Some(fields.email.clone()).filter(|e| !e.trim().is_empty()),
            },
        )
        .await;
    match result {
        Ok(created) => Ok(visitor.redirect_with_notice(
            &request_url(created.id, token),
            "Your request is sent. The seller has been told.",
        )),
        Err(error) => {
            let errors = match (field_errors(&error), refusal(&error)) {
                (Some(errors), _) => errors,
                (None, Some(message)) => {
                    return Ok(visitor.redirect_with_problem(&order_url(order, token), &message));
                }
                (None, None) => return Err(WebError::from_use_case(&error)),
            };
            let typed = RequestForm {
                reason: &fields.reason,
                notes: &fields.notes,
                email: &fields.email,
            };
            request_page(
                &visitor,
                &site,
                (order, line),
                token,
                Some((&typed, &errors)),
            )
            .await
        }
    }
}

/// A request's page address, with the guest token when there is one.
pub fn request_url(id: RefundRequestId, token: Option<&str>) -> String {
    match token {
        Some(token) => format!("/refund-requests/{id}?t={}", encode(token)),
        None => format!("/refund-requests/{id}"),
    }
}

fn request_id(text: &str) -> Result<RefundRequestId, WebError> {
    form::path_id(text).map(RefundRequestId::from_uuid)
}

/// `GET /refund-requests/{id}?t=…`: the request, its history, and what the visitor may do.
#[handler]
pub async fn detail_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = request_id(&id)?;
    let params: TokenParam = form::query(request.uri().query())?;
    let token = params.t.as_deref();
    let found = site
        .services
        .refund_requests
        .get(visitor.order_access(token), id)
        .await;
    let request_detail = match found {
        Ok(detail) => detail,
        Err(error) => {
            // Not theirs, or signed out since: a signed-out visitor may still sign in to see it.
            let page = WebError::from_use_case(&error);
            return Err(match page {
                WebError::NotFound if visitor.actor().is_none() && token.is_none() => {
                    WebError::SignIn {
                        next: format!("/refund-requests/{id}"),
                    }
                }
                other => other,
            });
        }
    };
    let content = detail_content(&visitor, &request_detail, token);
    Ok(render(&visitor, "Refund request", content))
}

fn detail_content(visitor: &Visitor, detail: &RefundRequestDetail, token: Option<&str>) -> Markup {
    let r = &detail.request;
    let status = r.progress.status;
    let decides = visitor
        .actor()
        .is_some_and(|a| a.user_id == r.seller_id || a.roles.is_owner() || a.roles.is_staff());
    let is_buyer = !decides
        || visitor
            .actor()
            .is_some_and(|a| Some(a.user_id) == r.buyer_id);
    let action = format!("/refund-requests/{}", r.id);
    html! {
        h1 { "Refund request " (status_badge(status)) }
        dl.specs.panel {
            dt { "Order" } dd {
                @if decides && !is_buyer { a href={"/seller/orders/" (r.order_id)} { (short_id(r.order_id)) } }
                @else { a href=(order_url(r.order_id, token)) { (short_id(r.order_id)) } }
            }
            dt { "Amount" } dd { (format::cents(r.amount, r.currency)) }
            dt { "Reason" } dd { (reason_label(r.reason)) }
            @if !r.notes.is_empty() { dt { "Notes" } dd { (r.notes) } }
            dt { "Asked" } dd { (format::time(r.created_at)) }
            @if let Some(error) = r.last_error.as_ref().filter(|_| decides) { dt { "Stripe said" } dd { (error) } }
            @if r.progress.in_flight { dt { "Refund" } dd { "Being sent to Stripe…" } }
        }
        @if decides {
            @if status == RefundRequestStatus::Requested {
                section.panel aria-labelledby="decide" {
                    h2 #decide { "Your decision" }
                    form method="post" action={(action) "/decide"} {
                        (visitor.csrf_field())
                        div.field { label for="f-note" { "Note to the buyer (optional)" } textarea #f-note name="note" rows="3" maxlength="2000" {} }
                        div.actions {
                            button type="submit" name="decision" value="approve" { "Approve" }
                            button.secondary type="submit" name="decision" value="decline" { "Decline" }
                        }
                    }
                }
            }
            @if (status == RefundRequestStatus::Approved || status == RefundRequestStatus::Failed) && !r.progress.in_flight {
                section.panel aria-labelledby="send" {
                    h2 #send { "Send the refund" }
                    p { "Stripe returns " (format::cents(r.amount, r.currency)) " to the buyer's card." }
                    form method="post" action={(action) "/decide"} {
                        (visitor.csrf_field())
                        input type="hidden" name="decision" value="trigger";
                        button type="submit" { @if status == RefundRequestStatus::Failed { "Try the refund again" } @else { "Send the refund" } }
                    }
                }
            }
        } @else if status == RefundRequestStatus::Requested {
            form method="post" action={(action) "/cancel"} {
                (visitor.csrf_field())
                @if let Some(token) = token { input type="hidden" name="t" value=(token); }
                button.secondary type="submit" { "Withdraw my request" }
            }
        }
        h2 { "History" }
        ol {
            @for step in &detail.history {
                li {
                    (format::time(step.created_at)) " — " (status_label(step.status))
                    @if !step.note.is_empty() { ": “" (step.note) "”" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct CancelFields {
    #[serde(default)]
    t: Option<String>,
}

/// `POST /refund-requests/{id}/cancel`: the buyer withdraws a waiting request.
#[handler]
pub async fn cancel(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: CancelFields = form::read(&visitor, &body)?;
    let id = request_id(&id)?;
    let token = fields.t.as_deref().filter(|t| !t.is_empty());
    let back = request_url(id, token);
    visitor.after(
        &back,
        site.services
            .refund_requests
            .cancel(visitor.order_access(token), id, None)
            .await,
        "Your request is withdrawn.",
    )
}

#[derive(Deserialize)]
struct DecideFields {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /refund-requests/{id}/decide`: approve, decline or send the refund.
#[handler]
pub async fn decide(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let fields: DecideFields = form::read(&visitor, &body)?;
    let id = request_id(&id)?;
    let actor = visitor.require(&format!("/refund-requests/{id}"))?;
    let (decision, done) = match fields.decision.as_str() {
        "approve" => (
            RefundDecision::Approve,
            "Approved. Send the refund when you are ready.",
        ),
        "decline" => (
            RefundDecision::Decline,
            "Declined. The buyer has been told.",
        ),
        "trigger" => (
            RefundDecision::Trigger,
            "The refund is on its way to Stripe.",
        ),
        _ => return Err(WebError::BadRequest("Choose a decision.".to_owned())),
    };
    let back = request_url(id, None);
    let note = Some(fields.note.as_str()).filter(|n| !n.trim().is_empty());
    let result = site
        .services
        .refund_decisions
        .decide(actor, id, note, decision)
        .await;
    visitor.after(&back, result, done)
}

fn request_table(requests: &[RefundRequestRecord]) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th scope="col" { "Request" } th scope="col" { "Order" } th scope="col" { "Reason" } th.num scope="col" { "Amount" } th scope="col" { "State" } th scope="col" { "Asked" } } }
            tbody { @for r in requests { tr {
                td { a href={"/refund-requests/" (r.id)} { (short_id(r.id)) } }
                td { (short_id(r.order_id)) }
                td { (reason_label(r.reason)) }
                td.num { (format::cents(r.amount, r.currency)) }
                td { (status_badge(r.progress.status)) }
                td { (format::time(r.created_at)) }
            } } }
        } }
    }
}

/// `GET /refund-requests`: the signed-in buyer's requests.
#[handler]
pub async fn mine(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = visitor.require("/refund-requests")?;
    let params: TokenParam = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .refund_requests
        .mine(actor, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Your refund requests" }
        @if found.items.is_empty() {
            p.muted { "None. You can ask for a refund of a printed item from its order page." }
        } @else {
            (request_table(&found.items))
            (pager(&found, "/refund-requests"))
        }
    };
    Ok(render(&visitor, "Your refund requests", content))
}

/// A queue of requests (the seller's, or the marketplace's for staff) with a state filter.
pub async fn queue_page(
    visitor: &Visitor,
    site: &Site,
    request: &Request,
    queue: RefundQueue,
    base: &str,
    title: &str,
    nav: Markup,
) -> Result<Response, WebError> {
    let actor = visitor.require(base)?;
    let params: TokenParam = form::query(request.uri().query())?;
    let status = form::optional_choice(
        params.status.as_deref(),
        RefundRequestStatus::parse,
        "Choose one of the offered states.",
    )?;
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .refund_decisions
        .queue(actor, queue, status, page)
        .await
        .or_page()?;
    let chosen = params.status.clone().unwrap_or_default();
    let content = html! {
        h1 { (title) }
        (nav)
        form.filters method="get" action=(base) {
            div.field {
                label for="f-status" { "State" }
                select #f-status name="status" {
                    option value="" { "Every state" }
                    @for s in [RefundRequestStatus::Requested, RefundRequestStatus::Approved, RefundRequestStatus::Failed, RefundRequestStatus::Refunded, RefundRequestStatus::Declined, RefundRequestStatus::Canceled] {
                        option value=(s.as_str()) selected[chosen == s.as_str()] { (status_label(s)) }
                    }
                }
            }
            div { button type="submit" { "Show" } }
        }
        @if found.items.is_empty() {
            p.muted { "No requests." }
        } @else {
            (request_table(&found.items))
            (pager(&found, &format!("{base}?status={}", encode(&chosen))))
        }
    };
    Ok(render(visitor, title, content))
}
