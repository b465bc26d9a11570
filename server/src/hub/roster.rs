//! Loading an account's assignment settings into its shard, and reloading
//! them after an administrator changes inboxes, collaborators or agents.

use std::collections::HashMap;

use std::sync::Arc;

use super::routing::{AgentEntry, Directory, InboxRoster, Roster};
use super::{Hub, HubResult, NewMessage};
use crate::assign::{AgentState, InboxRules};
use crate::store::{now, WriteOp};
use switchboard_protocol::api::OnAgentOffline;

impl Hub {
    /// Reads the account's inboxes, collaborators and agents from the store.
    async fn load_roster(&self, account_id: i64) -> HubResult<Roster> {
        let mut roster = Roster::default();
        let mut directory = Directory::default();
        for inbox in self.store.list_inboxes(account_id).await? {
            let members = self.store.list_members(account_id, inbox.id).await?;
            let config = &inbox.auto_assignment_config;
            roster.inboxes.insert(
                inbox.id,
                InboxRoster {
                    rules: InboxRules {
                        enabled: inbox.enable_auto_assignment,
                        max_per_agent: config.max_assignment_limit,
                        policy: config.policy,
                        assign_from_queue: config.assign_from_queue,
                        requeue_offline: config.on_agent_offline == OnAgentOffline::Requeue,
                        offline_grace: i64::from(config.offline_grace_seconds.unwrap_or(60)),
                        reassign_after: config.reassign_after_seconds.map(i64::from),
                    },
                    members: members.iter().map(|a| a.user.id).collect(),
                },
            );
            directory.inboxes.insert(inbox.id, inbox);
        }
        for agent in self.store.list_agents(account_id).await? {
            roster.agents.insert(
                agent.user.id,
                AgentEntry {
                    state: AgentState {
                        agent_id: agent.user.id,
                        availability: agent.availability,
                        auto_offline: agent.auto_offline,
                        connections: 0,
                        max_total: agent.max_concurrent_conversations,
                    },
                    name: agent.user.available_name().to_string(),
                    away_since: None,
                },
            );
            directory.agents.insert(agent.user.id, agent);
        }
        directory.account_name = self.store.account_name(account_id).await?;
        directory.webhooks = self.store.list_webhooks(account_id).await?;
        directory.crm = self
            .store
            .list_hooks(account_id)
            .await?
            .into_iter()
            .filter(|h| h.enabled && h.app_id == crate::crm::AGENDOR)
            .find_map(|h| Some((crate::crm::AgendorSettings::from_stored(&h.settings)?, h)))
            .map(|(settings, hook)| (hook, settings));
        roster.directory = Arc::new(directory);
        Ok(roster)
    }

    /// Whether the account's settings are already in memory.
    pub fn has_account(&self, account_id: i64) -> bool {
        self.loaded_shard(account_id)
            .is_some_and(|shard| Self::lock(&shard).roster.is_some())
    }

    /// The account's agents and inboxes, from memory.
    pub async fn directory(&self, account_id: i64) -> HubResult<Arc<Directory>> {
        self.ensure_roster(account_id).await?;
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        Ok(state
            .roster
            .as_ref()
            .map(|r| r.directory.clone())
            .unwrap_or_default())
    }

    /// Loads the account's roster unless the shard already has it.
    pub(super) async fn ensure_roster(&self, account_id: i64) -> HubResult<()> {
        // Cluster mode: an account this node does not own has no settings
        // here, which must not read as an account without any.
        if !self.owns(account_id) {
            return Err(super::HubError::Moved);
        }
        let shard = self.shard(account_id);
        self.fresh(account_id).await?;
        if Self::lock(&shard).roster.is_some() {
            return Ok(());
        }
        let mut roster = self.load_roster(account_id).await?;
        // Whoever is away now starts their grace period now.
        let at = now();
        for agent in roster.agents.values_mut() {
            if !agent.state.eligible() {
                agent.away_since = Some(at);
            }
        }
        let mut state = Self::lock(&shard);
        if state.roster.is_none() {
            state.roster = Some(roster);
        }
        Ok(())
    }

    /// Re-reads the account's settings after a change (inbox rules,
    /// collaborators, agents, availability), keeping who is connected, then
    /// gives waiting conversations to whoever now has room (queue pull).
    pub async fn reload_roster(&self, account_id: i64) -> HubResult<()> {
        self.fresh(account_id).await?;
        let mut roster = self.load_roster(account_id).await?;
        let slot = self.slot().await?;
        let shard = self.shard(account_id);
        let durable = {
            let mut state = Self::lock(&shard);
            let connected: HashMap<i64, u32> = state
                .roster
                .as_ref()
                .map(|r| {
                    r.agents
                        .iter()
                        .map(|(id, a)| (*id, a.state.connections))
                        .collect()
                })
                .unwrap_or_default();
            let at = now();
            for (id, agent) in roster.agents.iter_mut() {
                agent.state.connections = connected.get(id).copied().unwrap_or(0);
                let before = state.roster.as_ref().and_then(|r| r.agents.get(id));
                agent.away_since = match (agent.state.eligible(), before) {
                    (true, _) => None,
                    (false, Some(b)) if !b.state.eligible() => b.away_since.or(Some(at)),
                    (false, _) => Some(at),
                };
            }
            // Names of agents who just left are still needed for the lines.
            let old_names: Vec<(i64, AgentEntry)> = state
                .roster
                .as_ref()
                .map(|r| r.agents.iter().map(|(id, a)| (*id, a.clone())).collect())
                .unwrap_or_default();
            for (id, entry) in old_names {
                roster.agents.entry(id).or_insert(AgentEntry {
                    state: AgentState {
                        connections: 0,
                        ..entry.state
                    },
                    ..entry
                });
            }
            state.roster = Some(roster);
            let mut ops = Vec::new();
            for (c, line) in state.release_non_members() {
                ops.push(WriteOp::UpdateConversation(c.clone()));
                let message = self.message(c.account_id, c.id, NewMessage::activity(line), at);
                ops.push(WriteOp::InsertMessage(message));
            }
            for inbox in state.roster_inboxes() {
                self.pulled(&mut state, inbox, at, &mut ops);
            }
            self.publish_presence(&state);
            if ops.is_empty() {
                // Nothing moved: release the slot instead of committing nothing.
                return Ok(());
            }
            self.commit(&mut state, slot, ops)
        };
        Self::durable(durable).await
    }
}
