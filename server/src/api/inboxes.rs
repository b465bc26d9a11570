//! `/api/v1/accounts/{account_id}/inboxes`: where conversations land, and the
//! inbox's conversation assignment settings ("Atribuição de conversa").

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_protocol::api::{self as wire, AutoAssignmentConfig, ChannelType, Payload};

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::{not_found_as, AppState};
use crate::input::{self, present, MAX_NAME, MAX_TEXT};
use crate::secrets::random_token;
use crate::store::{Inbox, InboxSettings, NewInbox};
use crate::views;
use crate::whatsapp::number as whatsapp_number;

/// Colour of a new website inbox's widget unless one is given.
const DEFAULT_WIDGET_COLOR: &str = "#1f93ff";

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
) -> ApiResult<Json<Payload<wire::Inbox>>> {
    let inboxes = state.store.list_inboxes(member.account_id()).await?;
    let payload = inboxes
        .iter()
        .map(|i| for_member(&member, views::inbox(i, &state.config.public_url)))
        .collect();
    Ok(Json(Payload { payload }))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<wire::Inbox>> {
    let inbox = state
        .store
        .get_inbox(member.account_id(), inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    Ok(Json(for_member(
        &member,
        views::inbox(&inbox, &state.config.public_url),
    )))
}

/// The HMAC key lets its holder speak as any of the site's users, the
/// callback secret lets it forge callbacks, and the WhatsApp verify token
/// lets it claim the number's webhook: only administrators see them.
pub(crate) fn for_member(member: &Member, mut inbox: wire::Inbox) -> wire::Inbox {
    if member.require_admin().is_err() {
        inbox.hmac_token = None;
        inbox.secret = None;
        inbox.provider_config = None;
    }
    inbox
}

/// The fields of Chatwoot's inbox create and update payloads. All optional
/// here; `create` insists on a name and a channel type.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxFields {
    name: Option<String>,
    channel: Option<ChannelFields>,
    enable_auto_assignment: Option<bool>,
    /// `null` resets to the defaults (no maximum).
    #[serde(default, deserialize_with = "present")]
    auto_assignment_config: Option<Option<AutoAssignmentConfig>>,
    greeting_enabled: Option<bool>,
    greeting_message: Option<String>,
    enable_email_collect: Option<bool>,
    csat_survey_enabled: Option<bool>,
    working_hours_enabled: Option<bool>,
    out_of_office_message: Option<String>,
    timezone: Option<String>,
    allow_messages_after_resolved: Option<bool>,
    lock_to_single_conversation: Option<bool>,
    sender_name_type: Option<SenderNameType>,
    business_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChannelFields {
    #[serde(rename = "type")]
    kind: Option<String>,
    website_url: Option<String>,
    welcome_title: Option<String>,
    welcome_tagline: Option<String>,
    widget_color: Option<String>,
    locale: Option<String>,
    webhook_url: Option<String>,
    hmac_mandatory: Option<bool>,
    pre_chat_form_enabled: Option<bool>,
    pre_chat_form_options: Option<PreChatOptions>,
    phone_number: Option<String>,
    provider: Option<String>,
    provider_config: Option<super::whatsapp_inbox::ProviderConfigFields>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PreChatOptions {
    pre_chat_message: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SenderNameType {
    Friendly,
    Professional,
}

/// The editable part of an inbox, which create and update both fill in.
struct Editable {
    name: String,
    enable_auto_assignment: bool,
    auto_assignment_config: AutoAssignmentConfig,
    settings: InboxSettings,
}

impl InboxFields {
    /// Applies every given field onto `target`, validating each; nothing is
    /// saved unless all of them pass. `allow_private`: callback URLs may
    /// point at private networks.
    fn apply(self, target: &mut Editable, allow_private: bool) -> ApiResult<()> {
        if let Some(name) = &self.name {
            target.name = input::name("name", name)?;
        }
        if let Some(on) = self.enable_auto_assignment {
            target.enable_auto_assignment = on;
        }
        if let Some(config) = self.auto_assignment_config {
            let config = config.unwrap_or_default();
            if config.max_assignment_limit == Some(0) {
                return Err(ApiError::invalid(
                    "max_assignment_limit",
                    "must be greater than 0 (leave it out for no limit)",
                ));
            }
            target.auto_assignment_config = config;
        }
        let s = &mut target.settings;
        let flags = [
            (self.greeting_enabled, &mut s.greeting_enabled),
            (self.enable_email_collect, &mut s.enable_email_collect),
            (self.csat_survey_enabled, &mut s.csat_survey_enabled),
            (self.working_hours_enabled, &mut s.working_hours_enabled),
            (
                self.allow_messages_after_resolved,
                &mut s.allow_messages_after_resolved,
            ),
            (
                self.lock_to_single_conversation,
                &mut s.lock_to_single_conversation,
            ),
        ];
        for (given, slot) in flags {
            if let Some(value) = given {
                *slot = value;
            }
        }
        set_text(
            &mut s.greeting_message,
            "greeting_message",
            self.greeting_message,
            MAX_TEXT,
        )?;
        set_text(
            &mut s.out_of_office_message,
            "out_of_office_message",
            self.out_of_office_message,
            MAX_TEXT,
        )?;
        set_text(
            &mut s.business_name,
            "business_name",
            self.business_name,
            MAX_NAME,
        )?;
        if let Some(tz) = self.timezone {
            let tz = tz.trim();
            let valid = !tz.is_empty()
                && tz.len() <= 64
                && tz
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
            if !valid {
                return Err(ApiError::invalid(
                    "timezone",
                    "must be an IANA name like America/Sao_Paulo",
                ));
            }
            s.timezone = tz.to_string();
        }
        if let Some(kind) = self.sender_name_type {
            s.sender_name_type = match kind {
                SenderNameType::Friendly => "friendly",
                SenderNameType::Professional => "professional",
            }
            .to_string();
        }
        if let Some(mut channel) = self.channel {
            if let Some(provider) = channel.provider.take() {
                if provider != "whatsapp_cloud" {
                    return Err(ApiError::invalid(
                        "provider",
                        format!("`{provider}` is not supported (whatsapp_cloud)"),
                    ));
                }
                s.provider = Some(provider);
            }
            if let Some(given) = channel.provider_config.take() {
                let before = s.provider_config.take();
                let account = before.as_ref().map(|c| c.business_account_id.clone());
                let merged = given.merge(before)?;
                // Templates belong to the business account they were read from.
                if account.as_deref() != Some(merged.business_account_id.as_str()) {
                    s.message_templates.clear();
                    s.message_templates_synced_at = None;
                }
                s.provider_config = Some(merged);
            }
            if channel.website_url.is_some() {
                s.website_url = input::url("website_url", channel.website_url.as_deref())?;
            }
            if channel.webhook_url.is_some() {
                s.webhook_url = input::url("webhook_url", channel.webhook_url.as_deref())?;
                if let Some(url) = &s.webhook_url {
                    crate::outbox::guard::check_url(url, allow_private)
                        .map_err(|e| ApiError::invalid("webhook_url", e))?;
                }
            }
            if channel.widget_color.is_some() {
                s.widget_color = input::color(channel.widget_color.as_deref())?;
            }
            if let Some(locale) = channel.locale {
                s.locale = widget_locale(&locale)?;
            }
            set_text(
                &mut s.welcome_title,
                "welcome_title",
                channel.welcome_title,
                MAX_NAME,
            )?;
            set_text(
                &mut s.welcome_tagline,
                "welcome_tagline",
                channel.welcome_tagline,
                MAX_TEXT,
            )?;
            if let Some(on) = channel.hmac_mandatory {
                s.hmac_mandatory = on;
            }
            if let Some(on) = channel.pre_chat_form_enabled {
                s.pre_chat_form_enabled = on;
            }
            if let Some(options) = channel.pre_chat_form_options {
                set_text(
                    &mut s.pre_chat_message,
                    "pre_chat_message",
                    options.pre_chat_message,
                    MAX_TEXT,
                )?;
            }
        }
        Ok(())
    }
}

/// The languages the widget speaks, as `locale` takes them; an empty
/// string goes back to following each visitor's browser.
fn widget_locale(given: &str) -> ApiResult<Option<String>> {
    match given.trim() {
        "" => Ok(None),
        "en" => Ok(Some("en".to_string())),
        "pt-BR" | "pt_BR" | "pt" => Ok(Some("pt-BR".to_string())),
        other => Err(ApiError::invalid(
            "locale",
            format!("`{other}` is not a language the widget speaks (en, pt-BR)"),
        )),
    }
}

/// Sets an optional text setting when given; an empty string clears it.
fn set_text(
    slot: &mut Option<String>,
    field: &str,
    given: Option<String>,
    max: usize,
) -> ApiResult<()> {
    if let Some(value) = given {
        *slot = input::optional_text(field, Some(&value), max)?;
    }
    Ok(())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiJson(mut body): ApiJson<InboxFields>,
) -> ApiResult<Json<wire::Inbox>> {
    member.require_admin()?;
    if body.name.is_none() {
        return Err(ApiError::invalid("name", "can't be blank"));
    }
    let kind = body.channel.as_mut().and_then(|c| c.kind.take());
    let channel_type = match kind.as_deref() {
        None => {
            return Err(ApiError::invalid(
                "channel.type",
                "is required (web_widget, api or whatsapp)",
            ))
        }
        Some(k) => ChannelType::parse(k).ok_or_else(|| {
            ApiError::invalid(
                "channel.type",
                format!("`{k}` is not supported (web_widget, api or whatsapp)"),
            )
        })?,
    };
    let wants_provider = body
        .channel
        .as_ref()
        .is_some_and(|c| c.provider.is_some() || c.provider_config.is_some());
    if wants_provider && channel_type != ChannelType::Whatsapp {
        return Err(ApiError::invalid(
            "provider_config",
            "belongs to WhatsApp inboxes only",
        ));
    }
    let phone_number = match (
        channel_type,
        body.channel.as_mut().and_then(|c| c.phone_number.take()),
    ) {
        (ChannelType::Whatsapp, Some(raw)) => Some(whatsapp_number(&raw)?),
        (ChannelType::Whatsapp, None) => {
            return Err(ApiError::invalid("phone_number", "can't be blank"))
        }
        (_, _) => None,
    };
    let mut settings = InboxSettings::default();
    if channel_type == ChannelType::WebWidget {
        settings.widget_color = Some(DEFAULT_WIDGET_COLOR.to_string());
        settings.hmac_token = Some(random_token(32));
    }
    let mut editable = Editable {
        name: String::new(),
        enable_auto_assignment: true,
        auto_assignment_config: AutoAssignmentConfig::default(),
        settings,
    };
    body.apply(&mut editable, state.config.outbox.allow_private)?;
    if channel_type == ChannelType::Api {
        editable.settings.secret = Some(random_token(24));
    }
    if channel_type == ChannelType::Whatsapp {
        if editable.settings.provider_config.is_none() {
            return Err(ApiError::invalid(
                "provider_config",
                "is required (api_key, phone_number_id, business_account_id, app_secret)",
            ));
        }
        editable.settings.provider = Some("whatsapp_cloud".to_string());
    }
    let (website_token, inbox_identifier) = match channel_type {
        ChannelType::WebWidget => (Some(random_token(24)), None),
        ChannelType::Api => (None, Some(random_token(24))),
        ChannelType::Whatsapp => (None, None),
    };
    let new = NewInbox {
        name: editable.name,
        channel_type,
        enable_auto_assignment: editable.enable_auto_assignment,
        auto_assignment_config: editable.auto_assignment_config,
        settings: editable.settings,
        website_token,
        inbox_identifier,
        phone_number,
    };
    let inbox = state.store.create_inbox(member.account_id(), &new).await?;
    tracing::info!(
        account_id = member.account_id(),
        inbox_id = inbox.id,
        "inbox created"
    );
    state.settings_changed(member.account_id()).await?;
    Ok(Json(views::inbox(&inbox, &state.config.public_url)))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
    ApiJson(mut body): ApiJson<InboxFields>,
) -> ApiResult<Json<wire::Inbox>> {
    member.require_admin()?;
    let current = state
        .store
        .get_inbox(member.account_id(), inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    if let Some(kind) = body.channel.as_mut().and_then(|c| c.kind.take()) {
        if ChannelType::parse(&kind) != Some(current.channel_type) {
            return Err(ApiError::invalid("channel.type", "cannot be changed"));
        }
    }
    if let Some(number) = body.channel.as_mut().and_then(|c| c.phone_number.take()) {
        if current.phone_number.as_deref() != Some(whatsapp_number(&number)?.as_str()) {
            return Err(ApiError::invalid(
                "phone_number",
                "cannot be changed (create another inbox)",
            ));
        }
    }
    if current.channel_type != ChannelType::Whatsapp
        && body
            .channel
            .as_ref()
            .is_some_and(|c| c.provider.is_some() || c.provider_config.is_some())
    {
        return Err(ApiError::invalid(
            "provider_config",
            "belongs to WhatsApp inboxes only",
        ));
    }
    let mut editable = Editable {
        name: current.name.clone(),
        enable_auto_assignment: current.enable_auto_assignment,
        auto_assignment_config: current.auto_assignment_config.clone(),
        settings: current.settings.clone(),
    };
    body.apply(&mut editable, state.config.outbox.allow_private)?;
    if current.channel_type == ChannelType::Api && editable.settings.secret.is_none() {
        // Inboxes made before callbacks were signed get their secret now.
        editable.settings.secret = Some(random_token(24));
    }
    let changed = Inbox {
        name: editable.name,
        enable_auto_assignment: editable.enable_auto_assignment,
        auto_assignment_config: editable.auto_assignment_config,
        settings: editable.settings,
        ..current
    };
    let inbox = state
        .store
        .save_inbox(&changed)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    state.settings_changed(member.account_id()).await?;
    Ok(Json(views::inbox(&inbox, &state.config.public_url)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<serde_json::Value>> {
    member.require_admin()?;
    // Proves the inbox is this account's before the hub removes it.
    state
        .store
        .get_inbox(member.account_id(), inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    let account_id = member.account_id();
    let removed = state.shards.delete_inbox(account_id, inbox_id).await?;
    crate::files::forget_conversations(&state.store, &state.files, account_id, &removed).await;
    tracing::info!(account_id = member.account_id(), inbox_id, "inbox deleted");
    state.settings_changed(member.account_id()).await?;
    Ok(Json(serde_json::json!({})))
}
