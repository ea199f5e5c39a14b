//! Sellers onboarding with Stripe Connect.

use std::sync::{Arc, Mutex};

use time::Duration;

use super::World;
use crate::ports::{ConnectedAccount, MockPaymentGateway};
use crate::use_cases::connect::OnboardingError;

fn account(id: &str, ready: bool) -> ConnectedAccount {
    ConnectedAccount {
        id: id.to_owned(),
        details_submitted: ready,
        charges_enabled: ready,
        payouts_enabled: ready,
    }
}

/// Stripe creates `acct_new` (once per idempotency key) and hands out onboarding links; the
/// account reads as `ready` once `ready` is set.
fn stripe_connect(
    stripe: &mut MockPaymentGateway,
    ready: Arc<Mutex<bool>>,
) -> Arc<Mutex<Vec<String>>> {
    let created: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = created.clone();
    stripe
        .expect_create_express_account()
        .times(1)
        .returning(move |email, country, key| {
            log.lock().unwrap().push(format!("{email} {country} {key}"));
            Ok(account("acct_new", false))
        });
    stripe
        .expect_create_account_link()
        .returning(|account, refresh, back| {
            Ok(format!("https://connect.test/{account}?{refresh}&{back}"))
        });
    stripe
        .expect_retrieve_account()
        .returning(move |id| Ok(account(id, *ready.lock().unwrap())));
    created
}

#[tokio::test]
async fn onboarding_creates_one_account_and_links_back_to_the_site() {
    let ready = Arc::new(Mutex::new(false));
    let mut created = None;
    let world = World::with(|stripe| created = Some(stripe_connect(stripe, ready.clone())));
    let seller = world.unready_seller("maker").await;
    let onboarding = &world.services.onboarding;
    let link = onboarding.start(&seller).await.unwrap();
    assert_eq!(
        link,
        "https://connect.test/acct_new?https://shop.test/connect/refresh&https://shop.test/connect/return"
    );
    onboarding.start(&seller).await.unwrap();
    let created = created.unwrap();
    assert_eq!(
        created.lock().unwrap()[..],
        [format!(
            "maker@example.com US connect-account:{}",
            seller.user_id
        )],
        "the second start reuses the account"
    );
    let record = &world.state().connect[&seller.user_id];
    assert_eq!(record.status.stripe_account_id.as_deref(), Some("acct_new"));
    assert!(
        !world
            .services
            .onboarding
            .status(&seller)
            .await
            .unwrap()
            .ready
    );

    *ready.lock().unwrap() = true;
    let view = onboarding.status(&seller).await.unwrap();
    assert!(
        !view.ready,
        "synced less than a minute ago: not asked again"
    );
    world.clock.advance(Duration::minutes(1));
    let view = onboarding.status(&seller).await.unwrap();
    assert!(
        view.ready,
        "a stale unready account is refreshed from Stripe"
    );
    assert!(
        world.state().connect[&seller.user_id]
            .onboarding_completed_at
            .is_some()
    );
}

#[tokio::test]
async fn buyers_do_not_onboard() {
    let world = World::new();
    let buyer = world.buyer("buyer").await;
    let error = world.services.onboarding.start(&buyer).await.unwrap_err();
    assert!(matches!(error, OnboardingError::NotASeller));
    let error = world.services.onboarding.sync(&buyer).await.unwrap_err();
    assert!(matches!(error, OnboardingError::NotASeller));
    assert!(world.state().connect.is_empty());
}

#[tokio::test]
async fn an_old_account_event_does_not_undo_a_newer_one() {
    let world = World::new();
    let seller = world.unready_seller("maker").await;
    world.set_connect(seller.user_id, "acct_maker", false).await;
    let newer = world.event(
        "evt_new",
        "account.updated",
        crate::ports::EventPayload::AccountUpdated(account("acct_maker", true)),
    );
    let mut older = world.event(
        "evt_old",
        "account.updated",
        crate::ports::EventPayload::AccountUpdated(account("acct_maker", false)),
    );
    older.created -= Duration::minutes(5);
    let endpoint = crate::ports::WebhookEndpoint::Connect;
    world.deliver(endpoint, newer).await.unwrap();
    let outcome = world.deliver(endpoint, older).await.unwrap();
    assert!(matches!(
        outcome,
        crate::use_cases::money_flow::webhooks::WebhookOutcome::Ignored(_)
    ));
    assert!(world.state().connect[&seller.user_id].status.is_ready());
}
