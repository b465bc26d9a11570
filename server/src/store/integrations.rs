//! CRM integrations (Chatwoot's integration hooks) and contacts' CRM links.

use async_trait::async_trait;
use serde_json::Value;
use switchboard_protocol::chat::CrmLink;

use super::{Contact, StoreResult};

/// An account's integration with an outside app (`agendor`). `Debug` leaves
/// the settings (and their token) out.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IntegrationHook {
    pub id: i64,
    pub account_id: i64,
    pub app_id: String,
    pub enabled: bool,
    /// The app's settings as a JSON object, secrets included: only the
    /// integration and administrators' views (without secrets) read it.
    pub settings: Value,
    /// Unix milliseconds, as are the other times.
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub created_at: i64,
}

impl std::fmt::Debug for IntegrationHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationHook")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("app_id", &self.app_id)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn list_hooks(&self, account_id: i64) -> StoreResult<Vec<IntegrationHook>>;
    /// Conflict when the account already has a hook of this app.
    async fn create_hook(
        &self,
        account_id: i64,
        app_id: &str,
        enabled: bool,
        settings: &Value,
    ) -> StoreResult<IntegrationHook>;
    async fn update_hook(
        &self,
        account_id: i64,
        hook_id: i64,
        enabled: bool,
        settings: &Value,
    ) -> StoreResult<IntegrationHook>;
    async fn delete_hook(&self, account_id: i64, hook_id: i64) -> StoreResult<()>;
    /// Records how the last call went: a success (`error` absent) or an error.
    async fn record_hook_health(
        &self,
        account_id: i64,
        hook_id: i64,
        at_ms: i64,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// Sets (or clears) a contact's CRM link; answers with the contact.
    async fn set_contact_crm(
        &self,
        account_id: i64,
        contact_id: i64,
        crm: Option<&CrmLink>,
    ) -> StoreResult<Contact>;
}
