//! `/api/v1/accounts/{account_id}/agents`: who works in the account.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_protocol::api::{self as wire, Availability, Role};

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::input;
use crate::secrets::hash_password;
use crate::store::{AgentPatch, NewAgent, NewUser};
use crate::views;

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
) -> ApiResult<Json<Vec<wire::Agent>>> {
    let agents = state.store.list_agents(member.account_id()).await?;
    Ok(Json(views::agents(&agents)))
}

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct AgentCreate {
    name: String,
    email: String,
    role: Role,
    display_name: Option<String>,
    availability_status: Option<Availability>,
    auto_offline: Option<bool>,
    /// Most open conversations across all inboxes (absent: no limit).
    max_concurrent_conversations: Option<u32>,
    /// switchboard sends no invitation e-mails: an administrator may set the
    /// first password here instead (or later with PATCH).
    password: Option<String>,
}

/// Adds an agent. An e-mail someone already signs in with (in this account
/// or another) is a 409 `person_exists`: e-mails are not verified, so the
/// person behind it may be someone else's creation (see
/// [`crate::store::AgentStore::add_agent`]). One already in this account is
/// a 409 too.
pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<AgentCreate>,
) -> ApiResult<Json<wire::Agent>> {
    member.require_admin()?;
    let name = input::name("name", &body.name)?;
    let email = input::email(&body.email)?;
    let display_name = input::optional_text(
        "display_name",
        body.display_name.as_deref(),
        input::MAX_NAME,
    )?;
    let password_hash = match body.password {
        Some(p) => Some(
            hash_password(input::password(&p)?)
                .await
                .map_err(ApiError::hashing)?,
        ),
        None => None,
    };
    let new = NewAgent {
        user: NewUser {
            email,
            name,
            display_name,
            password_hash,
        },
        role: body.role,
        availability: body.availability_status.unwrap_or(Availability::Available),
        auto_offline: body.auto_offline.unwrap_or(true),
        max_concurrent_conversations: positive_limit(body.max_concurrent_conversations.map(Some))?
            .flatten(),
    };
    let agent = state.store.add_agent(member.account_id(), &new).await?;
    tracing::info!(
        account_id = member.account_id(),
        agent_id = agent.user.id,
        "agent added"
    );
    state.settings_changed(member.account_id()).await?;
    Ok(Json(views::agent(&agent)))
}

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct AgentUpdate {
    role: Option<Role>,
    availability_status: Option<Availability>,
    auto_offline: Option<bool>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "crate::input::present")]
    max_concurrent_conversations: Option<Option<u32>>,
    name: Option<String>,
    password: Option<String>,
}

/// Changes an agent's role, availability, auto-offline, name or password.
/// Agents may change their own availability; everything else is for
/// administrators.
///
/// Role, availability and limits belong to the account. A name and a
/// password belong to the person: an administrator may set them only for
/// someone who works for this account alone and has never signed in (an
/// agent they just added), else the answer is 403 `belongs_to_user` and
/// nothing changes. (Such a person has no sessions to sign out.)
pub(crate) async fn update(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, agent_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<AgentUpdate>,
) -> ApiResult<Json<wire::Agent>> {
    let own_availability_only = agent_id == member.user.id
        && body.role.is_none()
        && body.max_concurrent_conversations.is_none()
        && body.name.is_none()
        && body.password.is_none();
    if !own_availability_only {
        member.require_admin()?;
    }
    let password_hash = match body.password {
        Some(p) => Some(
            hash_password(input::password(&p)?)
                .await
                .map_err(ApiError::hashing)?,
        ),
        None => None,
    };
    let patch = AgentPatch {
        role: body.role,
        availability: body.availability_status,
        auto_offline: body.auto_offline,
        max_concurrent_conversations: positive_limit(body.max_concurrent_conversations)?,
        name: body
            .name
            .as_deref()
            .map(|n| input::name("name", n))
            .transpose()?,
        password_hash,
    };
    let agent = state
        .store
        .update_agent(member.account_id(), agent_id, &patch)
        .await
        .map_err(|e| crate::http::not_found_as(e, "Agent"))?;
    state.settings_changed(member.account_id()).await?;
    Ok(Json(views::agent(&agent)))
}

/// A limit of 0 would silently stop every assignment: refuse it.
fn positive_limit(limit: Option<Option<u32>>) -> ApiResult<Option<Option<u32>>> {
    if limit == Some(Some(0)) {
        return Err(ApiError::invalid(
            "max_concurrent_conversations",
            "must be greater than 0 (null for no limit)",
        ));
    }
    Ok(limit)
}

/// Removes the agent from the account and from all its inboxes.
pub(crate) async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, agent_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<serde_json::Value>> {
    member.require_admin()?;
    state
        .store
        .remove_agent(member.account_id(), agent_id)
        .await
        .map_err(|e| crate::http::not_found_as(e, "Agent"))?;
    tracing::info!(account_id = member.account_id(), agent_id, "agent removed");
    // The directory first, so a console reconnecting meanwhile is refused;
    // then their open consoles stop hearing the account.
    state.settings_changed(member.account_id()).await?;
    state.agent_removed(member.account_id(), agent_id).await;
    Ok(Json(serde_json::json!({})))
}
