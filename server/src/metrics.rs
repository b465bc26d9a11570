//! What `/metrics` reports, in Prometheus' text format: open connections,
//! events and deliveries, the writer's queue and commit latency,
//! assignments, slow consumers cut, and the process's memory.
//!
//! One set of counters per running server, owned by its hub (so servers
//! sharing a process, as the tests do, each report their own). Updating one
//! is a relaxed atomic add on paths that already take a lock or a syscall.
//! Rates ("per second") are for the scraper to compute from the counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Upper bounds, in seconds, of the commit latency histogram's buckets.
const COMMIT_BUCKETS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
pub struct Metrics {
    agent_connections: AtomicI64,
    visitor_connections: AtomicI64,
    events: AtomicU64,
    signals: AtomicU64,
    deliveries: AtomicU64,
    slow_consumer_cuts: AtomicU64,
    commits: AtomicU64,
    committed_writes: AtomicU64,
    commit_micros: AtomicU64,
    commit_buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    auto_assignments: AtomicU64,
    refused: [AtomicU64; 3],
}

/// Why the edge refused a connection (see `crate::edge`).
#[derive(Debug, Clone, Copy)]
pub enum Refused {
    /// A TCP connection past its address's cap, closed when accepted.
    TcpPerAddress,
    /// A WebSocket past its client's cap (429).
    WebSocketPerAddress,
    /// A WebSocket past the descriptors WebSockets may use (503).
    WebSocketDescriptors,
}

impl Refused {
    const ALL: [Refused; 3] = [
        Refused::TcpPerAddress,
        Refused::WebSocketPerAddress,
        Refused::WebSocketDescriptors,
    ];

    fn label(self) -> &'static str {
        match self {
            Refused::TcpPerAddress => "{reason=\"tcp_per_address\"}",
            Refused::WebSocketPerAddress => "{reason=\"websockets_per_address\"}",
            Refused::WebSocketDescriptors => "{reason=\"websocket_descriptors\"}",
        }
    }
}

/// Which WebSocket endpoint a connection came through.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Agent,
    Visitor,
}

/// Counts an authenticated WebSocket as open while it lives.
#[derive(Debug)]
pub struct Connected(Arc<Metrics>, Kind);

impl Connected {
    pub fn new(metrics: &Arc<Metrics>, kind: Kind) -> Connected {
        metrics.gauge(kind).fetch_add(1, Relaxed);
        Connected(metrics.clone(), kind)
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.gauge(self.1).fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    fn gauge(&self, kind: Kind) -> &AtomicI64 {
        match kind {
            Kind::Agent => &self.agent_connections,
            Kind::Visitor => &self.visitor_connections,
        }
    }

    /// A change event was published (`events`), or a signal (typing,
    /// presence, queue position), handed out `sent` times and cutting `cut`
    /// subscribers.
    pub fn published(&self, event: bool, sent: u64, cut: u64) {
        if event {
            self.events.fetch_add(1, Relaxed);
        } else {
            self.signals.fetch_add(1, Relaxed);
        }
        self.deliveries.fetch_add(sent, Relaxed);
        self.slow_consumer_cuts.fetch_add(cut, Relaxed);
    }

    /// One database commit of `writes` queued writes took `took`.
    pub fn committed(&self, writes: usize, took: Duration) {
        self.commits.fetch_add(1, Relaxed);
        self.committed_writes.fetch_add(writes as u64, Relaxed);
        self.commit_micros
            .fetch_add(took.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = COMMIT_BUCKETS.iter().position(|&b| secs <= b) {
            self.commit_buckets[i].fetch_add(1, Relaxed);
        }
    }

    pub fn auto_assigned(&self) {
        self.auto_assignments.fetch_add(1, Relaxed);
    }

    /// The edge refused a connection.
    pub fn refused(&self, why: Refused) {
        self.refused[why as usize].fetch_add(1, Relaxed);
    }

    /// The text exposition, with the writer's current queue depth.
    pub fn render(&self, writer_queue: usize, writer_capacity: usize) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let get = |a: &AtomicU64| a.load(Relaxed) as f64;
        metric(
            "switchboard_websocket_connections",
            "gauge",
            "Open, authenticated WebSocket connections.",
            &[
                (
                    "{kind=\"agent\"}",
                    self.agent_connections.load(Relaxed) as f64,
                ),
                (
                    "{kind=\"visitor\"}",
                    self.visitor_connections.load(Relaxed) as f64,
                ),
            ],
        );
        metric(
            "switchboard_events_total",
            "counter",
            "Change events published (messages, conversations, contacts).",
            &[("", get(&self.events))],
        );
        metric(
            "switchboard_signals_total",
            "counter",
            "Signals published (typing, presence, queue positions, read marks).",
            &[("", get(&self.signals))],
        );
        metric(
            "switchboard_deliveries_total",
            "counter",
            "Frames handed to WebSocket connections' queues.",
            &[("", get(&self.deliveries))],
        );
        metric(
            "switchboard_slow_consumer_disconnects_total",
            "counter",
            "Connections cut because their outbound queue filled (close 4008).",
            &[("", get(&self.slow_consumer_cuts))],
        );
        metric(
            "switchboard_writer_queue_depth",
            "gauge",
            "Writes queued for the group-commit writer.",
            &[("", writer_queue as f64)],
        );
        metric(
            "switchboard_writer_queue_capacity",
            "gauge",
            "Writes the queue holds before requests get 503.",
            &[("", writer_capacity as f64)],
        );
        metric(
            "switchboard_committed_writes_total",
            "counter",
            "Writes committed (each a request's or event's rows).",
            &[("", get(&self.committed_writes))],
        );
        let refused: Vec<(&str, f64)> = Refused::ALL
            .iter()
            .map(|&why| (why.label(), get(&self.refused[why as usize])))
            .collect();
        metric(
            "switchboard_connections_refused_total",
            "counter",
            "Connections the edge refused: TCP past an address's cap, WebSockets past a client's cap or the descriptors kept for plain requests.",
            &refused,
        );
        let base = "switchboard_commit_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {base} Time each database commit took.\n# TYPE {base} histogram"
        );
        let mut cumulative = 0u64;
        for (bound, count) in COMMIT_BUCKETS.iter().zip(&self.commit_buckets) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{base}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let commits = self.commits.load(Relaxed);
        let _ = writeln!(
            out,
            "{base}_bucket{{le=\"+Inf\"}} {commits}\n{base}_sum {}\n{base}_count {commits}",
            self.commit_micros.load(Relaxed) as f64 / 1e6
        );
        let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "switchboard_auto_assignments_total",
            "counter",
            "Conversations given to an agent by automatic assignment.",
            get(&self.auto_assignments),
        );
        if let Some(rss) = resident_bytes() {
            metric(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory of the server process.",
                rss as f64,
            );
        }
        out
    }
}

/// The process's resident set size, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
