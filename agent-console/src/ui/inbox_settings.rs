//! An inbox's Settings block (its name; for a website inbox the chat
//! window, the pre-chat form and identity verification) and, at the foot
//! of the page, Delete inbox. The form is drawn from the inbox when it is
//! loaded or saved, never while the administrator is typing.

use switchboard_protocol::api::Inbox;
use web_sys::Element;

use super::channel::actions;
use super::inbox::{check, notice};
use super::parts::{copy_field, copy_labels, input, mark_invalid};
use super::section::Section;
use crate::admin::inbox_form::{self, InboxForm, INBOX_SETTINGS_FIELDS};
use crate::dom::{self, field, h, option, H};
use crate::i18n::{Lang, T};
use crate::state::Data;

pub(super) struct InboxSettingsBlock {
    form: Section,
    danger: Section,
}

impl InboxSettingsBlock {
    pub(super) fn new(form: Element, danger: Element) -> InboxSettingsBlock {
        InboxSettingsBlock {
            form: Section::new(form),
            danger: Section::new(danger),
        }
    }

    pub(super) fn update(&mut self, inbox: Option<&Inbox>, d: &Data) {
        let lang = d.lang;
        let s = &d.forms.inbox_settings;
        let (Some(inbox), Some(drawn)) = (inbox, s.drawn.as_ref()) else {
            return;
        };
        let sig = format!("{}|{}|{}", inbox.id, s.version, lang.code());
        self.form
            .refresh(sig, |el| dom::append(el, settings_form(inbox, drawn, lang)));
        if let Some(n) = dom::by_id("inbox-edit-notice") {
            notice(&n, s.notice.as_ref());
        }
        mark_invalid(INBOX_SETTINGS_FIELDS, s.invalid);
        copy_labels(["inbox-hmac-token"], d);
        let sig = format!("{}|{}", s.confirm_delete, lang.code());
        self.danger.refresh(sig, |el| {
            dom::append(el, delete_card(s.confirm_delete, lang))
        });
        if let Some(n) = dom::by_id("inbox-delete-notice") {
            notice(&n, s.delete_notice.as_ref());
        }
        for id in ["inbox-edit-save", "inbox-delete"] {
            if let Some(b) = dom::by_id(id) {
                dom::set_disabled(&b, s.busy);
            }
        }
    }
}

fn settings_form(inbox: &Inbox, f: &InboxForm, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let form = h("form")?
        .id("inbox-settings")
        .class("card")
        .act("save-inbox-settings")
        .attr("novalidate", "")
        .attr("autocomplete", "off")
        .child(h("h3")?.text(t(T::Settings)))
        .child(field(
            t(T::InboxName),
            input("inbox-edit-name", "text", &f.name),
        ));
    let form = if inbox_form::website(inbox) {
        form.children(website_fields(inbox, f, lang))
    } else {
        form
    };
    Some(form.child(actions("inbox-edit-save", t(T::Save), "inbox-edit-notice")))
}

/// The chat window, the pre-chat form and identity verification.
fn website_fields(inbox: &Inbox, f: &InboxForm, lang: Lang) -> Vec<Option<H>> {
    let t = |k| lang.t(k);
    let token = inbox.hmac_token.as_deref().filter(|s| !s.is_empty());
    vec![
        h("h4").map(|x| x.text(t(T::ChatWindow))),
        field(
            t(T::WebsiteUrl),
            input("inbox-edit-url", "url", &f.website_url)
                .map(|i| i.attr("placeholder", "https://")),
        ),
        field(
            t(T::WelcomeTitle),
            input("inbox-edit-title", "text", &f.welcome_title),
        ),
        field(
            t(T::WelcomeTagline),
            input("inbox-edit-tagline", "text", &f.welcome_tagline),
        ),
        field(
            t(T::WidgetColor),
            input("inbox-edit-color", "color", &f.widget_color),
        ),
        field(
            t(T::WidgetLanguage),
            h("select").map(|s| {
                s.id("inbox-edit-locale").children(
                    [
                        ("", T::VisitorsBrowser),
                        ("en", T::LanguageEnglish),
                        ("pt-BR", T::LanguagePortuguese),
                    ]
                    .into_iter()
                    .map(|(v, label)| option(v, t(label), v == f.locale)),
                )
            }),
        ),
        h("p").map(|p| p.class("help").text(t(T::WidgetLanguageHelp))),
        h("h4").map(|x| x.text(t(T::PreChatForm))),
        check(
            "inbox-edit-pre-chat",
            f.pre_chat_enabled,
            t(T::PreChatEnabled),
        ),
        field(
            t(T::PreChatMessage),
            h("textarea").map(|a| {
                a.id("inbox-edit-pre-chat-message")
                    .attr("rows", "2")
                    .text(&f.pre_chat_message)
            }),
        ),
        h("h4").map(|x| x.text(t(T::IdentityVerification))),
        token.and_then(|token| {
            copy_field(
                "inbox-hmac-token",
                t(T::HmacToken),
                token,
                Some(t(T::HmacHelp)),
                lang,
            )
        }),
        check(
            "inbox-edit-hmac-mandatory",
            f.hmac_mandatory,
            t(T::HmacMandatory),
        ),
    ]
}

fn delete_card(confirming: bool, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let label = if confirming {
        T::ConfirmDelete
    } else {
        T::DeleteInbox
    };
    Some(
        h("section")?
            .id("inbox-danger")
            .class("card danger-zone")
            .child(h("h3")?.text(t(T::DeleteInbox)))
            .child(h("p")?.class("help").text(t(T::DeleteInboxHelp)))
            .child(
                h("div")?
                    .class("form-actions")
                    .child(
                        h("button")?
                            .id("inbox-delete")
                            .class("ghost danger")
                            .class_if("confirming", confirming)
                            .attr("type", "button")
                            .act("delete-inbox")
                            .text(t(label)),
                    )
                    .child(
                        h("span")?
                            .id("inbox-delete-notice")
                            .class("notice")
                            .attr("role", "status"),
                    ),
            ),
    )
}
