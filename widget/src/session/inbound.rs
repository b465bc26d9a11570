//! What the session does with each server frame of `/ws/widget`.

use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_protocol::chat::Message;
use switchboard_protocol::realtime::{
    AckData, ErrorData, History, Identity, QueuePosition, ServerEvent, ServerFrame, Typing,
    VisitorConversation, VisitorPresence, VisitorWelcome,
};

use super::{Effect, Fatal, HostOut, Link, Request, Session};
use crate::state::Reason;

/// `conversation.deleted` data.
#[derive(serde::Deserialize)]
struct Deleted {
    id: i64,
}

fn parse<T: DeserializeOwned>(data: Value) -> Option<T> {
    serde_json::from_value(data).ok()
}

impl Session {
    /// A text frame from the server. Unknown or malformed frames are
    /// ignored: a newer server may send events this widget does not know.
    pub fn received(&mut self, text: &str, now: f64) {
        self.last_heard = now;
        self.ping_at = None;
        let Ok(frame) = serde_json::from_str::<ServerFrame>(text) else {
            return;
        };
        let ServerFrame {
            event: name,
            cursor,
            data,
        } = frame;
        let event = ServerEvent::parse(&name);
        if event == Some(ServerEvent::Welcome) {
            if let Some(w) = parse::<VisitorWelcome>(data) {
                self.welcome(w, cursor);
            }
            return;
        }
        // After a resumed `welcome`, the missed events follow with their
        // own cursors; signals carry the latest cursor, never beyond what
        // reached us. So the largest cursor seen is where to resume.
        if let Some(c) = cursor {
            self.cursor = Some(self.cursor.map_or(c, |old| old.max(c)));
        }
        match event {
            Some(ServerEvent::Error) => {
                if let Some(e) = parse::<ErrorData>(data) {
                    self.error(e);
                }
            }
            Some(ServerEvent::Ack) => {
                if let Some(a) = parse::<AckData>(data) {
                    self.ack(a);
                }
            }
            Some(ServerEvent::Pong) => {
                self.answered(|r| *r == Request::Ping);
            }
            Some(ServerEvent::Resync) => {
                if let Some(c) = cursor {
                    self.cursor = Some(c);
                }
                self.request_history(None);
            }
            Some(ServerEvent::History) => {
                if let Some(page) = parse::<History>(data) {
                    self.history(page);
                }
            }
            Some(ServerEvent::Identity) => {
                if let Some(identity) = parse::<Identity>(data) {
                    self.identity_changed(identity);
                }
            }
            Some(ServerEvent::MessageCreated) | Some(ServerEvent::MessageUpdated) => {
                if let Some(m) = parse::<Message>(data) {
                    self.message(m);
                }
            }
            Some(ServerEvent::ConversationCreated)
            | Some(ServerEvent::ConversationUpdated)
            | Some(ServerEvent::ConversationStatusChanged)
            | Some(ServerEvent::AssigneeChanged) => {
                if let Some(c) = parse::<VisitorConversation>(data) {
                    let shown = self.chat.current;
                    self.chat.upsert_conversation(c);
                    self.shown_changed(shown);
                }
            }
            Some(ServerEvent::ConversationDeleted) => {
                if let Some(d) = parse::<Deleted>(data) {
                    let shown = self.chat.current;
                    self.chat.remove_conversation(d.id);
                    self.shown_changed(shown);
                }
            }
            Some(ServerEvent::QueuePosition) => {
                if let Some(q) = parse::<QueuePosition>(data) {
                    self.chat.set_queue_position(q.conversation_id, q.position);
                }
            }
            Some(ServerEvent::TypingOn) | Some(ServerEvent::TypingOff) => {
                if let Some(t) = parse::<Typing>(data) {
                    if t.sender_type == "user" && !t.is_private {
                        let on = event == Some(ServerEvent::TypingOn);
                        self.chat.set_typing(t.conversation_id, t.name, on, now);
                    }
                }
            }
            Some(ServerEvent::PresenceUpdate) => {
                if let Some(p) = parse::<VisitorPresence>(data) {
                    self.agents_online = p.agents_online;
                }
            }
            // `welcome` was handled above; the rest is for agents (and a
            // newer server's events mean nothing here).
            Some(
                ServerEvent::Welcome | ServerEvent::ConversationRead | ServerEvent::ContactUpdated,
            )
            | None => {}
        }
    }

    fn welcome(&mut self, w: VisitorWelcome, cursor: Option<u64>) {
        self.link = Link::Live;
        self.connected_once = true;
        self.attempt = 0;
        self.fresh_retry = false;
        if !w.resumed {
            self.cursor = cursor;
        }
        // A new visitor has no token until they first write (`identity`).
        if let Some(token) = w.visitor_token {
            self.keep_token(token);
        }
        self.inbox = Some(w.inbox);
        self.contact = w.contact;
        self.agents_online = w.agents_online;
        let changed = self.chat.set_conversations(w.conversations);
        if !w.resumed || changed {
            self.request_history(None);
        }
        // Identity first: a pre-chat form answered offline unblocks messages.
        self.flush_identity();
        self.flush_unsent();
    }

    /// A new shown conversation (another tab started one, or ours was
    /// deleted): load it, and send what waits for it.
    fn shown_changed(&mut self, before: Option<i64>) {
        if self.chat.current != before {
            self.request_history(None);
            self.flush_unsent();
        }
    }

    /// Removes the first request `matches` picks; `None` when there is none.
    fn answered(&mut self, matches: impl Fn(&Request) -> bool) -> Option<Request> {
        let at = self.replies.iter().position(matches)?;
        self.replies.remove(at)
    }

    fn error(&mut self, e: ErrorData) {
        let field = e.errors.first().map(|f| f.code.as_str());
        let reason = Reason::from_codes(&e.error, field, &e.message);
        if self.link != Link::Live {
            // Refused at `auth` (close 4001 follows).
            match e.error.as_str() {
                "not_found" if self.visitor_token.is_some() && !self.fresh_retry => {
                    // The stored visitor is gone: come back as a new one.
                    self.fresh_retry = true;
                    self.visitor_token = None;
                    self.emit(Effect::SaveToken(None));
                }
                "origin_not_allowed" => self.fatal = Some(Fatal::OriginBlocked),
                "not_found" | "unauthorized" | "invalid_frame" => {
                    self.fatal = Some(Fatal::Unavailable)
                }
                _ => {}
            }
            return;
        }
        match self.replies.pop_front() {
            Some(Request::Send(echo_id)) => {
                if self.starting.as_deref() == Some(echo_id.as_str()) {
                    self.starting = None;
                }
                self.chat.fail(&echo_id, reason);
                self.flush_unsent();
            }
            Some(Request::History { before: Some(_) }) => self.older_loading = false,
            Some(Request::History { before: None }) => self.newest_loading = false,
            Some(Request::Identity(_)) => {
                self.prechat_busy = false;
                self.prechat_error = Some(reason);
            }
            Some(Request::Ping) | None => {}
        }
    }

    fn ack(&mut self, a: AckData) {
        let Some(echo_id) = a.echo_id else {
            return;
        };
        let request = Request::Send(echo_id.clone());
        self.answered(|r| *r == request);
        if self.starting.as_deref() == Some(echo_id.as_str()) {
            self.starting = None;
        }
        let shown = self.chat.current;
        self.chat.ack(&echo_id, a.conversation_id, a.message_id);
        if shown.is_none() && self.chat.current.is_some() {
            // Our start created the conversation: the messages typed
            // meanwhile go into it now.
            self.flush_unsent();
        }
    }

    fn history(&mut self, page: History) {
        let request = self.answered(|r| matches!(r, Request::History { .. }));
        let before = match request {
            Some(Request::History { before }) => before,
            _ => None,
        };
        match before {
            Some(_) => self.older_loading = false,
            None => self.newest_loading = false,
        }
        self.chat.apply_history(page, before);
    }

    fn identity_changed(&mut self, identity: Identity) {
        self.answered(|r| matches!(r, Request::Identity(_)));
        self.prechat_busy = false;
        self.prechat_error = None;
        if identity.switched {
            // Another contact: its own conversations, from a fresh start.
            self.forget_visitor(Some(identity.visitor_token));
            self.emit(Effect::Connect { delay_ms: 0 });
        } else {
            // A new visitor's first token, or a new one after proving who
            // they are: the old one no longer opens anything.
            self.keep_token(identity.visitor_token);
            self.contact = Some(identity.contact);
            self.flush_unsent();
        }
    }

    /// Remembers the visitor's token (here and in the page's storage).
    fn keep_token(&mut self, token: String) {
        if self.visitor_token.as_deref() != Some(token.as_str()) {
            self.visitor_token = Some(token.clone());
            self.emit(Effect::SaveToken(Some(token)));
        }
    }

    fn message(&mut self, m: Message) {
        let shown = self.chat.current;
        if let Some(team) = self.chat.apply_live(m, self.open) {
            if !self.open {
                let unread = self.chat.unread;
                self.emit(Effect::Host(HostOut::Unread(unread)));
            }
            self.emit(Effect::Host(HostOut::Message(Box::new(team))));
        }
        if shown.is_none() && self.chat.current.is_some() {
            self.flush_unsent();
        }
    }
}
