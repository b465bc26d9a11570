//! REST payloads in Chatwoot's shapes (`/api/v1/...`), as the server sends them.

use serde::{Deserialize, Serialize};

/// Role of an agent inside one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers conversations; reads the account's settings.
    Agent,
    /// Also manages agents, inboxes and collaborators.
    Administrator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "agent" => Some(Role::Agent),
            "administrator" => Some(Role::Administrator),
            _ => None,
        }
    }
}

/// What an agent said about themselves: only `Available` agents receive
/// automatic assignments. Chatwoot's dashboard calls `Available` "online"; both
/// spellings are accepted on input and `available` is what we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[serde(alias = "online")]
    Available,
    Busy,
    Offline,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Busy => "busy",
            Availability::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "available" | "online" => Some(Availability::Available),
            "busy" => Some(Availability::Busy),
            "offline" => Some(Availability::Offline),
            _ => None,
        }
    }
}

/// An agent as `GET /api/v1/accounts/{account_id}/agents` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: i64,
    pub account_id: i64,
    pub availability_status: Availability,
    pub auto_offline: bool,
    pub confirmed: bool,
    pub email: String,
    /// The name shown to visitors: the display name, or the full name without one.
    pub available_name: String,
    /// Full name ("Seu nome completo").
    pub name: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub thumbnail: String,
    /// switchboard: most open conversations across all inboxes (null: none).
    pub max_concurrent_conversations: Option<u32>,
    /// switchboard, in an inbox's collaborators (`GET .../inbox_members/{id}`)
    /// only: their open conversations in that inbox, in all inboxes, and
    /// whether a console of theirs is open now (really present, whatever
    /// `auto_offline` says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_conversations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_conversations_total: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
}

/// One account the signed-in user belongs to, inside [`Profile::accounts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileAccount {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub role: Role,
    pub availability: Availability,
    pub availability_status: Availability,
    pub auto_offline: bool,
}

/// The signed-in user (`GET /api/v1/profile`, `POST /auth/sign_in`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    /// The token this request was authenticated with (or, after sign-in, the
    /// new session token). Tokens are stored hashed, so no other one can be shown.
    pub access_token: String,
    /// The first account, as Chatwoot's dashboard expects.
    pub account_id: Option<i64>,
    pub available_name: String,
    pub avatar_url: String,
    pub confirmed: bool,
    pub display_name: Option<String>,
    pub email: String,
    pub name: String,
    pub role: Option<Role>,
    pub accounts: Vec<ProfileAccount>,
}

/// `auto_assignment_config` of an inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoAssignmentConfig {
    /// Most open conversations of this inbox one agent is given automatically;
    /// absent means unlimited. Past it, new conversations wait in Unassigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assignment_limit: Option<u32>,
    /// How conversations are spread over the collaborators.
    #[serde(default)]
    pub policy: AssignmentPolicy,
    /// Waiting (unassigned) conversations go, oldest first, to whoever gets
    /// room: an agent resolving one, coming online, joining the inbox.
    #[serde(default)]
    pub assign_from_queue: bool,
    /// What happens to an agent's open conversations when they go away.
    #[serde(default)]
    pub on_agent_offline: OnAgentOffline,
    /// How long an agent may be away before `requeue` applies (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_grace_seconds: Option<u32>,
    /// After an automatic assignment, how long the assignee has to reply
    /// before the conversation moves on (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassign_after_seconds: Option<u32>,
}

/// `auto_assignment_config.on_agent_offline`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnAgentOffline {
    /// They keep their conversations.
    #[default]
    Keep,
    /// After the grace period their open conversations return to the queue.
    Requeue,
}

/// `auto_assignment_config.policy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentPolicy {
    /// Rotate among eligible collaborators with room, skipping full ones.
    #[default]
    RoundRobin,
    /// The collaborator with the fewest open conversations in the inbox;
    /// ties go to the one assigned longest ago.
    Balanced,
}

/// Channel of an inbox, as `channel_type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelType {
    #[serde(rename = "Channel::WebWidget")]
    WebWidget,
    #[serde(rename = "Channel::Api")]
    Api,
    #[serde(rename = "Channel::Whatsapp")]
    Whatsapp,
}

impl ChannelType {
    /// The short name used when creating an inbox (`channel.type`) and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::WebWidget => "web_widget",
            ChannelType::Api => "api",
            ChannelType::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "web_widget" => Some(ChannelType::WebWidget),
            "api" => Some(ChannelType::Api),
            "whatsapp" => Some(ChannelType::Whatsapp),
            _ => None,
        }
    }
}

/// An inbox as `GET /api/v1/accounts/{account_id}/inboxes/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub channel_id: i64,
    pub channel_type: ChannelType,
    pub avatar_url: String,
    pub enable_auto_assignment: bool,
    pub auto_assignment_config: AutoAssignmentConfig,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    pub enable_email_collect: bool,
    pub csat_survey_enabled: bool,
    pub working_hours_enabled: bool,
    pub out_of_office_message: Option<String>,
    pub timezone: String,
    pub allow_messages_after_resolved: bool,
    pub lock_to_single_conversation: bool,
    pub sender_name_type: String,
    pub business_name: Option<String>,
    /// Website inboxes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_widget_script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub welcome_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub welcome_tagline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widget_color: Option<String>,
    /// Website inboxes: the language of the widget's own texts (`en`,
    /// `pt-BR`); `null` follows each visitor's browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Option<String>>,
    /// API inboxes only: the public identifier of the Public client API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_identifier: Option<String>,
    /// API inboxes only: where events of this inbox are delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Website inboxes, administrators only: the key the host site signs
    /// user identifiers with (`identifier_hash` = hex HMAC-SHA256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_token: Option<String>,
    /// API inboxes, administrators only: the key that signs the callbacks
    /// sent to `webhook_url` (`X-Chatwoot-Signature`, see docs/WEBHOOKS.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Website inboxes: unsigned identifiers are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_mandatory: Option<bool>,
    /// Website inboxes: the widget asks for name and e-mail first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_chat_form_enabled: Option<bool>,
    /// Website inboxes: `{"pre_chat_message": ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_chat_form_options: Option<serde_json::Value>,
    /// WhatsApp inboxes: the number, `+` and digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// WhatsApp inboxes: `whatsapp_cloud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// WhatsApp inboxes, administrators only: the ids and the verify token;
    /// the API key and app secret are never shown again. `null` once
    /// the number is disconnected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_config: Option<serde_json::Value>,
    /// WhatsApp inboxes: the URL to give Meta as the webhook's callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_webhook_url: Option<String>,
    /// WhatsApp inboxes: whether messages are received and sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    /// WhatsApp inboxes: the number's message templates as Meta listed
    /// them at the last sync (`POST .../inboxes/{id}/sync_templates`):
    /// `{id, name, language, status, category, components}`, every status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_templates: Option<Vec<serde_json::Value>>,
    /// WhatsApp inboxes: when the templates were last synced (Unix
    /// seconds); `null` before the first sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_templates_last_updated: Option<i64>,
}

/// `{"payload": [...]}`, Chatwoot's list envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload<T> {
    pub payload: Vec<T>,
}

/// Body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable kind, e.g. `not_found`, `validation_failed`.
    pub error: String,
    /// One sentence for humans.
    pub message: String,
    /// Field-level problems, when the request body was at fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub code: String,
}
