//! Applying the socket's events to what the console shows. Conversation
//! events carry the whole conversation, so each is a replacement by id;
//! applying one twice (a replay after reconnecting) changes nothing, and
//! never alerts twice.

use crate::alert;
use crate::app::{dispatch, App};
use crate::conversation::store::{Applied, Status};
use crate::dom;
use crate::i18n::T;
use crate::msg::Msg;
use crate::route::Route;
use crate::session::events::Event;

/// Ping when nothing arrived for this long; reconnect after `DEAD_MS`
/// (the server pings every 20 s, but browsers do not show those).
const PING_MS: f64 = 25_000.0;
const DEAD_MS: f64 = 70_000.0;
use switchboard_protocol::realtime::AgentFrame;

impl App {
    pub(crate) fn apply(&mut self, event: Event) {
        if matches!(
            event,
            Event::Conversation(..)
                | Event::ConversationDeleted(_)
                | Event::MessageCreated(_)
                | Event::MessageUpdated(_)
                | Event::ContactUpdated(_)
        ) {
            // Changes like these send webhooks and callbacks.
            self.logs_soon();
        }
        let me = self.data.me();
        let open = self.data.open_id();
        match event {
            Event::Conversation(_, c) => {
                let id = c.id;
                self.members_due_for(c.inbox_id);
                let was_mine = self.data.store.get(id).map(|x| x.assignee_id == Some(me));
                let now_mine = c.assignee_id == Some(me);
                let waiting = matches!(c.status, Status::Open | Status::Pending);
                self.data.missing.remove(&id);
                if self.data.store.upsert(*c) == Applied::Unchanged {
                    return;
                }
                self.dirty.list = true;
                if open == Some(id) {
                    self.dirty.conversation = true;
                }
                if now_mine && was_mine != Some(true) && waiting {
                    // Taking a conversation ourselves needs no alarm.
                    if !self.self_assigning.remove(&id) {
                        self.alert_assigned(id);
                    }
                }
            }
            Event::ConversationDeleted(id) => {
                self.data.store.remove(id);
                self.data.threads.remove(id);
                if open == Some(id) {
                    self.data.missing.insert(id);
                    self.dirty.conversation = true;
                    self.dirty.thread = true;
                }
                self.dirty.list = true;
            }
            Event::MessageCreated(m) => {
                self.data.store.on_message(&m, true);
                if let Some(kind) = &m.sender_type {
                    let who = m.sender_id.unwrap_or_default();
                    if self.data.typing.stop(m.conversation_id, kind, who) {
                        self.dirty.typing = true;
                    }
                }
                if self.data.threads.on_message(&m) && open == Some(m.conversation_id) {
                    self.dirty.thread = true;
                }
                self.dirty.list = true;
            }
            Event::MessageUpdated(m) => {
                self.data.store.on_message(&m, false);
                if self.data.threads.on_message(&m) && open == Some(m.conversation_id) {
                    self.dirty.thread = true;
                }
                self.dirty.list = true;
            }
            Event::ContactUpdated(contact) => {
                if self.data.store.on_contact(&contact) {
                    self.dirty.list = true;
                    self.dirty.conversation = true;
                }
                self.contact_followed(&contact);
            }
            Event::Typing(on, t) => {
                if self.data.typing.apply(on, &t, me, dom::now_ms()) {
                    self.dirty.typing = true;
                }
            }
            Event::Presence(p) => {
                self.data.presence = p.users;
                // The open conversation's collaborators may have come or gone.
                self.members_due = self.open_conversation_inbox().or(self.members_due);
                self.own_presence();
                self.dirty.topbar = true;
                self.dirty.conversation = true;
                self.dirty.settings = true;
            }
            Event::Read(_)
            | Event::Welcome(_)
            | Event::Resync
            | Event::Error(_)
            | Event::Pong
            | Event::Other(_) => {}
        }
    }

    /// A beep and a desktop notification for a conversation now ours.
    fn alert_assigned(&self, id: i64) {
        alert::beep();
        let Some(c) = self.data.store.get(id) else {
            return;
        };
        let lang = self.data.lang;
        let body = match c
            .last_non_activity_message
            .as_ref()
            .and_then(|m| m.content.as_deref())
        {
            Some(text) => format!(
                "{}: {}",
                crate::i18n::format::contact_name(&c.meta.sender, lang),
                text
            ),
            None => crate::i18n::format::contact_name(&c.meta.sender, lang),
        };
        alert::notify(
            lang.t(T::AssignedToYou),
            &body,
            &format!("conversation-{id}"),
            move || dispatch(Msg::Navigate(Route::Conversations(Some(id)))),
        );
    }

    /// The top bar follows our availability as presence reports it (it
    /// may be changed from another tab).
    pub(crate) fn own_presence(&mut self) {
        let me = self.data.me();
        if let Some(p) = self.data.presence.get(&me) {
            let availability = match p.as_str() {
                "online" => "available",
                "busy" => "busy",
                _ => "offline",
            };
            self.data.availability = availability.into();
        }
    }

    /// The open conversation's inbox, if any.
    fn open_conversation_inbox(&self) -> Option<i64> {
        let open = self.data.open_id()?;
        self.data.store.get(open).map(|c| c.inbox_id)
    }

    /// The loads of `inbox`'s collaborators may have changed: fetched again
    /// on the next tick if one of its conversations is open.
    fn members_due_for(&mut self, inbox: i64) {
        if self.open_conversation_inbox() == Some(inbox) {
            self.members_due = Some(inbox);
        }
    }

    pub(crate) fn tick(&mut self) {
        if let Some(inbox) = self.members_due.take() {
            self.load_members(inbox);
        }
        let now = dom::now_ms();
        if self.data.typing.expire(now) {
            self.dirty.typing = true;
        }
        if let Some(frame) = self.typing_out.tick(now) {
            self.send(&frame);
        }
        self.dirty.clocks = true;
        if let Some(until) = self.data.forms.confirm_remove_until {
            if now > until {
                self.data.forms.confirm_remove = None;
                self.data.forms.confirm_collaborator = None;
                self.data.forms.confirm_disconnect = false;
                self.data.forms.channels.confirm_disconnect = false;
                self.data.forms.channels.confirm_delete = None;
                self.data.forms.inbox_settings.confirm_delete = false;
                self.data.forms.confirm_remove_until = None;
                self.dirty.settings = true;
            }
        }
        self.logs_tick(now);
        if self.data.live {
            if now - self.last_rx > DEAD_MS {
                self.connect();
            } else if now - self.last_rx > PING_MS && now - self.last_ping > PING_MS {
                self.last_ping = now;
                self.send(&AgentFrame::Ping {});
            }
        }
    }
}
