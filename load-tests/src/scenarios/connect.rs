//! `connect`: open many visitor WebSockets, hold them, close them.
//!
//! Measures how fast the server accepts them (TCP, upgrade, `auth`,
//! `welcome`; a new visitor who does not write stores nothing) and, with
//! `--server-pid`, how much resident memory each open connection costs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::{next_phase, per_second, spawn_paced, wait_until, Counter, Ctx, Phase};
use crate::cli::{Common, ConnectArgs};
use crate::report::{Measure, Report};
use crate::stats::{CpuWindow, Latency};

/// Memory is read this long after the last connection opened, so that what
/// the server does right after a connection (writing the contact) is done.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Tally {
    open: Counter,
    failed: Counter,
    /// Closed by the server (or broken) while being held.
    dropped: Counter,
    /// When the last attempt finished, on the run's clock.
    last_done_us: std::sync::atomic::AtomicU64,
}

pub(crate) async fn run(common: &Common, args: &ConnectArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    let ctx = Ctx::new(common, args.connections).await?;
    let inbox = ctx
        .api
        .create_inbox(&format!("Load {} connect", ctx.run), &[])
        .await?;
    let tally = Arc::new(Tally::default());
    let latency = Latency::new();
    let n = args.connections;

    // Memory before: the inbox exists, no visitor is connected.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = ctx.server_rss();

    let t = tally.clone();
    ctx.progress.phase("connecting", move || {
        format!("{}/{n} open, {} failed", t.open.get(), t.failed.get())
    });
    let start_us = ctx.clock.now_us();
    let cpu = CpuWindow::start(common.server_pid);
    let mut tasks = JoinSet::new();
    spawn_paced(&mut tasks, n, args.ramp, |i| {
        let dialer = ctx.dialer.clone();
        let handshakes = ctx.handshakes.clone();
        let token = inbox.website_token.clone();
        let tally = tally.clone();
        let mut local = latency.local();
        let errors = ctx.errors.clone();
        let clock = ctx.clock;
        let mut phase = ctx.phase();
        async move {
            let opened = {
                let Ok(_permit) = handshakes.acquire_owned().await else {
                    return;
                };
                let began = Instant::now();
                let opened = dialer.visitor(i, &token).await;
                local.record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
                local.flush();
                opened
            };
            tally
                .last_done_us
                .fetch_max(clock.now_us(), std::sync::atomic::Ordering::Relaxed);
            let mut ws = match opened {
                Ok((ws, _welcome)) => {
                    tally.open.inc();
                    ws
                }
                Err(e) => {
                    tally.failed.inc();
                    errors.add(format!("connect_{}", e.kind), e);
                    return;
                }
            };
            loop {
                tokio::select! {
                    biased;
                    p = next_phase(&mut phase) => if p == Phase::Close {
                        ws.close().await;
                        return;
                    },
                    frame = ws.next_text() => if let Err(ended) = frame {
                        tally.open.dec();
                        tally.dropped.inc();
                        errors.add("dropped", ended);
                        return;
                    },
                }
            }
        }
    })
    .await;
    let attempts_within = Duration::from_secs(120)
        + if args.ramp > 0.0 {
            Duration::from_secs_f64(n as f64 / args.ramp)
        } else {
            Duration::ZERO
        };
    let all_tried = wait_until(attempts_within, || {
        tally.open.get() + tally.failed.get() + tally.dropped.get() >= n as u64
    })
    .await;
    if !all_tried {
        ctx.errors.add(
            "connect_unfinished",
            "some connection attempts had not finished in time",
        );
    }
    let connect_time = Duration::from_micros(
        tally
            .last_done_us
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(start_us),
    )
    .max(Duration::from_micros(1));
    let cpu = cpu.finish();
    let opened = tally.open.get() + tally.dropped.get();
    tracing::info!(
        opened,
        failed = tally.failed.get(),
        ?connect_time,
        "connected"
    );

    tokio::time::sleep(SETTLE).await;
    let rss_after = ctx.server_rss();
    let open_at_rss = tally.open.get();

    let t = tally.clone();
    let hold = common.duration;
    ctx.progress.phase("holding", move || {
        format!("{} open, {} dropped", t.open.get(), t.dropped.get())
    });
    tokio::time::sleep(hold).await;
    let rss_end = ctx.server_rss();
    let open_at_end = tally.open.get();
    ctx.progress.phase("closing", String::new);
    ctx.close(&mut tasks).await;

    let mut report = Report::new(
        "connect",
        format!(
            "{n} visitor connections{}, held {:.1} s",
            if args.ramp > 0.0 {
                format!(" at {} /s", args.ramp)
            } else {
                format!(" ({} handshakes at once)", common.concurrency)
            },
            hold.as_secs_f64()
        ),
    );
    report.count("connections", "connections asked for", n as u64);
    report.count("opened", "connections opened", opened);
    report.count("failed", "connections failed", tally.failed.get());
    report.add(
        "connect_seconds",
        "time to open them",
        Measure::Seconds(connect_time.as_secs_f64()),
    );
    report.rate(
        "connects_per_second",
        "connects",
        per_second(opened, connect_time),
    );
    report.latency(
        "connect_latency",
        "connect latency (TCP to welcome)",
        latency.summary(),
    );
    report.count("dropped", "dropped while held", tally.dropped.get());
    report.count("open_at_end", "open at the end of the hold", open_at_end);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        report.add(
            "server_rss_before",
            "server RSS before",
            Measure::Bytes(before),
        );
        report.add(
            "server_rss_after",
            "server RSS with them open",
            Measure::Bytes(after),
        );
        if let Some(end) = rss_end {
            report.add(
                "server_rss_end",
                "server RSS at the end of the hold",
                Measure::Bytes(end),
            );
        }
        let per = after.saturating_sub(before) / open_at_rss.max(1);
        report.add(
            "bytes_per_connection",
            "server memory per connection",
            Measure::Bytes(per),
        );
    } else {
        report.add(
            "bytes_per_connection",
            "server memory per connection",
            Measure::Text("not measured (give --server-pid)".into()),
        );
    }
    report.cpu(cpu);
    report.count(
        "source_addresses",
        "source addresses",
        ctx.dialer.sources().len() as u64,
    );
    ctx.finish(&mut report);
    Ok(report)
}
