//! switchboard-load: a load generator for the switchboard server.
//!
//! It drives a running server the way widgets and agent consoles do, over
//! `/ws/widget`, `/ws/agent` and the REST API, and measures what users would
//! feel: connects per second, message latency both ways, deliveries per
//! second, assignments per second, memory per connection, and whether any
//! acknowledged message was lost; and, with `compare`, how switchboard's
//! delivered messages per second measure up to a bare relay's ([`relay`]),
//! the physical limit on the same machine. See `load-tests/README.md`.
//!
//! The binary is a thin shell over [`run`], so tests call the scenarios
//! directly with the same options the command line takes.
#![forbid(unsafe_code)]

pub mod cli;
pub mod relay;
pub mod report;

mod api;
mod ledger;
mod net;
mod progress;
mod scenarios;
mod stats;

use std::time::Duration;

use anyhow::Context;

pub use cli::{Cli, Common, Scenario};
pub use ledger::Audit;
pub use report::{Measure, Report};
pub use stats::{ErrorKind, Summary};

/// Time a run may take beyond `--duration` and `--drain` (setting up
/// thousands of connections, reading the database back) before it is
/// stopped: the load generator always ends by itself.
const OVERHEAD_BUDGET: Duration = Duration::from_secs(20 * 60);

/// Runs one scenario against the server (or the nodes) in `common.urls`.
pub async fn run(common: &Common, scenario: &Scenario) -> anyhow::Result<Report> {
    // `compare` runs the load twice, against the relay and against the server.
    let halves = if matches!(scenario, Scenario::Compare(_)) {
        2
    } else {
        1
    };
    let budget = (common.duration + common.drain) * halves + OVERHEAD_BUDGET;
    let work = async {
        match scenario {
            Scenario::Connect(args) => scenarios::connect::run(common, args).await,
            Scenario::Chat(args) => scenarios::chat::run(common, args).await,
            Scenario::Fanout(args) => scenarios::fanout::run(common, args).await,
            Scenario::Assign(args) => scenarios::assign::run(common, args).await,
            Scenario::Soak(args) => scenarios::chat::soak(common, &args.chat, args.interval).await,
            Scenario::Failover(args) => scenarios::failover::run(common, args).await,
            Scenario::Compare(args) => scenarios::compare::run(common, args).await,
            Scenario::Relay(_) => anyhow::bail!(
                "the relay is a server, not a scenario: run `switchboard-load relay` \
                 as its own process, or relay::start in-process"
            ),
        }
    };
    tokio::time::timeout(budget, work)
        .await
        .with_context(|| {
            format!(
                "{} did not finish within {budget:?}; stopped",
                scenario.name()
            )
        })?
        .with_context(|| format!("{} failed", scenario.name()))
}

/// Raises this process's open-file limit to its hard limit (every
/// WebSocket is a file descriptor). Returns the limit now in force.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}
