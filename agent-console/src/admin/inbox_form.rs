//! An inbox's Settings block, pure: its name and, for a website inbox, the
//! chat window (website URL, welcome title and tagline, colour, language), the
//! pre-chat form and identity verification. The `PATCH .../inboxes/{id}`
//! body carries only what changed, so saving the name never touches the
//! widget, and a save never undoes what another administrator changed in
//! a field left alone.

use serde_json::{json, Map, Value};
use switchboard_protocol::api::{ChannelType, Inbox};

use crate::forms::{self, Field, Problem};
use crate::i18n::T;

/// The block's fields: API name (in the server's errors), DOM id, caption.
pub const INBOX_SETTINGS_FIELDS: &[Field] = &[
    ("name", "inbox-edit-name", T::InboxName),
    ("website_url", "inbox-edit-url", T::WebsiteUrl),
    ("welcome_title", "inbox-edit-title", T::WelcomeTitle),
    ("welcome_tagline", "inbox-edit-tagline", T::WelcomeTagline),
    ("widget_color", "inbox-edit-color", T::WidgetColor),
    ("locale", "inbox-edit-locale", T::WidgetLanguage),
    (
        "pre_chat_message",
        "inbox-edit-pre-chat-message",
        T::PreChatMessage,
    ),
];

/// The widget's colour when the inbox names none.
const DEFAULT_COLOR: &str = "#1f93ff";

/// The Settings block, as its fields read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxForm {
    pub name: String,
    pub website_url: String,
    pub welcome_title: String,
    pub welcome_tagline: String,
    pub widget_color: String,
    /// The widget's language: `""` (each visitor's browser), `en`, `pt-BR`.
    pub locale: String,
    pub pre_chat_enabled: bool,
    pub pre_chat_message: String,
    pub hmac_mandatory: bool,
}

/// A website inbox (the chat window's settings are its own).
pub fn website(inbox: &Inbox) -> bool {
    inbox.channel_type == ChannelType::WebWidget
}

/// `pre_chat_form_options.pre_chat_message`, if any.
pub fn pre_chat_message(inbox: &Inbox) -> Option<&str> {
    inbox
        .pre_chat_form_options
        .as_ref()?
        .get("pre_chat_message")?
        .as_str()
}

impl InboxForm {
    /// The block showing an inbox's current settings.
    pub fn of(inbox: &Inbox) -> InboxForm {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        InboxForm {
            name: inbox.name.clone(),
            website_url: text(&inbox.website_url),
            welcome_title: text(&inbox.welcome_title),
            welcome_tagline: text(&inbox.welcome_tagline),
            // A colour field always holds one: the widget's default.
            widget_color: inbox
                .widget_color
                .clone()
                .unwrap_or_else(|| DEFAULT_COLOR.into()),
            locale: inbox.locale.clone().flatten().unwrap_or_default(),
            pre_chat_enabled: inbox.pre_chat_form_enabled.unwrap_or(false),
            pre_chat_message: pre_chat_message(inbox).unwrap_or_default().to_string(),
            hmac_mandatory: inbox.hmac_mandatory.unwrap_or(false),
        }
    }

    /// The `PATCH` body with what differs from what the block was drawn
    /// with (`drawn`); an emptied text is sent empty (the server clears
    /// it). `None`: nothing changed. Other channels than the website have
    /// only their name here.
    pub fn body(&self, drawn: &InboxForm, website: bool) -> Result<Option<Value>, Problem> {
        let now = drawn;
        let mut body = Map::new();
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Problem::Missing("inbox-edit-name"));
        }
        if name != now.name.trim() {
            body.insert("name".into(), json!(name));
        }
        if !website {
            return Ok((!body.is_empty()).then_some(Value::Object(body)));
        }
        let url = self.website_url.trim();
        if !url.is_empty() && !forms::web_address(url) {
            return Err(Problem::NotWebAddress("inbox-edit-url"));
        }
        let mut channel = Map::new();
        let texts = [
            ("website_url", &self.website_url, &now.website_url),
            ("welcome_title", &self.welcome_title, &now.welcome_title),
            (
                "welcome_tagline",
                &self.welcome_tagline,
                &now.welcome_tagline,
            ),
        ];
        for (key, typed, saved) in texts {
            if typed.trim() != saved.trim() {
                channel.insert(key.into(), json!(typed.trim()));
            }
        }
        let color = self.widget_color.trim();
        if !color.eq_ignore_ascii_case(now.widget_color.trim()) {
            channel.insert("widget_color".into(), json!(color));
        }
        if self.locale != now.locale {
            channel.insert("locale".into(), json!(self.locale));
        }
        if self.pre_chat_enabled != now.pre_chat_enabled {
            channel.insert("pre_chat_form_enabled".into(), json!(self.pre_chat_enabled));
        }
        let message = self.pre_chat_message.trim();
        if message != now.pre_chat_message.trim() {
            channel.insert(
                "pre_chat_form_options".into(),
                json!({ "pre_chat_message": message }),
            );
        }
        if self.hmac_mandatory != now.hmac_mandatory {
            channel.insert("hmac_mandatory".into(), json!(self.hmac_mandatory));
        }
        if !channel.is_empty() {
            body.insert("channel".into(), Value::Object(channel));
        }
        Ok((!body.is_empty()).then_some(Value::Object(body)))
    }
}

#[cfg(test)]
#[path = "inbox_form_tests.rs"]
mod tests;
