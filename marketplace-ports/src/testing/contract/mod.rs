//! The stores' contract: what every implementation of the ports' stores and queries must do, as
//! tests written once and run against each of them (the in-memory stores in this crate's tests,
//! PostgreSQL in the adapter's). A behaviour the use cases rely on belongs here, so an in-memory
//! test cannot pass on something the database does differently.
//!
//! Each test takes a fresh [`Subject`]; [`contract_tests!`](crate::contract_tests) turns the list
//! into `#[tokio::test]`s for a given subject.
//!
//! These are tests that happen to live in a library (so the adapter's tests can run them): a failed
//! step panics with the store's error, as in any test.
#![allow(clippy::unwrap_used)]

pub mod accounts;
pub mod books;
pub mod catalog;
pub mod discovery;
pub mod entitlements;
pub mod moderation;
pub mod money;
pub mod notifications;
pub mod qa;
pub mod queue;
pub mod refund_requests;
pub mod reviews;
pub mod shopping;

use std::sync::Arc;

use marketplace_domain::accounts::Roles;
use marketplace_domain::catalog::{CategoryType, Listing, ProductKind, ValidCategory};
use marketplace_domain::ids::{CategoryId, ProductId, UserId};
use marketplace_domain::money::Cents;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{MemoryStore, start_time};
use crate::ports::{NewUser, ProductRecord, Queries, UnitOfWork};

/// What the contract runs against: a unit of work and the queries over the same data, empty.
pub struct Subject {
    /// Transactions.
    pub uow: Arc<dyn UnitOfWork>,
    /// Reads.
    pub queries: Queries,
}

impl MemoryStore {
    /// This store as a contract subject.
    pub fn subject(&self) -> Subject {
        Subject {
            uow: Arc::new(self.clone()),
            queries: self.queries(),
        }
    }
}

/// `start_time()` plus `seconds` (whole seconds survive every store's time precision).
pub fn at(seconds: i64) -> OffsetDateTime {
    start_time() + Duration::seconds(seconds)
}

/// A fresh id of any id type.
pub fn id() -> Uuid {
    Uuid::now_v7()
}

/// Inserts a user (a seller unless `roles` says otherwise) and returns their id.
pub async fn seed_user(subject: &Subject, name: &str, roles: Roles) -> UserId {
    let user = NewUser {
        id: UserId::from_uuid(id()),
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        password_hash: "hash".to_owned(),
        roles,
        created_at: at(0),
    };
    let mut tx = subject.uow.begin().await.expect("begin");
    tx.users()
        .expect("users")
        .insert_user(&user)
        .await
        .expect("insert the user");
    tx.commit().await.expect("commit");
    user.id
}

/// A seller's roles.
pub fn seller_roles() -> Roles {
    Roles {
        is_seller: true,
        ..Roles::default()
    }
}

/// A valid root category.
pub fn root_category(category_type: CategoryType, slug: &str) -> ValidCategory {
    ValidCategory {
        category_type,
        name: slug.to_owned(),
        slug: slug.to_owned(),
        parent_id: None,
        description: String::new(),
        is_active: true,
        sort_order: 0,
    }
}

/// Inserts a root category and returns its id.
pub async fn seed_category(
    subject: &Subject,
    category_type: CategoryType,
    slug: &str,
) -> CategoryId {
    let id = CategoryId::from_uuid(id());
    let mut tx = subject.uow.begin().await.expect("begin");
    tx.categories()
        .expect("categories")
        .insert_category(id, &root_category(category_type, slug), at(0))
        .await
        .expect("insert the category");
    tx.commit().await.expect("commit");
    id
}

/// An active listing of `seller` in `category`, priced 12.50, created at `created`.
pub fn product(
    seller: UserId,
    category: CategoryId,
    kind: ProductKind,
    title: &str,
    created: i64,
) -> ProductRecord {
    ProductRecord {
        id: ProductId::from_uuid(id()),
        seller_id: seller,
        slug: title.to_lowercase().replace(' ', "-"),
        listing: Listing {
            kind,
            title: title.to_owned(),
            short_description: format!("{title} in short"),
            description: "A sturdy print".to_owned(),
            category_id: category,
            price: Cents::new(1250),
            is_free: false,
            is_active: true,
            is_featured: false,
            is_trending: false,
            physical: None,
            license_text: None,
        },
        review_count: 0,
        rating_sum: 0,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// Inserts a listing.
pub async fn seed_product(subject: &Subject, product: &ProductRecord) {
    let mut tx = subject.uow.begin().await.expect("begin");
    tx.products()
        .expect("products")
        .insert_product(product)
        .await
        .expect("insert the listing");
    tx.commit().await.expect("commit");
}

/// Turns a list of contract tests into `#[tokio::test]`s over the subject `$subject` (an async
/// expression giving a fresh [`Subject`] each time).
#[macro_export]
macro_rules! contract_tests {
    ($subject:expr) => {
        $crate::contract_tests!(@each $subject;
            accounts::usernames_are_unique_whatever_their_case,
            accounts::profiles_change_only_what_is_given,
            accounts::avatars_are_replaced_and_the_old_one_returned,
            accounts::sessions_live_until_they_expire_or_are_deleted,
            accounts::login_failures_are_counted_per_key_and_cleared,
            accounts::a_dropped_transaction_changes_nothing,
            catalog::category_slugs_are_unique_per_place_in_the_tree,
            catalog::categories_in_use_cannot_be_deleted_and_children_go_with_their_root,
            catalog::the_public_tree_has_active_roots_and_children_in_order,
            catalog::listing_slugs_are_unique_per_seller,
            catalog::listings_are_filtered_paged_and_newest_first,
            catalog::list_totals_follow_every_change_of_a_listing,
            catalog::a_listing_detail_has_its_seller_images_and_files,
            catalog::one_image_is_primary,
            catalog::files_are_stored_in_chunks,
            shopping::connect_accounts_are_one_per_seller,
            shopping::carts_keep_their_lines_and_remember_the_order,
            shopping::orders_round_trip_with_their_lines_and_payment,
            shopping::orders_are_found_by_any_of_their_stripe_ids,
            shopping::order_history_and_lists,
            shopping::owners_find_orders_by_id_stripe_id_e_mail_and_flags,
            shopping::sales_figures_count_paid_lines,
            money::journal_entries_are_booked_once_and_move_balances,
            money::seller_ledger_lines_are_filtered_and_newest_first,
            money::payouts_are_one_per_order_and_seller,
            money::one_reversal_is_pending_at_a_time,
            books::anomalies_and_flags_make_the_reconciliation_report,
            books::adjustments_are_unique_per_key_and_audited,
            refund_requests::a_refund_request_holds_its_line_and_keeps_its_history,
            reviews::reviews_are_one_per_purchase_and_summaries_follow_them,
            qa::threads_keep_their_messages_in_order,
            queue::jobs_are_queued_once_per_key_and_claimed_in_order,
            queue::failed_jobs_are_retried_buried_and_revived,
            queue::mail_webhooks_and_site_config,
            queue::outbox_mail_is_claimed_once_retried_and_failed,
            discovery::daily_counts_add_up_and_feed_trending_and_analytics,
            discovery::the_dashboards_totals_follow_listings_and_orders,
            entitlements::entitlements_are_granted_once_counted_logged_and_revoked,
            moderation::reports_are_one_open_per_reporter_and_resolved_once,
            moderation::a_suspension_ends_the_users_sessions,
            notifications::notifications_are_each_users_own_and_read_once,
        );
    };
    (@each $subject:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::testing::contract::$module::$name($subject.await).await;
            }
        )*
    };
}
