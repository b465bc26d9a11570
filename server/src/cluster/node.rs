//! One node's share of the cluster: the accounts it owns, the leases
//! behind them, and the loop that keeps both true.
//!
//! Each owned account has a gate: calls run on its shard while holding the
//! gate's read side; letting the account go (a hand-over, a lost lease, a
//! shutdown) closes the gate on its write side, which waits for the calls
//! in flight, then releases the shard after its last commit. A call that
//! finds the gate closed is routed again (see [`super::router`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::leases::{Leases, Taken, LEASE, RENEW_EVERY};
use super::placement;
use super::wire::{Request, Subjects};
use crate::hub::router::{Answer, Command, ShardRouter};
use crate::hub::{Hub, HubError};

/// Accounts taken over in one tick of the loop, and handed over: a node
/// joining or dying moves accounts in steps, not all in one burst.
const TAKE_PER_TICK: i64 = 200;
const HAND_OVER_PER_TICK: usize = 50;

/// Why a call did not get an answer here.
#[derive(Debug)]
pub(super) enum Route {
    /// The shard refused it (an answer to give the caller).
    Refused(HubError),
    /// Nothing was applied: ask again once ownership is known anew.
    Again,
    /// No answer came: it may or may not have been applied.
    Unknown,
}

struct Owned {
    epoch: i64,
    /// `true` while calls may run (see the module's doc).
    gate: Arc<tokio::sync::RwLock<bool>>,
}

pub(crate) struct Node {
    pub(super) name: Arc<str>,
    pub(super) nats: async_nats::Client,
    pub(super) leases: Leases,
    pub(super) hub: Arc<Hub>,
    pub(super) subjects: Subjects,
    owned: RwLock<HashMap<i64, Owned>>,
    /// Where other nodes' accounts were last found.
    owners: Mutex<HashMap<i64, String>>,
    live: RwLock<Vec<String>>,
    /// One acquisition at a time on this node.
    taking: tokio::sync::Mutex<()>,
    /// Consoles open on this node per (account, agent), and the number of
    /// the latest report of them.
    consoles: Mutex<HashMap<(i64, i64), u32>>,
    seq: AtomicU64,
    leaving: AtomicBool,
    /// Every account handed over: the renewal loop ends.
    left: AtomicBool,
}

impl Node {
    pub(super) fn new(
        name: Arc<str>,
        nats: async_nats::Client,
        leases: Leases,
        hub: Arc<Hub>,
        subjects: Subjects,
    ) -> Node {
        Node {
            name,
            nats,
            leases,
            hub,
            subjects,
            owned: RwLock::default(),
            owners: Mutex::default(),
            live: RwLock::default(),
            taking: tokio::sync::Mutex::new(()),
            consoles: Mutex::default(),
            // Report numbers start from the clock, so a restarted process
            // of the same name reports above its predecessor.
            seq: AtomicU64::new(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(1)),
            ),
            leaving: AtomicBool::new(false),
            left: AtomicBool::new(false),
        }
    }

    fn gate(&self, account_id: i64) -> Option<Arc<tokio::sync::RwLock<bool>>> {
        self.owned
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
            .map(|o| o.gate.clone())
    }

    /// Runs `command` on the account's shard if this node owns it; `None`
    /// when it does not.
    pub(super) async fn local(
        &self,
        account_id: i64,
        command: Command,
    ) -> Option<Result<Answer, Route>> {
        let gate = self.gate(account_id)?;
        let open = gate.read().await;
        if !*open {
            return Some(Err(Route::Again));
        }
        let outcome = self.hub.call(account_id, command).await;
        drop(open);
        Some(match outcome {
            Ok(answer) => Ok(answer),
            Err(HubError::Moved) => Err(Route::Again),
            Err(e) => Err(Route::Refused(e)),
        })
    }

    /// Whether this node owns the account now.
    pub(super) fn owns(&self, account_id: i64) -> bool {
        self.gate(account_id).is_some()
    }

    /// The live nodes as last read.
    pub(super) fn live(&self) -> Vec<String> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn cached_owner(&self, account_id: i64) -> Option<String> {
        self.owners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
            .cloned()
    }

    pub(super) fn remember_owner(&self, account_id: i64, node: Option<String>) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        match node {
            Some(node) => owners.insert(account_id, node),
            None => owners.remove(&account_id),
        };
    }

    /// Takes the account if nobody holds it: its lease, then its shard.
    pub(super) async fn take(&self, account_id: i64) -> Result<(), Route> {
        if self.leaving.load(Ordering::SeqCst) {
            return Err(Route::Again);
        }
        let _one = self.taking.lock().await;
        if self.owns(account_id) {
            return Ok(());
        }
        let epoch = match self.leases.acquire(account_id).await {
            Ok(Taken::At(epoch)) => epoch,
            Ok(Taken::Held) => return Err(Route::Again),
            Ok(Taken::NoAccount) => return Err(Route::Refused(HubError::NotFound)),
            Err(e) => {
                tracing::warn!(account_id, error = %e, "the lease could not be taken");
                return Err(Route::Again);
            }
        };
        if let Err(e) = self.hub.acquire(account_id, epoch).await {
            tracing::error!(account_id, error = %e, "an acquired account could not be loaded");
            let _ = self.leases.release(account_id, epoch).await;
            return Err(Route::Again);
        }
        self.owned
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                account_id,
                Owned {
                    epoch,
                    gate: Arc::new(tokio::sync::RwLock::new(true)),
                },
            );
        self.remember_owner(account_id, None);
        // This node's own consoles count at once; other nodes report
        // theirs when they hear the account's resync.
        self.report_consoles(account_id).await;
        Ok(())
    }

    /// Stops calls to the account, waits for those in flight and the
    /// shard's last commit, and forgets it; with `release`, gives the lease
    /// up for the next owner at once. Returns whether it was owned.
    async fn let_go(&self, account_id: i64, release: bool) -> bool {
        let Some(gate) = self.gate(account_id) else {
            return false;
        };
        *gate.write().await = false;
        self.hub.release(account_id).await;
        let owned = self
            .owned
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account_id);
        if let (true, Some(owned)) = (release, owned) {
            if let Err(e) = self.leases.release(account_id, owned.epoch).await {
                tracing::warn!(account_id, error = %e, "lease not given up: it will expire");
            }
        }
        true
    }

    /// Hands the account to `to`: let go of it, then ask `to` to take it
    /// now rather than on its next request.
    async fn hand_over(&self, account_id: i64, to: &str) {
        if !self.let_go(account_id, true).await {
            return;
        }
        tracing::info!(account_id, to, "account handed over");
        let request = Request {
            account_id,
            take: true,
            command: None,
        };
        let Ok(payload) = serde_json::to_vec(&request) else {
            return;
        };
        let ask = async_nats::Request::new()
            .payload(payload.into())
            .timeout(Some(Duration::from_secs(5)));
        if let Err(e) = self.nats.send_request(self.subjects.node(to), ask).await {
            tracing::warn!(account_id, to, error = %e, "hand-over not confirmed");
        }
    }

    /// An agent console of this node opened or closed: the owner hears
    /// the new count of that agent's consoles here.
    pub(super) fn console_change(&self, account_id: i64, user_id: i64, delta: i32) -> (u32, u64) {
        let mut consoles = self.consoles.lock().unwrap_or_else(|e| e.into_inner());
        let count = consoles.entry((account_id, user_id)).or_insert(0);
        *count = count.saturating_add_signed(delta);
        let count = *count;
        if count == 0 {
            consoles.remove(&(account_id, user_id));
        }
        (count, self.seq.fetch_add(1, Ordering::SeqCst))
    }

    /// The consoles of the account open on this node, for a new owner.
    pub(super) fn consoles_of(&self, account_id: i64) -> Vec<(i64, u32, u64)> {
        let consoles = self.consoles.lock().unwrap_or_else(|e| e.into_inner());
        consoles
            .iter()
            .filter(|((account, _), _)| *account == account_id)
            .map(|((_, user), count)| (*user, *count, self.seq.fetch_add(1, Ordering::SeqCst)))
            .collect()
    }

    /// Tells the account's own shard (this node owns it) of this node's
    /// consoles.
    async fn report_consoles(&self, account_id: i64) {
        for (user_id, count, seq) in self.consoles_of(account_id) {
            let command = Command::NodeConsoles {
                node: self.name.clone(),
                user_id,
                count,
                seq,
            };
            if let Some(Err(e)) = self.local(account_id, command).await {
                tracing::warn!(account_id, ?e, "consoles not counted");
            }
        }
    }

    /// The node's two loops, every [`RENEW_EVERY`]. One says the node is
    /// alive and renews its leases (letting go of any it lost) and nothing
    /// else, so slow work can never make a busy node lose its accounts; it
    /// runs until the node has left. The other takes over accounts nobody
    /// holds that placement gives this node, and hands over accounts
    /// placement now gives another node; it ends when the node leaves.
    pub(super) async fn run(self: Arc<Node>) {
        tokio::spawn(self.clone().renew());
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if self.leaving.load(Ordering::SeqCst) {
                return;
            }
            self.take_orphans().await;
            self.rebalance().await;
        }
    }

    async fn renew(self: Arc<Node>) {
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        loop {
            tick.tick().await;
            if self.left.load(Ordering::SeqCst) {
                return;
            }
            // A leaving node is no longer counted live, but keeps its
            // leases until each account is handed over.
            if !self.leaving.load(Ordering::SeqCst) {
                match self.leases.heartbeat().await {
                    Ok(live) => {
                        let node = self.clone();
                        tokio::spawn(async move { node.nodes_now(live).await });
                    }
                    Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                }
            }
            let owned: Vec<i64> = self
                .owned
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .copied()
                .collect();
            let held = match self.leases.renew(&owned).await {
                Ok(held) => {
                    renewed = Instant::now();
                    held
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leases not renewed");
                    if renewed.elapsed() < LEASE {
                        continue;
                    }
                    // They have expired in the database by now.
                    HashMap::new()
                }
            };
            for account_id in self.lost(&owned, &held) {
                tracing::warn!(account_id, "lease lost: the account is served elsewhere");
                let node = self.clone();
                tokio::spawn(async move { node.let_go(account_id, false).await });
            }
        }
    }

    /// The live nodes changed: the consoles of those gone stop counting.
    async fn nodes_now(&self, live: Vec<String>) {
        let gone: Vec<String> = {
            let mut known = self.live.write().unwrap_or_else(|e| e.into_inner());
            let now: HashSet<&String> = live.iter().collect();
            let gone = known.iter().filter(|n| !now.contains(n)).cloned().collect();
            *known = live;
            gone
        };
        for node in gone {
            tracing::warn!(node, "node gone: its consoles no longer count");
            self.owners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|_, owner| *owner != node);
            self.hub.node_gone(&node).await;
        }
    }

    /// Each of `renewing` (accounts owned when the renewal was sent) not
    /// in `held` at the epoch it is owned at: its lease ran out. Accounts
    /// taken since are left alone.
    fn lost(&self, renewing: &[i64], held: &HashMap<i64, i64>) -> Vec<i64> {
        let owned = self.owned.read().unwrap_or_else(|e| e.into_inner());
        renewing
            .iter()
            .filter(|account| {
                owned
                    .get(account)
                    .is_some_and(|o| held.get(account) != Some(&o.epoch))
            })
            .copied()
            .collect()
    }

    async fn take_orphans(&self) {
        let live = self.live();
        let orphans = match self.leases.orphans(TAKE_PER_TICK).await {
            Ok(orphans) => orphans,
            Err(e) => {
                tracing::warn!(error = %e, "orphaned accounts not read");
                return;
            }
        };
        for account_id in orphans {
            if placement::preferred(account_id, &live) == Some(&*self.name) {
                if let Err(e) = self.take(account_id).await {
                    tracing::debug!(account_id, ?e, "orphan not taken");
                }
            }
        }
    }

    async fn rebalance(&self) {
        let live = self.live();
        let moving: Vec<(i64, String)> = self
            .hub
            .owned()
            .into_iter()
            .filter_map(|account| {
                let to = placement::preferred(account, &live)?;
                (to != &*self.name).then(|| (account, to.to_string()))
            })
            .take(HAND_OVER_PER_TICK)
            .collect();
        for (account_id, to) in moving {
            self.hand_over(account_id, &to).await;
        }
    }

    /// Leaves the cluster: no longer counted live, every owned account
    /// handed to the node placement now gives it, the consoles of this
    /// node forgotten by their owners as the node's heartbeat goes.
    pub(crate) async fn leave(&self) {
        self.leaving.store(true, Ordering::SeqCst);
        if let Err(e) = self.leases.leave().await {
            tracing::warn!(error = %e, "could not leave the live list; the heartbeat expires");
        }
        let others: Vec<String> = match self.leases.live_nodes().await {
            Ok(live) => live.into_iter().filter(|n| *n != *self.name).collect(),
            Err(_) => Vec::new(),
        };
        let owned = self.hub.owned();
        tracing::info!(
            accounts = owned.len(),
            "leaving the cluster: handing accounts over"
        );
        for account_id in owned {
            match placement::preferred(account_id, &others) {
                Some(to) => self.hand_over(account_id, to).await,
                None => {
                    self.let_go(account_id, true).await;
                }
            }
        }
        self.left.store(true, Ordering::SeqCst);
    }
}
