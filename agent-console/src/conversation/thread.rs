//! The messages of the conversations the agent has opened, merged by id:
//! a REST page, a live `message.created`, the answer to our own POST and a
//! replayed event after a reconnect may all carry the same message, and it
//! is shown once. Messages we are sending are kept by their `echo_id` until
//! the server's copy arrives (by whichever path comes first).

use std::collections::HashMap;

use switchboard_protocol::chat::Message;

/// Messages per page of `GET .../messages`.
pub const PAGE_SIZE: usize = 20;

/// A message on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub echo_id: String,
    pub content: String,
    pub private: bool,
    /// The POST failed: shown with a retry.
    pub failed: bool,
}

/// One conversation's messages, oldest first.
#[derive(Debug, Default)]
pub struct Thread {
    pub messages: Vec<Message>,
    /// The newest page has arrived.
    pub loaded: bool,
    /// Older messages exist on the server.
    pub has_older: bool,
    pub loading_older: bool,
    pub pending: Vec<Pending>,
}

impl Thread {
    /// Adds or replaces one message; `true` when something changed.
    pub fn merge(&mut self, m: Message) -> bool {
        if let Some(echo) = &m.echo_id {
            self.pending.retain(|p| &p.echo_id != echo);
        }
        match self.messages.binary_search_by_key(&m.id, |x| x.id) {
            Ok(i) if self.messages[i] == m => false,
            Ok(i) => {
                self.messages[i] = m;
                true
            }
            Err(i) => {
                self.messages.insert(i, m);
                true
            }
        }
    }

    /// A page from `GET .../messages` (`older`: asked with `before`).
    pub fn merge_page(&mut self, page: Vec<Message>, older: bool) {
        let full = page.len() >= PAGE_SIZE;
        if older || !self.loaded {
            self.has_older = full;
        }
        for m in page {
            self.merge(m);
        }
        self.loaded = true;
        if older {
            self.loading_older = false;
        }
    }

    /// The id to ask `before=` for the next older page.
    pub fn oldest_id(&self) -> Option<i64> {
        self.messages.first().map(|m| m.id)
    }

    pub fn add_pending(&mut self, echo_id: String, content: String, private: bool) {
        self.pending.push(Pending {
            echo_id,
            content,
            private,
            failed: false,
        });
    }

    /// Takes back a message the server refused for good (free text
    /// outside WhatsApp's window): it is not shown as sent or failed.
    pub fn take_pending(&mut self, echo_id: &str) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.echo_id == echo_id)?;
        Some(self.pending.remove(i))
    }

    /// The POST of `echo_id` failed (or, with `false`, is being retried).
    pub fn set_failed(&mut self, echo_id: &str, failed: bool) -> Option<Pending> {
        let p = self.pending.iter_mut().find(|p| p.echo_id == echo_id)?;
        p.failed = failed;
        Some(p.clone())
    }
}

/// Threads by conversation id.
#[derive(Debug, Default)]
pub struct Threads {
    map: HashMap<i64, Thread>,
}

impl Threads {
    pub fn get(&self, conversation_id: i64) -> Option<&Thread> {
        self.map.get(&conversation_id)
    }

    pub fn entry(&mut self, conversation_id: i64) -> &mut Thread {
        self.map.entry(conversation_id).or_default()
    }

    /// A live message: merged into the threads the agent opened, also
    /// while their first page is still on its way (it may have been read
    /// before this message was written). Other conversations fetch it with
    /// their first page. `true` when a thread changed.
    pub fn on_message(&mut self, m: &Message) -> bool {
        match self.map.get_mut(&m.conversation_id) {
            Some(t) => t.merge(m.clone()),
            None => false,
        }
    }

    pub fn remove(&mut self, conversation_id: i64) {
        self.map.remove(&conversation_id);
    }

    /// After a resync: messages missed while away are refetched on open.
    /// Messages still being sent are kept.
    pub fn invalidate(&mut self) {
        self.map.retain(|_, t| !t.pending.is_empty());
        for t in self.map.values_mut() {
            t.messages.clear();
            t.loaded = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::message;

    #[test]
    fn merges_by_id_in_order() {
        let mut t = Thread::default();
        t.merge_page(
            vec![message(5, 1, 0, false), message(7, 1, 1, false)],
            false,
        );
        assert!(!t.has_older);
        assert!(t.merge(message(6, 1, 0, false)));
        assert!(!t.merge(message(6, 1, 0, false)), "twice is once");
        let mut edited = message(6, 1, 0, false);
        edited.content = Some("This message was deleted".into());
        assert!(t.merge(edited));
        let ids: Vec<i64> = t.messages.iter().map(|m| m.id).collect();
        assert_eq!(ids, vec![5, 6, 7]);
        assert_eq!(
            t.messages[1].content.as_deref(),
            Some("This message was deleted")
        );
        assert_eq!(t.oldest_id(), Some(5));
    }

    #[test]
    fn older_pages_tell_whether_more_exist() {
        let mut t = Thread::default();
        let page: Vec<Message> = (100..120).map(|id| message(id, 1, 0, false)).collect();
        t.merge_page(page, false);
        assert!(t.has_older);
        t.loading_older = true;
        t.merge_page(vec![message(90, 1, 0, false)], true);
        assert!(!t.has_older);
        assert!(!t.loading_older);
        assert_eq!(t.messages.len(), 21);
    }

    #[test]
    fn the_servers_copy_replaces_the_pending_one() {
        let mut t = Thread::default();
        t.add_pending("e-1".into(), "Oi".into(), false);
        assert_eq!(t.set_failed("e-1", true).map(|p| p.failed), Some(true));
        let mut m = message(10, 1, 1, false);
        m.echo_id = Some("e-1".into());
        t.merge(m);
        assert!(t.pending.is_empty());
        assert!(t.set_failed("e-1", true).is_none());
        t.add_pending("e-2".into(), "Oi de novo".into(), false);
        assert_eq!(
            t.take_pending("e-2").map(|p| p.content).as_deref(),
            Some("Oi de novo")
        );
        assert!(t.pending.is_empty());
        assert!(t.take_pending("e-2").is_none());
    }

    #[test]
    fn live_messages_go_to_opened_threads() {
        let mut threads = Threads::default();
        assert!(
            !threads.on_message(&message(1, 4, 0, false)),
            "never opened"
        );
        threads.entry(4);
        assert!(
            threads.on_message(&message(2, 4, 0, false)),
            "page on its way"
        );
        threads
            .entry(4)
            .merge_page(vec![message(1, 4, 0, false)], false);
        let ids: Vec<i64> = threads
            .get(4)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, vec![1, 2]);
        threads.entry(4).add_pending("e".into(), "x".into(), false);
        threads.entry(5).merge_page(vec![], false);
        threads.invalidate();
        assert!(!threads.get(4).unwrap().loaded);
        assert!(threads.get(4).unwrap().messages.is_empty());
        assert!(threads.get(5).is_none(), "nothing pending: forgotten");
    }
}
