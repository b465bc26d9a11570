//! `compare`: the physical limit, side by side.
//!
//! The same chat load runs against a bare relay (`switchboard-load relay`:
//! frames from a visitor socket to an agent socket and back, nothing else)
//! and then against switchboard, and the report puts the two side by side
//! with the ratio of delivered messages per second, switchboard / relay.
//! The ratio, not either absolute figure, is what is tracked: both halves
//! run on the same machine with the same load generator, so most of what
//! the machine and the load generator cost cancels out.
//!
//! The relay half runs first (its sockets' TIME_WAIT leftovers are towards
//! another port), against a relay this command starts as a child process
//! unless `--relay` names one already running.

mod half;
mod pace;
mod relay_half;
mod switchboard_half;
mod table;

use std::time::Duration;

use crate::api::{check_rate, Api};
use crate::cli::{Common, CompareArgs, SERVER_FRAMES_PER_SECOND};
use crate::relay::RelayChild;
use crate::report::Report;
use pace::Mode;

/// What the issue asks of switchboard: at least this share of the bare
/// relay's delivered messages per second, with persistence on.
pub(crate) const TARGET_RATIO: f64 = 0.6;

pub(crate) async fn run(common: &Common, args: &CompareArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.conversations > 0, "--conversations must be at least 1");
    anyhow::ensure!(args.agents > 0, "--agents must be at least 1 (they answer)");
    let mode = match args.rate {
        Some(rate) => {
            check_rate(rate)?;
            Mode::Open {
                period: Duration::from_secs_f64(1.0 / rate),
            }
        }
        None => {
            anyhow::ensure!(args.window > 0, "--window must be at least 1");
            let limit = SERVER_FRAMES_PER_SECOND * 0.75;
            anyhow::ensure!(
                args.max_rate > 0.0 && args.max_rate <= limit,
                "--max-rate must be above 0 and at most {limit}: switchboard refuses more \
                 than {SERVER_FRAMES_PER_SECOND} frames a second per connection"
            );
            Mode::Closed {
                window: args.window,
                gap: Duration::from_secs_f64(1.0 / args.max_rate),
            }
        }
    };
    // Most messages one visitor can send in the measured phase.
    let per_second = args.rate.unwrap_or(args.max_rate);
    let capacity = (common.duration.as_secs_f64() * per_second).ceil() as usize + 2;

    // The server and the token are checked before the relay half runs.
    let api = Api::new(common)?;
    api.check().await?;

    let (url, child) = match &args.relay {
        Some(addr) => (format!("http://{addr}"), None),
        None => {
            let child = RelayChild::spawn().await?;
            (format!("http://{}", child.addr), Some(child))
        }
    };
    let pid = child.as_ref().and_then(RelayChild::pid);
    let relay = relay_half::run(common, args, api, &url, pid, mode, capacity).await;
    if let Some(child) = child {
        child.stop().await;
    }
    let relay = relay?;
    tracing::info!(
        delivered_per_second = relay.number("delivered_per_second"),
        "relay half done"
    );
    let switchboard = switchboard_half::run(common, args, mode, capacity).await?;
    Ok(table::combine(common, args, relay, switchboard))
}
