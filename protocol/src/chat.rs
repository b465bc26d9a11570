//! Conversations, messages and contacts in Chatwoot's response shapes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Agent;

/// Where a conversation stands (`open`, `pending`, `resolved`,
/// `snoozed`): one vocabulary for the server, the console and the widget.
/// Only open conversations count against an agent's maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
    Snoozed,
}

impl ConversationStatus {
    /// Every status, in the order lists offer them.
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Snoozed,
        ConversationStatus::Resolved,
    ];

    /// The name on the wire and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Snoozed => "snoozed",
        }
    }

    pub fn parse(s: &str) -> Option<ConversationStatus> {
        ConversationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// Who wrote a message, as shown next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageSender {
    pub id: i64,
    pub name: String,
    /// Agents: the display name, or the full name without one.
    pub available_name: String,
    pub avatar_url: String,
    pub thumbnail: String,
    /// `user` or `contact`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub content: Option<String>,
    pub account_id: i64,
    pub inbox_id: i64,
    pub conversation_id: i64,
    /// 0 incoming, 1 outgoing, 2 activity, 3 template (Chatwoot's encoding).
    pub message_type: i64,
    pub content_type: String,
    pub content_attributes: Value,
    pub created_at: i64,
    pub updated_at: i64,
    pub private: bool,
    pub status: String,
    pub source_id: Option<String>,
    /// `User` or `Contact`; absent for activity messages.
    pub sender_type: Option<String>,
    pub sender_id: Option<i64>,
    pub sender: Option<MessageSender>,
    /// The client's own id for the message, echoed back.
    pub echo_id: Option<String>,
    /// Files: `{id, message_id, file_type, content_type, extension, file_name,
    /// file_size, data_url, thumb_url}` (Chatwoot's shape).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Value>,
}

/// A contact's presence in one inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactInbox {
    pub source_id: String,
    pub inbox: ContactInboxInbox,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactInboxInbox {
    pub id: i64,
    pub name: String,
    pub channel_type: crate::api::ChannelType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub thumbnail: String,
    pub custom_attributes: Value,
    pub additional_attributes: Value,
    /// Whether the contact is online: left out until switchboard computes
    /// it (Chatwoot's field; a constant would mislead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_status: Option<String>,
    pub blocked: bool,
    pub created_at: i64,
    pub last_activity_at: Option<i64>,
    /// Where the contact stands in the account's CRM (absent: never sent there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<CrmLink>,
}

/// A contact's record in a CRM (Agendor) and how its sync went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmLink {
    /// The integration's app id, e.g. `agendor`.
    pub app_id: String,
    pub status: CrmStatus,
    /// `person` or `organization`, once known.
    #[serde(default)]
    pub record_type: Option<String>,
    #[serde(default)]
    pub record_id: Option<i64>,
    /// The record's page in the CRM, for people to open.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub deal_id: Option<i64>,
    #[serde(default)]
    pub deal_url: Option<String>,
    /// Why the last sync failed (when `status` is `failed`).
    #[serde(default)]
    pub error: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// Where a contact's CRM sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmStatus {
    /// Queued or being retried.
    Pending,
    Synced,
    /// Given up (a wrong token, a refusal, or a day of failures); an agent can retry.
    Failed,
}

/// `meta` of a conversation: who it is with, through what, held by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationMeta {
    pub sender: Contact,
    pub channel: crate::api::ChannelType,
    pub assignee: Option<Agent>,
    pub hmac_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub created_at: i64,
    pub last_activity_at: i64,
    /// Chatwoot's name for the last activity time in lists.
    pub timestamp: i64,
    /// Chatwoot's per-agent unread count: left out (absent) until
    /// switchboard computes it, rather than a 0 that would mislead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
    pub can_reply: bool,
    /// switchboard has no muting, labels or priorities yet: `false`, `[]`
    /// and `null` are true of every conversation (and Chatwoot clients
    /// expect the keys).
    #[serde(default)]
    pub muted: bool,
    #[serde(default)]
    pub labels: Vec<String>,
    pub additional_attributes: Value,
    pub custom_attributes: Value,
    #[serde(default)]
    pub priority: Option<String>,
    /// switchboard: 1-based place in the inbox's queue while the
    /// conversation waits unassigned; null otherwise.
    pub queue_position: Option<usize>,
    pub last_non_activity_message: Option<Message>,
    /// The last message, as Chatwoot's lists carry it.
    pub messages: Vec<Message>,
    pub meta: ConversationMeta,
}

/// Tab counts of the conversation lists (Mine / Unassigned / All).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationCounts {
    pub mine_count: usize,
    pub unassigned_count: usize,
    pub assigned_count: usize,
    pub all_count: usize,
}

/// `GET .../conversations`: `{"data": {"meta": {...}, "payload": [...]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationList {
    pub data: ConversationListData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationListData {
    pub meta: ConversationCounts,
    pub payload: Vec<Conversation>,
}
