//! `soak`: `chat` for a long time, with latency, deliveries and the
//! server's memory reported per interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Shared;
use crate::report::{Measure, Report};
use crate::scenarios::{per_second, Ctx};
use crate::stats::round3;

/// One interval of a soak run.
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct Interval {
    end_s: f64,
    visitor_to_agent_p50_ms: f64,
    visitor_to_agent_p99_ms: f64,
    agent_to_visitor_p50_ms: f64,
    agent_to_visitor_p99_ms: f64,
    deliveries_per_second: f64,
    messages_per_second: f64,
    server_rss: Option<u64>,
}

/// Measures until `at + duration`, one [`Interval`] every `every`.
pub(super) async fn measure(
    ctx: &Ctx,
    shared: &Arc<Shared>,
    at: Instant,
    every: Duration,
) -> Vec<Interval> {
    let mut intervals = Vec::new();
    let end = at + ctx.common.duration;
    let mut last = (
        Instant::now(),
        shared.c.deliveries.get(),
        shared.c.acked.get(),
    );
    while Instant::now() < end {
        let next = (last.0 + every).min(end);
        tokio::time::sleep_until(next.into()).await;
        let now = (
            Instant::now(),
            shared.c.deliveries.get(),
            shared.c.acked.get(),
        );
        let span = now.0 - last.0;
        let v = shared.visitor_to_agent.take_interval();
        let r = shared.agent_to_visitor.take_interval();
        let iv = Interval {
            end_s: round3((now.0 - at).as_secs_f64()),
            visitor_to_agent_p50_ms: v.p50_ms,
            visitor_to_agent_p99_ms: v.p99_ms,
            agent_to_visitor_p50_ms: r.p50_ms,
            agent_to_visitor_p99_ms: r.p99_ms,
            deliveries_per_second: round3(per_second(now.1 - last.1, span)),
            messages_per_second: round3(per_second(now.2 - last.2, span)),
            server_rss: ctx.server_rss(),
        };
        ctx.progress.suspend(|| {
            tracing::info!(
                at_s = iv.end_s,
                v2a_p50_ms = iv.visitor_to_agent_p50_ms,
                v2a_p99_ms = iv.visitor_to_agent_p99_ms,
                a2v_p50_ms = iv.agent_to_visitor_p50_ms,
                a2v_p99_ms = iv.agent_to_visitor_p99_ms,
                deliveries_per_s = iv.deliveries_per_second,
                rss = ?iv.server_rss,
                "interval"
            )
        });
        intervals.push(iv);
        last = now;
    }
    intervals
}

/// Soak: how latency and memory moved from the first interval to the last.
pub(super) fn add_drift(report: &mut Report, intervals: &[Interval]) {
    if let (Some(first), Some(last)) = (intervals.first(), intervals.last()) {
        report.add(
            "drift_visitor_to_agent_p99_ms",
            "drift of visitor -> agent p99 (last - first interval), ms",
            Measure::Number(round3(
                last.visitor_to_agent_p99_ms - first.visitor_to_agent_p99_ms,
            )),
        );
        report.add(
            "drift_agent_to_visitor_p99_ms",
            "drift of agent -> visitor p99 (last - first interval), ms",
            Measure::Number(round3(
                last.agent_to_visitor_p99_ms - first.agent_to_visitor_p99_ms,
            )),
        );
        if let (Some(a), Some(b)) = (first.server_rss, last.server_rss) {
            report.add(
                "drift_server_rss_bytes",
                "drift of server RSS (last - first interval), bytes",
                Measure::Number(b as f64 - a as f64),
            );
        }
    }
    let lines = intervals
        .iter()
        .map(|i| {
            format!(
                "{:>7.1} s  v->a p50 {:.2} p99 {:.2} ms | a->v p50 {:.2} p99 {:.2} ms | {:.0} deliveries/s{}",
                i.end_s,
                i.visitor_to_agent_p50_ms,
                i.visitor_to_agent_p99_ms,
                i.agent_to_visitor_p50_ms,
                i.agent_to_visitor_p99_ms,
                i.deliveries_per_second,
                i.server_rss
                    .map(|b| format!(" | server RSS {:.1} MiB", b as f64 / 1048576.0))
                    .unwrap_or_default()
            )
        })
        .collect();
    report.add(
        "intervals",
        "intervals",
        Measure::Table {
            json: json!(intervals),
            lines,
        },
    );
}
