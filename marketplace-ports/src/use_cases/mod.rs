//! The application's use cases, one service per area. Each call checks who may do it, applies the
//! domain rules, and draws its own transaction boundary; none touches SQL or HTTP.

use std::sync::Arc;

use marketplace_domain::account::Roles;
use marketplace_domain::ids::{SessionId, UserId};

use crate::ports::{Clock, Crypto, PaymentGateway, Queries, UnitOfWork, WebhookVerifier};

pub mod accounts;
pub mod admin;
pub mod booking;
pub mod cart;
pub mod catalog;
pub mod connect;
pub mod files;
pub mod jobs;
pub mod listings;
pub mod money;
pub mod orders;
pub mod webhooks;

/// The authenticated caller of a use case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Who.
    pub user_id: UserId,
    /// Their username.
    pub username: String,
    /// Their roles at authentication time.
    pub roles: Roles,
    /// The session they authenticated with.
    pub session_id: SessionId,
    /// The session's CSRF token, which cookie-authenticated writes must echo.
    pub csrf_token: String,
}

/// The ports every use case may need, shared by cheap clones.
#[derive(Clone)]
pub struct Deps {
    /// Transactions.
    pub uow: Arc<dyn UnitOfWork>,
    /// Read-only queries.
    pub queries: Arc<dyn Queries>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Passwords and tokens.
    pub crypto: Arc<dyn Crypto>,
    /// The payment provider.
    pub payments: Arc<dyn PaymentGateway>,
    /// Webhook verification and parsing.
    pub webhooks: Arc<dyn WebhookVerifier>,
    /// Deployment settings the use cases need.
    pub settings: Settings,
}

/// Deployment settings the use cases need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Public base URL of the API (links in e-mails, Stripe return URLs), without trailing slash.
    pub site_base_url: String,
    /// Whether the payment provider runs in live mode (events of the other mode are ignored).
    pub stripe_livemode: bool,
    /// First retry delay of a failed job (doubles each attempt, capped at ten minutes).
    pub job_retry_base: time::Duration,
    /// Attempts before a job is parked as dead.
    pub job_max_attempts: i32,
    /// Country of new Express accounts.
    pub connect_country: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            site_base_url: "http://127.0.0.1:8000".to_owned(),
            stripe_livemode: false,
            job_retry_base: time::Duration::seconds(2),
            job_max_attempts: 8,
            connect_country: "US".to_owned(),
        }
    }
}

/// A file received from a client, already read into memory (bounded by the upload limits) so no
/// transaction waits on a slow client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The name the client gave.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl UploadedFile {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        u64::try_from(self.bytes.len()).unwrap_or(u64::MAX)
    }
}

/// Every service, built once by the application and handed to the HTTP adapter.
#[derive(Clone)]
pub struct Services {
    /// Registration, login, sessions, profiles.
    pub accounts: accounts::AccountService,
    /// Categories.
    pub catalog: catalog::CatalogService,
    /// Public listings and seller listing management.
    pub listings: listings::ListingService,
    /// Serving stored files.
    pub files: files::FileService,
    /// Owner tools.
    pub admin: admin::AdminService,
    /// Carts.
    pub cart: cart::CartService,
    /// Orders, checkout, downloads.
    pub orders: orders::OrderService,
    /// Stripe webhooks.
    pub webhooks: webhooks::WebhookService,
    /// Background jobs.
    pub jobs: jobs::JobRunner,
    /// Stripe Connect onboarding.
    pub connect: connect::ConnectService,
    /// Seller payouts, ledger and dashboards.
    pub money: money::MoneyService,
    /// Health checks.
    pub queries: Arc<dyn Queries>,
}

impl Services {
    /// Builds every service over the same ports.
    pub fn new(deps: Deps) -> Services {
        Services {
            accounts: accounts::AccountService::new(deps.clone()),
            catalog: catalog::CatalogService::new(deps.clone()),
            listings: listings::ListingService::new(deps.clone()),
            files: files::FileService::new(deps.clone()),
            admin: admin::AdminService::new(deps.clone()),
            cart: cart::CartService::new(deps.clone()),
            orders: orders::OrderService::new(deps.clone()),
            webhooks: webhooks::WebhookService::new(deps.clone()),
            jobs: jobs::JobRunner::new(deps.clone()),
            connect: connect::ConnectService::new(deps.clone()),
            money: money::MoneyService::new(deps.clone()),
            queries: deps.queries,
        }
    }
}
