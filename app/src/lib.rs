//! # app
//!
//! The marketplace binary's library half: configuration ([`config`]), wiring of the adapters into
//! the use cases ([`connect`]), and the HTTP server ([`build`] → [`Application`]). The end-to-end
//! tests boot the real thing through [`build`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use adapter_http::HttpConfig;
use adapter_postgres::local::LocalServer;
use adapter_postgres::{PgStore, ensure_database};
use anyhow::{Context, anyhow};
use marketplace_ports::ports::SystemClock;
use marketplace_ports::use_cases::{Deps, Services};
use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Response, Server};

pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
mod png;
pub mod telemetry;

pub use config::{Config, DatabaseConfig};

/// Name of the database the app uses on its private server.
const LOCAL_DATABASE: &str = "marketplace";

/// The database connection, the use cases built on it, and the private server if we run one.
pub struct Backend {
    /// Every use case.
    pub services: Services,
    store: PgStore,
    local_server: Option<LocalServer>,
}

/// Connects to (or starts) the database, applies migrations and builds the use cases.
///
/// # Errors
/// A message saying which step failed and why.
pub async fn connect(config: &Config) -> anyhow::Result<Backend> {
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
    let store = PgStore::connect(options, config.db_max_connections)
        .await
        .map_err(|e| anyhow!(e))
        .context("connecting to PostgreSQL")?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow!(e))
        .context("applying database migrations")?;
    let deps = Deps {
        uow: Arc::new(store.clone()),
        queries: Arc::new(store.clone()),
        clock: Arc::new(SystemClock),
        crypto: Arc::new(crypto::Argon2Crypto),
    };
    Ok(Backend {
        services: Services::new(deps),
        store,
        local_server,
    })
}

impl Backend {
    /// Closes the pool and stops the private server if we started it.
    pub async fn shutdown(self) {
        self.store.close().await;
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
}

/// Connects the backend and binds the HTTP listener (port 0 picks a free port).
///
/// # Errors
/// When the database or the listener cannot be set up.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let backend = connect(&config).await?;
    let http = HttpConfig {
        secure_cookies: config.is_https(),
        ..HttpConfig::default()
    };
    let endpoint = adapter_http::routes(backend.services.clone(), http).boxed();
    let acceptor = TcpListener::bind(config.bind)
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let address = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("reading the listening address")?;
    Ok(Application {
        backend,
        acceptor,
        address,
        endpoint,
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

    /// Serves until `shutdown` resolves, then finishes in-flight requests (up to 30 s), closes the
    /// pool and stops the private database server.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "serving the marketplace API (docs at /api/docs)");
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.endpoint, shutdown, Some(Duration::from_secs(30)))
            .await;
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
