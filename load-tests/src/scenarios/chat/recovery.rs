//! When each client last failed to write and when it wrote again: what
//! `failover` derives its time to recover from, and the pauses between
//! reconnection attempts.
//!
//! A client is a visitor (its messages over the socket) or an agent (its
//! replies over REST, and the console it hears visitors on). Failures are
//! what stops a client's writes: an attempt refused or unanswered, the
//! socket dropped, a reconnection attempt that failed. A success is a
//! write acknowledged by the server (`ack`, or a 2xx answer).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::stats::Clock;

/// Attempts to reconnect a socket before the client gives up.
pub(super) const RECONNECT_ATTEMPTS: u32 = 8;
/// The pause before the first reconnection attempt; it doubles up to
/// [`MAX_PAUSE`]. With [`RECONNECT_ATTEMPTS`] about 12 s in all, more than
/// a cluster takes to give a dead node's accounts to another (about 5 s).
pub(super) const FIRST_PAUSE: Duration = Duration::from_millis(250);
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(2);

/// The pause after `attempt` failed attempts (1, 2, ...).
pub(super) fn pause(attempt: u32) -> Duration {
    FIRST_PAUSE
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(MAX_PAUSE)
}

/// Per client, on the run's clock (microseconds; 0: never).
struct Marks {
    last_failure: AtomicU64,
    /// The first success after the failure before it (stale once a later
    /// failure happened: then it is below `last_failure`).
    recovered: AtomicU64,
}

pub(crate) struct Recovery {
    clock: Clock,
    clients: Vec<Marks>,
}

/// What [`Recovery::since`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recovered {
    /// Clients that failed at or after the moment asked about.
    pub affected: u64,
    /// Affected clients with no success after their last failure.
    pub unrecovered: u64,
    /// From the moment to the last affected client's first success after
    /// its last failure; `None` while some client has not recovered, 0 when
    /// no client was affected.
    pub seconds: Option<f64>,
}

impl Recovery {
    pub(crate) fn new(clock: Clock, clients: usize) -> Recovery {
        Recovery {
            clock,
            clients: (0..clients)
                .map(|_| Marks {
                    last_failure: AtomicU64::new(0),
                    recovered: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    pub(crate) fn failed(&self, client: usize) {
        if let Some(m) = self.clients.get(client) {
            m.last_failure
                .fetch_max(self.clock.now_us().max(1), Ordering::Relaxed);
        }
    }

    pub(crate) fn succeeded(&self, client: usize) {
        let Some(m) = self.clients.get(client) else {
            return;
        };
        let now = self.clock.now_us();
        let failure = m.last_failure.load(Ordering::Relaxed);
        if failure == 0 || now < failure {
            return;
        }
        // Only the first success after the last failure counts.
        let _ = m
            .recovered
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                (r < failure).then_some(now)
            });
    }

    /// Recovery from failures at or after `from_us` (the kill).
    pub(crate) fn since(&self, from_us: u64) -> Recovered {
        let (mut affected, mut unrecovered, mut latest) = (0, 0, from_us);
        for m in &self.clients {
            let failure = m.last_failure.load(Ordering::Relaxed);
            if failure == 0 || failure < from_us {
                continue;
            }
            affected += 1;
            let recovered = m.recovered.load(Ordering::Relaxed);
            if recovered < failure {
                unrecovered += 1;
            } else {
                latest = latest.max(recovered);
            }
        }
        Recovered {
            affected,
            unrecovered,
            seconds: (unrecovered == 0).then(|| (latest - from_us) as f64 / 1e6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_waits_for_the_last_affected_client() {
        let r = Recovery::new(Clock::new(), 3);
        // Just after the run's clock started: every failure comes later.
        let kill = 1;
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(r.since(kill).seconds, Some(0.0), "nobody affected");
        r.failed(0);
        r.failed(1);
        r.succeeded(0);
        let now = r.since(kill);
        assert_eq!((now.affected, now.unrecovered, now.seconds), (2, 1, None));
        r.succeeded(1);
        let first = r.since(kill).seconds.expect("recovered");
        std::thread::sleep(Duration::from_millis(2));
        r.succeeded(1);
        assert_eq!(
            r.since(kill).seconds,
            Some(first),
            "the first success counts"
        );
        r.failed(1);
        assert_eq!(
            r.since(kill).unrecovered,
            1,
            "a later failure needs a later success"
        );
        assert!(pause(1) < pause(2) && pause(20) == MAX_PAUSE);
    }
}
