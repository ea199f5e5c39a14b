//! Selling: the seller's dashboard with the payout setup (Stripe Connect onboarding), listings
//! (create, edit, activate, images with a primary, digital files), sales, and payouts with the
//! ledger's movements.

mod listings;
mod media;
mod sales;

pub use listings::*;
pub use media::*;
pub use sales::*;

use marketplace_domain::catalog::{
    CategoryType, ListingChanges, ListingDraft, PhysicalAttributes, ProductKind, validate_listing,
};
use marketplace_domain::files::{ASSET_MAX_BYTES, IMAGE_MAX_BYTES};
use marketplace_domain::ids::{AssetId, CategoryId, OrderId, ProductId, ProductImageId};
use marketplace_domain::payouts::PayoutStatus;
use marketplace_domain::validation::FieldErrors;
use marketplace_ports::ports::{CategoryWithChildren, LedgerFilter, PayoutRecord};
use marketplace_ports::use_cases::Actor;
use marketplace_ports::use_cases::listings::{NewImage, ProductDetailView};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Multipart, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError, field_errors, refusal};
use crate::form::{self, Input, encode};
use crate::format;
use crate::page::{pager, render, render_status, see_other};
use crate::pages::catalog::{image_url, kind_label};
use crate::pages::orders::{short_id, status_badge};
use crate::visitor::Visitor;

fn require_seller<'a>(visitor: &'a Visitor, next: &str) -> Result<&'a Actor, WebError> {
    let actor = visitor.require(next)?;
    if !actor.roles.is_seller() {
        return Err(WebError::Forbidden(
            "Selling is for seller accounts. Turn it on in your account settings.".to_owned(),
        ));
    }
    Ok(actor)
}

fn seller_nav() -> Markup {
    html! {
        nav aria-label="Seller" {
            ul.chips {
                li { a href="/seller" { "Overview" } }
                li { a href="/seller/listings" { "Listings" } }
                li { a href="/seller/listings/new" { "New listing" } }
                li { a href="/seller/orders" { "Sales" } }
                li { a href="/seller/refund-requests" { "Refund requests" } }
                li { a href="/seller/payouts" { "Payouts" } }
                li { a href="/seller/analytics" { "Analytics" } }
            }
        }
    }
}

/// `GET /seller`: the overview — payout setup, balance, the last 30 days and recent sales.
#[handler]
pub async fn dashboard(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller")?;
    let d = site
        .services
        .seller_money
        .dashboard(actor)
        .await
        .or_page()?;
    let currency = d.currency;
    let content = html! {
        h1 { "Your shop" }
        (seller_nav())
        section.panel aria-labelledby="payouts-setup" {
            h2 #payouts-setup { "Getting paid" }
            @if d.ready {
                p { span.badge.status-paid { "Ready" } " Stripe pays your sales into your account." }
            } @else {
                p {
                    span.badge.status-pending { "Not set up" } " "
                    @if d.connect.is_some() { "Your Stripe account needs more details before buyers can pay you." }
                    @else { "Set up payouts with Stripe before your listings can be bought." }
                }
                form method="post" action="/seller/connect/start" {
                    (visitor.csrf_field())
                    button type="submit" { @if d.connect.is_some() { "Continue setup with Stripe" } @else { "Set up payouts with Stripe" } }
                }
            }
        }
        ul.stats {
            li { "Balance" strong { (format::cents(d.balance, currency)) } }
            li { "Available to pay out" strong { (format::cents(d.payout_available, currency)) } }
            li { "Sales, last 30 days" strong { (format::cents(d.last_30_days.gross, currency)) } }
            li { "Your net, last 30 days" strong { (format::cents(d.last_30_days.net, currency)) } }
            li { "Orders, last 30 days" strong { (d.last_30_days.orders) } }
            li { "Active listings" strong { (d.active_listings) } span.muted { " (" (d.inactive_listings) " inactive)" } }
        }
        h2 { "Recent sales" }
        @if d.recent_sales.is_empty() {
            p.muted { "No sales yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Item" } th scope="col" { "Order" } th.num scope="col" { "Qty" } th.num scope="col" { "Gross" } th.num scope="col" { "Your net" } th scope="col" { "Paid" } } }
                tbody { @for sale in &d.recent_sales { tr {
                    td { (sale.item.title) }
                    td { a href={"/seller/orders/" (sale.item.order_id)} { (short_id(sale.item.order_id)) } }
                    td.num { (sale.item.quantity) }
                    td.num { (format::cents(sale.item.gross, currency)) }
                    td.num { (format::cents(sale.item.net, currency)) }
                    td { @if let Some(at) = sale.paid_at { (format::time(at)) } }
                } } }
            } }
        }
    };
    Ok(render(&visitor, "Your shop", content))
}

#[derive(Deserialize)]
struct CsrfOnly {}

/// `POST /seller/connect/start`: to Stripe's onboarding page.
#[handler]
pub async fn connect_start(
    visitor: Visitor,
    site: Data<&Site>,
    body: String,
) -> Result<Response, WebError> {
    let _: CsrfOnly = form::read(&visitor, &body)?;
    let actor = require_seller(&visitor, "/seller")?;
    match site.services.onboarding.start(actor).await {
        Ok(url) => Ok(see_other(&url)),
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem("/seller", &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

/// `GET /seller/connect/return`: where Stripe sends sellers back after onboarding.
#[handler]
pub async fn connect_return(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let actor = require_seller(&visitor, "/seller/connect/return")?;
    let view = match site.services.onboarding.sync(actor).await {
        Ok(view) => view,
        Err(error) => {
            tracing::warn!(%error, "refreshing the Connect status on return failed");
            site.services.onboarding.status(actor).await.or_page()?
        }
    };
    Ok(if view.ready {
        visitor.redirect_with_notice("/seller", "Payouts are set up: buyers can pay you now.")
    } else {
        visitor.redirect_with_problem(
            "/seller",
            "Stripe still needs some details before you can be paid.",
        )
    })
}

/// `GET /seller/connect/refresh`: the onboarding link expired; offer a new one.
#[handler]
pub async fn connect_refresh(visitor: Visitor) -> Result<Response, WebError> {
    require_seller(&visitor, "/seller")?;
    Ok(visitor.redirect_with_problem(
        "/seller",
        "That Stripe link expired. Continue the setup for a new one.",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListParams {
    q: Option<String>,
    page: Option<String>,
    kind: Option<String>,
}

fn empty_to_none(text: &str) -> Option<String> {
    Some(text.to_owned()).filter(|t| !t.trim().is_empty())
}

fn product_id(text: &str) -> Result<ProductId, WebError> {
    form::path_id(text).map(ProductId::from_uuid)
}
