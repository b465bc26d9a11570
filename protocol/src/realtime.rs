//! The WebSocket protocol of `/ws/agent` and `/ws/widget`: JSON text frames,
//! documented with an example of each in `docs/PROTOCOL.md`.
//!
//! Clients send frames tagged by `type`; the server sends frames named by
//! `event`, as Chatwoot's realtime events are named. Events that record a
//! change carry the account's `cursor`, which only ever grows: a client that
//! reconnects with the last cursor it saw receives what it missed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Availability;

/// Close codes the server uses besides the standard ones (1000 normal, 1001
/// going away at shutdown, 1008 repeated abuse, 1009 frame too large).
pub mod close {
    /// The first frame was not a valid `auth`, or the credentials were refused.
    pub const UNAUTHORIZED: u16 = 4001;
    /// No `auth` frame arrived in time.
    pub const AUTH_TIMEOUT: u16 = 4002;
    /// The client read too slowly and its outbound queue filled up. Reconnect
    /// with the last cursor seen to receive the rest.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The credentials this connection was opened with no longer name
    /// anyone: an agent's session was signed out, its password changed, or
    /// the agent was removed from the account; a visitor's token was
    /// replaced when another connection with it proved the visitor's
    /// identity. Do not reconnect with them.
    pub const REVOKED: u16 = 4003;
    /// Nothing was received (not even a pong) for too long.
    pub const IDLE: u16 = 4010;
}

/// Frames an agent console sends on `/ws/agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentFrame {
    /// First frame, unless the upgrade request carried an `api_access_token`
    /// header. `cursor`: the last cursor seen, to resume.
    Auth {
        access_token: String,
        account_id: i64,
        #[serde(default)]
        cursor: Option<u64>,
    },
    TypingOn {
        conversation_id: i64,
        /// Typing a private note: other agents see it, the visitor does not.
        #[serde(default)]
        private: bool,
    },
    TypingOff {
        conversation_id: i64,
        #[serde(default)]
        private: bool,
    },
    /// The agent has read the conversation up to now.
    Read { conversation_id: i64 },
    /// Changes the agent's own availability, as the profile does.
    Availability { availability: Availability },
    /// Answered with a `pong` event.
    Ping {},
}

/// Frames the website widget sends on `/ws/widget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitorFrame {
    /// First frame. Without `visitor_token` the server creates a visitor and
    /// returns its token in `welcome`; the widget keeps it.
    Auth {
        website_token: String,
        #[serde(default)]
        visitor_token: Option<String>,
        #[serde(default)]
        cursor: Option<u64>,
    },
    /// Starts a conversation, optionally with a first message.
    StartConversation {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        echo_id: Option<String>,
    },
    /// Sends a message; answered with `ack` once it is durable.
    Message {
        conversation_id: i64,
        content: String,
        #[serde(default)]
        echo_id: Option<String>,
    },
    /// The visitor opened the chat window (Chatwoot's `webwidget.triggered`):
    /// account webhooks subscribed to `webwidget_triggered` hear of it.
    /// `event_info` is free-form (page, languages); not answered.
    Triggered {
        #[serde(default)]
        event_info: serde_json::Value,
    },
    /// Asks for the events of a conversation: allowed only for the visitor's
    /// own conversations (which they receive anyway).
    Subscribe {
        conversation_id: i64,
    },
    TypingOn {
        conversation_id: i64,
    },
    TypingOff {
        conversation_id: i64,
    },
    /// Asks for a page of the visitor's conversation, answered with a
    /// `history` event: the newest messages, or those older than `before`
    /// (a message id).
    History {
        conversation_id: i64,
        #[serde(default)]
        before: Option<i64>,
    },
    /// Tells who the visitor is (the pre-chat form, or the host page's
    /// `setUser`). Answered with an `identity` event. An `identifier` that
    /// belongs to another contact is accepted only with a valid
    /// `identifier_hash` (HMAC-SHA256 of the identifier with the inbox's
    /// `hmac_token`, hex); the connection then switches to that contact.
    SetUser {
        #[serde(default)]
        identifier: Option<String>,
        #[serde(default)]
        identifier_hash: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        phone_number: Option<String>,
        #[serde(default)]
        avatar_url: Option<String>,
    },
    /// Merges these into the contact's custom attributes; answered with an
    /// `identity` event.
    SetCustomAttributes {
        custom_attributes: serde_json::Map<String, Value>,
    },
    Ping {},
}

/// Every server frame: `{"event": ..., "cursor": ..., "data": ...}`.
/// `cursor` is present on events that can be resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerFrame {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    #[serde(default)]
    pub data: Value,
}

/// Every event a server frame can name: the protocol's one vocabulary,
/// which the server writes and the console and widget read (match on it and
/// the compiler lists what a client does not handle yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerEvent {
    Welcome,
    Error,
    Ack,
    Pong,
    /// The cursor asked for is older than what the server keeps: reload over
    /// REST, then continue from this frame's cursor.
    Resync,
    ConversationCreated,
    ConversationUpdated,
    ConversationStatusChanged,
    /// A conversation was removed (its contact or inbox was deleted).
    ConversationDeleted,
    AssigneeChanged,
    ConversationRead,
    TypingOn,
    TypingOff,
    MessageCreated,
    MessageUpdated,
    PresenceUpdate,
    QueuePosition,
    ContactUpdated,
    /// Visitors: the answer to `history`.
    History,
    /// Visitors: the answer to `set_user` and `set_custom_attributes`, and
    /// their token once their first write made them a contact.
    Identity,
}

impl ServerEvent {
    /// Every event, for parsing and for tests.
    pub const ALL: [ServerEvent; 20] = [
        ServerEvent::Welcome,
        ServerEvent::Error,
        ServerEvent::Ack,
        ServerEvent::Pong,
        ServerEvent::Resync,
        ServerEvent::ConversationCreated,
        ServerEvent::ConversationUpdated,
        ServerEvent::ConversationStatusChanged,
        ServerEvent::ConversationDeleted,
        ServerEvent::AssigneeChanged,
        ServerEvent::ConversationRead,
        ServerEvent::TypingOn,
        ServerEvent::TypingOff,
        ServerEvent::MessageCreated,
        ServerEvent::MessageUpdated,
        ServerEvent::PresenceUpdate,
        ServerEvent::QueuePosition,
        ServerEvent::ContactUpdated,
        ServerEvent::History,
        ServerEvent::Identity,
    ];

    /// The name on the wire (`"message.created"`), as docs/PROTOCOL.md lists.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServerEvent::Welcome => "welcome",
            ServerEvent::Error => "error",
            ServerEvent::Ack => "ack",
            ServerEvent::Pong => "pong",
            ServerEvent::Resync => "resync",
            ServerEvent::ConversationCreated => "conversation.created",
            ServerEvent::ConversationUpdated => "conversation.updated",
            ServerEvent::ConversationStatusChanged => "conversation.status_changed",
            ServerEvent::ConversationDeleted => "conversation.deleted",
            ServerEvent::AssigneeChanged => "assignee.changed",
            ServerEvent::ConversationRead => "conversation.read",
            ServerEvent::TypingOn => "conversation.typing_on",
            ServerEvent::TypingOff => "conversation.typing_off",
            ServerEvent::MessageCreated => "message.created",
            ServerEvent::MessageUpdated => "message.updated",
            ServerEvent::PresenceUpdate => "presence.update",
            ServerEvent::QueuePosition => "queue.position",
            ServerEvent::ContactUpdated => "contact.updated",
            ServerEvent::History => "history",
            ServerEvent::Identity => "identity",
        }
    }

    /// The event of a wire name; `None` for a name this version does not
    /// know (a newer server's), which clients ignore.
    pub fn parse(name: &str) -> Option<ServerEvent> {
        ServerEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl std::fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Event names as strings, for code that compares raw frames (the load
/// tool); each is its [`ServerEvent`]'s name.
pub mod event {
    use super::ServerEvent as E;

    pub const WELCOME: &str = E::Welcome.as_str();
    pub const ERROR: &str = E::Error.as_str();
    pub const ACK: &str = E::Ack.as_str();
    pub const PONG: &str = E::Pong.as_str();
    pub const RESYNC: &str = E::Resync.as_str();
    pub const CONVERSATION_CREATED: &str = E::ConversationCreated.as_str();
    pub const CONVERSATION_UPDATED: &str = E::ConversationUpdated.as_str();
    pub const CONVERSATION_STATUS_CHANGED: &str = E::ConversationStatusChanged.as_str();
    pub const CONVERSATION_DELETED: &str = E::ConversationDeleted.as_str();
    pub const ASSIGNEE_CHANGED: &str = E::AssigneeChanged.as_str();
    pub const CONVERSATION_READ: &str = E::ConversationRead.as_str();
    pub const TYPING_ON: &str = E::TypingOn.as_str();
    pub const TYPING_OFF: &str = E::TypingOff.as_str();
    pub const MESSAGE_CREATED: &str = E::MessageCreated.as_str();
    pub const MESSAGE_UPDATED: &str = E::MessageUpdated.as_str();
    pub const PRESENCE_UPDATE: &str = E::PresenceUpdate.as_str();
    pub const QUEUE_POSITION: &str = E::QueuePosition.as_str();
    pub const CONTACT_UPDATED: &str = E::ContactUpdated.as_str();
    pub const HISTORY: &str = E::History.as_str();
    pub const IDENTITY: &str = E::Identity.as_str();
}

/// `error` data. `error` is a stable code; `message` is for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    /// A stable code: clients show their own words for it.
    pub error: String,
    pub message: String,
    /// For `validation_failed`: the fields at fault, each with its own code
    /// (`blank`, `too_long`, `invalid_email`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::api::FieldError>,
}

/// `ack` data: a visitor's message or new conversation is durable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckData {
    pub conversation_id: i64,
    pub message_id: Option<i64>,
    pub echo_id: Option<String>,
}

/// `welcome` data on `/ws/agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentWelcome {
    pub account_id: i64,
    pub user_id: i64,
    /// Whether the events since the cursor asked for follow (`false`: no
    /// cursor was given).
    pub resumed: bool,
    /// Every agent's effective availability: `online`, `busy` or `offline`.
    pub presence: std::collections::BTreeMap<i64, String>,
}

/// `welcome` data on `/ws/widget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorWelcome {
    /// Keep it: it identifies this visitor on the next connection. Absent
    /// for a new visitor: nothing is stored for a mere page view; the token
    /// comes in an `identity` frame once the visitor first writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
    /// Absent until the visitor first writes, as `visitor_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    /// What the visitor has told about themselves (absent as `contact_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<VisitorContact>,
    pub inbox: WidgetInbox,
    pub resumed: bool,
    /// Whether any collaborator of the inbox is online now.
    pub agents_online: bool,
    /// The visitor's conversations, newest first.
    pub conversations: Vec<VisitorConversation>,
}

/// What the widget shows of its inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetInbox {
    pub id: i64,
    pub name: String,
    pub welcome_title: Option<String>,
    pub welcome_tagline: Option<String>,
    pub widget_color: Option<String>,
    /// The language of the widget's own texts (`en`, `pt-BR`) unless the
    /// host page asks for one; absent: the visitor's browser decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Ask for name and e-mail before the first message.
    #[serde(default)]
    pub pre_chat_form_enabled: bool,
    /// Shown above the pre-chat form.
    #[serde(default)]
    pub pre_chat_message: Option<String>,
}

/// The visitor's own contact, as the widget shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorContact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub identifier: Option<String>,
    pub custom_attributes: Value,
}

/// `history` data: one page of a conversation, oldest first, public
/// messages only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub conversation_id: i64,
    pub messages: Vec<crate::chat::Message>,
    /// Older messages exist: ask again with `before` = the first id here.
    pub has_more: bool,
}

/// `identity` data: the answer to `set_user` and `set_custom_attributes`,
/// and sent unasked when a new visitor first writes (they are a contact
/// from then on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The contact is now another one (a verified identifier named an
    /// existing contact): keep this token and reconnect with it.
    pub switched: bool,
    /// The visitor's token from now on. It can change without `switched`
    /// (a new visitor's first token; a new token once the visitor proved
    /// their identity): always keep the latest.
    pub visitor_token: String,
    pub contact: VisitorContact,
    /// This visitor's link was handed out only to sessions that signed the
    /// contact's identifier with the inbox's HMAC token.
    pub hmac_verified: bool,
}

/// An agent as a visitor sees them: the display name, never the e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicAgent {
    pub id: i64,
    pub available_name: String,
    pub avatar_url: String,
}

/// A conversation as its visitor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorConversation {
    pub id: i64,
    pub inbox_id: i64,
    pub status: crate::chat::ConversationStatus,
    pub assignee: Option<PublicAgent>,
    /// 1-based place in the queue while waiting unassigned.
    pub queue_position: Option<usize>,
    pub created_at: i64,
}

/// `queue.position` data (visitors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePosition {
    pub conversation_id: i64,
    /// `null` once the conversation left the queue.
    pub position: Option<usize>,
}

/// `conversation.typing_on` / `typing_off` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Typing {
    pub conversation_id: i64,
    /// `user` (an agent) or `contact` (the visitor).
    pub sender_type: String,
    pub sender_id: i64,
    /// The agent's display name (absent for contacts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub is_private: bool,
}

/// `conversation.read` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Read {
    pub conversation_id: i64,
    pub user_id: i64,
    pub read_at: i64,
}

/// `presence.update` data on `/ws/agent`: every agent's effective status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPresence {
    pub account_id: i64,
    pub users: std::collections::BTreeMap<i64, String>,
}

/// `presence.update` data on `/ws/widget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorPresence {
    pub agents_online: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_one_name_that_parses_back() {
        let mut names = std::collections::HashSet::new();
        for e in ServerEvent::ALL {
            assert!(names.insert(e.as_str()), "{e} named twice");
            assert_eq!(ServerEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(
            ServerEvent::parse("conversation.deleted"),
            Some(ServerEvent::ConversationDeleted)
        );
        assert_eq!(ServerEvent::parse("conversation.archived"), None);
        // A new variant fails to compile here: the reminder to add it to
        // `ALL` too (a variant missing there would never parse).
        for e in ServerEvent::ALL {
            match e {
                ServerEvent::Welcome
                | ServerEvent::Error
                | ServerEvent::Ack
                | ServerEvent::Pong
                | ServerEvent::Resync
                | ServerEvent::ConversationCreated
                | ServerEvent::ConversationUpdated
                | ServerEvent::ConversationStatusChanged
                | ServerEvent::ConversationDeleted
                | ServerEvent::AssigneeChanged
                | ServerEvent::ConversationRead
                | ServerEvent::TypingOn
                | ServerEvent::TypingOff
                | ServerEvent::MessageCreated
                | ServerEvent::MessageUpdated
                | ServerEvent::PresenceUpdate
                | ServerEvent::QueuePosition
                | ServerEvent::ContactUpdated
                | ServerEvent::History
                | ServerEvent::Identity => {}
            }
        }
    }

    #[test]
    fn client_frames_are_tagged_by_type() {
        let frame: AgentFrame =
            serde_json::from_str(r#"{"type":"typing_on","conversation_id":4}"#).unwrap();
        assert_eq!(
            frame,
            AgentFrame::TypingOn {
                conversation_id: 4,
                private: false
            }
        );
        let frame: VisitorFrame =
            serde_json::from_str(r#"{"type":"message","conversation_id":4,"content":"hi"}"#)
                .unwrap();
        assert!(matches!(frame, VisitorFrame::Message { echo_id: None, .. }));
    }

    #[test]
    fn unknown_types_and_fields_are_refused() {
        assert!(serde_json::from_str::<AgentFrame>(r#"{"type":"shout"}"#).is_err());
        assert!(
            serde_json::from_str::<VisitorFrame>(r#"{"type":"ping","extra":1}"#).is_err(),
            "a misspelt field must not be ignored silently"
        );
    }
}
