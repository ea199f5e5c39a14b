//! `demo-data` through the library: sellers are onboarded on the simulator (so they can be paid),
//! listings are created, and a second run adds nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use adapter_postgres::testing::{fresh_database, query_i64};
use app::config::LogFormat;
use app::demo::{DemoSize, create_demo_data};
use app::demo_history::{HistorySize, create_demo_history};
use app::{Config, DatabaseConfig, JobsConfig, PaymentsConfig, StripeTuning};
use marketplace_domain::pagination::{Page, PageRequest};
use marketplace_ports::use_cases::listings::ProductView;

/// The first page of the public catalog.
async fn listings(backend: &app::Backend) -> Page<ProductView> {
    backend
        .services
        .listings
        .browse(Default::default(), PageRequest::first())
        .await
        .unwrap()
        .page
}

/// The configuration of a demo run on a fresh database, keeping the simulator's objects in
/// `folder`.
async fn config(folder: &std::path::Path) -> Config {
    Config {
        database: DatabaseConfig::Options(Box::new(fresh_database().await)),
        bind: "127.0.0.1:0".parse().unwrap(),
        site_base_url: "http://127.0.0.1".into(),
        db_max_connections: 4,
        log_format: LogFormat::Pretty,
        payments: PaymentsConfig::Simulator {
            state_file: Some(folder.join("stripe-simulator.json")),
        },
        stripe: StripeTuning::default(),
        jobs: JobsConfig::default(),
        smtp_url: None,
        mail_from: app::config::DEFAULT_MAIL_FROM.to_owned(),
        trusted_proxies: Default::default(),
        allowed_return_origins: Vec::new(),
        catalog_cache_bytes: app::config::DEFAULT_CATALOG_CACHE_MB << 20,
        durable_commits: true,
    }
}

fn folder() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hc3-demo-{}", uuid::Uuid::now_v7().simple()))
}

#[tokio::test]
async fn demo_sellers_are_onboarded_on_the_simulator_and_a_rerun_adds_nothing() {
    let folder = folder();
    let config = config(&folder).await;
    let size = DemoSize {
        sellers: 2,
        products: 6,
    };
    let backend = app::connect_for_command(&config, true).await.unwrap();
    let summary = create_demo_data(
        &backend.services,
        &backend.queries(),
        backend.simulator().unwrap(),
        size,
    )
    .await
    .unwrap();
    assert!(summary.contains("2 sellers"), "{summary}");
    for name in ["demo-seller-01", "demo-seller-02"] {
        let queries = backend.queries();
        let seller = queries
            .accounts()
            .unwrap()
            .user_by_username(name)
            .await
            .unwrap()
            .expect("the seller exists");
        let account = queries
            .connect()
            .unwrap()
            .connect_account(seller.id)
            .await
            .unwrap()
            .expect("the seller has an account");
        assert!(account.status.is_ready(), "{name} is ready");
        let id = account.status.stripe_account_id.unwrap();
        assert!(id.starts_with("acct_sim"), "a simulator account: {id}");
    }
    let listed = listings(&backend).await;
    assert_eq!(listed.total, 6);
    assert!(listed.items.iter().all(|p| p.can_buy));
    backend.shutdown().await;

    // Again, after a restart: the simulator still knows the accounts and nothing is added.
    let backend = app::connect_for_command(&config, true).await.unwrap();
    create_demo_data(
        &backend.services,
        &backend.queries(),
        backend.simulator().unwrap(),
        size,
    )
    .await
    .unwrap();
    assert_eq!(listings(&backend).await.total, 6);
    backend.shutdown().await;
    let _ = std::fs::remove_dir_all(&folder);
}

#[tokio::test]
async fn demo_history_is_made_through_the_served_app_and_its_books_balance() {
    let folder = folder();
    let config = config(&folder).await;
    let database = match &config.database {
        DatabaseConfig::Options(options) => (**options).clone(),
        _ => unreachable!("a test database"),
    };
    let backend = app::connect_for_command(&config, true).await.unwrap();
    create_demo_data(
        &backend.services,
        &backend.queries(),
        backend.simulator().unwrap(),
        DemoSize {
            sellers: 3,
            products: 30,
        },
    )
    .await
    .unwrap();
    backend.shutdown().await;

    let summary = create_demo_history(
        config.clone(),
        HistorySize {
            orders: 60,
            engagement: 500,
        },
    )
    .await
    .unwrap();
    assert!(
        summary.starts_with("60 paid orders, 12 reviews"),
        "{summary}"
    );
    let count = |sql: &'static str| {
        let database = database.clone();
        async move { query_i64(&database, sql).await }
    };
    assert_eq!(count("select count(*) from orders").await, 60);
    assert_eq!(
        count(
            "select count(*) from orders where status in ('paid', 'partially_refunded', 'refunded')"
        )
        .await,
        60,
        "every order was paid through the simulator's webhooks"
    );
    assert_eq!(count("select count(*) from reviews").await, 12);
    assert_eq!(
        count("select count(*) from jobs where status <> 'done'").await,
        0,
        "the workers ran everything: payouts, mail, refunds"
    );
    assert!(
        count("select count(*) from payouts where status = 'paid'").await >= 60,
        "each order paid its sellers"
    );
    let refunded = count("select count(*) from refund_requests where status = 'refunded'").await;
    assert!(
        summary.contains(&format!("{refunded} refunds")),
        "{summary}: {refunded} refunded"
    );
    let counted =
        count("select coalesce(sum(views + clicks), 0)::int8 from product_daily_stats").await;
    assert!(
        (1..=500).contains(&counted),
        "views and clicks are written: {counted}"
    );
    // The books of all of it balance: nothing for the owners to look at.
    let backend = app::connect_for_command(&config, false).await.unwrap();
    let flagged = backend
        .services
        .books
        .operator_report(&Default::default(), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(flagged.total, 0, "{:?}", flagged.items);
    backend.shutdown().await;
    let _ = std::fs::remove_dir_all(&folder);
}
