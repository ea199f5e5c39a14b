//! The storefront's pages, one module per feature. Each handler reads the visitor and the request,
//! calls one use case and renders (or redirects after a write).

use poem::{Route, get, post};

pub mod accounts;
pub mod cart;
pub mod catalog;
pub mod orders;

/// Adds every page's route.
pub fn routes(route: Route) -> Route {
    route
        .at("/", get(catalog::home))
        .at("/products", get(catalog::browse))
        .at("/products/:id", get(catalog::product_page))
        .at("/categories/:id", get(catalog::category_page))
        .at("/cart", get(cart::show))
        .at("/cart/items", post(cart::add))
        .at("/cart/items/:product_id", post(cart::update))
        .at("/checkout", get(orders::checkout_form).post(orders::place))
        .at("/checkout/complete", get(orders::complete))
        .at("/orders", get(orders::list))
        .at("/orders/:id", get(orders::show))
        .at("/orders/:id/pay", post(orders::pay))
        .at("/login", get(accounts::login_form).post(accounts::login))
        .at(
            "/register",
            get(accounts::register_form).post(accounts::register),
        )
}
