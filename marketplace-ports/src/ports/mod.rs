//! The ports: what the application needs from the outside world, as traits, one module per
//! feature. Each feature module holds that feature's records, its store trait (writes, inside a
//! transaction) and its query trait (reads, on the pool), named for their role, and the accessors
//! that reach them (`tx.orders()?`, `queries.orders()?`). [`uow`] holds the unit of work they all
//! share; [`payments`], [`links`], [`clock`] and [`crypto`] are the services that are not storage.
//! Nothing here knows a SQL, HTTP or Stripe type.

pub mod accounts;
pub mod adjustments;
pub mod carts;
pub mod catalog;
pub mod changes;
pub mod clock;
pub mod connect;
pub mod crypto;
pub mod engagement;
pub mod entitlements;
pub mod files;
pub mod jobs;
pub mod ledger;
pub mod links;
pub mod listings;
pub mod mail;
pub mod moderation;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod payouts;
pub mod qa;
pub mod reconciliation;
pub mod refund_requests;
pub mod reviews;
pub mod sales;
pub mod site;
pub mod uow;
pub mod webhooks;

pub use accounts::*;
pub use adjustments::*;
pub use carts::*;
pub use catalog::*;
pub use changes::*;
pub use clock::*;
pub use connect::*;
pub use crypto::*;
pub use engagement::*;
pub use entitlements::*;
pub use files::*;
pub use jobs::*;
pub use ledger::*;
pub use links::*;
pub use listings::*;
pub use mail::*;
pub use moderation::*;
pub use notifications::*;
pub use orders::*;
pub use payments::*;
pub use payouts::*;
pub use qa::*;
pub use reconciliation::*;
pub use refund_requests::*;
pub use reviews::*;
pub use sales::*;
pub use site::*;
pub use uow::*;
pub use webhooks::*;

impl Queries {
    /// Every feature's queries, answered by one `store` (both the PostgreSQL adapter and the
    /// in-memory stores implement them all on one type). A new feature's query trait is added
    /// here once.
    pub fn every<S>(store: std::sync::Arc<S>) -> Queries
    where
        S: AccountQueries
            + CatalogQueries
            + ListingQueries
            + FileQueries
            + ConnectQueries
            + OrderQueries
            + LedgerQueries
            + PayoutQueries
            + JobQueries
            + MailQueries
            + SiteConfigQueries
            + HealthQueries
            + SalesQueries
            + ReconciliationQueries
            + AuditQueries
            + RefundRequestQueries
            + EntitlementQueries
            + ReviewQueries
            + QaQueries
            + ModerationQueries
            + NotificationQueries
            + UserDirectory
            + EngagementQueries
            + WebhookQueries
            + 'static,
    {
        Queries::default()
            .with::<dyn AccountQueries>(store.clone())
            .with::<dyn CatalogQueries>(store.clone())
            .with::<dyn ListingQueries>(store.clone())
            .with::<dyn FileQueries>(store.clone())
            .with::<dyn ConnectQueries>(store.clone())
            .with::<dyn OrderQueries>(store.clone())
            .with::<dyn LedgerQueries>(store.clone())
            .with::<dyn PayoutQueries>(store.clone())
            .with::<dyn JobQueries>(store.clone())
            .with::<dyn MailQueries>(store.clone())
            .with::<dyn SiteConfigQueries>(store.clone())
            .with::<dyn HealthQueries>(store.clone())
            .with::<dyn SalesQueries>(store.clone())
            .with::<dyn ReconciliationQueries>(store.clone())
            .with::<dyn AuditQueries>(store.clone())
            .with::<dyn RefundRequestQueries>(store.clone())
            .with::<dyn EntitlementQueries>(store.clone())
            .with::<dyn ReviewQueries>(store.clone())
            .with::<dyn QaQueries>(store.clone())
            .with::<dyn ModerationQueries>(store.clone())
            .with::<dyn NotificationQueries>(store.clone())
            .with::<dyn UserDirectory>(store.clone())
            .with::<dyn EngagementQueries>(store.clone())
            .with::<dyn WebhookQueries>(store)
    }
}
