//! Beside the conversation: "Conversation actions" (the assigned agent,
//! picked among the inbox's collaborators, with their presence) and the
//! contact panel (`contact.rs`).

use switchboard_protocol::chat::Conversation;
use web_sys::Element;

use super::contact::ContactPanel;
use crate::dom::{self, h, option};
use crate::i18n::{Lang, T};
use crate::state::Data;

pub struct Side {
    assignee: Element,
    assignee_sig: String,
    assign_me: Element,
    contact: ContactPanel,
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
            contact: ContactPanel::build(&contact, d.lang)?,
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
        self.contact.update(&c.meta.sender, d);
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
