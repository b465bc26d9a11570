//! `/api/v1/accounts/{account_id}/conversations/{id}/messages`: the history
//! (read from the store, 20 at a time) and new messages (through the hub,
//! answered once durably committed).

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Member;
use super::chat_views::{contact, Names};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{hub_not_found_as, not_found_as, views, AppState};
use crate::files::Upload;
use crate::hub::NewMessage;
use crate::store::{MessageType, Sender};
use switchboard_protocol::api::ChannelType;

/// Messages per page, as Chatwoot.
const PAGE_SIZE: i64 = 20;
/// Longest message, in characters (Chatwoot's limit).
pub const MAX_CONTENT_CHARS: usize = 150_000;
/// Longest client echo id.
const MAX_ECHO_ID: usize = 128;
/// What a deleted message shows instead of its content.
const DELETED: &str = "This message was deleted";

/// Validates message text: not blank, not over the limit.
pub fn content(text: String) -> ApiResult<String> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid("content", "can't be blank"));
    }
    if text.chars().count() > MAX_CONTENT_CHARS {
        return Err(ApiError::invalid(
            "content",
            format!("is too long (maximum is {MAX_CONTENT_CHARS} characters)"),
        ));
    }
    Ok(text)
}

/// An outgoing public message with this text (sender to be filled in).
pub fn outgoing(text: String) -> ApiResult<NewMessage> {
    Ok(NewMessage {
        message_type: MessageType::Outgoing,
        content: Some(content(text)?),
        private: false,
        sender: None,
        echo_id: None,
        content_attributes: json!({}),
        source_id: None,
        sent_at: None,
    })
}

/// Validates a client's echo id: 1 to 128 characters once trimmed.
pub fn echo_id(raw: Option<String>) -> ApiResult<Option<String>> {
    match raw.map(|e| e.trim().to_string()) {
        Some(e) if e.is_empty() || e.len() > MAX_ECHO_ID => {
            Err(ApiError::invalid("echo_id", "must be 1 to 128 characters"))
        }
        other => Ok(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    /// A message id: the page of messages just older than it.
    before: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    let live = super::conversations::live(&state, account_id, id)?;
    let c = &live.conversation;
    let messages = state
        .store
        .list_messages(id, query.before, PAGE_SIZE, false)
        .await?;
    let names = Names::load(&state, account_id, &[c.contact_id]).await?;
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostedType {
    Outgoing,
    Incoming,
}

#[derive(Debug, Deserialize)]
pub struct MessageBody {
    content: Option<String>,
    message_type: Option<PostedType>,
    /// A private note: visible to agents only.
    #[serde(default)]
    private: bool,
    content_attributes: Option<Map<String, Value>>,
    /// The client's id for this message; a retry with the same one returns
    /// the first message instead of adding another.
    echo_id: Option<String>,
    /// WhatsApp inboxes: send this approved template (see `whatsapp::window`).
    template_params: Option<crate::whatsapp::window::TemplateParams>,
}

/// A message as JSON, or as `multipart/form-data` with its fields and
/// files under `attachments[]` (Chatwoot's form).
pub struct MessageInput {
    body: MessageBody,
    files: Vec<Upload>,
}

impl MessageInput {
    /// The text, echo id and files, for senders other than agents (a
    /// website visitor's upload).
    pub fn into_parts(self) -> (Option<String>, Option<String>, Vec<Upload>) {
        (self.body.content, self.body.echo_id, self.files)
    }
}

impl FromRequest<AppState> for MessageInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            // Only files earn the route its large limit: JSON gets the usual one.
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, super::MAX_BODY_BYTES)
                .await
                .map_err(|_| too_large(super::MAX_BODY_BYTES))?;
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let ApiJson(body) = ApiJson::<MessageBody>::from_request(req, state).await?;
            return Ok(MessageInput {
                body,
                files: Vec::new(),
            });
        }
        let bad =
            |e: axum::extract::multipart::MultipartError| ApiError::bad_request(e.body_text());
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let mut fields = Map::new();
        let mut files = Vec::new();
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "attachments[]" || name == "attachments" {
                if files.len() >= crate::files::MAX_FILES {
                    return Err(ApiError::invalid(
                        "attachments[]",
                        format!("at most {} files per message", crate::files::MAX_FILES),
                    ));
                }
                let upload_name = field.file_name().unwrap_or("file").to_string();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = capped(field, crate::files::MAX_FILE_BYTES, "attachments[]").await?;
                files.push(Upload {
                    name: upload_name,
                    content_type,
                    bytes,
                });
                continue;
            }
            let text = capped(field, super::MAX_BODY_BYTES, &name).await?;
            let text = String::from_utf8(text)
                .map_err(|_| ApiError::invalid(&name, "must be UTF-8 text"))?;
            let value = match name.as_str() {
                "private" => Value::Bool(matches!(text.trim(), "true" | "1" | "on")),
                "content_attributes" | "template_params" => serde_json::from_str(&text)
                    .map_err(|_| ApiError::invalid(&name, "must be a JSON object"))?,
                "content" | "echo_id" | "message_type" => Value::String(text),
                _ => continue,
            };
            fields.insert(name, value);
        }
        let body = serde_json::from_value(Value::Object(fields))
            .map_err(|e| ApiError::invalid("message", e.to_string()))?;
        Ok(MessageInput { body, files })
    }
}

/// Reads a form field, refusing it as soon as it passes `limit` bytes
/// rather than after the whole request.
async fn capped(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
    name: &str,
) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::invalid(
                name,
                format!("is larger than {} MiB", limit / (1024 * 1024)),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

pub async fn create(
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
    let live = super::conversations::live(&state, account_id, id)?;
    let c = &live.conversation;
    let template = match body.template_params {
        Some(t) => Some(t.checked()?),
        None => None,
    };
    let given = body.content.filter(|t| !t.trim().is_empty());
    let text = match (given, &template) {
        (Some(text), _) => Some(content(text)?),
        // A template's text is WhatsApp's; the conversation shows its name.
        (None, Some(t)) => Some(format!("[template {}]", t["name"].as_str().unwrap_or(""))),
        (None, None) if !files.is_empty() => None,
        (None, None) => Some(content(String::new())?),
    };
    let echo_id = echo_id(body.echo_id)?;
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
        .hub
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
            crate::whatsapp::window::check(&state, id, false).await?;
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
            &state.public_url,
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
        .hub
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
    let names = Names::load(&state, account_id, contacts).await?;
    Ok(Json(json!(names.message(&message, c.inbox_id))))
}

/// Deletes a message's content, keeping its place in the conversation.
pub async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id, message_id)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    let live = super::conversations::live(&state, account_id, id)?;
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
    let mut files = Vec::new();
    let message = state
        .hub
        .edit_message(account_id, id, message_id, |m| {
            if m.deleted {
                return false;
            }
            files = crate::files::keys_of(&m.content_attributes);
            m.content = Some(DELETED.to_string());
            m.content_attributes = json!({"deleted": true});
            m.deleted = true;
            true
        })
        .await
        .map_err(|e| hub_not_found_as(e, "Message"))?;
    crate::files::forget(&state.store, &state.files, account_id, &files).await;
    let names = Names::load(&state, account_id, &[live.conversation.contact_id]).await?;
    Ok(Json(json!(
        names.message(&message, live.conversation.inbox_id)
    )))
}
