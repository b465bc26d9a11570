//! Settings → Integrations → Webhooks: the account's webhooks as the
//! server sends them (`/webhooks`, Chatwoot's shapes, see
//! docs/WEBHOOKS.md), the form's fields as they read, and the bodies sent
//! to add or change one. Pure, so they are tested without a browser.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::forms::{self, Field, Problem};
use crate::i18n::T;

/// Every event a webhook can subscribe to, in the order the form shows
/// them, with its caption.
pub const EVENTS: [(&str, T); 8] = [
    ("conversation_created", T::EvConversationCreated),
    (
        "conversation_status_changed",
        T::EvConversationStatusChanged,
    ),
    ("conversation_updated", T::EvConversationUpdated),
    ("message_created", T::EvMessageCreated),
    ("message_updated", T::EvMessageUpdated),
    ("webwidget_triggered", T::EvWebwidgetTriggered),
    ("contact_created", T::EvContactCreated),
    ("contact_updated", T::EvContactUpdated),
];

/// The form's fields: API name (in the server's errors), DOM id, caption.
pub const WEBHOOK_FIELDS: &[Field] = &[
    ("url", "webhook-url", T::WebhookUrl),
    ("name", "webhook-name", T::WebhookName),
    ("subscriptions", "webhook-events", T::Events),
    ("inbox_id", "webhook-inbox", T::Inbox),
    ("webhook", "webhook-url", T::WebhookUrl),
];

/// One webhook of the account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Webhook {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
    pub url: String,
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Signs every delivery (`X-Chatwoot-Signature`).
    #[serde(default)]
    pub secret: String,
    /// Only this inbox's events; `None`: the whole account's.
    #[serde(default)]
    pub inbox: Option<WebhookInbox>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookInbox {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET .../webhooks`: `{"payload": {"webhooks": [...]}}`.
#[derive(Debug, Deserialize)]
pub struct WebhookList {
    pub payload: Listed,
}

#[derive(Debug, Deserialize)]
pub struct Listed {
    pub webhooks: Vec<Webhook>,
}

/// A created or changed webhook: `{"payload": {"webhook": {...}}}`.
#[derive(Debug, Deserialize)]
pub struct WebhookSaved {
    pub payload: Saved,
}

#[derive(Debug, Deserialize)]
pub struct Saved {
    pub webhook: Webhook,
}

impl Webhook {
    /// Its name, or its address when it has none.
    pub fn title(&self) -> &str {
        self.name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.url)
    }

    /// Whether it receives every event.
    pub fn every_event(&self) -> bool {
        EVENTS
            .iter()
            .all(|(e, _)| self.subscriptions.iter().any(|s| s == e))
    }
}

/// Puts a saved webhook in its place, or at the end when it is new.
pub fn upsert(list: &mut Vec<Webhook>, hook: Webhook) {
    match list.iter_mut().find(|w| w.id == hook.id) {
        Some(slot) => *slot = hook,
        None => list.push(hook),
    }
}

/// The add / edit form, as its fields read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookForm {
    pub name: String,
    pub url: String,
    /// The events ticked.
    pub events: Vec<String>,
    /// An inbox id, or empty for the whole account.
    pub inbox: String,
}

impl WebhookForm {
    /// The form showing a webhook, or a new one's defaults (every event,
    /// like the server's default).
    pub fn of(hook: Option<&Webhook>) -> WebhookForm {
        match hook {
            Some(w) => WebhookForm {
                name: w.name.clone().unwrap_or_default(),
                url: w.url.clone(),
                events: w.subscriptions.clone(),
                inbox: w
                    .inbox
                    .as_ref()
                    .map(|i| i.id.to_string())
                    .unwrap_or_default(),
            },
            None => WebhookForm {
                name: String::new(),
                url: String::new(),
                events: EVENTS.iter().map(|(e, _)| e.to_string()).collect(),
                inbox: String::new(),
            },
        }
    }

    /// `POST .../webhooks` or `PATCH .../webhooks/{id}`: every field is
    /// sent, an empty name clears it.
    pub fn body(&self) -> Result<Value, Problem> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(Problem::Missing("webhook-url"));
        }
        if !forms::web_address(url) {
            return Err(Problem::NotWebAddress("webhook-url"));
        }
        let events: Vec<&str> = EVENTS
            .iter()
            .map(|(e, _)| *e)
            .filter(|e| self.events.iter().any(|t| t == e))
            .collect();
        if events.is_empty() {
            return Err(Problem::NoEvent("webhook-events"));
        }
        let inbox = self.inbox.trim().parse::<i64>().ok().filter(|id| *id > 0);
        Ok(json!({
            "name": self.name.trim(),
            "url": url,
            "subscriptions": events,
            "inbox_id": inbox,
        }))
    }
}

/// The caption of an event the server names (its own name when unknown).
pub fn event_label(event: &str) -> Option<T> {
    EVENTS.iter().find(|(e, _)| *e == event).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    const LIST: &str = r#"{"payload": {"webhooks": [
      {"id": 2, "name": "CRM", "url": "https://crm.example.com/hooks/switchboard",
       "account_id": 1, "subscriptions": ["conversation_status_changed", "message_created"],
       "secret": "s3cret", "inbox": null},
      {"id": 5, "name": null, "url": "https://bi.example.com/in", "account_id": 1,
       "subscriptions": ["contact_created", "contact_updated", "conversation_created",
         "conversation_status_changed", "conversation_updated", "message_created",
         "message_updated", "webwidget_triggered"],
       "secret": "t0ken", "inbox": {"id": 3, "name": "Site", "channel_type": "Channel::WebWidget"}}
    ]}}"#;

    fn list() -> Vec<Webhook> {
        serde_json::from_str::<WebhookList>(LIST)
            .expect("list")
            .payload
            .webhooks
    }

    #[test]
    fn parses_the_list_as_the_server_sends_it() {
        let hooks = list();
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[0].title(), "CRM");
        assert_eq!(hooks[0].secret, "s3cret");
        assert!(!hooks[0].every_event());
        assert_eq!(hooks[1].title(), "https://bi.example.com/in");
        assert!(hooks[1].every_event());
        assert_eq!(hooks[1].inbox.as_ref().map(|i| i.id), Some(3));
        let saved: WebhookSaved = serde_json::from_str(
            r#"{"payload": {"webhook": {"id": 9, "url": "https://x.test", "subscriptions": []}}}"#,
        )
        .unwrap();
        assert_eq!(saved.payload.webhook.id, 9);
    }

    #[test]
    fn a_new_webhook_starts_with_every_event() {
        let mut f = WebhookForm::of(None);
        assert_eq!(f.events.len(), 8);
        assert_eq!(f.body(), Err(Problem::Missing("webhook-url")));
        f.url = " https://crm.example.com/in ".into();
        let body = f.body().unwrap();
        assert_eq!(body["url"], "https://crm.example.com/in");
        assert_eq!(body["subscriptions"].as_array().map(Vec::len), Some(8));
        assert_eq!(body["inbox_id"], Value::Null);
        assert_eq!(body["name"], "");
    }

    #[test]
    fn editing_keeps_the_forms_order_and_refuses_no_event() {
        let hooks = list();
        let mut f = WebhookForm::of(Some(&hooks[0]));
        assert_eq!(f.name, "CRM");
        f.events = vec!["message_created".into(), "conversation_created".into()];
        f.inbox = "3".into();
        let body = f.body().unwrap();
        assert_eq!(
            body["subscriptions"],
            json!(["conversation_created", "message_created"])
        );
        assert_eq!(body["inbox_id"], 3);
        f.events.clear();
        assert_eq!(f.body(), Err(Problem::NoEvent("webhook-events")));
        f.events = vec!["message_created".into()];
        f.url = "crm.example.com".into();
        assert_eq!(f.body(), Err(Problem::NotWebAddress("webhook-url")));
        assert_eq!(
            Problem::NoEvent("webhook-events").text(WEBHOOK_FIELDS, Lang::En),
            Lang::En.t(T::PickAnEvent)
        );
    }

    #[test]
    fn saved_webhooks_replace_or_join_the_list() {
        let mut hooks = list();
        let mut changed = hooks[0].clone();
        changed.url = "https://crm.example.com/v2".into();
        upsert(&mut hooks, changed);
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[0].url, "https://crm.example.com/v2");
        let mut added = hooks[0].clone();
        added.id = 7;
        upsert(&mut hooks, added);
        assert_eq!(hooks.iter().map(|w| w.id).collect::<Vec<_>>(), [2, 5, 7]);
    }

    #[test]
    fn every_event_has_a_caption() {
        for (event, _) in EVENTS {
            assert!(event_label(event).is_some());
        }
        assert_eq!(event_label("something_new"), None);
    }
}
