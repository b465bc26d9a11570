//! `/api/v1/accounts/{account_id}/inbox_members`: the inbox's collaborators
//! ("Colaboradores"), the agents new conversations are spread over.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use switchboard_protocol::api::{self as wire, Payload};

use crate::http::auth::Member;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::{not_found_as, AppState};
use crate::input::FlexId;
use crate::store::MemberChange;
use crate::views;

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, inbox_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Payload<wire::Agent>>> {
    let agents = state
        .store
        .list_members(member.account_id(), inbox_id)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    // Their load and presence, from the hub: what an assignee picker shows.
    let loads = state.shards.loads(member.account_id(), inbox_id).await?;
    let payload = agents
        .iter()
        .map(|a| {
            let load = loads.iter().find(|l| l.user_id == a.user.id);
            wire::Agent {
                open_conversations: Some(load.map_or(0, |l| l.open_in_inbox)),
                open_conversations_total: Some(load.map_or(0, |l| l.open_total)),
                present: Some(load.is_some_and(|l| l.consoles > 0)),
                ..views::agent(a)
            }
        })
        .collect();
    Ok(Json(Payload { payload }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MembersBody {
    inbox_id: FlexId,
    user_ids: Vec<FlexId>,
}

async fn change(
    state: AppState,
    member: Member,
    body: MembersBody,
    change: MemberChange,
) -> ApiResult<Json<Payload<wire::Agent>>> {
    member.require_admin()?;
    let user_ids: Vec<i64> = body.user_ids.iter().map(|id| id.0).collect();
    let agents = state
        .store
        .change_members(member.account_id(), body.inbox_id.0, change, &user_ids)
        .await
        .map_err(|e| not_found_as(e, "Inbox"))?;
    tracing::info!(
        account_id = member.account_id(),
        inbox_id = body.inbox_id.0,
        ?change,
        users = user_ids.len(),
        "collaborators changed"
    );
    state.settings_changed(member.account_id()).await?;
    Ok(Json(Payload {
        payload: views::agents(&agents),
    }))
}

/// `POST`: adds the users to the inbox's collaborators.
pub(crate) async fn add(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<MembersBody>,
) -> ApiResult<Json<Payload<wire::Agent>>> {
    change(state, member, body, MemberChange::Add).await
}

/// `PATCH`: makes exactly these users the inbox's collaborators.
pub(crate) async fn replace(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<MembersBody>,
) -> ApiResult<Json<Payload<wire::Agent>>> {
    change(state, member, body, MemberChange::Replace).await
}

/// `DELETE`: removes the users; answers with the collaborators that remain.
pub(crate) async fn remove(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<MembersBody>,
) -> ApiResult<Json<Payload<wire::Agent>>> {
    change(state, member, body, MemberChange::Remove).await
}
