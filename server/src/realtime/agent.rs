//! `/ws/agent`: an agent console's live connection.
//!
//! Authenticated by the agent's access token: in an `api_access_token`
//! header on the upgrade (with `?account_id=` and optionally `&cursor=`), or,
//! as browsers cannot set headers, in a first `auth` frame. The token never
//! appears in a URL, so it is never logged. The agent receives every event of
//! the account (everyone sees everything, as the help article says), and
//! while connected counts as present for automatic assignment.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_protocol::realtime::{AgentFrame, AgentWelcome, ServerEvent, Typing};
use tokio::sync::mpsc;

use super::channel::AgentSession;
use super::connection::{configure, Conn, Handler};
use super::{Audience, Subscriber};
use crate::edge::WsSlot;
use crate::http::auth::{user_by_token, Member, TOKEN_HEADER};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::AppState;
use crate::hub::HubError;
use crate::secrets::token_sha256;
use crate::store::AgentPatch;
use crate::views::frames::frame;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentQuery {
    account_id: Option<i64>,
    cursor: Option<u64>,
}

/// The upgrade. With the header, credentials are checked first, so a bad
/// token is a plain JSON 401 and no socket is opened.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<AgentQuery>,
    slot: WsSlot,
    ws: WebSocketUpgrade,
) -> Response {
    let member = match headers.get(TOKEN_HEADER) {
        None => None,
        Some(value) => {
            let token = value.to_str().unwrap_or_default();
            let Some(account_id) = query.account_id else {
                return ApiError::bad_request("`account_id` is required with the header")
                    .into_response();
            };
            match authenticate(&state, token, account_id).await {
                Ok(signed) => Some(signed),
                Err(err) => return err.into_response(),
            }
        }
    };
    let tracker = state.connections.clone();
    configure(ws).on_upgrade(move |socket| {
        tracker.track_future(slot.hold(run(state, socket, member, query.cursor)))
    })
}

/// The agent a token names in the account, and the session to remember
/// with their socket (so revoking the token closes it).
async fn authenticate(
    state: &AppState,
    token: &str,
    account_id: i64,
) -> Result<(Member, AgentSession), ApiError> {
    let user = user_by_token(state, token).await?;
    let member = Member::of(state, user, account_id).await?;
    let session = AgentSession {
        user_id: member.user.id,
        token_sha256: token_sha256(token.trim()),
    };
    Ok((member, session))
}

/// Whether the token still names the user (read from the store, not the
/// cache) and the user is still an agent of the account.
async fn still_signed_in(
    state: &AppState,
    token_hash: &str,
    user_id: i64,
    account_id: i64,
) -> bool {
    let holder = state.store.user_by_token(token_hash).await.ok().flatten();
    let member = state
        .shards
        .directory(account_id)
        .await
        .is_ok_and(|d| d.agents.contains_key(&user_id));
    holder.is_some_and(|u| u.id == user_id) && member
}

async fn run(
    state: AppState,
    socket: WebSocket,
    signed: Option<(Member, AgentSession)>,
    cursor: Option<u64>,
) {
    let mut conn = Conn::new(socket);
    let ((member, session), cursor) = match signed {
        Some(signed) => (signed, cursor),
        None => {
            let Some(text) = conn.first_text().await else {
                return;
            };
            match serde_json::from_str::<AgentFrame>(&text) {
                Ok(AgentFrame::Auth {
                    access_token,
                    account_id,
                    cursor,
                }) => match Box::pin(authenticate(&state, &access_token, account_id)).await {
                    Ok(signed) => (signed, cursor),
                    Err(err) => return conn.refuse(err.code(), err.describe()).await,
                },
                Ok(_) => {
                    return conn
                        .refuse("unauthorized", "the first frame must be `auth`")
                        .await
                }
                Err(err) => return conn.refuse("invalid_frame", err.to_string()).await,
            }
        }
    };
    let account_id = member.account_id();
    let user_id = member.user.id;
    let token_hash = session.token_sha256.clone();
    let channel = state.realtime.channel(account_id);
    let (tx, rx) = mpsc::channel(state.config.ws_outbound_queue);
    let id = channel.subscriber_id();
    let start = channel.subscribe(
        Audience::Agents,
        cursor,
        Subscriber {
            id,
            tx,
            inbox_id: None,
            session: Some(session),
        },
    );
    // A revocation (sign-out, new password, removal) that ran between
    // authenticating and subscribing could not close this socket: check
    // again now that it would.
    if !still_signed_in(&state, &token_hash, user_id, account_id).await {
        channel.unsubscribe(Audience::Agents, id);
        return conn
            .refuse("unauthorized", "this session was signed out")
            .await;
    }
    tracing::debug!(account_id, user_id, "agent connected");
    if let Err(err) = state.shards.agent_presence(account_id, user_id, 1).await {
        tracing::warn!(%err, "presence not recorded");
    }
    let presence = match state.shards.presence(account_id).await {
        Ok((users, _)) => users,
        Err(err) => {
            tracing::warn!(%err, "presence not read");
            Default::default()
        }
    };
    let welcome = |resumed| AgentWelcome {
        account_id,
        user_id,
        resumed,
        presence: presence.clone(),
    };
    let _open = crate::metrics::Connected::new(state.shards.metrics(), crate::metrics::Kind::Agent);
    let ok = conn.greet(start, welcome).await;
    if ok {
        let mut handler = AgentHandler {
            state: state.clone(),
            account_id,
            user_id,
            name: member.user.available_name().to_string(),
        };
        conn.run(rx, state.shutdown.clone(), &mut handler).await;
    }
    channel.unsubscribe(Audience::Agents, id);
    if let Err(err) = state.shards.agent_presence(account_id, user_id, -1).await {
        tracing::warn!(%err, "presence not recorded");
    }
    tracing::debug!(account_id, user_id, "agent disconnected");
}

struct AgentHandler {
    state: AppState,
    account_id: i64,
    user_id: i64,
    name: String,
}

impl Handler for AgentHandler {
    type Frame = AgentFrame;

    async fn handle(&mut self, conn: &mut Conn, frame_in: AgentFrame) -> Result<(), ApiError> {
        match frame_in {
            AgentFrame::Auth { .. } => Err(ApiError::bad_request("already authenticated")),
            AgentFrame::Ping {} => {
                conn.send(frame(ServerEvent::Pong, None, &serde_json::json!({})))
                    .await;
                Ok(())
            }
            AgentFrame::TypingOn {
                conversation_id,
                private,
            } => self.typing(conversation_id, private, true).await,
            AgentFrame::TypingOff {
                conversation_id,
                private,
            } => self.typing(conversation_id, private, false).await,
            AgentFrame::Read { conversation_id } => self
                .state
                .shards
                .read(self.account_id, conversation_id, self.user_id)
                .await
                .map_err(not_found),
            AgentFrame::Availability { availability } => self.set_availability(availability).await,
        }
    }
}

fn not_found(err: HubError) -> ApiError {
    crate::http::hub_not_found_as(err, "Conversation")
}

impl AgentHandler {
    async fn typing(&self, conversation_id: i64, private: bool, on: bool) -> Result<(), ApiError> {
        let data = Typing {
            conversation_id,
            sender_type: "user".to_string(),
            sender_id: self.user_id,
            name: Some(self.name.clone()),
            is_private: private,
        };
        self.state
            .shards
            .typing(self.account_id, data, on)
            .await
            .map_err(not_found)
    }

    /// As the profile does: stored, then every shard re-reads its roster
    /// (eligibility, presence events).
    async fn set_availability(
        &self,
        availability: switchboard_protocol::api::Availability,
    ) -> Result<(), ApiError> {
        let patch = AgentPatch {
            availability: Some(availability),
            ..AgentPatch::default()
        };
        self.state
            .store
            .update_agent(self.account_id, self.user_id, &patch)
            .await?;
        self.state.settings_changed(self.account_id).await?;
        Ok(())
    }
}
