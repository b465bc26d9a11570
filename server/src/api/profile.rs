//! `/api/v1/profile`: the signed-in user's own name, display name, password
//! and availability.

use std::time::Instant;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_protocol::api::{Availability, Profile};

use crate::http::auth::Authed;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::http::AppState;
use crate::input::{self, present};
use crate::secrets::{hash_password, verify_password};
use crate::store::{AgentPatch, UserPatch};
use crate::views;

pub(crate) async fn show(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiResult<Json<Profile>> {
    let memberships = state.store.memberships(authed.user.id).await?;
    Ok(Json(views::profile(
        &authed.user,
        &memberships,
        authed.token,
    )))
}

/// The editable fields. Chatwoot's dashboard wraps them in `{"profile": {...}}`;
/// API clients often send them bare. Both are accepted.
/// No `Debug`: it holds passwords.
#[derive(Default, Deserialize)]
pub(crate) struct ProfileUpdate {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    email: Option<String>,
    password: Option<String>,
    password_confirmation: Option<String>,
    current_password: Option<String>,
    availability: Option<Availability>,
    auto_offline: Option<bool>,
    /// Which account `availability` / `auto_offline` apply to; optional when
    /// the user belongs to one account only.
    account_id: Option<i64>,
}

pub(crate) async fn update(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Profile>> {
    // Parsed in two steps so a wrong type inside is a 422 naming the problem,
    // not the untagged enum's generic message.
    let update = match body.get("profile") {
        Some(inner) => serde_json::from_value::<ProfileUpdate>(inner.clone()),
        None => serde_json::from_value::<ProfileUpdate>(body),
    }
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            e.to_string(),
        )
    })?;
    let user_id = authed.user.id;

    // Validate everything before changing anything.
    let mut patch = UserPatch {
        name: update
            .name
            .as_deref()
            .map(|n| input::name("name", n))
            .transpose()?,
        email: update.email.as_deref().map(input::email).transpose()?,
        ..UserPatch::default()
    };
    if let Some(display) = update.display_name {
        patch.display_name = Some(input::optional_text(
            "display_name",
            display.as_deref(),
            input::MAX_NAME,
        )?);
    }
    if let Some(password) = update.password {
        let password = input::password(&password)?;
        if let Some(confirmation) = &update.password_confirmation {
            if *confirmation != password {
                return Err(ApiError::refused(
                    "password_confirmation",
                    "mismatch",
                    "doesn't match password",
                ));
            }
        }
        let current = update.current_password.ok_or_else(|| {
            ApiError::refused(
                "current_password",
                "required",
                "is required to change the password",
            )
        })?;
        // The current password is guessed no faster here than at sign-in.
        let email = authed.user.email.as_str();
        if let Err(wait) = state.sign_ins.admit(email, None, Instant::now()) {
            return Err(ApiError::too_many_attempts(wait));
        }
        let (_, hash) = state
            .store
            .credentials(email)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if !verify_password(current, hash).await? {
            return Err(ApiError::refused(
                "current_password",
                "incorrect",
                "is incorrect",
            ));
        }
        state.sign_ins.succeeded(email, None);
        patch.password_hash = Some(hash_password(password).await.map_err(ApiError::hashing)?);
        // Whoever knew the old password is signed out; this session stays.
        patch.keep_session = Some(crate::secrets::token_sha256(&authed.token));
    }
    let membership_patch = AgentPatch {
        availability: update.availability,
        auto_offline: update.auto_offline,
        ..AgentPatch::default()
    };
    let account_id =
        if membership_patch.availability.is_some() || membership_patch.auto_offline.is_some() {
            let memberships = state.store.memberships(user_id).await?;
            let account_id = match (update.account_id, memberships.as_slice()) {
                (Some(id), _) => id,
                (None, [only]) => only.account_id,
                (None, _) => {
                    return Err(ApiError::invalid(
                        "account_id",
                        "is required to set availability when you belong to several accounts",
                    ))
                }
            };
            if !memberships.iter().any(|m| m.account_id == account_id) {
                return Err(ApiError::not_found("Account"));
            }
            Some(account_id)
        } else {
            None
        };

    let user = state.store.update_user(user_id, &patch).await?;
    if let Some(account_id) = account_id {
        state
            .store
            .update_agent(account_id, user_id, &membership_patch)
            .await?;
    }
    if patch.password_hash.is_some() {
        state.close_revoked_sockets(user_id).await?;
    }
    let memberships = state.store.memberships(user_id).await?;
    // Names and availability are shown and used by every account's hub.
    // (A user in no account has no hub to tell, but their token still names them.)
    state.tokens.clear();
    state
        .peers
        .tell(crate::cluster::Notice::TokensChanged)
        .await;
    for m in &memberships {
        state.settings_changed(m.account_id).await?;
    }
    Ok(Json(views::profile(&user, &memberships, authed.token)))
}
