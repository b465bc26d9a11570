//! Reading WhatsApp Cloud webhook notifications: which messages arrived
//! and which sent messages changed state. Pure: no I/O, unit tested.
//!
//! Every message type becomes an incoming message with a text agents can
//! read in `content` and the details in `content_attributes`:
//! - text: the text;
//! - image, audio, video, document, sticker: the caption (if any), with the
//!   media id, MIME type and file name under `whatsapp_media`;
//! - location: its name and address (or "Location"), coordinates under
//!   `location`;
//! - button and interactive replies: the title the customer tapped, the
//!   button's payload or id under `reply`;
//! - contacts: the shared names and phones, the whole cards under `contacts`;
//! - reaction: the emoji, with the message reacted to;
//! - anything else: "(unsupported message)", with WhatsApp's error.
//!
//! A reply to an earlier message carries its id as `in_reply_to_external_id`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::store::MessageStatus;

/// One `entry[].changes[].value` of a notification.
#[derive(Debug, Default, PartialEq)]
pub struct Change {
    /// The business number the notification is for.
    pub phone_number_id: String,
    /// Profile names by `wa_id`.
    pub names: HashMap<String, String>,
    pub messages: Vec<Inbound>,
    pub statuses: Vec<StatusReport>,
}

/// A message a customer sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// WhatsApp's id (`wamid...`): the same message delivered twice has it twice.
    pub id: String,
    /// The customer's `wa_id` (their number, digits only).
    pub from: String,
    /// When the customer sent it (Unix seconds, Meta's `timestamp`).
    pub sent_at: Option<i64>,
    pub content: Option<String>,
    pub attributes: Value,
}

/// A sent message's new state.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub id: String,
    pub status: MessageStatus,
    /// For `failed`: WhatsApp's reason.
    pub error: Option<String>,
}

/// The changes of a notification body; `Err` when it is not one.
pub fn parse(body: &[u8]) -> Result<Vec<Change>, String> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let entries = root["entry"]
        .as_array()
        .ok_or("the body has no `entry` list")?;
    let mut out = Vec::new();
    for entry in entries {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            if !value.is_object() {
                continue;
            }
            let mut parsed = Change {
                phone_number_id: text(&value["metadata"]["phone_number_id"]).unwrap_or_default(),
                ..Change::default()
            };
            for contact in value["contacts"].as_array().into_iter().flatten() {
                if let (Some(id), Some(name)) =
                    (text(&contact["wa_id"]), text(&contact["profile"]["name"]))
                {
                    parsed.names.insert(id, name);
                }
            }
            for m in value["messages"].as_array().into_iter().flatten() {
                if let Some(inbound) = message(m) {
                    parsed.messages.push(inbound);
                }
            }
            for s in value["statuses"].as_array().into_iter().flatten() {
                if let Some(report) = status(s) {
                    parsed.statuses.push(report);
                }
            }
            out.push(parsed);
        }
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn message(m: &Value) -> Option<Inbound> {
    let id = text(&m["id"])?;
    let from = text(&m["from"])?;
    let kind = m["type"].as_str().unwrap_or("unsupported");
    let body = &m[kind];
    let mut attributes = Map::new();
    let content = match kind {
        "text" => text(&body["body"]),
        "image" | "audio" | "video" | "document" | "sticker" => {
            attributes.insert(
                "whatsapp_media".into(),
                json!({
                    "type": kind,
                    "id": body["id"],
                    "mime_type": body["mime_type"],
                    "sha256": body["sha256"],
                    "filename": body["filename"],
                    "voice": body["voice"],
                }),
            );
            text(&body["caption"]).or_else(|| Some(format!("({kind})")))
        }
        "location" => {
            attributes.insert(
                "location".into(),
                json!({
                    "latitude": body["latitude"],
                    "longitude": body["longitude"],
                    "name": body["name"],
                    "address": body["address"],
                    "url": body["url"],
                }),
            );
            let place: Vec<String> = [text(&body["name"]), text(&body["address"])]
                .into_iter()
                .flatten()
                .collect();
            Some(if place.is_empty() {
                "Location".to_string()
            } else {
                place.join(", ")
            })
        }
        "button" => {
            attributes.insert("reply".into(), json!({ "payload": body["payload"] }));
            text(&body["text"])
        }
        "interactive" => {
            let sub = body["type"].as_str().unwrap_or("");
            let reply = &body[sub];
            attributes.insert(
                "reply".into(),
                json!({ "type": sub, "id": reply["id"], "description": reply["description"] }),
            );
            text(&reply["title"])
        }
        "contacts" => {
            let cards = body.as_array().cloned().unwrap_or_default();
            let shown: Vec<String> = cards
                .iter()
                .map(|c| {
                    let name = text(&c["name"]["formatted_name"]).unwrap_or_default();
                    let phones: Vec<String> = c["phones"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| text(&p["phone"]))
                        .collect();
                    format!("{name} {}", phones.join(", ")).trim().to_string()
                })
                .collect();
            attributes.insert("contacts".into(), Value::Array(cards));
            Some(shown.join("\n"))
        }
        "reaction" => {
            attributes.insert("in_reply_to_external_id".into(), body["message_id"].clone());
            attributes.insert("is_reaction".into(), Value::Bool(true));
            text(&body["emoji"])
        }
        _ => {
            attributes.insert(
                "unsupported".into(),
                json!({ "type": kind, "errors": m["errors"] }),
            );
            Some("(unsupported message)".to_string())
        }
    };
    if let Some(context) = text(&m["context"]["id"]) {
        attributes
            .entry("in_reply_to_external_id")
            .or_insert(Value::String(context));
    }
    Some(Inbound {
        id,
        from,
        sent_at: unix_seconds(&m["timestamp"]),
        content,
        attributes: Value::Object(attributes),
    })
}

/// Meta's `timestamp`: Unix seconds, as a string of digits (or a number).
fn unix_seconds(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| s.trim().parse().ok())
        .or_else(|| v.as_i64())
        .filter(|t| *t > 0)
}

fn status(s: &Value) -> Option<StatusReport> {
    let id = text(&s["id"])?;
    let status = MessageStatus::parse(s["status"].as_str()?)?;
    let error = s["errors"].as_array().and_then(|errors| {
        let e = errors.first()?;
        let details = text(&e["error_data"]["details"]);
        let title = text(&e["message"]).or_else(|| text(&e["title"]));
        let code = e["code"]
            .as_i64()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        Some(format!(
            "{}{code}",
            details.or(title).unwrap_or_else(|| "failed".into())
        ))
    });
    Some(StatusReport { id, status, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(messages: Value, statuses: Value) -> Vec<u8> {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106"},
            "contacts": [{"profile": {"name": "Jane Doe"}, "wa_id": "15551234567"}],
            "messages": messages,
            "statuses": statuses
        }}]}]})
        .to_string()
        .into_bytes()
    }

    fn one(m: Value) -> Inbound {
        let mut m = m;
        m["from"] = json!("15551234567");
        m["id"] = json!("wamid.1");
        let changes = parse(&notification(json!([m]), json!([]))).unwrap();
        assert_eq!(changes[0].phone_number_id, "106");
        assert_eq!(changes[0].names["15551234567"], "Jane Doe");
        changes[0].messages[0].clone()
    }

    #[test]
    fn every_message_type_gets_readable_content() {
        let t = one(json!({"type": "text", "text": {"body": "hello"}}));
        assert_eq!(t.content.as_deref(), Some("hello"));
        let i = one(
            json!({"type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "my cat"}}),
        );
        assert_eq!(i.content.as_deref(), Some("my cat"));
        assert_eq!(i.attributes["whatsapp_media"]["id"], "m1");
        let a = one(
            json!({"type": "audio", "audio": {"id": "m2", "mime_type": "audio/ogg", "voice": true}}),
        );
        assert_eq!(a.content.as_deref(), Some("(audio)"));
        let d = one(json!({"type": "document", "document": {"id": "m3", "filename": "inv.pdf"}}));
        assert_eq!(d.attributes["whatsapp_media"]["filename"], "inv.pdf");
        let s = one(json!({"type": "sticker", "sticker": {"id": "m4", "mime_type": "image/webp"}}));
        assert_eq!(s.attributes["whatsapp_media"]["type"], "sticker");
        let v = one(json!({"type": "video", "video": {"id": "m5", "caption": "look"}}));
        assert_eq!(v.content.as_deref(), Some("look"));
        let l = one(
            json!({"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "Office", "address": "Av. Paulista"}}),
        );
        assert_eq!(l.content.as_deref(), Some("Office, Av. Paulista"));
        assert_eq!(l.attributes["location"]["latitude"], -23.5);
        let b = one(
            json!({"type": "button", "context": {"id": "wamid.tpl"}, "button": {"payload": "YES", "text": "Yes"}}),
        );
        assert_eq!(b.content.as_deref(), Some("Yes"));
        assert_eq!(b.attributes["reply"]["payload"], "YES");
        assert_eq!(b.attributes["in_reply_to_external_id"], "wamid.tpl");
        let ib = one(
            json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Talk to agent"}}}),
        );
        assert_eq!(ib.content.as_deref(), Some("Talk to agent"));
        let il = one(
            json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r2", "title": "Billing"}}}),
        );
        assert_eq!(il.attributes["reply"]["id"], "r2");
        let c = one(
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Bob Roe"}, "phones": [{"phone": "+1 555 987 6543"}]}]}),
        );
        assert_eq!(c.content.as_deref(), Some("Bob Roe +1 555 987 6543"));
        let r = one(
            json!({"type": "reaction", "reaction": {"message_id": "wamid.orig", "emoji": "👍"}}),
        );
        assert_eq!(r.content.as_deref(), Some("👍"));
        assert_eq!(r.attributes["in_reply_to_external_id"], "wamid.orig");
        let u = one(json!({"type": "unsupported", "errors": [{"code": 131051}]}));
        assert_eq!(u.content.as_deref(), Some("(unsupported message)"));
    }

    #[test]
    fn statuses_carry_their_failure_reason() {
        let changes = parse(&notification(
            json!([]),
            json!([
                {"id": "wamid.a", "status": "delivered", "timestamp": "1", "recipient_id": "1"},
                {"id": "wamid.b", "status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message",
                 "error_data": {"details": "More than 24 hours have passed"}}]},
                {"id": "wamid.c", "status": "deleted"}
            ]),
        ))
        .unwrap();
        let s = &changes[0].statuses;
        assert_eq!(s.len(), 2, "unknown states are skipped");
        assert_eq!(s[0].status, MessageStatus::Delivered);
        assert_eq!(
            s[1].error.as_deref(),
            Some("More than 24 hours have passed (131047)")
        );
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        assert!(parse(b"not json").is_err());
        assert!(parse(b"{}").is_err());
        assert_eq!(
            parse(br#"{"entry": [{"changes": [{"value": 3}]}]}"#).unwrap(),
            vec![]
        );
        let no_id = notification(json!([{"from": "1", "type": "text"}]), json!([]));
        assert!(parse(&no_id).unwrap()[0].messages.is_empty());
    }
}
