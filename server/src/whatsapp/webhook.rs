//! Meta's webhook, the HTTP edge of a WhatsApp inbox: the verification
//! handshake, signed notifications, and turning them into the hub's
//! changes (see the module above for the rules).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::inbound::{self, Inbound, StatusReport};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiPath;
use crate::http::AppState;
use crate::hub::edits::Report;
use crate::hub::router::MessageEdit;
use crate::hub::{NewConversation, NewMessage};
use crate::store::{
    ContactFields, ConversationStatus, Inbox, MessageType, Sender, StoreError, WhatsappConfig,
};

/// Meta's verification query: `hub.mode`, `hub.verify_token`, `hub.challenge`.
#[derive(Debug, Deserialize)]
pub(super) struct Verification {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// The connected WhatsApp inbox of the number in the path, or 404.
async fn connected(state: &AppState, raw: &str) -> ApiResult<(Inbox, WhatsappConfig)> {
    let number = super::number(raw).map_err(|_| ApiError::not_found("WhatsApp number"))?;
    let inbox = match state.store.inbox_by_phone_number(&number).await {
        Ok(inbox) => inbox,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("WhatsApp number")),
        Err(e) => return Err(e.into()),
    };
    match inbox.settings.provider_config.clone() {
        Some(config) => Ok((inbox, config)),
        None => Err(ApiError::not_found("Connected WhatsApp number")),
    }
}

/// Meta's webhook: the verification handshake (`GET`) and notifications
/// (`POST`, up to [`MAX_NOTIFICATION_BYTES`]), per phone number.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/webhooks/whatsapp/{phone_number}",
        axum::routing::get(verify)
            .post(notify)
            .layer(axum::extract::DefaultBodyLimit::max(MAX_NOTIFICATION_BYTES)),
    )
}

pub(super) async fn verify(
    State(state): State<AppState>,
    ApiPath(phone_number): ApiPath<String>,
    Query(query): Query<Verification>,
) -> ApiResult<Response> {
    let (_, config) = connected(&state, &phone_number).await?;
    let token_ok = query
        .verify_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), config.webhook_verify_token.as_bytes()));
    let challenge = query.challenge.unwrap_or_default();
    let challenge_ok = !challenge.is_empty()
        && challenge.len() <= 256
        && challenge.chars().all(|c| c.is_ascii_graphic());
    if query.mode.as_deref() != Some("subscribe") || !token_ok || !challenge_ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the verify token does not match this number's",
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        challenge,
    )
        .into_response())
}

/// Largest notification Meta sends: its documentation allows up to 3 MB,
/// and a batch refused for its size is retried, then dropped with its
/// messages.
pub const MAX_NOTIFICATION_BYTES: usize = 3 * 1024 * 1024;

pub(super) async fn notify(
    State(state): State<AppState>,
    ApiPath(phone_number): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (inbox, config) = connected(&state, &phone_number).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !signed(&config.app_secret, &body, signature) {
        tracing::warn!(
            inbox_id = inbox.id,
            "WhatsApp webhook with a bad or missing signature"
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "X-Hub-Signature-256 is missing or does not match the app secret",
        ));
    }
    let changes = inbound::parse(&body).map_err(ApiError::bad_request)?;
    for change in changes {
        if change.phone_number_id != config.phone_number_id {
            tracing::warn!(
                inbox_id = inbox.id,
                phone_number_id = %change.phone_number_id,
                "WhatsApp notification for another number ignored"
            );
            continue;
        }
        for message in change.messages {
            let name = change.names.get(&message.from).cloned();
            receive(&state, &inbox, message, name).await?;
        }
        for report in change.statuses {
            status(&state, &inbox, report).await?;
        }
    }
    Ok(Json(json!({})))
}

/// `sha256=<hex>` of the body with the app secret, compared in constant time.
fn signed(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(given) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    !secret.is_empty() && mac.verify_slice(&given).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Stores one customer message, once.
async fn receive(
    state: &AppState,
    inbox: &Inbox,
    m: Inbound,
    profile_name: Option<String>,
) -> ApiResult<()> {
    let account_id = inbox.account_id;
    // One customer's messages are taken one at a time: two arriving at once
    // would otherwise both create the contact, or both open a conversation.
    let _customer = state
        .shards
        .locks()
        .customers
        .lock(("whatsapp", inbox.id, m.from.as_str()))
        .await;
    if state
        .store
        .message_by_source_id(account_id, &m.id)
        .await?
        .is_some()
    {
        tracing::debug!(wamid = %m.id, "WhatsApp message already stored");
        return Ok(());
    }
    let link = match state.store.contact_inbox(inbox.id, &m.from).await? {
        Some(link) => link,
        None => {
            let fields = ContactFields {
                name: profile_name.unwrap_or_else(|| format!("+{}", m.from)),
                phone_number: Some(format!("+{}", m.from)),
                custom_attributes: json!({}),
                ..ContactFields::default()
            };
            let (contact, link) = state
                .store
                .create_visitor(account_id, inbox.id, &fields, &m.from, false)
                .await?;
            state.shards.contact_saved(None, &contact).await?;
            link
        }
    };
    let message = NewMessage {
        message_type: MessageType::Incoming,
        content: m.content,
        private: false,
        sender: Some(Sender::Contact(link.contact_id)),
        // The hub answers a second delivery racing the first from memory.
        echo_id: Some(m.id.clone()),
        content_attributes: m.attributes,
        source_id: Some(m.id),
        sent_at: m.sent_at,
    };
    let current = state
        .shards
        .contact_conversations(account_id, link.contact_id)
        .await?
        .into_iter()
        .filter(|l| {
            l.conversation.inbox_id == inbox.id
                && l.conversation.status != ConversationStatus::Resolved
        })
        .max_by_key(|l| l.conversation.id);
    match current {
        Some(live) => {
            state
                .shards
                .post_message(account_id, live.conversation.id, message)
                .await?;
        }
        None => {
            state
                .shards
                .create_conversation(NewConversation {
                    account_id,
                    inbox_id: inbox.id,
                    contact_id: link.contact_id,
                    contact_inbox_id: Some(link.id),
                    status: ConversationStatus::Open,
                    assignee_id: None,
                    messages: vec![message],
                    echo_id: None,
                })
                .await?;
        }
    }
    Ok(())
}

/// Moves a sent message to the reported state (never backwards). A report
/// can overtake the send's answer that stores the message's WhatsApp id: it
/// is parked first, then looked up, so either this call or the outbox's
/// (which stores the id, then takes what is parked) applies it.
async fn status(state: &AppState, inbox: &Inbox, report: StatusReport) -> ApiResult<()> {
    let account_id = inbox.account_id;
    let update = Report {
        status: report.status,
        error: report.error,
    };
    let early = state.shards.locks().early_reports;
    early.park(account_id, &report.id, update.clone());
    let Some(message) = state
        .store
        .message_by_source_id(account_id, &report.id)
        .await?
    else {
        tracing::debug!(wamid = %report.id, "status of a message not known (yet)");
        return Ok(());
    };
    let update = early.take(account_id, &report.id).unwrap_or(update);
    state
        .shards
        .edit_message(
            account_id,
            message.conversation_id,
            message.id,
            MessageEdit::Report(update),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_against_the_raw_body() {
        let wrong = format!("sha256={}", "ab".repeat(32));
        assert!(
            !signed("secret", br#"{"a":1}"#, &wrong),
            "a wrong digest is refused"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(br#"{"a":1}"#);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(signed("secret", br#"{"a":1}"#, &format!("sha256={hex}")));
        assert!(!signed("secret", br#"{"a":2}"#, &format!("sha256={hex}")));
        assert!(!signed("", br#"{"a":1}"#, &format!("sha256={hex}")));
        assert!(
            !signed("secret", br#"{"a":1}"#, &hex),
            "the prefix is required"
        );
        assert!(!signed("secret", br#"{"a":1}"#, "sha256=zz"));
    }
}
