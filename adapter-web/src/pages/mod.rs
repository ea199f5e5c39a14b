//! The storefront's pages, one module per feature. Each handler reads the visitor and the request,
//! calls one use case and renders (or redirects after a write).

use poem::{Route, get, post};

pub mod accounts;
pub mod cart;
pub mod catalog;
pub mod orders;
pub mod seller;

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
        .at("/seller", get(seller::dashboard))
        .at("/seller/connect/start", post(seller::connect_start))
        .at("/seller/connect/return", get(seller::connect_return))
        .at("/seller/connect/refresh", get(seller::connect_refresh))
        .at("/seller/listings", get(seller::listings_page))
        .at(
            "/seller/listings/new",
            get(seller::new_listing_form).post(seller::create_listing),
        )
        .at(
            "/seller/listings/:id",
            get(seller::edit_listing_form).post(seller::update_listing),
        )
        .at("/seller/listings/:id/toggle", post(seller::toggle_listing))
        .at("/seller/listings/:id/images", post(seller::add_image))
        .at(
            "/seller/listings/:id/images/:image/primary",
            post(seller::primary_image),
        )
        .at(
            "/seller/listings/:id/images/:image/delete",
            post(seller::delete_image),
        )
        .at("/seller/listings/:id/files", post(seller::add_file))
        .at(
            "/seller/listings/:id/files/:asset/delete",
            post(seller::delete_file),
        )
        .at("/seller/orders", get(seller::sales_page))
        .at("/seller/orders/:id", get(seller::sale_page))
        .at("/seller/payouts", get(seller::payouts_page))
}
