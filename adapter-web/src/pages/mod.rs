//! The storefront's pages, one module per feature. Each handler reads the visitor and the request,
//! calls one use case and renders (or redirects after a write).

use poem::{Route, get, post};

pub mod accounts;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod community;
pub mod notifications;
pub mod orders;
pub mod refunds;
pub mod seller;

/// Adds every page's route.
pub fn routes(route: Route) -> Route {
    route
        .at("/", get(catalog::home))
        .at("/products", get(catalog::browse))
        .at("/products/:id", get(catalog::product_page))
        .at("/products/:id/go", get(catalog::go_to_product))
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
        .at("/seller/refund-requests", get(seller::refund_queue))
        .at("/seller/analytics", get(seller::analytics))
        .at(
            "/orders/:id/lines/:line/refund",
            get(refunds::request_form).post(refunds::request_refund),
        )
        .at("/refund-requests", get(refunds::mine))
        .at("/refund-requests/:id", get(refunds::detail_page))
        .at("/refund-requests/:id/cancel", post(refunds::cancel))
        .at("/refund-requests/:id/decide", post(refunds::decide))
        .at(
            "/orders/:id/lines/:line/review",
            get(community::line_review_form).post(community::review_line),
        )
        .at(
            "/orders/:id/sellers/:seller/review",
            get(community::seller_review_form).post(community::review_seller),
        )
        .at("/reviews/:id/reply", post(community::reply_to_review))
        .at("/reviews/:id/reply/edit", post(community::edit_reply))
        .at("/reviews/:id/edit", post(community::edit_review))
        .at("/sellers/:id", get(community::seller_page))
        .at("/products/:id/questions", post(community::ask))
        .at("/products/:id/reviews", get(community::product_reviews))
        .at("/reports", post(community::report))
        .at("/questions/:id", get(community::thread_page))
        .at("/questions/:id/reply", post(community::reply_to_thread))
        .at(
            "/questions/messages/:id/delete",
            post(community::delete_message),
        )
        .at(
            "/account",
            get(accounts::account).post(accounts::save_account),
        )
        .at("/account/notifications", post(accounts::save_mail_choices))
        .at("/account/avatar", post(accounts::upload_avatar))
        .at("/account/avatar/delete", post(accounts::delete_avatar))
        .at("/notifications", get(notifications::inbox))
        .at("/notifications/:id/open", post(notifications::open))
        .at("/notifications/read-all", post(notifications::read_all))
        .at("/admin", get(admin::dashboard))
        .at(
            "/admin/site-config",
            get(admin::site_config).post(admin::save_site_config),
        )
        .at(
            "/admin/categories",
            get(admin::categories).post(admin::create_category),
        )
        .at("/admin/categories/:id", post(admin::update_category))
        .at("/admin/categories/:id/delete", post(admin::delete_category))
        .at("/admin/orders", get(admin::orders))
        .at("/admin/orders/:id", get(admin::order_page))
        .at("/admin/orders/:id/resolve", post(admin::resolve_flag))
        .at(
            "/admin/orders/:id/retry-payouts",
            post(admin::retry_payouts),
        )
        .at("/admin/orders/:id/reversals", post(admin::reverse_payout))
        .at("/admin/adjustments", post(admin::adjust))
        .at("/admin/reconciliation", get(admin::reconciliation))
        .at("/admin/refund-requests", get(admin::refund_requests))
        .at("/admin/jobs", get(admin::jobs))
        .at("/admin/jobs/:id/retry", post(admin::retry_job))
        .at("/admin/outbox", get(admin::outbox))
        .at("/admin/webhooks", get(admin::webhooks))
        .at("/admin/webhooks/:id/process", post(admin::process_webhook))
        .at("/admin/reports", get(admin::reports))
        .at("/admin/reports/:id/resolve", post(admin::resolve_report))
        .at("/admin/users", get(admin::users))
        .at("/admin/audit-log", get(admin::audit_log))
        .at("/admin/users/:id/roles", post(admin::change_user))
}
