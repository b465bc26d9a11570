//! Conversations, messages and inboxes in the server's REST shape, for unit tests.

use switchboard_protocol::chat::{Conversation, Message};

pub(crate) fn agent_json(id: i64, name: &str) -> String {
    format!(
        r#"{{"id":{id},"account_id":1,"availability_status":"available","auto_offline":true,
        "confirmed":true,"email":"a{id}@x.test","available_name":"{name}","name":"{name}",
        "display_name":null,"role":"agent","thumbnail":"","max_concurrent_conversations":null}}"#
    )
}

pub(crate) fn contact_json(id: i64, name: &str) -> String {
    format!(
        r#"{{"id":{id},"name":"{name}","email":null,"phone_number":null,"identifier":null,
        "thumbnail":"","custom_attributes":{{}},"additional_attributes":{{}},
        "availability_status":"offline","blocked":false,"created_at":1,"last_activity_at":null}}"#
    )
}

/// `message_type`: 0 incoming, 1 outgoing, 2 activity.
pub(crate) fn message_json(id: i64, conversation: i64, kind: i64, private: bool) -> String {
    let sender = match kind {
        0 => {
            r#""sender_type":"Contact","sender_id":17,"sender":{"id":17,"name":"Joana","available_name":"Joana","avatar_url":"","thumbnail":"","type":"contact"}"#
        }
        1 => {
            r#""sender_type":"User","sender_id":2,"sender":{"id":2,"name":"Bruno","available_name":"Bruno","avatar_url":"","thumbnail":"","type":"user"}"#
        }
        _ => r#""sender_type":null,"sender_id":null,"sender":null"#,
    };
    format!(
        r#"{{"id":{id},"content":"m{id}","account_id":1,"inbox_id":3,"conversation_id":{conversation},
        "message_type":{kind},"content_type":"text","content_attributes":{{}},"created_at":{id},
        "updated_at":{id},"private":{private},"status":"sent","source_id":null,{sender},"echo_id":null}}"#
    )
}

pub(crate) fn conversation_json(
    id: i64,
    assignee: Option<i64>,
    status: &str,
    activity: i64,
) -> String {
    let (assignee_id, assignee_obj) = match assignee {
        Some(a) => (a.to_string(), agent_json(a, &format!("Agent {a}"))),
        None => ("null".into(), "null".into()),
    };
    format!(
        r#"{{"id":{id},"account_id":1,"inbox_id":3,"contact_id":17,"status":"{status}",
        "assignee_id":{assignee_id},"snoozed_until":null,"created_at":{activity},
        "last_activity_at":{activity},"timestamp":{activity},"unread_count":0,"can_reply":true,
        "muted":false,"labels":[],"additional_attributes":{{}},"custom_attributes":{{}},
        "priority":null,"queue_position":null,"last_non_activity_message":null,"messages":[],
        "meta":{{"sender":{},"channel":"Channel::WebWidget","assignee":{assignee_obj},
        "hmac_verified":false}}}}"#,
        contact_json(17, "Joana")
    )
}

pub(crate) fn conversation(
    id: i64,
    assignee: Option<i64>,
    status: &str,
    activity: i64,
) -> Conversation {
    serde_json::from_str(&conversation_json(id, assignee, status, activity)).expect("fixture")
}

pub(crate) fn message(id: i64, conversation: i64, kind: i64, private: bool) -> Message {
    serde_json::from_str(&message_json(id, conversation, kind, private)).expect("fixture")
}

/// An inbox as `GET .../inboxes/{id}` shows it to administrators: the
/// fields every inbox has, then `channel`'s own (which may override them).
pub(crate) fn inbox(channel: serde_json::Value) -> switchboard_protocol::api::Inbox {
    let mut fields = serde_json::json!({
        "id": 3, "account_id": 1, "name": "Inbox", "channel_id": 3,
        "channel_type": "Channel::WebWidget", "avatar_url": "",
        "enable_auto_assignment": true, "auto_assignment_config": {},
        "greeting_enabled": false, "greeting_message": null, "enable_email_collect": false,
        "csat_survey_enabled": false, "working_hours_enabled": false,
        "out_of_office_message": null, "timezone": "UTC",
        "allow_messages_after_resolved": true, "lock_to_single_conversation": false,
        "sender_name_type": "friendly", "business_name": null
    });
    if let (Some(base), serde_json::Value::Object(own)) = (fields.as_object_mut(), channel) {
        base.extend(own);
    }
    serde_json::from_value(fields).expect("inbox")
}
