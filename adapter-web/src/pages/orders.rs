//! Checkout and orders: the checkout page (guests give an e-mail), placing the order and going to
//! the hosted payment page, the page Stripe sends buyers back to, the order page (guests reach it
//! with the token in their link) with its downloads, and the buyer's order list.

use marketplace_domain::ids::OrderId;
use marketplace_domain::orders::OrderStatus;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::ReviewSubject;
use marketplace_ports::use_cases::cart::CartView;
use marketplace_ports::use_cases::orders::{CheckoutOutcome, OrderDetail, OrderView, ReturnUrls};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input, encode};
use crate::format;
use crate::page::{pager, render, render_status, see_other};
use crate::pages::catalog::kind_label;
use crate::visitor::Visitor;

/// The order page's address, with the guest token when there is one.
pub fn order_url(order: OrderId, token: Option<&str>) -> String {
    match token {
        Some(token) => format!("/orders/{order}?t={}", encode(token)),
        None => format!("/orders/{order}"),
    }
}

/// The badge of an order status.
pub fn status_badge(status: OrderStatus) -> Markup {
    let label = match status {
        OrderStatus::Pending => "Awaiting payment",
        OrderStatus::Paid => "Paid",
        OrderStatus::PartiallyRefunded => "Partly refunded",
        OrderStatus::Refunded => "Refunded",
        OrderStatus::Canceled => "Canceled",
    };
    html! { span class={"badge status-" (status.as_str())} { (label) } }
}

fn summary(view: &CartView) -> Markup {
    let currency = view.currency;
    html! {
        div.table-wrap {
            table {
                caption.visually-hidden { "What you are buying" }
                thead { tr { th scope="col" { "Item" } th.num scope="col" { "Qty" } th.num scope="col" { "Total" } } }
                tbody {
                    @for line in &view.lines {
                        tr { td { (line.title) br; span.muted { (kind_label(line.kind)) " · " (line.seller_name) } } td.num { (line.quantity) } td.num { (format::cents(line.line_total, currency)) } }
                    }
                }
                tfoot { tr { td colspan="2" { "Subtotal" } td.num { (format::cents(view.subtotal, currency)) } } }
            }
        }
    }
}

fn checkout_page(
    visitor: &Visitor,
    view: &CartView,
    email: &str,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Check out" }
        (form::summary(errors, &["guest_email"]))
        (summary(view))
        p.muted { "Any shipping and tax are added to the total on the payment page." }
        div.form-card {
            form method="post" action="/checkout" novalidate {
                (visitor.csrf_field())
                @if visitor.actor().is_none() {
                    p { "Checking out as a guest. We e-mail your receipt and a link to your order (and its downloads) to this address. "
                        "Have an account? " a href="/login?next=%2Fcheckout" { "Sign in" } "." }
                    (Input::text("guest_email", "E-mail address", email).kind("email").required().autocomplete("email").render(errors))
                }
                button type="submit" { "Place order and pay" }
            }
        }
    };
    render_status(visitor, status, "Check out", content)
}

/// `GET /checkout`.
#[handler]
pub async fn checkout_form(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let view = site
        .services
        .cart
        .view(visitor.cart_owner())
        .await
        .or_page()?;
    crate::pages::cart::keep_cookie(&visitor, &view);
    if view.lines.is_empty() {
        return Ok(visitor.redirect_with_problem("/cart", "Your cart is empty."));
    }
    Ok(checkout_page(
        &visitor,
        &view,
        "",
        &FieldErrors::default(),
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
struct CheckoutForm {
    #[serde(default)]
    guest_email: Option<String>,
}

/// `POST /checkout`: places the order from the cart, then sends the buyer to the payment page
/// (free orders are paid at once and go to the order page).
#[handler]
pub async fn place(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let form: CheckoutForm = form::read(&visitor, &body)?;
    let placed = match site
        .services
        .order_placement
        .place(visitor.cart_owner(), form.guest_email.as_deref())
        .await
    {
        Ok(placed) => placed,
        Err(error) => {
            if let Some(errors) = field_errors(&error) {
                let view = site
                    .services
                    .cart
                    .view(visitor.cart_owner())
                    .await
                    .or_page()?;
                return Ok(checkout_page(
                    &visitor,
                    &view,
                    form.guest_email.as_deref().unwrap_or_default(),
                    &errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            }
            return match refusal(&error) {
                Some(message) => Ok(visitor.redirect_with_problem("/cart", &message)),
                None => Err(WebError::from_use_case(&error)),
            };
        }
    };
    let order = placed.order.id;
    let token = placed.order.guest_token().map(str::to_owned);
    pay_order(&visitor, &site, order, token.as_deref()).await
}

/// Pays an order: to the hosted payment page, or (free, or refused) back to the order page with a
/// message.
async fn pay_order(
    visitor: &Visitor,
    site: &Site,
    order: OrderId,
    token: Option<&str>,
) -> Result<Response, WebError> {
    let back = order_url(order, token);
    match site
        .services
        .checkout
        .checkout(order, visitor.order_access(token), &ReturnUrls::default())
        .await
    {
        Ok(CheckoutOutcome::Redirect { url }) => Ok(see_other(&url)),
        Ok(CheckoutOutcome::Paid) => {
            Ok(visitor.redirect_with_notice(&back, "Your order is complete — nothing to pay."))
        }
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(
                &back,
                &format!("Your order is saved, but it could not be paid now: {message}"),
            )),
            None => {
                let page = WebError::from_use_case(&error);
                if page == WebError::Unavailable {
                    return Ok(visitor.redirect_with_problem(
                        &back,
                        "Your order is saved, but the payment service is not answering. Try paying again in a moment.",
                    ));
                }
                Err(page)
            }
        },
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenParams {
    t: Option<String>,
    session_id: Option<String>,
    page: Option<String>,
}

#[derive(Deserialize)]
struct PayForm {
    #[serde(default)]
    t: Option<String>,
}

/// `POST /orders/{id}/pay`: pay a pending order (again).
#[handler]
pub async fn pay(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let form: PayForm = form::read(&visitor, &body)?;
    let id = form::path_id(&id)?;
    pay_order(&visitor, &site, OrderId::from_uuid(id), form.t.as_deref()).await
}

/// `GET /checkout/complete?session_id=…`: where the payment page sends buyers back.
#[handler]
pub async fn complete(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let params: TokenParams = form::query(request.uri().query())?;
    let session = params.session_id.unwrap_or_default();
    let detail = site
        .services
        .orders
        .by_session(&session, visitor.order_access(params.t.as_deref()))
        .await
        .or_page()?;
    let order = detail.view.order.id;
    let url = order_url(order, detail.access_token.as_deref());
    let message = if detail.view.order.status == OrderStatus::Pending {
        "Thank you! Your payment is being confirmed: the order below shows when it is."
    } else {
        "Thank you! Your payment is confirmed."
    };
    Ok(visitor.redirect_with_notice(&url, message))
}

/// `GET /orders/{id}?t=…`: the order page.
#[handler]
pub async fn show(
    visitor: Visitor,
    site: Data<&Site>,
    Path(id): Path<String>,
    request: &Request,
) -> Result<Response, WebError> {
    let id = form::path_id(&id)?;
    let params: TokenParams = form::query(request.uri().query())?;
    let token = params.t.as_deref();
    let detail = match site
        .services
        .orders
        .get(OrderId::from_uuid(id), visitor.order_access(token))
        .await
    {
        Ok(detail) => detail,
        // Not theirs, or signed out since: a signed-out visitor may still sign in to see it.
        Err(error) if visitor.actor().is_none() && token.is_none() => {
            let page = WebError::from_use_case(&error);
            return Err(match page {
                WebError::NotFound => WebError::SignIn {
                    next: format!("/orders/{id}"),
                },
                other => other,
            });
        }
        Err(error) => return Err(WebError::from_use_case(&error)),
    };
    let title = format!("Order {}", short_id(detail.view.order.id));
    let content = order_page(&visitor, &detail, token);
    Ok(render(&visitor, &title, content))
}

/// The first group of an id, as people quote it.
pub fn short_id(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(8).collect()
}

fn order_page(visitor: &Visitor, detail: &OrderDetail, token: Option<&str>) -> Markup {
    let order = &detail.view.order;
    let currency = order.currency;
    let token = detail.access_token.as_deref().or(token);
    let query = token
        .map(|t| format!("?t={}", encode(t)))
        .unwrap_or_default();
    // Refund requests and reviews are the buyer's to make; staff who open the order only look.
    let settled = detail.viewer_is_buyer
        && matches!(
            order.status,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded
        );
    let mut sellers: Vec<_> = order.lines().iter().map(|l| l.seller_id).collect();
    sellers.sort_by_key(|s| s.get());
    sellers.dedup();
    html! {
        h1 { "Order " (short_id(order.id)) " " (status_badge(order.status)) }
        p.muted {
            "Placed " time datetime=(format::iso(order.created_at)) { (format::time(order.created_at)) }
            @if let Some(paid) = order.paid_at { " · paid " time datetime=(format::iso(paid)) { (format::time(paid)) } }
            @if let Some(email) = &order.guest_email { " · receipt to " (email) }
        }
        @if order.status == OrderStatus::Pending && detail.viewer_is_buyer {
            div.panel {
                p { "This order is waiting for its payment. If you have just paid, it turns to paid within moments — " a href=(order_url(order.id, token)) { "check again" } "." }
                form method="post" action={"/orders/" (order.id) "/pay"} {
                    (visitor.csrf_field())
                    @if let Some(token) = token { input type="hidden" name="t" value=(token); }
                    button type="submit" { "Pay now" }
                }
            }
        }
        @if visitor.actor().is_none() && token.is_some() {
            p.muted { "Keep this page's address: it is your key to this order and its downloads." }
        }
        h2 { "Items" }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Item" } th.num scope="col" { "Qty" } th.num scope="col" { "Price" } th.num scope="col" { "Total" } @if settled { th scope="col" { "Actions" } } } }
                tbody {
                    @for line in detail.view.lines() {
                        tr {
                            td { a href={"/products/" (line.product_id)} { (line.title) } br; span.muted { (kind_label(line.kind)) } }
                            td.num { (line.quantity) }
                            td.num { (format::cents(line.unit_price, currency)) }
                            td.num { (format::cents(line.gross, currency)) }
                            @if settled {
                                td {
                                    @let reviewed = detail.reviews.iter().any(|r| matches!(r.subject, ReviewSubject::Product { line: of, .. } if of == line.id));
                                    a href={"/orders/" (order.id) "/lines/" (line.id) "/review" (query)} { @if reviewed { "Edit your review" span.visually-hidden { " of " (line.title) } } @else { "Review" span.visually-hidden { " " (line.title) } } }
                                    @if line.kind.requires_shipping() && order.total.get() > 0 {
                                        " · " a href={"/orders/" (order.id) "/lines/" (line.id) "/refund" (query)} { "Ask for a refund" span.visually-hidden { " of " (line.title) } }
                                    }
                                }
                            }
                        }
                    }
                }
                tfoot {
                    tr { td colspan="3" { "Subtotal" } td.num { (format::cents(order.subtotal, currency)) } }
                    @if order.shipping.get() > 0 { tr { td colspan="3" { "Shipping" } td.num { (format::cents(order.shipping, currency)) } } }
                    @if order.tax.get() > 0 { tr { td colspan="3" { "Tax" } td.num { (format::cents(order.tax, currency)) } } }
                    tr { td colspan="3" { "Total" } td.num { (format::cents(order.total, currency)) } }
                    @if order.refunded.get() > 0 { tr { td colspan="3" { "Refunded" } td.num { (format::cents(order.refunded, currency)) } } }
                }
            }
        }
        @if settled {
            p.muted {
                "How was it? "
                @for (i, seller) in sellers.iter().enumerate() {
                    @if i > 0 { " · " }
                    @let reviewed = detail.reviews.iter().any(|r| r.subject == ReviewSubject::Seller && r.seller_id == *seller);
                    a href={"/orders/" (order.id) "/sellers/" (seller) "/review" (query)} { @if reviewed { "Edit your review of the seller" } @else { "Review the seller" } @if sellers.len() > 1 { " " (i + 1) span.visually-hidden { " of " (sellers.len()) } } }
                }
            }
        }
        @if !detail.entitlements.is_empty() {
            h2 { "Downloads" }
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "File" } th scope="col" { "Size" } th scope="col" { "Downloads left" } } }
                    tbody {
                        @for entitlement in &detail.entitlements {
                            @let files: Vec<_> = detail.downloads.iter().filter(|a| a.product_id == entitlement.product_id).collect();
                            @let e = &entitlement.entitlement;
                            @let left = match e.remaining() { Some(n) => n.to_string(), None => "Unlimited".to_owned() };
                            @if e.revoked {
                                tr { td colspan="3" { "Downloads of this item were withdrawn (refunded or disputed)." } }
                            }
                            @for file in &files {
                                tr {
                                    td { a href={"/api/v1/orders/" (order.id) "/assets/" (file.id) (query)} download { "Download " (file.original_filename) } }
                                    td { (format::size(file.size_bytes)) }
                                    td { (left) @if let Some(expiry) = e.expires_at { " · until " (format::time(expiry)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(address) = &order.shipping_address {
            h2 { "Shipping to" }
            address.panel {
                (address.name) br;
                (address.line1) br;
                @if !address.line2.is_empty() { (address.line2) br; }
                (address.city) ", " (address.state) " " (address.postal_code) br;
                (address.country)
            }
        }
        @if !detail.events.is_empty() {
            h2 { "History" }
            ol {
                @for event in &detail.events {
                    li { time datetime=(format::iso(event.created_at)) { (format::time(event.created_at)) } " — " (event.message) }
                }
            }
        }
    }
}

/// `GET /orders`: the buyer's orders, newest first.
#[handler]
pub async fn list(
    visitor: Visitor,
    site: Data<&Site>,
    request: &Request,
) -> Result<Response, WebError> {
    let actor = visitor.require("/orders")?;
    let params: TokenParams = form::query(request.uri().query())?;
    let request_page = form::page_request(params.page.as_deref(), 20)?;
    let found = site
        .services
        .orders
        .mine(actor, request_page)
        .await
        .or_page()?;
    let spent = site
        .services
        .buyer_dashboard
        .dashboard(actor)
        .await
        .or_page()?;
    let content = html! {
        h1 { "Your orders" }
        @if spent.summary.paid_orders > 0 {
            p.muted { "You have spent " (format::cents(spent.summary.total_spent, spent.currency)) " on " (spent.summary.paid_orders) " paid orders. "
                a href="/refund-requests" { "Your refund requests" } }
        }
        @if found.items.is_empty() {
            p { "No orders yet. " a href="/products" { "Start shopping" } "." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Order" } th scope="col" { "Placed" } th scope="col" { "Items" } th scope="col" { "Status" } th.num scope="col" { "Total" } } }
                    tbody {
                        @for view in &found.items {
                            (order_row(view))
                        }
                    }
                }
            }
            (pager(&found, "/orders"))
        }
    };
    Ok(render(&visitor, "Your orders", content))
}

fn order_row(view: &OrderView) -> Markup {
    let order = &view.order;
    let titles: Vec<&str> = view.lines().map(|l| l.title.as_str()).collect();
    html! {
        tr {
            td { a href={"/orders/" (order.id)} { (short_id(order.id)) } }
            td { (format::time(order.created_at)) }
            td { (titles.join(", ")) }
            td { (status_badge(order.status)) }
            td.num { (format::cents(order.total, order.currency)) }
        }
    }
}
