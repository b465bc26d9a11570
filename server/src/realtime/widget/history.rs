//! `history`: a page of the visitor's own conversation, so a reloaded page
//! shows what was said before. Private notes and activity lines are never
//! read for a visitor.

use switchboard_protocol::realtime::History;

use super::VisitorHandler;
use crate::http::error::ApiError;

/// Messages per page: a screenful and then some.
const PAGE: usize = 50;

/// The newest messages of the conversation, or those before `before`,
/// oldest first. The caller has checked the conversation is the visitor's.
pub(super) async fn page(
    h: &VisitorHandler,
    conversation_id: i64,
    before: Option<i64>,
) -> Result<History, ApiError> {
    let mut messages = h
        .state
        .store
        .list_messages(conversation_id, before, PAGE as i64 + 1, true)
        .await?;
    // One more than a page was asked for, to know whether older ones exist;
    // the extra one is the oldest.
    let has_more = messages.len() > PAGE;
    if has_more {
        messages.remove(0);
    }
    // Names::load sorts and de-duplicates the ids.
    let contacts: Vec<i64> = messages
        .iter()
        .filter_map(|m| match m.sender {
            Some(crate::store::Sender::Contact(id)) => Some(id),
            _ => None,
        })
        .collect();
    let names = h.state.names(h.account_id, &contacts).await?;
    Ok(History {
        conversation_id,
        messages: messages
            .iter()
            .map(|m| names.message_for_contact(m, h.inbox_id))
            .collect(),
        has_more,
    })
}
