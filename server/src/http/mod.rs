//! The HTTP layer: what every route shares (the application's state, the
//! error type, extractors, authentication) and the whole server's router,
//! merged from each part's own `routes()`.
//!
//! The arrows point one way: `http` knows the parts it routes to (`api`,
//! `realtime`, `whatsapp`, `files`, `web`) and they know `http`'s types;
//! below them, `hub`, `store`, `outbox`, `crm` know nothing of HTTP.

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod message_input;
pub(crate) mod tokens;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{middleware, Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::NormalizePath;
use tower_http::trace::TraceLayer;

use crate::cluster::Notice;
use crate::hub::router::Shards;
use crate::hub::HubError;
use crate::store::{Store, StoreError};
use error::ApiError;

/// Largest request body the API reads.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest body of a message with attachments (multipart).
pub(crate) const MAX_UPLOAD_BYTES: usize = crate::files::MAX_FILE_BYTES * 2 + MAX_BODY_BYTES;

/// What every handler can reach: the services, and the one
/// [`crate::Settings`] the server was started with.
#[derive(Clone)]
pub struct AppState {
    /// How the server is reached and its limits, as started.
    pub config: Arc<crate::Settings>,
    pub store: Arc<dyn Store>,
    /// The door into the accounts' shards (live conversations; every
    /// change goes through it): see [`crate::hub::router`].
    pub shards: Shards,
    /// Each account's channel of events, which sockets subscribe to.
    pub realtime: Arc<crate::realtime::Realtime>,
    /// Users by token hash, so requests authenticate from memory.
    pub tokens: Arc<tokens::TokenCache>,
    /// Cancelled when the server shuts down: WebSockets write out their
    /// queues and close with "going away".
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Open WebSocket connections, so shutdown can wait for them.
    pub connections: tokio_util::task::TaskTracker,
    /// Where attachments' bytes are kept.
    pub files: Arc<dyn crate::files::FileStore>,
    /// The guarded client of the outbound calls a request waits on
    /// (reading a WhatsApp number's templates from Meta; sends go through
    /// the outbox) (see `outbox::guard`).
    pub outbound: reqwest::Client,
    /// Inboxes whose templates are being read from Meta now: one sync per
    /// inbox at a time, however many agents press the button.
    pub template_syncs: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    /// Failed sign-ins per e-mail and address (see [`crate::api::throttle`]).
    pub sign_ins: Arc<crate::api::throttle::SignInThrottle>,
    /// The other nodes of a cluster, told of revocations (none on a single
    /// server).
    pub(crate) peers: crate::cluster::Peers,
}

impl AppState {
    /// After any change to an account's agents, inboxes, collaborators or a
    /// user's profile: the hub re-reads the account's settings (names,
    /// eligibility, rules; waiting conversations may move) and remembered
    /// tokens are forgotten. Every settings handler ends here, so neither can
    /// go stale.
    pub async fn settings_changed(&self, account_id: i64) -> Result<(), HubError> {
        self.tokens.clear();
        self.peers.tell(Notice::TokensChanged).await;
        self.shards.reload_roster(account_id).await
    }

    /// An agent left the account: their consoles of it close, on every node.
    pub(crate) async fn agent_removed(&self, account_id: i64, user_id: i64) {
        self.close_agent_sockets(account_id, user_id);
        let notice = Notice::AgentRemoved {
            account_id,
            user_id,
        };
        self.peers.tell(notice).await;
    }

    fn close_agent_sockets(&self, account_id: i64, user_id: i64) {
        if let Some(channel) = self.realtime.existing(account_id) {
            channel.revoke_agents(|s| s.user_id == user_id);
        }
    }

    /// A visitor link got a new token: its sockets close, on every node,
    /// except subscriber `keep` of this node (the one that asked).
    pub(crate) async fn visitor_revoked(&self, account_id: i64, link: i64, keep: u64) {
        if let Some(channel) = self.realtime.existing(account_id) {
            channel.revoke_visitors(link, keep);
        }
        let notice = Notice::VisitorRevoked {
            account_id,
            link,
            on: self.peers.node().to_string(),
            keep,
        };
        self.peers.tell(notice).await;
    }

    /// What another node of the cluster said must happen here too.
    pub(crate) async fn heard(&self, notice: Notice) {
        match notice {
            Notice::TokensChanged => self.tokens.clear(),
            Notice::TokensRevoked { user_id } => {
                if let Err(e) = self.close_revoked_sockets_here(user_id).await {
                    tracing::warn!(error = %e, "revoked consoles not closed on this node");
                }
            }
            Notice::AgentRemoved {
                account_id,
                user_id,
            } => self.close_agent_sockets(account_id, user_id),
            Notice::VisitorRevoked {
                account_id,
                link,
                on,
                keep,
            } => {
                // Subscriber ids are this node's own: another node's
                // `keep` names nobody here (ids start at 1).
                let keep = if on == self.peers.node() { keep } else { 0 };
                if let Some(channel) = self.realtime.existing(account_id) {
                    channel.revoke_visitors(link, keep);
                }
            }
        }
    }
}

impl AppState {
    /// After some of the user's tokens were revoked (signing out, a new
    /// password): the consoles still open with them are closed (4003), in
    /// every account of the user. Remembered tokens are forgotten too.
    pub async fn close_revoked_sockets(&self, user_id: i64) -> Result<(), StoreError> {
        self.peers.tell(Notice::TokensRevoked { user_id }).await;
        self.close_revoked_sockets_here(user_id).await
    }

    async fn close_revoked_sockets_here(&self, user_id: i64) -> Result<(), StoreError> {
        self.tokens.clear();
        let valid: std::collections::HashSet<String> = self
            .store
            .token_hashes(user_id)
            .await?
            .into_iter()
            .collect();
        for m in self.store.memberships(user_id).await? {
            self.realtime
                .channel(m.account_id)
                .revoke_agents(|s| s.user_id == user_id && !valid.contains(&s.token_sha256));
        }
        Ok(())
    }
}

impl AppState {
    /// The names a page of conversations or messages refers to: the given
    /// contacts (one read) and the account's agents and inboxes (the hub's
    /// directory, from memory).
    pub async fn names(
        &self,
        account_id: i64,
        contact_ids: &[i64],
    ) -> Result<crate::views::chat::Names, HubError> {
        let mut ids = contact_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let contacts = self.store.contacts_by_ids(account_id, &ids).await?;
        let directory = self.shards.directory(account_id).await?;
        Ok(crate::views::chat::Names::new(contacts, directory))
    }

    /// [`AppState::names`] for the conversations in `list`.
    pub async fn names_for(
        &self,
        account_id: i64,
        list: &[crate::hub::shard::LiveConversation],
    ) -> Result<crate::views::chat::Names, HubError> {
        let ids: Vec<i64> = list.iter().map(|l| l.conversation.contact_id).collect();
        self.names(account_id, &ids).await
    }
}

/// A store `NotFound` named after the resource the route is about.
pub(crate) fn not_found_as(err: StoreError, what: &str) -> ApiError {
    match err {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

/// A hub `NotFound` named after the resource the route is about.
pub(crate) fn hub_not_found_as(err: HubError, what: &str) -> ApiError {
    match err {
        HubError::NotFound | HubError::Store(StoreError::NotFound) => ApiError::not_found(what),
        other => other.into(),
    }
}

/// The whole server's routes. A trailing slash is trimmed before routing:
/// Chatwoot's own OpenAPI file names some paths with one
/// (`.../inboxes/{id}/`) and Rails answers both forms, so generated clients
/// send either.
pub(crate) fn router(state: AppState) -> Router {
    let routes = routes(state);
    Router::new().fallback_service(NormalizePath::trim_trailing_slash(routes))
}

fn routes(state: AppState) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::realtime::routes())
        .merge(crate::whatsapp::routes())
        .merge(crate::files::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(crate::web::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Bodies stop at the largest limit however they are sent; each
        // route's extractors hold them to its own (DefaultBodyLimit: 1 MiB,
        // messages with files more), and a declared Content-Length over the
        // route's limit is refused before anything is read.
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(middleware::from_fn(declared_length))
        .layer(middleware::from_fn(extract::json_errors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Refuses a request whose declared body is over its route's limit (413)
/// without waiting for the body: messages (which may carry files) get
/// [`MAX_UPLOAD_BYTES`], Meta's notifications
/// [`crate::whatsapp::MAX_NOTIFICATION_BYTES`], everything else
/// [`MAX_BODY_BYTES`].
async fn declared_length(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let path = request.uri().path();
    let limit = if path.ends_with("/messages") {
        MAX_UPLOAD_BYTES
    } else if path.starts_with("/webhooks/whatsapp/") {
        crate::whatsapp::MAX_NOTIFICATION_BYTES
    } else {
        MAX_BODY_BYTES
    };
    match declared {
        Some(length) if length > limit => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {} bytes", limit),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Each request's span: method and route (`/public/api/v1/inboxes/
/// {inbox_identifier}/contacts/{contact_identifier}`), never the path as
/// sent nor its query string: paths carry bearer credentials (a Public API
/// contact identifier, a file's key) and queries too (Meta's
/// `hub.verify_token`).
pub(crate) fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", axum::extract::MatchedPath::as_str);
    tracing::debug_span!("request", method = %request.method(), route)
}

/// A panic is a bug: logged as one, answered as a plain 500.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    ApiError::internal("a request handler panicked").into_response()
}

/// Prometheus' text format; see [`crate::metrics`]. Aggregates only: no
/// account, user or content appears in it.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    let (queued, capacity) = state.shards.writer_depth();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.shards.metrics().render(queued, capacity),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such route")
}
