//! `app reconcile` against a real database: it prints the stored flags of the orders whose money
//! needs a look and exits 0 when there are none, 1 when there are some.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use adapter_postgres::testing::{execute, fresh_database};
use app::cli::{Cli, Outcome, run};
use clap::Parser;
use common::config;

#[tokio::test]
async fn reconcile_exits_one_while_orders_are_flagged() {
    let database = fresh_database().await;
    let reconcile = |args: &[&str]| {
        let mut argv = vec!["app", "reconcile"];
        argv.extend_from_slice(args);
        run(Cli::parse_from(argv), config(database.clone()))
    };
    run(
        Cli::parse_from(["app", "migrate"]),
        config(database.clone()),
    )
    .await
    .unwrap();
    assert_eq!(reconcile(&[]).await.unwrap(), Outcome::Done);

    execute(
        &database,
        "insert into orders (id, guest_email, access_token, status, kind, currency, fee_bps,
            subtotal_cents, tax_cents, shipping_cents, total_cents, created_at, updated_at)
         values ('00000000-0000-7000-8000-000000000001', 'guest@example.com', 'token', 'paid',
            'physical', 'usd', 1000, 1000, 0, 0, 1000, '2026-11-20', '2026-11-20');
         insert into order_flags (order_id, code, detail, flagged_at)
         values ('00000000-0000-7000-8000-000000000001', 'charge_mismatch',
            'Stripe charged 9.99 for a total of 10.00', now());",
    )
    .await;
    assert_eq!(reconcile(&[]).await.unwrap(), Outcome::Flagged);
    assert_eq!(
        reconcile(&["--flag", "charge_mismatch"]).await.unwrap(),
        Outcome::Flagged
    );
    assert_eq!(
        reconcile(&["--flag", "dispute_open"]).await.unwrap(),
        Outcome::Done
    );
    assert_eq!(
        reconcile(&["--since", "2026-11-21"]).await.unwrap(),
        Outcome::Done,
        "placed before that day"
    );
    let bad = reconcile(&["--since", "yesterday"]).await.unwrap_err();
    assert!(bad.to_string().contains("YYYY-MM-DD"), "{bad}");
    let unknown = reconcile(&["--flag", "nope"]).await.unwrap_err();
    assert!(unknown.to_string().contains("must be one of"), "{unknown}");
}
