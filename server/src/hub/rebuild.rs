//! Building shards from the store: every account at start, or one account
//! whose shard went ahead of the database.
//!
//! A shard is changed in memory before its rows commit (so a decision and
//! its counts are taken in one critical section). When the database refuses
//! a commit, memory holds a change the database does not: the writer names
//! the account, and [`Hub::reload_shard`] reads it again before it drifts
//! further.
//!
//! The writer marks the shard stale before the refused write's caller hears
//! of it, so a retry reads the shard again first; every write path checks
//! ([`Hub::fresh`]), and a background task reloads idle ones.
//!
//! **Poisoned locks.** A shard's lock is a std `Mutex`; a panic while it is
//! held leaves plain data that may be half-changed. [`Hub::lock`] takes such
//! a lock anyway (serving a possibly stale shard beats refusing the account)
//! and marks the shard for reloading, which the next write does first.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use tokio::sync::mpsc;

use super::shard::{Echoes, LiveConversation, ShardState};
use super::Hub;
use crate::store::{Message, Store, StoreResult};

/// Reads shards from the store: one per account, or only `account`'s.
pub(super) async fn load(
    store: &dyn Store,
    account: Option<i64>,
) -> StoreResult<HashMap<i64, ShardState>> {
    let mut shards: HashMap<i64, ShardState> = HashMap::new();
    let mut last: HashMap<i64, Message> = store
        .load_last_messages(account)
        .await?
        .into_iter()
        .map(|m| (m.conversation_id, m))
        .collect();
    let mut incoming: HashMap<i64, i64> = store
        .load_last_incoming(account)
        .await?
        .into_iter()
        .collect();
    // Before the conversations, which take their `hmac_verified` from it.
    for (account_id, link, at) in store.load_verified_links(account).await? {
        shards.entry(account_id).or_default().verify_link(link, at);
    }
    for mut conversation in store.load_conversations(account).await? {
        let last_message = last.remove(&conversation.id).map(Arc::new);
        let last_incoming_at = incoming.remove(&conversation.id);
        if let Some(m) = &last_message {
            conversation.last_activity_at = conversation.last_activity_at.max(m.created_at);
        }
        let state = shards.entry(conversation.account_id).or_default();
        let hmac_verified = state.verified(conversation.contact_inbox_id, conversation.created_at);
        state.insert(LiveConversation {
            conversation,
            last_message,
            last_incoming_at,
            echoes: Echoes::default(),
            queue_position: None,
            hmac_verified,
            opened_by: None,
        });
    }
    // Round-robin cursors and "assigned longest ago" continue from the
    // newest assignments instead of starting over.
    for state in shards.values_mut() {
        let mut assigned: Vec<(i64, i64, i64)> = state
            .conversations
            .values()
            .filter_map(|l| {
                Some((
                    l.conversation.id,
                    l.conversation.inbox_id,
                    l.conversation.assignee_id?,
                ))
            })
            .collect();
        assigned.sort_unstable();
        for (_, inbox, agent) in assigned {
            state.note_assignment(inbox, agent);
        }
        // Fresh from the store: whatever was half-done is gone.
        state.take_changes();
    }
    Ok(shards)
}

/// Times a reload reads the store again because commits already on their
/// way landed while it read (new writes wait for it: this converges).
const RELOAD_TRIES: usize = 20;

impl Hub {
    /// Before a write: a shard marked stale is read again first.
    pub(super) async fn fresh(&self, account_id: i64) -> StoreResult<()> {
        let stale = Self::lock(&self.shard(account_id)).stale.clone();
        if stale.load(Ordering::SeqCst) {
            self.reload_shard(account_id).await?;
        }
        Ok(())
    }

    /// Reads the account's shard again from the store and puts it in place
    /// of the one in memory, keeping its realtime feed and roster, then
    /// tells its subscribers to `resync`. One reload at a time per shard;
    /// writes that find it stale wait for it. It waits for the shard's last
    /// queued commit, and reads again if more landed meanwhile.
    pub async fn reload_shard(&self, account_id: i64) -> StoreResult<()> {
        let shard = self.shard(account_id);
        let (gate, stale) = {
            let state = Self::lock(&shard);
            (state.reloading.clone(), state.stale.clone())
        };
        let _reloading = gate.lock().await;
        if !stale.load(Ordering::SeqCst) {
            // Another write reloaded it while this one waited.
            return Ok(());
        }
        for _ in 0..RELOAD_TRIES {
            let (commits, last) = {
                let state = Self::lock(&shard);
                (state.commits, state.last_durable.clone())
            };
            if let Some(last) = last {
                // Its outcome does not matter: what matters is that it is over.
                let _ = last.wait().await;
            }
            let mut fresh = load(self.store.as_ref(), Some(account_id))
                .await?
                .remove(&account_id)
                .unwrap_or_default();
            let mut state = Self::lock(&shard);
            if state.commits != commits {
                continue;
            }
            // The feed and the roster (settings, and who has a console
            // open) are not in the store's rows: they carry over, as do the
            // flag and gate the writer and waiting writes hold.
            fresh.feed = state.feed.take();
            fresh.roster = state.roster.take();
            fresh.metrics = state.metrics.clone();
            fresh.commits = state.commits;
            fresh.stale = state.stale.clone();
            fresh.reloading = state.reloading.clone();
            fresh.epoch = state.epoch;
            fresh.node_consoles = std::mem::take(&mut state.node_consoles);
            *state = fresh;
            stale.store(false, Ordering::SeqCst);
            if let Some(feed) = &state.feed {
                // What subscribers were told may have included nothing
                // false (events go out once durable), but queue positions
                // and lists may differ: they reload.
                feed.push(super::feed::FeedItem::Resync);
            }
            tracing::warn!(account_id, "shard reloaded from the store");
            return Ok(());
        }
        tracing::error!(
            account_id,
            "shard kept changing: reloaded on the next write"
        );
        Ok(())
    }

    /// The accounts whose commits were refused, reloaded one by one (a
    /// write may have done it first). Ends with the hub.
    pub(super) fn spawn_reloader(hub: Weak<Hub>, mut refused: mpsc::UnboundedReceiver<i64>) {
        tokio::spawn(async move {
            while let Some(account_id) = refused.recv().await {
                let Some(hub) = hub.upgrade() else { return };
                if let Err(err) = hub.reload_shard(account_id).await {
                    tracing::error!(account_id, %err, "shard could not be reloaded yet");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::feed::FeedItem;
    use crate::hub::{NewConversation, NewMessage};
    use crate::store::{ContactFields, ConversationStatus, NewInbox};

    /// A fresh SQLite database (kept while the directory lives) holding one
    /// account.
    async fn acme() -> (
        tempfile::TempDir,
        crate::cli::CreatedAccountOutput,
        std::sync::Arc<dyn Store>,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let account =
            crate::cli::create_account(&url, "Acme", "Ana", "ana@acme.test", "password123".into())
                .await
                .expect("account");
        let store = crate::store::connect(&url).await.expect("store");
        (dir, account, store)
    }

    /// A panic while a shard's lock is held (here: after dropping a
    /// conversation from memory) marks the shard; the next write reads it
    /// again from the store first, and the conversation is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_poisoned_shard_is_read_again_before_the_next_write() {
        let (_dir, account, store) = acme().await;
        let inbox = store
            .create_inbox(
                account.account_id,
                &NewInbox {
                    name: "Website".into(),
                    channel_type: switchboard_protocol::api::ChannelType::WebWidget,
                    enable_auto_assignment: false,
                    auto_assignment_config: Default::default(),
                    settings: Default::default(),
                    website_token: Some("t".into()),
                    inbox_identifier: None,
                    phone_number: None,
                },
            )
            .await
            .expect("inbox");
        let contact = store
            .create_contact(
                account.account_id,
                &ContactFields {
                    name: "V".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("contact");
        let (hub, _writer) = Hub::start(store.clone()).await.expect("hub");
        let new = |text: &str| NewConversation {
            account_id: account.account_id,
            inbox_id: inbox.id,
            contact_id: contact.id,
            contact_inbox_id: None,
            status: ConversationStatus::Open,
            assignee_id: None,
            messages: vec![NewMessage::activity(text.into())],
            echo_id: None,
        };
        hub.create_conversation(new("first")).await.expect("create");

        let shard = hub.shard(account.account_id);
        let held = shard.clone();
        let panicked = std::thread::spawn(move || {
            let mut state = held.lock().expect("not poisoned yet");
            state.conversations.clear();
            panic!("a bug in a critical section");
        })
        .join();
        assert!(panicked.is_err());
        assert!(
            Hub::lock(&shard).stale.load(Ordering::SeqCst),
            "taken anyway, and marked"
        );

        hub.create_conversation(new("second"))
            .await
            .expect("create");
        let state = Hub::lock(&shard);
        assert!(!state.stale.load(Ordering::SeqCst));
        assert_eq!(state.conversations.len(), 2, "the first is back");
    }

    /// Keeps each account's feed, so a test reads what the hub emitted.
    #[derive(Default)]
    struct Captured(
        std::sync::Mutex<
            std::collections::HashMap<i64, tokio::sync::mpsc::UnboundedReceiver<FeedItem>>,
        >,
    );

    impl crate::hub::feed::FeedSink for Captured {
        fn open(
            &self,
            account_id: i64,
            _hub: std::sync::Weak<Hub>,
        ) -> tokio::sync::mpsc::UnboundedSender<FeedItem> {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            self.0.lock().expect("captured").insert(account_id, rx);
            tx
        }
    }

    /// A shard read again from the store tells its subscribers to resync,
    /// through the feed (after whatever it emitted before); asking for an
    /// unknown account's queue makes no shard.
    #[tokio::test]
    async fn a_reload_resyncs_through_the_feed_and_queue_links_make_no_shard() {
        let (_dir, account, store) = acme().await;
        let sink = std::sync::Arc::new(Captured::default());
        let (hub, _writer) = Hub::start_with(store, Default::default(), sink.clone())
            .await
            .expect("hub");

        // As after a refused commit: marked, then read again.
        Hub::lock(&hub.shard(account.account_id))
            .stale
            .store(true, Ordering::SeqCst);
        hub.reload_shard(account.account_id).await.expect("reload");
        let mut rx = sink
            .0
            .lock()
            .expect("captured")
            .remove(&account.account_id)
            .expect("the account's feed was opened");
        let mut resynced = false;
        while let Ok(item) = rx.try_recv() {
            resynced |= matches!(item, FeedItem::Resync);
        }
        assert!(resynced, "subscribers are told to resync");

        let unknown = account.account_id + 1000;
        assert!(hub.queue_links(unknown, 1).is_empty());
        assert!(!hub.has_account(unknown));
        assert!(
            !sink.0.lock().expect("captured").contains_key(&unknown),
            "no shard, so no feed, was made for it"
        );
    }
}
