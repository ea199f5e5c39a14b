//! # app
//!
//! The marketplace binary's library half: configuration ([`config`]), wiring of the adapters into
//! the use cases ([`connect`]), payments ([`start_payments`]: Stripe or the simulator), and the
//! HTTP server with its job workers ([`build`] → [`Application`]). The end-to-end tests boot the
//! real thing through [`build`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use adapter_http::HttpConfig;
use adapter_http::cache::CatalogCaching;
use adapter_http::mail::MarketplaceMail;
use adapter_postgres::local::LocalServer;
use adapter_postgres::{PgStore, ensure_database};
use adapter_stripe::{ClientConfig, StripeClient, StripeWebhooks};
use anyhow::{Context, anyhow};
pub use marketplace_ports::ports::OffsetClock;
use marketplace_ports::ports::{
    CatalogVersion, MailSender, PaymentGateway, Queries, StoreError, WebhookVerifier,
};
use marketplace_ports::use_cases::discovery::{Engagement, EngagementBuffer};
use marketplace_ports::use_cases::jobs::JobRun;
use marketplace_ports::use_cases::mail_delivery::DeliveryRun;
use marketplace_ports::use_cases::{Deps, Services, Settings};
use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Response, Server};
use stripe_simulator::{Simulator, SimulatorConfig};
use tokio::sync::{Notify, watch};

pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod demo_history;
pub mod png;
pub mod telemetry;

pub use config::{Config, DatabaseConfig, JobsConfig, PaymentsConfig, StripeTuning};

/// Name of the database the app uses on its private server.
const LOCAL_DATABASE: &str = "marketplace";

/// The payment side of the wiring: the gateway the use cases call, the webhook verifier, and the
/// simulator when we run one (it stops when this is dropped).
pub struct Payments {
    gateway: Arc<dyn PaymentGateway>,
    webhooks: Arc<dyn WebhookVerifier>,
    simulator: Option<Simulator>,
}

/// Connects to Stripe, or starts the simulator when no key is configured. `app_address` is where
/// the app listens: the simulator sends its webhooks there.
///
/// # Errors
/// When the client cannot be built or the simulator cannot listen.
pub async fn start_payments(config: &Config, app_address: SocketAddr) -> anyhow::Result<Payments> {
    let tuning = |base_url: &str, key: &str| ClientConfig {
        timeout: config.stripe.timeout,
        max_retries: config.stripe.max_retries,
        backoff: config.stripe.backoff,
        ..ClientConfig::new(base_url, key)
    };
    match &config.payments {
        PaymentsConfig::Stripe {
            secret_key,
            webhook_secrets,
            connect_webhook_secrets,
            api_base,
        } => {
            let client = StripeClient::new(tuning(api_base, secret_key.expose()))
                .map_err(|e| anyhow!("building the Stripe client: {e}"))?;
            let reveal =
                |list: &[config::Secret]| list.iter().map(|s| s.expose().to_owned()).collect();
            Ok(Payments {
                gateway: Arc::new(client),
                webhooks: Arc::new(StripeWebhooks::new(
                    reveal(webhook_secrets),
                    reveal(connect_webhook_secrets),
                )),
                simulator: None,
            })
        }
        PaymentsConfig::Simulator { state_file } => {
            let host = match app_address.ip() {
                ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                ip => ip,
            };
            let app_url = format!("http://{}", SocketAddr::new(host, app_address.port()));
            let simulator = Simulator::start(SimulatorConfig {
                bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                payments_webhook_url: format!("{app_url}/webhooks/stripe"),
                connect_webhook_url: format!("{app_url}/webhooks/stripe/connect"),
                state_file: state_file.clone(),
            })
            .await
            .context("starting the Stripe simulator")?;
            let client = StripeClient::new(tuning(&simulator.base_url, &simulator.secret_key))
                .map_err(|e| anyhow!("building the Stripe client: {e}"))?;
            Ok(Payments {
                gateway: Arc::new(client),
                webhooks: Arc::new(StripeWebhooks::new(
                    vec![simulator.webhook_secret.clone()],
                    vec![simulator.connect_webhook_secret.clone()],
                )),
                simulator: Some(simulator),
            })
        }
    }
}

/// The database connection, the use cases built on it, the private server if we run one, and the
/// payment simulator if we run one.
pub struct Backend {
    /// Every use case.
    pub services: Services,
    clock: OffsetClock,
    store: PgStore,
    local_server: Option<LocalServer>,
    simulator: Option<Simulator>,
    /// Moved by every committed catalogue change (see `adapter_http::cache`).
    catalog: CatalogVersion,
    /// Woken when a job or an outbox mail is queued, by any instance.
    work_queued: Arc<Notify>,
}

/// Connects to (or starts) the database, applies migrations and builds the use cases over
/// `payments`.
///
/// # Errors
/// A message saying which step failed and why.
pub async fn connect(config: &Config, payments: Payments) -> anyhow::Result<Backend> {
    let (options, local_server) = match &config.database {
        DatabaseConfig::Url(url) => (
            PgStore::options_from_url(url).map_err(|e| anyhow!(e))?,
            None,
        ),
        DatabaseConfig::Options(options) => ((**options).clone(), None),
        DatabaseConfig::Local { data_dir, bin_dir } => {
            let (data_dir, bin_dir) = (data_dir.clone(), bin_dir.clone());
            let server = tokio::task::spawn_blocking(move || {
                LocalServer::start(&data_dir, bin_dir.as_deref())
            })
            .await
            .context("starting the private PostgreSQL server")??;
            let options = server.connect_options(LOCAL_DATABASE);
            ensure_database(&options, LOCAL_DATABASE)
                .await
                .map_err(|e| anyhow!(e))
                .context("creating the marketplace database")?;
            (options, Some(server))
        }
    };
    let catalog = CatalogVersion::default();
    let options = if config.durable_commits {
        options
    } else {
        options.options([("synchronous_commit", "off")])
    };
    let mut store = PgStore::connect(options, config.db_max_connections)
        .await
        .map_err(|e| anyhow!(e))
        .context("connecting to PostgreSQL")?;
    if config.catalog_cache_bytes > 0 {
        store = store.with_catalog_version(catalog.clone());
    }
    store
        .migrate()
        .await
        .map_err(|e| anyhow!(e))
        .context("applying database migrations")?;
    let settings = Settings {
        stripe_livemode: config.stripe_livemode(),
        job_retry_base: time::Duration::try_from(config.jobs.retry_base)
            .context("the job retry delay is too long")?,
        job_max_attempts: config.jobs.max_attempts,
        job_lease: time::Duration::try_from(config.jobs.lease)
            .context("the job lease is too long")?,
        allowed_return_origins: config.allowed_return_origins.clone(),
        ..Settings::default()
    };
    let clock = OffsetClock::default();
    let mail_sender: Option<Arc<dyn MailSender>> = match &config.smtp_url {
        Some(url) => Some(Arc::new(
            adapter_smtp::SmtpSender::new(url.expose(), &config.mail_from)
                .map_err(|e| anyhow!(e))?,
        )),
        None => None,
    };
    let deps = Deps {
        uow: Arc::new(store.clone()),
        queries: store.queries(),
        clock: Arc::new(clock.clone()),
        crypto: Arc::new(crypto::Argon2Crypto),
        payments: payments.gateway,
        webhooks: payments.webhooks,
        links: Arc::new(adapter_web::links::SiteLinks::new(&config.site_base_url)),
        mail: Arc::new(MarketplaceMail),
        settings,
        engagement: EngagementBuffer::default(),
        mail_sender,
    };
    Ok(Backend {
        services: Services::new(deps),
        clock,
        store,
        local_server,
        simulator: payments.simulator,
        catalog,
        work_queued: Arc::new(Notify::new()),
    })
}

/// Connects for a one-off command (no HTTP server). Payments go to Stripe or to a simulator that
/// lives as long as the command: with `uses_payments` it works on the simulator's saved objects
/// (which a running `serve` holds, so the command then asks to stop it first); without, it stays in
/// memory so commands like `create-owner` run beside a serving app.
///
/// # Errors
/// As [`connect`].
pub async fn connect_for_command(config: &Config, uses_payments: bool) -> anyhow::Result<Backend> {
    // No HTTP server, so no catalogue cache to keep fresh (a serving instance hears the
    // command's changes through the database).
    let config = &Config {
        catalog_cache_bytes: 0,
        ..config.clone()
    };
    let payments = if uses_payments {
        start_payments(config, config.bind).await?
    } else {
        let mut config = config.clone();
        if let PaymentsConfig::Simulator { state_file } = &mut config.payments {
            *state_file = None;
        }
        start_payments(&config, config.bind).await?
    };
    connect(config, payments).await
}

impl Backend {
    /// Every feature's read queries (for commands that look things up).
    pub fn queries(&self) -> Queries {
        self.store.queries()
    }

    /// The simulator's base URL, when payments are simulated.
    pub fn simulator_url(&self) -> Option<&str> {
        self.simulator.as_ref().map(|s| s.base_url.as_str())
    }

    /// The simulator, when payments are simulated.
    pub fn simulator(&self) -> Option<&Simulator> {
        self.simulator.as_ref()
    }

    /// Closes the pool and stops the private server if we started it.
    pub async fn shutdown(self) {
        self.store.close().await;
        drop(self.simulator);
        if let Some(server) = self.local_server {
            match tokio::task::spawn_blocking(move || server.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "stopping the private PostgreSQL server failed")
                }
                Err(error) => {
                    tracing::error!(%error, "stopping the private PostgreSQL server panicked")
                }
            }
        }
    }
}

/// A built application: listening, not yet serving.
pub struct Application {
    backend: Backend,
    acceptor: TcpAcceptor,
    address: SocketAddr,
    endpoint: BoxEndpoint<'static, Response>,
    jobs: JobsConfig,
    /// A mail server is configured: a worker delivers the outbox.
    mail_delivery: bool,
}

/// Binds the HTTP listener (port 0 picks a free port), starts payments (the simulator needs the
/// app's address for its webhooks) and connects the backend.
///
/// # Errors
/// When the listener, payments or the database cannot be set up.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let acceptor = TcpListener::bind(config.bind)
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let address = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("reading the listening address")?;
    let payments = start_payments(&config, address).await?;
    let backend = connect(&config, payments).await?;
    let http = HttpConfig {
        secure_cookies: config.is_https(),
        trusted_proxies: config.trusted_proxies.clone(),
        catalog_caching: CatalogCaching {
            version: backend.catalog.clone(),
            budget_bytes: config.catalog_cache_bytes,
        },
        ..HttpConfig::default()
    };
    let web = adapter_web::WebConfig {
        secure_cookies: http.secure_cookies,
        currency: http.currency,
        catalog_caching: http.catalog_caching.clone(),
        ..adapter_web::WebConfig::default()
    };
    let trusted_proxies = http.trusted_proxies.clone();
    let api = adapter_http::routes(backend.services.clone(), http);
    let endpoint = adapter_web::routes(backend.services.clone(), web, trusted_proxies, api).boxed();
    Ok(Application {
        backend,
        acceptor,
        address,
        endpoint,
        jobs: config.jobs,
        mail_delivery: config.smtp_url.is_some(),
    })
}

impl Application {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The use cases (for CLI commands and tests that need to arrange state).
    pub fn services(&self) -> &Services {
        &self.backend.services
    }

    /// Every feature's read queries (for commands that look things up).
    pub fn queries(&self) -> Queries {
        self.backend.queries()
    }

    /// The clock the use cases read (end-to-end tests move it forward).
    pub fn clock(&self) -> OffsetClock {
        self.backend.clock.clone()
    }

    /// The simulator's base URL, when payments are simulated.
    pub fn simulator_url(&self) -> Option<&str> {
        self.backend.simulator_url()
    }

    /// The simulator (its URL and webhook secrets), when payments are simulated.
    pub fn simulator(&self) -> Option<&Simulator> {
        self.backend.simulator()
    }

    /// Serves HTTP and runs the job workers until `shutdown` resolves, then finishes in-flight
    /// requests (up to 30 s) and running jobs, closes the pool and stops the private database
    /// server.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "serving the marketplace API (docs at /api/docs)");
        if let Some(url) = self.simulator_url() {
            tracing::warn!(%url, "payments are SIMULATED: pay on the simulator's checkout page, no real money moves");
        }
        let (stop, stopped) = watch::channel(false);
        let changes = tokio::spawn(self.backend.store.follow_changes(
            self.backend.catalog.clone(),
            self.backend.work_queued.clone(),
        ));
        let waking = Waking {
            poll: self.jobs.poll_interval,
            work_queued: self.backend.work_queued.clone(),
            stop: stopped.clone(),
        };
        let mut workers: Vec<_> = (0..self.jobs.workers)
            .map(|_| {
                let jobs = self.backend.services.jobs.clone();
                tokio::spawn(work(
                    "job queue",
                    move || {
                        let jobs = jobs.clone();
                        async move { Ok(!matches!(jobs.run_next().await?, JobRun::Idle)) }
                    },
                    waking.clone(),
                ))
            })
            .collect();
        if self.mail_delivery && self.jobs.workers > 0 {
            let mail = self.backend.services.mail_delivery.clone();
            workers.push(tokio::spawn(work(
                "mail outbox",
                move || {
                    let mail = mail.clone();
                    async move { Ok(mail.deliver_next().await? != DeliveryRun::Idle) }
                },
                waking.clone(),
            )));
        }
        let refresh = (self.jobs.workers > 0).then_some(self.jobs.trending_refresh);
        let counting = tokio::spawn(count_engagement(
            self.backend.services.engagement.clone(),
            self.jobs.engagement_flush,
            refresh,
            stopped.clone(),
        ));
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(Duration::from_secs(30)))
            .await;
        // Jobs finish what they are doing (they never stop halfway through a Stripe call), and
        // the engagement counted since the last batch is written.
        let _ = stop.send(true);
        for worker in workers {
            if let Err(error) = worker.await {
                tracing::error!(%error, "a job worker panicked");
            }
        }
        if let Err(error) = counting.await {
            tracing::error!(%error, "the engagement writer panicked");
        }
        changes.abort();
        self.backend.shutdown().await;
        served.context("serving HTTP")
    }

    /// Serves until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// When an idle worker looks again: at once when work is announced (a job or mail queued by any
/// instance), else after `poll` (the fallback for delayed retries and a lost change feed).
#[derive(Clone)]
struct Waking {
    poll: Duration,
    work_queued: Arc<Notify>,
    stop: watch::Receiver<bool>,
}

/// One worker: runs `step` again at once while it finds work; when it finds none it waits for an
/// announcement of new work or `poll` (four times that after a storage failure), and stops
/// between steps once told to.
async fn work<F, Fut>(what: &'static str, step: F, waking: Waking)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool, StoreError>>,
{
    let Waking {
        poll,
        work_queued,
        mut stop,
    } = waking;
    loop {
        if *stop.borrow() {
            return;
        }
        // Registered before looking, so work announced while this worker looks is not missed.
        let announced = work_queued.notified();
        tokio::pin!(announced);
        announced.as_mut().enable();
        let pause = match step().await {
            Ok(false) => poll,
            Ok(true) => continue,
            Err(error) => {
                tracing::error!(%error, "the {what} cannot be read; waiting");
                poll.saturating_mul(4)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = &mut announced => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Writes the engagement tally every `every` (a crash loses at most that much) and once more on
/// stop; with `refresh`, also recomputes trending scores at start and then at that interval.
async fn count_engagement(
    engagement: Engagement,
    every: Duration,
    refresh: Option<Duration>,
    mut stop: watch::Receiver<bool>,
) {
    let mut flush = tokio::time::interval(every);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut trending = refresh.map(tokio::time::interval);
    loop {
        if *stop.borrow() {
            break;
        }
        let refresh_due = async {
            match trending.as_mut() {
                Some(interval) => {
                    interval.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = flush.tick() => {
                if let Err(error) = engagement.flush().await {
                    tracing::warn!(%error, "writing engagement counts failed; kept for the next batch");
                }
            }
            () = refresh_due => {
                if let Err(error) = engagement.refresh_trending().await {
                    tracing::warn!(%error, "refreshing trending scores failed; retried at the next interval");
                }
            }
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    if let Err(error) = engagement.flush().await {
        tracing::error!(%error, "writing the last engagement counts failed: they are lost");
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
