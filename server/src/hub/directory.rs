//! An account's agents, inboxes, webhooks and CRM settings, read with its
//! roster: responses, events and outbound calls name people and channels
//! from memory instead of reading the store per request.

use std::collections::HashMap;

use crate::store::{Agent, Inbox};

/// Agents and inboxes of an account, by id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    pub account_name: String,
    pub agents: HashMap<i64, Agent>,
    pub inboxes: HashMap<i64, Inbox>,
    /// Account webhooks, for the outbox.
    pub webhooks: Vec<crate::store::Webhook>,
    /// The account's enabled CRM integration and its settings.
    pub crm: Option<(crate::store::IntegrationHook, crate::crm::AgendorSettings)>,
}

impl Directory {
    /// Whether contacts arriving through this inbox go to the CRM.
    pub fn crm_applies(&self, inbox_id: i64) -> bool {
        self.crm
            .as_ref()
            .is_some_and(|(_, settings)| settings.applies_to(inbox_id))
    }

    /// Whether any change of the account may call out (a webhook, an inbox
    /// with a callback URL, a WhatsApp number), so commits of other accounts skip the
    /// outbox at once.
    pub fn has_outbound(&self) -> bool {
        !self.webhooks.is_empty()
            || self.crm.is_some()
            || self.inboxes.values().any(|i| match i.channel_type {
                switchboard_protocol::api::ChannelType::Api => i
                    .settings
                    .webhook_url
                    .as_deref()
                    .is_some_and(|u| !u.is_empty()),
                switchboard_protocol::api::ChannelType::Whatsapp => true,
                switchboard_protocol::api::ChannelType::WebWidget => false,
            })
    }
}
