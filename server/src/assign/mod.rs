//! The assignment engine: who gets a new conversation of an inbox.
//!
//! Pure functions over a snapshot of the account's shard, no I/O and no
//! clock, so every rule can be tested exhaustively. The hub calls [`pick`]
//! while it holds the shard's lock and records the choice in the same
//! critical section, which is what makes the caps exact under any load.

use switchboard_protocol::api::Availability;

/// How an inbox spreads its conversations (`auto_assignment_config.policy`).
pub use switchboard_protocol::api::AssignmentPolicy as Policy;

/// An inbox's assignment rules, as the shard keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxRules {
    /// "Atribuição de conversa" on.
    pub enabled: bool,
    /// Most open conversations of this inbox per agent; `None`: no limit.
    pub max_per_agent: Option<u32>,
    pub policy: Policy,
    /// Waiting conversations go to whoever gets room, oldest first.
    pub assign_from_queue: bool,
    /// An agent away for `offline_grace` seconds hands back their open
    /// conversations.
    pub requeue_offline: bool,
    pub offline_grace: i64,
    /// Seconds an automatically assigned agent has to reply.
    pub reassign_after: Option<i64>,
}

/// One agent as the engine sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    pub agent_id: i64,
    pub availability: Availability,
    /// Without an open console, an `auto_offline` agent counts as offline.
    pub auto_offline: bool,
    /// Open agent-console connections.
    pub connections: u32,
    /// Most open conversations across all inboxes; `None`: no limit.
    pub max_total: Option<u32>,
}

impl AgentState {
    /// Available, and present (a console open, or not `auto_offline`).
    pub fn eligible(&self) -> bool {
        self.availability == Availability::Available && (self.connections > 0 || !self.auto_offline)
    }
}

/// A collaborator of the inbox with what they hold right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: i64,
    /// Eligible (see [`AgentState::eligible`]).
    pub eligible: bool,
    /// Open conversations of this inbox they hold.
    pub open_in_inbox: u32,
    /// Open conversations they hold in every inbox.
    pub open_total: u32,
    /// Their own limit across inboxes.
    pub max_total: Option<u32>,
    /// Order of their latest automatic assignment (higher is more recent;
    /// 0 never).
    pub last_assigned: u64,
}

impl Candidate {
    /// Room under both caps.
    pub fn has_room(&self, rules: &InboxRules) -> bool {
        rules
            .max_per_agent
            .is_none_or(|max| self.open_in_inbox < max)
            && self.max_total.is_none_or(|max| self.open_total < max)
    }
}

/// The agent to give the next conversation to, or `None` (it waits in
/// Unassigned). `cursor` is the agent the inbox's round robin gave the last
/// one to. Candidates may come in any order.
pub fn pick(rules: &InboxRules, candidates: &[Candidate], cursor: Option<i64>) -> Option<i64> {
    if !rules.enabled {
        return None;
    }
    let open = candidates
        .iter()
        .filter(|c| c.eligible && c.has_room(rules));
    match rules.policy {
        Policy::RoundRobin => {
            // The next agent id after the cursor, wrapping to the smallest:
            // one pass, no sorting, whatever order the candidates come in.
            let after = cursor.unwrap_or(i64::MIN);
            let (mut next, mut first): (Option<i64>, Option<i64>) = (None, None);
            for c in open {
                let id = c.agent_id;
                if id > after && next.is_none_or(|n| id < n) {
                    next = Some(id);
                }
                if first.is_none_or(|f| id < f) {
                    first = Some(id);
                }
            }
            next.or(first)
        }
        Policy::Balanced => open
            .min_by_key(|c| (c.open_in_inbox, c.last_assigned, c.agent_id))
            .map(|c| c.agent_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(agent_id: i64, open_in_inbox: u32) -> Candidate {
        Candidate {
            agent_id,
            eligible: true,
            open_in_inbox,
            open_total: open_in_inbox,
            max_total: None,
            last_assigned: 0,
        }
    }

    fn rules(policy: Policy, max: Option<u32>) -> InboxRules {
        InboxRules {
            enabled: true,
            max_per_agent: max,
            policy,
            ..InboxRules::default()
        }
    }

    #[test]
    fn disabled_inboxes_assign_nobody() {
        let off = InboxRules::default();
        assert_eq!(pick(&off, &[candidate(1, 0)], None), None);
    }

    #[test]
    fn round_robin_rotates_and_skips_the_full_and_the_absent() {
        let r = rules(Policy::RoundRobin, Some(2));
        let mut c = vec![candidate(3, 0), candidate(1, 0), candidate(2, 2)];
        assert_eq!(pick(&r, &c, None), Some(1));
        assert_eq!(pick(&r, &c, Some(1)), Some(3), "2 is full");
        assert_eq!(pick(&r, &c, Some(3)), Some(1), "wraps around");
        c[1].eligible = false;
        assert_eq!(pick(&r, &c, Some(3)), Some(3), "1 is away");
        c[0].open_in_inbox = 2;
        assert_eq!(pick(&r, &c, Some(3)), None, "everyone full or away");
    }

    #[test]
    fn balanced_prefers_the_freer_then_the_longest_waiting() {
        let r = rules(Policy::Balanced, None);
        let mut c = vec![candidate(1, 3), candidate(2, 1), candidate(3, 1)];
        c[1].last_assigned = 9;
        c[2].last_assigned = 4;
        assert_eq!(pick(&r, &c, None), Some(3));
        c[2].open_in_inbox = 2;
        assert_eq!(pick(&r, &c, None), Some(2));
    }

    #[test]
    fn both_caps_must_hold() {
        let r = rules(Policy::RoundRobin, Some(5));
        let mut c = candidate(1, 1);
        c.open_total = 3;
        c.max_total = Some(3);
        assert_eq!(pick(&r, &[c], None), None, "full across inboxes");
        c.max_total = Some(4);
        assert_eq!(pick(&r, &[c], None), Some(1));
    }

    #[test]
    fn eligibility_needs_available_and_present() {
        let mut a = AgentState {
            agent_id: 1,
            availability: Availability::Available,
            auto_offline: true,
            connections: 0,
            max_total: None,
        };
        assert!(!a.eligible(), "auto_offline without a console is offline");
        a.connections = 1;
        assert!(a.eligible());
        a.availability = Availability::Busy;
        assert!(!a.eligible());
        a.availability = Availability::Available;
        a.connections = 0;
        a.auto_offline = false;
        assert!(
            a.eligible(),
            "auto_offline off: the chosen availability holds"
        );
    }
}
