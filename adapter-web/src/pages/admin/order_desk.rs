//! Orders, their reconciliation flags and what owners do about them (resolve, retry payouts,
//! reverse a transfer, adjust a seller's balance), and the refund-request queue.

use super::*;

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
