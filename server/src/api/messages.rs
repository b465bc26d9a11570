//! `/api/v1/accounts/{account_id}/conversations/{id}/messages`: the history
//! (read from the store, 20 at a time) and new messages (through the hub,
//! answered once durably committed).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::message_input::{MessageInput, PostedType};
use crate::http::{hub_not_found_as, not_found_as, AppState};
use crate::hub::router::MessageEdit;
use crate::hub::NewMessage;
use crate::store::{MessageType, Sender};
use crate::views;
use crate::views::chat::contact;
use switchboard_protocol::api::ChannelType;

/// Messages per page, as Chatwoot.
const PAGE_SIZE: i64 = 20;

#[derive(Debug, Deserialize)]
pub(crate) struct HistoryQuery {
    /// A message id: the page of messages just older than it.
    before: Option<i64>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    let live = super::conversations::live(&state, account_id, id).await?;
    let c = &live.conversation;
    let messages = state
        .store
        .list_messages(id, query.before, PAGE_SIZE, false)
        .await?;
    let names = state.names(account_id, &[c.contact_id]).await?;
    let payload: Vec<_> = messages
        .iter()
        .map(|m| names.message(m, c.inbox_id))
        .collect();
    Ok(Json(json!({
        "meta": {
            "contact": names.contacts.get(&c.contact_id).map(contact),
            "assignee": c.assignee_id.and_then(|a| names.directory.agents.get(&a)).map(views::agent),
            "labels": [],
            "additional_attributes": {},
        },
        "payload": payload,
    })))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    input: MessageInput,
) -> ApiResult<Json<Value>> {
    let MessageInput { body, files } = input;
    for file in &files {
        file.check("attachments[]")?;
    }
    let account_id = member.account_id();
    let live = super::conversations::live(&state, account_id, id).await?;
    let c = &live.conversation;
    let template = match body.template_params {
        Some(t) => Some(t.checked()?),
        None => None,
    };
    let given = body.content.filter(|t| !t.trim().is_empty());
    let text = match (given, &template) {
        (Some(text), _) => Some(crate::input::content(text)?),
        // A template's text is WhatsApp's; the conversation shows its name.
        (None, Some(t)) => Some(format!("[template {}]", t["name"].as_str().unwrap_or(""))),
        (None, None) if !files.is_empty() => None,
        (None, None) => Some(crate::input::content(String::new())?),
    };
    let echo_id = crate::input::echo_id(body.echo_id)?;
    let mut attributes = body.content_attributes.unwrap_or_default();
    // What the server itself writes there is never taken from a client.
    for owned in [
        "attachments",
        "whatsapp_media",
        "external_error",
        "template_params",
    ] {
        attributes.remove(owned);
    }
    if Value::Object(attributes.clone()).to_string().len() > 16 * 1024 {
        return Err(ApiError::invalid(
            "content_attributes",
            "are too large (16 KiB at most)",
        ));
    }
    let inbox_type = state
        .shards
        .directory(account_id)
        .await?
        .inboxes
        .get(&c.inbox_id)
        .map(|i| i.channel_type);
    let outgoing = !matches!(body.message_type, Some(PostedType::Incoming));
    match (template, inbox_type) {
        (Some(t), Some(ChannelType::Whatsapp)) if outgoing && !body.private => {
            attributes.insert("template_params".into(), t);
        }
        (Some(_), _) => {
            return Err(ApiError::invalid(
                "template_params",
                "are for replies in WhatsApp inboxes only",
            ))
        }
        (None, Some(ChannelType::Whatsapp)) if outgoing && !body.private => {
            let last = state.store.last_incoming_at(id).await?;
            crate::whatsapp::window::check(last)?;
        }
        (None, _) => {}
    }
    let (message_type, sender) = match body.message_type.unwrap_or(PostedType::Outgoing) {
        PostedType::Outgoing => (MessageType::Outgoing, Sender::User(member.user.id)),
        PostedType::Incoming => {
            let inbox = state.store.get_inbox(account_id, c.inbox_id).await?;
            if inbox.channel_type != ChannelType::Api {
                return Err(ApiError::invalid(
                    "message_type",
                    "incoming messages can be posted in API inboxes only",
                ));
            }
            if body.private {
                return Err(ApiError::invalid(
                    "private",
                    "notes are written by agents (outgoing)",
                ));
            }
            (MessageType::Incoming, Sender::Contact(c.contact_id))
        }
    };
    // Files are stored last, once nothing else can refuse the message.
    let mut keys = Vec::new();
    if !files.is_empty() {
        let stored = crate::files::store(
            state.store.as_ref(),
            state.files.as_ref(),
            &state.config.public_url,
            account_id,
            id,
            files,
        )
        .await?;
        let stored = Value::Array(stored);
        keys = crate::files::keys_of(&json!({ "attachments": &stored }));
        attributes.insert("attachments".into(), stored);
    }
    let attributes = Value::Object(attributes);
    let posted = state
        .shards
        .post_message(
            account_id,
            id,
            NewMessage {
                message_type,
                content: text,
                private: body.private,
                sender: Some(sender),
                echo_id,
                content_attributes: attributes,
                source_id: None,
                sent_at: None,
            },
        )
        .await;
    let message = match posted {
        // A retried echo id answers with the first message: this request's
        // files are then not needed.
        Ok(message) => {
            if keys
                .iter()
                .any(|k| !crate::files::keys_of(&message.content_attributes).contains(k))
            {
                crate::files::forget(&state.store, &state.files, account_id, &keys).await;
            }
            message
        }
        Err(e) => {
            crate::files::forget(&state.store, &state.files, account_id, &keys).await;
            return Err(hub_not_found_as(e, "Conversation"));
        }
    };
    // Only a contact's own message needs the contact read to name its sender.
    let contacts: &[i64] = match message.sender {
        Some(Sender::Contact(id)) => &[id],
        _ => &[],
    };
    let names = state.names(account_id, contacts).await?;
    Ok(Json(json!(names.message(&message, c.inbox_id))))
}

/// Deletes a message's content, keeping its place in the conversation.
pub(crate) async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id, message_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    let live = super::conversations::live(&state, account_id, id).await?;
    let message = state
        .store
        .get_message(id, message_id)
        .await
        .map_err(|e| not_found_as(e, "Message"))?;
    if message.message_type == MessageType::Activity {
        return Err(ApiError::invalid(
            "message_id",
            "activity messages cannot be deleted",
        ));
    }
    let (message, files) = state
        .shards
        .edit_message(account_id, id, message_id, MessageEdit::Delete)
        .await
        .map_err(|e| hub_not_found_as(e, "Message"))?;
    crate::files::forget(&state.store, &state.files, account_id, &files).await;
    let names = state
        .names(account_id, &[live.conversation.contact_id])
        .await?;
    Ok(Json(json!(
        names.message(&message, live.conversation.inbox_id)
    )))
}
