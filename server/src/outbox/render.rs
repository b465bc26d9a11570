//! The bodies of webhook and API inbox calls, in Chatwoot's shapes: the
//! object's fields at the top level with `event` beside them (no envelope).
//!
//! Built from the facts stored with the delivery (see [`super::plan`]) plus
//! the names they refer to, read when the call is made.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::Fault;
use crate::hub::routing::Directory;
use crate::hub::shard::LiveConversation;
use crate::views::chat::{self, Names};
use switchboard_protocol::api::ChannelType;

use crate::store::{
    Contact, Conversation, ConversationStatus, Delivery, Message, MessageStatus, MessageType,
    Sender, Store,
};

/// The JSON body of a webhook or API inbox delivery.
pub(super) async fn body(
    store: &Arc<dyn Store>,
    directory: &Arc<Directory>,
    delivery: &Delivery,
) -> Result<Vec<u8>, Fault> {
    let facts = &delivery.payload;
    let account = json!({ "id": delivery.account_id, "name": directory.account_name });
    let mut out = if let Some(widget) = facts.get("widget") {
        widget_data(store, directory, delivery, widget, &account).await?
    } else if let Some(contact) = facts.get("contact") {
        let contact = contact_from(contact).ok_or(unreadable("contact"))?;
        let mut object = contact_data(&contact, &account);
        object.insert(
            "changed_attributes".into(),
            facts["changed_attributes"].clone(),
        );
        object
    } else {
        let conversation =
            conversation_from(&facts["conversation"]).ok_or(unreadable("conversation"))?;
        let message = match facts.get("message") {
            Some(m) => Some(message_from(m).ok_or(unreadable("message"))?),
            None => None,
        };
        let mut contact_ids = vec![conversation.contact_id];
        if let Some(Sender::Contact(id)) = message.as_ref().and_then(|m| m.sender) {
            contact_ids.push(id);
        }
        contact_ids.dedup();
        let contacts = store
            .contacts_by_ids(delivery.account_id, &contact_ids)
            .await?;
        let names = Names {
            contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
            directory: directory.clone(),
        };
        // A website visitor's source id is their token (a credential), so
        // it is never sent; other channels' ids (a phone number, an API
        // contact's identifier) are what receivers answer to.
        let website = directory
            .inboxes
            .get(&conversation.inbox_id)
            .is_none_or(|i| i.channel_type == ChannelType::WebWidget);
        let source_id = match conversation.contact_inbox_id {
            Some(_) if !website => store
                .link_of(conversation.contact_id, conversation.inbox_id)
                .await?
                .map(|l| l.source_id),
            _ => None,
        };
        // `can_reply` of a WhatsApp conversation depends on when the
        // contact last wrote, as it stands when the event goes out.
        let whatsapp = directory
            .inboxes
            .get(&conversation.inbox_id)
            .is_some_and(|i| i.channel_type == ChannelType::Whatsapp);
        let last_incoming_at = match whatsapp {
            true => store.last_incoming_at(conversation.id).await?,
            false => None,
        };
        let conversation_data = conversation_data(
            &names,
            &conversation,
            message.as_ref(),
            source_id,
            last_incoming_at,
            &account,
        );
        match message {
            Some(m) => message_data(&names, &m, conversation_data, &account),
            None => {
                let mut object = conversation_data;
                if !facts["changed_attributes"].is_null() {
                    object.insert(
                        "changed_attributes".into(),
                        facts["changed_attributes"].clone(),
                    );
                }
                object
            }
        }
    };
    out.insert("event".into(), Value::from(delivery.event.as_str()));
    serde_json::to_vec(&Value::Object(out)).map_err(|e| Fault::Broken(e.to_string()))
}

fn unreadable(what: &str) -> Fault {
    Fault::Broken(format!("stored {what} unreadable"))
}

/// `webwidget_triggered`: the visitor's contact link, with the contact,
/// inbox, their current conversation and what the widget told.
async fn widget_data(
    store: &Arc<dyn Store>,
    directory: &Arc<Directory>,
    delivery: &Delivery,
    widget: &Value,
    account: &Value,
) -> Result<Map<String, Value>, Fault> {
    let contact = contact_from(&widget["contact"]).ok_or(unreadable("contact"))?;
    let inbox_id = widget["inbox_id"].as_i64().unwrap_or_default();
    let current = match widget.get("conversation").filter(|c| !c.is_null()) {
        Some(c) => {
            let c = conversation_from(c).ok_or(unreadable("conversation"))?;
            let contacts = store
                .contacts_by_ids(delivery.account_id, &[c.contact_id])
                .await?;
            let names = Names {
                contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
                directory: directory.clone(),
            };
            Value::Object(conversation_data(&names, &c, None, None, None, account))
        }
        None => Value::Null,
    };
    let mut object = Map::new();
    object.insert("id".into(), widget["contact_inbox_id"].clone());
    object.insert(
        "contact".into(),
        Value::Object(contact_data(&contact, account)),
    );
    object.insert(
        "inbox".into(),
        json!({
            "id": inbox_id,
            "name": directory.inboxes.get(&inbox_id).map(|i| i.name.as_str()).unwrap_or(""),
        }),
    );
    object.insert("account".into(), account.clone());
    object.insert("current_conversation".into(), current);
    object.insert("source_id".into(), Value::Null);
    object.insert("event_info".into(), widget["event_info"].clone());
    Ok(object)
}

/// A conversation as Chatwoot's webhooks show it: the REST shape plus the
/// contact link, channel and account.
fn conversation_data(
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
fn message_data(
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
            .map(|c| Value::Object(contact_data(c, account))),
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
fn contact_data(c: &Contact, account: &Value) -> Map<String, Value> {
    let mut object = match serde_json::to_value(chat::contact(c)) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    object.remove("availability_status");
    object.insert("avatar".into(), json!(""));
    object.insert("type".into(), json!("contact"));
    object.insert("account".into(), account.clone());
    object
}

/// The conversation and message a delivery's stored facts describe.
pub(super) fn facts(payload: &Value) -> Option<(Conversation, Option<Message>)> {
    let conversation = conversation_from(payload.get("conversation")?)?;
    let message = match payload.get("message") {
        Some(m) => Some(message_from(m)?),
        None => None,
    };
    Some((conversation, message))
}

fn conversation_from(v: &Value) -> Option<Conversation> {
    Some(Conversation {
        id: v["id"].as_i64()?,
        account_id: 0,
        inbox_id: v["inbox_id"].as_i64()?,
        contact_id: v["contact_id"].as_i64()?,
        contact_inbox_id: v["contact_inbox_id"].as_i64(),
        status: ConversationStatus::parse(v["status"].as_str()?)?,
        assignee_id: v["assignee_id"].as_i64(),
        snoozed_until: v["snoozed_until"].as_i64(),
        created_at: v["created_at"].as_i64()?,
        last_activity_at: v["last_activity_at"].as_i64()?,
        auto_assigned_at: None,
    })
}

fn message_from(v: &Value) -> Option<Message> {
    Some(Message {
        id: v["id"].as_i64()?,
        account_id: 0,
        conversation_id: v["conversation_id"].as_i64()?,
        message_type: MessageType::parse(v["message_type"].as_str()?)?,
        content: v["content"].as_str().map(str::to_string),
        private: v["private"].as_bool()?,
        sender: Sender::from_parts(v["sender_type"].as_str(), v["sender_id"].as_i64()),
        echo_id: v["echo_id"].as_str().map(str::to_string),
        content_attributes: v["content_attributes"].clone(),
        deleted: v["deleted"].as_bool().unwrap_or(false),
        created_at: v["created_at"].as_i64()?,
        updated_at: v["updated_at"].as_i64()?,
        source_id: v["source_id"].as_str().map(str::to_string),
        status: v["status"]
            .as_str()
            .and_then(MessageStatus::parse)
            .unwrap_or(MessageStatus::Sent),
    })
}

fn contact_from(v: &Value) -> Option<Contact> {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    Some(Contact {
        id: v["id"].as_i64()?,
        account_id: 0,
        name: text("name").unwrap_or_default(),
        email: text("email"),
        phone_number: text("phone_number"),
        identifier: text("identifier"),
        custom_attributes: v["custom_attributes"].clone(),
        created_at: v["created_at"].as_i64()?,
        crm: serde_json::from_value(v["crm"].clone()).ok(),
        identifier_by_visitor: false,
    })
}

/// Unix seconds as `2026-11-25T20:47:58.000Z`.
pub fn iso8601(unix: i64) -> String {
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
