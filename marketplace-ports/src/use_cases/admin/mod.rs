//! Owner tools: the site configuration and the mail outbox ([`site`]), a seller's Connect status
//! override ([`sellers`]), the job queue ([`jobs`]), payout retries and transfer reversals
//! ([`payouts`]), and the books: reconciliation, adjustments and the audit log
//! ([`reconciliation`]), users and their roles ([`users`]), the order list ([`orders`]) and the received webhook
//! events ([`webhooks`]).

pub mod jobs;
pub mod orders;
pub mod payouts;
pub mod reconciliation;
pub mod sellers;
pub mod site;
pub mod users;
pub mod webhooks;

pub use jobs::{JobAdmin, JobAdminError};
pub use orders::{OrderAdmin, OrderAdminError, OwnerOrderQuery};
pub use payouts::{PayoutAdmin, PayoutAdminError, ReversalPreview};
pub use reconciliation::{AdjustmentOutcome, Books, BooksError};
pub use sellers::{ConnectOverride, SellerAdmin, SellerAdminError};
pub use site::{SiteAdmin, SiteAdminError};
pub use users::{RoleChange, UserAdmin, UserAdminError};
pub use webhooks::{WebhookAdmin, WebhookAdminError};

use crate::use_cases::Actor;

/// Only owners use these tools.
pub(crate) fn is_owner(actor: &Actor) -> bool {
    actor.roles.is_owner()
}
