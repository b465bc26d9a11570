//! WhatsApp inboxes' own settings: the number, its Cloud API credentials,
//! and disconnecting it.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_protocol::api::{self as wire, ChannelType};

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiPath;
use crate::http::{not_found_as, AppState};
use crate::secrets::random_token;
use crate::store::WhatsappConfig;
use crate::views;

/// A WhatsApp Cloud number's credentials; on update, those left out stay.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProviderConfigFields {
    api_key: Option<String>,
    phone_number_id: Option<String>,
    business_account_id: Option<String>,
    webhook_verify_token: Option<String>,
    app_secret: Option<String>,
}

impl ProviderConfigFields {
    /// The given credentials over the current ones; every one but the
    /// verify token (generated when missing) must end up set.
    pub(super) fn merge(self, current: Option<WhatsappConfig>) -> ApiResult<WhatsappConfig> {
        let field = |name: &str, given: Option<String>, current: Option<&String>| match given
            .map(|v| v.trim().to_string())
        {
            Some(v) if v.is_empty() || v.len() > 1024 || v.contains(char::is_whitespace) => {
                Err(ApiError::invalid(
                    &format!("provider_config.{name}"),
                    "must be 1 to 1024 characters without spaces",
                ))
            }
            Some(v) => Ok(v),
            None => current.cloned().ok_or_else(|| {
                ApiError::invalid(&format!("provider_config.{name}"), "can't be blank")
            }),
        };
        let c = current.as_ref();
        let verify = match (self.webhook_verify_token, c) {
            (None, None) => Some(random_token(32)),
            (given, _) => given,
        };
        Ok(WhatsappConfig {
            api_key: field("api_key", self.api_key, c.map(|c| &c.api_key))?,
            phone_number_id: field(
                "phone_number_id",
                self.phone_number_id,
                c.map(|c| &c.phone_number_id),
            )?,
            business_account_id: field(
                "business_account_id",
                self.business_account_id,
                c.map(|c| &c.business_account_id),
            )?,
            webhook_verify_token: field(
                "webhook_verify_token",
                verify,
                c.map(|c| &c.webhook_verify_token),
            )?,
            app_secret: field("app_secret", self.app_secret, c.map(|c| &c.app_secret))?,
        })
    }
}

/// `POST /inboxes/{id}/disconnect` (the help article's "desconectar"): the
/// number stops receiving and sending, its credentials are erased, and its
/// conversations stay. Saving new `provider_config` connects it again.
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<wire::Inbox>> {
    member.require_admin()?;
    let mut inbox = state
        .store
        .get_inbox(member.account_id(), inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    if inbox.channel_type != ChannelType::Whatsapp {
        return Err(ApiError::invalid(
            "inbox",
            "only WhatsApp inboxes can be disconnected",
        ));
    }
    inbox.settings.provider_config = None;
    let inbox = state.store.save_inbox(&inbox).await?;
    tracing::info!(
        account_id = member.account_id(),
        inbox_id,
        "WhatsApp number disconnected; credentials erased"
    );
    state.settings_changed(member.account_id()).await?;
    Ok(Json(views::inbox(&inbox, &state.config.public_url)))
}

/// `POST /inboxes/{id}/sync_templates`: reads the number's message templates
/// from Meta (see [`crate::whatsapp::templates`]) and answers the inbox with
/// them. Any agent may: it is their template picker that needs it. A
/// refused token is a 422 naming the access token; Meta out of reach, a 502.
pub(crate) async fn sync_templates(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<wire::Inbox>> {
    use crate::whatsapp::templates::{fetch, SyncError};
    let account_id = member.account_id();
    let inbox = state
        .store
        .get_inbox(account_id, inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    if inbox.channel_type != ChannelType::Whatsapp {
        return Err(ApiError::invalid(
            "inbox",
            "only WhatsApp inboxes have message templates",
        ));
    }
    let Some(config) = inbox.settings.provider_config.clone() else {
        return Err(ApiError::invalid(
            "inbox",
            "is disconnected: connect the number again to read its templates",
        ));
    };
    let Some(_running) = SyncRunning::start(&state, inbox_id) else {
        return Err(ApiError::conflict(
            "the templates of this inbox are being read from WhatsApp already",
        ));
    };
    let templates = fetch(
        &state.outbound,
        &state.config.outbox.graph,
        &config,
        state.config.outbox.allow_private,
    )
    .await
    .map_err(|e| match e {
        SyncError::Refused(why) => ApiError::invalid(
            "provider_config.api_key",
            format!("was refused by WhatsApp ({why}); it needs whatsapp_business_management"),
        ),
        SyncError::Unavailable(why) => {
            tracing::warn!(account_id, inbox_id, error = %why, "whatsapp: templates not read");
            ApiError::new(axum::http::StatusCode::BAD_GATEWAY, "bad_gateway", why)
        }
    })?;
    // Read again to save: the inbox may have changed while Meta answered.
    // Templates of a business account the number has left since, or of a
    // number disconnected since, are not kept.
    let mut current = state
        .store
        .get_inbox(account_id, inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    let same_account = current
        .settings
        .provider_config
        .as_ref()
        .is_some_and(|c| c.business_account_id == config.business_account_id);
    if !same_account {
        return Err(ApiError::conflict(
            "the number was disconnected or moved to another business account while its \
             templates were read; sync again",
        ));
    }
    current.settings.message_templates = templates;
    current.settings.message_templates_synced_at = Some(crate::store::now());
    let saved = state.store.save_inbox(&current).await?;
    tracing::info!(
        account_id,
        inbox_id,
        templates = saved.settings.message_templates.len(),
        "whatsapp: templates synced"
    );
    state.settings_changed(account_id).await?;
    Ok(Json(super::inboxes::for_member(
        &member,
        views::inbox(&saved, &state.config.public_url),
    )))
}

/// Marks an inbox's template sync as running until dropped.
struct SyncRunning<'a> {
    state: &'a AppState,
    inbox_id: i64,
}

impl<'a> SyncRunning<'a> {
    /// `None` if a sync of this inbox is running already.
    fn start(state: &'a AppState, inbox_id: i64) -> Option<Self> {
        // The lock is let go before a `SyncRunning` exists: dropping one
        // takes it again.
        let fresh = state
            .template_syncs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(inbox_id);
        fresh.then(|| SyncRunning { state, inbox_id })
    }
}

impl Drop for SyncRunning<'_> {
    fn drop(&mut self) {
        self.state
            .template_syncs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.inbox_id);
    }
}
