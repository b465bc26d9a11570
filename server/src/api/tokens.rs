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
    users: Mutex<HashMap<String, User>>,
}

impl TokenCache {
    pub fn get(&self, token_sha256: &str) -> Option<User> {
        self.lock().get(token_sha256).cloned()
    }

    pub fn insert(&self, token_sha256: String, user: User) {
        let mut users = self.lock();
        if users.len() >= CAPACITY {
            users.clear();
        }
        users.insert(token_sha256, user);
    }

    /// Forgets every token: after a sign-out or a change to users.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, User>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }
}
