//! An Agendor integration's settings: reading them from an administrator's
//! request (with errors naming the field), merging an update, and showing
//! them without the token.

use serde_json::{json, Map, Value};

use crate::input::{Checked, Invalid};

/// Agendor's public API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.agendor.com.br/v3";
pub(crate) const DEFAULT_DEAL_TITLE: &str = "{{contact.name}} – {{inbox.name}}";
pub(crate) const DEFAULT_NOTE_TEXT: &str = "Conversa no switchboard: {{conversation.url}}";
/// Longest template or token accepted.
const MAX_TEXT: usize = 2000;

/// What a contact becomes in the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RecordType {
    Person,
    Organization,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Person => "person",
            RecordType::Organization => "organization",
        }
    }
}

/// The settings of an account's Agendor integration. `Debug` leaves the
/// token out, so no log line can carry it.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgendorSettings {
    pub api_token: String,
    pub base_url: String,
    /// The inboxes whose new contacts are sent; empty: every inbox.
    pub inbox_ids: Vec<i64>,
    pub record_type: RecordType,
    pub create_deal: bool,
    pub deal_title: String,
    pub funnel_id: Option<i64>,
    /// The stage's position in the funnel (1 = first), as Agendor takes it.
    pub deal_stage: Option<i64>,
    pub add_note: bool,
    pub note_text: String,
}

impl std::fmt::Debug for AgendorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgendorSettings")
            .field("base_url", &self.base_url)
            .field("inbox_ids", &self.inbox_ids)
            .field("record_type", &self.record_type)
            .finish_non_exhaustive()
    }
}

impl AgendorSettings {
    /// Reads stored settings (already validated when saved).
    pub fn from_stored(v: &Value) -> Option<AgendorSettings> {
        parse(v.as_object()?, None, false).ok()
    }

    /// Whether contacts arriving through this inbox are sent.
    pub fn applies_to(&self, inbox_id: i64) -> bool {
        self.inbox_ids.is_empty() || self.inbox_ids.contains(&inbox_id)
    }

    pub fn to_stored(&self) -> Value {
        let mut v = self.view();
        v["api_token"] = json!(self.api_token);
        if let Value::Object(o) = &mut v {
            o.remove("api_token_set");
            o.remove("api_token_hint");
        }
        v
    }

    /// The settings as administrators see them: the token is never shown
    /// again, only whether it is set and its last four characters.
    pub fn view(&self) -> Value {
        // The last four characters, only of a token long enough that they
        // give little of it away.
        let hint: String = {
            let chars: Vec<char> = self.api_token.chars().collect();
            match chars.len() {
                n if n >= 12 => format!("…{}", chars[n - 4..].iter().collect::<String>()),
                _ => "…".to_string(),
            }
        };
        json!({
            "api_token_set": !self.api_token.is_empty(),
            "api_token_hint": hint,
            "base_url": self.base_url,
            "inbox_ids": self.inbox_ids,
            "contact_type": self.record_type.as_str(),
            "create_deal": self.create_deal,
            "deal_title": self.deal_title,
            "funnel_id": self.funnel_id,
            "deal_stage": self.deal_stage,
            "add_note": self.add_note,
            "note_text": self.note_text,
        })
    }
}

/// Settings from a create request (`previous` absent) or an update (fields
/// left out keep their value; a blank token keeps the stored one).
pub(crate) fn from_request(
    body: &Value,
    previous: Option<&AgendorSettings>,
) -> Checked<AgendorSettings> {
    let empty = Map::new();
    let given = match body {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err(Invalid::of("settings", "must be an object")),
    };
    parse(given, previous, true)
}

fn parse(
    given: &Map<String, Value>,
    previous: Option<&AgendorSettings>,
    strict: bool,
) -> Checked<AgendorSettings> {
    let text = |key: &str, default: &str| -> Checked<String> {
        match given.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) if s.chars().count() <= MAX_TEXT => Ok(s.trim().to_string()),
            Some(Value::String(_)) => Err(Invalid::of(key, "is too long")),
            Some(_) => Err(Invalid::of(key, "must be a string")),
        }
    };
    let flag = |key: &str, default: bool| -> Checked<bool> {
        match given.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(Invalid::of(key, "must be true or false")),
        }
    };
    let number = |key: &str, default: Option<i64>| -> Checked<Option<i64>> {
        match given.get(key) {
            None => Ok(default),
            Some(Value::Null) => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(Invalid::of(key, "must be a positive whole number")),
            },
        }
    };
    let p = previous;
    let given_token = text("api_token", "")?;
    let mut api_token = given_token.clone();
    if api_token.is_empty() {
        api_token = p.map(|p| p.api_token.clone()).unwrap_or_default();
    }
    if strict && api_token.is_empty() {
        return Err(Invalid::of(
            "api_token",
            "is required: copy it from Agendor, Menu → Integrações",
        ));
    }
    if api_token
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Invalid::of("api_token", "must not contain spaces"));
    }
    let base_url = text(
        "base_url",
        p.map_or(DEFAULT_BASE_URL, |p| p.base_url.as_str()),
    )?;
    let base_url = if base_url.is_empty() {
        DEFAULT_BASE_URL.to_string()
    } else {
        base_url.trim_end_matches('/').to_string()
    };
    if strict {
        // Private addresses are refused when the call is made (unless the
        // server allows them); here only the shape is checked.
        crate::outbox::guard::check_url(&base_url, true).map_err(|e| Invalid::of("base_url", e))?;
        // The stored token goes only where it went before: whoever moves
        // the integration elsewhere types the token again (it is never
        // shown, so it cannot be sent to a new host unseen).
        if given_token.is_empty() && p.is_some_and(|p| p.base_url != base_url) {
            return Err(Invalid::of(
                "api_token",
                "is required again when base_url changes",
            ));
        }
    }
    let inbox_ids = match given.get("inbox_ids") {
        None => p.map(|p| p.inbox_ids.clone()).unwrap_or_default(),
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_i64().filter(|id| *id > 0))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| Invalid::of("inbox_ids", "must be a list of inbox ids"))?,
        Some(_) => return Err(Invalid::of("inbox_ids", "must be a list of inbox ids")),
    };
    let record_type = match given.get("contact_type").and_then(Value::as_str) {
        None => p.map_or(RecordType::Person, |p| p.record_type),
        Some("person") => RecordType::Person,
        Some("organization") => RecordType::Organization,
        Some(_) => {
            return Err(Invalid::of(
                "contact_type",
                "must be person or organization",
            ))
        }
    };
    let deal_title = text(
        "deal_title",
        p.map_or(DEFAULT_DEAL_TITLE, |p| p.deal_title.as_str()),
    )?;
    let note_text = text(
        "note_text",
        p.map_or(DEFAULT_NOTE_TEXT, |p| p.note_text.as_str()),
    )?;
    let settings = AgendorSettings {
        api_token,
        base_url,
        inbox_ids,
        record_type,
        create_deal: flag("create_deal", p.is_some_and(|p| p.create_deal))?,
        deal_title: if deal_title.is_empty() {
            DEFAULT_DEAL_TITLE.into()
        } else {
            deal_title
        },
        funnel_id: number("funnel_id", p.and_then(|p| p.funnel_id))?,
        deal_stage: number("deal_stage", p.and_then(|p| p.deal_stage))?,
        add_note: flag("add_note", p.is_none_or(|p| p.add_note))?,
        note_text: if note_text.is_empty() {
            DEFAULT_NOTE_TEXT.into()
        } else {
            note_text
        },
    };
    if strict && settings.deal_stage.is_some() && settings.funnel_id.is_none() {
        return Err(Invalid::of(
            "deal_stage",
            "needs funnel_id: a stage is a position in one funnel",
        ));
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_needs_a_token_and_an_update_keeps_it() {
        assert!(from_request(&json!({}), None).is_err());
        let created = from_request(
            &json!({"api_token": "agendor-tok-1234", "inbox_ids": [3]}),
            None,
        )
        .expect("valid");
        assert_eq!(created.base_url, DEFAULT_BASE_URL);
        assert!(created.add_note && !created.create_deal);
        assert!(created.applies_to(3) && !created.applies_to(4));
        let view = created.view();
        assert_eq!(view["api_token_hint"], "…1234");
        assert!(view.get("api_token").is_none(), "the token is never shown");

        let updated = from_request(
            &json!({"create_deal": true, "inbox_ids": []}),
            Some(&created),
        )
        .expect("valid");
        assert_eq!(updated.api_token, "agendor-tok-1234");
        assert!(updated.create_deal && updated.applies_to(99));
        assert_eq!(
            AgendorSettings::from_stored(&updated.to_stored()),
            Some(updated.clone())
        );
        let moved = from_request(
            &json!({"base_url": "https://elsewhere.test/v3"}),
            Some(&updated),
        );
        assert!(
            moved.is_err_and(|e| e.to_string().contains("api_token")),
            "the stored token does not follow a new base_url"
        );
        let short = from_request(&json!({"api_token": "abcd"}), None).expect("valid");
        assert_eq!(
            short.view()["api_token_hint"],
            "…",
            "a short token is not shown"
        );
    }

    #[test]
    fn bad_settings_name_their_field() {
        for (body, field) in [
            (json!({"api_token": "a b"}), "api_token"),
            (json!({"api_token": "t", "base_url": "ftp://x"}), "base_url"),
            (json!({"api_token": "t", "inbox_ids": ["x"]}), "inbox_ids"),
            (
                json!({"api_token": "t", "contact_type": "lead"}),
                "contact_type",
            ),
            (
                json!({"api_token": "t", "create_deal": "yes"}),
                "create_deal",
            ),
            (json!({"api_token": "t", "deal_stage": 2}), "deal_stage"),
            (json!({"api_token": "t", "funnel_id": -1}), "funnel_id"),
        ] {
            let err = from_request(&body, None).expect_err("refused");
            assert!(err.to_string().contains(field), "{body}: {err}");
        }
    }
}
