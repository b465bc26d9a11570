//! Beside the conversation: "Conversation actions" (the assigned agent,
//! picked among the inbox's collaborators, with their presence) and the
//! contact panel (`contact.rs`).

use switchboard_protocol::api::Agent;
use switchboard_protocol::chat::Conversation;
use web_sys::Element;

use super::contact::ContactPanel;
use crate::dom::{self, h, option};
use crate::i18n::{Lang, T};
use crate::state::Data;

pub(super) struct Side {
    assignee: Element,
    assignee_sig: String,
    assign_me: Element,
    contact: ContactPanel,
}

impl Side {
    pub(super) fn build(parent: &Element, d: &Data) -> Option<Side> {
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
            contact: ContactPanel::build(&contact, d.lang)?,
        })
    }

    pub(super) fn update(&mut self, c: &Conversation, d: &Data) {
        let lang = d.lang;
        let members = d.members.get(&c.inbox_id).map(Vec::as_slice).unwrap_or(&[]);
        let max = d
            .inbox(c.inbox_id)
            .and_then(|i| i.auto_assignment_config.max_assignment_limit);
        let mut labelled: Vec<(String, String)> = members
            .iter()
            .map(|a| (a.id.to_string(), label(a, max, d.presence.get(&a.id), lang)))
            .collect();
        // The current assignee is listed even if no longer a collaborator.
        if let Some(a) = &c.meta.assignee {
            if !members.iter().any(|m| m.id == a.id) {
                labelled.push((a.id.to_string(), label(a, max, d.presence.get(&a.id), lang)));
            }
        }
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
        self.contact.update(&c.meta.sender, d);
    }
}

/// "Bruno · 2 open of 5 · online": their load in the inbox against its
/// maximum (the hub's own counts), and whether they are really there (a
/// console open), not only available.
fn label(a: &Agent, max: Option<u32>, presence: Option<&String>, lang: Lang) -> String {
    let state = match (presence.map(String::as_str), a.present) {
        (Some("online"), Some(false)) => T::PresenceNoConsole,
        (Some("online"), _) => T::PresenceOnline,
        (Some("busy"), _) => T::PresenceBusy,
        _ => T::PresenceOffline,
    };
    let load = match (a.open_conversations, max) {
        (Some(open), Some(max)) => Some(lang.tf(
            T::OpenOfMax,
            &[("open", &open.to_string()), ("max", &max.to_string())],
        )),
        (Some(open), None) => Some(lang.tf(T::OpenCount, &[("open", &open.to_string())])),
        (None, _) => None,
    };
    match load {
        Some(load) => format!("{} · {load} · {}", a.available_name, lang.t(state)),
        None => format!("{} · {}", a.available_name, lang.t(state)),
    }
}
