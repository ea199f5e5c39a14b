//! The API, one module per area. Handlers parse, call one use case and map the result.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod products;
pub mod seller;
pub mod system;

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
    /// Sellers managing their listings.
    Seller,
    /// Owner tools.
    Admin,
}
