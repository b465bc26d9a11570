//! The reply box's "Send a template" form for WhatsApp conversations: the
//! inbox's approved templates (with a search when there are many), then,
//! for the one picked, an input per `{{n}}` of its body, a live preview
//! and Send, which waits until every input is filled. Sync templates
//! reads them from WhatsApp again; a failed sync says why.
//!
//! The list is redrawn when the templates or the search change, the
//! inputs only when another template is picked or one was sent: typing
//! updates the preview and Send in place, never the inputs themselves.

use switchboard_protocol::api::Inbox;
use switchboard_protocol::chat::Conversation;
use web_sys::Element;

use crate::conversation::templates::{self, Template, Unsupported};
use crate::dom::{self, h, H};
use crate::i18n::format;
use crate::i18n::{Lang, T};
use crate::state::Data;

/// The approved templates of a conversation's inbox.
pub(crate) fn offered(d: &Data, c: &Conversation) -> Vec<Template> {
    d.inbox(c.inbox_id)
        .and_then(|i| i.message_templates.as_deref())
        .map(templates::approved)
        .unwrap_or_default()
}

pub(super) struct TemplateView {
    pub el: Element,
    synced: Element,
    sync: Element,
    close: Element,
    error: Element,
    search: Element,
    list: Element,
    list_sig: Option<String>,
    fill: Element,
    fill_sig: Option<String>,
    /// In the drawn fill form: the preview's body and Send, updated as
    /// the agent types.
    preview: Option<Element>,
    hint: Option<Element>,
    send: Option<Element>,
}

impl TemplateView {
    pub(super) fn build(lang: Lang) -> Option<TemplateView> {
        let t = |k| lang.t(k);
        let synced = h("span")?.id("template-synced").class("muted").el();
        let sync = h("button")?
            .id("template-sync")
            .class("ghost small")
            .attr("type", "button")
            .act("sync-templates")
            .text(t(T::SyncTemplates))
            .el();
        let close = h("button")?
            .id("template-close")
            .class("ghost small")
            .attr("type", "button")
            .act("close-templates")
            .text(t(T::WriteMessage))
            .el();
        let head = h("div")?
            .class("template-head")
            .child(h("h4")?.text(t(T::SendTemplate)))
            .el();
        for e in [&synced, &sync, &close] {
            let _ = head.append_child(e);
        }
        let error = h("p")?
            .id("template-sync-error")
            .class("form-error")
            .attr("role", "alert")
            .el();
        let search = h("input")?
            .id("template-search")
            .attr("type", "search")
            .attr("placeholder", t(T::SearchTemplates))
            .attr("aria-label", t(T::SearchTemplates))
            .act("template-search")
            .el();
        let list = h("ul")?.id("template-list").class("template-list").el();
        let fill = h("div")?.class("template-fill-host").el();
        let el = h("div")?
            .id("template-form")
            .class("template-form")
            .flag("hidden", true)
            .el();
        for e in [&head, &error, &search, &list, &fill] {
            let _ = el.append_child(e);
        }
        Some(TemplateView {
            el,
            synced,
            sync,
            close,
            error,
            search,
            list,
            list_sig: None,
            fill,
            fill_sig: None,
            preview: None,
            hint: None,
            send: None,
        })
    }

    pub(super) fn update(&mut self, c: &Conversation, d: &Data) {
        let lang = d.lang;
        let form = &d.forms.template;
        let inbox = d.inbox(c.inbox_id);
        self.head(c, inbox, d);
        let offered = offered(d, c);
        let picked = form
            .picked
            .as_deref()
            .and_then(|key| offered.iter().find(|t| t.key() == key));
        dom::set_hidden(
            &self.search,
            picked.is_some() || offered.len() < templates::SEARCH_FROM,
        );
        dom::set_hidden(&self.list, picked.is_some());
        dom::set_hidden(&self.fill, picked.is_none());
        match picked {
            None => {
                if dom::value(&self.search) != form.search {
                    dom::set_value(&self.search, &form.search);
                }
                self.draw_list(&offered, &form.search, lang);
            }
            Some(t) => self.draw_fill(t, d),
        }
    }

    /// Sync templates, when they were last synced, and why a sync failed.
    fn head(&self, c: &Conversation, inbox: Option<&Inbox>, d: &Data) {
        let lang = d.lang;
        let form = &d.forms.template;
        let syncing = form.syncing.contains(&c.inbox_id);
        dom::set_disabled(&self.sync, syncing || inbox.is_none());
        let label = if syncing {
            T::SyncingTemplates
        } else {
            T::SyncTemplates
        };
        dom::set_text(&self.sync, lang.t(label));
        let synced = match inbox.and_then(|i| i.message_templates_last_updated) {
            Some(at) => {
                let when = format::stamp(lang, at, dom::now_s(), dom::tz_offset_minutes());
                lang.tf(T::TemplatesSynced, &[("when", &when)])
            }
            None => lang.t(T::TemplatesNeverSynced).to_string(),
        };
        dom::set_text(&self.synced, &synced);
        let error = form
            .sync_error
            .get(&c.inbox_id)
            .map(|e| format!("{} {e}", lang.t(T::TemplateSyncFailed)))
            .unwrap_or_default();
        dom::set_text(&self.error, &error);
        dom::set_hidden(&self.error, error.is_empty());
        dom::set_hidden(&self.close, form.open_for != Some(c.id));
    }

    fn draw_list(&mut self, offered: &[Template], query: &str, lang: Lang) {
        let shown = templates::search(offered, query);
        let sig = format!(
            "{}|{}|{}",
            offered.len(),
            shown
                .iter()
                .map(|t| format!("{}:{}:{:?}", t.key(), t.body, t.unsupported))
                .collect::<Vec<_>>()
                .join(","),
            lang.code()
        );
        if self.list_sig.as_deref() == Some(sig.as_str()) {
            return;
        }
        self.list.set_text_content(None);
        if shown.is_empty() {
            let text = if offered.is_empty() {
                T::NoTemplates
            } else {
                T::NoTemplateMatches
            };
            dom::append(
                &self.list,
                h("li").map(|li| li.id("template-empty").class("muted").text(lang.t(text))),
            );
        }
        for t in shown {
            dom::append(&self.list, item(t, lang));
        }
        self.list_sig = Some(sig);
        // A list drawn again forgets the fill form: it is drawn afresh.
        self.fill_sig = None;
    }

    fn draw_fill(&mut self, t: &Template, d: &Data) {
        let lang = d.lang;
        let form = &d.forms.template;
        let sig = format!("{}|{}|{}", t.key(), form.version, lang.code());
        if self.fill_sig.as_deref() != Some(sig.as_str()) {
            self.fill.set_text_content(None);
            let drawn = fill_form(t, d);
            if let Some((root, preview, hint, send)) = drawn {
                let _ = self.fill.append_child(&root);
                self.preview = Some(preview);
                self.hint = Some(hint);
                self.send = Some(send);
                if let Some(first) = root.query_selector(".template-param").ok().flatten() {
                    dom::focus(&first);
                }
            }
            self.fill_sig = Some(sig);
            self.list_sig = None;
        }
        let complete = t.complete(&form.values);
        if let Some(preview) = &self.preview {
            dom::set_text(preview, &templates::fill(&t.body, &form.values));
        }
        if let Some(hint) = &self.hint {
            dom::set_hidden(hint, complete);
        }
        if let Some(send) = &self.send {
            dom::set_disabled(send, !complete);
        }
    }
}

/// A template in the list: a button that picks it, or, when the console
/// cannot send it, the reason.
fn item(t: &Template, lang: Lang) -> Option<H> {
    let reason = t.unsupported.map(|u| {
        lang.t(match u {
            Unsupported::MediaHeader => T::UnsupportedMediaHeader,
            Unsupported::HeaderParameter => T::UnsupportedHeaderParameter,
            Unsupported::ButtonParameter => T::UnsupportedButtonParameter,
            Unsupported::NamedParameter => T::UnsupportedNamedParameter,
        })
    });
    let button = h("button")?
        .class("template-item")
        .class_if("unsupported", reason.is_some())
        .attr("type", "button")
        .data("template", &t.key())
        .flag("disabled", reason.is_some())
        .act("pick-template")
        .child(
            h("span")?
                .class("template-title")
                .child(h("span")?.class("template-name").text(&t.name))
                .child(h("span")?.class("template-language").text(&t.language))
                .child(h("span")?.class("template-category").text(&t.category)),
        )
        .child(h("span")?.class("template-body").text(&t.body))
        .child(reason.and_then(|r| h("span").map(|s| s.class("template-reason").text(r))));
    Some(h("li")?.child(button))
}

/// The picked template's form: its inputs, the preview and Send.
/// Returns the form and the preview body, hint and Send to update.
fn fill_form(t: &Template, d: &Data) -> Option<(Element, Element, Element, Element)> {
    let lang = d.lang;
    let tr = |k| lang.t(k);
    let slots = t.slots();
    let params = h("div")?.class("template-params").el();
    if !slots.is_empty() {
        dom::append(
            &params,
            h("span").map(|s| s.class("caption").text(tr(T::TemplateValues))),
        );
    }
    for n in &slots {
        let id = format!("template-param-{n}");
        let value = d.forms.template.values.get(n).cloned().unwrap_or_default();
        let label = lang.tf(T::TemplateVariable, &[("n", &n.to_string())]);
        dom::append(
            &params,
            h("label").map(|l| {
                l.class("template-param-field")
                    .child(h("span").map(|s| s.class("slot").text(&format!("{{{{{n}}}}}"))))
                    .child(h("input").map(|i| {
                        i.id(&id)
                            .class("template-param")
                            .attr("type", "text")
                            .attr("maxlength", &templates::MAX_VALUE_CHARS.to_string())
                            .attr("aria-label", &label)
                            .attr("placeholder", &label)
                            .data("n", &n.to_string())
                            .act("template-param")
                            .value(&value)
                    }))
            }),
        );
    }
    let preview = h("p")?.id("template-preview").class("preview-body").el();
    let boxed = h("div")?
        .class("template-preview")
        .attr("aria-live", "polite")
        .child(h("span")?.class("caption").text(tr(T::TemplatePreview)))
        .child(
            t.header
                .as_deref()
                .and_then(|x| h("p").map(|p| p.class("preview-header").text(x))),
        )
        .el();
    let _ = boxed.append_child(&preview);
    dom::append(
        &boxed,
        t.footer
            .as_deref()
            .and_then(|x| h("p").map(|p| p.class("preview-footer").text(x))),
    );
    let hint = h("span")?
        .class("template-hint muted")
        .text(tr(T::TemplateFillAll))
        .el();
    let send = h("button")?
        .id("template-send")
        .class("primary")
        .attr("type", "submit")
        .flag("disabled", true)
        .text(tr(T::Send))
        .el();
    let actions = h("div")?.class("template-actions").el();
    let _ = actions.append_child(&hint);
    let _ = actions.append_child(&send);
    let root = h("form")?
        .id("template-fill")
        .class("template-fill")
        .act("send-template")
        .data("template", &t.key())
        .child(
            h("div")?
                .class("template-picked")
                .child(h("strong")?.class("template-name").text(&t.name))
                .child(h("span")?.class("template-language").text(&t.language))
                .child(
                    h("button")?
                        .id("template-back")
                        .class("ghost small")
                        .attr("type", "button")
                        .act("unpick-template")
                        .text(tr(T::OtherTemplates)),
                ),
        )
        .el();
    for e in [&params, &boxed, &actions] {
        let _ = root.append_child(e);
    }
    Some((root, preview, hint, send))
}
