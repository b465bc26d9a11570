//! Chatwoot's webhook shapes (webhooks and API inbox callbacks): the
//! object's fields at the top level, `message_type` as a string and
//! `created_at` in ISO 8601, unlike its REST shapes. The outbox assembles
//! a delivery's body from these (`crate::outbox::payload`).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::chat::Names;
use crate::hub::shard::LiveConversation;
use crate::store::{Contact, Conversation, Message, MessageType, Sender};

/// A conversation as Chatwoot's webhooks show it: the REST shape plus the
/// contact link, channel and account.
pub(crate) fn conversation(
    names: &Names,
    c: &Conversation,
    message: Option<&Message>,
    source_id: Option<String>,
    last_incoming_at: Option<i64>,
    account: &Value,
) -> Map<String, Value> {
    let mut live = LiveConversation::new(c.clone());
    live.last_incoming_at = last_incoming_at;
    live.last_message = message
        .filter(|m| !m.private && m.message_type != MessageType::Activity)
        .map(|m| Arc::new(m.clone()));
    let wire = names.conversation(&live);
    let channel = wire.meta.channel;
    let mut object = match serde_json::to_value(&wire) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    object.remove("queue_position");
    object.insert("channel".into(), json!(channel));
    object.insert(
        "contact_inbox".into(),
        json!({
            "id": c.contact_inbox_id,
            "contact_id": c.contact_id,
            "inbox_id": c.inbox_id,
            "source_id": source_id,
        }),
    );
    object.insert("updated_at".into(), json!(c.last_activity_at));
    object.insert("account".into(), account.clone());
    object
}

/// A message event's body: the message with string `message_type` and ISO
/// `created_at` (Chatwoot's webhook shape, unlike its REST one), its sender,
/// inbox, conversation and account.
pub(crate) fn message(
    names: &Names,
    m: &Message,
    conversation: Map<String, Value>,
    account: &Value,
) -> Map<String, Value> {
    let inbox_id = conversation
        .get("inbox_id")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let inbox = json!({
        "id": inbox_id,
        "name": names.directory.inboxes.get(&inbox_id).map(|i| i.name.as_str()).unwrap_or(""),
    });
    let sender = match m.sender {
        Some(Sender::User(id)) => names.directory.agents.get(&id).map(|a| {
            json!({
                "id": id,
                "name": a.user.available_name(),
                "email": a.user.email,
                "type": "user",
            })
        }),
        Some(Sender::Contact(id)) => names
            .contacts
            .get(&id)
            .map(|c| Value::Object(contact(c, account))),
        None => None,
    };
    let mut object = Map::new();
    object.insert("id".into(), json!(m.id));
    object.insert("content".into(), json!(m.content));
    object.insert("created_at".into(), json!(iso8601(m.created_at)));
    object.insert("message_type".into(), json!(m.message_type.as_str()));
    object.insert("content_type".into(), json!("text"));
    object.insert("content_attributes".into(), m.content_attributes.clone());
    object.insert("additional_attributes".into(), json!({}));
    object.insert("private".into(), json!(m.private));
    object.insert("source_id".into(), json!(m.source_id));
    object.insert("status".into(), json!(m.status.as_str()));
    object.insert("echo_id".into(), json!(m.echo_id));
    object.insert("sender".into(), sender.unwrap_or(Value::Null));
    object.insert("inbox".into(), inbox);
    object.insert("conversation".into(), Value::Object(conversation));
    object.insert("account".into(), account.clone());
    object
}

/// A contact as Chatwoot's webhooks show it.
pub(crate) fn contact(c: &Contact, account: &Value) -> Map<String, Value> {
    let mut object = match serde_json::to_value(super::chat::contact(c)) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    object.remove("availability_status");
    object.insert("avatar".into(), json!(""));
    object.insert("type".into(), json!("contact"));
    object.insert("account".into(), account.clone());
    object
}

/// Unix seconds as `2026-11-25T20:47:58.000Z`.
pub(crate) fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(iso8601(1_795_639_678), "2026-11-25T20:47:58.000Z");
    }
}
