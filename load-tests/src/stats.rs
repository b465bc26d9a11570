//! Measuring: one clock for the whole run, latency histograms (microseconds,
//! hdrhistogram, 3 significant digits) and error tallies.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency recorded exactly: 10 minutes (higher values are clamped).
const MAX_MICROS: u64 = 600_000_000;
/// A task's local samples are merged into the shared histogram after this
/// many, or after [`FLUSH_EVERY`].
const FLUSH_AFTER: u64 = 4096;
const FLUSH_EVERY: Duration = Duration::from_millis(250);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant bounds hdrhistogram accepts")
}

/// Microseconds since the start of the run. Every timestamp the load
/// generator puts into a message is on this clock, so sender and receiver
/// (both in this process) compare like with like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    pub(crate) fn now_us(&self) -> u64 {
        self.at_us(Instant::now())
    }

    pub(crate) fn at_us(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }

    /// Microseconds from `then_us` to now (0 if `then_us` is in the future).
    pub(crate) fn since_us(&self, then_us: u64) -> u64 {
        self.now_us().saturating_sub(then_us)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// A latency distribution shared by many tasks: the whole run, and the
/// current interval (for soak reports).
pub(crate) struct Latency {
    total: Mutex<Histogram<u64>>,
    interval: Mutex<Histogram<u64>>,
}

impl Latency {
    pub(crate) fn new() -> Arc<Latency> {
        Arc::new(Latency {
            total: Mutex::new(histogram()),
            interval: Mutex::new(histogram()),
        })
    }

    pub(crate) fn record(&self, micros: u64) {
        let micros = micros.clamp(1, MAX_MICROS);
        lock(&self.total).saturating_record(micros);
        lock(&self.interval).saturating_record(micros);
    }

    fn merge(&self, local: &Histogram<u64>) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = lock(&self.total).add(local);
        let _ = lock(&self.interval).add(local);
    }

    pub(crate) fn summary(&self) -> Summary {
        Summary::of(&lock(&self.total))
    }

    /// The interval's distribution so far; starts a new interval.
    pub(crate) fn take_interval(&self) -> Summary {
        let mut interval = lock(&self.interval);
        let summary = Summary::of(&interval);
        interval.reset();
        summary
    }

    /// A recorder for one task, which merges its samples now and then
    /// instead of taking the lock for each.
    pub(crate) fn local(self: &Arc<Latency>) -> LocalLatency {
        LocalLatency {
            shared: self.clone(),
            local: histogram(),
            flushed: Instant::now(),
        }
    }
}

/// A task's own latency samples; merged into the shared [`Latency`] every
/// few thousand samples, every quarter second, and when dropped.
pub(crate) struct LocalLatency {
    shared: Arc<Latency>,
    local: Histogram<u64>,
    flushed: Instant,
}

impl LocalLatency {
    pub(crate) fn record(&mut self, micros: u64) {
        self.local.saturating_record(micros.clamp(1, MAX_MICROS));
        if self.local.len() >= FLUSH_AFTER || self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
    }

    pub(crate) fn flush(&mut self) {
        if !self.local.is_empty() {
            self.shared.merge(&self.local);
            self.local.reset();
        }
        self.flushed = Instant::now();
    }
}

impl Drop for LocalLatency {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Percentiles of a latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Summary {
    fn of(h: &Histogram<u64>) -> Summary {
        if h.is_empty() {
            return Summary::default();
        }
        let ms = |us: u64| round3(us as f64 / 1000.0);
        Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: round3(h.mean() / 1000.0),
        }
    }
}

/// `x` with three decimals.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Errors by kind, each with the first example seen.
#[derive(Default)]
pub(crate) struct Errors {
    kinds: Mutex<BTreeMap<String, (u64, String)>>,
}

/// One kind of error in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorKind {
    pub count: u64,
    pub example: String,
}

impl Errors {
    pub(crate) fn new() -> Arc<Errors> {
        Arc::new(Errors::default())
    }

    pub(crate) fn add(&self, kind: impl Into<String>, example: impl std::fmt::Display) {
        let mut kinds = lock(&self.kinds);
        let entry = kinds
            .entry(kind.into())
            .or_insert_with(|| (0, example.to_string().chars().take(300).collect()));
        entry.0 += 1;
    }

    pub(crate) fn total(&self) -> u64 {
        lock(&self.kinds).values().map(|(n, _)| n).sum()
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, ErrorKind> {
        lock(&self.kinds)
            .iter()
            .map(|(k, (count, example))| {
                (
                    k.clone(),
                    ErrorKind {
                        count: *count,
                        example: example.clone(),
                    },
                )
            })
            .collect()
    }
}

/// CPU time (user + system) a process has used, in seconds. Assumes the
/// kernel's usual 100 ticks a second.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// CPU use of the server and of this process over a window, in percent of
/// one core (the machine's cores are shared by both).
pub(crate) struct CpuWindow {
    server_pid: Option<u32>,
    server: Option<f64>,
    own: Option<f64>,
    at: Instant,
}

impl CpuWindow {
    pub(crate) fn start(server_pid: Option<u32>) -> CpuWindow {
        CpuWindow {
            server_pid,
            server: server_pid.and_then(cpu_seconds),
            own: cpu_seconds(std::process::id()),
            at: Instant::now(),
        }
    }

    /// (server %, load generator %) since `start`.
    pub(crate) fn finish(&self) -> (Option<f64>, Option<f64>) {
        let secs = self.at.elapsed().as_secs_f64().max(1e-9);
        let pct =
            |before: Option<f64>, now: Option<f64>| Some(round3((now? - before?) / secs * 100.0));
        (
            pct(self.server, self.server_pid.and_then(cpu_seconds)),
            pct(self.own, cpu_seconds(std::process::id())),
        )
    }
}

/// Resident memory of a process (VmRSS in /proc/PID/status), in bytes.
pub(crate) fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_samples_reach_the_shared_histogram() {
        let latency = Latency::new();
        {
            let mut local = latency.local();
            for us in [1_000, 2_000, 3_000] {
                local.record(us);
            }
        }
        let s = latency.summary();
        assert_eq!(s.count, 3);
        assert!((s.p50_ms - 2.0).abs() < 0.01, "{s:?}");
        assert_eq!(latency.take_interval().count, 3);
        assert_eq!(latency.take_interval().count, 0);
        assert_eq!(latency.summary().count, 3);
    }

    #[test]
    fn own_rss_and_cpu_are_readable() {
        assert!(rss_bytes(std::process::id()).is_some_and(|b| b > 0));
        assert!(cpu_seconds(std::process::id()).is_some_and(|s| s >= 0.0));
    }
}
