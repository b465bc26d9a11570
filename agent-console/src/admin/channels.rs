//! Inboxes of every channel, as Settings → Inboxes shows them: the new
//! inbox form (Website, WhatsApp Cloud, API) and the channel's own block
//! of an inbox's settings (the WhatsApp number's connection, the API
//! inbox's callback URL and keys). Pure, so the bodies are tested against
//! the server's names without a browser (see docs/CHANNELS.md).
//!
//! A WhatsApp number's access token and app secret are write-only: the
//! server never sends them back. A change sends only what was typed, so
//! saving a new token keeps the stored secret; a disconnected number has
//! no credentials left, so reconnecting it needs all of them again.

use serde_json::{json, Map, Value};
use switchboard_protocol::api::{ChannelType, Inbox};

use crate::forms::{self, Field, Problem};
use crate::i18n::T;

/// The only WhatsApp provider the server speaks.
pub const WHATSAPP_CLOUD: &str = "whatsapp_cloud";

/// The channels offered by the new inbox form, in its order.
pub const CHANNELS: [ChannelType; 3] = [
    ChannelType::WebWidget,
    ChannelType::Whatsapp,
    ChannelType::Api,
];

/// The new inbox form's fields: API name (in the server's errors), DOM
/// id, caption.
pub const NEW_INBOX_FIELDS: &[Field] = &[
    ("name", "inbox-name", T::InboxName),
    ("website_url", "inbox-url", T::WebsiteUrl),
    ("welcome_title", "inbox-title", T::WelcomeTitle),
    ("welcome_tagline", "inbox-tagline", T::WelcomeTagline),
    ("widget_color", "inbox-color", T::WidgetColor),
    ("phone_number", "inbox-phone", T::PhoneNumber),
    (
        "provider_config.phone_number_id",
        "inbox-phone-number-id",
        T::PhoneNumberId,
    ),
    (
        "provider_config.business_account_id",
        "inbox-business-account-id",
        T::BusinessAccountId,
    ),
    ("provider_config.api_key", "inbox-api-key", T::AccessToken),
    (
        "provider_config.app_secret",
        "inbox-app-secret",
        T::AppSecret,
    ),
    (
        "provider_config.webhook_verify_token",
        "inbox-verify-token",
        T::VerifyToken,
    ),
    ("webhook_url", "inbox-webhook-url", T::WebhookUrl),
];

/// The WhatsApp credentials form of an inbox's settings.
pub const CREDENTIAL_FIELDS: &[Field] = &[
    (
        "provider_config.phone_number_id",
        "wa-phone-number-id",
        T::PhoneNumberId,
    ),
    (
        "provider_config.business_account_id",
        "wa-business-account-id",
        T::BusinessAccountId,
    ),
    ("provider_config.api_key", "wa-api-key", T::AccessToken),
    ("provider_config.app_secret", "wa-app-secret", T::AppSecret),
    (
        "provider_config.webhook_verify_token",
        "wa-verify-token-input",
        T::VerifyToken,
    ),
];

/// The API inbox's callback form.
pub const API_FIELDS: &[Field] = &[("webhook_url", "api-webhook-url", T::WebhookUrl)];

/// The new inbox form, as its fields read. Only the chosen channel's
/// fields are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInbox {
    pub channel: ChannelType,
    pub name: String,
    pub website_url: String,
    pub welcome_title: String,
    pub welcome_tagline: String,
    pub widget_color: String,
    pub phone_number: String,
    pub phone_number_id: String,
    pub business_account_id: String,
    pub api_key: String,
    pub app_secret: String,
    /// Empty: the server makes one.
    pub verify_token: String,
    /// Empty: an API inbox without callbacks.
    pub webhook_url: String,
}

impl NewInbox {
    /// An empty form for `channel`.
    pub fn new(channel: ChannelType) -> NewInbox {
        NewInbox {
            channel,
            name: String::new(),
            website_url: String::new(),
            welcome_title: String::new(),
            welcome_tagline: String::new(),
            widget_color: String::new(),
            phone_number: String::new(),
            phone_number_id: String::new(),
            business_account_id: String::new(),
            api_key: String::new(),
            app_secret: String::new(),
            verify_token: String::new(),
            webhook_url: String::new(),
        }
    }

    /// `POST .../inboxes`, as docs/CHANNELS.md and docs/WEBHOOKS.md show it.
    pub fn body(&self) -> Result<Value, Problem> {
        let name = required("inbox-name", &self.name)?;
        match self.channel {
            ChannelType::WebWidget => {
                let url = self.website_url.trim();
                if !url.is_empty() && !forms::web_address(url) {
                    return Err(Problem::NotWebAddress("inbox-url"));
                }
                Ok(forms::website_inbox(
                    name,
                    url,
                    &self.welcome_title,
                    &self.welcome_tagline,
                    &self.widget_color,
                ))
            }
            ChannelType::Whatsapp => {
                let phone = required("inbox-phone", &self.phone_number)?;
                let mut config = Map::new();
                for (key, id, value) in [
                    (
                        "phone_number_id",
                        "inbox-phone-number-id",
                        &self.phone_number_id,
                    ),
                    (
                        "business_account_id",
                        "inbox-business-account-id",
                        &self.business_account_id,
                    ),
                    ("api_key", "inbox-api-key", &self.api_key),
                    ("app_secret", "inbox-app-secret", &self.app_secret),
                ] {
                    config.insert(key.into(), json!(required(id, value)?));
                }
                if !self.verify_token.trim().is_empty() {
                    config.insert(
                        "webhook_verify_token".into(),
                        json!(self.verify_token.trim()),
                    );
                }
                Ok(json!({"name": name, "channel": {
                    "type": "whatsapp", "phone_number": phone,
                    "provider": WHATSAPP_CLOUD, "provider_config": config}}))
            }
            ChannelType::Api => {
                let mut channel = json!({"type": "api"});
                match self.webhook_url.trim() {
                    "" => {}
                    url if forms::web_address(url) => channel["webhook_url"] = json!(url),
                    _ => return Err(Problem::NotWebAddress("inbox-webhook-url")),
                }
                Ok(json!({"name": name, "channel": channel}))
            }
        }
    }
}

fn required<'a>(id: &'static str, text: &'a str) -> Result<&'a str, Problem> {
    match text.trim() {
        "" => Err(Problem::Missing(id)),
        t => Ok(t),
    }
}

/// A WhatsApp inbox's number and connection, as administrators see them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whatsapp {
    /// Receiving and sending; `false` once disconnected.
    pub connected: bool,
    pub phone_number: String,
    /// What Meta's dashboard calls the Callback URL.
    pub callback_url: String,
    pub verify_token: Option<String>,
    pub phone_number_id: Option<String>,
    pub business_account_id: Option<String>,
}

/// The WhatsApp side of an inbox; `None` for other channels.
pub fn whatsapp(inbox: &Inbox) -> Option<Whatsapp> {
    if inbox.channel_type != ChannelType::Whatsapp {
        return None;
    }
    let config = inbox.provider_config.as_ref().filter(|c| c.is_object());
    let text = |key: &str| {
        config
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(Whatsapp {
        connected: inbox.connected.unwrap_or(config.is_some()),
        phone_number: inbox.phone_number.clone().unwrap_or_default(),
        callback_url: inbox.callback_webhook_url.clone().unwrap_or_default(),
        verify_token: text("webhook_verify_token"),
        phone_number_id: text("phone_number_id"),
        business_account_id: text("business_account_id"),
    })
}

/// The WhatsApp credentials form, as its fields read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub phone_number_id: String,
    pub business_account_id: String,
    /// Empty: keep the stored one (connected numbers only).
    pub api_key: String,
    pub app_secret: String,
    pub verify_token: String,
}

impl Credentials {
    /// The form showing a number's current ids and verify token; the
    /// access token and app secret always start empty.
    pub fn of(w: &Whatsapp) -> Credentials {
        if !w.connected {
            return Credentials::default();
        }
        Credentials {
            phone_number_id: w.phone_number_id.clone().unwrap_or_default(),
            business_account_id: w.business_account_id.clone().unwrap_or_default(),
            verify_token: w.verify_token.clone().unwrap_or_default(),
            ..Credentials::default()
        }
    }

    /// `PATCH .../inboxes/{id}` with what was typed or changed; `None`
    /// when nothing was. A disconnected number needs every credential
    /// (the verify token is made by the server when left empty).
    pub fn body(&self, w: &Whatsapp) -> Result<Option<Value>, Problem> {
        let mut config = Map::new();
        let fields = [
            (
                "phone_number_id",
                "wa-phone-number-id",
                &self.phone_number_id,
                w.phone_number_id.as_deref(),
            ),
            (
                "business_account_id",
                "wa-business-account-id",
                &self.business_account_id,
                w.business_account_id.as_deref(),
            ),
            ("api_key", "wa-api-key", &self.api_key, None),
            ("app_secret", "wa-app-secret", &self.app_secret, None),
        ];
        for (key, id, typed, current) in fields {
            let typed = typed.trim();
            if typed.is_empty() {
                if !w.connected {
                    return Err(Problem::Missing(id));
                }
            } else if !w.connected || current != Some(typed) {
                config.insert(key.into(), json!(typed));
            }
        }
        let token = self.verify_token.trim();
        if !token.is_empty() && (!w.connected || w.verify_token.as_deref() != Some(token)) {
            config.insert("webhook_verify_token".into(), json!(token));
        }
        if config.is_empty() {
            return Ok(None);
        }
        Ok(Some(json!({"channel": {"provider_config": config}})))
    }
}

/// `PATCH .../inboxes/{id}` with an API inbox's callback URL; an empty
/// one turns the callbacks off.
pub fn api_webhook_body(url: &str) -> Result<Value, Problem> {
    let url = url.trim();
    if !url.is_empty() && !forms::web_address(url) {
        return Err(Problem::NotWebAddress("api-webhook-url"));
    }
    Ok(json!({"channel": {"webhook_url": url}}))
}

/// The channel's name in the console.
pub fn channel_label(c: ChannelType) -> T {
    match c {
        ChannelType::WebWidget => T::Website,
        ChannelType::Api => T::Api,
        ChannelType::Whatsapp => T::Whatsapp,
    }
}

/// One line under the channel's name in the new inbox form.
pub fn channel_help(c: ChannelType) -> T {
    match c {
        ChannelType::WebWidget => T::WebsiteHelp,
        ChannelType::Api => T::ApiChannelHelp,
        ChannelType::Whatsapp => T::WhatsappHelp,
    }
}

#[cfg(test)]
#[path = "channels_tests.rs"]
mod tests;
