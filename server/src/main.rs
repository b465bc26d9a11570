//! `switchboard`: see `switchboard --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use switchboard_server::cli::{run, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    switchboard_server::logging::init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
