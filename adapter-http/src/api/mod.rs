//! The API, one module per area. Handlers parse, call one use case and map the result.

pub mod accounts;
pub mod admin;
pub mod books;
pub mod cart;
pub mod catalog;
pub mod insights;
pub mod moderation;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod owner_tools;
pub mod products;
pub mod qa;
pub mod refund_requests;
pub mod reviews;
pub mod seller;
pub mod system;
pub mod users;
pub mod webhooks;

/// Tags grouping operations in the OpenAPI document.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Health and readiness.
    System,
    /// Registration, login, the current user and profile.
    Accounts,
    /// Category trees and category pages.
    Catalog,
    /// Public listings.
    Products,
    /// The shopping cart (anonymous carts: `X-Cart-Token`).
    Cart,
    /// Orders, checkout, downloads and the buyer dashboard.
    Orders,
    /// Sellers: listings, payout setup, sales, payouts and dashboard.
    Seller,
    /// Owner tools.
    Admin,
    /// Stripe webhooks (signed; not for API clients).
    Webhooks,
}

/// The first non-blank candidate, trimmed: how a token parameter with a fallback source (header
/// or cookie, query or header) picks what the client sent.
pub(crate) fn first_token(candidates: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .map(|t| t.trim().to_owned())
        .find(|t| !t.is_empty())
}
