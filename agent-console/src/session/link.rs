//! The `/ws/agent` connection's rules, without the socket: what to send
//! first, which cursor to resume from, when to reload over REST, which
//! events are repeats, and how long to wait before reconnecting.

use switchboard_browser::backoff::Backoff;
use switchboard_protocol::realtime::{close, AgentFrame};

/// The console's reconnect schedule: 0.5 s, then 2 s, 4 s... up to 30 s,
/// each spread a quarter either way so that the consoles of a restarted
/// server do not all come back in the same instant.
pub const BACKOFF: Backoff = Backoff {
    first_ms: 500,
    second_ms: 2_000,
    max_ms: 30_000,
    jitter: (0.75, 1.25),
};

/// What to do once the socket closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// The token was refused: back to the sign-in screen.
    SignOut,
    /// Reconnect after this many milliseconds.
    Retry(u32),
}

/// What a `welcome` or `resync` asks of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The missed events follow: nothing to reload.
    Continue,
    /// Reload the lists over REST (first connection, or history lost).
    Reload,
}

#[derive(Debug, Default)]
pub struct Link {
    /// The cursor of the last change applied.
    cursor: Option<u64>,
    failures: u32,
}

impl Link {
    pub fn cursor(&self) -> Option<u64> {
        self.cursor
    }

    /// The first frame of every connection, resuming from our cursor.
    pub fn auth(&self, access_token: &str, account_id: i64) -> AgentFrame {
        AgentFrame::Auth {
            access_token: access_token.to_string(),
            account_id,
            cursor: self.cursor,
        }
    }

    /// `welcome`: with `resumed` the missed events follow, in order;
    /// without, start over from the welcome's cursor.
    pub fn welcome(&mut self, cursor: Option<u64>, resumed: bool) -> Resume {
        self.failures = 0;
        if resumed {
            Resume::Continue
        } else {
            if cursor.is_some() {
                self.cursor = cursor;
            }
            Resume::Reload
        }
    }

    /// `resync`: what we had is too old; carry on from its cursor.
    pub fn resync(&mut self, cursor: Option<u64>) -> Resume {
        if cursor.is_some() {
            self.cursor = cursor;
        }
        Resume::Reload
    }

    /// Whether to apply an event: changes at or below our cursor were
    /// applied already (a replay overlapping what we saw).
    pub fn accept(&mut self, cursor: Option<u64>, is_change: bool) -> bool {
        if !is_change {
            return true;
        }
        match (cursor, self.cursor) {
            (Some(c), Some(last)) if c <= last => false,
            (Some(c), _) => {
                self.cursor = Some(c);
                true
            }
            (None, _) => true,
        }
    }

    /// The socket closed with `code`; `jitter` in [0, 1) spreads the
    /// reconnections of many consoles after a server restart.
    pub fn closed(&mut self, code: u16, jitter: f64) -> AfterClose {
        // Refused, or the session was revoked (signed out elsewhere, a new
        // password, removed from the account): back to the sign-in form.
        if code == close::UNAUTHORIZED || code == close::REVOKED {
            return AfterClose::SignOut;
        }
        let delay = BACKOFF.delay_ms(self.failures, jitter);
        self.failures = self.failures.saturating_add(1);
        AfterClose::Retry(delay)
    }

    /// Signing out: the next session starts from nothing.
    pub fn reset(&mut self) {
        *self = Link::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_from_the_last_change_seen() {
        let mut l = Link::default();
        assert!(matches!(
            l.auth("t", 1),
            AgentFrame::Auth { cursor: None, .. }
        ));
        assert_eq!(l.welcome(Some(10), false), Resume::Reload);
        assert!(l.accept(Some(11), true));
        assert!(l.accept(Some(11), false), "signals repeat the cursor");
        assert!(!l.accept(Some(11), true), "a change is applied once");
        assert!(!l.accept(Some(9), true));
        assert!(matches!(
            l.auth("t", 1),
            AgentFrame::Auth {
                cursor: Some(11),
                ..
            }
        ));
        // Resumed: the welcome's cursor must not skip the replay.
        assert_eq!(l.welcome(Some(20), true), Resume::Continue);
        assert!(l.accept(Some(12), true));
        assert_eq!(l.resync(Some(50)), Resume::Reload);
        assert!(!l.accept(Some(40), true));
        assert_eq!(l.cursor(), Some(50));
    }

    #[test]
    fn backs_off_and_signs_out_on_4001() {
        let mut l = Link::default();
        assert_eq!(l.closed(4001, 0.5), AfterClose::SignOut);
        assert_eq!(l.closed(4003, 0.5), AfterClose::SignOut);
        let delays: Vec<AfterClose> = (0..8).map(|_| l.closed(1006, 0.5)).collect();
        assert_eq!(delays[0], AfterClose::Retry(500));
        assert_eq!(delays[1], AfterClose::Retry(2000));
        assert_eq!(delays[7], AfterClose::Retry(BACKOFF.max_ms));
        assert_eq!(l.closed(1006, 0.0), AfterClose::Retry(22_500));
        l.welcome(None, true);
        assert_eq!(l.closed(4008, 0.5), AfterClose::Retry(500));
        l.reset();
        assert_eq!(l.cursor(), None);
    }
}
