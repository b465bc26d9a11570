//! The HTTP API: Chatwoot's Application API paths and shapes, so Chatwoot
//! clients work unchanged. Every handler is scoped to the caller's account
//! through the [`auth::Member`] extractor.

pub mod agents;
pub mod auth;
pub mod chat_views;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod extract;
pub mod inbox_members;
pub mod inboxes;
pub mod integrations;
pub mod messages;
pub mod profile;
pub mod public;
pub mod throttle;
pub mod tokens;
pub mod validate;
pub mod views;
pub mod webhooks;
pub mod whatsapp_inbox;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::NormalizePath;
use tower_http::trace::TraceLayer;

use crate::hub::{Hub, HubError};
use crate::store::{Store, StoreError};
use error::ApiError;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest body of a message with attachments (multipart).
pub const MAX_UPLOAD_BYTES: usize = crate::files::MAX_FILE_BYTES * 2 + MAX_BODY_BYTES;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Live conversations; every conversation change goes through it.
    pub hub: Arc<Hub>,
    /// Base URL browsers reach this server at (no trailing slash), for the
    /// widget snippet.
    pub public_url: Arc<str>,
    /// Users by token hash, so requests authenticate from memory.
    pub tokens: Arc<tokens::TokenCache>,
    /// Cancelled when the server shuts down: WebSockets write out their
    /// queues and close with "going away".
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Open WebSocket connections, so shutdown can wait for them.
    pub connections: tokio_util::task::TaskTracker,
    /// Frames that may wait for one WebSocket before it is cut as too slow.
    pub ws_outbound_queue: usize,
    /// With `--demo`: the demo inbox's website token, for the `/demo` page.
    pub demo_website_token: Option<Arc<str>>,
    /// Webhooks may point at loopback and private networks (tests, local setups).
    pub allow_private_targets: bool,
    /// Where attachments' bytes are kept.
    pub files: Arc<dyn crate::files::FileStore>,
    /// Meta's Graph API, for the calls a request waits on (reading a
    /// number's templates); sends go through the outbox.
    pub graph: crate::whatsapp::send::Graph,
    /// The guarded client of those calls (see `outbox::guard`).
    pub outbound: reqwest::Client,
    /// Inboxes whose templates are being read from Meta now: one sync per
    /// inbox at a time, however many agents press the button.
    pub template_syncs: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    /// Failed sign-ins per e-mail and address (see [`throttle`]).
    pub sign_ins: Arc<throttle::SignInThrottle>,
}

impl AppState {
    /// After any change to an account's agents, inboxes, collaborators or a
    /// user's profile: the hub re-reads the account's settings (names,
    /// eligibility, rules; waiting conversations may move) and remembered
    /// tokens are forgotten. Every settings handler ends here, so neither can
    /// go stale.
    pub async fn settings_changed(&self, account_id: i64) -> Result<(), HubError> {
        self.tokens.clear();
        self.hub.reload_roster(account_id).await
    }
}

impl AppState {
    /// After some of the user's tokens were revoked (signing out, a new
    /// password): the consoles still open with them are closed (4003), in
    /// every account of the user. Remembered tokens are forgotten too.
    pub async fn close_revoked_sockets(&self, user_id: i64) -> Result<(), StoreError> {
        self.tokens.clear();
        let valid: std::collections::HashSet<String> = self
            .store
            .token_hashes(user_id)
            .await?
            .into_iter()
            .collect();
        for m in self.store.memberships(user_id).await? {
            self.hub
                .channel(m.account_id)
                .revoke_agents(|s| s.user_id == user_id && !valid.contains(&s.token_sha256));
        }
        Ok(())
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
pub fn router(state: AppState) -> Router {
    let routes = routes(state);
    Router::new().fallback_service(NormalizePath::trim_trailing_slash(routes))
}

fn routes(state: AppState) -> Router {
    let account = Router::new()
        .route("/agents", get(agents::list).post(agents::create))
        .route(
            "/agents/{id}",
            axum::routing::patch(agents::update).delete(agents::delete),
        )
        .route("/inboxes", get(inboxes::list).post(inboxes::create))
        .route(
            "/inboxes/{id}",
            get(inboxes::show)
                .patch(inboxes::update)
                .delete(inboxes::delete),
        )
        .route(
            "/inbox_members",
            post(inbox_members::add)
                .patch(inbox_members::replace)
                .delete(inbox_members::remove),
        )
        .route("/inbox_members/{inbox_id}", get(inbox_members::list))
        .route("/inboxes/{id}/deliveries", get(webhooks::inbox_deliveries))
        .route("/inboxes/{id}/disconnect", post(whatsapp_inbox::disconnect))
        .route(
            "/inboxes/{id}/sync_templates",
            post(whatsapp_inbox::sync_templates),
        )
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/integrations/apps", get(integrations::apps))
        .route("/integrations/hooks", post(integrations::create))
        .route(
            "/integrations/hooks/{id}",
            axum::routing::patch(integrations::update).delete(integrations::delete),
        )
        .route("/contacts/{id}/crm_sync", post(integrations::sync_contact))
        .route(
            "/webhooks/{id}",
            axum::routing::patch(webhooks::update)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/webhooks/{id}/deliveries",
            get(webhooks::webhook_deliveries),
        )
        .route("/deliveries", get(webhooks::deliveries))
        .route("/deliveries/{id}", get(webhooks::show_delivery))
        .route("/deliveries/{id}/retry", post(webhooks::retry_delivery))
        .route("/contacts", get(contacts::list).post(contacts::create))
        .route("/contacts/search", get(contacts::search))
        .route(
            "/contacts/{id}",
            get(contacts::show)
                .put(contacts::update)
                .patch(contacts::update)
                .delete(contacts::delete),
        )
        .route("/contacts/{id}/conversations", get(contacts::conversations))
        .route(
            "/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route("/conversations/meta", get(conversations::meta))
        .route(
            "/conversations/{id}",
            get(conversations::show).patch(conversations::update),
        )
        .route(
            "/conversations/{id}/toggle_status",
            post(conversations::toggle_status),
        )
        .route(
            "/conversations/{id}/assignments",
            post(conversations::assignments),
        )
        .route(
            "/conversations/{id}/messages",
            get(messages::list)
                .post(messages::create)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/conversations/{id}/messages/{message_id}",
            axum::routing::delete(messages::delete),
        );

    let public = Router::new()
        .route("/contacts", post(public::create_contact))
        .route(
            "/contacts/{contact_identifier}",
            get(public::show_contact).patch(public::update_contact),
        )
        .route(
            "/contacts/{contact_identifier}/conversations",
            get(public::list_conversations).post(public::create_conversation),
        )
        .route(
            "/contacts/{contact_identifier}/conversations/{conversation_id}",
            get(public::show_conversation),
        )
        .route(
            "/contacts/{contact_identifier}/conversations/{conversation_id}/toggle_status",
            post(public::toggle_status),
        )
        .route(
            "/contacts/{contact_identifier}/conversations/{conversation_id}/messages",
            get(public::list_messages).post(public::create_message),
        )
        .route(
            "/contacts/{contact_identifier}/conversations/{conversation_id}/messages/{message_id}",
            axum::routing::patch(public::update_message),
        );

    Router::new()
        .route(
            "/webhooks/whatsapp/{phone_number}",
            get(crate::whatsapp::verify)
                .post(crate::whatsapp::notify)
                .layer(DefaultBodyLimit::max(
                    crate::whatsapp::MAX_NOTIFICATION_BYTES,
                )),
        )
        .route("/files/{key}/{name}", get(crate::files::serve))
        .route(
            "/widget/messages",
            post(crate::realtime::widget::upload::upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ws/agent", get(crate::realtime::agent::upgrade))
        .route("/ws/widget", get(crate::realtime::widget::upgrade))
        .route("/auth/sign_in", post(auth::sign_in))
        .route("/auth/sign_out", axum::routing::delete(auth::sign_out))
        .route(
            "/api/v1/profile",
            get(profile::show)
                .put(profile::update)
                .patch(profile::update),
        )
        .nest("/api/v1/accounts/{account_id}", account)
        .nest("/public/api/v1/inboxes/{inbox_identifier}", public)
        .merge(crate::web::router())
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
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
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
    let (queued, capacity) = state.hub.writer_depth();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.hub.metrics().render(queued, capacity),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such route")
}
