//! Presence and signals: agent consoles connecting and leaving (which decides
//! eligibility for automatic assignment), typing, read marks and contact
//! changes handed to the realtime feed.

use std::collections::{BTreeMap, HashMap};

use switchboard_protocol::api::Availability;
use switchboard_protocol::realtime::{Read, Typing};

use super::feed::FeedItem;
use super::shard::ShardState;
use super::{Hub, HubError, HubResult};
use crate::store::{now, Contact};

/// An agent's status as others see it: `online` (available and present),
/// `busy`, or `offline`.
fn status(state: &crate::assign::AgentState) -> &'static str {
    match state.availability {
        Availability::Available if state.eligible() => "online",
        Availability::Available | Availability::Offline => "offline",
        Availability::Busy => "busy",
    }
}

impl ShardState {
    /// Every agent's status, and whether each inbox has a collaborator online.
    pub fn presence(&self) -> (BTreeMap<i64, String>, HashMap<i64, bool>) {
        let Some(roster) = &self.roster else {
            return Default::default();
        };
        let users: BTreeMap<i64, String> = roster
            .agents
            .iter()
            .filter(|(id, _)| roster.directory.agents.contains_key(id))
            .map(|(id, a)| (*id, status(&a.state).to_string()))
            .collect();
        let inboxes = roster
            .inboxes
            .iter()
            .map(|(id, inbox)| {
                let online = inbox
                    .members
                    .iter()
                    .any(|m| users.get(m).is_some_and(|s| s == "online"));
                (*id, online)
            })
            .collect();
        (users, inboxes)
    }
}

/// One collaborator's load and presence, for an assignee picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Load {
    pub user_id: i64,
    /// Open conversations assigned to them in the inbox.
    pub open_in_inbox: u32,
    /// ... and in all inboxes.
    pub open_total: u32,
    /// Agent consoles of theirs open now.
    pub consoles: u32,
}

impl Hub {
    /// The inbox's collaborators' loads and presence, as the hub counts
    /// them (the same counts the caps are checked against).
    pub async fn loads(&self, account_id: i64, inbox_id: i64) -> HubResult<Vec<Load>> {
        self.ensure_roster(account_id).await?;
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let Some(roster) = &state.roster else {
            return Ok(Vec::new());
        };
        let members = roster
            .inboxes
            .get(&inbox_id)
            .map(|i| i.members.as_slice())
            .unwrap_or_default();
        Ok(members
            .iter()
            .map(|&user_id| Load {
                user_id,
                open_in_inbox: state
                    .open_counts()
                    .get(&(inbox_id, user_id))
                    .copied()
                    .unwrap_or(0),
                open_total: state.open_total(user_id),
                consoles: roster
                    .agents
                    .get(&user_id)
                    .map_or(0, |a| a.state.connections),
            })
            .collect())
    }

    /// Hands the current presence to the feed; subscribers hear of it only
    /// if it changed.
    pub(super) fn publish_presence(&self, state: &ShardState) {
        let (users, inboxes) = state.presence();
        state.publish(FeedItem::Presence { users, inboxes });
    }

    /// Every agent's status and whether each inbox has someone online.
    pub fn presence(&self, account_id: i64) -> (BTreeMap<i64, String>, HashMap<i64, bool>) {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        state.presence()
    }

    /// An agent console connected (`+1`) or went away (`-1`). The first
    /// connection makes an `auto_offline` agent present: they stop being
    /// away, and with queue pull on they take waiting conversations at once.
    /// Losing the last one starts their offline grace period.
    pub async fn agent_presence(&self, account_id: i64, user_id: i64, delta: i32) -> HubResult<()> {
        self.ensure_roster(account_id).await?;
        // Coming online may assign conversations; that needs a writer slot.
        // Without one (the queue is full) presence still counts; the next
        // change pulls instead.
        let slot = if delta > 0 {
            self.slot().await.ok()
        } else {
            None
        };
        let shard = self.shard(account_id);
        let durable = {
            let mut state = Self::lock(&shard);
            let at = now();
            let Some(agent) = state
                .roster
                .as_mut()
                .and_then(|r| r.agents.get_mut(&user_id))
            else {
                return Ok(());
            };
            let was = agent.state.eligible();
            agent.state.connections = agent.state.connections.saturating_add_signed(delta);
            let is = agent.state.eligible();
            if was && !is {
                agent.away_since = Some(at);
            } else if is && !was {
                agent.away_since = None;
            }
            self.publish_presence(&state);
            match slot {
                Some(slot) if is && !was => {
                    let mut ops = Vec::new();
                    for inbox in state.roster_inboxes() {
                        if state.eligible(inbox, user_id) {
                            self.pulled(&mut state, inbox, at, &mut ops);
                        }
                    }
                    if ops.is_empty() {
                        return Ok(());
                    }
                    self.commit(&mut state, slot, ops)
                }
                _ => return Ok(()),
            }
        };
        Self::durable(durable).await
    }

    /// Someone started (`on`) or stopped typing in a conversation.
    pub fn typing(&self, account_id: i64, data: Typing, on: bool) -> HubResult<()> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let conversation = state
            .conversations
            .get(&data.conversation_id)
            .ok_or(HubError::NotFound)?
            .conversation
            .clone();
        state.publish(FeedItem::Typing {
            conversation,
            on,
            data,
        });
        Ok(())
    }

    /// An agent read a conversation up to now.
    pub fn read(&self, account_id: i64, conversation_id: i64, user_id: i64) -> HubResult<()> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let conversation = state
            .conversations
            .get(&conversation_id)
            .ok_or(HubError::NotFound)?
            .conversation
            .clone();
        state.publish(FeedItem::Read {
            conversation,
            data: Read {
                conversation_id,
                user_id,
                read_at: now(),
            },
        });
        Ok(())
    }

    /// A contact's details changed (already stored): subscribers and event
    /// rendering learn the new ones.
    pub fn contact_changed(&self, account_id: i64, contact: Contact) {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        state.publish(FeedItem::Contact {
            id: contact.id,
            contact: Some(contact),
        });
    }
}
