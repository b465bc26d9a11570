//! The conversation model: what the message list shows, independent of the
//! DOM and of the socket, so every merge rule is unit tested.
//!
//! The widget shows one conversation, the visitor's latest: a resolved one
//! is reopened by the server when the visitor writes, so there is never a
//! reason to show another. Items are kept in display order: server messages
//! by id (ids grow with time), then the visitor's own messages that have no
//! id yet, in the order they were written. A message reaches us up to three
//! times (history page, live event, `ack`); each merges into one item.

use switchboard_protocol::chat::ConversationStatus;
use switchboard_protocol::realtime::VisitorConversation;

pub use files::{Attachment, FileKind};

/// Where one of the visitor's own messages stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Not acknowledged yet (maybe waiting for the connection).
    Sending,
    /// Durable on the server.
    Sent,
    /// Refused; the reason is shown and Retry sends it again (same echo id).
    Failed(Reason),
}

/// Why the server refused something, kept as a kind rather than a text so
/// it is shown in the current language (the locale can change later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    RateLimited,
    NotFound,
    Unverified,
    InvalidEmail,
    /// An upload over the server's size limit for one request.
    TooLarge,
    /// The server is busy; nothing changed.
    Busy,
    /// The e-mail (or identifier) is already another contact's.
    Taken,
    /// A field the server refused as too long.
    TooLong,
    /// Anything else: the server's own words (may be empty).
    Other(String),
}

impl Reason {
    /// From an `error` frame's (or answer's) code and message. Codes known
    /// here are shown in the visitor's language; others in the server's
    /// words.
    pub fn from_error(code: &str, message: &str) -> Reason {
        Reason::from_codes(code, None, message)
    }

    /// [`Reason::from_error`] with the code of the first field at fault,
    /// for `validation_failed`.
    pub fn from_codes(code: &str, field: Option<&str>, message: &str) -> Reason {
        match (code, field) {
            ("rate_limited", _) => Reason::RateLimited,
            ("not_found", _) => Reason::NotFound,
            ("identity_unverified", _) => Reason::Unverified,
            ("payload_too_large", _) => Reason::TooLarge,
            ("busy", _) => Reason::Busy,
            ("conflict", _) => Reason::Taken,
            ("validation_failed", Some("invalid_email")) => Reason::InvalidEmail,
            ("validation_failed", Some("too_long")) => Reason::TooLong,
            _ => Reason::Other(message.trim().to_string()),
        }
    }
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Written by the visitor.
    Own(Delivery),
    /// Written by the team: the agent's display name and picture, if any.
    Team {
        name: String,
        avatar: Option<String>,
    },
    /// "{name} joined the conversation", made here from assignee changes.
    Joined(String),
    /// "This conversation was marked resolved…", made here when the team
    /// resolves the shown conversation.
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Stable for the item's life (the DOM node is keyed by it), also
    /// across the moment a pending message learns its server id.
    pub uid: u32,
    /// Bumped on every change, so the view redraws only what changed.
    pub rev: u32,
    pub id: Option<i64>,
    pub echo_id: Option<String>,
    pub kind: Kind,
    pub content: String,
    /// The message's files (none on notices and on text being sent).
    pub attachments: Vec<Attachment>,
    /// Display order: `(id, 0, 0)` for server messages, `(MAX, uid, 0)`
    /// for pending ones; a notice takes the order of the item it follows
    /// (`anchor`) with its own uid last, and moves with it.
    order: (i64, u32, u32),
    anchor: Option<u32>,
}

/// The conversation the widget shows and everything shown about it.
#[derive(Debug, Default)]
pub struct Chat {
    /// The visitor's conversations (from `welcome` and later events).
    pub conversations: Vec<VisitorConversation>,
    /// The shown conversation: the latest one.
    pub current: Option<i64>,
    pub items: Vec<Item>,
    /// Older messages than the oldest shown exist on the server.
    pub has_more: bool,
    /// The typing agent's name, and until when to believe it (ms).
    pub typing: Option<(String, f64)>,
    /// Team messages that arrived while the window was closed.
    pub unread: u32,
    next_uid: u32,
}

/// How long a typing indicator lasts without being renewed (a lost
/// `typing_off` must not leave it forever).
pub const TYPING_TTL_MS: f64 = 30_000.0;

impl Chat {
    fn uid(&mut self) -> u32 {
        self.next_uid += 1;
        self.next_uid
    }

    /// Forgets everything: a reset, or another contact.
    pub fn clear(&mut self) {
        let next_uid = self.next_uid;
        *self = Chat::default();
        self.next_uid = next_uid;
    }

    pub fn conversation(&self) -> Option<&VisitorConversation> {
        let id = self.current?;
        self.conversations.iter().find(|c| c.id == id)
    }

    /// Takes the conversation list of a `welcome` (or a reload) and shows
    /// the latest. Returns whether the shown conversation changed.
    pub fn set_conversations(&mut self, list: Vec<VisitorConversation>) -> bool {
        self.conversations = list;
        let latest = self.conversations.iter().map(|c| c.id).max();
        let changed = latest != self.current;
        if changed {
            self.switch_to(latest);
        }
        changed
    }

    /// Shows another conversation: its messages are not ours to keep, but
    /// the visitor's unsent words are (they go into whichever is latest).
    fn switch_to(&mut self, id: Option<i64>) {
        self.current = id;
        self.items
            .retain(|i| i.id.is_none() && matches!(i.kind, Kind::Own(_)));
        self.has_more = false;
        self.typing = None;
    }

    /// A conversation was created or changed (live). A newer one than the
    /// shown one becomes the shown one. Returns the agent's name when the
    /// shown conversation was just taken by someone new, also when it is
    /// created already assigned.
    pub fn upsert_conversation(&mut self, c: VisitorConversation) -> Option<String> {
        let newer = self.current.is_none_or(|cur| c.id > cur);
        let before = self.conversations.iter().position(|x| x.id == c.id);
        let was = before.and_then(|i| self.conversations[i].assignee.as_ref().map(|a| a.id));
        let was_resolved =
            before.is_some_and(|i| self.conversations[i].status == ConversationStatus::Resolved);
        let resolved =
            c.status == ConversationStatus::Resolved && before.is_some() && !was_resolved;
        let now = c.assignee.clone();
        let id = c.id;
        match before {
            Some(i) => self.conversations[i] = c,
            None => self.conversations.insert(0, c),
        }
        if newer {
            self.switch_to(Some(id));
        }
        if resolved && self.current == Some(id) {
            self.add_event(Kind::Resolved);
        }
        let agent = now.filter(|a| Some(a.id) != was)?;
        (self.current == Some(id)).then(|| {
            self.add_event(Kind::Joined(agent.available_name.clone()));
            agent.available_name
        })
    }

    pub fn remove_conversation(&mut self, id: i64) {
        self.conversations.retain(|c| c.id != id);
        if self.current == Some(id) {
            let latest = self.conversations.iter().map(|c| c.id).max();
            self.switch_to(latest);
        }
    }

    pub fn set_queue_position(&mut self, conversation_id: i64, position: Option<usize>) {
        if let Some(c) = self
            .conversations
            .iter_mut()
            .find(|c| c.id == conversation_id)
        {
            c.queue_position = position;
        }
    }

    /// "You are number N in line": the shown conversation waits unassigned.
    pub fn queue_position(&self) -> Option<usize> {
        self.conversation()
            .filter(|c| c.assignee.is_none())
            .and_then(|c| c.queue_position)
    }

    /// An agent started or stopped typing in the shown conversation.
    pub fn set_typing(&mut self, conversation_id: i64, name: Option<String>, on: bool, now: f64) {
        if Some(conversation_id) != self.current {
            return;
        }
        self.typing = match (on, name) {
            (true, Some(name)) => Some((name, now + TYPING_TTL_MS)),
            (true, None) => self.typing.take(),
            (false, _) => None,
        };
    }

    /// Drops a typing indicator nobody renewed. Returns whether it changed.
    pub fn expire_typing(&mut self, now: f64) -> bool {
        let stale = self.typing.as_ref().is_some_and(|(_, until)| *until <= now);
        if stale {
            self.typing = None;
        }
        stale
    }
}

mod files;
mod items;

#[cfg(test)]
pub(crate) mod tests;
