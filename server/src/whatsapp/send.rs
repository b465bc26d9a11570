//! Agents' replies to WhatsApp, as Graph API calls the outbox makes:
//! `POST {graph_url}/{version}/{phone_number_id}/messages` with the number's
//! access token. Free text goes as `text`, a message with `template_params`
//! as `template`, a message with files as its first file (`image`, `audio`,
//! `video` or `document`, by the media id its upload answered with, see
//! [`super::media::upload`]; WhatsApp carries one file per message);
//! a reply to a customer's message quotes it (`context`).

use serde_json::{json, Value};

use crate::outbox::send::Call;
use crate::store::{Message, WhatsappConfig};

/// Where replies go, from the server's settings.
#[derive(Debug, Clone)]
pub struct Graph {
    /// `https://graph.facebook.com` unless configured (tests use a stand-in).
    pub url: String,
    pub version: String,
}

/// The call that sends `m` to the customer `to` (their `wa_id`); `media_id`
/// is its first file's, once uploaded.
pub fn call(
    graph: &Graph,
    config: &WhatsappConfig,
    to: &str,
    m: &Message,
    media_id: Option<&str>,
    allow_private: bool,
) -> Result<Call, String> {
    let url = format!(
        "{}/{}/{}/messages",
        graph.url.trim_end_matches('/'),
        graph.version,
        config.phone_number_id
    );
    let url = crate::outbox::guard::check_url(&url, allow_private)?;
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    });
    match m.content_attributes.get("template_params") {
        Some(t) => {
            let parameters: Vec<Value> = t["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| json!({ "type": "text", "text": p }))
                .collect();
            let mut template = json!({
                "name": t["name"],
                "language": { "code": t["language"] },
            });
            if !parameters.is_empty() {
                template["components"] = json!([{ "type": "body", "parameters": parameters }]);
            }
            body["type"] = json!("template");
            body["template"] = template;
        }
        None => match m.content_attributes["attachments"].get(0) {
            Some(file) => {
                let kind = match file["file_type"].as_str() {
                    Some("image") => "image",
                    Some("audio") => "audio",
                    Some("video") => "video",
                    _ => "document",
                };
                let media_id = media_id.ok_or("the file is not uploaded to WhatsApp yet")?;
                let mut media = json!({ "id": media_id });
                let caption = m.content.as_deref().filter(|t| !t.trim().is_empty());
                if let (Some(caption), true) = (caption, kind != "audio") {
                    media["caption"] = json!(caption);
                }
                if kind == "document" {
                    media["filename"] = file["file_name"].clone();
                }
                body["type"] = json!(kind);
                body[kind] = media;
            }
            None => {
                let text = m
                    .content
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or("the message has no text to send")?;
                body["type"] = json!("text");
                body["text"] = json!({ "body": text, "preview_url": false });
            }
        },
    }
    if let Some(quoted) = m.content_attributes["in_reply_to_external_id"].as_str() {
        body["context"] = json!({ "message_id": quoted });
    }
    Ok(Call {
        url,
        headers: vec![("Authorization", format!("Bearer {}", config.api_key))],
        body: body.to_string().into_bytes(),
    })
}

/// The WhatsApp message id in a successful answer.
pub fn sent_id(answer: &str) -> Option<String> {
    let v: Value = serde_json::from_str(answer).ok()?;
    v["messages"][0]["id"].as_str().map(str::to_string)
}

/// Graph's reason for a refusal: `error.message` and its code.
pub fn reason(status: u16, answer: &str) -> String {
    let v: Value = serde_json::from_str(answer).unwrap_or(Value::Null);
    let e = &v["error"];
    let details = e["error_data"]["details"].as_str();
    match (e["message"].as_str(), e["code"].as_i64()) {
        (Some(message), Some(code)) => match details {
            Some(d) if d != message => format!("{message} (code {code}): {d}"),
            _ => format!("{message} (code {code})"),
        },
        (Some(message), None) => message.to_string(),
        // Plain text says why (our own refusals too); an HTML error page does not.
        _ if v.is_null() && !answer.trim().is_empty() && !answer.trim_start().starts_with('<') => {
            let line: String = answer.chars().take(300).collect();
            format!("HTTP {status}: {}", line.trim())
        }
        _ => format!("HTTP {status}"),
    }
}

/// Whether a refusal is final: WhatsApp's 4xx answers (bad number, closed
/// window, bad token, template missing) do not change on retry, except
/// rate limits and timeouts.
pub fn permanent(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MessageStatus, MessageType};

    fn config() -> WhatsappConfig {
        WhatsappConfig {
            api_key: "EAAG".into(),
            phone_number_id: "106".into(),
            business_account_id: "102".into(),
            webhook_verify_token: "v".into(),
            app_secret: "s".into(),
        }
    }

    fn message(content: &str, attributes: Value) -> Message {
        Message {
            id: 1,
            account_id: 1,
            conversation_id: 1,
            message_type: MessageType::Outgoing,
            content: Some(content.into()),
            private: false,
            sender: None,
            echo_id: None,
            content_attributes: attributes,
            deleted: false,
            created_at: 0,
            updated_at: 0,
            source_id: None,
            status: MessageStatus::Sent,
        }
    }

    fn graph() -> Graph {
        Graph {
            url: "https://graph.facebook.com/".into(),
            version: "v22.0".into(),
        }
    }

    #[test]
    fn text_and_template_bodies() {
        let c = call(
            &graph(),
            &config(),
            "5511",
            &message("Oi", json!({"in_reply_to_external_id": "wamid.q"})),
            None,
            false,
        )
        .unwrap();
        assert_eq!(
            c.url.as_str(),
            "https://graph.facebook.com/v22.0/106/messages"
        );
        assert_eq!(
            c.headers,
            vec![("Authorization", "Bearer EAAG".to_string())]
        );
        let body: Value = serde_json::from_slice(&c.body).unwrap();
        assert_eq!(body["text"]["body"], "Oi");
        assert_eq!(body["context"]["message_id"], "wamid.q");
        let t = message(
            "x",
            json!({"template_params": {"name": "order_update", "language": "pt_BR", "parameters": ["Joana"]}}),
        );
        let body: Value = serde_json::from_slice(
            &call(&graph(), &config(), "5511", &t, None, false)
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(body["type"], "template");
        assert_eq!(body["template"]["language"]["code"], "pt_BR");
        assert_eq!(
            body["template"]["components"][0]["parameters"][0]["text"],
            "Joana"
        );
    }

    #[test]
    fn answers_are_read() {
        assert_eq!(
            sent_id(r#"{"messages":[{"id":"wamid.X"}]}"#).as_deref(),
            Some("wamid.X")
        );
        assert_eq!(sent_id("oops"), None);
        let refusal = r#"{"error":{"message":"(#131047) Re-engagement message","code":131047,"error_data":{"details":"24 hours have passed"}}}"#;
        assert_eq!(
            reason(400, refusal),
            "(#131047) Re-engagement message (code 131047): 24 hours have passed"
        );
        assert_eq!(reason(502, "<html>"), "HTTP 502");
        assert_eq!(reason(415, "refused type"), "HTTP 415: refused type");
        assert!(permanent(400) && permanent(401) && !permanent(429) && !permanent(500));
    }
}
