//! `/api/v1/accounts/{account_id}/conversations`: the lists (Mine /
//! Unassigned / All, answered by the hub), opening conversations, status
//! changes and manual assignment ("Ações da conversa" -> responsável).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_protocol::api::ChannelType;
use switchboard_protocol::chat::ConversationCounts;

use crate::http::auth::Member;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::{hub_not_found_as, AppState};
use crate::hub::router::ConversationEdit;
use crate::hub::shard::{AssigneeType, Counts, ListFilter, LiveConversation};
use crate::hub::{NewConversation, NewMessage};
use crate::input::present;
use crate::store::{now, Conversation, ConversationStatus, Sender};
use crate::views;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    assignee_type: Option<AssigneeType>,
    /// open (default), pending, resolved, snoozed or all.
    status: Option<String>,
    inbox_id: Option<i64>,
    page: Option<usize>,
}

fn filter(query: &ListQuery, me: i64) -> ApiResult<ListFilter> {
    let status = match query.status.as_deref().unwrap_or("open") {
        "all" => None,
        s => Some(ConversationStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status `{s}` is not one of open, pending, resolved, snoozed, all"
            ))
        })?),
    };
    let page = query.page.unwrap_or(1);
    if page == 0 || page > 1_000_000 {
        return Err(ApiError::bad_request("page must be a positive number"));
    }
    Ok(ListFilter {
        assignee_type: query.assignee_type.unwrap_or(AssigneeType::All),
        status,
        inbox_id: query.inbox_id,
        page,
        me,
    })
}

fn counts(c: Counts) -> ConversationCounts {
    ConversationCounts {
        mine_count: c.mine_count,
        unassigned_count: c.unassigned_count,
        assigned_count: c.assigned_count,
        all_count: c.all_count,
    }
}

/// The account's conversation `id` from the hub, or 404.
pub(super) async fn live(
    state: &AppState,
    account_id: i64,
    id: i64,
) -> ApiResult<LiveConversation> {
    state
        .shards
        .get(account_id, id)
        .await
        .map_err(|e| hub_not_found_as(e, "Conversation"))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    member: Member,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = filter(&query, member.user.id)?;
    let (tab_counts, page) = state.shards.list(member.account_id(), filter).await?;
    let names = state.names_for(member.account_id(), &page).await?;
    Ok(Json(json!({"data": {
        "meta": counts(tab_counts),
        "payload": names.conversations(&page),
    }})))
}

/// `GET .../conversations/meta`: the tab counts alone.
pub(crate) async fn meta(
    State(state): State<AppState>,
    member: Member,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = filter(&query, member.user.id)?;
    let (tab_counts, _) = state.shards.list(member.account_id(), filter).await?;
    Ok(Json(json!({"meta": counts(tab_counts)})))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    let live = live(&state, member.account_id(), id).await?;
    let names = state
        .names_for(member.account_id(), std::slice::from_ref(&live))
        .await?;
    Ok(Json(json!(names.conversation(&live))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct InitialMessage {
    content: String,
    /// The client's own id for the message: a retry of the request with the
    /// same one answers with the conversation it opened and adds nothing.
    echo_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateBody {
    inbox_id: i64,
    contact_id: Option<i64>,
    /// The contact's id in the inbox: finds the contact when `contact_id` is
    /// absent; names the new contact-inbox link otherwise.
    source_id: Option<String>,
    status: Option<ConversationStatus>,
    assignee_id: Option<i64>,
    /// An outgoing first message from the caller.
    message: Option<InitialMessage>,
}

/// Checks that `assignee_id` may hold conversations of the inbox: a
/// collaborator, whatever their load (manual assignment ignores the maximum).
async fn collaborator(
    state: &AppState,
    account_id: i64,
    inbox_id: i64,
    assignee_id: i64,
) -> ApiResult<crate::store::Agent> {
    let members = state.store.list_members(account_id, inbox_id).await?;
    members
        .into_iter()
        .find(|a| a.user.id == assignee_id)
        .ok_or_else(|| {
            ApiError::invalid(
                "assignee_id",
                "must be a collaborator of the conversation's inbox",
            )
        })
}

/// The activity line for an assignment change made by `actor`.
fn assignment_line(actor: &Member, assignee: Option<&crate::store::Agent>) -> String {
    let by = actor.user.available_name();
    match assignee {
        Some(a) if a.user.id == actor.user.id => format!("{by} self-assigned this conversation"),
        Some(a) => format!("Assigned to {} by {by}", a.user.available_name()),
        None => format!("Conversation unassigned by {by}"),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    member: Member,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Json<Value>> {
    let account_id = member.account_id();
    let directory = state.shards.directory(account_id).await?;
    let inbox = directory
        .inboxes
        .get(&body.inbox_id)
        .ok_or_else(|| ApiError::invalid("inbox_id", "is not an inbox of this account"))?;
    let source_id = body
        .source_id
        .as_deref()
        .map(|s| crate::input::name("source_id", s))
        .transpose()?;
    let contact_inbox = match (body.contact_id, source_id) {
        (Some(contact_id), source_id) => {
            let contact = state
                .store
                .get_contact(account_id, contact_id)
                .await
                .map_err(|_| ApiError::invalid("contact_id", "is not a contact of this account"))?;
            // Without a source_id, the contact's existing link into the
            // inbox is reused (as Chatwoot does); a new one only if none.
            let existing = match &source_id {
                Some(source_id) => state.store.contact_inbox(inbox.id, source_id).await?,
                None => state.store.link_of(contact_id, inbox.id).await?,
            };
            match existing {
                Some(ci) if ci.contact_id == contact_id => ci,
                Some(_) => {
                    return Err(ApiError::invalid("source_id", "belongs to another contact"))
                }
                None => {
                    let source_id = match source_id {
                        Some(given) => given,
                        // A WhatsApp number names its contacts by their own
                        // number (wa_id): templates go there, and the
                        // customer's answers land on this same link.
                        None if inbox.channel_type == ChannelType::Whatsapp => contact
                            .phone_number
                            .as_deref()
                            .map(|p| p.trim_start_matches('+').to_string())
                            .ok_or_else(|| {
                                ApiError::invalid(
                                    "contact_id",
                                    "has no phone number: a WhatsApp conversation needs one",
                                )
                            })?,
                        None => crate::secrets::random_token(24),
                    };
                    state
                        .store
                        .create_contact_inbox(contact_id, inbox.id, &source_id, false)
                        .await?
                }
            }
        }
        (None, Some(source_id)) => state
            .store
            .contact_inbox(inbox.id, &source_id)
            .await?
            .ok_or_else(|| ApiError::invalid("source_id", "is not a contact of this inbox"))?,
        (None, None) => return Err(ApiError::invalid("contact_id", "or source_id is required")),
    };
    let status = body.status.unwrap_or(ConversationStatus::Open);
    if status == ConversationStatus::Snoozed {
        return Err(ApiError::invalid(
            "status",
            "must be open, pending or resolved",
        ));
    }
    let mut messages = Vec::new();
    let mut start_echo = None;
    if let Some(first) = body.message {
        start_echo = crate::input::echo_id(first.echo_id)?;
        messages.push(NewMessage {
            sender: Some(Sender::User(member.user.id)),
            echo_id: start_echo.clone(),
            ..crate::input::outgoing(first.content)?
        });
    }
    if let Some(assignee_id) = body.assignee_id {
        let assignee = collaborator(&state, account_id, inbox.id, assignee_id).await?;
        messages.push(NewMessage::activity(assignment_line(
            &member,
            Some(&assignee),
        )));
    }
    let (live, _) = state
        .shards
        .create_conversation(NewConversation {
            account_id,
            inbox_id: inbox.id,
            contact_id: contact_inbox.contact_id,
            contact_inbox_id: Some(contact_inbox.id),
            status,
            assignee_id: body.assignee_id,
            messages,
            echo_id: start_echo,
        })
        .await?;
    let names = state
        .names_for(account_id, std::slice::from_ref(&live))
        .await?;
    Ok(Json(json!(names.conversation(&live))))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatusBody {
    status: Option<ConversationStatus>,
    /// Unix seconds; with `snoozed` only.
    snoozed_until: Option<i64>,
}

/// Refuses a `snoozed_until` without `snoozed`, or in the past.
fn check_status(body: &StatusBody) -> ApiResult<()> {
    if let Some(until) = body.snoozed_until {
        if body.status != Some(ConversationStatus::Snoozed) {
            return Err(ApiError::invalid(
                "snoozed_until",
                "goes with status snoozed",
            ));
        }
        if until <= now() {
            return Err(ApiError::invalid("snoozed_until", "must be in the future"));
        }
    }
    Ok(())
}

/// Sets (or, without a status, toggles open <-> resolved) the status.
async fn change_status(
    state: &AppState,
    member: &Member,
    id: i64,
    body: &StatusBody,
) -> ApiResult<Conversation> {
    check_status(body)?;
    let change = ConversationEdit::Status {
        status: body.status,
        snoozed_until: body.snoozed_until,
        by: member.user.available_name().to_string(),
    };
    let (conversation, _) = state
        .shards
        .change(member.account_id(), id, Some(member.user.id), change)
        .await
        .map_err(|e| hub_not_found_as(e, "Conversation"))?;
    Ok(conversation)
}

pub(crate) async fn toggle_status(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<StatusBody>,
) -> ApiResult<Json<Value>> {
    let c = change_status(&state, &member, id, &body).await?;
    Ok(Json(json!({"meta": {}, "payload": {
        "success": true,
        "conversation_id": c.id,
        "current_status": c.status.as_str(),
        "snoozed_until": c.snoozed_until,
    }})))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssignBody {
    /// `null` unassigns; the key itself is required.
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<i64>>,
}

/// Sets, changes or (with `null`) removes the assignee.
async fn assign(
    state: &AppState,
    member: &Member,
    id: i64,
    assignee_id: Option<i64>,
) -> ApiResult<Option<crate::store::Agent>> {
    let account_id = member.account_id();
    let inbox_id = live(state, account_id, id).await?.conversation.inbox_id;
    let assignee = match assignee_id {
        Some(agent) => Some(collaborator(state, account_id, inbox_id, agent).await?),
        None => None,
    };
    let change = ConversationEdit::Assign {
        inbox_id,
        assignee_id,
        line: assignment_line(member, assignee.as_ref()),
    };
    state
        .shards
        .change(account_id, id, Some(member.user.id), change)
        .await
        .map_err(|e| hub_not_found_as(e, "Conversation"))?;
    Ok(assignee)
}

/// `POST .../conversations/{id}/assignments`: answers with the assignee (or null).
pub(crate) async fn assignments(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Json<Value>> {
    let assignee_id = body
        .assignee_id
        .ok_or_else(|| ApiError::invalid("assignee_id", "is required (null unassigns)"))?;
    let assignee = assign(&state, &member, id, assignee_id).await?;
    Ok(Json(json!(assignee.as_ref().map(views::agent))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpdateBody {
    status: Option<ConversationStatus>,
    snoozed_until: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    assignee_id: Option<Option<i64>>,
}

/// `PATCH .../conversations/{id}`: status and assignee in one call.
pub(crate) async fn update(
    State(state): State<AppState>,
    member: Member,
    ApiPath((_, id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Json<Value>> {
    live(&state, member.account_id(), id).await?;
    let status = StatusBody {
        status: body.status,
        snoozed_until: body.snoozed_until,
    };
    check_status(&status)?;
    if let Some(assignee_id) = body.assignee_id {
        assign(&state, &member, id, assignee_id).await?;
    }
    if status.status.is_some() {
        change_status(&state, &member, id, &status).await?;
    }
    show(State(state), member, ApiPath((0, id))).await
}
