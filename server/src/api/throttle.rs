//! Sign-in throttling: wrong passwords cost the guesser time, not the
//! server.
//!
//! Failed sign-ins are counted per e-mail and per client address (an IPv6
//! /64 is one address, as for connection limits). The first few are free;
//! after that each attempt must wait twice as long as the one before (1 s,
//! 2 s, 4 s, ... up to [`ThrottleConfig::max_delay`]), and an attempt that
//! comes too early is answered `429 too_many_attempts` with `Retry-After`,
//! before any password is checked (argon2 is the expensive part).
//!
//! An attempt is counted as failed the moment it is admitted
//! ([`SignInThrottle::admit`]), in the same lock that checked it: a hundred
//! guesses sent at once are held back after the first few, not all let
//! through while the first is still hashing. A right password then takes
//! its attempt back ([`SignInThrottle::succeeded`]) and clears its e-mail's
//! count (not its address's: one good account must not buy an address new
//! guesses at others). Counts are forgotten [`ThrottleConfig::window`]
//! after the last failure.
//!
//! E-mails that exist and e-mails that do not are counted alike, so the
//! throttle tells nothing about who has an account. Its memory is bounded by
//! [`MAX_ENTRIES`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts kept before the oldest harmless ones are dropped.
pub const MAX_ENTRIES: usize = 100_000;

/// The throttle's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed sign-ins per e-mail before attempts must wait.
    pub free_per_email: u32,
    /// Failed sign-ins per client address before attempts must wait: more
    /// than per e-mail, as an office shares one address.
    pub free_per_address: u32,
    /// How long after its last failure a count is forgotten: longer than
    /// [`ThrottleConfig::max_delay`], or a guesser who waits it out would
    /// start afresh with free attempts.
    pub window: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            free_per_email: 5,
            free_per_address: 20,
            window: Duration::from_secs(60 * 60),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    last: Instant,
}

/// Failed sign-ins, per e-mail and per address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    config: ThrottleConfig,
    /// A plain map behind a std mutex: every operation is a few lookups,
    /// never held across an await.
    strikes: Mutex<HashMap<Key, Strikes>>,
}

impl SignInThrottle {
    pub fn new(config: ThrottleConfig) -> SignInThrottle {
        SignInThrottle {
            config,
            strikes: Mutex::default(),
        }
    }

    fn keys(email: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        let address = address.map(|ip| Key::Address(crate::edge::address_key(ip)));
        std::iter::once(Key::Email(email.to_lowercase())).chain(address)
    }

    fn free(&self, key: &Key) -> u32 {
        match key {
            Key::Email(_) => self.config.free_per_email,
            Key::Address(_) => self.config.free_per_address,
        }
    }

    /// Lets an attempt for `email` from `address` go now, counting it as
    /// failed until [`SignInThrottle::succeeded`] says otherwise; or how
    /// long it must still wait (and then nothing is counted).
    pub fn admit(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        let wait = Self::keys(email, address)
            .filter_map(|key| {
                let s = strikes.get(&key)?;
                let free = self.free(&key);
                if s.failures < free || now.duration_since(s.last) >= self.config.window {
                    return None;
                }
                let doublings = (s.failures - free).min(30);
                let delay = Duration::from_secs(1u64 << doublings).min(self.config.max_delay);
                (s.last + delay)
                    .checked_duration_since(now)
                    .filter(|wait| !wait.is_zero())
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if strikes.len() >= MAX_ENTRIES {
            self.prune(&mut strikes, now);
        }
        for key in Self::keys(email, address) {
            let s = strikes.entry(key).or_insert(Strikes {
                failures: 0,
                last: now,
            });
            if now.duration_since(s.last) >= self.config.window {
                s.failures = 0;
            }
            s.failures = s.failures.saturating_add(1);
            s.last = now;
        }
        Ok(())
    }

    /// The admitted attempt had the right password: it was no failure, and
    /// the e-mail starts afresh.
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        let mut strikes = self.strikes.lock().unwrap_or_else(|e| e.into_inner());
        strikes.remove(&Key::Email(email.to_lowercase()));
        let address = address.map(|ip| Key::Address(crate::edge::address_key(ip)));
        if let Some(s) = address.and_then(|key| strikes.get_mut(&key)) {
            s.failures = s.failures.saturating_sub(1);
        }
    }

    /// Makes room: forgotten counts first, then those still free (they
    /// hold nobody back); only a flood of held-back keys empties it all.
    fn prune(&self, strikes: &mut HashMap<Key, Strikes>, now: Instant) {
        let window = self.config.window;
        strikes.retain(|_, s| now.duration_since(s.last) < window);
        if strikes.len() >= MAX_ENTRIES {
            let (per_email, per_address) =
                (self.config.free_per_email, self.config.free_per_address);
            strikes.retain(|key, s| match key {
                Key::Email(_) => s.failures >= per_email,
                Key::Address(_) => s.failures >= per_address,
            });
        }
        if strikes.len() >= MAX_ENTRIES {
            tracing::warn!("sign-in throttle full: its counts were forgotten");
            strikes.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(ThrottleConfig::default())
    }

    const SECOND: Duration = Duration::from_secs(1);

    /// Admits attempts that all fail; the wait of the next one.
    fn fail(t: &SignInThrottle, email: &str, address: Option<IpAddr>, n: usize, at: Instant) {
        for i in 0..n {
            assert_eq!(t.admit(email, address, at), Ok(()), "attempt {i}");
        }
    }

    #[test]
    fn free_attempts_then_doubling_waits() {
        let t = throttle();
        let start = Instant::now();
        fail(&t, "Ana@x.test", None, 5, start);
        assert_eq!(t.admit("ANA@x.test", None, start), Err(SECOND));
        fail(&t, "ana@x.test", None, 1, start + SECOND);
        assert_eq!(t.admit("ana@x.test", None, start + SECOND), Err(2 * SECOND));
        // Another e-mail is not held back.
        assert_eq!(t.admit("bruno@x.test", None, start + SECOND), Ok(()));
    }

    #[test]
    fn waits_stop_growing_and_counts_are_forgotten() {
        let t = throttle();
        let mut at = Instant::now();
        fail(&t, "ana@x.test", None, 5, at);
        let max = ThrottleConfig::default().max_delay;
        let mut waits = Vec::new();
        for _ in 0..15 {
            let wait = t.admit("ana@x.test", None, at).expect_err("held back");
            waits.push(wait);
            at += wait;
            assert_eq!(t.admit("ana@x.test", None, at), Ok(()));
        }
        assert_eq!(waits[..3], [SECOND, 2 * SECOND, 4 * SECOND]);
        assert_eq!(waits.last(), Some(&max), "capped");
        at += ThrottleConfig::default().window;
        fail(&t, "ana@x.test", None, 5, at);
        assert_eq!(
            t.admit("ana@x.test", None, at),
            Err(SECOND),
            "counted afresh"
        );
    }

    #[test]
    fn an_address_is_held_back_across_emails_and_a_success_clears_only_the_email() {
        let t = throttle();
        let start = Instant::now();
        let address = Some(IpAddr::from([192, 0, 2, 7]));
        for n in 0..20 {
            assert_eq!(t.admit(&format!("user{n}@x.test"), address, start), Ok(()));
        }
        assert_eq!(t.admit("new@x.test", address, start), Err(SECOND));
        assert_eq!(t.admit("new@x.test", None, start), Ok(()));
        fail(&t, "ana@x.test", None, 5, start);
        t.succeeded("ANA@x.test", None);
        assert_eq!(t.admit("ana@x.test", None, start), Ok(()));
        assert_eq!(t.admit("ana@x.test", address, start), Err(SECOND));
    }

    #[test]
    fn a_success_takes_its_attempt_back_from_the_address() {
        let t = throttle();
        let start = Instant::now();
        let address = Some(IpAddr::from([192, 0, 2, 7]));
        for n in 0..40 {
            let email = format!("user{n}@x.test");
            assert_eq!(t.admit(&email, address, start), Ok(()));
            t.succeeded(&email, address);
        }
    }

    #[test]
    fn an_ipv6_network_is_one_address() {
        let t = throttle();
        let start = Instant::now();
        for n in 0..20u16 {
            let ip: IpAddr = format!("2001:db8::{n:x}").parse().expect("ip");
            assert_eq!(t.admit(&format!("u{n}@x.test"), Some(ip), start), Ok(()));
        }
        let other: IpAddr = "2001:db8::ffff".parse().expect("ip");
        assert_eq!(t.admit("x@x.test", Some(other), start), Err(SECOND));
    }

    #[test]
    fn memory_is_bounded() {
        let t = throttle();
        let now = Instant::now();
        for n in 0..(MAX_ENTRIES + 10) {
            let _ = t.admit(&format!("u{n}@x.test"), None, now);
        }
        assert!(t.strikes.lock().expect("lock").len() <= MAX_ENTRIES);
    }
}
