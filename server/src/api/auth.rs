//! Who is calling: the `api_access_token` header, the account in the path, and
//! signing in and out of the console.

use std::time::Instant;

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_protocol::api::{Profile, Role};

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::{views, AppState};
use crate::edge::ClientAddr;
use crate::secrets::{new_access_token, token_sha256, verify_password};
use crate::store::User;

/// Header carrying the token, as in Chatwoot. Never logged.
pub const TOKEN_HEADER: &str = "api_access_token";

/// A caller who presented a valid access token. No `Debug`: it holds the
/// token.
#[derive(Clone)]
pub struct Authed {
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
pub async fn user_by_token(state: &AppState, token: &str) -> ApiResult<User> {
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
pub struct Member {
    pub user: User,
    account_id: i64,
    role: Role,
}

impl Member {
    pub fn account_id(&self) -> i64 {
        self.account_id
    }

    /// Administrators only: agents, inboxes and collaborators are theirs to change.
    pub fn require_admin(&self) -> ApiResult<()> {
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
    pub async fn of(state: &AppState, user: User, account_id: i64) -> ApiResult<Member> {
        // An account the hub has not loaded yet is checked in the store
        // first, so probing ids cannot make the hub load empty accounts.
        if !state.hub.has_account(account_id) {
            state
                .store
                .membership(account_id, user.id)
                .await?
                .ok_or_else(|| ApiError::not_found("Account"))?;
        }
        // Then the hub's directory of the account's agents: no read per
        // request, reloaded whenever an agent is added, changed or removed.
        let directory = state.hub.directory(account_id).await?;
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

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
}

/// devise_token_auth's envelope, which Chatwoot's dashboard reads.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    data: Profile,
}

/// `POST /auth/sign_in`: a new console session token for a valid password.
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Json<SignedIn>> {
    let email = body.email.trim().to_lowercase();
    let refused = || {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid login credentials. Please try again.",
        )
    };
    // No e-mail is that long: refused without a lookup or a count (the
    // throttle keeps e-mails, and must not keep megabytes of them).
    if email.len() > 254 {
        return Err(refused());
    }
    // Admitted (and counted as failed until it is not) before the password
    // is checked: a guesser held back costs no argon2.
    let address = Some(client.ip());
    if let Err(wait) = state.sign_ins.admit(&email, address, Instant::now()) {
        return Err(ApiError::too_many_attempts(wait));
    }
    let (user, hash) = match state.store.credentials(&email).await? {
        Some((user, hash)) => (Some(user), hash),
        None => (None, None),
    };
    let valid = verify_password(body.password, hash.clone()).await?;
    let (Some(user), Some(hash), true) = (user, hash, valid) else {
        return Err(refused());
    };
    let token = new_access_token();
    let started = state
        .store
        .start_session(user.id, &token_sha256(&token), &hash)
        .await?;
    if !started {
        // The password changed while this one was being checked.
        return Err(refused());
    }
    state.sign_ins.succeeded(&email, address);
    let memberships = state.store.memberships(user.id).await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(Json(SignedIn {
        data: views::profile(&user, &memberships, token),
    }))
}

/// `DELETE /auth/sign_out`: revokes the session token that made the request.
pub async fn sign_out(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .store
        .delete_session(&token_sha256(&authed.token))
        .await?;
    state.close_revoked_sockets(authed.user.id).await?;
    Ok(Json(serde_json::json!({ "success": true })))
}
