//! How long to wait before reopening a dropped socket. Both apps double the
//! wait up to a ceiling and spread it at random, so that everyone cut off
//! together (a server restart) does not come back in the same instant; each
//! app picks its own numbers (see [`Backoff`]).

/// A reconnect schedule: [`Backoff::first_ms`] for the first retry,
/// [`Backoff::second_ms`] for the second, doubling from there, never over
/// [`Backoff::max_ms`]; then scaled at random within [`Backoff::jitter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first_ms: u32,
    pub second_ms: u32,
    pub max_ms: u32,
    /// The factors the delay is scaled by at `random` 0 and at `random` 1:
    /// `(1.0, 0.75)` takes up to a quarter off, `(0.75, 1.25)` spreads a
    /// quarter either way.
    pub jitter: (f64, f64),
}

impl Backoff {
    /// The delay before retry `attempt` (0-based); `random` in `0..1` (it is
    /// clamped there).
    pub fn delay_ms(&self, attempt: u32, random: f64) -> u32 {
        let base = match attempt {
            0 => self.first_ms,
            n => self.second_ms.saturating_mul(1u32 << (n - 1).min(16)),
        }
        .min(self.max_ms);
        let base = f64::from(base);
        let (from, to) = self.jitter;
        // The fixed part and the random one are each rounded toward zero,
        // so a whole-millisecond fixed part is exact.
        let fixed = (base * from).trunc();
        let spread = (base * (to - from) * random.clamp(0.0, 1.0)).trunc();
        (fixed + spread).clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORTENED: Backoff = Backoff {
        first_ms: 500,
        second_ms: 1_000,
        max_ms: 15_000,
        jitter: (1.0, 0.75),
    };

    const SPREAD: Backoff = Backoff {
        first_ms: 500,
        second_ms: 2_000,
        max_ms: 30_000,
        jitter: (0.75, 1.25),
    };

    #[test]
    fn doubles_from_the_second_retry_up_to_the_ceiling() {
        let at = |b: Backoff, r: f64| (0..8).map(|n| b.delay_ms(n, r)).collect::<Vec<_>>();
        assert_eq!(
            at(SHORTENED, 0.0),
            [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]
        );
        assert_eq!(
            at(SPREAD, 0.5),
            [500, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(SHORTENED.delay_ms(u32::MAX, 0.0), 15_000, "no overflow");
        let huge = Backoff {
            second_ms: u32::MAX / 2,
            max_ms: u32::MAX,
            ..SHORTENED
        };
        assert_eq!(huge.delay_ms(3, 0.0), u32::MAX, "saturates");
    }

    #[test]
    fn jitter_stays_between_its_factors() {
        assert_eq!(SHORTENED.delay_ms(0, 1.0), 375);
        assert_eq!(SHORTENED.delay_ms(0, 0.3), 463, "500 - 37.5, rounded up");
        assert_eq!(SPREAD.delay_ms(0, 0.0), 375);
        assert_eq!(SPREAD.delay_ms(9, 0.0), 22_500);
        assert_eq!(SPREAD.delay_ms(9, 1.0), 37_500);
        for attempt in 0..20 {
            for r in [-1.0, 0.0, 0.3, 0.99, 1.0, 7.0] {
                let d = SHORTENED.delay_ms(attempt, r);
                assert!((375..=15_000).contains(&d), "{attempt} {r} {d}");
                let d = SPREAD.delay_ms(attempt, r);
                assert!((375..=37_500).contains(&d), "{attempt} {r} {d}");
            }
        }
    }
}
