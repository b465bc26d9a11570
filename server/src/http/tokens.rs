//! Who holds which access token, remembered between requests so that
//! authenticating costs no database read in the steady state.
//!
//! Entries are dropped wholesale whenever anything that could change the
//! answer happens (signing out, a profile or agent change): those are rare,
//! and clearing everything cannot leave a revoked token behind.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::User;

/// Most tokens remembered; past it the cache starts over.
const CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
pub struct TokenCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every [`TokenCache::clear`]: a database read that began
    /// before a revocation must not put the revoked token back after it.
    generation: u64,
    users: HashMap<String, User>,
}

impl TokenCache {
    pub fn get(&self, token_sha256: &str) -> Option<User> {
        self.lock().users.get(token_sha256).cloned()
    }

    /// The generation to pass back to [`TokenCache::insert`] after reading
    /// the database.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Remembers what a read begun at `generation` found, unless the cache
    /// was cleared meanwhile.
    pub fn insert(&self, generation: u64, token_sha256: String, user: User) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.users.len() >= CAPACITY {
            inner.users.clear();
        }
        inner.users.insert(token_sha256, user);
    }

    /// Forgets every token: after a sign-out or a change to users.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.users.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
