//! Property tests of automatic assignment on a shard: random sequences of
//! create / resolve / reopen / assign / unassign / availability, membership
//! and cap changes, with the invariants checked after every step.

use std::collections::HashMap;

use proptest::prelude::*;
use switchboard_protocol::api::Availability;

use super::routing::{AgentEntry, InboxRoster, Roster};
use super::shard::{Echoes, LiveConversation, ShardState};
use crate::assign::{AgentState, InboxRules, Policy};
use crate::store::{Conversation, ConversationStatus};

const INBOXES: i64 = 2;
const AGENTS: i64 = 5;

#[derive(Debug, Clone)]
enum Op {
    Create(i64),
    Resolve(usize),
    Reopen(usize),
    Assign(usize, i64),
    Unassign(usize),
    Availability(i64, bool),
    ToggleMember(i64, i64),
    InboxCap(i64, Option<u32>),
    AgentCap(i64, Option<u32>),
}

fn op() -> impl Strategy<Value = Op> {
    let cap = proptest::option::of(1u32..4);
    prop_oneof![
        4 => (0..INBOXES).prop_map(Op::Create),
        2 => any::<usize>().prop_map(Op::Resolve),
        1 => any::<usize>().prop_map(Op::Reopen),
        1 => (any::<usize>(), 1..=AGENTS).prop_map(|(c, a)| Op::Assign(c, a)),
        1 => any::<usize>().prop_map(Op::Unassign),
        1 => (1..=AGENTS, any::<bool>()).prop_map(|(a, on)| Op::Availability(a, on)),
        1 => (0..INBOXES, 1..=AGENTS).prop_map(|(i, a)| Op::ToggleMember(i, a)),
        1 => (0..INBOXES, cap.clone()).prop_map(|(i, m)| Op::InboxCap(i, m)),
        1 => (1..=AGENTS, cap).prop_map(|(a, m)| Op::AgentCap(a, m)),
    ]
}

fn shard(policy: Policy, pull: bool) -> ShardState {
    let mut roster = Roster::default();
    for inbox in 0..INBOXES {
        roster.inboxes.insert(
            inbox,
            InboxRoster {
                rules: InboxRules {
                    enabled: true,
                    max_per_agent: Some(2),
                    policy,
                    assign_from_queue: pull,
                    ..InboxRules::default()
                },
                members: (1..=AGENTS).collect(),
            },
        );
    }
    for agent in 1..=AGENTS {
        roster.agents.insert(
            agent,
            AgentEntry {
                state: AgentState {
                    agent_id: agent,
                    availability: Availability::Available,
                    auto_offline: false,
                    connections: 0,
                    max_total: None,
                },
                name: format!("agent {agent}"),
                away_since: None,
            },
        );
    }
    let mut state = ShardState::default();
    state.roster = Some(roster);
    state
}

/// Asserts that an automatic pick respected both caps.
fn within_caps(state: &ShardState, inbox: i64, agent: i64) {
    let roster = state.roster.as_ref().expect("roster");
    if let Some(max) = roster.inboxes[&inbox].rules.max_per_agent {
        assert!(state.open_count(inbox, agent) <= max, "inbox cap passed");
    }
    if let Some(max) = roster.agents[&agent].state.max_total {
        assert!(state.open_total(agent) <= max, "agent cap passed");
    }
}

/// Asserts the balanced pick took (one of) the freest eligible agents.
fn freest(state: &ShardState, inbox: i64, picked: i64, before: &HashMap<i64, u32>) {
    let roster = state.roster.as_ref().expect("roster");
    let rules = roster.inboxes[&inbox].rules;
    if rules.policy != Policy::Balanced {
        return;
    }
    let room = |a: &i64| {
        let agent = &roster.agents[a].state;
        agent.eligible()
            && rules.max_per_agent.is_none_or(|m| before[a] < m)
            && agent
                .max_total
                .is_none_or(|m| state.open_total(*a) - u32::from(*a == picked) < m)
    };
    let min = roster.inboxes[&inbox]
        .members
        .iter()
        .filter(|a| room(a))
        .map(|a| before[a])
        .min();
    assert_eq!(Some(before[&picked]), min, "balanced picked a busier agent");
}

fn counts_of(state: &ShardState, inbox: i64) -> HashMap<i64, u32> {
    (1..=AGENTS)
        .map(|a| (a, state.open_count(inbox, a)))
        .collect()
}

fn pull_checked(state: &mut ShardState, inbox: i64) {
    for c in state.pull(inbox, 0) {
        within_caps(
            state,
            inbox,
            c.assignee_id.expect("pulled conversations are assigned"),
        );
    }
}

fn apply(state: &mut ShardState, op: &Op, next_id: &mut i64) {
    let ids: Vec<i64> = {
        let mut ids: Vec<i64> = state.conversations.keys().copied().collect();
        ids.sort_unstable();
        ids
    };
    let nth = |n: &usize| (!ids.is_empty()).then(|| ids[n % ids.len()]);
    let get = |state: &ShardState, id: i64| state.conversations[&id].conversation.clone();
    match op {
        Op::Create(inbox) => {
            *next_id += 1;
            let before = counts_of(state, *inbox);
            let assignee = state.auto_pick(*inbox);
            state.insert(LiveConversation {
                conversation: Conversation {
                    id: *next_id,
                    account_id: 1,
                    inbox_id: *inbox,
                    contact_id: 1,
                    contact_inbox_id: None,
                    status: ConversationStatus::Open,
                    assignee_id: assignee,
                    snoozed_until: None,
                    created_at: *next_id,
                    last_activity_at: *next_id,
                    auto_assigned_at: None,
                },
                last_message: None,
                last_incoming_at: None,
                echoes: Echoes::warm(),
                queue_position: None,
                hmac_verified: false,
                opened_by: None,
            });
            if let Some(agent) = assignee {
                within_caps(state, *inbox, agent);
                freest(state, *inbox, agent, &before);
            }
        }
        Op::Resolve(n) | Op::Unassign(n) => {
            if let Some(id) = nth(n) {
                let mut c = get(state, id);
                match op {
                    Op::Resolve(_) => c.status = ConversationStatus::Resolved,
                    _ => c.assignee_id = None,
                }
                state.update(c.clone());
                pull_checked(state, c.inbox_id);
            }
        }
        Op::Reopen(n) => {
            if let Some(id) = nth(n) {
                let mut c = get(state, id);
                if c.status != ConversationStatus::Open {
                    c.status = ConversationStatus::Open;
                    state.reassign_if_absent(&mut c, 0);
                    state.update(c.clone());
                    pull_checked(state, c.inbox_id);
                }
            }
        }
        Op::Assign(n, agent) => {
            if let Some(id) = nth(n) {
                let mut c = get(state, id);
                // Manual assignment: any collaborator, whatever their load.
                if state.roster.as_ref().expect("roster").inboxes[&c.inbox_id]
                    .members
                    .contains(agent)
                {
                    let from = c.assignee_id;
                    c.assignee_id = Some(*agent);
                    state.update(c.clone());
                    if from.is_some() && from != Some(*agent) {
                        pull_checked(state, c.inbox_id);
                    }
                }
            }
        }
        Op::Availability(..) | Op::ToggleMember(..) | Op::InboxCap(..) | Op::AgentCap(..) => {
            let roster = state.roster.as_mut().expect("roster");
            match op {
                Op::Availability(agent, on) => {
                    let a = &mut roster.agents.get_mut(agent).expect("agent").state;
                    a.availability = if *on {
                        Availability::Available
                    } else {
                        Availability::Busy
                    };
                }
                Op::ToggleMember(inbox, agent) => {
                    let members = &mut roster.inboxes.get_mut(inbox).expect("inbox").members;
                    match members.iter().position(|m| m == agent) {
                        Some(i) => {
                            members.remove(i);
                        }
                        None => members.push(*agent),
                    }
                }
                Op::InboxCap(inbox, max) => {
                    roster
                        .inboxes
                        .get_mut(inbox)
                        .expect("inbox")
                        .rules
                        .max_per_agent = *max;
                }
                Op::AgentCap(agent, max) => {
                    roster.agents.get_mut(agent).expect("agent").state.max_total = *max;
                }
                _ => {}
            }
            state.release_non_members();
            for inbox in 0..INBOXES {
                pull_checked(state, inbox);
            }
        }
    }
}

fn check(state: &ShardState) {
    let roster = state.roster.as_ref().expect("roster");
    let mut recount: HashMap<(i64, i64), u32> = HashMap::new();
    let mut totals: HashMap<i64, u32> = HashMap::new();
    for live in state.conversations.values() {
        let c = &live.conversation;
        if let Some(agent) = c.assignee_id {
            if c.status != ConversationStatus::Resolved {
                assert!(
                    roster.inboxes[&c.inbox_id].members.contains(&agent),
                    "conversation {} held by a non-collaborator",
                    c.id
                );
            }
            if c.status == ConversationStatus::Open {
                *recount.entry((c.inbox_id, agent)).or_default() += 1;
                *totals.entry(agent).or_default() += 1;
            }
        }
    }
    for inbox in 0..INBOXES {
        for agent in 1..=AGENTS {
            let expected = recount.get(&(inbox, agent)).copied().unwrap_or(0);
            assert_eq!(state.open_count(inbox, agent), expected, "count drifted");
        }
    }
    for agent in 1..=AGENTS {
        assert_eq!(
            state.open_total(agent),
            totals.get(&agent).copied().unwrap_or(0)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_step(
        ops in proptest::collection::vec(op(), 1..200),
        balanced in any::<bool>(),
        pull in any::<bool>(),
    ) {
        let policy = if balanced { Policy::Balanced } else { Policy::RoundRobin };
        let mut state = shard(policy, pull);
        let mut next_id = 0;
        for op in &ops {
            apply(&mut state, op, &mut next_id);
            check(&state);
        }
    }

    #[test]
    fn round_robin_spreads_within_one(creates in 1usize..60) {
        let mut state = shard(Policy::RoundRobin, false);
        if let Some(roster) = state.roster.as_mut() {
            roster.inboxes.get_mut(&0).expect("inbox").rules.max_per_agent = None;
        }
        let mut next_id = 0;
        for _ in 0..creates {
            apply(&mut state, &Op::Create(0), &mut next_id);
        }
        let loads: Vec<u32> = (1..=AGENTS).map(|a| state.open_count(0, a)).collect();
        let spread = loads.iter().max().unwrap_or(&0) - loads.iter().min().unwrap_or(&0);
        prop_assert!(spread <= 1, "loads {:?}", loads);
    }
}

/// Opens a conversation at `at` in inbox 0 the way the hub does.
fn open_at(state: &mut ShardState, id: i64, at: i64) -> Option<i64> {
    let assignee = state.auto_pick(0);
    let mut live = LiveConversation::new(Conversation {
        id,
        account_id: 1,
        inbox_id: 0,
        contact_id: 1,
        contact_inbox_id: None,
        status: ConversationStatus::Open,
        assignee_id: assignee,
        snoozed_until: None,
        created_at: at,
        last_activity_at: at,
        auto_assigned_at: assignee.map(|_| at),
    });
    live.queue_position = None;
    state.insert(live);
    assignee
}

fn set_rules(state: &mut ShardState, change: impl Fn(&mut InboxRules)) {
    if let Some(roster) = state.roster.as_mut() {
        for inbox in roster.inboxes.values_mut() {
            change(&mut inbox.rules);
        }
    }
}

#[test]
fn no_reply_moves_the_conversation_on_time() {
    let mut state = shard(Policy::RoundRobin, false);
    set_rules(&mut state, |r| r.reassign_after = Some(30));
    let first = open_at(&mut state, 1, 100).expect("assigned");
    assert!(state.sweep(129).is_empty(), "not yet");
    let moved = state.sweep(130);
    assert_eq!(moved.len(), 1);
    let (c, line) = &moved[0];
    let next = c.assignee_id.expect("reassigned");
    assert_ne!(next, first);
    assert!(
        line.starts_with(&format!("Reassigned to agent {next} automatically")),
        "{line}"
    );
    assert_eq!(state.open_count(0, first), 0);
    assert_eq!(state.open_count(0, next), 1);
    // An answered conversation is left alone.
    let mut answered = state.conversations[&1].conversation.clone();
    answered.auto_assigned_at = None;
    state.update(answered);
    assert!(state.sweep(1000).is_empty());
}

#[test]
fn away_agents_hand_back_after_the_grace_period() {
    let mut state = shard(Policy::RoundRobin, false);
    set_rules(&mut state, |r| {
        r.requeue_offline = true;
        r.offline_grace = 60;
    });
    let agent = open_at(&mut state, 1, 100).expect("assigned");
    if let Some(entry) = state.roster.as_mut().and_then(|r| r.agents.get_mut(&agent)) {
        entry.state.availability = Availability::Offline;
        entry.away_since = Some(200);
    }
    assert!(!state.anything_due(259));
    assert!(state.sweep(259).is_empty());
    assert!(state.anything_due(260));
    let back = state.sweep(260);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].0.assignee_id, None);
    assert_eq!(
        back[0].1,
        format!("Returned to the queue: agent {agent} went offline")
    );
    assert_eq!(state.open_count(0, agent), 0);
}
