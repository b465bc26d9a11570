//! The chat window's DOM: built once, then brought in line with the
//! session after every change. Only what differs is touched, so live
//! regions announce news rather than repeating themselves.
//!
//! Element ids and classes named in `widget/README.md` are stable hooks
//! for end-to-end tests: keep them.

use std::collections::HashMap;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlButtonElement, HtmlInputElement, HtmlTextAreaElement};

use crate::config::{text_on, theme_color};
use crate::dom::{child, css_var, document, set_attr, set_hidden, set_text};
use crate::i18n::{fill, Locale, Strings};
use crate::render::{reason_text, reconcile, refusal_text, Row};
use crate::session::{Fatal, Session, Status, UploadState, ACCEPT};

/// The tallest the text box grows before it scrolls.
const INPUT_MAX_PX: i32 = 140;
/// Closer than this to the end of the list counts as "at the end".
const NEAR_BOTTOM_PX: i32 = 80;

#[derive(Debug)]
pub(crate) struct View {
    root: Element,
    title: Element,
    tagline: Element,
    close: Element,
    status: Element,
    pub scroller: Element,
    pub older: Element,
    pub list: Element,
    empty: Element,
    queue: Element,
    typing: Element,
    pub prechat: Element,
    prechat_intro: Element,
    name_label: Element,
    pub name: HtmlInputElement,
    email_label: Element,
    pub email: HtmlInputElement,
    prechat_error: Element,
    prechat_submit: HtmlButtonElement,
    pub composer: Element,
    input_label: Element,
    pub input: HtmlTextAreaElement,
    pub send: HtmlButtonElement,
    pub attach: HtmlButtonElement,
    /// The hidden file picker the attach button opens.
    pub file: HtmlInputElement,
    limit: Element,
    upload: Element,
    upload_text: Element,
    pub upload_retry: Element,
    pub upload_cancel: Element,
    rows: HashMap<u32, Row>,
    color: String,
    /// This server's origin (`https://host[:port]`): its file URLs are used.
    origin: String,
    /// The list was at its end when last scrolled: a picture or player that
    /// grows it later keeps it there.
    stick: bool,
    /// Where the list was scrolled to last (to tell the visitor scrolling
    /// up from content growing below).
    last_top: i32,
}

fn cast<T: JsCast>(e: Element) -> Option<T> {
    e.dyn_into::<T>().ok()
}

/// A `<label for=…>` and its field.
fn field(parent: &Element, tag: &str, id: &str) -> Option<(Element, Element)> {
    let label = child(parent, "label", "sb-label")?;
    set_attr(&label, "for", id);
    let input = child(parent, tag, "sb-field")?;
    input.set_id(id);
    Some((label, input))
}

impl View {
    /// Builds the window inside `#app` (replacing the boot placeholder).
    pub(crate) fn build(origin: String) -> Option<View> {
        let doc = document()?;
        let root = doc.get_element_by_id("app")?;
        root.set_text_content(None);
        root.set_class_name("sb-app");

        let header = child(&root, "header", "sb-header")?;
        let heading = child(&header, "div", "sb-heading")?;
        let title = child(&heading, "h1", "sb-title")?;
        let tagline = child(&heading, "p", "sb-tagline")?;
        let close = child(&header, "button", "sb-close")?;
        set_attr(&close, "type", "button");
        close.set_text_content(Some("\u{00d7}"));

        let status = child(&root, "div", "sb-status")?;
        status.set_id("sb-status");
        set_attr(&status, "role", "status");

        let scroller = child(&root, "div", "sb-body")?;
        let older = child(&scroller, "button", "sb-older")?;
        set_attr(&older, "type", "button");
        let empty = child(&scroller, "p", "sb-empty")?;
        let list = child(&scroller, "div", "sb-messages")?;
        list.set_id("sb-messages");
        set_attr(&list, "role", "log");
        set_attr(&list, "aria-live", "polite");
        let queue = child(&scroller, "p", "sb-queue")?;
        queue.set_id("sb-queue");
        set_attr(&queue, "aria-live", "polite");
        let typing = child(&scroller, "p", "sb-typing")?;
        typing.set_id("sb-typing");
        set_attr(&typing, "aria-live", "polite");

        let prechat = child(&root, "form", "sb-prechat")?;
        prechat.set_id("sb-prechat");
        set_attr(&prechat, "novalidate", "");
        let prechat_intro = child(&prechat, "p", "sb-prechat-intro")?;
        let (name_label, name) = field(&prechat, "input", "sb-prechat-name")?;
        set_attr(&name, "autocomplete", "name");
        let (email_label, email) = field(&prechat, "input", "sb-prechat-email")?;
        set_attr(&email, "type", "email");
        set_attr(&email, "autocomplete", "email");
        set_attr(&email, "required", "");
        let prechat_error = child(&prechat, "p", "sb-error")?;
        set_attr(&prechat_error, "role", "alert");
        let prechat_submit = child(&prechat, "button", "sb-primary")?;
        set_attr(&prechat_submit, "type", "submit");

        let composer = child(&root, "form", "sb-composer")?;
        let (input_label, input) = field(&composer, "textarea", "sb-input")?;
        input_label.set_class_name("sb-sr-only");
        set_attr(&input, "rows", "1");
        let attach = child(&composer, "button", "sb-attach")?;
        attach.set_id("sb-attach");
        set_attr(&attach, "type", "button");
        icon(&attach, CLIP);
        let send = child(&composer, "button", "sb-send")?;
        send.set_id("sb-send");
        set_attr(&send, "type", "submit");
        icon(&send, PLANE);
        // Out of sight and out of the tab order: the button stands for it.
        let file = child(&composer, "input", "sb-sr-only")?;
        file.set_id("sb-file");
        set_attr(&file, "type", "file");
        set_attr(&file, "multiple", "");
        set_attr(&file, "accept", ACCEPT);
        set_attr(&file, "tabindex", "-1");
        set_attr(&file, "aria-hidden", "true");
        let limit = child(&composer, "p", "sb-limit")?;
        set_attr(&limit, "role", "alert");
        let upload = child(&composer, "div", "sb-upload")?;
        upload.set_id("sb-upload");
        set_attr(&upload, "role", "status");
        let upload_text = child(&upload, "span", "sb-upload-text")?;
        let upload_retry = child(&upload, "button", "sb-retry")?;
        set_attr(&upload_retry, "type", "button");
        let upload_cancel = child(&upload, "button", "sb-link")?;
        set_attr(&upload_cancel, "type", "button");

        Some(View {
            root,
            title,
            tagline,
            close,
            status,
            scroller,
            older,
            list,
            empty,
            queue,
            typing,
            prechat,
            prechat_intro,
            name_label,
            name: cast(name)?,
            email_label,
            email: cast(email)?,
            prechat_error,
            prechat_submit: cast(prechat_submit)?,
            composer,
            input_label,
            input: cast(input)?,
            send: cast(send)?,
            attach: cast(attach)?,
            file: cast(file)?,
            limit,
            upload,
            upload_text,
            upload_retry,
            upload_cancel,
            rows: HashMap::new(),
            color: String::new(),
            origin,
            stick: true,
            last_top: 0,
        })
    }

    pub(crate) fn close_button(&self) -> &Element {
        &self.close
    }

    /// Puts the focus where the visitor will type.
    pub(crate) fn focus(&self) {
        let _ = if self.prechat.has_attribute("hidden") {
            self.input.focus()
        } else {
            self.name.focus()
        };
    }

    /// How far the list is scrolled from its end, in pixels.
    fn distance_to_end(&self) -> i32 {
        let s = &self.scroller;
        s.scroll_height() - s.scroll_top() - s.client_height()
    }

    /// Whether the list is scrolled (nearly) to its end.
    pub(crate) fn at_bottom(&self) -> bool {
        self.distance_to_end() < NEAR_BOTTOM_PX
    }

    pub(crate) fn scroll_to_bottom(&mut self) {
        self.scroller.set_scroll_top(self.scroller.scroll_height());
        self.stick = true;
    }

    /// The list scrolled. Only the visitor scrolling up lets go of the end;
    /// reaching it again holds on. (A picture growing the list fires no
    /// scroll, and ours down to the end may arrive after it grew.)
    pub(crate) fn scrolled(&mut self) {
        let top = self.scroller.scroll_top();
        if top < self.last_top || self.at_bottom() {
            self.stick = self.at_bottom();
        }
        self.last_top = top;
    }

    /// A picture or player got its size: the list stays at its end if it
    /// was there.
    pub(crate) fn media_loaded(&mut self) {
        if self.stick {
            self.scroll_to_bottom();
        }
    }

    /// Brings the whole window in line with the session.
    pub(crate) fn render(&mut self, s: &Session, locale: Locale) {
        let t = locale.strings();
        self.labels(t);
        let inbox = s.inbox.as_ref();
        // Without a welcome title, the widget's own words in the visitor's
        // language: the inbox's name is the team's label, not a greeting.
        let title = inbox
            .and_then(|i| i.welcome_title.as_deref())
            .filter(|x| !x.trim().is_empty())
            .unwrap_or(t.title);
        set_text(&self.title, title);
        let tagline = inbox
            .and_then(|i| i.welcome_tagline.as_deref())
            .unwrap_or("");
        set_text(&self.tagline, tagline);
        set_hidden(&self.tagline, tagline.is_empty());
        let color = theme_color(inbox.and_then(|i| i.widget_color.as_deref()));
        if color != self.color {
            css_var(&self.root, "--sb-color", &color);
            css_var(&self.root, "--sb-on-color", text_on(&color));
            self.color = color;
        }

        let (line, kind) = match s.status() {
            Status::Fatal(Fatal::Unavailable) => (t.unavailable, "sb-status sb-error"),
            Status::Fatal(Fatal::OriginBlocked) => (t.origin_blocked, "sb-status sb-error"),
            // The first connection is quick: no banner until it says something.
            Status::Connecting => ("", "sb-status sb-connecting"),
            Status::Reconnecting => (t.reconnecting, "sb-status sb-reconnecting"),
            Status::Online => (t.online, "sb-status sb-online"),
            Status::Away => (t.away, "sb-status sb-away"),
        };
        set_text(&self.status, line);
        set_attr(&self.status, "class", kind);
        set_hidden(&self.status, line.is_empty());

        let chat = &s.chat;
        set_hidden(&self.older, !chat.has_more);
        set_text(
            &self.older,
            if s.older_loading {
                t.loading
            } else {
                t.load_older
            },
        );
        let _ = self
            .older
            .toggle_attribute_with_force("disabled", s.older_loading);
        // Never a blank box: "connecting…" at first, then an invitation.
        let empty = if s.status() == Status::Connecting {
            t.connecting
        } else if s.newest_loading {
            t.loading
        } else {
            t.empty
        };
        set_text(&self.empty, empty);
        set_hidden(&self.empty, !chat.items.is_empty() || s.fatal.is_some());

        let before = self.distance_to_end();
        let team = inbox.map_or(t.title, |i| i.name.as_str());
        let prepended = reconcile(
            &self.list,
            &mut self.rows,
            &chat.items,
            locale,
            team,
            &self.origin,
        );

        match chat.queue_position() {
            Some(n) => set_text(&self.queue, &fill(t.queue, &n.to_string())),
            None => set_text(&self.queue, ""),
        }
        set_hidden(&self.queue, chat.queue_position().is_none());
        let typing = chat.typing.as_ref().map(|(name, _)| fill(t.typing, name));
        set_text(&self.typing, typing.as_deref().unwrap_or(""));
        set_hidden(&self.typing, typing.is_none());

        let prechat = s.prechat_due();
        set_hidden(&self.prechat, !prechat);
        set_hidden(&self.composer, prechat);
        let intro = inbox
            .and_then(|i| i.pre_chat_message.as_deref())
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(t.prechat_intro);
        set_text(&self.prechat_intro, intro);
        let error = s.prechat_error.as_ref().map(|r| reason_text(r, t));
        set_text(&self.prechat_error, error.as_deref().unwrap_or(""));
        set_hidden(&self.prechat_error, error.is_none());
        self.prechat_submit.set_disabled(s.prechat_busy);

        self.composer_state(s, t);

        // Keep the view still: older messages that went in above do not
        // move what the visitor reads; news at the end is followed when the
        // visitor was at the end. Nothing moves when nothing changed.
        let after = self.distance_to_end();
        if prepended && before >= NEAR_BOTTOM_PX {
            let top = self.scroller.scroll_top();
            self.scroller.set_scroll_top(top + after - before);
        } else if before < NEAR_BOTTOM_PX && after != before {
            self.scroll_to_bottom();
        }
    }

    /// The text box, send button and length notice.
    pub(crate) fn composer_state(&self, s: &Session, t: &Strings) {
        let value = self.input.value();
        let fatal = s.fatal.is_some();
        self.input.set_disabled(fatal);
        self.send
            .set_disabled(fatal || !crate::text::sendable(&value));
        let over = crate::text::over_limit(&value);
        let notice = over.map(|n| fill(t.too_long, &n.to_string()));
        set_text(&self.limit, notice.as_deref().unwrap_or(""));
        set_hidden(&self.limit, notice.is_none());

        self.attach.set_disabled(!s.can_attach());
        let (line, kind) = match (&s.upload, &s.attach_notice) {
            _ if fatal => (None, ""),
            (Some(u), _) => match &u.state {
                UploadState::Failed(Some(r)) => (Some(reason_text(r, t)), "sb-upload sb-failed"),
                UploadState::Failed(None) => (Some(t.upload_failed.into()), "sb-upload sb-failed"),
                _ => (Some(t.uploading.into()), "sb-upload sb-busy"),
            },
            (None, Some(r)) => (Some(refusal_text(r, t)), "sb-upload sb-refused"),
            (None, None) => (None, "sb-upload"),
        };
        set_text(&self.upload_text, line.as_deref().unwrap_or(""));
        set_attr(&self.upload, "class", kind);
        set_hidden(&self.upload, line.is_none());
        let failed = kind.ends_with("sb-failed");
        set_hidden(&self.upload_retry, !failed);
        set_hidden(&self.upload_cancel, !failed);
    }

    /// Fixed labels, in the current language.
    fn labels(&self, t: &Strings) {
        set_attr(&self.close, "aria-label", t.close);
        set_attr(&self.close, "title", t.close);
        set_attr(&self.list, "aria-label", t.messages);
        set_text(&self.name_label, t.prechat_name);
        set_text(&self.email_label, t.prechat_email);
        set_text(&self.prechat_submit, t.prechat_submit);
        set_text(&self.input_label, t.input_label);
        set_attr(&self.input, "placeholder", t.placeholder);
        set_attr(&self.send, "aria-label", t.send);
        set_attr(&self.send, "title", t.send);
        set_attr(&self.attach, "aria-label", t.attach);
        set_attr(&self.attach, "title", t.attach);
        set_text(&self.upload_retry, t.retry);
        set_text(&self.upload_cancel, t.cancel);
    }

    /// Grows the text box with its content up to [`INPUT_MAX_PX`], then
    /// lets it scroll.
    pub(crate) fn fit_input(&self) {
        let style = self.input.style();
        let _ = style.set_property("height", "auto");
        // `scrollHeight` leaves out the 1px borders of the border box.
        let h = self.input.scroll_height() + 2;
        let _ = style.set_property("height", &format!("{}px", h.clamp(40, INPUT_MAX_PX)));
        let overflow = if h > INPUT_MAX_PX { "auto" } else { "hidden" };
        let _ = style.set_property("overflow-y", overflow);
    }
}

/// A paper plane, for the send button.
const PLANE: &str = "M3.4 20.4 21.85 12.5a.55.55 0 0 0 0-1L3.4 3.6a.5.5 0 0 0-.7.6L5 11l10 1-10 1-2.3 6.8a.5.5 0 0 0 .7.6z";
/// A paper clip, for the attach button.
const CLIP: &str = "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z";

/// An icon for a button (its name is its aria-label).
fn icon(button: &Element, d: &str) {
    const SVG: &str = "http://www.w3.org/2000/svg";
    let Some(doc) = document() else { return };
    let (Ok(svg), Ok(path)) = (
        doc.create_element_ns(Some(SVG), "svg"),
        doc.create_element_ns(Some(SVG), "path"),
    ) else {
        return;
    };
    set_attr(&svg, "viewBox", "0 0 24 24");
    set_attr(&svg, "aria-hidden", "true");
    set_attr(&svg, "focusable", "false");
    set_attr(&path, "d", d);
    let _ = svg.append_child(&path);
    let _ = button.append_child(&svg);
}
