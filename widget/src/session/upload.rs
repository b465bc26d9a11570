//! Files the visitor sends. They do not travel on the socket: the DOM side
//! posts them (`multipart/form-data`) to `POST /widget/messages`, and the
//! message also comes back on the socket like any other. The rules live
//! here: what may be sent, when (never a second conversation started next
//! to one being started), and what the answer does to the list.
//!
//! One upload at a time. While it is out the attach button is off; when it
//! fails on the way it is kept (files and words) for Retry, or Cancel,
//! which puts the words back in the box.

use serde_json::Value;
use switchboard_protocol::chat::Message;
use switchboard_protocol::realtime::VisitorFrame;

use super::{Effect, Request, Session};
use crate::state::Reason;
use crate::text;

/// Most files on one message (the server's limit too).
pub const MAX_FILES: usize = 10;
/// Largest file, in bytes (the server's limit too).
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;

/// What the file picker's `accept` lists: the types the server takes.
pub const ACCEPT: &str = "image/*,audio/*,video/*,application/pdf,text/plain,text/csv,\
                          .doc,.docx,.xls,.xlsx,.ppt,.pptx,.zip";

/// A file the visitor picked, as far as the rules need to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    pub name: String,
    pub size: u64,
}

/// Why files were not sent; shown until the next attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// More than [`MAX_FILES`] (how many were picked).
    TooMany(usize),
    /// Over [`MAX_FILE_BYTES`] (the first such file's name).
    TooLarge(String),
    /// A file with nothing in it (the server refuses those).
    Empty(String),
    /// The words in the box are over the message limit.
    TextTooLong,
    /// The server refused the upload: trying again would not help.
    Server(Reason),
}

/// Where the upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// Waits for the visitor token (before the first `welcome`) or for
    /// the conversation the visitor's first message is starting.
    Waiting,
    /// The request is out.
    Sending,
    /// Lost on the way, or the server could not take it now: kept for
    /// Retry (same echo id, so it is never added twice). The server's
    /// reason when it gave one.
    Failed(Option<Reason>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub echo_id: String,
    /// The words typed with the files.
    pub content: Option<String>,
    pub state: UploadState,
    /// The conversation it was sent into; `None` while `Sending`: it
    /// starts one.
    into: Option<i64>,
}

/// What the DOM side posts, with the files it holds for `echo_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// `/widget/messages?website_token=…[&conversation_id=…]`, to follow
    /// the server's origin.
    pub path: String,
    /// For the `X-Visitor-Token` header.
    pub visitor_token: String,
    pub content: Option<String>,
    pub echo_id: String,
}

/// A 200 answer: `{conversation_id, message}`. (Read through `Value`, as
/// socket frames are, so the wasm holds one message parser.)
fn answer(body: &str) -> Option<(i64, Message)> {
    let mut v: Value = serde_json::from_str(body).ok()?;
    let conversation_id = v.get("conversation_id")?.as_i64()?;
    let message = serde_json::from_value(v.get_mut("message")?.take()).ok()?;
    Some((conversation_id, message))
}

/// Why a 4xx/5xx answer refused: `{error, message}`.
fn refused(body: &str) -> Option<Reason> {
    let v: Value = serde_json::from_str(body).ok()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let field = v["errors"][0]["code"].as_str();
    Some(Reason::from_codes(s("error"), field, s("message"))).filter(|_| v.is_object())
}

/// Whether these files (with these words) may be sent.
pub fn check(files: &[Picked], content: &str) -> Result<(), Refusal> {
    if text::over_limit(content).is_some() {
        return Err(Refusal::TextTooLong);
    }
    if files.len() > MAX_FILES {
        return Err(Refusal::TooMany(files.len()));
    }
    if let Some(f) = files.iter().find(|f| f.size > MAX_FILE_BYTES) {
        return Err(Refusal::TooLarge(f.name.clone()));
    }
    if let Some(f) = files.iter().find(|f| f.size == 0) {
        return Err(Refusal::Empty(f.name.clone()));
    }
    Ok(())
}

impl Session {
    /// An upload is waiting or out ("Sending file…").
    pub fn uploading(&self) -> bool {
        self.upload
            .as_ref()
            .is_some_and(|u| !matches!(u.state, UploadState::Failed(_)))
    }

    /// Whether the attach button works: the chat is usable and no upload
    /// is waiting, out, or failed (Retry or Cancel that one first).
    pub fn can_attach(&self) -> bool {
        self.fatal.is_none() && self.upload.is_none()
    }

    /// Files picked, with the words in the box. `true` when they are taken
    /// (the DOM side keeps the files under `echo_id` and empties the box);
    /// `false` when refused (the notice says why) or not possible now.
    pub fn attach(&mut self, files: &[Picked], content: &str, echo_id: String, now: f64) -> bool {
        if !self.can_attach() || files.is_empty() {
            return false;
        }
        if let Err(refusal) = check(files, content) {
            self.attach_notice = Some(refusal);
            return false;
        }
        self.attach_notice = None;
        let content = Some(content.trim().to_string()).filter(|c| !c.is_empty());
        self.upload = Some(Upload {
            echo_id,
            content,
            state: UploadState::Waiting,
            into: None,
        });
        if let Some(on) = self.typing.sent(now) {
            self.send_typing(on);
        }
        self.flush_upload();
        true
    }

    /// An upload out that will start a conversation: the visitor's text
    /// must wait for it rather than start another.
    pub(crate) fn upload_opens_conversation(&self) -> bool {
        self.upload
            .as_ref()
            .is_some_and(|u| u.state == UploadState::Sending && u.into.is_none())
    }

    /// Sends the waiting upload when it can go: with the visitor token,
    /// into the shown conversation, or starting one when none exists and
    /// none is being started (by a message in flight or waiting to go).
    pub(crate) fn flush_upload(&mut self) {
        if self.fatal.is_some() {
            return;
        }
        let Some(visitor_token) = self.visitor_token.clone() else {
            // A new visitor is no contact yet: they become one over the
            // socket, and the answer (`identity`, with the token) sends this.
            self.become_contact();
            return;
        };
        let into = match self.chat.current {
            Some(id) => Some(id),
            None if self.starting.is_none() && self.chat.unsent().is_empty() => None,
            None => return,
        };
        let Some(up) = self
            .upload
            .as_mut()
            .filter(|u| u.state == UploadState::Waiting)
        else {
            return;
        };
        up.state = UploadState::Sending;
        up.into = into;
        let mut path = format!(
            "/widget/messages?website_token={}",
            crate::config::encode(&self.website_token)
        );
        if let Some(id) = into {
            path.push_str(&format!("&conversation_id={id}"));
        }
        let request = UploadRequest {
            path,
            visitor_token,
            content: up.content.clone(),
            echo_id: up.echo_id.clone(),
        };
        self.emit(Effect::Upload(request));
    }

    /// Asks the server to make this new visitor a contact (an empty
    /// `set_custom_attributes`), once.
    fn become_contact(&mut self) {
        let asked = !self.identity.is_empty()
            || self
                .replies
                .iter()
                .any(|r| matches!(r, Request::Identity(_)));
        if self.upload.is_some() && !asked {
            self.identify(VisitorFrame::SetCustomAttributes {
                custom_attributes: serde_json::Map::new(),
            });
        }
    }

    /// The upload out under this echo id, if it still is (a reset or
    /// another contact drops it, and its late answer with it).
    fn upload_out(&self, echo_id: &str) -> bool {
        self.upload
            .as_ref()
            .is_some_and(|u| u.echo_id == echo_id && u.state == UploadState::Sending)
    }

    /// The server answered the upload with `status` and `body`.
    pub fn upload_answered(&mut self, echo_id: &str, status: u16, body: &str) {
        if !self.upload_out(echo_id) {
            return;
        }
        match status {
            200..=299 => {
                self.upload = None;
                self.attach_notice = None;
                // Unreadable: it did arrive, and comes on the socket too.
                if let Some((conversation_id, message)) = answer(body) {
                    self.chat.add_uploaded(conversation_id, message);
                }
            }
            // Refused for good: the words go back in the box.
            400..=499 if status != 408 && status != 429 => {
                let up = self.upload.take();
                if let Some(content) = up.and_then(|u| u.content) {
                    self.emit(Effect::Restore(content));
                }
                let why = refused(body).unwrap_or(Reason::Other(String::new()));
                self.attach_notice = Some(Refusal::Server(why));
            }
            // Busy, timed out, or broken for now: worth a retry.
            _ => {
                let why = if status < 500 { refused(body) } else { None };
                self.upload_failed(why);
            }
        }
        // A conversation the upload started (adopted above) takes what
        // was typed meanwhile; one it did not start may be started now.
        self.flush_unsent();
    }

    /// The request never got an answer (offline, cut off).
    pub fn upload_lost(&mut self, echo_id: &str) {
        if self.upload_out(echo_id) {
            self.upload_failed(None);
            self.flush_unsent();
        }
    }

    fn upload_failed(&mut self, why: Option<Reason>) {
        if let Some(up) = self.upload.as_mut() {
            up.state = UploadState::Failed(why);
            up.into = None;
        }
    }

    /// Retry pressed on a failed upload: it goes again, same echo id.
    pub fn retry_upload(&mut self) {
        if let Some(up) = self.upload.as_mut() {
            if matches!(up.state, UploadState::Failed(_)) {
                up.state = UploadState::Waiting;
                self.flush_upload();
            }
        }
    }

    /// Cancel pressed on a failed upload: the files are dropped and the
    /// words go back in the box.
    pub fn cancel_upload(&mut self) {
        let failed = self
            .upload
            .as_ref()
            .is_some_and(|u| matches!(u.state, UploadState::Failed(_)));
        if failed {
            if let Some(content) = self.upload.take().and_then(|u| u.content) {
                self.emit(Effect::Restore(content));
            }
        }
    }
}
