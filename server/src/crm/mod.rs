//! CRM integrations: contacts who arrive through the chosen inboxes are
//! registered in the account's CRM (Agendor), optionally with a deal, and a
//! note linking back to the conversation; the CRM record's link is kept on
//! the contact ([`switchboard_protocol::chat::CrmLink`]) for the console and for webhooks.
//!
//! **Off the chat path.** A new conversation in an inbox the integration
//! applies to queues a `crm_sync` call in the outbox, in the same commit
//! ([`crate::outbox::plan`]); the outbox runs [`sync::run`], retries it with
//! backoff when the CRM is slow or down, and survives restarts. A chat never
//! waits for the CRM.
//!
//! **Idempotent.** Each step's result (the record, then the deal) is saved
//! on the contact before the next step, and a step with a saved result is
//! checked, not redone. Before creating a record the connector searches for
//! an existing one by e-mail and phone, so a create whose answer was lost
//! (the record exists, we never heard) is found, not duplicated. One
//! contact's syncs run one at a time. The note is the last step and the
//! only one that could repeat: if its answer is lost, the retry adds it
//! again (at least once).
//!
//! **A new CRM** implements [`Connector`]; nothing in the hub changes.

pub(crate) mod agendor;
pub(crate) mod settings;
pub(crate) mod sync;

use async_trait::async_trait;
use std::time::Duration;

use crate::store::Contact;
pub(crate) use settings::{AgendorSettings, RecordType};

/// The app id of Agendor's integration hook.
pub(crate) const AGENDOR: &str = "agendor";

/// Who and what a sync is about.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub contact: Contact,
    pub inbox_name: String,
    /// WhatsApp contacts' phones are also their WhatsApp numbers.
    pub whatsapp: bool,
    pub conversation_id: Option<i64>,
    /// The conversation in the console, for the note and the deal.
    pub conversation_url: Option<String>,
}

impl Subject {
    /// Fills a template's `{{...}}` variables; unknown ones stay as written.
    pub(crate) fn render(&self, template: &str) -> String {
        let c = &self.contact;
        let id = self.conversation_id.map(|i| i.to_string());
        let name = c.shown_name();
        [
            ("{{contact.name}}", Some(name.as_str())),
            ("{{contact.email}}", c.email.as_deref()),
            ("{{contact.phone_number}}", c.phone_number.as_deref()),
            ("{{inbox.name}}", Some(self.inbox_name.as_str())),
            ("{{conversation.id}}", id.as_deref()),
            ("{{conversation.url}}", self.conversation_url.as_deref()),
        ]
        .into_iter()
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(name, value.unwrap_or(""))
        })
        .trim()
        .to_string()
    }
}

/// A record in the CRM (a person or an organization) or a deal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub id: i64,
    /// Its page in the CRM's web app.
    pub url: String,
}

/// Why a CRM call failed, which decides what happens next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CrmError {
    /// The CRM refused the credentials: nothing will work until an
    /// administrator fixes them, so it is not retried.
    Unauthorized(String),
    /// The CRM refused this request (bad data): not retried.
    Refused(String),
    /// Down, slow, rate-limited: retried, after `retry_after` if it said.
    /// `status` is the CRM's answer, absent when there was none.
    Unavailable {
        status: Option<u16>,
        why: String,
        retry_after: Option<Duration>,
    },
}

impl CrmError {
    pub(crate) fn message(&self) -> &str {
        match self {
            CrmError::Unauthorized(why) | CrmError::Refused(why) => why,
            CrmError::Unavailable { why, .. } => why,
        }
    }
}

/// One CRM's calls. Every method is safe to repeat: it looks before it
/// creates.
#[async_trait]
pub(crate) trait Connector: Send + Sync {
    /// The contact's record: `known` (checked to still exist), else one
    /// found by e-mail or phone, else a new one.
    async fn record(
        &self,
        subject: &Subject,
        record_type: RecordType,
        known: Option<i64>,
    ) -> Result<Found, CrmError>;

    /// The record's open deal: `known` (checked), else one with this
    /// title, else a new one.
    async fn deal(
        &self,
        subject: &Subject,
        record_type: RecordType,
        record: &Found,
        known: Option<i64>,
    ) -> Result<Found, CrmError>;

    /// Adds a note to the deal (when there is one) or the record.
    async fn note(
        &self,
        subject: &Subject,
        record_type: RecordType,
        record: &Found,
        deal: Option<&Found>,
    ) -> Result<(), CrmError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_fill_known_variables() {
        let subject = Subject {
            contact: Contact {
                id: 7,
                account_id: 1,
                name: "Joana".into(),
                email: None,
                phone_number: Some("+5511988887777".into()),
                identifier: None,
                custom_attributes: json!({}),
                created_at: 0,
                crm: None,
                identifier_by_visitor: false,
            },
            inbox_name: "WhatsApp Vendas".into(),
            whatsapp: true,
            conversation_id: Some(42),
            conversation_url: Some("https://chat.acme.test/app/conversations/42".into()),
        };
        assert_eq!(
            subject.render("{{contact.name}} – {{inbox.name}} ({{contact.email}})"),
            "Joana – WhatsApp Vendas ()"
        );
        assert_eq!(
            subject.render("#{{conversation.id}} {{conversation.url}} {{other}}"),
            "#42 https://chat.acme.test/app/conversations/42 {{other}}"
        );
    }
}
