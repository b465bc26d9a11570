//! `/api/v1/accounts/{account_id}/contacts`: the people who write in. Every
//! agent of the account sees every contact (product rule).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::{not_found_as, AppState};
use crate::input::{self, ContactFieldsBody, MAX_NAME};
use crate::store::{Contact, ContactFields};
use crate::views::chat::{contact, payload};

/// Contacts per page, as Chatwoot.
const PAGE_SIZE: i64 = 15;

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    page: Option<i64>,
    q: Option<String>,
}

fn page_of(query: &PageQuery) -> ApiResult<i64> {
    match query.page {
        None => Ok(1),
        Some(p) if (1..=1_000_000).contains(&p) => Ok(p),
        Some(_) => Err(ApiError::invalid("page", "must be a positive number")),
    }
}

async fn listing(
    state: &AppState,
    member: &Member,
    q: Option<&str>,
    page: i64,
) -> ApiResult<Value> {
    let (found, total) = state
        .store
        .list_contacts(member.account_id(), q, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await?;
    let list: Vec<_> = found.iter().map(contact).collect();
    Ok(json!({"meta": {"count": total, "current_page": page}, "payload": list}))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = page_of(&query)?;
    Ok(Json(listing(&state, &member, None, page).await?))
}

/// `GET .../contacts/search?q=`: name, e-mail, phone or identifier containing `q`.
pub(crate) async fn search(
    State(state): State<AppState>,
    member: Member,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = page_of(&query)?;
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(ApiError::invalid(
            "q",
            "is required: the text to search for",
        ));
    }
    let q = input::text("q", q, MAX_NAME)?;
    Ok(Json(listing(&state, &member, Some(&q), page).await?))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactBody {
    #[serde(flatten)]
    fields: ContactFieldsBody,
    /// Create only: also register the contact in this inbox.
    inbox_id: Option<i64>,
    /// Create only: the contact's id in that inbox (random when absent).
    source_id: Option<String>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<ContactBody>,
) -> ApiResult<Json<Value>> {
    let mut fields = ContactFields {
        custom_attributes: json!({}),
        ..ContactFields::default()
    };
    input::apply_contact(&body.fields, &mut fields)?;
    let inbox = match body.inbox_id {
        Some(id) => Some(
            state
                .store
                .get_inbox(member.account_id(), id)
                .await
                .map_err(|_| ApiError::invalid("inbox_id", "is not an inbox of this account"))?,
        ),
        None => None,
    };
    let source_id = match &body.source_id {
        Some(s) => input::name("source_id", s)?,
        None => crate::secrets::random_token(24),
    };
    let created = state
        .store
        .create_contact(member.account_id(), &fields)
        .await?;
    state.shards.contact_saved(None, &created).await?;
    let contact_inbox = match &inbox {
        Some(inbox) => Some(
            state
                .store
                .create_contact_inbox(created.id, inbox.id, &source_id, false)
                .await?,
        ),
        None => None,
    };
    Ok(Json(json!({"payload": {
        "contact": contact(&created),
        "contact_inbox": {
            "inbox": inbox.map(|i| super::inboxes::for_member(&member, crate::views::inbox(&i, &state.config.public_url))),
            "source_id": contact_inbox.map(|ci| ci.source_id),
        }
    }})))
}

/// The account's contact `id`, or 404.
async fn contact_of(state: &AppState, member: &Member, id: i64) -> ApiResult<Contact> {
    state
        .store
        .get_contact(member.account_id(), id)
        .await
        .map_err(|e| not_found_as(e, "Contact"))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    let found = contact_of(&state, &member, id).await?;
    Ok(Json(payload(contact(&found))))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ContactBody>,
) -> ApiResult<Json<Value>> {
    let current = contact_of(&state, &member, id).await?;
    let mut fields = ContactFields::of(&current);
    input::apply_contact(&body.fields, &mut fields)?;
    if fields.identifier != current.identifier {
        // The account's own people named it: a signed visitor with this
        // identifier is this contact.
        fields.identifier_by_visitor = false;
    }
    let updated = state
        .store
        .update_contact(member.account_id(), id, &fields)
        .await
        .map_err(|e| not_found_as(e, "Contact"))?;
    state.shards.contact_saved(Some(&current), &updated).await?;
    Ok(Json(payload(contact(&updated))))
}

/// Deletes the contact with its conversations and messages.
pub(crate) async fn delete(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    contact_of(&state, &member, id).await?;
    let account_id = member.account_id();
    let removed = state.shards.delete_contact(account_id, id).await?;
    crate::files::forget_conversations(&state.store, &state.files, account_id, &removed).await;
    Ok(Json(json!({})))
}

/// The contact's conversations, newest first, every status.
pub(crate) async fn conversations(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    contact_of(&state, &member, id).await?;
    let list = state
        .shards
        .contact_conversations(member.account_id(), id)
        .await?;
    let names = state.names_for(member.account_id(), &list).await?;
    Ok(Json(payload(names.conversations(&list))))
}
