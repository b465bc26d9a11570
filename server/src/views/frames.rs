//! Serializing events: each frame once, as the bytes every subscriber gets.

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use switchboard_protocol::realtime::{PublicAgent, ServerEvent, VisitorConversation};

use crate::hub::routing::Directory;
use crate::store::Conversation;

#[derive(Serialize)]
struct Out<'a, T> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<u64>,
    data: &'a T,
}

/// One server frame as text.
pub(crate) fn frame<T: Serialize>(event: ServerEvent, cursor: Option<u64>, data: &T) -> Utf8Bytes {
    let text = serde_json::to_string(&Out {
        event: event.as_str(),
        cursor,
        data,
    })
    .unwrap_or_else(|err| {
        // Our own types always serialize; if one ever does not, say so.
        tracing::error!(%err, %event, "an event could not be serialized");
        format!(r#"{{"event":"{event}","data":null}}"#)
    });
    Utf8Bytes::from(text)
}

/// An agent as visitors see them.
pub(crate) fn public_agent(directory: &Directory, agent_id: i64) -> Option<PublicAgent> {
    directory.agents.get(&agent_id).map(|a| PublicAgent {
        id: agent_id,
        available_name: a.user.available_name().to_string(),
        avatar_url: String::new(),
    })
}

/// A conversation as its visitor sees it.
pub(crate) fn visitor_conversation(
    directory: &Directory,
    c: &Conversation,
    queue_position: Option<usize>,
) -> VisitorConversation {
    VisitorConversation {
        id: c.id,
        inbox_id: c.inbox_id,
        status: c.status,
        assignee: c.assignee_id.and_then(|a| public_agent(directory, a)),
        queue_position,
        created_at: c.created_at,
    }
}
