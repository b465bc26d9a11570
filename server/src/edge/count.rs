//! Open connections counted per address, so that no one address takes what
//! everyone shares: a cap per address and a ceiling for all together.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What counts as one address: an IPv4 address, or an IPv6 /64. A provider
/// hands each customer at least a /64, so anyone holding one IPv6 address
/// can rotate through 2^64 of them: counting them one by one would cap
/// nobody.
pub(crate) fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        v4 => v4,
    }
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// This address holds its cap already.
    Address,
    /// Everyone together holds the ceiling.
    Everyone,
}

/// Open connections per address key, and their sum.
#[derive(Debug)]
pub(crate) struct Counts {
    per_address: usize,
    ceiling: usize,
    /// A std `Mutex`: held for one map update, never across an `.await`.
    /// Nothing can panic while it is held, so a poisoned lock's counts are
    /// still right and are used as they are.
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    /// Only addresses with something open: an address's entry goes when
    /// its last slot does, so the map never outgrows what is open. The std
    /// hasher on purpose: the keys are chosen by whoever connects.
    by_key: HashMap<IpAddr, usize>,
    total: usize,
}

impl Counts {
    /// At most `per_address` (at least 1) per address and `ceiling` in all.
    pub(crate) fn new(per_address: usize, ceiling: usize) -> Arc<Counts> {
        Arc::new(Counts {
            per_address: per_address.max(1),
            ceiling,
            open: Mutex::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for one more connection from `ip`, held until dropped.
    pub(crate) fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let key = address_key(ip);
        let mut open = self.lock();
        if open.total >= self.ceiling {
            return Err(Full::Everyone);
        }
        let count = open.by_key.entry(key).or_insert(0);
        if *count >= self.per_address {
            return Err(Full::Address);
        }
        *count += 1;
        open.total += 1;
        Ok(Slot {
            counts: self.clone(),
            key,
        })
    }

    /// Slots held now, by everyone.
    pub(crate) fn total(&self) -> usize {
        self.lock().total
    }
}

/// One open connection's place in its [`Counts`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Counts>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        open.total = open.total.saturating_sub(1);
        if let Entry::Occupied(mut entry) = open.by_key.entry(self.key) {
            let left = entry.get().saturating_sub(1);
            *entry.get_mut() = left;
            if left == 0 {
                entry.remove();
            }
        }
    }
}
