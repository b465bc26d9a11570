//! `failover`: `chat`'s load spread over every `--url` (the nodes of a
//! cluster) while one node is killed, to see what clients go through when
//! the accounts it owned move to another node.
//!
//! Clients reconnect to the next URL and resume by cursor (or reload after
//! `resync`), and retry their writes with the same `echo_id` (see
//! `chat/visitor.rs`, `chat/agent.rs`); the ledger then says whether any
//! acknowledged message was lost, as in `chat`.
//!
//! **Time to recover**: from the kill (just before the signal is sent) to
//! the moment every affected client has written successfully again. A
//! client is a visitor or an agent; it is *affected* when one of its
//! writes failed at or after the kill (refused, unanswered, or its socket
//! dropped, or a reconnection failed); it has *recovered* at its first
//! acknowledged write (visitor `ack`, agent 2xx) after its last failure.
//! The figure is the latest of those moments minus the kill: 0 when no
//! client was affected, none (`not recovered`) while some affected client
//! never wrote successfully again before the run ended (drain included).
//! Its resolution is the clients' write interval (`1 / --rate` for a
//! visitor; an agent writes when a visitor's message reaches it).

use std::time::{Duration, Instant};

use serde_json::json;

use super::chat::{self, Mode, Recovery};
use crate::cli::{Common, FailoverArgs, KillArgs};
use crate::report::{Measure, Report};
use crate::stats::{Clock, Errors};

pub(crate) async fn run(common: &Common, args: &FailoverArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.kill.kill_after < common.duration,
        "--kill-after ({:?}) must come before the end of --duration ({:?})",
        args.kill.kill_after,
        common.duration
    );
    anyhow::ensure!(
        args.kill.kill_pid != std::process::id(),
        "--kill-pid is this process"
    );
    chat::run_with(common, &args.chat, Mode::Failover(&args.kill)).await
}

/// What the kill did.
pub(crate) struct Killed {
    pid: u32,
    signal: &'static str,
    /// When, on the run's clock.
    at_us: u64,
    /// When, from the start of the measured phase.
    after: Duration,
    /// Why the signal could not be sent.
    failed: Option<String>,
}

/// Waits until `kill_after` into the measured phase that started `at`,
/// kills the node, and waits for the end of the phase.
pub(crate) async fn kill_during(
    kill: &KillArgs,
    at: Instant,
    duration: Duration,
    clock: Clock,
) -> Killed {
    tokio::time::sleep_until((at + kill.kill_after).into()).await;
    let at_us = clock.now_us();
    let after = at.elapsed();
    let signal = kill.signal.name();
    let failed = send(kill.kill_pid, signal).await.err();
    match &failed {
        None => tracing::info!(pid = kill.kill_pid, signal, "node killed"),
        Some(e) => tracing::error!(pid = kill.kill_pid, signal, error = %e, "cannot kill the node"),
    }
    tokio::time::sleep_until((at + duration).into()).await;
    Killed {
        pid: kill.kill_pid,
        signal,
        at_us,
        after,
        failed,
    }
}

/// Sends `signal` with kill(1): the crate has no unsafe code to call
/// kill(2) itself.
async fn send(pid: u32, signal: &str) -> Result<(), String> {
    let out = tokio::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The failover figures, after `chat`'s.
pub(crate) fn report(
    report: &mut Report,
    killed: &Killed,
    recovery: &Recovery,
    retried: &Errors,
    errors: &Errors,
) {
    if let Some(e) = &killed.failed {
        errors.add("kill_failed", e);
    }
    report.add(
        "killed",
        "node killed",
        Measure::Text(format!(
            "pid {} with SIG{}{}",
            killed.pid,
            killed.signal,
            if killed.failed.is_some() {
                " (failed, see errors)"
            } else {
                ""
            }
        )),
    );
    report.add(
        "kill_at_s",
        "killed, from the start of the measured phase",
        Measure::Seconds(killed.after.as_secs_f64()),
    );
    let r = recovery.since(killed.at_us);
    report.count(
        "affected_clients",
        "clients whose writes failed after the kill",
        r.affected,
    );
    report.count(
        "unrecovered_clients",
        "of those, never writing again",
        r.unrecovered,
    );
    match r.seconds {
        Some(s) => report.add(
            "recovery_s",
            "time to recover (kill -> every affected client writes again)",
            Measure::Seconds(s),
        ),
        None => report.add(
            "recovery",
            "time to recover",
            Measure::Text(format!(
                "not recovered: {} of {} affected clients never wrote again",
                r.unrecovered, r.affected
            )),
        ),
    }
    report.count(
        "retry_attempts",
        "failed write attempts retried",
        retried.total(),
    );
    let kinds = retried.snapshot();
    let lines = kinds
        .iter()
        .map(|(kind, e)| format!("{kind}: {} (e.g. {})", e.count, e.example))
        .collect();
    report.add(
        "retried_kinds",
        "retried after",
        Measure::Table {
            json: json!(kinds),
            lines,
        },
    );
    report.add(
        "cap_violations",
        "agents over their cap",
        Measure::Text(
            "not measured (chat's inbox has no practical cap; no scenario compares \
             agents' open conversations with a cap)"
                .into(),
        ),
    );
}
