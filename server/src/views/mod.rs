//! Every shape switchboard answers in, rendered from the hub's and the
//! store's rows by pure functions: Chatwoot's shapes for REST, sockets,
//! webhooks and the outbox, so each is written once.
//!
//! - this file: account settings (agents, inboxes, the profile);
//! - [`chat`]: conversations, messages and contacts, with [`chat::Names`];
//! - [`frames`]: socket frames, serialized once for every subscriber;
//! - [`webhook`]: webhooks' and API inbox callbacks' bodies.
//!
//! Loading what a view names is the caller's (see
//! `crate::http::AppState::names`): nothing here reads the store.

pub(crate) mod chat;
pub(crate) mod frames;
pub(crate) mod webhook;

use switchboard_protocol::api as wire;

use crate::store::{Agent, Inbox, Membership, User};

pub(crate) fn agent(a: &Agent) -> wire::Agent {
    wire::Agent {
        id: a.user.id,
        account_id: a.account_id,
        availability_status: a.availability,
        auto_offline: a.auto_offline,
        confirmed: true,
        email: a.user.email.clone(),
        available_name: a.user.available_name().to_string(),
        name: a.user.name.clone(),
        display_name: a.user.display_name.clone(),
        role: a.role,
        thumbnail: String::new(),
        max_concurrent_conversations: a.max_concurrent_conversations,
        open_conversations: None,
        open_conversations_total: None,
        present: None,
    }
}

pub(crate) fn agents(list: &[Agent]) -> Vec<wire::Agent> {
    list.iter().map(agent).collect()
}

pub(crate) fn profile(
    user: &User,
    memberships: &[Membership],
    access_token: String,
) -> wire::Profile {
    wire::Profile {
        id: user.id,
        access_token,
        account_id: memberships.first().map(|m| m.account_id),
        available_name: user.available_name().to_string(),
        avatar_url: String::new(),
        confirmed: true,
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: memberships.first().map(|m| m.role),
        accounts: memberships
            .iter()
            .map(|m| wire::ProfileAccount {
                id: m.account_id,
                name: m.account_name.clone(),
                status: "active".to_string(),
                role: m.role,
                availability: m.availability,
                availability_status: m.availability,
                auto_offline: m.auto_offline,
            })
            .collect(),
    }
}

/// `public_url` is where this server is reached from browsers, for the
/// widget snippet.
pub(crate) fn inbox(i: &Inbox, public_url: &str) -> wire::Inbox {
    let s = &i.settings;
    let widget = i.channel_type == switchboard_protocol::api::ChannelType::WebWidget;
    let whatsapp = i.channel_type == switchboard_protocol::api::ChannelType::Whatsapp;
    let web_widget_script = i.website_token.as_ref().map(|token| {
        format!(
            "<script src=\"{public_url}/widget/sdk.js\" defer data-website-token=\"{token}\"></script>"
        )
    });
    wire::Inbox {
        id: i.id,
        account_id: i.account_id,
        name: i.name.clone(),
        channel_id: i.id,
        channel_type: i.channel_type,
        avatar_url: String::new(),
        enable_auto_assignment: i.enable_auto_assignment,
        auto_assignment_config: i.auto_assignment_config.clone(),
        greeting_enabled: s.greeting_enabled,
        greeting_message: s.greeting_message.clone(),
        enable_email_collect: s.enable_email_collect,
        csat_survey_enabled: s.csat_survey_enabled,
        working_hours_enabled: s.working_hours_enabled,
        out_of_office_message: s.out_of_office_message.clone(),
        timezone: s.timezone.clone(),
        allow_messages_after_resolved: s.allow_messages_after_resolved,
        lock_to_single_conversation: s.lock_to_single_conversation,
        sender_name_type: s.sender_name_type.clone(),
        business_name: s.business_name.clone(),
        website_url: s.website_url.clone(),
        website_token: i.website_token.clone(),
        web_widget_script,
        welcome_title: s.welcome_title.clone(),
        welcome_tagline: s.welcome_tagline.clone(),
        widget_color: s.widget_color.clone(),
        locale: widget.then(|| s.locale.clone()),
        inbox_identifier: i.inbox_identifier.clone(),
        webhook_url: s.webhook_url.clone(),
        hmac_token: s.hmac_token.clone(),
        secret: s.secret.clone(),
        hmac_mandatory: widget.then_some(s.hmac_mandatory),
        pre_chat_form_enabled: widget.then_some(s.pre_chat_form_enabled),
        pre_chat_form_options: widget
            .then(|| serde_json::json!({ "pre_chat_message": s.pre_chat_message })),
        phone_number: i.phone_number.clone(),
        provider: s.provider.clone(),
        provider_config: s.provider_config.as_ref().map(|c| {
            serde_json::json!({
                "phone_number_id": c.phone_number_id,
                "business_account_id": c.business_account_id,
                "webhook_verify_token": c.webhook_verify_token,
            })
        }),
        callback_webhook_url: i
            .phone_number
            .as_ref()
            .map(|p| format!("{public_url}/webhooks/whatsapp/{p}")),
        connected: whatsapp.then_some(s.provider_config.is_some()),
        message_templates: whatsapp.then(|| s.message_templates.clone()),
        message_templates_last_updated: s.message_templates_synced_at.filter(|_| whatsapp),
    }
}
