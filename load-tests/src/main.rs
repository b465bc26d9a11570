//! `switchboard-load`: see `load-tests/README.md`.
// The summary table or JSON object on stdout is this program's output;
// logs and the progress line go to stderr.
#![allow(clippy::print_stdout)]

use std::io::IsTerminal;

use clap::Parser;
use switchboard_load::{raise_fd_limit, run, Cli};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,switchboard_load=info")),
        )
        .init();
    let cli = Cli::parse();
    match raise_fd_limit() {
        Ok(limit) => tracing::info!(limit, "open files allowed"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    let report = run(&cli.common, &cli.scenario).await?;
    if cli.common.json {
        println!("{}", serde_json::to_string(&report.to_json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
