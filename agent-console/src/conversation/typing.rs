//! Typing indicators, both ways. Received: who is typing where, dropped
//! after a while in case a `typing_off` never comes (a closed tab).
//! Sent: one `typing_on` when the agent starts, one `typing_off` when they
//! stop for a few seconds, send, or leave, never a frame per keystroke
//! (the server allows 20 frames a second).

use switchboard_protocol::realtime::{AgentFrame, Typing};

/// A typing indicator is dropped this long after its last `typing_on`.
pub const SHOW_FOR_MS: f64 = 30_000.0;
/// Our own `typing_off` goes out after this long without a keystroke.
pub const IDLE_MS: f64 = 3_000.0;

/// Someone typing in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Typist {
    pub conversation_id: i64,
    /// `user` (an agent) or `contact`.
    pub sender_type: String,
    pub sender_id: i64,
    pub name: Option<String>,
    pub private: bool,
    until: f64,
}

impl Typist {
    pub fn is_contact(&self) -> bool {
        self.sender_type == "contact"
    }
}

#[derive(Debug, Default)]
pub struct TypingBoard {
    entries: Vec<Typist>,
}

impl TypingBoard {
    fn position(&self, t: &Typing) -> Option<usize> {
        self.entries.iter().position(|e| {
            e.conversation_id == t.conversation_id
                && e.sender_type == t.sender_type
                && e.sender_id == t.sender_id
        })
    }

    /// A `typing_on` / `typing_off` signal. Our own (`me`, from another
    /// tab) is not shown. `true` when the board changed.
    pub fn apply(&mut self, on: bool, t: &Typing, me: i64, now: f64) -> bool {
        if t.sender_type == "user" && t.sender_id == me {
            return false;
        }
        let found = self.position(t);
        match (on, found) {
            (true, Some(i)) => {
                let changed = self.entries[i].private != t.is_private;
                self.entries[i].private = t.is_private;
                self.entries[i].until = now + SHOW_FOR_MS;
                changed
            }
            (true, None) => {
                self.entries.push(Typist {
                    conversation_id: t.conversation_id,
                    sender_type: t.sender_type.clone(),
                    sender_id: t.sender_id,
                    name: t.name.clone(),
                    private: t.is_private,
                    until: now + SHOW_FOR_MS,
                });
                true
            }
            (false, Some(i)) => {
                self.entries.remove(i);
                true
            }
            (false, None) => false,
        }
    }

    /// A message from someone ends their typing.
    pub fn stop(&mut self, conversation_id: i64, sender_type: &str, sender_id: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| {
            !(e.conversation_id == conversation_id
                && e.sender_type.eq_ignore_ascii_case(sender_type)
                && e.sender_id == sender_id)
        });
        before != self.entries.len()
    }

    /// Drops stale indicators; `true` when some were dropped.
    pub fn expire(&mut self, now: f64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.until > now);
        before != self.entries.len()
    }

    pub fn in_conversation(&self, id: i64) -> Vec<&Typist> {
        self.entries
            .iter()
            .filter(|e| e.conversation_id == id)
            .collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Our own typing, as told to the server.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// (conversation, private) we last said we are typing in.
    active: Option<(i64, bool)>,
    last_input: f64,
}

impl Outgoing {
    /// The reply box changed; the frames to send.
    pub fn input(
        &mut self,
        conversation_id: i64,
        private: bool,
        empty: bool,
        now: f64,
    ) -> Vec<AgentFrame> {
        if empty {
            return self.stop().into_iter().collect();
        }
        self.last_input = now;
        if self.active == Some((conversation_id, private)) {
            return Vec::new();
        }
        let mut frames: Vec<AgentFrame> = self.stop().into_iter().collect();
        self.active = Some((conversation_id, private));
        frames.push(AgentFrame::TypingOn {
            conversation_id,
            private,
        });
        frames
    }

    /// Called every second or so: stops after a pause.
    pub fn tick(&mut self, now: f64) -> Option<AgentFrame> {
        if self.active.is_some() && now - self.last_input >= IDLE_MS {
            return self.stop();
        }
        None
    }

    /// Sent, left, or emptied: a `typing_off` if one is due.
    pub fn stop(&mut self) -> Option<AgentFrame> {
        let (conversation_id, private) = self.active.take()?;
        Some(AgentFrame::TypingOff {
            conversation_id,
            private,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(conversation_id: i64, sender_type: &str, sender_id: i64) -> Typing {
        Typing {
            conversation_id,
            sender_type: sender_type.into(),
            sender_id,
            name: None,
            is_private: false,
        }
    }

    #[test]
    fn board_shows_others_until_off_or_stale() {
        let mut b = TypingBoard::default();
        assert!(
            !b.apply(true, &typing(1, "user", 7), 7, 0.0),
            "not ourselves"
        );
        assert!(b.apply(true, &typing(1, "contact", 17), 7, 0.0));
        assert!(
            !b.apply(true, &typing(1, "contact", 17), 7, 1000.0),
            "refresh only"
        );
        assert!(b.apply(true, &typing(1, "user", 3), 7, 0.0));
        assert_eq!(b.in_conversation(1).len(), 2);
        assert!(b.in_conversation(1)[0].is_contact());
        assert!(b.apply(false, &typing(1, "user", 3), 7, 0.0));
        assert!(!b.expire(SHOW_FOR_MS));
        assert!(b.expire(SHOW_FOR_MS + 1000.0));
        assert!(b.in_conversation(1).is_empty());
        b.apply(true, &typing(2, "contact", 17), 7, 0.0);
        assert!(b.stop(2, "Contact", 17), "a message ends typing");
    }

    #[test]
    fn outgoing_sends_on_once_and_off_after_a_pause() {
        let mut o = Outgoing::default();
        let on = o.input(4, false, false, 0.0);
        assert_eq!(
            on,
            vec![AgentFrame::TypingOn {
                conversation_id: 4,
                private: false
            }]
        );
        assert!(o.input(4, false, false, 500.0).is_empty());
        assert_eq!(o.tick(2000.0), None);
        assert!(matches!(
            o.tick(3600.0),
            Some(AgentFrame::TypingOff {
                conversation_id: 4,
                ..
            })
        ));
        assert_eq!(o.tick(9000.0), None);
        assert_eq!(o.stop(), None);
    }

    #[test]
    fn switching_to_a_note_or_emptying_the_box_says_so() {
        let mut o = Outgoing::default();
        o.input(4, false, false, 0.0);
        let frames = o.input(4, true, false, 10.0);
        assert_eq!(frames.len(), 2);
        assert!(matches!(
            frames[0],
            AgentFrame::TypingOff { private: false, .. }
        ));
        assert!(matches!(
            frames[1],
            AgentFrame::TypingOn { private: true, .. }
        ));
        assert_eq!(o.input(4, true, true, 20.0).len(), 1);
        assert!(o.input(4, true, true, 30.0).is_empty());
    }
}
