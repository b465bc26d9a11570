//! The live state of one account: its conversations, who holds each, and how
//! many open conversations every agent holds per inbox. Plain data behind the
//! shard's mutex; nothing here awaits or does I/O.

use std::collections::{HashMap, HashSet, VecDeque};

use rustc_hash::FxHashMap;
use std::sync::Arc;

use super::feed::{ConversationChange, Feed, FeedItem};
use super::writer::Durable;
use crate::store::{Conversation, ConversationStatus, Message};

/// Conversations per page of a list, as Chatwoot.
pub const PAGE_SIZE: usize = 25;

/// Echo ids remembered per conversation, to answer retries with the first message.
const ECHOES_KEPT: usize = 256;

/// A conversation as the hub keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LiveConversation {
    pub conversation: Conversation,
    /// The newest message that is not an activity, for list previews.
    pub last_message: Option<Arc<Message>>,
    /// When the contact last wrote (Unix seconds): WhatsApp takes free
    /// text only within 24 hours of it (`can_reply`).
    pub last_incoming_at: Option<i64>,
    #[serde(skip)]
    pub(super) echoes: Echoes,
    /// Place in the inbox's queue while waiting unassigned; filled in on reads.
    pub queue_position: Option<usize>,
    /// Its visitor's link was handed out only to sessions that signed their
    /// identity (Chatwoot's `meta.hmac_verified`); kept by the shard, which
    /// knows the account's verified links.
    pub hmac_verified: bool,
    /// The start that opened it, while a retry of that start may come
    /// (see `Hub::create_conversation`); kept by the shard only.
    #[serde(skip)]
    pub(super) opened_by: Option<Opened>,
}

/// A conversation's opening start: its echo id, first message and commit.
#[derive(Debug, Clone)]
pub(super) struct Opened {
    pub echo: Arc<str>,
    pub message_id: Option<i64>,
    pub durable: Durable,
}

impl LiveConversation {
    /// A copy for readers (the API, the realtime endpoints): everything but
    /// the echo cache, which only the shard uses and which holds up to
    /// `ECHOES_KEPT` entries: copying it on every read cost more than the
    /// rest of a visitor's message put together.
    pub fn snapshot(&self) -> LiveConversation {
        LiveConversation {
            conversation: self.conversation.clone(),
            last_message: self.last_message.clone(),
            last_incoming_at: self.last_incoming_at,
            echoes: Echoes::default(),
            queue_position: self.queue_position,
            hmac_verified: self.hmac_verified,
            opened_by: None,
        }
    }

    /// A conversation this process just created, without messages yet.
    pub fn new(conversation: Conversation) -> LiveConversation {
        LiveConversation {
            conversation,
            last_message: None,
            last_incoming_at: None,
            echoes: Echoes::warm(),
            queue_position: None,
            hmac_verified: false,
            opened_by: None,
        }
    }
}

/// Recent messages' ids by their client echo id. `warm` once every echo id
/// the database holds for this conversation has been loaded (or it was
/// created by this process), so a miss means "new". Only ids are kept: a
/// retry is rare, and reads its message back from the store, while holding
/// `ECHOES_KEPT` whole messages per conversation costs hundreds of
/// megabytes at ten thousand busy conversations.
#[derive(Debug, Clone, Default)]
pub(super) struct Echoes {
    pub warm: bool,
    order: VecDeque<String>,
    by_echo: HashMap<String, (i64, Durable)>,
}

impl Echoes {
    /// For a conversation this process creates: nothing older to load.
    pub(super) fn warm() -> Echoes {
        Echoes {
            warm: true,
            ..Echoes::default()
        }
    }

    /// The id of the message sent with this echo id, and its commit.
    pub(super) fn get(&self, echo_id: &str) -> Option<&(i64, Durable)> {
        self.by_echo.get(echo_id)
    }

    pub(super) fn remember(&mut self, message: &Message, durable: Durable) {
        let Some(echo_id) = message.echo_id.clone() else {
            return;
        };
        if self
            .by_echo
            .insert(echo_id.clone(), (message.id, durable))
            .is_none()
        {
            self.order.push_back(echo_id);
            if self.order.len() > ECHOES_KEPT {
                if let Some(old) = self.order.pop_front() {
                    self.by_echo.remove(&old);
                }
            }
        }
    }
}

/// Which conversations a list shows, by assignee (Chatwoot's `assignee_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeType {
    /// Mine: assigned to the caller.
    Me,
    Unassigned,
    /// Assigned to anyone.
    Assigned,
    All,
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct ListFilter {
    pub assignee_type: AssigneeType,
    /// `None`: every status.
    pub status: Option<ConversationStatus>,
    pub inbox_id: Option<i64>,
    /// 1-based.
    pub page: usize,
    /// The caller, for `Me`.
    pub me: i64,
}

/// The tab counts of a list: the same status and inbox filter, by assignee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub mine_count: usize,
    pub unassigned_count: usize,
    pub assigned_count: usize,
    pub all_count: usize,
}

/// The id-keyed maps hash with FxHash: assignment looks several of them up
/// per candidate agent, and ids are ours, never chosen by a caller.
#[derive(Debug, Default)]
pub struct ShardState {
    pub conversations: FxHashMap<i64, LiveConversation>,
    /// Open conversations per (inbox, assignee): what an inbox's
    /// `max_assignment_limit` counts.
    open_counts: FxHashMap<(i64, i64), u32>,
    /// Open conversations per assignee across inboxes: what an agent's own
    /// `max_concurrent_conversations` counts.
    open_totals: FxHashMap<i64, u32>,
    /// Assignment settings and presence; loaded on first use.
    pub roster: Option<super::routing::Roster>,
    /// Per inbox, the agent its round robin served last.
    pub cursors: FxHashMap<i64, i64>,
    /// Per agent, the order of their latest automatic assignment.
    pub last_assigned: FxHashMap<i64, u64>,
    pub assign_seq: u64,
    /// Conversations changed since the last commit, each with its state
    /// before the first change: what the realtime feed reports.
    changes: Vec<(i64, Option<Conversation>)>,
    changed: HashSet<i64>,
    /// Conversation ids by contact: a visitor connecting finds theirs
    /// without scanning the account.
    by_contact: FxHashMap<i64, Vec<i64>>,
    /// Where committed changes go to be pushed to subscribers.
    pub feed: Option<Feed>,
    /// The server's counters (automatic assignments are counted here).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Visitor links (contact_inboxes) handed out only to sessions that
    /// signed their identity, with when that began.
    verified_links: FxHashMap<i64, i64>,
    /// Commits queued so far, and the last one's outcome: a reload waits
    /// for it, and knows whether more came while it read the store.
    pub commits: u64,
    pub last_durable: Option<Durable>,
    /// Memory may be ahead of the database (a refused commit, a poisoned
    /// lock): read it again before the next write. Shared with the writer,
    /// which sets it before it tells the refused write's caller.
    pub stale: Arc<std::sync::atomic::AtomicBool>,
    /// Held while the shard is read again: writes that find it stale wait
    /// for that reload rather than start their own.
    pub reloading: Arc<tokio::sync::Mutex<()>>,
    /// Cluster mode: the lease epoch this node loaded the shard under, which
    /// every commit of it carries (see `crate::cluster`).
    pub epoch: Option<i64>,
    /// Cluster mode: agent consoles open per (node, agent), with the
    /// sequence number of the node's latest report (see
    /// [`super::Hub::node_consoles`]); their sum is each agent's
    /// `connections`.
    pub node_consoles: FxHashMap<(Arc<str>, i64), (u32, u64)>,
}

/// The (inbox, agent) slot a conversation occupies, if it counts.
fn slot(c: &Conversation) -> Option<(i64, i64)> {
    match (c.status, c.assignee_id) {
        (ConversationStatus::Open, Some(agent)) => Some((c.inbox_id, agent)),
        _ => None,
    }
}

impl ShardState {
    pub fn open_count(&self, inbox_id: i64, agent_id: i64) -> u32 {
        self.open_counts
            .get(&(inbox_id, agent_id))
            .copied()
            .unwrap_or(0)
    }

    pub fn open_total(&self, agent_id: i64) -> u32 {
        self.open_totals.get(&agent_id).copied().unwrap_or(0)
    }

    fn count(&mut self, c: &Conversation, delta: i32) {
        if let Some(key) = slot(c) {
            let n = self.open_counts.entry(key).or_insert(0);
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                self.open_counts.remove(&key);
            }
            let total = self.open_totals.entry(key.1).or_insert(0);
            *total = total.saturating_add_signed(delta);
            if *total == 0 {
                self.open_totals.remove(&key.1);
            }
        }
    }

    /// Remembers a conversation's state before its first change since the
    /// last [`ShardState::take_changes`].
    fn note(&mut self, id: i64, before: Option<&Conversation>) {
        // Most commits change one or two conversations: a short scan beats
        // hashing; the set takes over for big ones (pulls, sweeps).
        const SCAN: usize = 8;
        let seen = if self.changes.len() < SCAN {
            self.changes.iter().any(|(c, _)| *c == id)
        } else {
            if self.changed.is_empty() {
                self.changed.extend(self.changes.iter().map(|(c, _)| *c));
            }
            !self.changed.insert(id)
        };
        if !seen {
            self.changes.push((id, before.cloned()));
        }
    }

    /// The conversations changed since the last call, before and after.
    /// A conversation created and removed in between is left out.
    pub fn take_changes(&mut self) -> Vec<ConversationChange> {
        self.changed.clear();
        let changes = std::mem::take(&mut self.changes);
        changes
            .into_iter()
            .filter_map(|(id, before)| {
                let after = self.conversations.get(&id);
                if let (Some(b), Some(a)) = (&before, after) {
                    let a = &a.conversation;
                    // Only the activity time moved (a message): the
                    // message's own event says it.
                    if (b.status, b.assignee_id, b.snoozed_until)
                        == (a.status, a.assignee_id, a.snoozed_until)
                    {
                        return None;
                    }
                }
                let after = after.map(|l| LiveConversation {
                    conversation: l.conversation.clone(),
                    last_message: l.last_message.clone(),
                    last_incoming_at: l.last_incoming_at,
                    echoes: Echoes::default(),
                    queue_position: None,
                    hmac_verified: l.hmac_verified,
                    opened_by: None,
                });
                (before.is_some() || after.is_some())
                    .then_some(ConversationChange { before, after })
            })
            .collect()
    }

    /// Whether a conversation opened at `at` through `link` is with a
    /// verified visitor: the link was verified by then. What was written
    /// before (perhaps by whoever held an anonymous token) is not vouched for.
    pub fn verified(&self, link: Option<i64>, at: i64) -> bool {
        link.and_then(|l| self.verified_links.get(&l))
            .is_some_and(|since| *since <= at)
    }

    /// The link was verified at `at` (Unix seconds).
    pub fn verify_link(&mut self, link: i64, at: i64) {
        self.verified_links.entry(link).or_insert(at);
    }

    pub fn insert(&mut self, live: LiveConversation) {
        let old = self
            .conversations
            .get(&live.conversation.id)
            .map(|l| l.conversation.clone());
        self.note(live.conversation.id, old.as_ref());
        self.count(&live.conversation, 1);
        let (id, contact) = (live.conversation.id, live.conversation.contact_id);
        match self.conversations.insert(id, live) {
            Some(old) => self.count(&old.conversation, -1),
            None => self.by_contact.entry(contact).or_default().push(id),
        }
    }

    /// The conversation (first message, commit) a start with `echo` opened:
    /// the newest of `new`'s contact link, if that start opened it within
    /// `START_RETRIED_WITHIN` of `now`.
    pub fn started_with(
        &self,
        new: &super::NewConversation,
        echo: &str,
        now: i64,
    ) -> Option<(i64, Option<i64>, Durable)> {
        let newest = self
            .of_contact(new.contact_id)
            .iter()
            .filter_map(|id| self.conversations.get(id))
            .filter(|l| {
                l.conversation.inbox_id == new.inbox_id
                    && l.conversation.contact_inbox_id == new.contact_inbox_id
            })
            .max_by_key(|l| l.conversation.id)?;
        let opened = newest.opened_by.as_ref()?;
        let recent = now - newest.conversation.created_at <= super::changes::START_RETRIED_WITHIN;
        (recent && &*opened.echo == echo).then(|| {
            (
                newest.conversation.id,
                opened.message_id,
                opened.durable.clone(),
            )
        })
    }

    /// The ids of a contact's conversations.
    pub fn of_contact(&self, contact_id: i64) -> &[i64] {
        self.by_contact
            .get(&contact_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Replaces a conversation's state, moving its slot in the counts.
    pub fn update(&mut self, conversation: Conversation) {
        let Some(old) = self
            .conversations
            .get(&conversation.id)
            .map(|l| l.conversation.clone())
        else {
            return;
        };
        self.note(conversation.id, Some(&old));
        self.count(&conversation, 1);
        if let Some(live) = self.conversations.get_mut(&conversation.id) {
            let old = std::mem::replace(&mut live.conversation, conversation);
            self.count(&old, -1);
        }
    }

    pub fn remove(&mut self, id: i64) -> Option<LiveConversation> {
        let live = self.conversations.remove(&id)?;
        let contact = live.conversation.contact_id;
        if let Some(ids) = self.by_contact.get_mut(&contact) {
            ids.retain(|&c| c != id);
            if ids.is_empty() {
                self.by_contact.remove(&contact);
            }
        }
        self.note(id, Some(&live.conversation));
        self.count(&live.conversation, -1);
        Some(live)
    }

    /// The tab counts and one page of matching conversations, newest
    /// activity first.
    pub fn list(&self, filter: &ListFilter) -> (Counts, Vec<&LiveConversation>) {
        let mut counts = Counts::default();
        let mut matching = Vec::new();
        for live in self.conversations.values() {
            let c = &live.conversation;
            if filter.status.is_some_and(|s| s != c.status)
                || filter.inbox_id.is_some_and(|i| i != c.inbox_id)
            {
                continue;
            }
            counts.all_count += 1;
            match c.assignee_id {
                None => counts.unassigned_count += 1,
                Some(agent) => {
                    counts.assigned_count += 1;
                    if agent == filter.me {
                        counts.mine_count += 1;
                    }
                }
            }
            let shown = match filter.assignee_type {
                AssigneeType::All => true,
                AssigneeType::Unassigned => c.assignee_id.is_none(),
                AssigneeType::Assigned => c.assignee_id.is_some(),
                AssigneeType::Me => c.assignee_id == Some(filter.me),
            };
            if shown {
                matching.push(live);
            }
        }
        matching.sort_unstable_by_key(|l| {
            let c = &l.conversation;
            (
                std::cmp::Reverse(c.last_activity_at),
                std::cmp::Reverse(c.id),
            )
        });
        let start = filter.page.saturating_sub(1).saturating_mul(PAGE_SIZE);
        let page = matching.into_iter().skip(start).take(PAGE_SIZE).collect();
        (counts, page)
    }

    /// Hands an item to the realtime feed (dropped when there is none, as
    /// in unit tests, or its dispatcher has stopped).
    pub fn publish(&self, item: FeedItem) {
        if let Some(feed) = &self.feed {
            feed.push(item);
        }
    }

    /// Every (inbox, agent) open count, for comparing states in tests.
    pub fn open_counts(&self) -> &FxHashMap<(i64, i64), u32> {
        &self.open_counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(
        id: i64,
        inbox: i64,
        status: ConversationStatus,
        assignee: Option<i64>,
    ) -> LiveConversation {
        LiveConversation {
            conversation: Conversation {
                id,
                account_id: 1,
                inbox_id: inbox,
                contact_id: 1,
                contact_inbox_id: None,
                status,
                assignee_id: assignee,
                snoozed_until: None,
                created_at: id,
                last_activity_at: id,
                auto_assigned_at: None,
            },
            last_message: None,
            last_incoming_at: None,
            echoes: Echoes::default(),
            queue_position: None,
            hmac_verified: false,
            opened_by: None,
        }
    }

    #[test]
    fn counts_follow_status_and_assignee() {
        use ConversationStatus::*;
        let mut s = ShardState::default();
        s.insert(conv(1, 10, Open, Some(7)));
        s.insert(conv(2, 10, Open, Some(7)));
        s.insert(conv(3, 10, Pending, Some(7)));
        s.insert(conv(4, 11, Open, Some(7)));
        assert_eq!(s.open_count(10, 7), 2);
        assert_eq!(s.open_count(11, 7), 1);

        let mut resolved = s.conversations[&1].conversation.clone();
        resolved.status = Resolved;
        s.update(resolved);
        assert_eq!(s.open_count(10, 7), 1, "resolving frees the slot at once");

        let mut moved = s.conversations[&2].conversation.clone();
        moved.assignee_id = Some(8);
        s.update(moved);
        assert_eq!(s.open_count(10, 7), 0);
        assert_eq!(s.open_count(10, 8), 1);

        s.remove(4);
        assert_eq!(s.open_count(11, 7), 0);
        assert!(s.open_counts().values().all(|&n| n > 0));
    }

    #[test]
    fn lists_filter_count_and_sort() {
        use ConversationStatus::*;
        let mut s = ShardState::default();
        s.insert(conv(1, 10, Open, Some(7)));
        s.insert(conv(2, 10, Open, None));
        s.insert(conv(3, 10, Open, Some(8)));
        s.insert(conv(4, 11, Resolved, Some(7)));
        let filter = ListFilter {
            assignee_type: AssigneeType::All,
            status: Some(Open),
            inbox_id: None,
            page: 1,
            me: 7,
        };
        let (counts, page) = s.list(&filter);
        assert_eq!(
            counts,
            Counts {
                mine_count: 1,
                unassigned_count: 1,
                assigned_count: 2,
                all_count: 3
            }
        );
        let ids: Vec<i64> = page.iter().map(|l| l.conversation.id).collect();
        assert_eq!(ids, vec![3, 2, 1]);
        let mine = ListFilter {
            assignee_type: AssigneeType::Me,
            status: None,
            ..filter
        };
        let (counts, page) = s.list(&mine);
        assert_eq!(counts.all_count, 4);
        let ids: Vec<i64> = page.iter().map(|l| l.conversation.id).collect();
        assert_eq!(ids, vec![4, 1]);
        let second_page = ListFilter { page: 2, ..filter };
        assert!(s.list(&second_page).1.is_empty());
    }
}
