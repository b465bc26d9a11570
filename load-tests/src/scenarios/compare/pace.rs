//! When a visitor of `compare` sends its next message.
//!
//! Closed loop (the default) measures how much a target can carry: each
//! visitor keeps `window` messages in flight and sends the next only when an
//! answer comes back, so the target's speed sets the pace. The one brake is
//! a smallest gap between a visitor's messages (`--max-rate`), because
//! switchboard refuses more than 20 frames a second per connection; the
//! time it holds visitors back is counted, since a run paced by it measures
//! the brake, not the target.
//!
//! Open loop (`--rate`) sends on a fixed schedule, answered or not, so both
//! targets get the same offered load and their latencies compare.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mode {
    Closed { window: usize, gap: Duration },
    Open { period: Duration },
}

impl Mode {
    /// The longest gap between two sends of a visitor (spreads the
    /// visitors' first sends over it).
    fn spread(self) -> Duration {
        match self {
            Mode::Closed { gap, .. } => gap,
            Mode::Open { period } => period,
        }
    }
}

/// One visitor's schedule.
#[derive(Debug)]
pub(super) struct Pacer {
    mode: Mode,
    /// This visitor's first send, relative to the start: visitors start
    /// spread out rather than all in the same instant.
    offset: Duration,
    start: Option<Instant>,
    sending: bool,
    seq: usize,
    in_flight: usize,
    last: Option<Instant>,
    /// Since when the window has had room (closed loop).
    room_since: Option<Instant>,
}

impl Pacer {
    /// Visitor `lane` of `lanes`.
    pub(super) fn new(mode: Mode, lane: usize, lanes: usize) -> Pacer {
        Pacer {
            mode,
            offset: mode.spread().mul_f64(lane as f64 / lanes.max(1) as f64),
            start: None,
            sending: false,
            seq: 0,
            in_flight: 0,
            last: None,
            room_since: None,
        }
    }

    pub(super) fn start(&mut self, at: Instant) {
        self.start = Some(at);
        self.room_since = Some(at + self.offset);
        self.sending = true;
    }

    pub(super) fn stop(&mut self) {
        self.sending = false;
    }

    /// The sequence number of the next message.
    pub(super) fn seq(&self) -> usize {
        self.seq
    }

    /// When the next message is due; `None` while stopped or while the
    /// window is full.
    pub(super) fn next(&self) -> Option<Instant> {
        let first = self.start? + self.offset;
        if !self.sending {
            return None;
        }
        match self.mode {
            Mode::Open { period } => Some(first + period.mul_f64(self.seq as f64)),
            Mode::Closed { window, gap } => (self.in_flight < window)
                .then(|| self.last.map_or(first, |last| (last + gap).max(first))),
        }
    }

    /// Records the send of a message that was `due`; returns the time its
    /// latency counts from (open loop: when it was due, so a load generator
    /// falling behind shows as latency; closed loop: `now`, there is no
    /// schedule) and how long `--max-rate` held it back after the window
    /// had room for it.
    pub(super) fn sent(&mut self, due: Instant, now: Instant) -> (Instant, Duration) {
        self.seq += 1;
        self.in_flight += 1;
        self.last = Some(now);
        match self.mode {
            Mode::Open { .. } => (due, Duration::ZERO),
            Mode::Closed { window, .. } => {
                let held = self
                    .room_since
                    .map_or(Duration::ZERO, |room| due.saturating_duration_since(room));
                if self.in_flight < window {
                    self.room_since = Some(now);
                }
                (now, held)
            }
        }
    }

    /// An answer came back: the window has room again.
    pub(super) fn answered(&mut self, now: Instant) {
        if let Mode::Closed { window, .. } = self.mode {
            if self.in_flight >= window {
                self.room_since = Some(now);
            }
        }
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn closed_loop_waits_for_answers_and_the_gap() {
        let mut p = Pacer::new(
            Mode::Closed {
                window: 1,
                gap: 100 * MS,
            },
            0,
            1,
        );
        assert_eq!(p.next(), None, "not started");
        let t0 = Instant::now();
        p.start(t0);
        assert_eq!(p.next(), Some(t0));
        assert_eq!(p.sent(t0, t0), (t0, Duration::ZERO));
        assert_eq!(p.next(), None, "window full");
        // A quick answer: the gap holds the next send back.
        p.answered(t0 + 10 * MS);
        assert_eq!(p.next(), Some(t0 + 100 * MS));
        assert_eq!(
            p.sent(t0 + 100 * MS, t0 + 100 * MS),
            (t0 + 100 * MS, 90 * MS)
        );
        // A slow answer: the answer sets the pace.
        p.answered(t0 + 300 * MS);
        assert_eq!(p.next(), Some(t0 + 200 * MS), "due already");
        let sent = p.sent(t0 + 200 * MS, t0 + 300 * MS);
        assert_eq!(sent, (t0 + 300 * MS, Duration::ZERO));
        p.stop();
        p.answered(t0 + 400 * MS);
        assert_eq!(p.next(), None, "stopped");
    }

    #[test]
    fn a_window_keeps_several_in_flight() {
        let mut p = Pacer::new(Mode::Closed { window: 3, gap: MS }, 0, 1);
        let t0 = Instant::now();
        p.start(t0);
        let mut now = t0;
        for _ in 0..3 {
            let due = p.next().expect("room in the window");
            now = now.max(due);
            p.sent(due, now);
        }
        assert_eq!(p.next(), None);
        p.answered(now);
        assert!(p.next().is_some());
        assert_eq!(p.seq(), 3);
    }

    #[test]
    fn open_loop_keeps_its_schedule() {
        let period = 50 * MS;
        let mut p = Pacer::new(Mode::Open { period }, 1, 2);
        let t0 = Instant::now();
        p.start(t0);
        let first = t0 + 25 * MS;
        assert_eq!(
            p.next(),
            Some(first),
            "lane 1 of 2 starts half a period late"
        );
        assert_eq!(p.sent(first, first + 5 * MS), (first, Duration::ZERO));
        assert_eq!(p.next(), Some(first + period), "answered or not");
    }
}
