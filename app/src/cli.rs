//! The command line: `serve` (default), `migrate`, `create-owner`, `demo-data`, `payouts retry`,
//! `reconcile`.

use std::io::BufRead;

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand};

use marketplace_domain::ids::OrderId;

use crate::config::{Config, PaymentsConfig};
use crate::demo::{DemoSize, create_demo_data};

/// Home Craft 3D marketplace server.
#[derive(Debug, Parser)]
#[command(name = "app", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an owner account; the password is read from standard input.
    CreateOwner {
        /// Username of the new owner.
        #[arg(long)]
        username: String,
        /// E-mail of the new owner.
        #[arg(long)]
        email: Option<String>,
    },
    /// Fill the database with a deterministic sample marketplace.
    DemoData {
        /// Number of sellers (with ready Stripe Connect accounts).
        #[arg(long, default_value_t = 8)]
        sellers: u32,
        /// Number of listings spread over the sellers.
        #[arg(long, default_value_t = 300)]
        products: u32,
        /// Paid orders guests place through the served app (with payouts, reviews and a few
        /// refunds); each run adds this many.
        #[arg(long, default_value_t = 0)]
        orders: u32,
        /// Views and clicks counted on the newest listings; each run adds this many.
        #[arg(long, default_value_t = 0)]
        engagement: u32,
    },
    /// Payout operations.
    Payouts {
        /// Which one.
        #[command(subcommand)]
        command: PayoutsCommand,
    },
    /// Print the reconciliation report (the orders whose money needs a look, with their flags);
    /// exits 0 when there are none, 1 when there are some.
    Reconcile {
        /// Only orders placed on or after this day (`YYYY-MM-DD`, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only orders with this flag code.
        #[arg(long)]
        flag: Option<String>,
    },
}

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Done,
    /// `reconcile` found flagged orders (exit 1).
    Flagged,
}

/// Payout operations (they queue jobs; the workers of `serve` run them).
#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Put every dead payout and reversal job back in the queue, or with `--order`, queue that
    /// paid order's unpaid payouts.
    Retry {
        /// Only this order (its id).
        #[arg(long)]
        order: Option<uuid::Uuid>,
    },
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command fails with, with context.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<Outcome> {
    // Each command's future lives on the heap: together they are too large for a test thread's
    // stack in debug builds.
    if let Some(Command::Reconcile { since, flag }) = &cli.command {
        return Box::pin(reconcile(config, since.as_deref(), flag.clone())).await;
    }
    Box::pin(run_command(cli, config))
        .await
        .map(|()| Outcome::Done)
}

/// Prints every flagged order, a page at a time, and says whether there were any.
async fn reconcile(
    config: Config,
    since: Option<&str>,
    flag: Option<String>,
) -> anyhow::Result<Outcome> {
    let since = since
        .map(marketplace_domain::validation::parse_day)
        .transpose()
        .map_err(|e| anyhow!("--since {e}"))?;
    let filter = marketplace_ports::ports::ReconFilter {
        flag,
        since,
        ..Default::default()
    };
    let backend = crate::connect_for_command(&config, false).await?;
    let mut number = 1_i64;
    let mut flagged = 0_u64;
    let result = loop {
        let request = marketplace_domain::pagination::PageRequest::parse(Some(number), Some(100))
            .map_err(|e| anyhow!("{e}"));
        let page = match request {
            Ok(request) => backend
                .services
                .books
                .operator_report(&filter, request)
                .await
                .map_err(|e| anyhow!("cannot read the reconciliation report: {e}")),
            Err(e) => Err(e),
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => break Err(e),
        };
        for order in &page.items {
            flagged = flagged.saturating_add(1);
            println!(
                "{} {} {} {}",
                order.order_id, order.status, order.total, order.currency
            );
            for flag in &order.flags {
                println!("  {}: {}", flag.code, flag.detail);
            }
        }
        if page.items.is_empty() || u64::try_from(number * 100).unwrap_or(u64::MAX) >= page.total {
            break Ok(());
        }
        number = number.saturating_add(1);
    };
    backend.shutdown().await;
    result?;
    if flagged == 0 {
        println!("no flagged orders");
        Ok(Outcome::Done)
    } else {
        println!("{flagged} flagged order(s)");
        Ok(Outcome::Flagged)
    }
}

async fn run_command(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            let backend = crate::connect_for_command(&config, false).await?;
            backend.shutdown().await;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateOwner { username, email } => {
            let password = read_password()?;
            let backend = crate::connect_for_command(&config, false).await?;
            let created = backend
                .services
                .registration
                .create_owner(&username, email.as_deref(), &password)
                .await;
            backend.shutdown().await;
            let owner = created.map_err(|e| anyhow!("cannot create the owner: {e}"))?;
            println!("owner {} created (id {})", owner.username, owner.id);
            Ok(())
        }
        Command::DemoData {
            sellers,
            products,
            orders,
            engagement,
        } => {
            if sellers == 0 || sellers > 1_000 || products > 100_000 {
                bail!("--sellers must be 1..=1000 and --products at most 100000");
            }
            if orders > 1_000_000 || engagement > 10_000_000 {
                bail!("--orders must be at most 1000000 and --engagement at most 10000000");
            }
            if !matches!(config.payments, PaymentsConfig::Simulator { .. }) {
                bail!(
                    "demo-data onboards its sellers on the Stripe simulator; run it without STRIPE_SECRET_KEY"
                );
            }
            // Sample data: commits need not wait for the disk (a server crash loses at most its
            // last moments, and a rerun seeds the sellers it does not find).
            let config = crate::Config {
                durable_commits: false,
                ..config
            };
            let backend = crate::connect_for_command(&config, true).await?;
            let simulator = backend
                .simulator()
                .context("the Stripe simulator did not start")?;
            let result = create_demo_data(
                &backend.services,
                &backend.queries(),
                simulator,
                DemoSize { sellers, products },
            )
            .await;
            backend.shutdown().await;
            let mut summary = result?;
            if orders > 0 || engagement > 0 {
                summary.push_str(
                    &crate::demo_history::create_demo_history(
                        config,
                        crate::demo_history::HistorySize { orders, engagement },
                    )
                    .await?,
                );
            }
            print!("{summary}");
            Ok(())
        }
        Command::Payouts {
            command: PayoutsCommand::Retry { order },
        } => {
            let backend = crate::connect_for_command(&config, false).await?;
            let queued = backend
                .services
                .payout_admin
                .operator_retry_payouts(order.map(OrderId::from_uuid))
                .await;
            backend.shutdown().await;
            let queued = queued.map_err(|e| anyhow!("cannot retry payouts: {e}"))?;
            match order {
                Some(order) => println!("{queued} payout(s) of order {order} queued"),
                None => println!("{queued} dead payout or reversal job(s) queued again"),
            }
            println!("the workers of `app serve` run them");
            Ok(())
        }
        Command::Reconcile { .. } => Ok(()),
    }
}

/// One line from standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    eprint!("Password for the new owner: ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(password)
}
