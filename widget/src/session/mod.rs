//! The visitor's session: the protocol rules of `/ws/widget` as a plain
//! state machine. Its methods take what happened (a frame, a close, a click,
//! the time) and queue [`Effect`]s for the DOM side to carry out, so the
//! delicate parts (nothing lost, nothing duplicated across reconnects) are
//! unit tested without a browser. What the visitor does is in `actions.rs`,
//! what the server sends in `inbound.rs`.

use std::collections::VecDeque;

use switchboard_protocol::chat::Message;
use switchboard_protocol::realtime::{VisitorContact, VisitorFrame, WidgetInbox};

use crate::policy::{backoff_ms, TypingOut};
use crate::state::{Chat, Reason};

/// What the DOM side must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write this frame (JSON) on the socket.
    Send(String),
    /// Drop the socket, if any, and open a new one after this delay.
    Connect { delay_ms: u32 },
    /// Keep (or with `None` forget) the visitor token.
    SaveToken(Option<String>),
    /// Tell the host page.
    Host(HostOut),
    /// Post the files kept under the request's echo id.
    Upload(UploadRequest),
    /// Put these words back in the text box (when it is empty): an upload
    /// they went with was refused or cancelled.
    Restore(String),
}

/// Frame → loader messages.
#[derive(Debug, Clone, PartialEq)]
pub enum HostOut {
    Unread(u32),
    Message(Box<Message>),
}

/// The connection as the session sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No socket; one is scheduled unless the session is [`Fatal`].
    Down,
    /// A socket is opening, or waits for `welcome`.
    Connecting,
    /// `welcome` arrived.
    Live,
}

/// States that no reconnect can mend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    /// Unknown website token, or the credentials were refused.
    Unavailable,
    /// The inbox is limited to another website.
    OriginBlocked,
}

/// The status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Fatal(Fatal),
    Connecting,
    Reconnecting,
    Online,
    Away,
}

/// A frame that the server answers exactly once (`ack`, `history`,
/// `identity`, `pong`, or `error`), in the order sent: how an `error`, which
/// names no frame, is matched to what it refuses. Typing frames are left
/// out (only their failures are answered); an error of theirs taken for a
/// message's is mended when that message's `ack` (by echo id) comes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    Send(String),
    History { before: Option<i64> },
    Identity(VisitorFrame),
    Ping,
}

/// A connection silent this long is asked for a `pong`…
pub const PING_AFTER_MS: f64 = 25_000.0;
/// …and given up if none comes within this.
pub const PONG_WITHIN_MS: f64 = 10_000.0;
/// A socket that does not reach `welcome` within this is given up.
pub const CONNECT_WITHIN_MS: f64 = 15_000.0;

#[derive(Debug)]
pub struct Session {
    pub website_token: String,
    pub visitor_token: Option<String>,
    pub(crate) cursor: Option<u64>,
    pub link: Link,
    pub(crate) link_since: f64,
    pub(crate) attempt: u32,
    pub(crate) connected_once: bool,
    pub fatal: Option<Fatal>,
    pub chat: Chat,
    pub inbox: Option<WidgetInbox>,
    pub contact: Option<VisitorContact>,
    pub agents_online: bool,
    /// The window is shown (unread counting stops).
    pub open: bool,
    pub(crate) replies: VecDeque<Request>,
    /// `set_user` / `set_custom_attributes` waiting for a connection.
    pub(crate) identity: VecDeque<VisitorFrame>,
    /// The host page's last signed `set_user`: sent again when this tab's
    /// token is revoked (another tab proved the identity), it leads back to
    /// the same contact.
    pub(crate) signed_user: Option<VisitorFrame>,
    /// Echo id of the `start_conversation` in flight.
    pub(crate) starting: Option<String>,
    /// The stored visitor token was refused: try once as a new visitor.
    pub(crate) fresh_retry: bool,
    pub older_loading: bool,
    pub(crate) newest_loading: bool,
    pub(crate) last_heard: f64,
    pub(crate) ping_at: Option<f64>,
    pub(crate) typing: TypingOut,
    pub prechat_busy: bool,
    pub prechat_error: Option<Reason>,
    /// The visitor's files on their way (one upload at a time).
    pub upload: Option<Upload>,
    /// Why the last files picked were not sent.
    pub attach_notice: Option<Refusal>,
    out: Vec<Effect>,
}

impl Session {
    pub fn new(website_token: String, visitor_token: Option<String>, open: bool) -> Session {
        let fatal = website_token.is_empty().then_some(Fatal::Unavailable);
        Session {
            website_token,
            visitor_token,
            cursor: None,
            link: Link::Down,
            link_since: 0.0,
            attempt: 0,
            connected_once: false,
            fatal,
            chat: Chat::default(),
            inbox: None,
            contact: None,
            agents_online: false,
            open,
            replies: VecDeque::new(),
            identity: VecDeque::new(),
            signed_user: None,
            starting: None,
            fresh_retry: false,
            older_loading: false,
            newest_loading: false,
            last_heard: 0.0,
            ping_at: None,
            typing: TypingOut::default(),
            prechat_busy: false,
            prechat_error: None,
            upload: None,
            attach_notice: None,
            out: Vec::new(),
        }
    }

    /// The effects queued since the last call.
    pub fn drain(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.out)
    }

    pub(crate) fn emit(&mut self, effect: Effect) {
        self.out.push(effect);
    }

    pub(crate) fn send(&mut self, frame: &VisitorFrame) {
        if let Ok(json) = serde_json::to_string(frame) {
            self.emit(Effect::Send(json));
        }
    }

    /// Sends a frame the server answers once, remembering it in order.
    pub(crate) fn request(&mut self, frame: &VisitorFrame, request: Request) {
        self.send(frame);
        self.replies.push_back(request);
    }

    /// The first connection (or none, when the token is missing).
    pub fn start(&mut self) {
        if self.fatal.is_none() {
            self.emit(Effect::Connect { delay_ms: 0 });
        }
    }

    /// The DOM side opened a socket.
    pub fn connecting(&mut self, now: f64) {
        self.link = Link::Connecting;
        self.link_since = now;
    }

    /// The socket is open: authenticate.
    pub fn opened(&mut self, now: f64) {
        self.last_heard = now;
        let auth = VisitorFrame::Auth {
            website_token: self.website_token.clone(),
            visitor_token: self.visitor_token.clone(),
            cursor: self.cursor,
        };
        self.send(&auth);
    }

    /// Forgets what was in flight on the socket that is gone. Identity
    /// frames not yet answered go back to the queue: they are sent again.
    pub(crate) fn drop_link(&mut self) {
        self.link = Link::Down;
        let unanswered: Vec<_> = self
            .replies
            .drain(..)
            .filter_map(|r| match r {
                Request::Identity(f) => Some(f),
                _ => None,
            })
            .collect();
        for f in unanswered.into_iter().rev() {
            self.identity.push_front(f);
        }
        self.starting = None;
        self.older_loading = false;
        self.newest_loading = false;
        self.ping_at = None;
        self.typing.reset();
        self.chat.typing = None;
    }

    /// The socket closed with `code` (ours to reconnect or not).
    pub fn closed(&mut self, code: u16, random: f64) {
        self.drop_link();
        if self.fatal.is_some() {
            return;
        }
        if code == switchboard_protocol::realtime::close::REVOKED {
            // Another tab proved this visitor's identity and was given a new
            // token (saved in the page's storage, which is left alone): this
            // one opens nothing now. Come back as new; the host page's signed
            // setUser, sent again, leads back to the same contact.
            self.drop_visitor();
            self.visitor_token = None;
            if let Some(signed) = self.signed_user.clone() {
                self.identity.push_back(signed);
            }
            self.emit(Effect::Connect { delay_ms: 0 });
            return;
        }
        if code == switchboard_protocol::realtime::close::UNAUTHORIZED {
            if self.fresh_retry && self.visitor_token.is_none() {
                self.emit(Effect::Connect { delay_ms: 0 });
            } else {
                self.fatal = Some(Fatal::Unavailable);
            }
            return;
        }
        let delay_ms = backoff_ms(self.attempt, random);
        self.attempt = self.attempt.saturating_add(1);
        self.emit(Effect::Connect { delay_ms });
    }

    /// The browser is back online: retry now rather than at the backoff.
    pub fn network_online(&mut self) {
        if self.link == Link::Down && self.fatal.is_none() {
            self.emit(Effect::Connect { delay_ms: 0 });
        }
    }

    /// About once a second: typing timeouts and liveness checks.
    pub fn tick(&mut self, now: f64, random: f64) {
        self.chat.expire_typing(now);
        if let Some(on) = self.typing.tick(now) {
            self.send_typing(on);
        }
        let lost = match self.link {
            Link::Live => match self.ping_at {
                Some(at) => now - at > PONG_WITHIN_MS,
                None => {
                    if now - self.last_heard > PING_AFTER_MS {
                        self.ping_at = Some(now);
                        self.request(&VisitorFrame::Ping {}, Request::Ping);
                    }
                    false
                }
            },
            Link::Connecting => now - self.link_since > CONNECT_WITHIN_MS,
            Link::Down => false,
        };
        if lost {
            // 1006: "closed abnormally", as the browser reports a lost link.
            self.closed(1006, random);
        }
    }

    pub fn status(&self) -> Status {
        match (self.fatal, self.link) {
            (Some(f), _) => Status::Fatal(f),
            (None, Link::Live) if self.agents_online => Status::Online,
            (None, Link::Live) => Status::Away,
            _ if self.connected_once || self.attempt > 0 => Status::Reconnecting,
            _ => Status::Connecting,
        }
    }
}

mod actions;
mod inbound;
mod upload;

pub use upload::{
    check as check_files, Picked, Refusal, Upload, UploadRequest, UploadState, ACCEPT, MAX_FILES,
    MAX_FILE_BYTES,
};

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests_link;
#[cfg(test)]
mod tests_send;
#[cfg(test)]
mod tests_upload;
