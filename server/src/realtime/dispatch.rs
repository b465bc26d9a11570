//! An account's dispatcher: turns the hub's feed into frames, in order, once
//! each change is durable. One task per account, so a busy account never
//! delays another.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Weak};

use axum::extract::ws::Utf8Bytes;
use serde_json::json;
use switchboard_protocol::realtime::{AgentPresence, QueuePosition, ServerEvent, VisitorPresence};
use tokio::sync::mpsc;

use super::{Audience, Channel};
use crate::hub::feed::{ConversationChange, FeedItem, Posted};
use crate::hub::Hub;
use crate::store::{Conversation, ConversationStatus, MessageType, Store};
use crate::views::chat::{self, Names};
use crate::views::frames::{frame, visitor_conversation};

/// Feed items handled per round before queue positions are refreshed.
const ROUND: usize = 512;
/// Contacts remembered for rendering before the cache starts over.
const CONTACTS_CACHED: usize = 100_000;

/// Starts the dispatcher of one account; it ends when the feed's sender
/// (kept by the shard) is dropped.
pub fn spawn(
    channel: Arc<Channel>,
    hub: Weak<Hub>,
    store: Arc<dyn Store>,
) -> mpsc::UnboundedSender<FeedItem> {
    let (tx, rx) = mpsc::unbounded_channel();
    let dispatcher = Dispatcher {
        channel,
        hub,
        store,
        names: Names {
            contacts: HashMap::new(),
            directory: Arc::default(),
        },
        positions: HashMap::new(),
    };
    tokio::spawn(dispatcher.run(rx));
    tx
}

struct Dispatcher {
    channel: Arc<Channel>,
    /// Asked for queue positions, which the feed does not carry.
    hub: Weak<Hub>,
    store: Arc<dyn Store>,
    names: Names,
    /// Per inbox, the visitor link and queue position last sent for each
    /// waiting conversation.
    positions: HashMap<i64, HashMap<i64, (i64, usize)>>,
}

/// The contacts a commit's events name: each conversation's, and each
/// contact who wrote.
fn contact_ids<'a>(
    conversations: &'a [ConversationChange],
    messages: &'a [Posted],
) -> impl Iterator<Item = i64> + 'a {
    conversations
        .iter()
        .filter_map(|c| c.after.as_ref().map(|l| l.conversation.contact_id))
        .chain(messages.iter().filter_map(|p| match p.message.sender {
            Some(crate::store::Sender::Contact(id)) => Some(id),
            _ => None,
        }))
}

/// Whether a conversation is waiting in its inbox's queue.
fn waiting(c: &Conversation) -> bool {
    c.status == ConversationStatus::Open && c.assignee_id.is_none()
}

impl Dispatcher {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<FeedItem>) {
        let mut round = Vec::with_capacity(ROUND);
        while rx.recv_many(&mut round, ROUND).await > 0 {
            let mut queues_moved = BTreeSet::new();
            if self.channel.watched() {
                // One read for the whole round's unknown contacts.
                let ids: Vec<i64> = round
                    .iter()
                    .flat_map(|item| match item {
                        FeedItem::Commit {
                            conversations,
                            messages,
                            ..
                        } => contact_ids(conversations, messages).collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                self.load_contacts(ids.into_iter()).await;
            }
            for item in round.drain(..) {
                self.handle(item, &mut queues_moved).await;
            }
            if !queues_moved.is_empty() {
                self.send_positions(&queues_moved);
            }
        }
    }

    async fn handle(&mut self, item: FeedItem, queues_moved: &mut BTreeSet<i64>) {
        match item {
            FeedItem::Commit {
                durable,
                directory,
                conversations,
                messages,
            } => {
                if let Err(err) = durable.wait().await {
                    // Nothing of it was acknowledged; nobody hears of it.
                    tracing::debug!(%err, "a change failed to commit; no events");
                    return;
                }
                self.names.directory = directory;
                if self.channel.skip_if_unwatched() {
                    // Nobody is connected to the account: nothing to render.
                    return;
                }
                let ids: Vec<i64> = contact_ids(&conversations, &messages).collect();
                self.load_contacts(ids.into_iter()).await;
                for change in &conversations {
                    for c in change
                        .before
                        .iter()
                        .chain(change.after.as_ref().map(|l| &l.conversation))
                    {
                        if waiting(c) {
                            queues_moved.insert(c.inbox_id);
                        }
                    }
                    self.conversation_events(change);
                }
                for posted in &messages {
                    self.message_event(posted);
                }
            }
            FeedItem::Presence { users, inboxes } => {
                let cursor = Some(self.channel.cursor());
                let agent_frame = frame(
                    ServerEvent::PresenceUpdate,
                    cursor,
                    &AgentPresence {
                        account_id: self.channel.account_id,
                        users: users.clone(),
                    },
                );
                self.channel.set_presence(
                    users,
                    inboxes,
                    agent_frame,
                    [false, true].map(|online| {
                        frame(
                            ServerEvent::PresenceUpdate,
                            cursor,
                            &VisitorPresence {
                                agents_online: online,
                            },
                        )
                    }),
                );
            }
            FeedItem::Typing {
                conversation,
                on,
                data,
            } => {
                let name = if on {
                    ServerEvent::TypingOn
                } else {
                    ServerEvent::TypingOff
                };
                let bytes = frame(name, Some(self.channel.cursor()), &data);
                let mut frames = vec![(Audience::Agents, bytes.clone())];
                if let (Some(link), false, "user") = (
                    conversation.contact_inbox_id,
                    data.is_private,
                    data.sender_type.as_str(),
                ) {
                    frames.push((Audience::Visitor(link), bytes));
                }
                self.channel.signal(frames);
            }
            FeedItem::Read { conversation, data } => {
                let bytes = frame(
                    ServerEvent::ConversationRead,
                    Some(self.channel.cursor()),
                    &data,
                );
                let mut frames = vec![(Audience::Agents, bytes.clone())];
                if let Some(link) = conversation.contact_inbox_id {
                    frames.push((Audience::Visitor(link), bytes));
                }
                self.channel.signal(frames);
            }
            FeedItem::Resync => {
                self.channel.resync_all();
                // The store may have put the queues elsewhere: each inbox's
                // positions are compared again this round, so visitors hear
                // their new place, or that they left the line.
                queues_moved.extend(self.positions.keys().copied());
            }
            FeedItem::Contact { id, contact } => match contact {
                Some(contact) => {
                    let cursor = self.channel.cursor() + 1;
                    let bytes = frame(
                        ServerEvent::ContactUpdated,
                        Some(cursor),
                        &chat::contact(&contact),
                    );
                    self.names.contacts.insert(id, contact);
                    self.channel
                        .publish(cursor, vec![(Audience::Agents, bytes)]);
                }
                None => {
                    self.names.contacts.remove(&id);
                }
            },
        }
    }

    /// Reads the contacts these changes render that are not cached yet.
    async fn load_contacts(&mut self, ids: impl Iterator<Item = i64>) {
        let mut missing: Vec<i64> = ids
            .filter(|id| !self.names.contacts.contains_key(id))
            .collect();
        if missing.is_empty() {
            return;
        }
        missing.sort_unstable();
        missing.dedup();
        if self.names.contacts.len() + missing.len() > CONTACTS_CACHED {
            self.names.contacts.clear();
        }
        match self
            .store
            .contacts_by_ids(self.channel.account_id, &missing)
            .await
        {
            Ok(found) => self
                .names
                .contacts
                .extend(found.into_iter().map(|c| (c.id, c))),
            // Rendering goes on with an unnamed contact rather than stall.
            Err(err) => tracing::warn!(%err, "contacts could not be loaded for events"),
        }
    }

    /// Publishes one resumable event to agents and, when it concerns a
    /// visitor, its visitor frame.
    fn publish(
        &self,
        name: ServerEvent,
        agents: &impl serde::Serialize,
        visitor: Option<(i64, Utf8Bytes)>,
    ) {
        let cursor = self.channel.cursor() + 1;
        let mut frames = vec![(Audience::Agents, frame(name, Some(cursor), agents))];
        if let Some((link, bytes)) = visitor {
            frames.push((Audience::Visitor(link), bytes));
        }
        self.channel.publish(cursor, frames);
    }

    fn conversation_events(&self, change: &ConversationChange) {
        let directory = self.names.directory.clone();
        let Some(after) = &change.after else {
            if let Some(before) = &change.before {
                let data = json!({ "id": before.id });
                let visitor = before.contact_inbox_id.map(|link| {
                    let cursor = self.channel.cursor() + 1;
                    (
                        link,
                        frame(ServerEvent::ConversationDeleted, Some(cursor), &data),
                    )
                });
                self.publish(ServerEvent::ConversationDeleted, &data, visitor);
            }
            return;
        };
        let c = &after.conversation;
        let rendered = self.names.conversation(after);
        let visitor = |name: ServerEvent| {
            c.contact_inbox_id.map(|link| {
                let cursor = self.channel.cursor() + 1;
                let data = visitor_conversation(&directory, c, None);
                (link, frame(name, Some(cursor), &data))
            })
        };
        let Some(before) = &change.before else {
            self.publish(
                ServerEvent::ConversationCreated,
                &rendered,
                visitor(ServerEvent::ConversationCreated),
            );
            // Assigned as it was opened: consoles hear of it as of any
            // assignment.
            if c.assignee_id.is_some() {
                self.publish(
                    ServerEvent::AssigneeChanged,
                    &rendered,
                    visitor(ServerEvent::AssigneeChanged),
                );
            }
            return;
        };
        let mut any = false;
        if before.status != c.status {
            any = true;
            self.publish(
                ServerEvent::ConversationStatusChanged,
                &rendered,
                visitor(ServerEvent::ConversationStatusChanged),
            );
        }
        if before.assignee_id != c.assignee_id {
            any = true;
            self.publish(
                ServerEvent::AssigneeChanged,
                &rendered,
                visitor(ServerEvent::AssigneeChanged),
            );
        }
        if !any && before.snoozed_until != c.snoozed_until {
            self.publish(
                ServerEvent::ConversationUpdated,
                &rendered,
                visitor(ServerEvent::ConversationUpdated),
            );
        }
    }

    fn message_event(&self, posted: &Posted) {
        let m = &posted.message;
        let rendered = self.names.message(m, posted.inbox_id);
        let name = if posted.edited {
            ServerEvent::MessageUpdated
        } else {
            ServerEvent::MessageCreated
        };
        // Visitors never see private notes, nor the activity lines meant
        // for the team.
        let for_visitor = !m.private && m.message_type != MessageType::Activity;
        let cursor = self.channel.cursor() + 1;
        let bytes = frame(name, Some(cursor), &rendered);
        let mut frames = vec![(Audience::Agents, bytes.clone())];
        if let Some(link) = posted.contact_inbox_id.filter(|_| for_visitor) {
            // Visitors get the same bytes, unless an agent's full name would
            // show: they know agents by their display name only.
            let public = self.names.message_for_contact(m, posted.inbox_id);
            let bytes = if public.sender == rendered.sender {
                bytes
            } else {
                frame(name, Some(cursor), &public)
            };
            frames.push((Audience::Visitor(link), bytes));
        }
        self.channel.publish(cursor, frames);
    }

    /// Tells each connected visitor waiting in these inboxes their new place
    /// in line, and those who left the line that they did.
    fn send_positions(&mut self, inboxes: &BTreeSet<i64>) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        if !self.channel.has_visitors() {
            // Nobody to tell; whoever connects later gets their place in
            // `welcome`.
            return;
        }
        let cursor = self.channel.cursor();
        let mut frames = Vec::new();
        for &inbox in inboxes {
            let queue = hub.queue_links(self.channel.account_id, inbox);
            let sent = self.positions.entry(inbox).or_default();
            let mut now: HashMap<i64, (i64, usize)> = HashMap::new();
            for (i, (id, link)) in queue.into_iter().enumerate() {
                let Some(link) = link.filter(|l| self.channel.has_visitor(*l)) else {
                    continue;
                };
                let position = i + 1;
                now.insert(id, (link, position));
                if sent.get(&id) != Some(&(link, position)) {
                    let data = QueuePosition {
                        conversation_id: id,
                        position: Some(position),
                    };
                    frames.push((
                        Audience::Visitor(link),
                        frame(ServerEvent::QueuePosition, Some(cursor), &data),
                    ));
                }
            }
            // Those who left the line (taken, resolved, removed) hear it once.
            for (&id, &(link, _)) in sent.iter().filter(|(id, _)| !now.contains_key(id)) {
                let data = QueuePosition {
                    conversation_id: id,
                    position: None,
                };
                frames.push((
                    Audience::Visitor(link),
                    frame(ServerEvent::QueuePosition, Some(cursor), &data),
                ));
            }
            *sent = now;
        }
        self.channel.signal(frames);
    }
}
