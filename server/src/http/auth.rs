//! Who is calling: the `api_access_token` header and the account in the
//! path. Every route of an account is scoped through [`Member`].

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use switchboard_protocol::api::Role;

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::secrets::token_sha256;
use crate::store::User;

/// Header carrying the token, as in Chatwoot. Never logged.
pub(crate) const TOKEN_HEADER: &str = "api_access_token";

/// A caller who presented a valid access token. No `Debug`: it holds the
/// token.
#[derive(Clone)]
pub(crate) struct Authed {
    pub user: User,
    /// The token as presented, so the profile can echo it back.
    pub token: String,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = parts
            .headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Authed {
            user: user_by_token(state, token).await?,
            token: token.to_string(),
        })
    }
}

/// The user an access token belongs to, from memory when it was seen before.
pub(crate) async fn user_by_token(state: &AppState, token: &str) -> ApiResult<User> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(ApiError::unauthorized());
    }
    let hash = token_sha256(token);
    if let Some(user) = state.tokens.get(&hash) {
        return Ok(user);
    }
    let generation = state.tokens.generation();
    let user = state
        .store
        .user_by_token(&hash)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    state.tokens.insert(generation, hash, user.clone());
    Ok(user)
}

/// A caller who is an agent of the account named by `{account_id}` in the
/// path. Any other account, existing or not, is a 404: ids of other tenants
/// are not even confirmed to exist.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub user: User,
    account_id: i64,
    role: Role,
}

impl Member {
    pub(crate) fn account_id(&self) -> i64 {
        self.account_id
    }

    /// Administrators only: agents, inboxes and collaborators are theirs to change.
    pub(crate) fn require_admin(&self) -> ApiResult<()> {
        match self.role {
            Role::Administrator => Ok(()),
            Role::Agent => Err(ApiError::forbidden()),
        }
    }
}

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let authed = Authed::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            // The only way this fails is a parameter that is not UTF-8.
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "account_id")
            .map(|(_, value)| value)
            .ok_or_else(|| ApiError::internal("route without {account_id}"))?;
        let account_id: i64 = raw
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid account id `{raw}`")))?;
        Member::of(state, authed.user, account_id).await
    }
}

impl Member {
    /// `user` as an agent of `account_id`; 404 when they are not one.
    pub(crate) async fn of(state: &AppState, user: User, account_id: i64) -> ApiResult<Member> {
        // An account the hub has not loaded yet is checked in the store
        // first, so probing ids cannot make the hub load empty accounts.
        if !state.shards.is_loaded(account_id).await? {
            state
                .store
                .membership(account_id, user.id)
                .await?
                .ok_or_else(|| ApiError::not_found("Account"))?;
        }
        // Then the hub's directory of the account's agents: no read per
        // request, reloaded whenever an agent is added, changed or removed.
        let directory = state.shards.directory(account_id).await?;
        let agent = directory
            .agents
            .get(&user.id)
            .ok_or_else(|| ApiError::not_found("Account"))?;
        Ok(Member {
            user,
            account_id,
            role: agent.role,
        })
    }
}
