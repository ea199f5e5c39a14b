//! The configuration the command-line tests run the app with: a given database, the simulator.
#![allow(clippy::unwrap_used, dead_code, missing_docs)]

use adapter_postgres::ConnectOptions as PgConnectOptions;
use app::config::LogFormat;
use app::{Config, DatabaseConfig, JobsConfig, PaymentsConfig, StripeTuning};

pub fn config(database: PgConnectOptions) -> Config {
    Config {
        database: DatabaseConfig::Options(Box::new(database)),
        bind: "127.0.0.1:0".parse().unwrap(),
        site_base_url: "http://127.0.0.1".into(),
        db_max_connections: 2,
        log_format: LogFormat::Pretty,
        payments: PaymentsConfig::Simulator { state_file: None },
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
