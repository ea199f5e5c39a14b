//! Fresh databases for tests: one throwaway server per test process (started on first use), a
//! template database migrated once, and a new database copied from it for every test.

use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};
use uuid::Uuid;

use crate::local::LocalServer;
use crate::{MIGRATOR, ensure_database};

const TEMPLATE: &str = "hc3_template";

static SERVER: OnceLock<Result<LocalServer, String>> = OnceLock::new();

fn server() -> &'static LocalServer {
    let started = SERVER.get_or_init(|| {
        // Runs on a plain thread with its own runtime so it works from inside any test runtime.
        std::thread::spawn(|| {
            let server = LocalServer::start_ephemeral().map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let options = server.connect_options(TEMPLATE);
                ensure_database(&options, TEMPLATE)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut conn = options.connect().await.map_err(|e| e.to_string())?;
                MIGRATOR.run(&mut conn).await.map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })?;
            Ok(server)
        })
        .join()
        .unwrap_or_else(|_| Err("the test database thread panicked".into()))
    });
    match started {
        Ok(server) => server,
        Err(message) => panic!("cannot start the test PostgreSQL server: {message}"),
    }
}

/// Connection options for a brand-new, fully migrated database of its own.
///
/// # Panics
/// When no PostgreSQL server can be started: tests cannot run without one.
pub async fn fresh_database() -> PgConnectOptions {
    let server = server();
    let name = format!("test_{}", Uuid::now_v7().simple());
    let mut conn = server
        .connect_options("postgres")
        .connect()
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("create database {name} template {TEMPLATE}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    conn.close().await.expect("close the admin connection");
    server.connect_options(&name)
}

/// Runs SQL statements against a test database (to arrange a state or inject a failure that no
/// API offers). Only for tests.
///
/// # Panics
/// When the connection or the statements fail.
pub async fn execute(options: &PgConnectOptions, sql: &str) {
    let mut conn = options
        .connect()
        .await
        .expect("connect to the test database");
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("running {sql:?}: {e}"));
    conn.close().await.expect("close the test connection");
}

/// Reads one integer from a test database (`select …` returning one bigint). Only for tests.
///
/// # Panics
/// When the connection or the query fails.
pub async fn query_i64(options: &PgConnectOptions, sql: &str) -> i64 {
    let mut conn = options
        .connect()
        .await
        .expect("connect to the test database");
    let value: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("running {sql:?}: {e}"));
    conn.close().await.expect("close the test connection");
    value
}
