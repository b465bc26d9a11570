//! Settings → Integrations → Agendor: the server's apps and hooks as it
//! sends them, the form's fields as they read, and the bodies sent to
//! create or update the connection. Pure, so the bodies are tested against
//! the server's names without a browser.
//!
//! The API token is write-only: the server never sends it back, only
//! `api_token_set` and a hint (`…1234`). An update leaves it out unless a
//! new one was typed, so saving other changes keeps the stored token.

use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};

use crate::forms::Invalid;
use crate::i18n::format;
use crate::i18n::{Lang, T};

/// The integration this screen sets up.
pub const AGENDOR: &str = "agendor";
pub const DEFAULT_BASE_URL: &str = "https://api.agendor.com.br/v3";
pub const DEFAULT_DEAL_TITLE: &str = "{{contact.name}} – {{inbox.name}}";
pub const DEFAULT_NOTE_TEXT: &str = "Conversa no switchboard: {{conversation.url}}";
/// What the deal title and note may name; the server fills them in.
pub const TEMPLATE_VARIABLES: [&str; 6] = [
    "{{contact.name}}",
    "{{contact.email}}",
    "{{contact.phone_number}}",
    "{{inbox.name}}",
    "{{conversation.id}}",
    "{{conversation.url}}",
];

/// One entry of `GET .../integrations/apps`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IntegrationApp {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub hooks: Vec<Hook>,
}

/// A connection of the account to an app.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Hook {
    pub id: i64,
    pub app_id: String,
    #[serde(default)]
    pub inbox_id: Option<i64>,
    /// `true`/`false`; `1`/`0` read the same (Chatwoot sends either).
    #[serde(deserialize_with = "flag")]
    pub status: bool,
    #[serde(default)]
    pub settings: AgendorSettings,
    #[serde(default)]
    pub health: Health,
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_i64().unwrap_or_default() != 0,
        Value::String(s) => matches!(s.as_str(), "1" | "true" | "enabled"),
        _ => false,
    })
}

/// A hook's settings as the server sends them (without the token).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct AgendorSettings {
    pub api_token_set: bool,
    pub api_token_hint: Option<String>,
    pub base_url: String,
    /// Empty: every inbox.
    pub inbox_ids: Vec<i64>,
    /// `person` or `organization`.
    pub contact_type: String,
    pub create_deal: bool,
    pub deal_title: String,
    pub funnel_id: Option<i64>,
    /// The stage's position in the funnel, 1 = first.
    pub deal_stage: Option<i64>,
    pub add_note: bool,
    pub note_text: String,
}

impl Default for AgendorSettings {
    fn default() -> Self {
        AgendorSettings {
            api_token_set: false,
            api_token_hint: None,
            base_url: DEFAULT_BASE_URL.into(),
            inbox_ids: Vec::new(),
            contact_type: "person".into(),
            create_deal: false,
            deal_title: DEFAULT_DEAL_TITLE.into(),
            funnel_id: None,
            deal_stage: None,
            // As the server: a new connection notes each conversation.
            add_note: true,
            note_text: DEFAULT_NOTE_TEXT.into(),
        }
    }
}

/// How the connection's last calls went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Health {
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

/// The Agendor app among the apps, and its hook (one per account).
pub fn agendor(apps: &[IntegrationApp]) -> Option<&IntegrationApp> {
    apps.iter().find(|a| a.id == AGENDOR)
}

pub fn agendor_hook(apps: &[IntegrationApp]) -> Option<&Hook> {
    agendor(apps)?.hooks.iter().find(|h| h.app_id == AGENDOR)
}

/// Puts a saved hook in place (or removes it: `None`), as the apps list
/// would show it after a reload.
pub fn replace_hook(apps: &mut [IntegrationApp], hook: Option<Hook>) {
    if let Some(app) = apps.iter_mut().find(|a| a.id == AGENDOR) {
        app.enabled = hook.as_ref().is_some_and(|h| h.status);
        app.hooks = hook.into_iter().collect();
    }
}

/// The health block's lines: "Last success: …", "Last error: … — …".
pub fn health_lines(h: &Health, lang: Lang, now: i64, offset_minutes: i64) -> Vec<String> {
    let when = |t: i64| format::stamp(lang, t, now, offset_minutes);
    let mut lines = Vec::new();
    if let Some(t) = h.last_success_at {
        lines.push(lang.tf(T::LastSuccess, &[("time", &when(t))]));
    }
    let error = h.last_error.as_deref().filter(|e| !e.trim().is_empty());
    match (h.last_error_at, error) {
        (Some(t), Some(e)) => {
            lines.push(lang.tf(T::LastError, &[("time", &when(t)), ("error", e)]));
        }
        (None, Some(e)) => lines.push(lang.tf(T::LastErrorUndated, &[("error", e)])),
        _ => {}
    }
    if lines.is_empty() {
        lines.push(lang.t(T::NoSyncYet).to_string());
    }
    lines
}

/// The Agendor form, as its fields read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendorForm {
    pub enabled: bool,
    /// Empty: keep the stored token (update only).
    pub api_token: String,
    pub base_url: String,
    /// The inboxes ticked; none ticked means every inbox.
    pub inbox_ids: Vec<i64>,
    pub contact_type: String,
    pub create_deal: bool,
    pub deal_title: String,
    pub funnel_id: String,
    pub deal_stage: String,
    pub add_note: bool,
    pub note_text: String,
}

impl AgendorForm {
    /// The form showing a hook's settings, or a new connection's defaults.
    pub fn of(hook: Option<&Hook>) -> AgendorForm {
        let defaults = AgendorSettings::default();
        let s = hook.map(|h| &h.settings).unwrap_or(&defaults);
        let text = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        AgendorForm {
            enabled: hook.is_none_or(|h| h.status),
            api_token: String::new(),
            base_url: s.base_url.clone(),
            inbox_ids: s.inbox_ids.clone(),
            contact_type: s.contact_type.clone(),
            create_deal: s.create_deal,
            deal_title: s.deal_title.clone(),
            funnel_id: text(s.funnel_id),
            deal_stage: text(s.deal_stage),
            add_note: s.add_note,
            note_text: s.note_text.clone(),
        }
    }

    /// The request body: `POST .../integrations/hooks` when `creating`,
    /// `PATCH .../integrations/hooks/{id}` otherwise. Errors name the
    /// field's `name` in the form.
    pub fn body(&self, creating: bool) -> Result<Value, Invalid> {
        let token = self.api_token.trim();
        if creating && token.is_empty() {
            return Err(Invalid("api_token"));
        }
        let base_url = match self.base_url.trim() {
            "" => DEFAULT_BASE_URL,
            url if crate::contact::crm::web_url(Some(url)).is_some() => url,
            _ => return Err(Invalid("base_url")),
        };
        let or = |text: &str, default: &str| match text.trim() {
            "" => default.to_string(),
            t => t.to_string(),
        };
        let mut inbox_ids = self.inbox_ids.clone();
        inbox_ids.sort_unstable();
        inbox_ids.dedup();
        let mut settings = Map::new();
        if !token.is_empty() {
            settings.insert("api_token".into(), json!(token));
        }
        settings.insert("base_url".into(), json!(base_url));
        settings.insert("inbox_ids".into(), json!(inbox_ids));
        let contact_type = match self.contact_type.as_str() {
            "organization" => "organization",
            _ => "person",
        };
        settings.insert("contact_type".into(), json!(contact_type));
        settings.insert("create_deal".into(), json!(self.create_deal));
        settings.insert(
            "deal_title".into(),
            json!(or(&self.deal_title, DEFAULT_DEAL_TITLE)),
        );
        settings.insert(
            "funnel_id".into(),
            json!(positive("funnel_id", &self.funnel_id)?),
        );
        settings.insert(
            "deal_stage".into(),
            json!(positive("deal_stage", &self.deal_stage)?),
        );
        settings.insert("add_note".into(), json!(self.add_note));
        settings.insert(
            "note_text".into(),
            json!(or(&self.note_text, DEFAULT_NOTE_TEXT)),
        );
        let status = i32::from(self.enabled);
        Ok(if creating {
            json!({"app_id": AGENDOR, "status": status, "settings": settings})
        } else {
            json!({"status": status, "settings": settings})
        })
    }
}

/// A whole number above 0, or nothing when empty.
fn positive(name: &'static str, text: &str) -> Result<Option<i64>, Invalid> {
    match text.trim() {
        "" => Ok(None),
        t => match t.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Invalid(name)),
        },
    }
}

#[cfg(test)]
#[path = "integrations_tests.rs"]
mod tests;
