//! The ledger of every message a run sends: whether the server acknowledged
//! it (and with which id), and how many of the sockets that should receive
//! it did. At the end it is checked against the database.
//!
//! Messages are numbered by lane (a sender: one visitor, or the agent side of
//! one conversation) and sequence number within the lane, so every slot is
//! allocated up front and updated with atomics: no lock on the hot path.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};

use serde::Serialize;

struct Slot {
    sent: AtomicBool,
    /// The message id from the ack; 0 until acknowledged.
    id: AtomicI64,
    /// Deliveries seen by the sockets that should receive it.
    seen: AtomicU32,
    /// Found by reloading after a `resync` instead: one delivery, which a
    /// late live one does not make a duplicate.
    reloaded: AtomicBool,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            sent: AtomicBool::new(false),
            id: AtomicI64::new(0),
            seen: AtomicU32::new(0),
            reloaded: AtomicBool::new(false),
        }
    }

    /// Deliveries, a reload counting as one when nothing was seen live.
    fn delivered(&self) -> u32 {
        let seen = self.seen.load(Ordering::Relaxed);
        seen.max(u32::from(self.reloaded.load(Ordering::Relaxed)))
    }
}

pub(crate) struct Ledger {
    lanes: Vec<Box<[Slot]>>,
    /// Sockets that should see each message.
    receivers: u32,
}

/// What the ledger says at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Messages sent.
    pub sent: u64,
    /// Sent but never acknowledged (the sender saw an error or no answer).
    pub unacked: u64,
    /// Acknowledged by the server: durable, so they must arrive.
    pub acked: u64,
    /// Acknowledged messages that some receiving socket never saw.
    pub undelivered: u64,
    /// Deliveries missing in all (an undelivered message may miss several).
    pub missing_deliveries: u64,
    /// Deliveries beyond one per receiving socket.
    pub duplicate_deliveries: u64,
    /// Acknowledged messages the database does not have.
    pub not_in_database: u64,
    /// Acknowledged messages undelivered or not in the database.
    pub lost: u64,
}

impl Ledger {
    /// `lanes` senders of at most `per_lane` messages each, every message
    /// due at `receivers` sockets.
    pub(crate) fn new(lanes: usize, per_lane: usize, receivers: u32) -> Ledger {
        Ledger {
            lanes: (0..lanes)
                .map(|_| (0..per_lane).map(|_| Slot::new()).collect())
                .collect(),
            receivers,
        }
    }

    /// Messages a lane may send.
    pub(crate) fn capacity(&self) -> usize {
        self.lanes.first().map_or(0, |l| l.len())
    }

    fn slot(&self, lane: usize, seq: usize) -> Option<&Slot> {
        self.lanes.get(lane)?.get(seq)
    }

    pub(crate) fn sent(&self, lane: usize, seq: usize) {
        if let Some(s) = self.slot(lane, seq) {
            s.sent.store(true, Ordering::Relaxed);
        }
    }

    /// Records the server's acknowledgement; `false` if it was already acknowledged.
    pub(crate) fn acked(&self, lane: usize, seq: usize, id: i64) -> bool {
        self.slot(lane, seq)
            .is_some_and(|s| s.id.swap(id, Ordering::Relaxed) == 0)
    }

    /// Records a delivery; `false` for a message the ledger does not know.
    pub(crate) fn seen(&self, lane: usize, seq: usize) -> bool {
        match self.slot(lane, seq) {
            Some(s) => {
                s.seen.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Whether the message was sent (an agent answers each visitor message
    /// once, also when it finds it again after a `resync`).
    pub(crate) fn was_sent(&self, lane: usize, seq: usize) -> bool {
        self.slot(lane, seq)
            .is_some_and(|s| s.sent.load(Ordering::Relaxed))
    }

    /// Records a message found by reloading over REST after a `resync`
    /// (the socket missed it, the receiver has it now) as one delivery,
    /// unless it was delivered already; `true` if it was not.
    pub(crate) fn reloaded(&self, lane: usize, seq: usize) -> bool {
        self.slot(lane, seq).is_some_and(|s| {
            s.seen.load(Ordering::Relaxed) == 0 && !s.reloaded.swap(true, Ordering::Relaxed)
        })
    }

    /// Messages still on their way: sent and not acknowledged, or
    /// acknowledged and not yet seen by every receiver.
    pub(crate) fn in_flight(&self) -> u64 {
        let mut n = 0;
        for lane in &self.lanes {
            for s in lane.iter() {
                if !s.sent.load(Ordering::Relaxed) {
                    continue;
                }
                let acked = s.id.load(Ordering::Relaxed) != 0;
                if !acked || s.delivered() < self.receivers {
                    n += 1;
                }
            }
        }
        n
    }

    /// Checks every message; `in_database(lane)` gives the ids the database
    /// holds for the lane's conversation (`None`: it could not be read, so
    /// that check is skipped).
    pub(crate) fn audit<'a>(
        &self,
        in_database: impl Fn(usize) -> Option<&'a HashSet<i64>>,
    ) -> Audit {
        let mut audit = Audit::default();
        for (lane, slots) in self.lanes.iter().enumerate() {
            let stored = in_database(lane);
            for s in slots.iter() {
                if !s.sent.load(Ordering::Relaxed) {
                    continue;
                }
                audit.sent += 1;
                let id = s.id.load(Ordering::Relaxed);
                let seen = s.seen.load(Ordering::Relaxed);
                audit.duplicate_deliveries += u64::from(seen.saturating_sub(self.receivers));
                if id == 0 {
                    audit.unacked += 1;
                    continue;
                }
                audit.acked += 1;
                let missing = u64::from(self.receivers.saturating_sub(s.delivered()));
                audit.missing_deliveries += missing;
                let undelivered = missing > 0;
                let absent = stored.is_some_and(|ids| !ids.contains(&id));
                audit.undelivered += u64::from(undelivered);
                audit.not_in_database += u64::from(absent);
                audit.lost += u64::from(undelivered || absent);
            }
        }
        audit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_lost_when_undelivered_or_not_stored() {
        let ledger = Ledger::new(1, 4, 2);
        for seq in 0..4 {
            ledger.sent(0, seq);
        }
        ledger.acked(0, 0, 10);
        ledger.seen(0, 0);
        ledger.seen(0, 0);
        ledger.acked(0, 1, 11);
        ledger.seen(0, 1);
        ledger.acked(0, 2, 12);
        ledger.seen(0, 2);
        ledger.seen(0, 2);
        assert_eq!(ledger.in_flight(), 2, "seq 1 half delivered, seq 3 unacked");
        let stored: HashSet<i64> = [10, 11].into();
        let audit = ledger.audit(|_| Some(&stored));
        assert_eq!(audit.sent, 4);
        assert_eq!(audit.unacked, 1);
        assert_eq!(audit.acked, 3);
        assert_eq!(audit.undelivered, 1);
        assert_eq!(audit.missing_deliveries, 1);
        assert_eq!(audit.not_in_database, 1);
        assert_eq!(audit.lost, 2);
        assert!(!ledger.seen(0, 4), "past the lane's capacity");
        assert!(!ledger.reloaded(0, 0), "delivered already");
        assert!(ledger.reloaded(0, 3) && !ledger.reloaded(0, 3));
        ledger.acked(0, 3, 13);
        ledger.seen(0, 3);
        let audit = ledger.audit(|_| None);
        assert_eq!(
            audit.duplicate_deliveries, 0,
            "reloaded, then seen live: once"
        );
        assert_eq!(
            audit.missing_deliveries, 2,
            "seq 1 and seq 3 are due at two"
        );
        assert!(ledger.was_sent(0, 3) && !ledger.was_sent(0, 4));
    }
}
