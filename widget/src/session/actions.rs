//! What the visitor (and the host page) does: sending, retrying, typing,
//! scrolling back, identifying, opening and resetting.

use switchboard_protocol::realtime::VisitorFrame;

use super::{Effect, Fatal, HostOut, Link, Request, Session};
use crate::state::Reason;
use crate::text;

impl Session {
    /// The pre-chat form is due: the inbox asks for it and the visitor has
    /// given no e-mail yet (a new visitor is no contact yet: nothing given).
    /// Messages wait until it is done.
    pub fn prechat_due(&self) -> bool {
        self.inbox.as_ref().is_some_and(|i| i.pre_chat_form_enabled)
            && self.contact.as_ref().is_none_or(|c| c.email.is_none())
    }

    /// The visitor pressed Send. `false` when nothing was sent (empty, too
    /// long, or the chat cannot be used).
    pub fn send_message(&mut self, content: &str, echo_id: String, now: f64) -> bool {
        if self.fatal.is_some() || !text::sendable(content) {
            return false;
        }
        self.chat.add_own(content.trim().to_string(), echo_id);
        self.attach_notice = None;
        if let Some(on) = self.typing.sent(now) {
            self.send_typing(on);
        }
        self.flush_unsent();
        true
    }

    /// Retry pressed on a failed message: same echo id, so a message that
    /// did arrive after all is not added twice.
    pub fn retry(&mut self, uid: u32) {
        if self.chat.retry(uid).is_some() {
            self.flush_unsent();
        }
    }

    /// Sends what the visitor wrote and the server does not have yet. The
    /// first message of a visitor without a conversation starts one; the
    /// others wait for its `ack` (they go into that conversation).
    pub(crate) fn flush_unsent(&mut self) {
        // Files do not need the socket, but follow the same order rule.
        self.flush_upload();
        if self.link != Link::Live || self.prechat_due() {
            return;
        }
        for (echo_id, content) in self.chat.unsent() {
            let in_flight = self.replies.contains(&Request::Send(echo_id.clone()));
            if in_flight {
                continue;
            }
            let frame = match self.chat.current {
                Some(conversation_id) => VisitorFrame::Message {
                    conversation_id,
                    content,
                    echo_id: Some(echo_id.clone()),
                },
                // Nor while an upload is starting one.
                None if self.starting.is_none() && !self.upload_opens_conversation() => {
                    self.starting = Some(echo_id.clone());
                    VisitorFrame::StartConversation {
                        content: Some(content),
                        echo_id: Some(echo_id.clone()),
                    }
                }
                None => return,
            };
            self.request(&frame, Request::Send(echo_id));
        }
    }

    /// Text box changed: typing signals, only into an existing conversation.
    pub fn input(&mut self, has_text: bool, now: f64) {
        if self.link == Link::Live && self.chat.current.is_some() {
            if let Some(on) = self.typing.input(now, has_text) {
                self.send_typing(on);
            }
        }
    }

    pub(super) fn send_typing(&mut self, on: bool) {
        let (Link::Live, Some(conversation_id)) = (self.link, self.chat.current) else {
            return;
        };
        let frame = if on {
            VisitorFrame::TypingOn { conversation_id }
        } else {
            VisitorFrame::TypingOff { conversation_id }
        };
        self.send(&frame);
    }

    /// The visitor scrolled to the top: the page before the oldest shown.
    pub fn load_older(&mut self) {
        if self.older_loading || !self.chat.has_more {
            return;
        }
        if let Some(before) = self.chat.oldest_id() {
            self.request_history(Some(before));
        }
    }

    /// Asks for a page of the shown conversation (`None`: the newest).
    pub(crate) fn request_history(&mut self, before: Option<i64>) {
        let Some(conversation_id) = self.chat.current else {
            return;
        };
        if self.link != Link::Live || (before.is_none() && self.newest_loading) {
            return;
        }
        match before {
            Some(_) => self.older_loading = true,
            None => self.newest_loading = true,
        }
        let frame = VisitorFrame::History {
            conversation_id,
            before,
        };
        self.request(&frame, Request::History { before });
    }

    /// `set_user` / `set_custom_attributes`: sent now, or once connected.
    pub fn identify(&mut self, frame: VisitorFrame) {
        if matches!(
            &frame,
            VisitorFrame::SetUser {
                identifier_hash: Some(_),
                ..
            }
        ) {
            self.signed_user = Some(frame.clone());
        }
        self.identity.push_back(frame);
        self.flush_identity();
    }

    pub(crate) fn flush_identity(&mut self) {
        while self.link == Link::Live {
            let Some(frame) = self.identity.pop_front() else {
                break;
            };
            self.request(&frame, Request::Identity(frame.clone()));
        }
    }

    /// The pre-chat form was submitted.
    pub fn submit_prechat(&mut self, name: &str, email: &str) {
        if !text::valid_email(email) {
            self.prechat_error = Some(Reason::InvalidEmail);
            return;
        }
        self.prechat_error = None;
        self.prechat_busy = true;
        let name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
        self.identify(VisitorFrame::SetUser {
            identifier: None,
            identifier_hash: None,
            name,
            email: Some(email.trim().to_string()),
            phone_number: None,
            avatar_url: None,
        });
    }

    /// The window was shown or hidden; opening it while connected tells the
    /// server (`triggered`, for `webwidget_triggered` webhooks).
    pub fn set_open(&mut self, open: bool) {
        let opening = open && !self.open;
        self.open = open;
        if open {
            self.clear_unread();
        }
        if opening && self.link == Link::Live {
            self.send(&VisitorFrame::Triggered {
                event_info: serde_json::json!({}),
            });
        }
    }

    pub(crate) fn clear_unread(&mut self) {
        if self.chat.unread > 0 {
            self.chat.unread = 0;
            self.emit(Effect::Host(HostOut::Unread(0)));
        }
    }

    /// The host page's `reset()`: forget this visitor, start as a new one.
    pub fn reset(&mut self) {
        self.forget_visitor(None);
        self.identity.clear();
        self.fatal = self.fatal.filter(|f| *f == Fatal::OriginBlocked);
        if self.fatal.is_none() && !self.website_token.is_empty() {
            self.emit(Effect::Connect { delay_ms: 0 });
        }
    }

    /// Drops the visitor's conversation and connection; `token` is the one
    /// to use next (`None`: a new visitor), kept in the page's storage.
    pub(crate) fn forget_visitor(&mut self, token: Option<String>) {
        self.drop_visitor();
        self.visitor_token = token.clone();
        self.emit(Effect::SaveToken(token));
    }

    /// Drops the visitor's conversation and connection, and what this tab
    /// knew of them.
    pub(crate) fn drop_visitor(&mut self) {
        self.drop_link();
        self.clear_unread();
        self.chat.clear();
        self.contact = None;
        self.cursor = None;
        self.attempt = 0;
        self.prechat_busy = false;
        self.prechat_error = None;
        // Files under the old identity are dropped, and their late answer.
        self.upload = None;
        self.attach_notice = None;
    }
}
