//! The `vigie` command: parses the command line, sets up the log, and runs
//! the command the library names (`vigie::run`). It uses the library only.

use clap::Parser;
use tracing_subscriber::EnvFilter;

// A GraphQL answer allocates many small values and frees them together;
// mimalloc serves that pattern faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = vigie::config::Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        vigie::config::LogFormat::Text => log.init(),
        vigie::config::LogFormat::Json => log.json().flatten_event(true).init(),
    }
    match vigie::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
