//! `switchboard-load`: see `load-tests/README.md`.
// The summary table or JSON object on stdout is this program's output;
// logs and the progress line go to stderr.
#![allow(clippy::print_stdout)]

use std::io::{IsTerminal, Write};

use clap::Parser;
use switchboard_load::cli::RelayArgs;
use switchboard_load::{raise_fd_limit, relay, run, Cli, Scenario};
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
    if let Scenario::Relay(args) = &cli.scenario {
        return relay_process(args).await;
    }
    let report = run(&cli.common, &cli.scenario).await?;
    if cli.common.json {
        println!("{}", serde_json::to_string(&report.to_json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// `switchboard-load relay`: prints the address it bound as the first line
/// on stdout (how `compare` learns a port it let the kernel pick), then
/// relays until SIGINT, SIGTERM or, when asked, the end of stdin.
async fn relay_process(args: &RelayArgs) -> anyhow::Result<()> {
    let listener = relay::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{addr}")?;
    stdout.flush()?;
    tracing::info!(%addr, "relay listening");
    relay::serve(listener, relay::shutdown_signal(args.stop_on_stdin_eof)).await?;
    // Reading stdin blocks a thread that the runtime would wait for.
    std::process::exit(0)
}
