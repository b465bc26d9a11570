//! The bodies of webhook and API inbox calls: the facts stored with the
//! delivery (see [`super::plan`]) plus the names they refer to, read when
//! the call is made, in the shapes of [`crate::views::webhook`], with
//! `event` beside the object's fields (no envelope).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::Fault;
use crate::hub::routing::Directory;
use crate::views::chat::Names;
use crate::views::webhook;
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
        let mut object = webhook::contact(&contact, &account);
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
        let names = names(store, directory, delivery.account_id, &contact_ids).await?;
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
        let conversation_data = webhook::conversation(
            &names,
            &conversation,
            message.as_ref(),
            source_id,
            last_incoming_at,
            &account,
        );
        match message {
            Some(m) => webhook::message(&names, &m, conversation_data, &account),
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

/// The given contacts (one read) and the account's directory.
async fn names(
    store: &Arc<dyn Store>,
    directory: &Arc<Directory>,
    account_id: i64,
    contact_ids: &[i64],
) -> Result<Names, Fault> {
    let contacts = store.contacts_by_ids(account_id, contact_ids).await?;
    Ok(Names::new(contacts, directory.clone()))
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
            let names = names(store, directory, delivery.account_id, &[c.contact_id]).await?;
            Value::Object(webhook::conversation(&names, &c, None, None, None, account))
        }
        None => Value::Null,
    };
    let mut object = Map::new();
    object.insert("id".into(), widget["contact_inbox_id"].clone());
    object.insert(
        "contact".into(),
        Value::Object(webhook::contact(&contact, account)),
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
