//! The `app` binary: parse the command line, read the configuration, run.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: glibc's per-thread arenas kept freed memory from
/// the threads that come and go under load (the app's resident memory tripled during the guest
/// checkout benchmark); mimalloc gives it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = app::cli::Cli::parse();
    let config = match app::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error:#}");
            return ExitCode::from(2);
        }
    };
    app::telemetry::init(config.log_format);
    match app::cli::run(cli, config).await {
        Ok(app::cli::Outcome::Done) => ExitCode::SUCCESS,
        Ok(app::cli::Outcome::Flagged) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            // 1 is `reconcile`'s "something is flagged"; a failure is 2, like bad configuration.
            ExitCode::from(2)
        }
    }
}
