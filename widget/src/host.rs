//! The postMessage bridge to the loader on the host page.
//!
//! Messages are `{source: "switchboard", type, …}`. We accept them only
//! from `window.parent` and only when the parent's real origin is the
//! `origin` the frame was opened with; we post only to that origin, so a
//! page that embeds the frame under a made-up origin hears nothing.

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_protocol::realtime::VisitorFrame;
use web_sys::{MessageEvent, Window};

/// What the host page asks of the frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    Open,
    Close,
    /// A `set_user` or `set_custom_attributes` frame to send.
    Identify(VisitorFrame),
    Reset,
    SetLocale(String),
}

#[derive(Deserialize)]
struct Incoming {
    source: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    identifier: Value,
    #[serde(default)]
    user: Map<String, Value>,
    #[serde(default)]
    attributes: Value,
    #[serde(default)]
    locale: Option<String>,
}

/// A non-empty string, or a number written as one (`setUser(42, …)`).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a loader message (as JSON); `None` for anything else.
pub(crate) fn parse_command(json: &str) -> Option<Command> {
    let m: Incoming = serde_json::from_str(json).ok()?;
    if m.source != "switchboard" {
        return None;
    }
    Some(match m.kind.as_str() {
        "open" => Command::Open,
        "close" => Command::Close,
        "reset" => Command::Reset,
        "set-locale" => Command::SetLocale(m.locale?),
        "set-user" => {
            let field = |k: &str| text(m.user.get(k));
            Command::Identify(VisitorFrame::SetUser {
                identifier: text(Some(&m.identifier)),
                identifier_hash: field("identifier_hash"),
                name: field("name"),
                email: field("email"),
                phone_number: field("phone_number"),
                avatar_url: field("avatar_url"),
            })
        }
        "set-custom-attributes" => match m.attributes {
            Value::Object(custom_attributes) if !custom_attributes.is_empty() => {
                Command::Identify(VisitorFrame::SetCustomAttributes { custom_attributes })
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// Frame → loader messages, as JSON.
pub(crate) fn outgoing(kind: &str, fields: Value) -> String {
    let mut m = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    m.insert("source".into(), "switchboard".into());
    m.insert("type".into(), kind.into());
    Value::Object(m).to_string()
}

/// The parent window and its origin, when the frame is embedded.
pub(crate) struct Host {
    parent: Window,
    origin: String,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Host {
    /// `None` when the frame is the top window or has no valid origin.
    pub(crate) fn new(window: &Window, origin: Option<String>) -> Option<Host> {
        let parent = window.parent().ok().flatten()?;
        let embedded = !js_sys::Object::is(&parent, window);
        embedded.then_some(Host {
            parent,
            origin: origin?,
        })
    }

    /// Posts a message made by [`outgoing`].
    pub(crate) fn post(&self, json: &str) {
        if let Ok(value) = js_sys::JSON::parse(json) {
            let _ = self.parent.post_message(&value, &self.origin);
        }
    }

    /// The command in `event`, if it comes from our parent at its origin.
    pub(crate) fn accept(&self, event: &MessageEvent) -> Option<Command> {
        let from_parent = event
            .source()
            .is_some_and(|s| js_sys::Object::is(&s, &self.parent));
        if !from_parent || event.origin() != self.origin {
            return None;
        }
        let json = js_sys::JSON::stringify(&event.data()).ok()?;
        parse_command(&String::from(json))
    }
}

/// Whether the frame is embedded at all (for the open/closed start).
pub(crate) fn embedded(window: &Window) -> bool {
    window
        .parent()
        .ok()
        .flatten()
        .is_some_and(|p| !js_sys::Object::is(&p, window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_are_read() {
        let c = |v: Value| parse_command(&v.to_string());
        assert_eq!(
            c(json!({"source": "switchboard", "type": "open"})),
            Some(Command::Open)
        );
        assert_eq!(c(json!({"source": "other", "type": "open"})), None);
        assert_eq!(c(json!({"type": "open"})), None);
        assert_eq!(c(json!({"source": "switchboard", "type": "explode"})), None);
        assert_eq!(
            c(json!({"source": "switchboard", "type": "set-locale", "locale": "pt-BR"})),
            Some(Command::SetLocale("pt-BR".into()))
        );
        assert_eq!(
            c(json!({"source": "switchboard", "type": "set-locale"})),
            None
        );
    }

    #[test]
    fn set_user_maps_to_the_frame() {
        let got = parse_command(
            &json!({"source": "switchboard", "type": "set-user", "identifier": 42,
                    "user": {"name": " Ana ", "email": "ana@example.com", "identifier_hash": "ab12",
                             "phone_number": "", "avatar_url": null, "extra": 1}})
            .to_string(),
        );
        assert_eq!(
            got,
            Some(Command::Identify(VisitorFrame::SetUser {
                identifier: Some("42".into()),
                identifier_hash: Some("ab12".into()),
                name: Some("Ana".into()),
                email: Some("ana@example.com".into()),
                phone_number: None,
                avatar_url: None,
            }))
        );
    }

    #[test]
    fn custom_attributes_must_be_an_object() {
        let c = |a: Value| {
            parse_command(
                &json!({"source": "switchboard", "type": "set-custom-attributes", "attributes": a})
                    .to_string(),
            )
        };
        assert!(matches!(
            c(json!({"plan": "pro"})),
            Some(Command::Identify(_))
        ));
        assert_eq!(c(json!([1, 2])), None);
        assert_eq!(c(json!({})), None);
    }

    #[test]
    fn outgoing_messages_are_tagged() {
        let v: Value =
            serde_json::from_str(&outgoing("unread", json!({"count": 2}))).unwrap_or_default();
        assert_eq!(
            v,
            json!({"source": "switchboard", "type": "unread", "count": 2})
        );
    }
}
