//! Beside the conversation: "Conversation actions" (the assigned agent,
//! picked among the inbox's collaborators, with their presence) and the
//! contact (name, e-mail, phone, identifier, custom attributes, and the
//! CRM block: the contact's Agendor record and deal, or how its sync went,
//! from `crm`; a plain link when there is only a `crm_url` attribute).

use serde_json::Value;
use switchboard_protocol::chat::{Contact, Conversation};
use web_sys::Element;

use super::section::Section;
use crate::crm::{self, Anchor};
use crate::dom::{self, h, option, H};
use crate::format;
use crate::i18n::{Lang, T};
use crate::state::Data;

pub struct Side {
    assignee: Element,
    assignee_sig: String,
    assign_me: Element,
    contact: Section,
}

impl Side {
    pub fn build(parent: &Element, d: &Data) -> Option<Side> {
        let t = |k| d.lang.t(k);
        let assignee = h("select")?.id("assignee-select").act("assignee").el();
        let assign_me = h("button")?
            .id("assign-me")
            .class("ghost")
            .attr("type", "button")
            .act("assign-me")
            .text(t(T::AssignToMe))
            .el();
        let label = h("label")?
            .class("field")
            .child(h("span")?.class("caption").text(t(T::Assignee)))
            .el();
        let _ = label.append_child(&assignee);
        let actions = h("section")?
            .class("panel actions-panel")
            .child(h("h3")?.text(t(T::ConversationActions)))
            .el();
        let _ = actions.append_child(&label);
        let _ = actions.append_child(&assign_me);
        let contact = h("section")?.id("contact-panel").class("panel").el();
        let _ = parent.append_child(&actions);
        let _ = parent.append_child(&contact);
        Some(Side {
            assignee,
            assignee_sig: String::new(),
            assign_me,
            contact: Section::new(contact),
        })
    }

    pub fn update(&mut self, c: &Conversation, d: &Data) {
        let lang = d.lang;
        let members = d.members.get(&c.inbox_id).map(Vec::as_slice).unwrap_or(&[]);
        // The current assignee is listed even if no longer a collaborator.
        let mut choices: Vec<(i64, String)> = members
            .iter()
            .map(|a| (a.id, a.available_name.clone()))
            .collect();
        if let Some(a) = &c.meta.assignee {
            if !choices.iter().any(|(id, _)| *id == a.id) {
                choices.push((a.id, a.available_name.clone()));
            }
        }
        let labelled: Vec<(String, String)> = choices
            .into_iter()
            .map(|(id, name)| (id.to_string(), label(&name, d.presence.get(&id), lang)))
            .collect();
        let sig = format!("{labelled:?}{}", lang.code());
        if sig != self.assignee_sig {
            dom::replace_children(
                &self.assignee,
                std::iter::once(option("", lang.t(T::NoneOption), false))
                    .chain(labelled.iter().map(|(v, l)| option(v, l, false))),
            );
            self.assignee_sig = sig;
        }
        let value = c.assignee_id.map(|a| a.to_string()).unwrap_or_default();
        dom::set_value(&self.assignee, &value);
        dom::set_hidden(&self.assign_me, c.assignee_id == Some(d.me()));
        let contact = &c.meta.sender;
        let retrying = d.forms.crm_retrying.contains(&contact.id);
        let sig = format!(
            "{}|{retrying}|{}",
            serde_json::to_string(contact).unwrap_or_default(),
            lang.code()
        );
        self.contact
            .refresh(sig, |el| draw_contact(el, contact, lang, retrying));
    }
}

/// "Bruno · online".
fn label(name: &str, presence: Option<&String>, lang: Lang) -> String {
    let state = match presence.map(String::as_str) {
        Some("online") => T::PresenceOnline,
        Some("busy") => T::PresenceBusy,
        _ => T::PresenceOffline,
    };
    format!("{name} · {}", lang.t(state))
}

fn draw_contact(el: &Element, c: &Contact, lang: Lang, retrying: bool) {
    let t = |k| lang.t(k);
    dom::append(el, h("h3").map(|x| x.text(t(T::Contact))));
    dom::append(
        el,
        h("div").map(|head| {
            head.class("contact-head")
                .child(h("span").map(|a| {
                    a.class("avatar")
                        .data("hue", &c.id.rem_euclid(8).to_string())
                        .text(&format::initials(&c.name))
                }))
                .child(h("div").map(|n| n.class("contact-name").text(&c.name)))
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
