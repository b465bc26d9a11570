//! The conversation's contact panel: name, e-mail, phone, identifier, an
//! Edit button that turns them into a small form (Save, Cancel, the
//! server's refusal under it), custom attributes, and the CRM block (the
//! contact's Agendor record and deal, or how its sync went, from `crm`; a
//! plain link when there is only a `crm_url` attribute).
//!
//! Each part redraws on its own: a live change of the contact redraws the
//! details and the CRM block, never the form being typed in (the form's
//! untouched fields follow such a change, see `contact/edit.rs`).

use serde_json::Value;
use switchboard_protocol::chat::Contact;
use web_sys::Element;

use super::parts::{input, mark_invalid};
use super::section::Section;
use crate::contact::crm::{self, Anchor};
use crate::contact::form::{ContactEdit, ContactForm, CONTACT_FIELDS};
use crate::dom::{self, field, h, H};
use crate::i18n::format;
use crate::i18n::{Lang, T};
use crate::state::Data;

pub(super) struct ContactPanel {
    edit: Element,
    details: Section,
    form: Section,
    extra: Section,
}

impl ContactPanel {
    /// Fills `#contact-panel`.
    pub(super) fn build(panel: &Element, lang: Lang) -> Option<ContactPanel> {
        let t = |k| lang.t(k);
        let edit = h("button")?
            .id("contact-edit")
            .class("ghost small")
            .attr("type", "button")
            .attr("title", t(T::EditContact))
            .act("edit-contact")
            .text(t(T::Edit))
            .el();
        let title = h("div")?
            .class("panel-title")
            .child(h("h3")?.text(t(T::Contact)))
            .el();
        let _ = title.append_child(&edit);
        let details = h("div")?.class("contact-details").el();
        let form = h("div")?.class("contact-form-host").el();
        let extra = h("div")?.class("contact-extra").el();
        for e in [&title, &details, &form, &extra] {
            let _ = panel.append_child(e);
        }
        Some(ContactPanel {
            edit,
            details: Section::new(details),
            form: Section::new(form),
            extra: Section::new(extra),
        })
    }

    pub(super) fn update(&mut self, c: &Contact, d: &Data) {
        let lang = d.lang;
        let editing = d.forms.contact.as_ref().filter(|e| e.contact == c.id);
        dom::set_attr(&self.edit, "data-contact-id", &c.id.to_string());
        dom::set_hidden(&self.edit, editing.is_some());
        dom::set_hidden(&self.details.el, editing.is_some());
        let sig = format!(
            "{}|{}|{:?}|{:?}|{:?}|{}",
            c.id,
            c.name,
            c.email,
            c.phone_number,
            c.identifier,
            lang.code()
        );
        self.details.refresh(sig, |el| draw_details(el, c, lang));
        // Drawn once per edit, from what the form started with; never
        // while the agent types.
        let sig = editing.map(|e| e.contact.to_string()).unwrap_or_default();
        self.form.refresh(sig, |el| {
            if let Some(edit) = editing {
                dom::append(el, edit_form(&edit.base, lang));
                if let Some(name) = dom::by_id(CONTACT_FIELDS[0].1) {
                    dom::focus(&name);
                }
            }
        });
        if let Some(edit) = editing {
            show_state(edit);
        }
        let retrying = d.forms.crm_retrying.contains(&c.id);
        let sig = format!(
            "{}|{}|{:?}|{retrying}|{}",
            c.custom_attributes,
            c.additional_attributes,
            c.crm,
            lang.code()
        );
        self.extra
            .refresh(sig, |el| draw_extra(el, c, lang, retrying));
    }
}

/// The refusal under the form, the field it names, Save while saving.
fn show_state(edit: &ContactEdit) {
    if let Some(e) = dom::by_id("contact-edit-error") {
        dom::set_text(&e, edit.error.as_deref().unwrap_or(""));
    }
    mark_invalid(CONTACT_FIELDS, edit.invalid);
    if let Some(b) = dom::by_id("contact-edit-save") {
        dom::set_disabled(&b, edit.busy);
    }
}

fn edit_form(f: &ContactForm, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let [name, email, phone, identifier] = f.values();
    Some(
        h("form")?
            .id("contact-edit-form")
            .class("contact-edit")
            .act("save-contact")
            .attr("novalidate", "")
            .attr("autocomplete", "off")
            .child(field(t(T::Name), input("contact-edit-name", "text", name)))
            .child(field(
                t(T::Email),
                input("contact-edit-email", "email", email),
            ))
            .child(field(
                t(T::Phone),
                input("contact-edit-phone", "tel", phone)
                    .map(|i| i.attr("placeholder", "+5511999998888")),
            ))
            .child(h("p")?.class("help").text(t(T::PhoneFormatHelp)))
            .child(field(
                t(T::Identifier),
                input("contact-edit-identifier", "text", identifier),
            ))
            .child(
                h("p")?
                    .id("contact-edit-error")
                    .class("form-error")
                    .attr("role", "alert"),
            )
            .child(
                h("div")?
                    .class("form-actions")
                    .child(
                        h("button")?
                            .id("contact-edit-save")
                            .class("primary")
                            .attr("type", "submit")
                            .text(t(T::Save)),
                    )
                    .child(
                        h("button")?
                            .id("contact-edit-cancel")
                            .class("ghost")
                            .attr("type", "button")
                            .act("cancel-contact-edit")
                            .text(t(T::Cancel)),
                    ),
            ),
    )
}

fn draw_details(el: &Element, c: &Contact, lang: Lang) {
    let t = |k| lang.t(k);
    dom::append(
        el,
        h("div").map(|head| {
            head.class("contact-head")
                .child(h("span").map(|a| {
                    a.class("avatar")
                        .data("hue", &c.id.rem_euclid(8).to_string())
                        .text(&format::initials(&format::contact_name(c, lang)))
                }))
                .child(
                    h("div").map(|n| n.class("contact-name").text(&format::contact_name(c, lang))),
                )
        }),
    );
    let row = |caption: &str, class: &str, value: Option<&str>| -> Vec<Option<H>> {
        let value = value.filter(|v| !v.trim().is_empty());
        vec![
            h("dt").map(|x| x.text(caption)),
            h("dd").map(|x| {
                x.class(class)
                    .class_if("empty", value.is_none())
                    .text(value.unwrap_or("—"))
            }),
        ]
    };
    let fields = [
        row(t(T::Email), "contact-email", c.email.as_deref()),
        row(t(T::Phone), "contact-phone", c.phone_number.as_deref()),
        row(
            t(T::Identifier),
            "contact-identifier",
            c.identifier.as_deref(),
        ),
    ];
    dom::append(
        el,
        h("dl").map(|dl| {
            dl.class("contact-fields")
                .children(fields.into_iter().flatten())
        }),
    );
}

/// Custom attributes and the CRM block.
fn draw_extra(el: &Element, c: &Contact, lang: Lang, retrying: bool) {
    let t = |k| lang.t(k);
    let attributes: Vec<(String, String)> = c
        .custom_attributes
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "crm_url")
                .map(|(k, v)| (k.clone(), show(v)))
                .collect()
        })
        .unwrap_or_default();
    if !attributes.is_empty() {
        dom::append(el, h("h4").map(|x| x.text(t(T::CustomAttributes))));
        let items = attributes
            .iter()
            .flat_map(|(k, v)| [h("dt").map(|x| x.text(k)), h("dd").map(|x| x.text(v))]);
        dom::append(
            el,
            h("dl").map(|dl| dl.class("contact-attributes").children(items)),
        );
    }
    if let Some(link) = &c.crm {
        dom::append(el, crm_block(c.id, &crm::view(link, lang), lang, retrying));
        return;
    }
    // Without the integration, a `crm_url` attribute; its place is kept.
    let crm = crm_url(c);
    dom::append(
        el,
        h("div").map(|slot| {
            let slot = slot.class("crm-slot");
            match crm {
                Some(url) => slot.child(h("a").map(|a| {
                    a.class("crm-link")
                        .attr("href", &url)
                        .attr("target", "_blank")
                        .attr("rel", "noopener noreferrer")
                        .text(t(T::OpenInCrm))
                })),
                None => slot,
            }
        }),
    );
}

/// `#crm-link`: the status line (the record's link once synced), the
/// deal's link, and the error with Retry when the sync failed.
fn crm_block(contact: i64, v: &crm::CrmView, lang: Lang, retrying: bool) -> Option<H> {
    let line = anchor(&v.line, "crm-record-link").map(|a| a.class("crm-status"));
    let deal = v.deal.as_ref().and_then(|d| anchor(d, "crm-deal-link"));
    let error = v
        .error
        .as_deref()
        .and_then(|e| h("p").map(|p| p.class("crm-error").text(e)));
    let retry = v.retry.then(|| {
        h("button").map(|b| {
            b.id("crm-retry")
                .class("ghost")
                .attr("type", "button")
                .act("crm-retry")
                .data("contact-id", &contact.to_string())
                .flag("disabled", retrying)
                .text(lang.t(T::Retry))
        })
    });
    Some(
        h("div")?
            .id("crm-link")
            .class("crm-slot crm-block")
            .class_if("muted", v.status == "pending")
            .data("status", v.status)
            .attr("aria-live", "polite")
            .child(h("h4").map(|x| x.text("CRM")))
            .child(line)
            .child(deal)
            .child(error)
            .child(retry.flatten()),
    )
}

/// A link to a web address, opened apart from the console; plain text for
/// anything else (the address came from outside). Only a link gets `id`.
fn anchor(a: &Anchor, id: &str) -> Option<H> {
    match &a.href {
        Some(href) => Some(
            h("a")?
                .id(id)
                .attr("href", href)
                .attr("target", "_blank")
                .attr("rel", "noopener noreferrer")
                .text(&a.text),
        ),
        None => Some(h("span")?.text(&a.text)),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// `crm_url` from the contact's attributes, if it is a web address.
fn crm_url(c: &Contact) -> Option<String> {
    [&c.custom_attributes, &c.additional_attributes]
        .into_iter()
        .find_map(|attrs| attrs.get("crm_url")?.as_str().map(str::to_string))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}
