//! An account's channel: who is subscribed, the recent events kept for
//! resuming, and handing frames to subscribers' bounded queues.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::relay::{ChannelOp, Relay};
use super::{Audience, Frame, ReplayLimits, RESUME_WINDOW};
use crate::metrics::Metrics;

/// Queued last for a subscriber whose credentials were revoked: its
/// connection writes what came before, then closes with
/// [`switchboard_protocol::realtime::close::REVOKED`]. Told apart from real
/// frames by address, so it costs nothing to recognise.
static REVOKED: std::sync::LazyLock<Frame> =
    std::sync::LazyLock::new(|| Arc::new(Utf8Bytes::from_static("")));

/// Whether `frame` is the `REVOKED` marker.
pub fn is_revoked(frame: &Frame) -> bool {
    Arc::ptr_eq(frame, &REVOKED)
}

/// Where a visitor who is no contact yet (they have not written) waits:
/// a key of its own, below zero (database ids start at 1, so no
/// conversation ever names it). Its subscriber hears only what every
/// visitor of their inbox hears (presence), and moves to its link with
/// [`Channel::relink`].
pub fn newcomer(subscriber_id: u64) -> i64 {
    i64::try_from(subscriber_id).map_or(i64::MIN, |id| -id)
}

/// A connection's place in an account's channel.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub id: u64,
    pub tx: mpsc::Sender<Frame>,
    /// Visitors: their inbox, for presence.
    pub inbox_id: Option<i64>,
    /// Agents: who they are and the token they opened with, so that
    /// revoking that token (or removing the agent) closes the socket too.
    pub session: Option<AgentSession>,
}

/// The person behind an agent's socket and the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSession {
    pub user_id: i64,
    pub token_sha256: String,
}

/// How a subscription starts.
#[derive(Debug)]
pub enum Start {
    /// No cursor was given: live events from `cursor` on.
    Fresh { cursor: u64 },
    /// Every event after the given cursor, then live events.
    Resumed { cursor: u64, missed: Vec<Frame> },
    /// The cursor is not in the buffer: reload over REST, then go on from `cursor`.
    Resync { cursor: u64 },
}

struct Buffered {
    cursor: u64,
    to: Audience,
    frame: Frame,
    /// The bytes this entry adds to the buffer: 0 when it shares its text
    /// with the entry before it (agents and a visitor often get the same).
    bytes: usize,
}

#[derive(Default)]
struct Inner {
    /// The cursor of the newest published event.
    cursor: u64,
    buffer: VecDeque<Buffered>,
    /// The bytes of the frames in `buffer`.
    buffered_bytes: usize,
    agents: Vec<Subscriber>,
    /// Visitors by their contact link.
    visitors: HashMap<i64, Vec<Subscriber>>,
    presence: BTreeMap<i64, String>,
    inboxes_online: HashMap<i64, bool>,
    /// When a subscriber last left (or was cut).
    last_left: Option<std::time::Instant>,
    /// Cluster mode: an operation from another node was applied, so
    /// `cursor` is the owner's numbering (see [`Channel::apply`]).
    relayed: bool,
}

/// One account's subscribers and recent events.
pub struct Channel {
    pub account_id: i64,
    /// Cluster mode: where what this node's dispatcher publishes goes to
    /// the account's channels on other nodes (see [`super::relay`]).
    relay: Option<Arc<dyn Relay>>,
    /// The server's counters: deliveries and slow consumers cut.
    metrics: Arc<Metrics>,
    /// How much is kept for resuming.
    replay: ReplayLimits,
    inner: Mutex<Inner>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Channel {
    pub fn new(account_id: i64, metrics: Arc<Metrics>, replay: ReplayLimits) -> Channel {
        Channel::relayed(account_id, metrics, replay, None)
    }

    /// A channel whose published events also go to `relay`.
    pub fn relayed(
        account_id: i64,
        metrics: Arc<Metrics>,
        replay: ReplayLimits,
        relay: Option<Arc<dyn Relay>>,
    ) -> Channel {
        let start = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros(),
        )
        .unwrap_or(u64::MAX / 2);
        Channel {
            account_id,
            relay,
            metrics,
            replay,
            inner: Mutex::new(Inner {
                cursor: start,
                ..Inner::default()
            }),
            next_id: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh subscriber id.
    pub fn subscriber_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The cursor of the newest event.
    pub fn cursor(&self) -> u64 {
        self.lock().cursor
    }

    /// Whether anyone at all is connected to the account. In cluster mode
    /// always: sockets on other nodes are not counted here.
    pub fn watched(&self) -> bool {
        if self.relay.is_some() {
            return true;
        }
        let inner = self.lock();
        !inner.agents.is_empty() || !inner.visitors.is_empty()
    }

    /// When nobody has been connected to the account for [`RESUME_WINDOW`],
    /// takes the next cursor for an event nobody will hear and forgets the
    /// buffer: a client resuming from before it is told to `resync`. An
    /// account nobody watches (API-only, or everyone gone home) costs no
    /// rendering. Checked and done under one lock, so a client subscribing
    /// meanwhile cannot miss the event.
    pub fn skip_if_unwatched(&self) -> bool {
        if self.relay.is_some() {
            return false;
        }
        let mut inner = self.lock();
        if !inner.agents.is_empty() || !inner.visitors.is_empty() {
            return false;
        }
        if inner.last_left.is_some_and(|t| t.elapsed() < RESUME_WINDOW) {
            // Someone just left and may be back with their cursor.
            return false;
        }
        inner.cursor += 1;
        inner.buffer.clear();
        inner.buffered_bytes = 0;
        true
    }

    /// Tells every subscriber to reload (`resync`): the account's live
    /// state was read again from the store, after a write it had already
    /// taken was refused. A client resuming from an older cursor resyncs
    /// too.
    pub fn resync_all(&self) {
        let cursor = self.lock().cursor + 1;
        self.resync_here(cursor);
        self.relay(ChannelOp::Resync { cursor });
    }

    /// [`Channel::resync_all`] on this node, at `cursor`.
    fn resync_here(&self, cursor: u64) {
        let mut inner = self.lock();
        inner.cursor = cursor;
        inner.buffer.clear();
        inner.buffered_bytes = 0;
        let frame: Frame = Arc::new(crate::views::frames::frame(
            switchboard_protocol::realtime::ServerEvent::Resync,
            Some(inner.cursor),
            &serde_json::json!({}),
        ));
        let everyone = inner.agents.iter().chain(inner.visitors.values().flatten());
        for sub in everyone {
            // One too slow to take it is cut later, and resyncs on resuming.
            let _ = sub.tx.try_send(frame.clone());
        }
    }

    /// Whether any visitor is connected (in cluster mode: may be, elsewhere).
    pub fn has_visitors(&self) -> bool {
        self.relay.is_some() || !self.lock().visitors.is_empty()
    }

    /// Whether anyone listens for `contact_inbox_id` (in cluster mode: may,
    /// elsewhere).
    pub fn has_visitor(&self, contact_inbox_id: i64) -> bool {
        self.relay.is_some() || self.lock().visitors.contains_key(&contact_inbox_id)
    }

    /// Hands `op` to the other nodes (cluster mode).
    fn relay(&self, op: ChannelOp) {
        if let Some(relay) = &self.relay {
            relay.send(self.account_id, op);
        }
    }

    /// Applies what the account's owner published on another node. Once
    /// in the owner's numbering, a cursor never goes back: an operation at
    /// or below the channel's cursor (a previous owner's late event, after
    /// the account moved and everyone was told to resync) is dropped.
    pub fn apply(&self, op: ChannelOp) {
        let cursor = match &op {
            ChannelOp::Publish { cursor, .. } | ChannelOp::Resync { cursor } => Some(*cursor),
            ChannelOp::Signal { .. } | ChannelOp::Presence { .. } => None,
        };
        if let Some(cursor) = cursor {
            let mut inner = self.lock();
            if inner.relayed && cursor <= inner.cursor {
                return;
            }
            inner.relayed = true;
        }
        match op {
            ChannelOp::Publish { cursor, frames } => {
                let frames = frames.into_iter().map(|(to, f)| (to, f.into())).collect();
                self.publish_here(cursor, frames);
            }
            ChannelOp::Signal { frames } => {
                let frames = frames.into_iter().map(|(to, f)| (to, f.into())).collect();
                self.signal_here(frames);
            }
            ChannelOp::Presence {
                users,
                inboxes,
                agents,
                visitors,
            } => {
                let [offline, online] = visitors;
                self.set_presence_here(
                    users,
                    inboxes,
                    agents.into(),
                    [offline.into(), online.into()],
                );
            }
            ChannelOp::Resync { cursor } => self.resync_here(cursor),
        }
    }

    /// The current presence: per agent, and per inbox.
    pub fn presence(&self) -> (BTreeMap<i64, String>, HashMap<i64, bool>) {
        let inner = self.lock();
        (inner.presence.clone(), inner.inboxes_online.clone())
    }

    /// Registers a subscriber. Finding what it missed and registering happen
    /// under one lock, so no event is skipped or sent twice in between.
    pub fn subscribe(&self, to: Audience, since: Option<u64>, sub: Subscriber) -> Start {
        let mut inner = self.lock();
        let cursor = inner.cursor;
        let start = match since {
            None => Start::Fresh { cursor },
            Some(since) if since == cursor => Start::Resumed {
                cursor,
                missed: Vec::new(),
            },
            Some(since) => {
                let oldest = inner.buffer.front().map(|b| b.cursor);
                // Resumable when the buffer holds every event after `since`.
                if since < cursor && oldest.is_some_and(|o| o <= since + 1) {
                    let missed = inner
                        .buffer
                        .iter()
                        .filter(|b| b.cursor > since && b.to == to)
                        .map(|b| b.frame.clone())
                        .collect();
                    Start::Resumed { cursor, missed }
                } else {
                    Start::Resync { cursor }
                }
            }
        };
        match to {
            Audience::Agents => inner.agents.push(sub),
            Audience::Visitor(link) => inner.visitors.entry(link).or_default().push(sub),
        }
        start
    }

    pub fn unsubscribe(&self, to: Audience, id: u64) {
        let mut inner = self.lock();
        inner.last_left = Some(std::time::Instant::now());
        match to {
            Audience::Agents => inner.agents.retain(|s| s.id != id),
            Audience::Visitor(link) => {
                if let Some(list) = inner.visitors.get_mut(&link) {
                    list.retain(|s| s.id != id);
                    if list.is_empty() {
                        inner.visitors.remove(&link);
                    }
                }
            }
        }
    }

    /// Moves visitor subscriber `id` from link `from` to link `to` (a
    /// newcomer who just became a contact), under one lock: nothing sent to
    /// `to` from now on is missed.
    pub fn relink(&self, id: u64, from: i64, to: i64) {
        let mut inner = self.lock();
        let Some(list) = inner.visitors.get_mut(&from) else {
            return;
        };
        let Some(at) = list.iter().position(|s| s.id == id) else {
            return;
        };
        let sub = list.swap_remove(at);
        if list.is_empty() {
            inner.visitors.remove(&from);
        }
        inner.visitors.entry(to).or_default().push(sub);
    }

    /// Closes every visitor connection of `link` but `keep`: the link's
    /// token was replaced, and what they hold no longer names anyone.
    pub fn revoke_visitors(&self, link: i64, keep: u64) {
        let mut inner = self.lock();
        let Some(list) = inner.visitors.get_mut(&link) else {
            return;
        };
        for sub in list.iter().filter(|s| s.id != keep) {
            // A full queue ends anyway once the sender is dropped below.
            let _ = sub.tx.try_send(REVOKED.clone());
        }
        list.retain(|s| s.id == keep);
        if list.is_empty() {
            inner.visitors.remove(&link);
        }
    }

    /// Closes every agent socket whose session `revoked` picks: its token
    /// was signed out or replaced, or the agent left the account.
    pub fn revoke_agents(&self, revoked: impl Fn(&AgentSession) -> bool) {
        let mut inner = self.lock();
        inner.agents.retain(|sub| {
            let gone = sub.session.as_ref().is_some_and(&revoked);
            if gone {
                // A full queue ends anyway once the sender is dropped.
                let _ = sub.tx.try_send(REVOKED.clone());
            }
            !gone
        });
    }

    /// Publishes one resumable event (its frames already carry `cursor`,
    /// which must follow the previous one) and hands it to its subscribers.
    pub fn publish(&self, cursor: u64, frames: Vec<(Audience, Utf8Bytes)>) -> Delivery {
        if self.relay.is_some() {
            let copies = frames.iter().map(|(to, f)| (*to, f.to_string())).collect();
            self.relay(ChannelOp::Publish {
                cursor,
                frames: copies,
            });
        }
        self.publish_here(cursor, frames)
    }

    fn publish_here(&self, cursor: u64, frames: Vec<(Audience, Utf8Bytes)>) -> Delivery {
        let mut inner = self.lock();
        inner.cursor = cursor;
        let mut delivery = Delivery::default();
        let mut previous: Option<*const u8> = None;
        for (to, frame) in frames {
            let shared = previous == Some(frame.as_str().as_ptr());
            previous = Some(frame.as_str().as_ptr());
            let frame = Arc::new(frame);
            delivery.add(inner.send(to, &frame));
            let bytes = if shared { 0 } else { frame.len() };
            inner.buffered_bytes += bytes;
            inner.buffer.push_back(Buffered {
                cursor,
                to,
                frame,
                bytes,
            });
        }
        // Whole events go: an agent's frame dropped while the visitor's
        // frame of the same event stayed would make a resume look complete.
        while inner.buffer.len() > self.replay.events
            || (inner.buffered_bytes > self.replay.bytes
                && inner.buffer.front().is_some_and(|b| b.cursor != cursor))
        {
            let Some(oldest) = inner.buffer.front().map(|b| b.cursor) else {
                break;
            };
            while let Some(b) = inner.buffer.front().filter(|b| b.cursor == oldest) {
                let bytes = b.bytes;
                inner.buffer.pop_front();
                inner.buffered_bytes -= bytes;
            }
        }
        self.metrics.published(true, delivery.sent, delivery.cut);
        delivery
    }

    /// Hands frames that are not kept for resuming (typing, presence, queue
    /// positions) to their subscribers.
    pub fn signal(&self, frames: Vec<(Audience, Utf8Bytes)>) -> Delivery {
        if self.relay.is_some() {
            let copies = frames.iter().map(|(to, f)| (*to, f.to_string())).collect();
            self.relay(ChannelOp::Signal { frames: copies });
        }
        self.signal_here(frames)
    }

    fn signal_here(&self, frames: Vec<(Audience, Utf8Bytes)>) -> Delivery {
        let mut inner = self.lock();
        let mut delivery = Delivery::default();
        for (to, frame) in frames {
            delivery.add(inner.send(to, &Arc::new(frame)));
        }
        self.metrics.published(false, delivery.sent, delivery.cut);
        delivery
    }

    /// Records the new presence and sends each visitor whose inbox changed
    /// its frame: `visitor_frames[online as usize]`.
    pub fn set_presence(
        &self,
        users: BTreeMap<i64, String>,
        inboxes: HashMap<i64, bool>,
        agent_frame: Utf8Bytes,
        visitor_frames: [Utf8Bytes; 2],
    ) -> Delivery {
        if self.relay.is_some() {
            self.relay(ChannelOp::Presence {
                users: users.clone(),
                inboxes: inboxes.clone(),
                agents: agent_frame.to_string(),
                visitors: visitor_frames.clone().map(|f| f.to_string()),
            });
        }
        self.set_presence_here(users, inboxes, agent_frame, visitor_frames)
    }

    fn set_presence_here(
        &self,
        users: BTreeMap<i64, String>,
        inboxes: HashMap<i64, bool>,
        agent_frame: Utf8Bytes,
        visitor_frames: [Utf8Bytes; 2],
    ) -> Delivery {
        let mut inner = self.lock();
        let mut delivery = Delivery::default();
        if inner.presence != users {
            inner.presence = users;
            delivery.add(inner.send(Audience::Agents, &Arc::new(agent_frame)));
        }
        let changed: Vec<(i64, bool)> = inboxes
            .iter()
            .filter(|(inbox, online)| inner.inboxes_online.get(inbox) != Some(online))
            .map(|(i, o)| (*i, *o))
            .collect();
        inner.inboxes_online = inboxes;
        for (inbox, online) in changed {
            let frame = Arc::new(visitor_frames[usize::from(online)].clone());
            let mut cut = Vec::new();
            for (link, subs) in inner.visitors.iter() {
                for s in subs.iter().filter(|s| s.inbox_id == Some(inbox)) {
                    if offer(s, &frame) {
                        delivery.sent += 1;
                    } else {
                        cut.push((*link, s.id));
                    }
                }
            }
            for (link, id) in cut {
                delivery.cut += 1;
                if let Some(list) = inner.visitors.get_mut(&link) {
                    list.retain(|s| s.id != id);
                }
            }
        }
        self.metrics.published(false, delivery.sent, delivery.cut);
        delivery
    }
}

/// How many frames a publish handed out, and how many subscribers it cut.
#[derive(Debug, Default, Clone, Copy)]
pub struct Delivery {
    pub sent: u64,
    pub cut: u64,
}

impl Delivery {
    fn add(&mut self, other: Delivery) {
        self.sent += other.sent;
        self.cut += other.cut;
    }
}

/// Queues a frame; `false` when the subscriber is gone or too far behind.
fn offer(sub: &Subscriber, frame: &Frame) -> bool {
    sub.tx.try_send(frame.clone()).is_ok()
}

impl Inner {
    /// Queues `frame` for everyone in `to`, cutting subscribers that are too
    /// far behind: dropping their sender ends their queue, and the
    /// connection closes with [`switchboard_protocol::realtime::close::SLOW_CONSUMER`]
    /// once it has written what was queued.
    fn send(&mut self, to: Audience, frame: &Frame) -> Delivery {
        let mut delivery = Delivery::default();
        let list = match to {
            Audience::Agents => &mut self.agents,
            Audience::Visitor(link) => match self.visitors.get_mut(&link) {
                Some(list) => list,
                None => return delivery,
            },
        };
        list.retain(|s| {
            let kept = offer(s, frame);
            if kept {
                delivery.sent += 1;
            } else {
                delivery.cut += 1;
            }
            kept
        });
        if let Audience::Visitor(link) = to {
            if list.is_empty() {
                self.visitors.remove(&link);
            }
        }
        if delivery.cut > 0 {
            self.last_left = Some(std::time::Instant::now());
        }
        delivery
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscriber(channel: &Channel) -> (Subscriber, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(4);
        let sub = Subscriber {
            session: None,
            id: channel.subscriber_id(),
            tx,
            inbox_id: None,
        };
        (sub, rx)
    }

    fn publish(channel: &Channel, text: &str) -> u64 {
        let cursor = channel.cursor() + 1;
        channel.publish(
            cursor,
            vec![(Audience::Agents, Utf8Bytes::from(text.to_string()))],
        );
        cursor
    }

    #[test]
    fn resuming_returns_exactly_what_came_after_the_cursor() {
        let channel = Channel::new(1, Arc::default(), ReplayLimits::default());
        let (watcher, _rx) = subscriber(&channel);
        channel.subscribe(Audience::Agents, None, watcher);
        let first = publish(&channel, "a");
        publish(&channel, "b");
        publish(&channel, "c");
        let (sub, _rx2) = subscriber(&channel);
        match channel.subscribe(Audience::Agents, Some(first), sub) {
            Start::Resumed { missed, .. } => {
                let texts: Vec<&str> = missed.iter().map(|f| f.as_str()).collect();
                assert_eq!(texts, vec!["b", "c"]);
            }
            other => panic!("expected a resume, got {other:?}"),
        }
        let (sub, _rx3) = subscriber(&channel);
        assert!(matches!(
            channel.subscribe(Audience::Agents, Some(first - 5), sub),
            Start::Resync { .. }
        ));
    }

    #[test]
    fn the_replay_buffer_is_bounded_by_bytes_too() {
        let limits = ReplayLimits {
            events: 100,
            bytes: 10,
        };
        let channel = Channel::new(1, Arc::default(), limits);
        let (watcher, _rx) = subscriber(&channel);
        channel.subscribe(Audience::Agents, None, watcher);
        let before = channel.cursor();
        let first = publish(&channel, "aaaa");
        publish(&channel, "bbbb");
        publish(&channel, "cccc");
        // 12 bytes were published: the oldest event had to go, so a client
        // that missed it must resync; one that saw it resumes.
        let (late, _rx2) = subscriber(&channel);
        assert!(matches!(
            channel.subscribe(Audience::Agents, Some(before), late),
            Start::Resync { .. }
        ));
        let (sub, _rx3) = subscriber(&channel);
        match channel.subscribe(Audience::Agents, Some(first), sub) {
            Start::Resumed { missed, .. } => assert_eq!(missed.len(), 2),
            other => panic!("expected a resume, got {other:?}"),
        }
        // One event larger than the whole budget is still kept alone.
        let big = publish(&channel, &"x".repeat(64));
        let (sub, _rx4) = subscriber(&channel);
        assert!(matches!(
            channel.subscribe(Audience::Agents, Some(big), sub),
            Start::Resumed { .. }
        ));
        assert_eq!(channel.lock().buffered_bytes, 64);
    }

    #[test]
    fn the_replay_buffer_drops_whole_events() {
        let limits = ReplayLimits {
            events: 100,
            bytes: 10,
        };
        let channel = Channel::new(1, Arc::default(), limits);
        let before = channel.cursor();
        // One event for agents and a visitor, with different texts.
        let first = before + 1;
        channel.publish(
            first,
            vec![
                (Audience::Agents, Utf8Bytes::from_static("agents")),
                (Audience::Visitor(7), Utf8Bytes::from_static("visitor")),
            ],
        );
        publish(&channel, "later");
        // 18 bytes: the first event must go whole, so an agent who missed it
        // resyncs rather than resuming without it.
        let (sub, _rx) = subscriber(&channel);
        assert!(matches!(
            channel.subscribe(Audience::Agents, Some(before), sub),
            Start::Resync { .. }
        ));
        assert_eq!(channel.lock().buffer.len(), 1);
    }

    #[test]
    fn newcomers_wait_apart_and_move_to_their_link() {
        let channel = Channel::new(1, Arc::default(), ReplayLimits::default());
        let (a, mut a_rx) = subscriber(&channel);
        let (b, _b_rx) = subscriber(&channel);
        let (a_id, b_id) = (a.id, b.id);
        channel.subscribe(Audience::Visitor(newcomer(a_id)), None, a);
        channel.subscribe(Audience::Visitor(newcomer(b_id)), None, b);
        assert_ne!(newcomer(a_id), newcomer(b_id));
        assert!(newcomer(a_id) < 0);
        channel.relink(a_id, newcomer(a_id), 42);
        assert!(channel.has_visitor(42));
        assert!(!channel.has_visitor(newcomer(a_id)));
        assert!(channel.has_visitor(newcomer(b_id)));
        let cursor = channel.cursor() + 1;
        channel.publish(
            cursor,
            vec![(Audience::Visitor(42), Utf8Bytes::from_static("yours"))],
        );
        assert_eq!(a_rx.try_recv().expect("a frame").as_str(), "yours");
    }

    #[test]
    fn a_full_queue_cuts_only_that_subscriber() {
        let channel = Channel::new(1, Arc::default(), ReplayLimits::default());
        let (slow, _kept_unread) = subscriber(&channel);
        let (fast, mut fast_rx) = subscriber(&channel);
        channel.subscribe(Audience::Agents, None, slow);
        channel.subscribe(Audience::Agents, None, fast);
        let mut cut = 0;
        for _ in 0..6 {
            cut += publish_counting(&channel);
            while fast_rx.try_recv().is_ok() {}
        }
        assert_eq!(cut, 1, "the slow one is cut once, the fast one never");
    }

    fn publish_counting(channel: &Channel) -> u64 {
        let cursor = channel.cursor() + 1;
        channel
            .publish(
                cursor,
                vec![(Audience::Agents, Utf8Bytes::from_static("x"))],
            )
            .cut
    }

    #[test]
    fn nobody_watching_skips_and_forces_a_resync() {
        let channel = Channel::new(1, Arc::default(), ReplayLimits::default());
        let before = channel.cursor();
        assert!(channel.skip_if_unwatched(), "never watched: skipped");
        assert_eq!(
            channel.cursor(),
            before + 1,
            "the skipped event still takes a cursor"
        );
        let (sub, _rx) = subscriber(&channel);
        assert!(matches!(
            channel.subscribe(Audience::Agents, Some(before), sub),
            Start::Resync { .. }
        ));
        assert!(!channel.skip_if_unwatched(), "watched now");
    }
}
