//! The Public client API (`/public/api/v1/inboxes/{inbox_identifier}/...`):
//! what an API inbox's own front end calls on behalf of one contact.
//!
//! There is no token: the inbox identifier names the inbox, and the contact
//! identifier (the contact's `source_id` in that inbox, 32 random letters and
//! digits that only that contact holds) names the contact. A contact reaches
//! only their own conversations, and never sees private notes or activity
//! lines. Unknown identifiers are 404s.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::{hub_not_found_as, AppState};
use crate::hub::router::{ConversationEdit, MessageEdit};
use crate::hub::shard::LiveConversation;
use crate::hub::NewConversation;
use crate::input::ContactFieldsBody;
use crate::secrets::random_token;
use crate::store::{
    Contact, ContactFields, ContactInbox, ConversationStatus, Inbox, Message, MessageType, Sender,
    StoreError,
};
use crate::views::chat::Names;

/// Length of a contact identifier we generate.
const CONTACT_IDENTIFIER_LEN: usize = 32;

/// The inbox and contact named by the path.
struct Visitor {
    inbox: Inbox,
    contact: Contact,
    link: ContactInbox,
}

async fn inbox(state: &AppState, identifier: &str) -> ApiResult<Inbox> {
    state
        .store
        .inbox_by_identifier(identifier)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("Inbox"),
            other => other.into(),
        })
}

async fn visitor(
    state: &AppState,
    inbox_identifier: &str,
    contact_identifier: &str,
) -> ApiResult<Visitor> {
    let inbox = inbox(state, inbox_identifier).await?;
    let link = state
        .store
        .contact_inbox(inbox.id, contact_identifier)
        .await?
        .ok_or_else(|| ApiError::not_found("Contact"))?;
    let contact = state
        .store
        .get_contact(inbox.account_id, link.contact_id)
        .await?;
    Ok(Visitor {
        inbox,
        contact,
        link,
    })
}

fn public_contact(contact: &Contact, source_id: &str) -> Value {
    json!({
        "id": contact.id,
        "source_id": source_id,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone_number,
        "identifier": contact.identifier,
        "custom_attributes": contact.custom_attributes,
    })
}

fn public_message(names: &Names, m: &Message) -> Value {
    let full = names.message_for_contact(m, 0);
    json!({
        "id": full.id,
        "content": full.content,
        "message_type": full.message_type,
        "content_type": full.content_type,
        "content_attributes": full.content_attributes,
        "created_at": full.created_at,
        "conversation_id": full.conversation_id,
        "sender": full.sender,
        "echo_id": full.echo_id,
    })
}

async fn public_conversation(
    state: &AppState,
    v: &Visitor,
    live: &LiveConversation,
) -> ApiResult<Value> {
    let c = &live.conversation;
    let messages = state.store.list_messages(c.id, None, 1000, true).await?;
    let names = state.names(v.inbox.account_id, &[v.contact.id]).await?;
    let list: Vec<Value> = messages.iter().map(|m| public_message(&names, m)).collect();
    Ok(json!({
        "id": c.id,
        "inbox_id": c.inbox_id,
        "status": c.status.as_str(),
        "contact_last_seen_at": 0,
        "agent_last_seen_at": 0,
        "messages": list,
        "contact": public_contact(&v.contact, &v.link.source_id),
    }))
}

/// Whether the conversation was opened through this contact identifier: a
/// visitor reaches only those, even if their contact writes elsewhere too.
fn theirs(v: &Visitor, c: &crate::store::Conversation) -> bool {
    c.contact_inbox_id == Some(v.link.id) && c.contact_id == v.contact.id
}

/// The visitor's own conversation `id`, or 404.
async fn own(state: &AppState, v: &Visitor, id: i64) -> ApiResult<LiveConversation> {
    let live = state
        .shards
        .get(v.inbox.account_id, id)
        .await
        .map_err(|e| hub_not_found_as(e, "Conversation"))?;
    if !theirs(v, &live.conversation) {
        return Err(ApiError::not_found("Conversation"));
    }
    Ok(live)
}

/// The new or changed fields: [`super::contacts::apply`] validates them.
/// `base` with the body's changes. An identifier named here proves
/// nothing (anyone holding the inbox's public identifier may call): it is
/// marked as the visitor's own claim.
fn fields(body: &ContactFieldsBody, base: ContactFields) -> ApiResult<ContactFields> {
    let mut fields = base.clone();
    crate::input::apply_contact(body, &mut fields)?;
    if fields.identifier != base.identifier {
        fields.identifier_by_visitor = true;
    }
    Ok(fields)
}

/// `POST .../contacts`: a new contact for this inbox, with a fresh contact
/// identifier. Nobody becomes an existing contact by naming their e-mail or
/// identifier: that is a 409, so a visitor can never read someone else's
/// details or conversations.
pub(crate) async fn create_contact(
    State(state): State<AppState>,
    ApiPath(inbox_identifier): ApiPath<String>,
    ApiJson(body): ApiJson<ContactFieldsBody>,
) -> ApiResult<Json<Value>> {
    let inbox = inbox(&state, &inbox_identifier).await?;
    let new = fields(
        &body,
        ContactFields {
            custom_attributes: json!({}),
            ..Default::default()
        },
    )?;
    let source_id = random_token(CONTACT_IDENTIFIER_LEN);
    let (contact, _) = state
        .store
        .create_visitor(inbox.account_id, inbox.id, &new, &source_id, false)
        .await?;
    state.shards.contact_saved(None, &contact).await?;
    Ok(Json(public_contact(&contact, &source_id)))
}

pub(crate) async fn show_contact(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    Ok(Json(public_contact(&v.contact, &v.link.source_id)))
}

pub(crate) async fn update_contact(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ContactFieldsBody>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    let current = ContactFields::of(&v.contact);
    let updated = state
        .store
        .update_contact(v.inbox.account_id, v.contact.id, &fields(&body, current)?)
        .await?;
    state
        .shards
        .contact_saved(Some(&v.contact), &updated)
        .await?;
    Ok(Json(public_contact(&updated, &v.link.source_id)))
}

pub(crate) async fn list_conversations(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    let mut list = Vec::new();
    for live in state
        .shards
        .contact_conversations(v.inbox.account_id, v.contact.id)
        .await?
    {
        if theirs(&v, &live.conversation) {
            list.push(public_conversation(&state, &v, &live).await?);
        }
    }
    Ok(Json(Value::Array(list)))
}

pub(crate) async fn create_conversation(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    let (live, _) = state
        .shards
        .create_conversation(NewConversation {
            account_id: v.inbox.account_id,
            inbox_id: v.inbox.id,
            contact_id: v.contact.id,
            contact_inbox_id: Some(v.link.id),
            status: ConversationStatus::Open,
            assignee_id: None,
            messages: Vec::new(),
            echo_id: None,
        })
        .await?;
    Ok(Json(public_conversation(&state, &v, &live).await?))
}

pub(crate) async fn show_conversation(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier, id)): ApiPath<(String, String, i64)>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    let live = own(&state, &v, id).await?;
    Ok(Json(public_conversation(&state, &v, &live).await?))
}

/// The contact resolves their conversation (the only status they can set).
pub(crate) async fn toggle_status(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier, id)): ApiPath<(String, String, i64)>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    own(&state, &v, id).await?;
    let line = format!("Conversation was resolved by {}", v.contact.shown_name());
    state
        .shards
        .change(
            v.inbox.account_id,
            id,
            None,
            ConversationEdit::ResolveByContact { line },
        )
        .await?;
    let live = own(&state, &v, id).await?;
    Ok(Json(public_conversation(&state, &v, &live).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Before {
    before: Option<i64>,
}

pub(crate) async fn list_messages(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier, id)): ApiPath<(String, String, i64)>,
    ApiQuery(query): ApiQuery<Before>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    own(&state, &v, id).await?;
    let messages = state
        .store
        .list_messages(id, query.before, 20, true)
        .await?;
    let names = state.names(v.inbox.account_id, &[v.contact.id]).await?;
    Ok(Json(Value::Array(
        messages.iter().map(|m| public_message(&names, m)).collect(),
    )))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PublicMessageBody {
    content: Option<String>,
    echo_id: Option<String>,
}

/// The contact writes: an incoming message, acknowledged once durable.
pub(crate) async fn create_message(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier, id)): ApiPath<(String, String, i64)>,
    ApiJson(body): ApiJson<PublicMessageBody>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    own(&state, &v, id).await?;
    let mut message = crate::input::outgoing(body.content.unwrap_or_default())?;
    message.message_type = MessageType::Incoming;
    message.sender = Some(Sender::Contact(v.contact.id));
    message.echo_id = crate::input::echo_id(body.echo_id)?;
    let stored = state
        .shards
        .post_message(v.inbox.account_id, id, message)
        .await
        .map_err(|e| hub_not_found_as(e, "Conversation"))?;
    let names = state.names(v.inbox.account_id, &[v.contact.id]).await?;
    Ok(Json(public_message(&names, &stored)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubmittedBody {
    submitted_values: Value,
}

/// The contact answers a form or CSAT message: its `submitted_values`.
pub(crate) async fn update_message(
    State(state): State<AppState>,
    ApiPath((inbox_identifier, contact_identifier, id, message_id)): ApiPath<(
        String,
        String,
        i64,
        i64,
    )>,
    ApiJson(body): ApiJson<SubmittedBody>,
) -> ApiResult<Json<Value>> {
    let v = visitor(&state, &inbox_identifier, &contact_identifier).await?;
    own(&state, &v, id).await?;
    let message = state
        .store
        .get_message(id, message_id)
        .await
        .map_err(|e| crate::http::not_found_as(e, "Message"))?;
    if message.private || message.message_type == MessageType::Activity {
        return Err(ApiError::not_found("Message"));
    }
    if body.submitted_values.to_string().len() > 16 * 1024 {
        return Err(ApiError::invalid(
            "submitted_values",
            "are too large (16 KiB at most)",
        ));
    }
    let submitted = MessageEdit::Submit {
        values: body.submitted_values,
    };
    let (stored, _) = state
        .shards
        .edit_message(v.inbox.account_id, id, message_id, submitted)
        .await?;
    let names = state.names(v.inbox.account_id, &[v.contact.id]).await?;
    Ok(Json(public_message(&names, &stored)))
}
