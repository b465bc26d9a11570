//! `/api/v1/accounts/{account_id}/integrations`: Chatwoot's integration
//! apps and hooks, with one app, `agendor` (see `crate::crm`); and
//! `POST .../contacts/{id}/crm_sync`, which sends a contact to the CRM
//! again (the console's "Retry" on a failed sync).
//!
//! Administrators manage the hook. Its `settings` are shown without the API
//! token (only whether it is set and its last four characters) and with its
//! health: when a sync last succeeded, and the last error.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::crm::{settings, AgendorSettings, AGENDOR};
use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::{not_found_as, AppState};
use crate::store::IntegrationHook;
use crate::views::chat::contact;

#[derive(Debug, Deserialize)]
pub(crate) struct HookBody {
    app_id: Option<Value>,
    /// Chatwoot's 0 (inactive) or 1 (active); a boolean is taken too.
    status: Option<Value>,
    #[serde(default)]
    settings: Value,
}

/// `GET .../integrations/apps`: the apps this server can connect.
pub(crate) async fn apps(State(state): State<AppState>, member: Member) -> ApiResult<Json<Value>> {
    member.require_admin()?;
    let hooks = state.store.list_hooks(member.account_id()).await?;
    let agendor: Vec<Value> = hooks
        .iter()
        .filter(|h| h.app_id == AGENDOR)
        .map(view)
        .collect();
    Ok(Json(json!({ "payload": [{
        "id": AGENDOR,
        "name": "Agendor",
        "description": "Registers new contacts in Agendor as people or organizations, \
                        optionally with a deal, and adds a note linking to the conversation.",
        "hook_type": "account",
        "enabled": hooks.iter().any(|h| h.app_id == AGENDOR && h.enabled),
        "allow_multiple_hooks": false,
        "hooks": agendor,
    }]})))
}

/// `POST .../integrations/hooks`.
pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<HookBody>,
) -> ApiResult<Json<Value>> {
    member.require_admin()?;
    let account_id = member.account_id();
    match body.app_id.as_ref().and_then(Value::as_str) {
        Some(AGENDOR) => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "app_id",
                format!("{other} is not an app of this server (agendor is)"),
            ))
        }
        None => return Err(ApiError::invalid("app_id", "is required (agendor)")),
    }
    let enabled = status(body.status.as_ref(), true)?;
    let settings = settings::from_request(&body.settings, None)?;
    check_inboxes(&state, account_id, &settings).await?;
    let hook = state
        .store
        .create_hook(account_id, AGENDOR, enabled, &settings.to_stored())
        .await?;
    tracing::info!(account_id, hook_id = hook.id, "CRM integration connected");
    state.settings_changed(account_id).await?;
    Ok(Json(view(&hook)))
}

/// `PATCH .../integrations/hooks/{hook_id}`: settings are merged; a blank
/// or absent token keeps the stored one.
pub(crate) async fn update(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, hook_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<HookBody>,
) -> ApiResult<Json<Value>> {
    member.require_admin()?;
    let account_id = member.account_id();
    let current = hook_of(&state, account_id, hook_id).await?;
    let previous = AgendorSettings::from_stored(&current.settings)
        .ok_or_else(|| ApiError::internal("stored integration settings unreadable"))?;
    let enabled = status(body.status.as_ref(), current.enabled)?;
    let settings = settings::from_request(&body.settings, Some(&previous))?;
    check_inboxes(&state, account_id, &settings).await?;
    let hook = state
        .store
        .update_hook(account_id, hook_id, enabled, &settings.to_stored())
        .await
        .map_err(|e| not_found_as(e, "Integration hook"))?;
    state.settings_changed(account_id).await?;
    Ok(Json(view(&hook)))
}

/// `DELETE .../integrations/hooks/{hook_id}`: pending syncs are cancelled;
/// contacts keep their CRM links.
pub(crate) async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, hook_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    member.require_admin()?;
    let account_id = member.account_id();
    state
        .store
        .delete_hook(account_id, hook_id)
        .await
        .map_err(|e| not_found_as(e, "Integration hook"))?;
    tracing::info!(account_id, hook_id, "CRM integration disconnected");
    state.settings_changed(account_id).await?;
    Ok(Json(json!({})))
}

/// `POST .../contacts/{id}/crm_sync`: any agent may send a contact again
/// (after fixing its e-mail, or after a failure); answers with the contact,
/// whose sync is then pending.
pub(crate) async fn sync_contact(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, contact_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    // Read under the contact's lock: a sync may be saving its link now.
    let _serial = state.shards.locks().crm.lock(contact_id).await;
    let found = state
        .store
        .get_contact(account_id, contact_id)
        .await
        .map_err(|e| not_found_as(e, "Contact"))?;
    let directory = state.shards.directory(account_id).await?;
    let Some((hook, _)) = &directory.crm else {
        return Err(ApiError::invalid(
            "contact",
            "no CRM is connected (Settings → Integrations)",
        ));
    };
    // The note links the contact's latest conversation, if any.
    let latest = state
        .shards
        .contact_conversations(account_id, contact_id)
        .await?
        .into_iter()
        .max_by_key(|l| l.conversation.id)
        .map(|l| l.conversation);
    let mut link = found
        .crm
        .clone()
        .unwrap_or_else(|| crate::crm::sync::new_link(&hook.app_id, None));
    link.status = switchboard_protocol::chat::CrmStatus::Pending;
    link.error = None;
    let saved = crate::crm::sync::store_link(&state.store, &found, &link).await?;
    state.shards.contact_saved(Some(&found), &saved).await?;
    state
        .shards
        .queue_crm_sync(
            account_id,
            contact_id,
            latest.as_ref().map(|c| c.id),
            latest.as_ref().map(|c| c.inbox_id),
        )
        .await?;
    Ok(Json(json!({ "payload": contact(&saved) })))
}

async fn hook_of(state: &AppState, account_id: i64, hook_id: i64) -> ApiResult<IntegrationHook> {
    state
        .store
        .list_hooks(account_id)
        .await?
        .into_iter()
        .find(|h| h.id == hook_id)
        .ok_or_else(|| ApiError::not_found("Integration hook"))
}

/// Chatwoot's `status`: 1/0 or true/false.
fn status(given: Option<&Value>, default: bool) -> ApiResult<bool> {
    match given {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(ApiError::invalid("status", "must be 0 or 1")),
        },
    }
}

/// The inboxes named must be the account's.
async fn check_inboxes(
    state: &AppState,
    account_id: i64,
    settings: &AgendorSettings,
) -> ApiResult<()> {
    let directory = state.shards.directory(account_id).await?;
    match settings
        .inbox_ids
        .iter()
        .find(|id| !directory.inboxes.contains_key(id))
    {
        Some(id) => Err(ApiError::invalid(
            "inbox_ids",
            format!("inbox {id} is not an inbox of this account"),
        )),
        None => Ok(()),
    }
}

fn seconds(ms: Option<i64>) -> Option<i64> {
    ms.map(|ms| ms.div_euclid(1000))
}

/// A hook as Chatwoot shows it, with the settings' view and its health.
fn view(h: &IntegrationHook) -> Value {
    let settings = AgendorSettings::from_stored(&h.settings)
        .map(|s| s.view())
        .unwrap_or_else(|| json!({}));
    json!({
        "id": h.id,
        "app_id": h.app_id,
        "account_id": h.account_id,
        "inbox_id": null,
        "status": h.enabled,
        "hook_type": "account",
        "settings": settings,
        "health": {
            "last_success_at": seconds(h.last_success_at),
            "last_error": h.last_error,
            "last_error_at": seconds(h.last_error_at),
        },
    })
}
