//! Configuration from the environment, validated at start with messages that say what to fix.

use std::net::SocketAddr;
use std::path::PathBuf;

use adapter_postgres::ConnectOptions;
use anyhow::{Context, bail};

/// Where the database is.
#[derive(Clone, Debug)]
pub enum DatabaseConfig {
    /// `DATABASE_URL`: an existing server.
    Url(String),
    /// No `DATABASE_URL`: a private server under `data_dir` (`$DATA_DIR/pg`), using the PostgreSQL
    /// programs in `bin_dir` (`PG_BIN_DIR`) or, when unset, found on PATH or under
    /// `/usr/lib/postgresql/*/bin`.
    Local {
        /// The cluster's folder.
        data_dir: PathBuf,
        /// Where `initdb` and `pg_ctl` are.
        bin_dir: Option<PathBuf>,
    },
    /// Ready-made options (tests).
    Options(Box<ConnectOptions>),
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Everything the application needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// The database.
    pub database: DatabaseConfig,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Public base URL of the site (links in e-mails, Stripe return URLs).
    pub site_base_url: String,
    /// Largest connection pool.
    pub db_max_connections: u32,
    /// Log format.
    pub log_format: LogFormat,
}

impl Config {
    /// Reads the configuration from environment variables (SPEC §7).
    ///
    /// # Errors
    /// A message naming the variable and what is wrong with it.
    pub fn from_env() -> anyhow::Result<Config> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `lookup` (testable without touching the environment).
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let bind_text = lookup("BIND").unwrap_or_else(|| "127.0.0.1:8000".to_owned());
        let bind: SocketAddr = bind_text.trim().parse().with_context(|| {
            format!("BIND must be an address like 127.0.0.1:8000, got {bind_text:?}")
        })?;
        let database = match lookup("DATABASE_URL") {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    bail!("DATABASE_URL must start with postgres:// or postgresql://");
                }
                DatabaseConfig::Url(url)
            }
            None => {
                let data_dir =
                    PathBuf::from(lookup("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
                DatabaseConfig::Local {
                    data_dir: data_dir.join("pg"),
                    bin_dir: lookup("PG_BIN_DIR").map(PathBuf::from),
                }
            }
        };
        let site_base_url = lookup("SITE_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if !(site_base_url.starts_with("http://") || site_base_url.starts_with("https://")) {
            bail!("SITE_BASE_URL must start with http:// or https://, got {site_base_url:?}");
        }
        let log_format = match lookup("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("LOG_FORMAT must be `pretty` or `json`, got {other:?}"),
        };
        let db_max_connections = match lookup("DB_MAX_CONNECTIONS") {
            None => 16,
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .with_context(|| {
                    format!("DB_MAX_CONNECTIONS must be a number from 1 to 1000, got {text:?}")
                })?,
        };
        Ok(Config {
            database,
            bind,
            site_base_url,
            db_max_connections,
            log_format,
        })
    }

    /// True when the site is served over HTTPS (cookies are then marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.site_base_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(config.site_base_url, "http://127.0.0.1:8000");
        assert!(
            matches!(config.database, DatabaseConfig::Local { ref data_dir, bin_dir: None } if data_dir.ends_with("data/pg"))
        );
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(!config.is_https());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let message = |vars: &[(&str, &str)]| format!("{:#}", config(vars).unwrap_err());
        assert!(message(&[("BIND", "nope")]).contains("BIND"));
        assert!(message(&[("DATABASE_URL", "mysql://x")]).contains("DATABASE_URL"));
        assert!(message(&[("SITE_BASE_URL", "example.com")]).contains("SITE_BASE_URL"));
        assert!(message(&[("LOG_FORMAT", "xml")]).contains("LOG_FORMAT"));
        assert!(message(&[("DB_MAX_CONNECTIONS", "0")]).contains("DB_MAX_CONNECTIONS"));
    }

    #[test]
    fn data_dir_and_https_are_honoured() {
        let config = config(&[
            ("DATA_DIR", "/srv/hc3"),
            ("SITE_BASE_URL", "https://shop.example/"),
        ])
        .unwrap();
        assert!(
            matches!(config.database, DatabaseConfig::Local { ref data_dir, .. } if data_dir == &PathBuf::from("/srv/hc3/pg"))
        );
        assert_eq!(config.site_base_url, "https://shop.example");
        assert!(config.is_https());
    }
}
