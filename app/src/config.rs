//! Configuration from the environment, validated at start with messages that say what to fix.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use adapter_postgres::ConnectOptions;
use anyhow::{Context, anyhow, bail};

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

/// A secret read from the environment; its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Who the app talks to for payments.
#[derive(Clone, Debug)]
pub enum PaymentsConfig {
    /// No `STRIPE_SECRET_KEY`: the built-in simulator on loopback.
    Simulator {
        /// Where it keeps its objects between runs (`$DATA_DIR/stripe-simulator.json`); `None`
        /// keeps them in memory (tests).
        state_file: Option<PathBuf>,
    },
    /// Stripe itself (or anything at `STRIPE_API_BASE` speaking its API).
    Stripe {
        /// `STRIPE_SECRET_KEY`.
        secret_key: Secret,
        /// `STRIPE_WEBHOOK_SECRET` (comma-separated during a rotation).
        webhook_secrets: Vec<Secret>,
        /// `STRIPE_CONNECT_WEBHOOK_SECRET` (comma-separated during a rotation).
        connect_webhook_secrets: Vec<Secret>,
        /// `STRIPE_API_BASE` (default `https://api.stripe.com`).
        api_base: String,
    },
}

/// How patient the Stripe client is.
#[derive(Clone, Copy, Debug)]
pub struct StripeTuning {
    /// Limit of one attempt.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub backoff: Duration,
}

impl Default for StripeTuning {
    fn default() -> Self {
        StripeTuning {
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The background job worker inside `serve`.
#[derive(Clone, Copy, Debug)]
pub struct JobsConfig {
    /// Concurrent workers (0 disables the worker, for instances that only serve HTTP).
    pub workers: usize,
    /// How long an idle worker sleeps before looking again.
    pub poll_interval: Duration,
    /// First retry delay of a failed job (doubles each attempt).
    pub retry_base: Duration,
    /// Attempts before a job is parked as dead.
    pub max_attempts: i32,
    /// How long a claimed job stays its worker's: after a crash, the job runs again once this
    /// has passed (`JOB_LEASE_SECONDS`).
    pub lease: Duration,
    /// How often the job worker recomputes trending scores from the daily counts.
    pub trending_refresh: Duration,
    /// How often the engagement counted in memory is written (at most this much is lost in a
    /// crash; a clean stop writes it all).
    pub engagement_flush: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 2,
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(2),
            max_attempts: 8,
            lease: Duration::from_secs(300),
            trending_refresh: Duration::from_secs(300),
            engagement_flush: Duration::from_secs(1),
        }
    }
}

/// Parses `ALLOWED_RETURN_ORIGINS`: comma-separated origins (`https://shop.example`), each kept as
/// the domain's `url_origin` gives it.
fn return_origins(text: &str) -> anyhow::Result<Vec<String>> {
    text.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            marketplace_domain::site::url_origin(origin)
                .filter(|parsed| parsed.len() == origin.trim_end_matches('/').len())
                .ok_or_else(|| {
                    anyhow!(
                        "ALLOWED_RETURN_ORIGINS must be origins like https://shop.example, got {origin:?}"
                    )
                })
        })
        .collect()
}

/// Who mail comes from unless `MAIL_FROM` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "Home Craft 3D <no-reply@localhost>";

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
    /// Stripe or the simulator.
    pub payments: PaymentsConfig,
    /// Stripe client timeouts and retries.
    pub stripe: StripeTuning,
    /// The job worker.
    pub jobs: JobsConfig,
    /// `SMTP_URL`: the mail server outbox mail is delivered to (unset: mail stays in the outbox).
    pub smtp_url: Option<Secret>,
    /// `MAIL_FROM`: who mail comes from.
    pub mail_from: String,
    /// `ALLOWED_RETURN_ORIGINS`: origins web clients may have buyers sent back to after checkout.
    pub allowed_return_origins: Vec<String>,
    /// `TRUSTED_PROXIES`: our own proxies (CIDR blocks), whose `X-Forwarded-For` names the client.
    pub trusted_proxies: adapter_http::client::TrustedProxies,
    /// `CATALOG_CACHE_MB`: memory for cached public catalogue answers, in bytes (0: no cache).
    pub catalog_cache_bytes: usize,
    /// Commits wait for the server to flush them to disk (always, but for `demo-data`'s sample
    /// data, which a rerun writes again).
    pub durable_commits: bool,
}

/// The catalogue cache's memory when `CATALOG_CACHE_MB` is not set.
pub const DEFAULT_CATALOG_CACHE_MB: usize = 32;

impl Config {
    /// Reads the configuration from environment variables (the README's "Configuration" table).
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
        let data_dir = PathBuf::from(lookup("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database = match lookup("DATABASE_URL") {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    bail!("DATABASE_URL must start with postgres:// or postgresql://");
                }
                DatabaseConfig::Url(url)
            }
            None => DatabaseConfig::Local {
                data_dir: data_dir.join("pg"),
                bin_dir: lookup("PG_BIN_DIR").map(PathBuf::from),
            },
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
        let payments = payments_from(&lookup, &data_dir)?;
        let jobs = JobsConfig {
            workers: match lookup("JOB_WORKERS") {
                None => JobsConfig::default().workers,
                Some(text) => text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= 64)
                    .with_context(|| {
                        format!("JOB_WORKERS must be a number from 0 to 64, got {text:?}")
                    })?,
            },
            lease: match lookup("JOB_LEASE_SECONDS") {
                None => JobsConfig::default().lease,
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=86_400).contains(n))
                    .map(Duration::from_secs)
                    .with_context(|| {
                        format!(
                            "JOB_LEASE_SECONDS must be a number of seconds from 1 to 86400, got {text:?}"
                        )
                    })?,
            },
            ..JobsConfig::default()
        };
        Ok(Config {
            database,
            bind,
            site_base_url,
            db_max_connections,
            log_format,
            payments,
            stripe: StripeTuning::default(),
            jobs,
            smtp_url: lookup("SMTP_URL").map(Secret::new),
            mail_from: lookup("MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
            allowed_return_origins: match lookup("ALLOWED_RETURN_ORIGINS") {
                None => Vec::new(),
                Some(text) => return_origins(&text)?,
            },
            trusted_proxies: match lookup("TRUSTED_PROXIES") {
                None => adapter_http::client::TrustedProxies::default(),
                Some(text) => adapter_http::client::TrustedProxies::parse(&text).map_err(|e| {
                    anyhow!("TRUSTED_PROXIES must be comma-separated CIDR blocks: {e}")
                })?,
            },
            catalog_cache_bytes: match lookup("CATALOG_CACHE_MB") {
                None => DEFAULT_CATALOG_CACHE_MB,
                Some(text) => text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= 4096)
                    .with_context(|| {
                        format!("CATALOG_CACHE_MB must be a number from 0 to 4096, got {text:?}")
                    })?,
            }
            .saturating_mul(1024 * 1024),
            durable_commits: true,
        })
    }

    /// True when payments run against the live Stripe mode (`sk_live_…`/`rk_live_…` keys).
    pub fn stripe_livemode(&self) -> bool {
        match &self.payments {
            PaymentsConfig::Simulator { .. } => false,
            PaymentsConfig::Stripe { secret_key, .. } => {
                let key = secret_key.expose();
                key.starts_with("sk_live_") || key.starts_with("rk_live_")
            }
        }
    }

    /// True when the site is served over HTTPS (cookies are then marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.site_base_url.starts_with("https://")
    }
}

/// Reads the Stripe variables: none → the simulator; a key → Stripe, which then needs both
/// webhook secrets (without them no payment could ever be confirmed).
fn payments_from(
    lookup: &impl Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> anyhow::Result<PaymentsConfig> {
    let Some(secret_key) = lookup("STRIPE_SECRET_KEY").map(|k| k.trim().to_owned()) else {
        for name in [
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_CONNECT_WEBHOOK_SECRET",
            "STRIPE_API_BASE",
        ] {
            if lookup(name).is_some() {
                bail!(
                    "{name} is set but STRIPE_SECRET_KEY is not; set both, or neither to use the simulator"
                );
            }
        }
        return Ok(PaymentsConfig::Simulator {
            state_file: Some(data_dir.join("stripe-simulator.json")),
        });
    };
    if !(secret_key.starts_with("sk_") || secret_key.starts_with("rk_")) {
        bail!("STRIPE_SECRET_KEY must be a secret or restricted key (sk_… or rk_…)");
    }
    let secrets = |name: &str| -> anyhow::Result<Vec<Secret>> {
        let list: Vec<Secret> = lookup(name)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect();
        if list.is_empty() {
            bail!(
                "{name} must be set when STRIPE_SECRET_KEY is set (the endpoint's signing secret, whsec_…)"
            );
        }
        if list.iter().any(|s| !s.expose().starts_with("whsec_")) {
            bail!(
                "{name} must hold signing secrets starting with whsec_ (comma-separated during a rotation)"
            );
        }
        Ok(list)
    };
    let api_base = lookup("STRIPE_API_BASE")
        .unwrap_or_else(|| "https://api.stripe.com".to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned();
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        bail!("STRIPE_API_BASE must start with https:// or http://, got {api_base:?}");
    }
    Ok(PaymentsConfig::Stripe {
        secret_key: Secret::new(secret_key),
        webhook_secrets: secrets("STRIPE_WEBHOOK_SECRET")?,
        connect_webhook_secrets: secrets("STRIPE_CONNECT_WEBHOOK_SECRET")?,
        api_base,
    })
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
        assert!(
            matches!(config.payments, PaymentsConfig::Simulator { state_file: Some(ref f) } if f.ends_with("data/stripe-simulator.json"))
        );
        assert!(!config.stripe_livemode());
    }

    #[test]
    fn a_stripe_key_needs_both_webhook_secrets_and_is_never_printed() {
        let key = ("STRIPE_SECRET_KEY", "sk_live_abc123");
        let message = |vars: &[(&str, &str)]| format!("{:#}", config(vars).unwrap_err());
        assert!(message(&[key]).contains("STRIPE_WEBHOOK_SECRET"));
        assert!(
            message(&[key, ("STRIPE_WEBHOOK_SECRET", "whsec_a")])
                .contains("STRIPE_CONNECT_WEBHOOK_SECRET")
        );
        assert!(message(&[("STRIPE_SECRET_KEY", "pk_test_x")]).contains("sk_"));
        assert!(message(&[("STRIPE_WEBHOOK_SECRET", "whsec_a")]).contains("STRIPE_SECRET_KEY"));
        let config = config(&[
            key,
            ("STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new"),
            ("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_c"),
        ])
        .unwrap();
        assert!(config.stripe_livemode());
        let PaymentsConfig::Stripe {
            ref webhook_secrets,
            ref api_base,
            ..
        } = config.payments
        else {
            panic!("expected Stripe");
        };
        assert_eq!(webhook_secrets.len(), 2);
        assert_eq!(api_base, "https://api.stripe.com");
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk_live_abc123") && !printed.contains("whsec_new"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let message = |vars: &[(&str, &str)]| format!("{:#}", config(vars).unwrap_err());
        assert!(message(&[("BIND", "nope")]).contains("BIND"));
        assert!(message(&[("DATABASE_URL", "mysql://x")]).contains("DATABASE_URL"));
        assert!(message(&[("SITE_BASE_URL", "example.com")]).contains("SITE_BASE_URL"));
        assert!(message(&[("LOG_FORMAT", "xml")]).contains("LOG_FORMAT"));
        assert!(message(&[("DB_MAX_CONNECTIONS", "0")]).contains("DB_MAX_CONNECTIONS"));
        assert!(message(&[("CATALOG_CACHE_MB", "-1")]).contains("CATALOG_CACHE_MB"));
        assert_eq!(
            config(&[("CATALOG_CACHE_MB", "0")])
                .unwrap()
                .catalog_cache_bytes,
            0
        );
        assert!(message(&[("TRUSTED_PROXIES", "10.0.0.0/8,lb")]).contains("TRUSTED_PROXIES"));
        for lease in ["0", "90000", "5m"] {
            assert!(message(&[("JOB_LEASE_SECONDS", lease)]).contains("JOB_LEASE_SECONDS"));
        }
        assert_eq!(
            config(&[("JOB_LEASE_SECONDS", " 7 ")]).unwrap().jobs.lease,
            Duration::from_secs(7)
        );
        assert_eq!(config(&[]).unwrap().jobs.lease, Duration::from_secs(300));
        assert!(
            message(&[("ALLOWED_RETURN_ORIGINS", "https://shop.example/checkout")])
                .contains("ALLOWED_RETURN_ORIGINS")
        );
        let origins = config(&[(
            "ALLOWED_RETURN_ORIGINS",
            "https://Shop.Example, http://localhost:3000/",
        )])
        .unwrap();
        assert_eq!(
            origins.allowed_return_origins,
            ["https://shop.example", "http://localhost:3000"]
        );
        let trusted = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).unwrap();
        assert_ne!(
            trusted.trusted_proxies,
            adapter_http::client::TrustedProxies::default()
        );
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
