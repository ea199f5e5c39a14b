//! Owners' operations: who may, and what they change.

use marketplace_domain::catalog::ProductKind;
use marketplace_domain::entitlements::DownloadPolicy;
use marketplace_domain::money::Cents;
use marketplace_domain::pagination::PageRequest;
use marketplace_domain::payouts::{PayoutStatus, SkipReason};
use rust_decimal::Decimal;

use super::World;
use crate::ports::Clock;
use crate::ports::{JobKind, JobStatus};
use crate::use_cases::admin::{
    ConnectOverride, JobAdminError, PayoutAdminError, SellerAdminError, SiteAdminError,
};
use crate::use_cases::{ErrorKind, UseCaseError};

#[tokio::test]
async fn only_owners_administer() {
    let world = World::new();
    let seller = world.seller("maker").await;
    let services = &world.services;
    let error = services.site_admin.site_config(&seller).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden { code: "forbidden" });
    let error = services
        .site_admin
        .update_site_config(
            &seller,
            Decimal::new(5, 0),
            "usd",
            &["US".to_owned()],
            false,
            DownloadPolicy::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SiteAdminError::Forbidden));
    let override_ = ConnectOverride {
        stripe_account_id: "acct_other".into(),
        details_submitted: true,
        charges_enabled: true,
        payouts_enabled: true,
    };
    let error = services
        .seller_admin
        .set_connect_status(&seller, seller.user_id, override_)
        .await
        .unwrap_err();
    assert!(matches!(error, SellerAdminError::Forbidden));
    let error = services
        .job_admin
        .jobs(&seller, None, PageRequest::first())
        .await
        .unwrap_err();
    assert!(matches!(error, JobAdminError::Forbidden));
    let error = services
        .payout_admin
        .retry_payouts(
            &seller,
            marketplace_domain::ids::OrderId::from_uuid(uuid::Uuid::now_v7()),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, PayoutAdminError::Forbidden));
    assert_eq!(
        world.state().connect[&seller.user_id]
            .status
            .stripe_account_id
            .as_deref(),
        Some("acct_maker"),
        "unchanged"
    );
}

#[tokio::test]
async fn a_new_fee_applies_to_orders_placed_after_it() {
    let world = World::new();
    let owner = world.owner().await;
    let seller = world.seller("maker").await;
    let buyer = world.buyer("buyer").await;
    let print = world
        .listing(&seller, ProductKind::Model, "Owl", "10.00")
        .await;
    let before = world.place(Some(&buyer), &[(print, 1)]).await;
    let config = world
        .services
        .site_admin
        .update_site_config(
            &owner,
            Decimal::new(1250, 2),
            " EUR ",
            &[" de".to_owned(), "FR".to_owned()],
            true,
            DownloadPolicy {
                limit: Some(5),
                expiry_days: Some(30),
            },
        )
        .await
        .unwrap();
    assert_eq!(config.currency.as_str(), "eur");
    assert_eq!(config.allowed_shipping_countries, ["DE", "FR"]);
    world.clock.advance(time::Duration::minutes(11));
    let after = world.place(Some(&buyer), &[(print, 1)]).await;
    assert_eq!(before.lines()[0].fee, Cents::new(100));
    assert_eq!(
        (after.lines()[0].fee, after.currency.as_str()),
        (Cents::new(125), "eur")
    );
    assert_eq!(
        world.state().orders[&before.id].lines()[0].fee,
        Cents::new(100),
        "snapshotted"
    );
    assert!(
        after.dispute_fee_to_sellers && !before.dispute_fee_to_sellers,
        "who bears dispute fees is snapshotted too"
    );
    let site_admin = &world.services.site_admin;
    let clamped = site_admin
        .update_site_config(
            &owner,
            Decimal::new(101, 0),
            "usd",
            &[],
            false,
            DownloadPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        clamped.fee.get(),
        Decimal::new(100, 0),
        "clamped, as the original did"
    );
    let error = site_admin
        .update_site_config(
            &owner,
            Decimal::new(5, 0),
            "dollars",
            &["USA".to_owned()],
            false,
            DownloadPolicy {
                limit: Some(0),
                expiry_days: None,
            },
        )
        .await
        .unwrap_err();
    let ErrorKind::Invalid(fields) = error.kind() else {
        panic!("expected field errors, got {error:?}")
    };
    assert_eq!(
        fields.fields().keys().collect::<Vec<_>>(),
        ["allowed_shipping_countries", "currency", "download_limit"]
    );
    assert_eq!(
        site_admin.site_config(&owner).await.unwrap(),
        clamped,
        "unchanged"
    );
}

#[tokio::test]
async fn an_owner_marking_a_seller_ready_queues_their_skipped_payouts() {
    let world = World::new();
    let owner = world.owner().await;
    let (seller, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    world.set_connect(seller.user_id, "acct_maker", false).await;
    world.run_jobs().await;
    let payout = &world.state().payouts[&(order.id, seller.user_id)];
    assert_eq!(
        payout.status,
        PayoutStatus::Skipped(SkipReason::SellerNotReady)
    );
    let bad = ConnectOverride {
        stripe_account_id: "not-an-account".into(),
        details_submitted: true,
        charges_enabled: true,
        payouts_enabled: true,
    };
    let admin = &world.services.seller_admin;
    let error = admin
        .set_connect_status(&owner, seller.user_id, bad.clone())
        .await
        .unwrap_err();
    assert!(matches!(error, SellerAdminError::Invalid(_)));
    let good = ConnectOverride {
        stripe_account_id: "acct_maker".into(),
        ..bad
    };
    let record = admin
        .set_connect_status(&owner, seller.user_id, good)
        .await
        .unwrap();
    assert!(record.status.is_ready());
    let queued: Vec<JobKind> = world
        .state()
        .jobs
        .iter()
        .filter(|j| j.record.status == JobStatus::Queued)
        .map(|j| j.record.kind.clone())
        .collect();
    assert_eq!(
        queued,
        [JobKind::Payout {
            order: order.id,
            seller: seller.user_id
        }]
    );
}

#[tokio::test]
async fn a_dead_job_is_revived_by_its_id() {
    let world = World::new();
    let owner = world.owner().await;
    let (_, buyer, print) = world.shop().await;
    let order = world.place(Some(&buyer), &[(print, 1)]).await;
    world.pay(&order, 1).await;
    let job = world.state().jobs[0].record.id;
    let mut tx = world.store.begin_tx().await;
    let jobs = tx.jobs().unwrap();
    let claimed = jobs
        .claim(world.clock.now(), world.clock.now())
        .await
        .unwrap();
    assert_eq!(claimed.map(|j| j.id), Some(job));
    assert!(
        jobs.bury(job, 1, "gave up", world.clock.now())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let admin = &world.services.job_admin;
    let dead = admin
        .jobs(&owner, Some(JobStatus::Dead), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(dead.items.iter().map(|j| j.id).collect::<Vec<_>>(), [job]);
    admin.retry_job(&owner, job).await.unwrap();
    let revived = &world.state().jobs[0].record;
    assert_eq!((revived.status, revived.attempts), (JobStatus::Queued, 0));
    let again = admin.retry_job(&owner, job).await.unwrap_err();
    assert!(
        matches!(again, JobAdminError::NotFound),
        "only dead jobs are revived"
    );
}
