//! The 24-hour customer service window, and template messages.
//!
//! WhatsApp delivers free text only within 24 hours of the customer's last
//! message; after that only an approved template can open the conversation
//! again. Sending free text anyway would fail later, at WhatsApp; switchboard
//! refuses it at once with a clear error, so the agent sends a template
//! instead: `template_params` on the message (Chatwoot's field):
//!
//! ```json
//! {"content": "Your order #123 has shipped",
//!  "template_params": {"name": "order_update", "language": "pt_BR",
//!                      "parameters": ["Joana", "#123"]}}
//! ```
//!
//! `processed_params` (`{"1": "Joana", "2": "#123"}`, Chatwoot's form) is
//! accepted instead of `parameters`. The parameters fill the template's body
//! in order.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::input::{Checked, Invalid};

/// How long after the customer's last message free text may be sent.
pub const WINDOW_SECONDS: i64 = 24 * 3600;

/// A template message as an agent asks for it.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateParams {
    name: String,
    language: Option<String>,
    #[serde(default)]
    parameters: Vec<String>,
    processed_params: Option<Map<String, Value>>,
}

impl TemplateParams {
    /// Validated, as stored in the message's `content_attributes`.
    pub fn checked(self) -> Checked<Value> {
        let name = self.name.trim();
        let valid_name = !name.is_empty()
            && name.len() <= 512
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(Invalid::of(
                "template_params.name",
                "must be a template name: lower-case letters, digits and _",
            ));
        }
        let language = self.language.unwrap_or_else(|| "en_US".to_string());
        if language.is_empty()
            || language.len() > 16
            || !language
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Invalid::of(
                "template_params.language",
                "must be a language code like pt_BR",
            ));
        }
        let mut parameters = self.parameters;
        if let Some(numbered) = self.processed_params {
            let mut pairs: Vec<(u32, String)> = Vec::new();
            for (key, value) in numbered {
                let position = key.parse::<u32>().map_err(|_| {
                    Invalid::of("template_params.processed_params", "keys are 1, 2, 3, ...")
                })?;
                let text = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                pairs.push((position, text));
            }
            pairs.sort();
            parameters = pairs.into_iter().map(|(_, v)| v).collect();
        }
        if parameters.len() > 100 || parameters.iter().any(|p| p.chars().count() > 1024) {
            return Err(Invalid::of(
                "template_params.parameters",
                "at most 100 parameters of 1024 characters each",
            ));
        }
        Ok(json!({ "name": name, "language": language, "parameters": parameters }))
    }
}

/// Whether free text may go to a contact who last wrote at `last` (Unix
/// seconds; `None`: never).
pub fn is_open(last: Option<i64>) -> bool {
    last.is_some_and(|at| crate::store::now() - at < WINDOW_SECONDS)
}

/// Refuses free text to a contact who last wrote at `last` when that is
/// outside the window (templates may always go: callers check them apart).
pub fn check(last: Option<i64>) -> Checked<()> {
    if is_open(last) {
        Ok(())
    } else {
        Err(Invalid::new(
            "content",
            "outside_window",
            "is free text outside WhatsApp's 24-hour customer window (the customer has not \
             written in the last 24 hours); send a template message instead (template_params)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Checked<Value> {
        serde_json::from_value::<TemplateParams>(v)
            .unwrap()
            .checked()
    }

    #[test]
    fn the_window_is_24_hours_from_the_last_message() {
        let now = crate::store::now();
        assert!(is_open(Some(now)));
        assert!(is_open(Some(now - WINDOW_SECONDS + 60)));
        assert!(!is_open(Some(now - WINDOW_SECONDS - 1)));
        assert!(!is_open(None), "a contact who never wrote");
    }

    #[test]
    fn templates_are_validated_and_numbered_params_ordered() {
        let t = params(json!({"name": "order_update", "language": "pt_BR",
            "processed_params": {"2": "#123", "1": "Joana"}}))
        .unwrap();
        assert_eq!(t["parameters"], json!(["Joana", "#123"]));
        let d = params(json!({"name": "hello_world"})).unwrap();
        assert_eq!(d["language"], "en_US");
        assert!(params(json!({"name": "Bad Name"})).is_err());
        assert!(params(json!({"name": "ok", "language": "pt-BR; drop"})).is_err());
        assert!(params(json!({"name": "ok", "processed_params": {"x": "1"}})).is_err());
    }
}
