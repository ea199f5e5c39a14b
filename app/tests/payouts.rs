//! `payouts retry` through the command-line entry point against a real database: dead payout and
//! reversal jobs go back in the queue once per key, other jobs are left alone, and an unknown
//! order is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use adapter_postgres::ConnectOptions as PgConnectOptions;
use adapter_postgres::testing::{execute, fresh_database, query_i64};
use app::cli::{Cli, run};
use clap::Parser;
use common::config;

fn job(id: u8, kind: &str, key: &str, status: &str, minutes_ago: u8) -> String {
    format!(
        "insert into jobs (id, kind, order_id, seller_id, dedupe_key, status, attempts, max_attempts, run_at, last_error, created_at, updated_at)
         values ('00000000-0000-7000-8000-0000000000{id:02}', '{kind}', '00000000-0000-7000-8000-000000000001',
                 '00000000-0000-7000-8000-000000000002', '{key}', '{status}', 8, 8, now(), 'HTTP 500',
                 now() - interval '{minutes_ago} minutes', now() - interval '{minutes_ago} minutes');"
    )
}

async fn status_of(database: &PgConnectOptions, id: u8) -> (i64, i64) {
    let queued = query_i64(
        database,
        &format!(
            "select count(*) from jobs where id = '00000000-0000-7000-8000-0000000000{id:02}' and status = 'queued' and attempts = 0"
        ),
    )
    .await;
    let done = query_i64(
        database,
        &format!(
            "select count(*) from jobs where id = '00000000-0000-7000-8000-0000000000{id:02}' and status = 'done'"
        ),
    )
    .await;
    (queued, done)
}

#[tokio::test]
async fn dead_payout_and_reversal_jobs_are_queued_again_once_per_key() {
    let database = fresh_database().await;
    run(
        Cli::parse_from(["app", "migrate"]),
        config(database.clone()),
    )
    .await
    .unwrap();
    let arrange = [
        job(1, "payout", "payout:a", "dead", 30),
        job(2, "payout", "payout:a", "dead", 5),
        job(3, "reversal", "reversal:b", "dead", 5),
        job(4, "order_mail", "order_mail:c", "dead", 5),
        job(5, "payout", "payout:d", "queued", 1),
        job(6, "payout", "payout:d", "dead", 5),
    ]
    .concat();
    execute(&database, &arrange).await;

    run(
        Cli::parse_from(["app", "payouts", "retry"]),
        config(database.clone()),
    )
    .await
    .unwrap();

    assert_eq!(
        status_of(&database, 2).await,
        (1, 0),
        "the newest of a key is queued"
    );
    assert_eq!(
        status_of(&database, 1).await,
        (0, 1),
        "its older copy is superseded"
    );
    assert_eq!(status_of(&database, 3).await, (1, 0), "reversals too");
    assert_eq!(
        query_i64(
            &database,
            "select count(*) from jobs where kind = 'order_mail' and status = 'dead'"
        )
        .await,
        1,
        "other kinds are left alone"
    );
    assert_eq!(
        status_of(&database, 6).await,
        (0, 1),
        "a key already queued is not queued twice"
    );
    assert_eq!(
        query_i64(
            &database,
            "select count(*) from jobs where dedupe_key = 'payout:d' and status = 'queued'"
        )
        .await,
        1
    );

    let unknown = run(
        Cli::parse_from([
            "app",
            "payouts",
            "retry",
            "--order",
            "00000000-0000-7000-8000-0000000000ff",
        ]),
        config(database.clone()),
    )
    .await;
    let error = unknown
        .expect_err("an unknown order is refused")
        .to_string();
    assert!(error.contains("not found"), "{error}");
}
