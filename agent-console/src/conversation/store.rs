//! The conversations the console knows, by id, and the lists drawn from
//! them. After the first REST load the WebSocket events are the source of
//! truth: each conversation event carries the whole conversation, so
//! applying one is a replacement by id, and applying it twice changes
//! nothing. The lists and their counts are computed here, as the server
//! computes them (same filters, newest activity first), so a live event
//! moves a row and its count in the same redraw.

use std::collections::HashMap;

use switchboard_protocol::chat::{Contact, Conversation, Message};

use crate::i18n::T;

/// A conversation status: the protocol's own (its `ALL` is the order the
/// filter offers them).
pub use switchboard_protocol::chat::ConversationStatus as Status;

/// A status's words in the console's language.
pub trait StatusLabel {
    fn label(self) -> T;
}

impl StatusLabel for Status {
    fn label(self) -> T {
        match self {
            Status::Open => T::Open,
            Status::Pending => T::Pending,
            Status::Snoozed => T::Snoozed,
            Status::Resolved => T::Resolved,
        }
    }
}

/// Mine / Unassigned / All.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Mine,
    Unassigned,
    All,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Mine, Tab::Unassigned, Tab::All];

    /// The DOM id of the tab.
    pub fn dom_id(self) -> &'static str {
        match self {
            Tab::Mine => "tab-mine",
            Tab::Unassigned => "tab-unassigned",
            Tab::All => "tab-all",
        }
    }

    pub fn label(self) -> T {
        match self {
            Tab::Mine => T::Mine,
            Tab::Unassigned => T::Unassigned,
            Tab::All => T::All,
        }
    }
}

/// What the lists show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filters {
    pub tab: Tab,
    pub status: Status,
    pub inbox: Option<i64>,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            tab: Tab::Mine,
            status: Status::Open,
            inbox: None,
        }
    }
}

/// The tab counts under the status and inbox filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub mine: usize,
    pub unassigned: usize,
    pub all: usize,
}

impl Counts {
    pub fn of(self, tab: Tab) -> usize {
        match tab {
            Tab::Mine => self.mine,
            Tab::Unassigned => self.unassigned,
            Tab::All => self.all,
        }
    }
}

/// What applying a conversation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    New,
    Changed { assignee_before: Option<i64> },
    Unchanged,
}

/// How far a status's list has been loaded over REST.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub next_page: usize,
    /// Every conversation of the status is here: the counts are exact.
    pub complete: bool,
}

/// When the contact began waiting, as far as a snapshot tells.
enum Wait {
    Since(i64),
    Answered,
    Unknown,
}

#[derive(Debug, Default)]
pub struct Store {
    me: i64,
    conversations: HashMap<i64, Conversation>,
    /// Since when each conversation's contact has been waiting for a reply.
    waiting: HashMap<i64, i64>,
    loaded: HashMap<Status, Loaded>,
}

impl Store {
    pub fn new(me: i64) -> Store {
        Store {
            me,
            ..Store::default()
        }
    }

    /// Forgets everything (a full reload follows).
    pub fn clear(&mut self) {
        self.conversations.clear();
        self.waiting.clear();
        self.loaded.clear();
    }

    pub fn get(&self, id: i64) -> Option<&Conversation> {
        self.conversations.get(&id)
    }

    pub fn loaded(&self, status: Status) -> Option<Loaded> {
        self.loaded.get(&status).copied()
    }

    /// Records a REST page of `status` (`got` conversations of `page_size`).
    pub fn page_loaded(&mut self, status: Status, page: usize, got: usize, page_size: usize) {
        self.loaded.insert(
            status,
            Loaded {
                next_page: page + 1,
                complete: got < page_size,
            },
        );
    }

    /// Adds or replaces a conversation.
    pub fn upsert(&mut self, c: Conversation) -> Applied {
        match Self::wait_of(&c) {
            Wait::Since(t) => {
                let since = self.waiting.entry(c.id).or_insert(t);
                *since = (*since).min(t);
            }
            Wait::Answered => {
                self.waiting.remove(&c.id);
            }
            Wait::Unknown => {}
        }
        match self.conversations.insert(c.id, c) {
            None => Applied::New,
            Some(old) => {
                if self.conversations.get(&old.id) == Some(&old) {
                    Applied::Unchanged
                } else {
                    Applied::Changed {
                        assignee_before: old.assignee_id,
                    }
                }
            }
        }
    }

    fn wait_of(c: &Conversation) -> Wait {
        match &c.last_non_activity_message {
            None => Wait::Since(c.created_at),
            Some(m) if m.message_type == 0 => Wait::Since(m.created_at),
            Some(m) if m.message_type == 1 && !m.private => Wait::Answered,
            Some(_) => Wait::Unknown,
        }
    }

    pub fn remove(&mut self, id: i64) -> bool {
        self.waiting.remove(&id);
        self.conversations.remove(&id).is_some()
    }

    /// A new or edited message: the conversation's last message, activity
    /// time and waiting clock follow it. `true` when the list may change.
    pub fn on_message(&mut self, m: &Message, created: bool) -> bool {
        let Some(c) = self.conversations.get_mut(&m.conversation_id) else {
            return false;
        };
        let activity = m.message_type == 2;
        let newest = c
            .last_non_activity_message
            .as_ref()
            .is_none_or(|last| last.id <= m.id);
        if !activity && newest {
            c.last_non_activity_message = Some(m.clone());
            c.messages = vec![m.clone()];
        }
        if created {
            c.last_activity_at = c.last_activity_at.max(m.created_at);
            c.timestamp = c.last_activity_at;
            match (m.message_type, m.private) {
                (0, _) => {
                    // The contact wrote: WhatsApp's 24-hour window is open
                    // again. The server sends no conversation event for
                    // a message alone, so the console says it itself.
                    c.can_reply = true;
                    self.waiting
                        .entry(m.conversation_id)
                        .or_insert(m.created_at);
                }
                (1, false) => {
                    self.waiting.remove(&m.conversation_id);
                }
                _ => {}
            }
        }
        true
    }

    /// Free text was refused because WhatsApp's 24-hour window closed
    /// while the page was open. `true` when that is news.
    pub fn window_closed(&mut self, id: i64) -> bool {
        match self.conversations.get_mut(&id) {
            Some(c) if c.can_reply => {
                c.can_reply = false;
                true
            }
            _ => false,
        }
    }

    /// A contact changed: every conversation with them shows the new details.
    pub fn on_contact(&mut self, contact: &Contact) -> bool {
        let mut changed = false;
        for c in self.conversations.values_mut() {
            if c.contact_id == contact.id && c.meta.sender != *contact {
                c.meta.sender = contact.clone();
                changed = true;
            }
        }
        changed
    }

    /// Applies the answer to a CRM Retry (the contact, pending) only while
    /// the contact still shows the failure the button was for: the sync
    /// runs at once, and its live events (synced, say) can arrive before
    /// this answer, which must not take the block back to "syncing".
    pub fn on_retried_contact(&mut self, contact: &Contact) -> bool {
        let shown = self
            .conversations
            .values()
            .find(|c| c.contact_id == contact.id)
            .and_then(|c| c.meta.sender.crm.as_ref());
        let still_failed =
            shown.is_none_or(|l| l.status == switchboard_protocol::chat::CrmStatus::Failed);
        still_failed && self.on_contact(contact)
    }

    /// Applies the answer to a contact edit: only the edited details. The
    /// rest (the CRM block above all) is left to the live events, which may
    /// overtake this answer: saving an e-mail starts a CRM sync at once, and
    /// a late answer must not take its block back.
    pub fn on_saved_contact(&mut self, saved: &Contact) -> bool {
        let mut changed = false;
        for c in self.conversations.values_mut() {
            let shown = &mut c.meta.sender;
            if c.contact_id != saved.id
                || (shown.name == saved.name
                    && shown.email == saved.email
                    && shown.phone_number == saved.phone_number
                    && shown.identifier == saved.identifier)
            {
                continue;
            }
            shown.name.clone_from(&saved.name);
            shown.email.clone_from(&saved.email);
            shown.phone_number.clone_from(&saved.phone_number);
            shown.identifier.clone_from(&saved.identifier);
            changed = true;
        }
        changed
    }

    /// An inbox was deleted, and its conversations with it. Returns their ids.
    pub fn remove_inbox(&mut self, inbox: i64) -> Vec<i64> {
        let doomed: Vec<i64> = self
            .conversations
            .values()
            .filter(|c| c.inbox_id == inbox)
            .map(|c| c.id)
            .collect();
        for id in &doomed {
            self.remove(*id);
        }
        doomed
    }

    fn matches(c: &Conversation, status: Status, inbox: Option<i64>) -> bool {
        c.status == status && inbox.is_none_or(|i| i == c.inbox_id)
    }

    /// The list under `f`, newest activity first (ties: newest id first).
    pub fn list(&self, f: &Filters) -> Vec<&Conversation> {
        let mut out: Vec<&Conversation> = self
            .conversations
            .values()
            .filter(|c| Self::matches(c, f.status, f.inbox))
            .filter(|c| match f.tab {
                Tab::Mine => c.assignee_id == Some(self.me),
                Tab::Unassigned => c.assignee_id.is_none(),
                Tab::All => true,
            })
            .collect();
        out.sort_unstable_by_key(|c| {
            (
                std::cmp::Reverse(c.last_activity_at),
                std::cmp::Reverse(c.id),
            )
        });
        out
    }

    pub fn counts(&self, status: Status, inbox: Option<i64>) -> Counts {
        let mut counts = Counts::default();
        for c in self.conversations.values() {
            if !Self::matches(c, status, inbox) {
                continue;
            }
            counts.all += 1;
            match c.assignee_id {
                None => counts.unassigned += 1,
                Some(a) if a == self.me => counts.mine += 1,
                Some(_) => {}
            }
        }
        counts
    }

    /// Since when the contact has waited, for conversations still to answer.
    pub fn waiting_since(&self, id: i64) -> Option<i64> {
        let c = self.conversations.get(&id)?;
        if !matches!(c.status, Status::Open | Status::Pending) {
            return None;
        }
        self.waiting.get(&id).copied()
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
