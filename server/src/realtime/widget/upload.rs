//! `POST /widget/messages?website_token=...&conversation_id=...`: a website
//! visitor's message with files. Text travels over the widget's socket;
//! files, which a socket frame should not carry, come here as
//! `multipart/form-data` (`content`, `echo_id`, `attachments[]`), with the
//! visitor's token in `X-Visitor-Token`. The same origin rule as the socket
//! applies, and the custom header keeps other sites' pages from posting
//! (a cross-site request with it needs a CORS preflight, which this server
//! never grants). Without `conversation_id` a new conversation is started.
//! The answer is `{conversation_id, message}`; the message also arrives on
//! the socket like any other.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::identify;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::http::message_input::MessageInput;
use crate::http::AppState;
use crate::hub::{NewConversation, NewMessage};
use crate::store::{ConversationStatus, MessageType, Sender};

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    website_token: String,
    conversation_id: Option<i64>,
}

/// The visitor sending files, identified from the headers and query alone,
/// so a stranger's upload is refused before its body is read.
pub struct Uploader {
    inbox: crate::store::Inbox,
    contact_id: i64,
    link_id: i64,
    conversation_id: Option<i64>,
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Uploader> {
        let ApiQuery(query) = ApiQuery::<UploadQuery>::from_request_parts(parts, state).await?;
        let headers = &parts.headers;
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                let origin_host = v.split_once("://").map(|(_, rest)| rest);
                !matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
            });
        let token = headers
            .get("x-visitor-token")
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "X-Visitor-Token is required",
                )
            })?;
        let visitor =
            identify(state, origin, &query.website_token, Some(token.to_string())).await?;
        // A token always names a contact (a newcomer has none to send).
        let Some((contact, link)) = visitor.known else {
            return Err(ApiError::not_found("Visitor"));
        };
        if let Some(id) = query.conversation_id {
            let theirs = state
                .shards
                .contact_inbox_of(visitor.inbox.account_id, id)
                .await
                .is_ok_and(|found| found == Some(link.id));
            if !theirs {
                return Err(ApiError::not_found("Conversation"));
            }
        }
        Ok(Uploader {
            inbox: visitor.inbox,
            contact_id: contact.id,
            link_id: link.id,
            conversation_id: query.conversation_id,
        })
    }
}

pub async fn upload(
    State(state): State<AppState>,
    Uploader {
        inbox,
        contact_id,
        link_id,
        conversation_id,
    }: Uploader,
    input: MessageInput,
) -> ApiResult<Json<Value>> {
    let (content, echo_id, files) = input.into_parts();
    if files.is_empty() {
        return Err(ApiError::invalid(
            "attachments[]",
            "is required here (text goes over the widget's socket)",
        ));
    }
    let account_id = inbox.account_id;
    let content = match content.filter(|c| !c.trim().is_empty()) {
        Some(text) => Some(crate::input::content(text)?),
        None => None,
    };
    let echo_id = crate::input::echo_id(echo_id)?;
    // The bytes first: a conversation is opened only for files that are kept.
    let kept = crate::files::put(state.files.as_ref(), files).await?;
    let conversation_id = match conversation_id {
        Some(id) => id,
        None => {
            let created = state
                .shards
                .create_conversation(NewConversation {
                    account_id,
                    inbox_id: inbox.id,
                    contact_id,
                    contact_inbox_id: Some(link_id),
                    status: ConversationStatus::Open,
                    assignee_id: None,
                    messages: Vec::new(),
                    echo_id: None,
                })
                .await;
            match created {
                Ok((live, _)) => live.conversation.id,
                Err(e) => {
                    crate::files::discard(state.files.as_ref(), kept).await;
                    return Err(e.into());
                }
            }
        }
    };
    let stored = crate::files::record(
        state.store.as_ref(),
        state.files.as_ref(),
        &state.config.public_url,
        account_id,
        conversation_id,
        kept,
    )
    .await?;
    let keys = crate::files::keys_of(&json!({ "attachments": &stored }));
    let posted = state
        .shards
        .post_message(
            account_id,
            conversation_id,
            NewMessage {
                message_type: MessageType::Incoming,
                content,
                private: false,
                sender: Some(Sender::Contact(contact_id)),
                echo_id,
                content_attributes: json!({ "attachments": stored }),
                source_id: None,
                sent_at: None,
            },
        )
        .await;
    let message = match posted {
        Ok(m)
            if keys
                .iter()
                .all(|k| crate::files::keys_of(&m.content_attributes).contains(k)) =>
        {
            m
        }
        // A retried echo id: the first message stands, these files are spare.
        Ok(m) => {
            crate::files::forget(&state.store, &state.files, account_id, &keys).await;
            m
        }
        Err(e) => {
            crate::files::forget(&state.store, &state.files, account_id, &keys).await;
            return Err(crate::http::hub_not_found_as(e, "Conversation"));
        }
    };
    let names = state.names(account_id, &[contact_id]).await?;
    Ok(Json(json!({
        "conversation_id": conversation_id,
        "message": names.message_for_contact(&message, inbox.id),
    })))
}
