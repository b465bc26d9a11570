//! Automatic assignment inside a shard: the roster (who collaborates on which
//! inbox, who is eligible, each inbox's rules), the round-robin cursors, the
//! queue of waiting conversations, and applying [`crate::assign::pick`]'s
//! decisions. Runs under the shard's lock, so a decision and the count it
//! reserves are one step.

use rustc_hash::FxHashMap;
use std::sync::Arc;

pub use super::directory::Directory;
use super::shard::ShardState;
use crate::assign::{self, AgentState, Candidate, InboxRules};
use crate::store::{Conversation, ConversationStatus};

/// An inbox's rules and collaborators.
#[derive(Debug, Clone, Default)]
pub struct InboxRoster {
    pub rules: InboxRules,
    /// Collaborators' user ids.
    pub members: Vec<i64>,
}

/// An agent's assignment-relevant state and the name activity lines use.
#[derive(Debug, Clone)]
pub struct AgentEntry {
    pub state: AgentState,
    pub name: String,
    /// Since when the agent has been away (not eligible), for
    /// `on_agent_offline: requeue`.
    pub away_since: Option<i64>,
}

/// Why [`ShardState::sweep`] moves a conversation.
enum Due {
    Away,
    NoReply(i64),
}

/// Everything assignment needs to know about an account's settings.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub inboxes: FxHashMap<i64, InboxRoster>,
    pub agents: FxHashMap<i64, AgentEntry>,
    /// The account's agents and inboxes as the API renders them, read with
    /// the roster: responses name people and channels from memory.
    pub directory: Arc<Directory>,
}

impl ShardState {
    fn rules(&self, inbox_id: i64) -> Option<InboxRules> {
        Some(self.roster.as_ref()?.inboxes.get(&inbox_id)?.rules)
    }

    /// Whether the agent may receive this inbox's conversations automatically.
    pub fn eligible(&self, inbox_id: i64, agent_id: i64) -> bool {
        let Some(roster) = &self.roster else {
            return false;
        };
        roster
            .inboxes
            .get(&inbox_id)
            .is_some_and(|i| i.members.contains(&agent_id))
            && roster
                .agents
                .get(&agent_id)
                .is_some_and(|a| a.state.eligible())
    }

    fn candidates(&self, inbox_id: i64) -> Vec<Candidate> {
        let Some(roster) = &self.roster else {
            return Vec::new();
        };
        let Some(inbox) = roster.inboxes.get(&inbox_id) else {
            return Vec::new();
        };
        inbox
            .members
            .iter()
            .filter_map(|id| roster.agents.get(id))
            .map(|a| Candidate {
                agent_id: a.state.agent_id,
                eligible: a.state.eligible(),
                open_in_inbox: self.open_count(inbox_id, a.state.agent_id),
                open_total: self.open_total(a.state.agent_id),
                max_total: a.state.max_total,
                last_assigned: self
                    .last_assigned
                    .get(&a.state.agent_id)
                    .copied()
                    .unwrap_or(0),
            })
            .collect()
    }

    /// Picks the agent for the next conversation of the inbox and advances
    /// the inbox's cursor. The caller must record the assignment before
    /// releasing the lock: that is what reserves the slot.
    pub fn auto_pick(&mut self, inbox_id: i64) -> Option<i64> {
        self.auto_pick_except(inbox_id, None)
    }

    /// [`ShardState::auto_pick`], passing over `except` (the agent a
    /// conversation is being taken from).
    pub fn auto_pick_except(&mut self, inbox_id: i64, except: Option<i64>) -> Option<i64> {
        let rules = self.rules(inbox_id)?;
        let cursor = self.cursors.get(&inbox_id).copied();
        let mut candidates = self.candidates(inbox_id);
        candidates.retain(|c| Some(c.agent_id) != except);
        let agent = assign::pick(&rules, &candidates, cursor)?;
        self.note_assignment(inbox_id, agent);
        self.metrics.auto_assigned();
        Some(agent)
    }

    /// Records that `agent` was just given a conversation of `inbox_id`.
    pub fn note_assignment(&mut self, inbox_id: i64, agent_id: i64) {
        self.assign_seq += 1;
        self.cursors.insert(inbox_id, agent_id);
        self.last_assigned.insert(agent_id, self.assign_seq);
    }

    /// The name activity lines use for an agent.
    pub fn agent_name(&self, agent_id: i64) -> String {
        self.roster
            .as_ref()
            .and_then(|r| r.agents.get(&agent_id))
            .map(|a| a.name.clone())
            .unwrap_or_else(|| format!("agent {agent_id}"))
    }

    /// Open unassigned conversations of the inbox, oldest first.
    pub fn waiting(&self, inbox_id: i64) -> Vec<(i64, i64)> {
        let mut queue: Vec<(i64, i64)> = self
            .conversations
            .values()
            .map(|l| &l.conversation)
            .filter(|c| {
                c.inbox_id == inbox_id
                    && c.status == ConversationStatus::Open
                    && c.assignee_id.is_none()
            })
            .map(|c| (c.created_at, c.id))
            .collect();
        queue.sort_unstable();
        queue
    }

    /// 1-based place in the inbox's queue of a waiting conversation.
    pub fn queue_position(&self, c: &Conversation) -> Option<usize> {
        if c.status != ConversationStatus::Open || c.assignee_id.is_some() {
            return None;
        }
        let key = (c.created_at, c.id);
        let ahead = self
            .conversations
            .values()
            .map(|l| &l.conversation)
            .filter(|o| {
                o.inbox_id == c.inbox_id
                    && o.status == ConversationStatus::Open
                    && o.assignee_id.is_none()
                    && (o.created_at, o.id) < key
            })
            .count();
        Some(ahead + 1)
    }

    /// For a conversation that just became open: if its assignee cannot take
    /// it (away, or no longer a collaborator) and the inbox assigns
    /// automatically, it goes through assignment again. Returns the activity
    /// line, if the assignee changed.
    pub fn reassign_if_absent(&mut self, c: &mut Conversation, now: i64) -> Option<String> {
        let rules = self.rules(c.inbox_id)?;
        if !rules.enabled || c.status != ConversationStatus::Open {
            return None;
        }
        let previous = c.assignee_id?;
        if self.eligible(c.inbox_id, previous) {
            return None;
        }
        let name = self.agent_name(previous);
        // The absent assignee's slot must not count against the new pick.
        c.assignee_id = None;
        c.auto_assigned_at = None;
        self.update(c.clone());
        Some(match self.auto_pick(c.inbox_id) {
            Some(agent) => {
                c.assignee_id = Some(agent);
                c.auto_assigned_at = Some(now);
                format!(
                    "Assigned to {} automatically: {name} is away",
                    self.agent_name(agent)
                )
            }
            None => format!("Returned to the queue: {name} is away"),
        })
    }

    /// With queue pull on, gives waiting conversations of the inbox, oldest
    /// first, to agents with room. Returns the conversations it assigned,
    /// already recorded in the shard.
    pub fn pull(&mut self, inbox_id: i64, now: i64) -> Vec<Conversation> {
        let Some(rules) = self.rules(inbox_id) else {
            return Vec::new();
        };
        if !rules.enabled || !rules.assign_from_queue {
            return Vec::new();
        }
        let mut assigned = Vec::new();
        for (_, id) in self.waiting(inbox_id) {
            let Some(agent) = self.auto_pick(inbox_id) else {
                break;
            };
            if let Some(live) = self.conversations.get(&id) {
                let mut c = live.conversation.clone();
                c.assignee_id = Some(agent);
                c.auto_assigned_at = Some(now);
                self.update(c.clone());
                assigned.push(c);
            }
        }
        assigned
    }

    /// Unassigns the unresolved conversations of agents who are no longer
    /// collaborators of their inbox (removed from it, or from the account),
    /// so nothing waits on someone who will never see it. Returns each
    /// changed conversation with its activity line.
    pub fn release_non_members(&mut self) -> Vec<(Conversation, String)> {
        let Some(roster) = &self.roster else {
            return Vec::new();
        };
        let stranded: Vec<Conversation> = self
            .conversations
            .values()
            .map(|l| &l.conversation)
            .filter(|c| c.status != ConversationStatus::Resolved)
            .filter(|c| match (c.assignee_id, roster.inboxes.get(&c.inbox_id)) {
                (Some(agent), Some(inbox)) => !inbox.members.contains(&agent),
                _ => false,
            })
            .cloned()
            .collect();
        let mut released = Vec::new();
        for mut c in stranded {
            let name = self.agent_name(c.assignee_id.unwrap_or_default());
            c.assignee_id = None;
            c.auto_assigned_at = None;
            self.update(c.clone());
            released.push((
                c,
                format!("Returned to the queue: {name} is no longer a collaborator"),
            ));
        }
        released
    }

    /// Applies the inboxes' time rules as of `now`: conversations of agents
    /// away past the grace period return to the queue (`on_agent_offline:
    /// requeue`), and automatically assigned conversations the assignee has
    /// not answered within `reassign_after_seconds` move to the next
    /// eligible agent or the queue. Returns each change with its line.
    pub fn sweep(&mut self, now: i64) -> Vec<(Conversation, String)> {
        let Some(roster) = &self.roster else {
            return Vec::new();
        };
        let mut due: Vec<(Conversation, Due)> = Vec::new();
        for live in self.conversations.values() {
            let c = &live.conversation;
            let (Some(agent), Some(inbox)) = (c.assignee_id, roster.inboxes.get(&c.inbox_id))
            else {
                continue;
            };
            if c.status != ConversationStatus::Open || !inbox.rules.enabled {
                continue;
            }
            let away = roster.agents.get(&agent).and_then(|a| a.away_since);
            if inbox.rules.requeue_offline
                && away.is_some_and(|t| t + inbox.rules.offline_grace <= now)
            {
                due.push((c.clone(), Due::Away));
            } else if let (Some(wait), Some(at)) = (inbox.rules.reassign_after, c.auto_assigned_at)
            {
                if at + wait <= now {
                    due.push((c.clone(), Due::NoReply(wait)));
                }
            }
        }
        due.sort_unstable_by_key(|(c, _)| c.id);
        let mut changed = Vec::new();
        for (mut c, why) in due {
            let from = c.assignee_id.unwrap_or_default();
            let name = self.agent_name(from);
            c.assignee_id = None;
            c.auto_assigned_at = None;
            self.update(c.clone());
            let line = match why {
                Due::Away => format!("Returned to the queue: {name} went offline"),
                Due::NoReply(wait) => match self.auto_pick_except(c.inbox_id, Some(from)) {
                    Some(next) => {
                        c.assignee_id = Some(next);
                        c.auto_assigned_at = Some(now);
                        self.update(c.clone());
                        format!(
                            "Reassigned to {} automatically: no reply from {name} in {wait} seconds",
                            self.agent_name(next)
                        )
                    }
                    None => {
                        format!("Returned to the queue: no reply from {name} in {wait} seconds")
                    }
                },
            };
            changed.push((c, line));
        }
        changed
    }

    /// Whether [`ShardState::sweep`] would change anything at `now`.
    pub fn anything_due(&self, now: i64) -> bool {
        let Some(roster) = &self.roster else {
            return false;
        };
        let grace = roster
            .inboxes
            .values()
            .filter(|i| i.rules.requeue_offline)
            .map(|i| i.rules.offline_grace)
            .min();
        let away_due = grace.is_some_and(|grace| {
            roster
                .agents
                .values()
                .any(|a| a.away_since.is_some_and(|t| t + grace <= now))
        });
        let reply_due = roster
            .inboxes
            .values()
            .any(|i| i.rules.reassign_after.is_some())
            && self
                .conversations
                .values()
                .any(|l| l.conversation.auto_assigned_at.is_some());
        away_due || reply_due
    }

    /// Every inbox of the roster, for pulling after a settings change.
    pub fn roster_inboxes(&self) -> Vec<i64> {
        self.roster
            .as_ref()
            .map(|r| r.inboxes.keys().copied().collect())
            .unwrap_or_default()
    }
}
