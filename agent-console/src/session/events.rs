//! `/ws/agent` frames, decoded into the protocol crate's types. Pure, so
//! the decoding of every event is tested natively.

use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_protocol::api::Availability;
use switchboard_protocol::chat::{Contact, Conversation, Message};
use switchboard_protocol::realtime::{
    AgentFrame, AgentPresence, AgentWelcome, ErrorData, Read, ServerEvent, ServerFrame, Typing,
};

/// Which kind of change a conversation event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Assignee,
    Status,
    Updated,
}

/// One server frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Welcome(AgentWelcome),
    /// The cursor asked for is gone: reload everything over REST.
    Resync,
    Error(ErrorData),
    Pong,
    Conversation(ChangeKind, Box<Conversation>),
    ConversationDeleted(i64),
    MessageCreated(Box<Message>),
    MessageUpdated(Box<Message>),
    ContactUpdated(Box<Contact>),
    Typing(bool, Typing),
    Read(Read),
    Presence(AgentPresence),
    /// An event this console does not know (a newer server): ignored.
    Other(String),
}

impl Event {
    /// Events that record a change advance the cursor and are replayed on
    /// resume; signals and replies do not.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Event::Conversation(..)
                | Event::ConversationDeleted(_)
                | Event::MessageCreated(_)
                | Event::MessageUpdated(_)
                | Event::ContactUpdated(_)
        )
    }
}

/// A decoded frame and its cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub cursor: Option<u64>,
    pub event: Event,
}

fn data<T: DeserializeOwned>(name: &str, value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("{name}: {e}"))
}

/// Decodes one text frame.
pub fn decode(text: &str) -> Result<Incoming, String> {
    let frame: ServerFrame = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let name = frame.event.as_str();
    let d = frame.data;
    let conversation = |kind| -> Result<Event, String> {
        Ok(Event::Conversation(kind, Box::new(data(name, d.clone())?)))
    };
    let event = match ServerEvent::parse(name) {
        Some(ServerEvent::Welcome) => Event::Welcome(data(name, d)?),
        Some(ServerEvent::Resync) => Event::Resync,
        Some(ServerEvent::Error) => Event::Error(data(name, d)?),
        Some(ServerEvent::Pong) => Event::Pong,
        Some(ServerEvent::ConversationCreated) => conversation(ChangeKind::Created)?,
        Some(ServerEvent::AssigneeChanged) => conversation(ChangeKind::Assignee)?,
        Some(ServerEvent::ConversationStatusChanged) => conversation(ChangeKind::Status)?,
        Some(ServerEvent::ConversationUpdated) => conversation(ChangeKind::Updated)?,
        Some(ServerEvent::ConversationDeleted) => {
            let id = d.get("id").and_then(Value::as_i64);
            Event::ConversationDeleted(id.ok_or("conversation.deleted without an id")?)
        }
        Some(ServerEvent::MessageCreated) => Event::MessageCreated(Box::new(data(name, d)?)),
        Some(ServerEvent::MessageUpdated) => Event::MessageUpdated(Box::new(data(name, d)?)),
        Some(ServerEvent::ContactUpdated) => Event::ContactUpdated(Box::new(data(name, d)?)),
        Some(ServerEvent::TypingOn) => Event::Typing(true, data(name, d)?),
        Some(ServerEvent::TypingOff) => Event::Typing(false, data(name, d)?),
        Some(ServerEvent::ConversationRead) => Event::Read(data(name, d)?),
        Some(ServerEvent::PresenceUpdate) => Event::Presence(data(name, d)?),
        // Visitors' events (and a newer server's) mean nothing here.
        Some(
            ServerEvent::Ack
            | ServerEvent::QueuePosition
            | ServerEvent::History
            | ServerEvent::Identity,
        )
        | None => Event::Other(name.to_string()),
    };
    Ok(Incoming {
        cursor: frame.cursor,
        event,
    })
}

/// Serialises a frame to send; the protocol's own type, so a field the
/// server would refuse cannot be invented here.
pub fn encode(frame: &AgentFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

/// The availability of a presence value (`online` is `available`).
pub fn presence_availability(presence: &str) -> Option<Availability> {
    Availability::parse(presence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{conversation_json, message_json};

    #[test]
    fn decodes_welcome_and_signals() {
        let w = decode(
            r#"{"event":"welcome","cursor":7,"data":{"account_id":1,"user_id":2,"resumed":true,"presence":{"2":"online"}}}"#,
        )
        .unwrap();
        assert_eq!(w.cursor, Some(7));
        assert!(
            matches!(w.event, Event::Welcome(ref d) if d.resumed && d.presence[&2] == "online")
        );
        let t = decode(r#"{"event":"conversation.typing_on","cursor":7,"data":{"conversation_id":4,"sender_type":"contact","sender_id":9,"is_private":false}}"#).unwrap();
        assert!(matches!(t.event, Event::Typing(true, ref d) if d.conversation_id == 4));
        assert!(!t.event.is_change());
        let r = decode(r#"{"event":"resync","cursor":99,"data":{}}"#).unwrap();
        assert_eq!((r.event, r.cursor), (Event::Resync, Some(99)));
    }

    #[test]
    fn decodes_changes() {
        let text = format!(
            r#"{{"event":"assignee.changed","cursor":12,"data":{}}}"#,
            conversation_json(42, Some(2), "open", 100)
        );
        let e = decode(&text).unwrap();
        assert!(e.event.is_change());
        match e.event {
            Event::Conversation(ChangeKind::Assignee, c) => assert_eq!(c.assignee_id, Some(2)),
            other => panic!("{other:?}"),
        }
        let text = format!(
            r#"{{"event":"message.created","cursor":13,"data":{}}}"#,
            message_json(311, 42, 1, false)
        );
        assert!(matches!(decode(&text).unwrap().event, Event::MessageCreated(m) if m.id == 311));
        let d = decode(r#"{"event":"conversation.deleted","cursor":14,"data":{"id":42}}"#).unwrap();
        assert_eq!(d.event, Event::ConversationDeleted(42));
    }

    #[test]
    fn unknown_events_are_kept_apart_and_bad_ones_refused() {
        let e = decode(r#"{"event":"label.added","cursor":1,"data":{}}"#).unwrap();
        assert_eq!(e.event, Event::Other("label.added".into()));
        assert!(decode(r#"{"event":"message.created","data":{"id":"x"}}"#).is_err());
        assert!(decode("not json").is_err());
    }

    #[test]
    fn encodes_protocol_frames() {
        let f = AgentFrame::TypingOn {
            conversation_id: 4,
            private: true,
        };
        assert_eq!(
            encode(&f),
            r#"{"type":"typing_on","conversation_id":4,"private":true}"#
        );
        assert_eq!(
            presence_availability("online"),
            Some(Availability::Available)
        );
    }
}
