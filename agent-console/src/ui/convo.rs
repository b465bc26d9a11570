//! The open conversation: its header (contact, inbox, status, the Take /
//! Resolve / Reopen / Snooze buttons), the messages, who is typing, and the
//! reply box; the actions panel and contact beside it. Built when a
//! conversation is opened, then updated in place. A reply being written is
//! kept, per conversation, when the agent looks at another one.
//!
//! On WhatsApp, outside the customer's 24-hour window (`can_reply` false)
//! the reply box says so and offers a template instead of free text
//! (`template.rs`); private notes stay possible. Inside the window the
//! same form opens from "Template" next to Attach files.

use std::collections::HashMap;

use switchboard_protocol::api::ChannelType;
use switchboard_protocol::chat::Conversation;
use web_sys::Element;

use super::messages::ThreadView;
use super::section::Section;
use super::sidebar::Side;
use super::template::TemplateView;
use crate::conversation::store::{Status, StatusLabel};
use crate::dom::{self, h, H};
use crate::i18n::format;
use crate::i18n::T;
use crate::route::Route;
use crate::state::{Data, Dirty};

struct Open {
    id: i64,
    contact: Element,
    inbox: Element,
    status: Element,
    buttons: Section,
    thread: ThreadView,
    typing: Element,
    reply: Element,
    input: Element,
    send: Element,
    /// Outside WhatsApp's 24-hour window: what the agent can still do.
    notice: Element,
    attach: Element,
    /// "Template", on WhatsApp conversations inside the window.
    template_open: Element,
    templates: TemplateView,
    side: Side,
}

pub(super) struct Convo {
    center: Element,
    side: Element,
    open: Option<Open>,
    /// Unsent replies by conversation.
    drafts: HashMap<i64, String>,
    /// What the center shows without a conversation.
    placeholder: Option<bool>,
}

impl Convo {
    pub(super) fn build(content: &Element, _d: &Data) -> Option<Convo> {
        let center = h("section")?.class("center").el();
        let side = h("aside")?.class("sidebar").el();
        let _ = content.append_child(&center);
        let _ = content.append_child(&side);
        Some(Convo {
            center,
            side,
            open: None,
            drafts: HashMap::new(),
            placeholder: None,
        })
    }

    pub(super) fn update(&mut self, d: &Data, mut dirty: Dirty) {
        let want = d.open_id().filter(|id| !d.missing.contains(id));
        if self.open.as_ref().map(|o| o.id) != want {
            if let Some(old) = self.open.take() {
                let draft = dom::value(&old.input);
                self.drafts.insert(old.id, draft);
            }
            self.center.set_text_content(None);
            self.side.set_text_content(None);
            self.placeholder = None;
            if let Some(id) = want {
                self.open = self.build_open(id, d);
                dirty = Dirty::all();
            }
        }
        let Some(open) = &mut self.open else {
            let missing = d.open_id().is_some();
            if self.placeholder != Some(missing) {
                let text = if missing {
                    T::NotFound
                } else {
                    T::PickConversation
                };
                self.center.set_text_content(None);
                dom::append(
                    &self.center,
                    h("p").map(|p| p.class("placeholder").text(d.lang.t(text))),
                );
                self.placeholder = Some(missing);
            }
            return;
        };
        let conversation = d.store.get(open.id);
        if dirty.conversation {
            if let Some(c) = conversation {
                open.header(c, d);
                open.side.update(c, d);
            }
        }
        if dirty.thread {
            open.thread.update(open.id, d);
            let note = dom::checked_of("reply-private");
            dom::toggle_class(&open.reply, "note-mode", note);
            let (placeholder, label) = if note {
                (T::NotePlaceholder, T::AddNote)
            } else {
                (T::ReplyPlaceholder, T::Send)
            };
            dom::set_attr(&open.input, "placeholder", d.lang.t(placeholder));
            dom::set_text(&open.send, d.lang.t(label));
        }
        if dirty.conversation || dirty.thread || dirty.reply {
            if let Some(c) = conversation {
                open.reply_box(c, d);
            }
        }
        if dirty.typing {
            dom::set_text(&open.typing, &typing_line(open.id, conversation, d));
        }
    }

    fn build_open(&self, id: i64, d: &Data) -> Option<Open> {
        let t = |k| d.lang.t(k);
        let span = |class: &str| h("span").map(|s| s.class(class).el());
        let contact = span("convo-contact")?;
        let inbox = span("convo-inbox")?;
        let status = h("span")?.id("conversation-status").class("badge").el();
        let buttons = Section::new(h("div")?.class("convo-buttons").el());
        let title = span("convo-title")?;
        let _ = title.append_child(&contact);
        let _ = title.append_child(&inbox);
        let header = h("header")?
            .class("convo-header")
            .child(
                h("a")?
                    .class("back ghost")
                    .attr("href", &Route::Conversations(None).path())
                    .act("nav")
                    .text(&format!("← {}", t(T::Back))),
            )
            .el();
        for e in [&title, &status, &buttons.el] {
            let _ = header.append_child(e);
        }
        let thread = ThreadView::build(d)?;
        let typing = h("div")?
            .id("typing")
            .class("typing")
            .attr("aria-live", "polite")
            .el();
        let input = h("textarea")?
            .id("reply-input")
            .act("reply")
            .attr("rows", "3")
            .attr("aria-label", t(T::Send))
            .el();
        if let Some(draft) = self.drafts.get(&id) {
            dom::set_value(&input, draft);
        }
        let send = h("button")?
            .id("reply-send")
            .class("primary")
            .attr("type", "button")
            .act("send")
            .text(t(T::Send))
            .el();
        let toggle = h("label")?
            .class("private-toggle")
            .child(
                h("input")?
                    .id("reply-private")
                    .attr("type", "checkbox")
                    .act("private-toggle"),
            )
            .child(h("span")?.text(t(T::PrivateNote)));
        let attach = h("label")?
            .id("reply-attach")
            .class("attach")
            .child(h("span")?.text(t(T::Attach)))
            .child(
                h("input")?
                    .id("reply-files")
                    .attr("type", "file")
                    .attr("multiple", "")
                    .act("attach"),
            );
        let attach = attach.el();
        let template_open = h("button")?
            .id("template-open")
            .class("link-button")
            .attr("type", "button")
            .act("open-templates")
            .text(t(T::TemplateAction))
            .flag("hidden", true)
            .el();
        let tools = h("div")?.class("reply-tools").child(toggle).el();
        let _ = tools.append_child(&attach);
        let _ = tools.append_child(&template_open);
        let notice = h("p")?
            .id("reply-window-notice")
            .class("window-notice")
            .attr("role", "status")
            .text(t(T::WindowClosed))
            .flag("hidden", true)
            .el();
        let templates = TemplateView::build(d.lang)?;
        let reply = h("div")?.class("reply").el();
        for e in [&notice, &tools, &templates.el, &input, &send] {
            let _ = reply.append_child(e);
        }
        let root = h("section")?
            .id("conversation")
            .class("conversation")
            .data("conversation-id", &id.to_string())
            .el();
        for e in [&header, thread.element(), &typing, &reply] {
            let _ = root.append_child(e);
        }
        let _ = self.center.append_child(&root);
        let side = Side::build(&self.side, d)?;
        dom::focus(&input);
        Some(Open {
            id,
            contact,
            inbox,
            status,
            buttons,
            thread,
            typing,
            reply,
            input,
            send,
            notice,
            attach,
            template_open,
            templates,
            side,
        })
    }
}

impl Open {
    /// Free text, or the template form: outside WhatsApp's window only a
    /// template (or a private note) can go.
    fn reply_box(&mut self, c: &Conversation, d: &Data) {
        let note = dom::checked_of("reply-private");
        let closed = !c.can_reply;
        let chosen = d.forms.template.open_for == Some(c.id);
        let form = !note && (closed || chosen);
        let whatsapp = c.meta.channel == ChannelType::Whatsapp;
        dom::set_hidden(&self.notice, !closed);
        dom::toggle_class(&self.reply, "template-mode", form);
        dom::set_hidden(&self.templates.el, !form);
        for e in [&self.input, &self.send, &self.attach] {
            dom::set_hidden(e, form);
        }
        dom::set_hidden(&self.template_open, !whatsapp || form || note || closed);
        if form {
            self.templates.update(c, d);
        }
    }

    fn header(&mut self, c: &Conversation, d: &Data) {
        let t = |k| d.lang.t(k);
        dom::set_text(&self.contact, &format::contact_name(&c.meta.sender, d.lang));
        let inbox = d.inbox(c.inbox_id).map(|i| i.name.as_str()).unwrap_or("");
        dom::set_text(&self.inbox, inbox);
        dom::set_text(&self.status, t(c.status.label()));
        dom::set_attr(&self.status, "data-status", c.status.as_str());
        for s in Status::ALL {
            let class = format!("status-{}", s.as_str());
            dom::toggle_class(&self.status, &class, c.status == s);
        }
        let unassigned = c.assignee_id.is_none();
        let status = c.status;
        let sig = format!("{unassigned}|{}|{}", status.as_str(), d.lang.code());
        self.buttons.refresh(sig, |el| {
            let button = |id: &str, label: T, class: &str| -> Option<H> {
                Some(
                    h("button")?
                        .id(id)
                        .class(class)
                        .attr("type", "button")
                        .act(id)
                        .text(t(label)),
                )
            };
            // Absent rather than hidden when they do not apply.
            if unassigned {
                dom::append(el, button("take", T::Take, "primary"));
            }
            if matches!(status, Status::Open | Status::Pending) {
                dom::append(el, button("snooze", T::Snooze, "ghost"));
            }
            if status != Status::Open {
                dom::append(el, button("reopen", T::Reopen, "ghost"));
            }
            if status != Status::Resolved {
                dom::append(el, button("resolve", T::Resolve, "success"));
            }
        });
    }
}

/// "Joana is typing…", "Bruno is writing a note…", or nothing.
fn typing_line(id: i64, c: Option<&Conversation>, d: &Data) -> String {
    let lang = d.lang;
    let lines: Vec<String> = d
        .typing
        .in_conversation(id)
        .into_iter()
        .map(|who| {
            let name = if who.is_contact() {
                c.map(|c| format::contact_name(&c.meta.sender, lang))
                    .unwrap_or_else(|| lang.t(T::Visitor).to_string())
            } else {
                who.name
                    .clone()
                    .or_else(|| d.agent(who.sender_id).map(|a| a.available_name.clone()))
                    .unwrap_or_default()
            };
            let key = if who.private {
                T::IsWritingNote
            } else {
                T::IsTyping
            };
            lang.tf(key, &[("name", &name)])
        })
        .collect();
    lines.join(" · ")
}
