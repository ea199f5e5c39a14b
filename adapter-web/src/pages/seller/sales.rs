//! Sales, payouts and the ledger's movements, the refund-request queue, and analytics.

use super::*;

/// `GET /seller/orders`: paid orders with the seller's lines.
#[handler]
pub async fn sales_page(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/orders")?;
    let params: ListParams = form::query(request.uri().query())?;
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .orders
        .seller_orders(actor, page)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Sales" }
        (seller_nav())
        @if found.items.is_empty() {
            p.muted { "No paid orders with your items yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Order" } th scope="col" { "Paid" } th scope="col" { "Your items" } th scope="col" { "Status" } th.num scope="col" { "Your total" } } }
                tbody { @for view in &found.items {
                    @let order = &view.order;
                    @let share = view.seller_share();
                    tr {
                        td { a href={"/seller/orders/" (order.id)} { (short_id(order.id)) } }
                        td { @if let Some(at) = order.paid_at { (format::time(at)) } }
                        td { (view.lines().map(|l| format!("{} × {}", l.quantity, l.title)).collect::<Vec<_>>().join(", ")) }
                        td { (status_badge(order.status)) }
                        td.num { (format::cents(share.map_or(order.total, |s| s.total), order.currency)) }
                    }
                } }
            } }
            (pager(&found, "/seller/orders"))
        }
    };
    Ok(render(&visitor, "Sales", content))
}

/// `GET /seller/orders/{id}`: one sale — the seller's lines, their money and payouts, and the
/// address when one of their lines ships.
#[handler]
pub async fn sale_page(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = form::path_id(&id)?;
    let actor = require_seller(&visitor, &format!("/seller/orders/{id}"))?;
    let detail = site
        .services
        .orders
        .seller_order(actor, OrderId::from_uuid(id))
        .await
        .or_page()?;
    let order = &detail.view.order;
    let currency = order.currency;
    let content = html! {
        h1 { "Sale " (short_id(order.id)) " " (status_badge(order.status)) }
        (seller_nav())
        div.table-wrap { table {
            thead { tr { th scope="col" { "Item" } th.num scope="col" { "Qty" } th.num scope="col" { "Gross" } th.num scope="col" { "Fee" } th.num scope="col" { "Your net" } } }
            tbody { @for line in detail.view.lines() { tr {
                td { (line.title) br; span.muted { (kind_label(line.kind)) } }
                td.num { (line.quantity) }
                td.num { (format::cents(line.gross, currency)) }
                td.num { @if detail.view.shows_seller_money() { (format::cents(line.fee, currency)) } }
                td.num { @if detail.view.shows_seller_money() { (format::cents(line.net, currency)) } }
            } } }
        } }
        @if let Some(address) = order.shipping_address.as_ref().filter(|_| detail.view.shows_address()) {
            h2 { "Ship to" }
            address.panel {
                (address.name) br; (address.line1) br;
                @if !address.line2.is_empty() { (address.line2) br; }
                (address.city) ", " (address.state) " " (address.postal_code) br; (address.country)
                @if !address.phone.is_empty() { br; "Phone: " (address.phone) }
            }
        }
        h2 { "Payouts" }
        (payout_table(&detail.payouts, currency))
    };
    Ok(render(&visitor, "Sale", content))
}

pub(crate) fn payout_status(
    status: &PayoutStatus,
) -> (String, Option<marketplace_domain::money::Cents>) {
    match status {
        PayoutStatus::Pending { amount } => ("Being sent".to_owned(), Some(*amount)),
        PayoutStatus::Paid { amount, .. } => ("Paid".to_owned(), Some(*amount)),
        PayoutStatus::Skipped(reason) => (
            format!("Not paid: {}", reason.as_str().replace('_', " ")),
            None,
        ),
        PayoutStatus::Failed { amount } => {
            ("Failed; retried automatically".to_owned(), Some(*amount))
        }
    }
}

fn payout_table(payouts: &[PayoutRecord], currency: marketplace_domain::money::Currency) -> Markup {
    html! {
        @if payouts.is_empty() {
            p.muted { "No payouts yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Order" } th scope="col" { "Status" } th.num scope="col" { "Amount" } th scope="col" { "Updated" } } }
                tbody { @for payout in payouts {
                    @let (label, amount) = payout_status(&payout.status);
                    tr {
                        td { a href={"/seller/orders/" (payout.order_id)} { (short_id(payout.order_id)) } }
                        td { (label) }
                        td.num { @if let Some(amount) = amount { (format::cents(amount, currency)) } }
                        td { (format::time(payout.updated_at)) }
                    }
                } }
            } }
        }
    }
}

/// The kinds of money fact a seller's movements can be filtered by (the ledger's own names).
const LEDGER_KINDS: [(&str, &str); 10] = [
    ("", "Every movement"),
    ("order_paid", "Sales"),
    ("transfer", "Payouts"),
    ("transfer_reversal", "Payouts taken back"),
    ("refund", "Refunds"),
    ("refund_failed", "Refunds that failed"),
    ("dispute_opened", "Disputes opened"),
    ("dispute_won", "Disputes won"),
    ("dispute_lost", "Disputes lost"),
    ("adjustment", "Adjustments"),
];

/// `GET /seller/payouts`: the balance, the ledger's movements (filter by kind, search by order)
/// and the payouts.
#[handler]
pub async fn payouts_page(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/payouts")?;
    let params: ListParams = form::query(request.uri().query())?;
    let kind = params.kind.clone().unwrap_or_default();
    let text = params.q.clone().unwrap_or_default();
    let page = form::page_request(params.page.as_deref(), 25)?;
    let filter = LedgerFilter {
        kind: empty_to_none(kind.trim()),
        text: empty_to_none(text.trim()),
    };
    let money = site
        .services
        .seller_money
        .payouts(actor, &filter, page)
        .await
        .or_page()?;
    let currency = money.currency;
    let content = html! {
        h1 { "Payouts and balance" }
        (seller_nav())
        ul.stats { li { "Balance" strong { (format::cents(money.balance, currency)) } } }
        h2 { "Movements" }
        form.filters method="get" action="/seller/payouts" {
            div.field {
                label for="f-kind" { "Kind" }
                select #f-kind name="kind" { @for (value, label) in LEDGER_KINDS { option value=(value) selected[kind == value] { (label) } } }
            }
            div.field.wide { label for="f-q" { "Order or reference" } input #f-q type="search" name="q" value=(text); }
            div { button type="submit" { "Filter" } }
        }
        @if money.entries.items.is_empty() {
            p.muted { "No movements match." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Order" } th.num scope="col" { "Amount" } } }
                tbody { @for line in &money.entries.items { tr {
                    td { (format::time(line.created_at)) }
                    td { (line.kind.replace('_', " ")) }
                    td { @if let Some(order) = line.order_id { a href={"/seller/orders/" (order)} { (short_id(order)) } } }
                    td.num { (format::cents(line.amount, line.currency)) }
                } } }
            } }
            (pager(&money.entries, &format!("/seller/payouts?kind={}&q={}", encode(&kind), encode(&text))))
        }
        h2 { "Payouts" }
        (payout_table(&money.payouts.items, currency))
    };
    Ok(render(&visitor, "Payouts", content))
}

/// `GET /seller/refund-requests`: refund requests on the seller's lines, by state.
#[handler]
pub async fn refund_queue(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    require_seller(&visitor, "/seller/refund-requests")?;
    crate::pages::refunds::queue_page(
        &visitor,
        &site,
        request,
        marketplace_ports::use_cases::refund_requests::RefundQueue::Seller,
        "/seller/refund-requests",
        "Refund requests",
        seller_nav(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeriodParams {
    days: Option<String>,
    page: Option<String>,
}

/// `GET /seller/analytics?days=7|30|90`: views, clicks, adds to cart, orders, units, conversion,
/// gross and net, in all and per listing.
#[handler]
pub async fn analytics(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/analytics")?;
    let params: PeriodParams = form::query(request.uri().query())?;
    let days = match params.days.as_deref().map(str::trim) {
        None | Some("") => 30,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest("Choose 7, 30 or 90 days.".to_owned()))?,
    };
    let page = form::page_request(params.page.as_deref(), 20)?;
    let found = match site.services.analytics.seller(actor, days, page).await {
        Ok(found) => found,
        Err(error) => match refusal(&error) {
            Some(message) => return Err(WebError::BadRequest(message)),
            None => return Err(WebError::from_use_case(&error)),
        },
    };
    let currency = site.config.currency;
    let t = &found.activity.totals;
    let content = html! {
        h1 { "Analytics" }
        (seller_nav())
        p.chips {
            @for d in [7, 30, 90] {
                @if d == days { strong { "Last " (d) " days" } } @else { a href={"/seller/analytics?days=" (d)} { "Last " (d) " days" } }
                " "
            }
        }
        p.muted { "Since " (found.since) " (UTC)." }
        ul.stats {
            li { "Views" strong { (t.views) } }
            li { "Clicks" strong { (t.clicks) } }
            li { "Added to cart" strong { (t.add_to_carts) } }
            li { "Orders" strong { (t.orders) } }
            li { "Units" strong { (t.units) } }
            li { "Conversion" strong { (t.conversion_percent().map_or_else(|| "—".to_owned(), |p| format!("{p} %"))) } }
            li { "Gross" strong { (format::cents(t.gross, currency)) } }
            li { "Your net" strong { (format::cents(t.net, currency)) } }
        }
        h2 { "Per listing" }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Listing" } th.num scope="col" { "Views" } th.num scope="col" { "Clicks" } th.num scope="col" { "Carts" } th.num scope="col" { "Orders" } th.num scope="col" { "Conversion" } th.num scope="col" { "Net" } } }
            tbody { @for p in &found.activity.products.items { tr {
                td { a href={"/products/" (p.product_id)} { (p.title) } }
                td.num { (p.totals.views) } td.num { (p.totals.clicks) } td.num { (p.totals.add_to_carts) } td.num { (p.totals.orders) }
                td.num { (p.totals.conversion_percent().map_or_else(|| "—".to_owned(), |c| format!("{c} %"))) }
                td.num { (format::cents(p.totals.net, currency)) }
            } } }
        } }
        (pager(&found.activity.products, &format!("/seller/analytics?days={days}")))
    };
    Ok(render(&visitor, "Analytics", content))
}
