//! The open conversation: loading it, replying, and the conversation
//! actions (assign, take, resolve, reopen, snooze). Actions only ask the
//! server; what changed comes back as events, which every console applies
//! alike, so two consoles side by side always agree.
//!
//! Beside it, pure and tested: the conversations and their lists
//! (`store.rs`), each one's messages (`thread.rs`), typing (`typing.rs`),
//! attached files (`upload.rs`) and WhatsApp templates (`templates.rs`,
//! whose form's browser side is `template_reply.rs`).

pub mod store;
mod template_reply;
pub mod templates;
pub mod thread;
pub mod typing;
pub mod upload;

use serde_json::json;
use switchboard_protocol::chat::{Conversation, Message};
use switchboard_protocol::realtime::AgentFrame;

use crate::app::App;
use crate::conversation::upload::Refusal;
use crate::dom;
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Msg, Net, Res};
use wasm_bindgen::JsCast;

impl App {
    /// Makes sure the conversation, its messages and its inbox's
    /// collaborators are here (each fetched at most once per opening).
    pub(crate) fn open_conversation(&mut self, id: i64) {
        self.api(
            Method::Get,
            &format!("/conversations/{id}"),
            None,
            move |r| Msg::Net(Box::new(Net::Conversation(id, r))),
        );
        if let Some(inbox) = self.data.store.get(id).map(|c| c.inbox_id) {
            self.load_members(inbox);
        }
        let loaded = self.data.threads.entry(id).loaded;
        if !loaded {
            self.api(
                Method::Get,
                &format!("/conversations/{id}/messages"),
                None,
                move |result| {
                    Msg::Net(Box::new(Net::Messages {
                        conversation: id,
                        older: false,
                        result,
                    }))
                },
            );
        }
        self.dirty.conversation = true;
        self.dirty.thread = true;
    }

    pub(crate) fn load_members(&self, inbox: i64) {
        self.api(
            Method::Get,
            &format!("/inbox_members/{inbox}"),
            None,
            move |r| Msg::Net(Box::new(Net::Members(inbox, r))),
        );
    }

    pub(crate) fn conversation_loaded(&mut self, id: i64, result: Res<Conversation>) {
        match result {
            Ok(c) => {
                let inbox = c.inbox_id;
                let known = self.data.members.contains_key(&inbox);
                self.data.missing.remove(&id);
                self.data.store.upsert(c);
                if !known {
                    self.load_members(inbox);
                }
            }
            Err(f) if f.status == 404 => {
                self.data.missing.insert(id);
            }
            Err(f) => self.fail(&f),
        }
        self.dirty.conversation = true;
        self.dirty.list = true;
    }

    pub(crate) fn messages_loaded(
        &mut self,
        id: i64,
        older: bool,
        result: Res<switchboard_protocol::api::Payload<Message>>,
    ) {
        match result {
            Ok(page) => {
                self.data.threads.entry(id).merge_page(page.payload, older);
            }
            Err(f) => {
                self.data.threads.entry(id).loading_older = false;
                if f.status != 404 {
                    self.fail(&f);
                }
            }
        }
        if self.data.open_id() == Some(id) {
            self.dirty.thread = true;
        }
    }

    pub(crate) fn load_older(&mut self) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let thread = self.data.threads.entry(id);
        let Some(before) = thread.oldest_id() else {
            return;
        };
        if !thread.has_older || thread.loading_older {
            return;
        }
        thread.loading_older = true;
        self.api(
            Method::Get,
            &format!("/conversations/{id}/messages?before={before}"),
            None,
            move |result| {
                Msg::Net(Box::new(Net::Messages {
                    conversation: id,
                    older: true,
                    result,
                }))
            },
        );
        self.dirty.thread = true;
    }

    pub(crate) fn reply_input(&mut self) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let text = dom::value_of("reply-input");
        let private = dom::checked_of("reply-private");
        for frame in self
            .typing_out
            .input(id, private, text.trim().is_empty(), dom::now_ms())
        {
            self.send(&frame);
        }
    }

    pub(crate) fn reply_send(&mut self) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let text = dom::value_of("reply-input");
        if text.trim().is_empty() {
            return;
        }
        let private = dom::checked_of("reply-private");
        let closed = self.data.store.get(id).is_some_and(|c| !c.can_reply);
        if closed && !private {
            // Outside WhatsApp's window free text would be refused: the
            // template form is what shows.
            self.dirty.reply = true;
            return;
        }
        if let Some(input) = dom::by_id("reply-input") {
            dom::set_value(&input, "");
        }
        if let Some(frame) = self.typing_out.stop() {
            self.send(&frame);
        }
        let echo = format!("c{}-{}", dom::now_ms() as u64, (dom::random() * 1e9) as u64);
        self.data
            .threads
            .entry(id)
            .add_pending(echo.clone(), text.clone(), private);
        self.post_message(id, echo, text, private);
        self.dirty.thread = true;
    }

    fn post_message(&self, id: i64, echo: String, content: String, private: bool) {
        let body = json!({"content": content, "private": private, "echo_id": echo});
        self.post_json(id, echo, body);
    }

    /// `POST .../messages` with this body; the answer is matched by `echo`.
    pub(crate) fn post_json(&self, id: i64, echo: String, body: serde_json::Value) {
        self.api(
            Method::Post,
            &format!("/conversations/{id}/messages"),
            Some(body),
            move |result| {
                Msg::Net(Box::new(Net::Sent {
                    conversation: id,
                    echo,
                    result,
                }))
            },
        );
    }

    pub(crate) fn sent(&mut self, id: i64, echo: &str, result: Res<Message>) {
        match result {
            Ok(m) => {
                self.uploads.remove(echo);
                self.template_sends.remove(echo);
                self.data.store.on_message(&m, true);
                self.data.threads.entry(id).merge(m);
                self.dirty.list = true;
            }
            Err(f) if crate::conversation::templates::window_refusal(&f) => {
                self.window_closed(id, echo)
            }
            Err(f) => {
                self.data.threads.entry(id).set_failed(echo, true);
                self.fail(&f);
            }
        }
        self.dirty.thread = true;
    }

    /// Free text was refused because WhatsApp's 24-hour window closed
    /// while the page was open: the reply is taken back (its text returns
    /// to the box, for a note or later) and the template form shows.
    fn window_closed(&mut self, id: i64, echo: &str) {
        let upload = self.uploads.remove(echo).is_some();
        let taken = self.data.threads.entry(id).take_pending(echo);
        if let Some(p) = taken.filter(|_| !upload) {
            let input = dom::by_id("reply-input").filter(|_| self.data.open_id() == Some(id));
            if let Some(input) = input.filter(|i| dom::value(i).trim().is_empty()) {
                dom::set_value(&input, &p.content);
            }
        }
        self.data.store.window_closed(id);
        self.dirty.conversation = true;
        self.dirty.reply = true;
        self.dirty.list = true;
    }

    /// Sends a failed message again, with the same echo id: if the first
    /// try did arrive, the server answers with it and adds nothing.
    pub(crate) fn retry(&mut self, echo: &str) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        if let Some(p) = self.data.threads.entry(id).set_failed(echo, false) {
            let template = self.template_sends.get(&p.echo_id).cloned();
            match (self.uploads.get(&p.echo_id).cloned(), template) {
                (Some(form), _) => self.post_form(id, p.echo_id, form),
                (None, Some(body)) => self.post_json(id, p.echo_id, body),
                (None, None) => self.post_message(id, p.echo_id, p.content, p.private),
            }
            self.dirty.thread = true;
        }
    }

    /// Files chosen in the reply box go out at once, with the text typed
    /// so far, after the same checks the server makes.
    pub(crate) fn attach(&mut self) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let Some(input) =
            dom::by_id("reply-files").and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        if files.is_empty() {
            return;
        }
        let described: Vec<(String, f64)> = files.iter().map(|f| (f.name(), f.size())).collect();
        let lang = self.data.lang;
        if let Err(refusal) = crate::conversation::upload::check(&described) {
            let text = match refusal {
                Refusal::TooMany => lang.t(T::TooManyFiles).to_string(),
                Refusal::TooLarge(name) => format!("{} {name}", lang.t(T::FileTooLarge)),
                Refusal::Empty(name) => format!("{} {name}", lang.t(T::FileEmpty)),
            };
            crate::alert::toast(&text);
            return;
        }
        let Ok(form) = web_sys::FormData::new() else {
            return;
        };
        let text = dom::value_of("reply-input");
        let private = dom::checked_of("reply-private");
        let echo = format!("c{}-{}", dom::now_ms() as u64, (dom::random() * 1e9) as u64);
        let filled = form.append_with_str("content", &text).is_ok()
            && form
                .append_with_str("private", if private { "true" } else { "false" })
                .is_ok()
            && form.append_with_str("echo_id", &echo).is_ok()
            && files.iter().all(|f| {
                form.append_with_blob_and_filename("attachments[]", f, &f.name())
                    .is_ok()
            });
        if !filled {
            return;
        }
        if let Some(input) = dom::by_id("reply-input") {
            dom::set_value(&input, "");
        }
        let names: Vec<String> = described.into_iter().map(|(n, _)| n).collect();
        self.data.threads.entry(id).add_pending(
            echo.clone(),
            crate::conversation::upload::pending_text(&text, &names),
            private,
        );
        self.uploads.insert(echo.clone(), form.clone());
        self.post_form(id, echo, form);
        self.dirty.thread = true;
    }

    fn post_form(&self, id: i64, echo: String, form: web_sys::FormData) {
        self.api_form(
            &format!("/conversations/{id}/messages"),
            form,
            move |result| {
                Msg::Net(Box::new(Net::Sent {
                    conversation: id,
                    echo,
                    result,
                }))
            },
        );
    }

    /// Assigns the open conversation (`None`: unassigns).
    pub(crate) fn assign(&mut self, assignee: Option<i64>) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        if assignee.is_some() && assignee == Some(self.data.me()) {
            self.self_assigning.insert(id);
        }
        self.api(
            Method::Post,
            &format!("/conversations/{id}/assignments"),
            Some(json!({ "assignee_id": assignee })),
            |r| Msg::Net(Box::new(Net::Done(r))),
        );
    }

    pub(crate) fn set_status(&mut self, status: &str) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        self.api(
            Method::Post,
            &format!("/conversations/{id}/toggle_status"),
            Some(json!({ "status": status })),
            |r| Msg::Net(Box::new(Net::Done(r))),
        );
    }

    /// After drawing: tell the server the agent has seen the open
    /// conversation up to its newest message (once per new message, and
    /// only while the page is visible).
    pub(crate) fn after_render(&mut self) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let Some(last) = self
            .data
            .threads
            .get(id)
            .and_then(|t| t.messages.last())
            .map(|m| m.id)
        else {
            return;
        };
        let visible = dom::document()
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
        let due = visible && self.data.live && self.read_sent != Some((id, last));
        if due
            && self.send(&AgentFrame::Read {
                conversation_id: id,
            })
        {
            self.read_sent = Some((id, last));
        }
    }
}
