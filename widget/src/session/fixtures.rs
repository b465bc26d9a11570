//! Frames and sessions the session tests start from.

use serde_json::{json, Value};

use super::*;

pub(super) fn sent(effects: &[Effect]) -> Vec<Value> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(s) => serde_json::from_str(s).ok(),
            _ => None,
        })
        .collect()
}

pub(super) fn types(effects: &[Effect]) -> Vec<String> {
    sent(effects)
        .iter()
        .map(|f| f["type"].as_str().unwrap_or("").to_string())
        .collect()
}

pub(super) fn welcome(
    token: &str,
    resumed: bool,
    conversations: Value,
    email: Value,
    prechat: bool,
) -> String {
    json!({"event": "welcome", "cursor": 100, "data": {
        "visitor_token": token, "contact_id": 17, "resumed": resumed, "agents_online": true,
        "contact": {"id": 17, "name": "Visitor", "email": email, "identifier": null,
                    "custom_attributes": {}},
        "inbox": {"id": 3, "name": "Website", "welcome_title": null, "welcome_tagline": null,
                  "widget_color": null, "pre_chat_form_enabled": prechat},
        "conversations": conversations}})
    .to_string()
}

/// The `welcome` of a new visitor: no token and no contact until they write.
pub(super) fn newcomer_welcome(prechat: bool) -> String {
    json!({"event": "welcome", "cursor": 100, "data": {
        "resumed": false, "agents_online": true,
        "inbox": {"id": 3, "name": "Website", "welcome_title": null, "welcome_tagline": null,
                  "widget_color": null, "pre_chat_form_enabled": prechat},
        "conversations": []}})
    .to_string()
}

/// An unswitched `identity` answer carrying `token`.
pub(super) fn identity(token: &str, verified: bool) -> String {
    frame(
        "identity",
        None,
        json!({"switched": false, "visitor_token": token, "hmac_verified": verified,
               "contact": {"id": 17, "name": "Visitor", "email": null, "identifier": null,
                           "custom_attributes": {}}}),
    )
}

pub(super) fn conv_json(id: i64) -> Value {
    json!({"id": id, "inbox_id": 3, "status": "open", "assignee": null,
           "queue_position": 1, "created_at": 1})
}

pub(super) fn frame(event: &str, cursor: Option<u64>, data: Value) -> String {
    json!({"event": event, "cursor": cursor, "data": data}).to_string()
}

/// A session past `welcome`, with its effects drained.
pub(super) fn live(conversations: Value) -> Session {
    let mut s = Session::new("web".into(), Some("vis".into()), false);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.received(
        &welcome("vis", false, conversations, json!(null), false),
        0.0,
    );
    s.drain();
    s
}
