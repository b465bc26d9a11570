//! Timing rules: reconnect backoff and the visitor's typing signals.

use switchboard_browser::backoff::Backoff;

/// The widget's reconnect schedule: 0.5 s, 1 s, 2 s... up to 15 s, minus up
/// to a quarter at random so that visitors cut off together (a server
/// restart) do not all come back in the same instant.
pub const BACKOFF: Backoff = Backoff {
    first_ms: 500,
    second_ms: 1_000,
    max_ms: 15_000,
    jitter: (1.0, 0.75),
};

/// Delay before reconnect attempt `attempt` (0-based), `random` in `0..1`.
pub fn backoff_ms(attempt: u32, random: f64) -> u32 {
    BACKOFF.delay_ms(attempt, random)
}

/// How long after the last keystroke `typing_off` is sent.
pub const TYPING_IDLE_MS: f64 = 3_000.0;
/// The least time between two typing frames.
pub const TYPING_GAP_MS: f64 = 1_000.0;

/// The visitor's typing state as the team sees it. Each method returns the
/// frame to send, if any: `Some(true)` typing_on, `Some(false)` typing_off.
/// At most one frame per [`TYPING_GAP_MS`]; one that must wait is sent by a
/// later [`TypingOut::tick`].
#[derive(Debug, Default, Clone)]
pub struct TypingOut {
    on: bool,
    last_input: f64,
    last_frame: Option<f64>,
}

impl TypingOut {
    fn may_send(&self, now: f64) -> bool {
        self.last_frame.is_none_or(|t| now - t >= TYPING_GAP_MS)
    }

    fn flip(&mut self, now: f64) -> Option<bool> {
        self.on = !self.on;
        self.last_frame = Some(now);
        Some(self.on)
    }

    /// The text box changed; `has_text` says whether anything is in it.
    pub fn input(&mut self, now: f64, has_text: bool) -> Option<bool> {
        self.last_input = now;
        if has_text != self.on && self.may_send(now) {
            return self.flip(now);
        }
        None
    }

    /// The message was sent: typing stops now, or as soon as allowed.
    pub fn sent(&mut self, now: f64) -> Option<bool> {
        self.last_input = f64::NEG_INFINITY;
        (self.on && self.may_send(now))
            .then(|| self.flip(now))
            .flatten()
    }

    /// Called about once a second.
    pub fn tick(&mut self, now: f64) -> Option<bool> {
        let idle = now - self.last_input >= TYPING_IDLE_MS;
        (self.on && idle && self.may_send(now))
            .then(|| self.flip(now))
            .flatten()
    }

    /// The connection dropped: the server forgets typing with it.
    pub fn reset(&mut self) {
        *self = TypingOut::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_ceiling_with_bounded_jitter() {
        assert_eq!(backoff_ms(0, 0.0), 500);
        assert_eq!(backoff_ms(1, 0.0), 1_000);
        assert_eq!(backoff_ms(4, 0.0), 8_000);
        assert_eq!(backoff_ms(5, 0.0), 15_000);
        assert_eq!(backoff_ms(40, 0.0), 15_000, "no overflow");
        assert_eq!(backoff_ms(0, 1.0), 375);
        for attempt in 0..20 {
            for r in [0.0, 0.3, 0.99, 1.0, 7.0] {
                let d = backoff_ms(attempt, r);
                assert!((375..=15_000).contains(&d), "{attempt} {r} {d}");
            }
        }
    }

    #[test]
    fn typing_on_then_off_after_idle() {
        let mut t = TypingOut::default();
        assert_eq!(t.input(0.0, true), Some(true));
        assert_eq!(t.input(200.0, true), None, "already on");
        assert_eq!(t.tick(1_000.0), None, "not idle yet");
        assert_eq!(t.tick(3_300.0), Some(false));
        assert_eq!(t.tick(9_000.0), None);
    }

    #[test]
    fn at_most_one_frame_a_second() {
        let mut t = TypingOut::default();
        assert_eq!(t.input(0.0, true), Some(true));
        // Sent 300 ms later: the off must wait for the gap, then goes out.
        assert_eq!(t.sent(300.0), None);
        assert_eq!(t.tick(700.0), None);
        assert_eq!(t.tick(1_000.0), Some(false));
        // Typing again right away waits too.
        assert_eq!(t.input(1_100.0, true), None);
        assert_eq!(t.input(2_050.0, true), Some(true));
        assert_eq!(t.sent(3_100.0), Some(false), "allowed at once");
    }

    #[test]
    fn clearing_the_box_stops_typing() {
        let mut t = TypingOut::default();
        assert_eq!(t.input(0.0, true), Some(true));
        assert_eq!(t.input(1_500.0, false), Some(false));
        assert_eq!(t.input(1_600.0, false), None);
        t.reset();
        assert_eq!(t.input(1_700.0, true), Some(true), "reset forgets the gap");
    }
}
