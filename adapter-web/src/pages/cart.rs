//! The cart page and its forms (add, change a quantity, remove). An anonymous visitor's cart is
//! known by the same `hc3_cart` cookie as the API's.

use adapter_http::api::cart::keep_cart_cookie;
use marketplace_domain::ids::ProductId;
use marketplace_ports::use_cases::cart::CartView;
use maud::html;
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use crate::Site;
use crate::error::{Failed, WebError, refusal};
use crate::form;
use crate::format;
use crate::page::render;
use crate::pages::catalog::kind_label;
use crate::visitor::Visitor;

/// Keeps the browser's cart cookie in step with the cart a use case answered with.
pub fn keep_cookie(visitor: &Visitor, view: &CartView) {
    keep_cart_cookie(
        visitor.jar(),
        view.token.as_deref(),
        visitor.cart_token(),
        visitor.secure_cookies(),
    );
}

/// `GET /cart`.
#[handler]
pub async fn show(visitor: Visitor, site: Data<&Site>) -> Result<Response, WebError> {
    let view = site
        .services
        .cart
        .view(visitor.cart_owner())
        .await
        .or_page()?;
    keep_cookie(&visitor, &view);
    let currency = view.currency;
    let content = html! {
        h1 { "Your cart" }
        @for removed in &view.removed {
            p.flash.problem role="status" { "“" (removed.title) "” was removed: " (removed.reason) }
        }
        @if view.lines.is_empty() {
            p { "Your cart is empty. " a href="/products" { "Find something to print" } "." }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Items in your cart" }
                    thead { tr { th scope="col" { "Item" } th scope="col" { "Quantity" } th.num scope="col" { "Price" } th.num scope="col" { "Total" } th scope="col" { span.visually-hidden { "Remove" } } } }
                    tbody {
                        @for line in &view.lines {
                            tr {
                                td {
                                    a href={"/products/" (line.product_id)} { (line.title) }
                                    br;
                                    span.muted { (kind_label(line.kind)) " · " (line.seller_name) }
                                    @if !line.can_buy { br; span.badge.status-pending { "Seller not ready for payments" } }
                                }
                                td {
                                    @if line.kind.is_digital() {
                                        "1"
                                    } @else {
                                        form.qty method="post" action={"/cart/items/" (line.product_id)} {
                                            (visitor.csrf_field())
                                            label.visually-hidden for={"q-" (line.product_id)} { "Quantity of " (line.title) }
                                            input.qty-input id={"q-" (line.product_id)} type="number" name="quantity" value=(line.quantity) min="0" max="99" inputmode="numeric";
                                            " "
                                            button.secondary type="submit" { "Update" }
                                        }
                                    }
                                }
                                td.num { (format::cents(line.unit_price, currency)) }
                                td.num { (format::cents(line.line_total, currency)) }
                                td {
                                    form method="post" action={"/cart/items/" (line.product_id)} {
                                        (visitor.csrf_field())
                                        input type="hidden" name="quantity" value="0";
                                        button.link type="submit" { "Remove" span.visually-hidden { " " (line.title) } }
                                    }
                                }
                            }
                        }
                    }
                    tfoot { tr { td colspan="3" { "Subtotal" } td.num { (format::cents(view.subtotal, currency)) } td {} } }
                }
            }
            @if !view.unready_sellers.is_empty() {
                p.flash.problem { "These sellers cannot take payments yet, so their items block checkout: " (view.unready_sellers.join(", ")) "." }
            }
            p.actions {
                @if view.can_checkout {
                    a.button href="/checkout" { "Check out" }
                }
                a href="/products" { "Keep shopping" }
            }
        }
    };
    Ok(render(&visitor, "Cart", content))
}

#[derive(Deserialize)]
struct AddForm {
    product_id: Uuid,
    #[serde(default)]
    quantity: Option<String>,
}

fn quantity_of(text: Option<&str>, default: i64) -> Result<i64, String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| "The quantity must be a whole number.".to_owned()),
    }
}

/// `POST /cart/items`: put a product in the cart, then back to its page.
#[handler]
pub async fn add(visitor: Visitor, site: Data<&Site>, body: String) -> Result<Response, WebError> {
    let form: AddForm = form::read(&visitor, &body)?;
    let back = format!("/products/{}", form.product_id);
    let quantity = match quantity_of(form.quantity.as_deref(), 1) {
        Ok(quantity) => quantity,
        Err(message) => return Ok(visitor.redirect_with_problem(&back, &message)),
    };
    match site
        .services
        .cart
        .add(
            visitor.cart_owner(),
            ProductId::from_uuid(form.product_id),
            quantity,
        )
        .await
    {
        Ok(view) => {
            keep_cookie(&visitor, &view);
            Ok(visitor.redirect_with_notice("/cart", "Added to your cart."))
        }
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem(&back, &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}

#[derive(Deserialize)]
struct QuantityForm {
    #[serde(default)]
    quantity: Option<String>,
}

/// `POST /cart/items/{product_id}`: change a line's quantity (0 removes it).
#[handler]
pub async fn update(
    visitor: Visitor,
    site: Data<&Site>,
    Path(product_id): Path<String>,
    body: String,
) -> Result<Response, WebError> {
    let form: QuantityForm = form::read(&visitor, &body)?;
    let product_id = form::path_id(&product_id)?;
    let quantity = match quantity_of(form.quantity.as_deref(), 0) {
        Ok(quantity) => quantity,
        Err(message) => return Ok(visitor.redirect_with_problem("/cart", &message)),
    };
    let result = site
        .services
        .cart
        .set_quantity(
            visitor.cart_owner(),
            ProductId::from_uuid(product_id),
            quantity,
        )
        .await;
    match result {
        Ok(view) => {
            keep_cookie(&visitor, &view);
            let message = if quantity == 0 {
                "Removed from your cart."
            } else {
                "Quantity updated."
            };
            Ok(visitor.redirect_with_notice("/cart", message))
        }
        Err(error) => match refusal(&error) {
            Some(message) => Ok(visitor.redirect_with_problem("/cart", &message)),
            None => Err(WebError::from_use_case(&error)),
        },
    }
}
