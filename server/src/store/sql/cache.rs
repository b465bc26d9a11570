//! Contacts and contact links (`contact_inboxes`) remembered between reads.
//!
//! Opening a conversation or rendering one names its contact, and a visitor
//! is found by their link in every request: without this, each of those is a
//! database read on the hottest path. Every write to contacts and links goes
//! through this store, which updates or drops the entries it touches, so the
//! cache cannot serve a row the database no longer has. A read that raced
//! with an invalidation does not store what it read (the generation check).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::store::{Contact, ContactInbox};

/// Entries kept of each kind before the cache starts over.
const CAPACITY: usize = 200_000;

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    contacts: HashMap<(i64, i64), Contact>,
    links: HashMap<(i64, String), ContactInbox>,
}

#[derive(Default)]
pub(super) struct ContactCache {
    inner: Mutex<Inner>,
    /// Nothing is kept (cluster mode: another node may write the rows).
    off: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ContactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactCache").finish_non_exhaustive()
    }
}

impl ContactCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation to pass back to [`ContactCache::put_contact`] and
    /// [`ContactCache::put_link`] after reading the database.
    pub(super) fn generation(&self) -> u64 {
        self.lock().generation
    }

    pub(super) fn contact(&self, account_id: i64, contact_id: i64) -> Option<Contact> {
        self.lock().contacts.get(&(account_id, contact_id)).cloned()
    }

    /// From now on nothing is kept: see [`super::SqlStore::shared_with_other_nodes`].
    pub(super) fn turn_off(&self) {
        self.off.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut inner = self.lock();
        inner.generation += 1;
        inner.contacts.clear();
        inner.links.clear();
    }

    fn is_off(&self) -> bool {
        self.off.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn put_contact(&self, generation: u64, contact: &Contact) {
        if self.is_off() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.contacts.len() >= CAPACITY {
            inner.contacts.clear();
        }
        inner
            .contacts
            .insert((contact.account_id, contact.id), contact.clone());
    }

    pub(super) fn link(&self, inbox_id: i64, source_id: &str) -> Option<ContactInbox> {
        self.lock()
            .links
            .get(&(inbox_id, source_id.to_string()))
            .cloned()
    }

    pub(super) fn put_link(&self, generation: u64, link: &ContactInbox) {
        if self.is_off() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.links.len() >= CAPACITY {
            inner.links.clear();
        }
        inner
            .links
            .insert((link.inbox_id, link.source_id.clone()), link.clone());
    }

    /// A contact changed or is gone (with its links).
    pub(super) fn forget_contact(&self, account_id: i64, contact_id: i64) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.contacts.remove(&(account_id, contact_id));
        inner.links.retain(|_, l| l.contact_id != contact_id);
    }

    /// A link's token changed.
    pub(super) fn forget_link(&self, inbox_id: i64, source_id: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.links.remove(&(inbox_id, source_id.to_string()));
    }

    /// An inbox is gone, with every link into it.
    pub(super) fn forget_inbox(&self, inbox_id: i64) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.links.retain(|(inbox, _), _| *inbox != inbox_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(contact_id: i64) -> ContactInbox {
        ContactInbox {
            id: 1,
            contact_id,
            inbox_id: 3,
            source_id: "abc".to_string(),
            hmac_verified: false,
        }
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let cache = ContactCache::default();
        let before = cache.generation();
        cache.forget_contact(1, 7);
        cache.put_link(before, &link(7));
        assert!(cache.link(3, "abc").is_none());
        cache.put_link(cache.generation(), &link(7));
        assert!(cache.link(3, "abc").is_some());
        cache.forget_inbox(3);
        assert!(cache.link(3, "abc").is_none());
    }
}
