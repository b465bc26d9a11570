//! Which outbound calls a commit causes, decided while the shard's lock is
//! held so that the rows join the same commit as their cause.
//!
//! A row holds the facts of the event as they were at that moment (the
//! conversation's state, the message, what changed); the body is rendered
//! from them when the call is made (`outbox::payload`), with the contact's,
//! inbox's and account's current names. Accounts with no webhook and no
//! callback inbox pay a glance at their inboxes per commit.
//!
//! Events, as Chatwoot sends them:
//! - `conversation_created`; `conversation_updated` when its status,
//!   assignee or snooze time changed, and also `conversation_status_changed`
//!   when the status did, each with `changed_attributes`;
//! - `message_created` / `message_updated`, never for activity lines.
//!
//! A WhatsApp inbox's agent replies (outgoing, not private) become a
//! `send_message` call to the Graph API, and a customer's media a
//! `download_media` call.
//!
//! Account webhooks get the events they subscribe to (of their inbox only,
//! when they name one). An API inbox's `webhook_url` gets every event of its
//! conversations except private notes: its receiver speaks to the contact,
//! and private notes never reach a contact (Chatwoot sends them; bridges
//! then have to filter them out themselves).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use switchboard_protocol::api::ChannelType;

use crate::hub::feed::{ConversationChange, Posted};
use crate::hub::routing::Directory;
use crate::store::{
    now_ms, Contact, Conversation, DeliveryKind, Message, MessageType, NewDelivery,
};

/// The events an account webhook can subscribe to.
pub const EVENTS: [&str; 8] = [
    "conversation_created",
    "conversation_status_changed",
    "conversation_updated",
    "message_created",
    "message_updated",
    "webwidget_triggered",
    "contact_created",
    "contact_updated",
];

/// The outbound calls of one commit.
pub fn plan<'a>(
    directory: &Directory,
    conversations: &[ConversationChange],
    messages: &[Posted],
    conversation_of: impl Fn(i64) -> Option<&'a Conversation>,
) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    if !directory.has_outbound() {
        return out;
    }
    let mut planner = Planner {
        directory,
        out: &mut out,
        at: now_ms(),
    };
    for change in conversations {
        let Some(after) = &change.after else { continue };
        let c = &after.conversation;
        match &change.before {
            None => planner.conversation_event("conversation_created", c, Value::Null),
            Some(before) => {
                let changed = changed_attributes(before, c);
                if changed.is_empty() {
                    continue;
                }
                if before.status != c.status {
                    let status = changed
                        .iter()
                        .filter(|a| a.get("status").is_some())
                        .cloned()
                        .collect();
                    planner.conversation_event(
                        "conversation_status_changed",
                        c,
                        Value::Array(status),
                    );
                }
                planner.conversation_event("conversation_updated", c, Value::Array(changed));
            }
        }
    }
    for posted in messages {
        let m = &posted.message;
        if m.message_type == MessageType::Activity {
            continue;
        }
        let Some(c) = conversation_of(m.conversation_id) else {
            continue;
        };
        let event = if posted.edited {
            "message_updated"
        } else {
            "message_created"
        };
        planner.message_event(event, c, m);
    }
    out
}

/// The calls of a contact's creation or change (account webhooks only: a
/// contact belongs to no one inbox).
pub fn plan_contact(
    directory: &Directory,
    event: &str,
    contact: &Contact,
    changed: Value,
) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    let payload = json!({ "contact": contact_facts(contact), "changed_attributes": changed });
    for hook in &directory.webhooks {
        if hook.inbox_id.is_none() && hook.subscriptions.iter().any(|s| s == event) {
            out.push(delivery(
                contact.account_id,
                DeliveryKind::Webhook,
                Some(hook.id),
                None,
                event,
                payload.clone(),
                now_ms(),
            ));
        }
    }
    out
}

/// A website visitor opening the chat window.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    pub inbox_id: i64,
    /// The visitor's token is not among the facts: it is their credential.
    pub contact_inbox_id: i64,
    /// Their latest unresolved conversation in the inbox, if any.
    pub conversation: Option<Conversation>,
    /// What the widget tells of the visit (page, languages).
    pub event_info: Value,
}

/// The calls of a visitor opening the widget (`webwidget_triggered`).
pub fn plan_widget(directory: &Directory, contact: &Contact, visit: Visit) -> Vec<NewDelivery> {
    let event = "webwidget_triggered";
    let payload = json!({ "widget": {
        "contact": contact_facts(contact),
        "inbox_id": visit.inbox_id,
        "contact_inbox_id": visit.contact_inbox_id,
        "conversation": visit.conversation.as_ref().map(conversation_facts),
        "event_info": visit.event_info,
    }});
    directory
        .webhooks
        .iter()
        .filter(|h| h.inbox_id.is_none_or(|id| id == visit.inbox_id))
        .filter(|h| h.subscriptions.iter().any(|s| s == event))
        .map(|h| {
            delivery(
                contact.account_id,
                DeliveryKind::Webhook,
                Some(h.id),
                Some(visit.inbox_id),
                event,
                payload.clone(),
                now_ms(),
            )
        })
        .collect()
}

struct Planner<'p> {
    directory: &'p Directory,
    out: &'p mut Vec<NewDelivery>,
    at: i64,
}

impl Planner<'_> {
    fn conversation_event(&mut self, event: &str, c: &Conversation, changed: Value) {
        // A contact arriving through an inbox the CRM integration applies
        // to is sent there (one lane per account: the CRM's rate limit is
        // the account's token's).
        if event == "conversation_created" && self.directory.crm_applies(c.inbox_id) {
            self.out.push(crate::crm::sync::delivery(
                c.account_id,
                c.contact_id,
                Some(c.id),
                Some(c.inbox_id),
                self.at,
            ));
        }
        let payload =
            json!({ "conversation": conversation_facts(c), "changed_attributes": changed });
        self.fan_out(event, c, payload, true);
    }

    fn message_event(&mut self, event: &str, c: &Conversation, m: &Message) {
        let payload = json!({
            "conversation": conversation_facts(c),
            "message": message_facts(m),
        });
        let reply = event == "message_created"
            && !m.private
            && matches!(
                m.message_type,
                MessageType::Outgoing | MessageType::Template
            );
        let whatsapp = self
            .directory
            .inboxes
            .get(&c.inbox_id)
            .is_some_and(|i| i.channel_type == ChannelType::Whatsapp);
        let media = event == "message_created"
            && m.message_type == MessageType::Incoming
            && m.content_attributes.get("whatsapp_media").is_some();
        if media && whatsapp {
            self.out.push(delivery(
                c.account_id,
                DeliveryKind::Whatsapp,
                None,
                Some(c.inbox_id),
                "download_media",
                payload.clone(),
                self.at,
            ));
        }
        if reply && whatsapp {
            self.out.push(delivery(
                c.account_id,
                DeliveryKind::Whatsapp,
                None,
                Some(c.inbox_id),
                "send_message",
                payload.clone(),
                self.at,
            ));
        }
        self.fan_out(event, c, payload, !m.private);
    }

    fn fan_out(&mut self, event: &str, c: &Conversation, payload: Value, to_inbox: bool) {
        let (account_id, inbox_id) = (c.account_id, c.inbox_id);
        for hook in &self.directory.webhooks {
            let inbox_matches = hook.inbox_id.is_none_or(|id| id == inbox_id);
            if inbox_matches && hook.subscriptions.iter().any(|s| s == event) {
                self.out.push(delivery(
                    account_id,
                    DeliveryKind::Webhook,
                    Some(hook.id),
                    Some(inbox_id),
                    event,
                    payload.clone(),
                    self.at,
                ));
            }
        }
        let callback = self.directory.inboxes.get(&inbox_id).is_some_and(|i| {
            i.channel_type == ChannelType::Api
                && i.settings
                    .webhook_url
                    .as_deref()
                    .is_some_and(|u| !u.is_empty())
        });
        if to_inbox && callback {
            self.out.push(delivery(
                account_id,
                DeliveryKind::ApiInbox,
                None,
                Some(inbox_id),
                event,
                payload,
                self.at,
            ));
        }
    }
}

pub(crate) fn delivery(
    account_id: i64,
    kind: DeliveryKind,
    webhook_id: Option<i64>,
    inbox_id: Option<i64>,
    event: &str,
    payload: Value,
    at: i64,
) -> NewDelivery {
    NewDelivery {
        account_id,
        kind,
        webhook_id,
        inbox_id,
        event: event.to_string(),
        delivery_id: new_delivery_id(),
        payload,
        created_at: at,
    }
}

/// A random UUID (version 4), the delivery id receivers de-duplicate on.
pub fn new_delivery_id() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `[{"status": {"previous_value": "open", "current_value": "resolved"}}, ...]`
/// for the attributes Chatwoot reports.
fn changed_attributes(before: &Conversation, after: &Conversation) -> Vec<Value> {
    let mut out = Vec::new();
    let mut diff = |name: &str, old: Value, new: Value| {
        if old != new {
            out.push(json!({ name: { "previous_value": old, "current_value": new } }));
        }
    };
    diff(
        "status",
        before.status.as_str().into(),
        after.status.as_str().into(),
    );
    diff(
        "assignee_id",
        before.assignee_id.into(),
        after.assignee_id.into(),
    );
    diff(
        "snoozed_until",
        before.snoozed_until.into(),
        after.snoozed_until.into(),
    );
    out
}

/// What changed between two versions of a contact, in Chatwoot's
/// `changed_attributes` form.
pub fn contact_changes(before: &Contact, after: &Contact) -> Vec<Value> {
    let mut out = Vec::new();
    let mut diff = |name: &str, old: Value, new: Value| {
        if old != new {
            out.push(json!({ name: { "previous_value": old, "current_value": new } }));
        }
    };
    diff(
        "name",
        before.name.as_str().into(),
        after.name.as_str().into(),
    );
    diff(
        "email",
        before.email.clone().into(),
        after.email.clone().into(),
    );
    diff(
        "phone_number",
        before.phone_number.clone().into(),
        after.phone_number.clone().into(),
    );
    diff(
        "identifier",
        before.identifier.clone().into(),
        after.identifier.clone().into(),
    );
    diff("crm", json!(before.crm), json!(after.crm));
    diff(
        "custom_attributes",
        before.custom_attributes.clone(),
        after.custom_attributes.clone(),
    );
    out
}

/// The conversation's state, as stored in an outbox row.
pub(super) fn conversation_facts(c: &Conversation) -> Value {
    json!({
        "id": c.id,
        "inbox_id": c.inbox_id,
        "contact_id": c.contact_id,
        "contact_inbox_id": c.contact_inbox_id,
        "status": c.status.as_str(),
        "assignee_id": c.assignee_id,
        "snoozed_until": c.snoozed_until,
        "created_at": c.created_at,
        "last_activity_at": c.last_activity_at,
    })
}

/// The message, as stored in an outbox row.
pub(super) fn message_facts(m: &Message) -> Value {
    json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "message_type": m.message_type.as_str(),
        "content": m.content,
        "private": m.private,
        "sender_type": m.sender.map(|s| s.type_str()),
        "sender_id": m.sender.map(|s| s.id()),
        "echo_id": m.echo_id,
        "content_attributes": m.content_attributes,
        "deleted": m.deleted,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "source_id": m.source_id,
        "status": m.status.as_str(),
    })
}

/// The contact, as stored in an outbox row.
pub(super) fn contact_facts(c: &Contact) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone_number": c.phone_number,
        "identifier": c.identifier,
        "custom_attributes": c.custom_attributes,
        "created_at": c.created_at,
        "crm": c.crm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_version_4_uuids() {
        let a = new_delivery_id();
        let b = new_delivery_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
