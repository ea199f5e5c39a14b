//! The application's use cases, one module per feature and one file per operation group. Each
//! operation checks who may do it, applies the domain's rules, and draws its own transaction
//! boundary; none touches SQL or HTTP. Each file has one error enum (`*Error`) whose variants carry
//! an [`errors::ErrorKind`] adapters answer without reading messages.
//!
//! A use case calls ports and domain functions, never another use case's service: steps several
//! features share (booking a money fact, queueing payouts, opening a cart) are functions in
//! [`shared`]. Background work is a job whose handler lives with its feature; [`jobs`] claims and
//! dispatches them.

use std::sync::Arc;

use marketplace_domain::accounts::Roles;
use marketplace_domain::ids::{SessionId, UserId};

use crate::ports::{
    Clock, Crypto, Links, MailSender, MailTemplates, PaymentGateway, Queries, UnitOfWork,
    WebhookVerifier,
};

/// Declares an operation group: a struct holding the ports, and its constructor.
macro_rules! operation_group {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            deps: crate::use_cases::Deps,
        }

        impl $name {
            /// Builds the group over the application's ports.
            pub fn new(deps: crate::use_cases::Deps) -> Self {
                Self { deps }
            }
        }
    };
}

pub mod accounts;
pub mod admin;
pub mod cart;
pub mod catalog;
pub mod connect;
pub mod discovery;
pub mod errors;
pub mod files;
pub mod jobs;
pub mod listings;
pub mod mail_delivery;
pub mod moderation;
pub mod money;
pub mod money_flow;
pub mod notifications;
pub mod orders;
pub mod qa;
pub mod refund_requests;
pub mod reviews;
pub mod shared;
pub mod system;
#[cfg(test)]
mod tests;

pub use errors::{ErrorKind, UseCaseError};

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
    /// Transactions and the stores inside them.
    pub uow: Arc<dyn UnitOfWork>,
    /// Read-only queries.
    pub queries: Queries,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Passwords and tokens.
    pub crypto: Arc<dyn Crypto>,
    /// The payment provider.
    pub payments: Arc<dyn PaymentGateway>,
    /// Webhook verification and parsing.
    pub webhooks: Arc<dyn WebhookVerifier>,
    /// Public URLs of our own pages.
    pub links: Arc<dyn Links>,
    /// Mail templates.
    pub mail: Arc<dyn MailTemplates>,
    /// Deployment settings the use cases need.
    pub settings: Settings,
    /// Engagement events counted in memory until the next batch write (shared by clones).
    pub engagement: discovery::EngagementBuffer,
    /// The mail server outbox mail is delivered to; without one, mail stays in the outbox.
    pub mail_sender: Option<Arc<dyn MailSender>>,
}

/// Deployment settings the use cases need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Whether the payment provider runs in live mode (events of the other mode are ignored).
    pub stripe_livemode: bool,
    /// First retry delay of a failed job (doubles each attempt, capped at ten minutes).
    pub job_retry_base: time::Duration,
    /// Attempts before a job is parked as dead.
    pub job_max_attempts: i32,
    /// How long a claimed job (or outbox mail) stays reserved for its worker: after a crash,
    /// another worker takes it over once this has passed. Longer than any run can take.
    pub job_lease: time::Duration,
    /// Country of new Express accounts.
    pub connect_country: String,
    /// Origins (`https://shop.example`) web clients may have buyers sent back to after checkout.
    pub allowed_return_origins: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stripe_livemode: false,
            job_retry_base: time::Duration::seconds(2),
            job_max_attempts: 8,
            job_lease: time::Duration::minutes(5),
            connect_country: "US".to_owned(),
            allowed_return_origins: Vec::new(),
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

/// Every operation group, built once by the application and handed to the delivery adapters.
#[derive(Clone)]
pub struct Services {
    /// Registration and the first owner.
    pub registration: accounts::Registration,
    /// Login, logout, authentication.
    pub sessions: accounts::Sessions,
    /// Profiles and avatars.
    pub profiles: accounts::Profiles,
    /// Owners managing categories.
    pub category_admin: catalog::CategoryAdmin,
    /// The public category trees and pages.
    pub catalog: catalog::CatalogBrowsing,
    /// Public listings.
    pub listings: listings::ListingBrowsing,
    /// Sellers managing their listings.
    pub my_listings: listings::ListingManagement,
    /// Listing images and digital assets.
    pub listing_media: listings::ListingMedia,
    /// Serving stored files.
    pub files: files::FileServing,
    /// Carts.
    pub cart: cart::Carts,
    /// Placing orders.
    pub order_placement: orders::OrderPlacement,
    /// Paying orders.
    pub checkout: orders::Checkout,
    /// Reading orders, lists and downloads.
    pub orders: orders::OrderReading,
    /// Stripe webhooks.
    pub webhooks: money_flow::WebhookReceiver,
    /// Background jobs.
    pub jobs: jobs::JobRunner,
    /// Stripe Connect onboarding.
    pub onboarding: connect::Onboarding,
    /// Sellers' balances, payouts and dashboard.
    pub seller_money: money::SellerMoney,
    /// The buyer dashboard.
    pub buyer_dashboard: money::BuyerDashboard,
    /// Owners: site configuration and outbox.
    pub site_admin: admin::SiteAdmin,
    /// Owners: sellers' Connect status.
    pub seller_admin: admin::SellerAdmin,
    /// Owners: the job queue.
    pub job_admin: admin::JobAdmin,
    /// Owners and operators: payout retries and transfer reversals.
    pub payout_admin: admin::PayoutAdmin,
    /// Owners and the books: reconciliation, adjustments, the audit log.
    pub books: admin::Books,
    /// Owners: users and their roles.
    pub user_admin: admin::UserAdmin,
    /// Buyers' refund requests.
    pub refund_requests: refund_requests::RefundRequests,
    /// Sellers', owners' and staff's decisions on refund requests.
    pub refund_decisions: refund_requests::RefundDecisions,
    /// Writing reviews and replies.
    pub review_writing: reviews::ReviewWriting,
    /// Reading reviews and sellers' ratings.
    pub reviews: reviews::ReviewReading,
    /// Questions and answers.
    pub questions: qa::Questions,
    /// Reports and staff's moderation.
    pub moderation: moderation::Moderation,
    /// A user's notifications.
    pub notifications: notifications::Notifications,
    /// Readiness.
    pub health: system::Health,
    /// Owners' order list.
    pub order_admin: admin::OrderAdmin,
    /// Delivering outbox mail.
    pub mail_delivery: mail_delivery::MailDelivery,
    /// Owners' view of received webhook events.
    pub webhook_admin: admin::WebhookAdmin,
    /// Clicks, the engagement batch writer and the trending refresh.
    pub engagement: discovery::Engagement,
    /// The home page.
    pub home: discovery::Home,
    /// Seller analytics and the admin dashboard.
    pub analytics: discovery::Analytics,
}

impl Services {
    /// Builds every operation group over the same ports.
    pub fn new(deps: Deps) -> Services {
        Services {
            registration: accounts::Registration::new(deps.clone()),
            sessions: accounts::Sessions::new(deps.clone()),
            profiles: accounts::Profiles::new(deps.clone()),
            category_admin: catalog::CategoryAdmin::new(deps.clone()),
            catalog: catalog::CatalogBrowsing::new(deps.clone()),
            listings: listings::ListingBrowsing::new(deps.clone()),
            my_listings: listings::ListingManagement::new(deps.clone()),
            listing_media: listings::ListingMedia::new(deps.clone()),
            files: files::FileServing::new(deps.clone()),
            cart: cart::Carts::new(deps.clone()),
            order_placement: orders::OrderPlacement::new(deps.clone()),
            checkout: orders::Checkout::new(deps.clone()),
            orders: orders::OrderReading::new(deps.clone()),
            webhooks: money_flow::WebhookReceiver::new(deps.clone()),
            jobs: jobs::JobRunner::new(deps.clone()),
            onboarding: connect::Onboarding::new(deps.clone()),
            seller_money: money::SellerMoney::new(deps.clone()),
            buyer_dashboard: money::BuyerDashboard::new(deps.clone()),
            site_admin: admin::SiteAdmin::new(deps.clone()),
            seller_admin: admin::SellerAdmin::new(deps.clone()),
            job_admin: admin::JobAdmin::new(deps.clone()),
            payout_admin: admin::PayoutAdmin::new(deps.clone()),
            books: admin::Books::new(deps.clone()),
            user_admin: admin::UserAdmin::new(deps.clone()),
            refund_requests: refund_requests::RefundRequests::new(deps.clone()),
            refund_decisions: refund_requests::RefundDecisions::new(deps.clone()),
            review_writing: reviews::ReviewWriting::new(deps.clone()),
            reviews: reviews::ReviewReading::new(deps.clone()),
            questions: qa::Questions::new(deps.clone()),
            moderation: moderation::Moderation::new(deps.clone()),
            notifications: notifications::Notifications::new(deps.clone()),
            order_admin: admin::OrderAdmin::new(deps.clone()),
            mail_delivery: mail_delivery::MailDelivery::new(deps.clone()),
            webhook_admin: admin::WebhookAdmin::new(deps.clone()),
            engagement: discovery::Engagement::new(deps.clone()),
            home: discovery::Home::new(deps.clone()),
            analytics: discovery::Analytics::new(deps.clone()),
            health: system::Health::new(deps),
        }
    }
}
