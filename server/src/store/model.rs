//! Rows as the rest of the server sees them, and the inputs that change them.

use serde::{Deserialize, Serialize};
use switchboard_protocol::api::{AutoAssignmentConfig, Availability, ChannelType, Role};

/// A person who can sign in. Belongs to accounts through [`Membership`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: i64,
    /// Lower-case; unique across the installation.
    pub email: String,
    /// Full name ("Seu nome completo").
    pub name: String,
    /// What visitors see instead of the full name, when set.
    pub display_name: Option<String>,
}

impl User {
    /// The name shown in conversations: the display name, else the full name.
    pub fn available_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

/// A user's place in one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub account_id: i64,
    pub account_name: String,
    pub role: Role,
    pub availability: Availability,
    /// Chatwoot semantics: when true the agent counts as offline without an
    /// open console connection; when false their chosen availability holds.
    pub auto_offline: bool,
}

/// A user as an agent of one account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agent {
    pub user: User,
    pub account_id: i64,
    pub role: Role,
    pub availability: Availability,
    pub auto_offline: bool,
    /// Most open conversations across all inboxes; `None`: no limit.
    pub max_concurrent_conversations: Option<u32>,
    /// Whether the user can sign in with a password yet.
    pub has_password: bool,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
}

/// An agent to add to an account.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub user: NewUser,
    pub role: Role,
    pub availability: Availability,
    pub auto_offline: bool,
    pub max_concurrent_conversations: Option<u32>,
}

/// Changes to a user's own profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
    pub password_hash: Option<String>,
    /// With a new password, every session of the person is revoked but this
    /// one (the SHA-256 of the token that made the change).
    pub keep_session: Option<String>,
}

/// Changes to an agent's place in an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentPatch {
    pub role: Option<Role>,
    pub availability: Option<Availability>,
    pub auto_offline: Option<bool>,
    /// `Some(None)` removes the agent's own limit.
    pub max_concurrent_conversations: Option<Option<u32>>,
    /// An administrator may set the full name and password of an agent who
    /// has not claimed them yet (see `AgentStore::update_agent`).
    pub name: Option<String>,
    pub password_hash: Option<String>,
}

/// What [`super::AccountStore::create_account`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedAccount {
    pub account_id: i64,
    pub user_id: i64,
}

/// Where a token came from: the long-lived API token shown once at creation,
/// or a console session minted by signing in (revoked by signing out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Api,
    Session,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
        }
    }
}

/// An inbox: where conversations of one channel land.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Inbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub channel_type: ChannelType,
    /// "Atribuição de conversa": new conversations go to a collaborator.
    pub enable_auto_assignment: bool,
    pub auto_assignment_config: AutoAssignmentConfig,
    pub settings: InboxSettings,
    /// Website inboxes: identifies the widget on the host page.
    pub website_token: Option<String>,
    /// API inboxes: identifies the inbox in the Public client API.
    pub inbox_identifier: Option<String>,
    /// WhatsApp inboxes: the number, `+` and digits; webhooks arrive by it.
    pub phone_number: Option<String>,
}

/// An inbox to create.
#[derive(Debug, Clone)]
pub struct NewInbox {
    pub name: String,
    pub channel_type: ChannelType,
    pub enable_auto_assignment: bool,
    pub auto_assignment_config: AutoAssignmentConfig,
    pub settings: InboxSettings,
    pub website_token: Option<String>,
    pub inbox_identifier: Option<String>,
    pub phone_number: Option<String>,
}

/// The inbox's presentation and behaviour settings, kept as one JSON column
/// because they are read and written together and grow with every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxSettings {
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
    pub website_url: Option<String>,
    pub welcome_title: Option<String>,
    pub welcome_tagline: Option<String>,
    pub widget_color: Option<String>,
    /// Website inboxes: the language of the widget's own texts (`en`,
    /// `pt-BR`) unless the host page asks for one; `None` follows each
    /// visitor's browser.
    pub locale: Option<String>,
    pub webhook_url: Option<String>,
    /// Website inboxes: the key the host site signs its user identifiers
    /// with (HMAC-SHA256), so the widget can trust `setUser`.
    pub hmac_token: Option<String>,
    /// Refuse identifiers that are not signed.
    pub hmac_mandatory: bool,
    /// API inboxes: the key that signs callbacks to `webhook_url`. Separate
    /// from `hmac_token`, which verifies contacts, never signs anything.
    pub secret: Option<String>,
    /// WhatsApp inboxes: `whatsapp_cloud`.
    pub provider: Option<String>,
    /// WhatsApp inboxes: the Cloud API credentials; `None` once the number
    /// is disconnected (history stays, nothing is received or sent).
    pub provider_config: Option<WhatsappConfig>,
    /// WhatsApp inboxes: the number's templates at the last sync (see
    /// `whatsapp::templates`), and when that was (Unix seconds).
    pub message_templates: Vec<serde_json::Value>,
    pub message_templates_synced_at: Option<i64>,
    /// Ask for name and e-mail before the first message.
    pub pre_chat_form_enabled: bool,
    pub pre_chat_message: Option<String>,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            greeting_enabled: false,
            greeting_message: None,
            enable_email_collect: true,
            csat_survey_enabled: false,
            working_hours_enabled: false,
            out_of_office_message: None,
            timezone: "UTC".to_string(),
            allow_messages_after_resolved: true,
            lock_to_single_conversation: false,
            sender_name_type: "friendly".to_string(),
            business_name: None,
            website_url: None,
            welcome_title: None,
            welcome_tagline: None,
            widget_color: None,
            locale: None,
            webhook_url: None,
            hmac_token: None,
            hmac_mandatory: false,
            secret: None,
            pre_chat_form_enabled: false,
            pre_chat_message: None,
            provider: None,
            provider_config: None,
            message_templates: Vec::new(),
            message_templates_synced_at: None,
        }
    }
}

/// A WhatsApp Cloud number's credentials (Chatwoot's `provider_config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappConfig {
    /// The access token calls to the Graph API carry (`Bearer`).
    pub api_key: String,
    pub phone_number_id: String,
    pub business_account_id: String,
    /// What Meta must send back when it verifies the webhook URL.
    pub webhook_verify_token: String,
    /// The Meta app's secret, which signs every webhook (`X-Hub-Signature-256`).
    pub app_secret: String,
}

/// How [`super::InboxStore::change_members`] treats the given users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Add them to the current collaborators (`POST inbox_members`).
    Add,
    /// Make them the collaborators (`PATCH inbox_members`).
    Replace,
    /// Remove them (`DELETE inbox_members`).
    Remove,
}
