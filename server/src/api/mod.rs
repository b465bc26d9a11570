//! The HTTP API: Chatwoot's Application API paths and shapes, so Chatwoot
//! clients work unchanged, its Public API for custom chat clients, and
//! signing in. Every account route is scoped to the caller's account
//! through `crate::http::auth::Member`.

pub(crate) mod agents;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod inbox_members;
pub(crate) mod inboxes;
pub(crate) mod integrations;
pub(crate) mod messages;
pub(crate) mod profile;
pub(crate) mod public;
pub(crate) mod sessions;
pub mod throttle;
pub(crate) mod webhooks;
pub(crate) mod whatsapp_inbox;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::http::{AppState, MAX_UPLOAD_BYTES};

/// The API's routes: `/api/v1/accounts/{account_id}/...`,
/// `/public/api/v1/inboxes/{inbox_identifier}/...`, the profile and
/// signing in and out.
pub fn routes() -> Router<AppState> {
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
        .route("/auth/sign_in", post(sessions::sign_in))
        .route("/auth/sign_out", axum::routing::delete(sessions::sign_out))
        .route(
            "/api/v1/profile",
            get(profile::show)
                .put(profile::update)
                .patch(profile::update),
        )
        .nest("/api/v1/accounts/{account_id}", account)
        .nest("/public/api/v1/inboxes/{inbox_identifier}", public)
}
