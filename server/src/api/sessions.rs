//! Signing in and out of the console: `POST /auth/sign_in` gives a new
//! session token for a valid password, `DELETE /auth/sign_out` revokes it.

use std::time::Instant;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_protocol::api::Profile;

use crate::edge::ClientAddr;
use crate::http::auth::Authed;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::http::AppState;
use crate::secrets::{new_access_token, token_sha256, verify_password};
use crate::views;

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct SignIn {
    email: String,
    password: String,
}

/// devise_token_auth's envelope, which Chatwoot's dashboard reads.
#[derive(Debug, Serialize)]
pub(crate) struct SignedIn {
    data: Profile,
}

/// `POST /auth/sign_in`: a new console session token for a valid password.
pub(crate) async fn sign_in(
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
pub(crate) async fn sign_out(
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
