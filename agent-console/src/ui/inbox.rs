//! One inbox's settings, as the help article walks through them: its
//! Settings block (name, and a website's chat window, pre-chat form and
//! identity verification, in `inbox_settings.rs`), the channel's own block (a WhatsApp number's connection, an API inbox's
//! callback URL and keys, in `channel.rs`), Collaborators (who answers
//! it), Conversation assignment (automatic distribution, the maximum per
//! agent and the finer rules), the widget script to paste on the
//! website, the inbox's latest outbound calls, and Delete inbox.

use switchboard_protocol::api::{ChannelType, Inbox};
use web_sys::Element;

use super::channel::ChannelBlock;
use super::deliveries::{self, DeliveryList};
use super::inbox_settings::InboxSettingsBlock;
use super::section::Section;
use crate::admin::deliveries::LogKey;
use crate::dom::{self, field, h, option, H};
use crate::forms::AssignmentForm;
use crate::i18n::{Lang, T};
use crate::route::Route;
use crate::state::{Data, Notice};

pub(super) struct InboxPage {
    id: i64,
    title: Element,
    members: Section,
    add: Section,
    form: Section,
    snippet: Section,
    settings: InboxSettingsBlock,
    channel: ChannelBlock,
    /// The channel block's host, and the deliveries card that moves up
    /// under it for API and WhatsApp inboxes (their calls are the
    /// channel's).
    channel_host: Element,
    log: Element,
    log_moved: bool,
    deliveries: DeliveryList,
}

impl InboxPage {
    pub(super) fn build(main: &Element, id: i64, d: &Data) -> Option<InboxPage> {
        let t = |k| d.lang.t(k);
        dom::append(
            main,
            h("a").map(|a| {
                a.class("back ghost")
                    .attr("href", &Route::SettingsInboxes.path())
                    .act("nav")
                    .text(&format!("← {}", t(T::Inboxes)))
            }),
        );
        let title = h("h2")?.class("inbox-title").el();
        let members = h("ul")?.class("collaborator-list").el();
        let add = h("div")?.class("add-row").el();
        let collaborators = h("section")?
            .id("collaborators")
            .class("card")
            .child(h("h3")?.text(t(T::Collaborators)))
            .child(h("p")?.class("help").text(t(T::CollaboratorsHelp)))
            .el();
        let _ = collaborators.append_child(&members);
        let _ = collaborators.append_child(&add);
        let form = h("div")?.class("assignment-host").el();
        let snippet = h("div")?.class("snippet-host").el();
        let channel = h("div")?.class("channel-host").el();
        let settings = h("div")?.class("inbox-settings-host").el();
        let danger = h("div")?.class("inbox-danger-host").el();
        let (deliveries, list) = DeliveryList::new(LogKey::Inbox(id))?;
        let log = h("section")?
            .id("inbox-deliveries")
            .class("card")
            .child(
                h("div")?
                    .class("card-title")
                    .child(h("h3")?.text(t(T::Deliveries)))
                    .child(deliveries::refresh_button(d.lang)),
            )
            .child(h("p")?.class("help").text(t(T::InboxDeliveriesHelp)))
            .el();
        let _ = log.append_child(&list);
        for e in [
            &title,
            &settings,
            &channel,
            &collaborators,
            &form,
            &snippet,
            &log,
            &danger,
        ] {
            let _ = main.append_child(e);
        }
        Some(InboxPage {
            id,
            title,
            members: Section::new(members),
            add: Section::new(add),
            form: Section::new(form),
            snippet: Section::new(snippet),
            settings: InboxSettingsBlock::new(settings, danger),
            channel: ChannelBlock::new(channel.clone()),
            channel_host: channel,
            log,
            log_moved: false,
            deliveries,
        })
    }

    pub(super) fn update(&mut self, d: &Data) {
        let lang = d.lang;
        let inbox = d.forms.inbox.as_ref().filter(|i| i.id == self.id);
        dom::set_text(
            &self.title,
            inbox.map(|i| i.name.as_str()).unwrap_or(lang.t(T::Loading)),
        );
        let members = d.members.get(&self.id);
        let confirming = d.forms.confirm_collaborator;
        let sig = format!(
            "{:?}{confirming:?}{}",
            members.map(|m| m
                .iter()
                .map(|a| (a.id, &a.available_name, &a.email))
                .collect::<Vec<_>>()),
            lang.code()
        );
        self.members.refresh(sig, |el| {
            let Some(members) = members else {
                dom::append(
                    el,
                    h("li").map(|li| li.class("muted").text(lang.t(T::Loading))),
                );
                return;
            };
            if members.is_empty() {
                dom::append(
                    el,
                    h("li").map(|li| li.class("muted").text(lang.t(T::NoCollaborators))),
                );
            }
            for a in members {
                let id = a.id.to_string();
                dom::append(
                    el,
                    h("li").map(|li| {
                        li.class("collaborator")
                            .data("user-id", &id)
                            .child(
                                h("span")
                                    .map(|s| s.class("collaborator-name").text(&a.available_name)),
                            )
                            .child(h("span").map(|s| s.class("collaborator-email").text(&a.email)))
                            .child(h("button").map(|b| {
                                let text = if confirming == Some(a.id) {
                                    T::ConfirmRemoveCollaborator
                                } else {
                                    T::Remove
                                };
                                b.class("remove-collaborator ghost danger")
                                    .class_if("confirming", confirming == Some(a.id))
                                    .attr("type", "button")
                                    .act("remove-collaborator")
                                    .data("user-id", &id)
                                    .text(lang.t(text))
                            }))
                    }),
                );
            }
        });
        // Agents of the account who are not collaborators yet.
        let candidates: Vec<(i64, &str)> = d
            .agents
            .iter()
            .filter(|a| members.is_none_or(|m| !m.iter().any(|x| x.id == a.id)))
            .map(|a| (a.id, a.available_name.as_str()))
            .collect();
        let sig = format!("{candidates:?}{}", lang.code());
        self.add.refresh(sig, |el| {
            let options = candidates
                .iter()
                .map(|(id, name)| option(&id.to_string(), name, false));
            dom::append(
                el,
                h("select").map(|s| {
                    s.id("collaborator-add")
                        .attr("aria-label", lang.t(T::Add))
                        .flag("disabled", candidates.is_empty())
                        .children(options)
                }),
            );
            dom::append(
                el,
                h("button").map(|b| {
                    b.id("collaborator-add-button")
                        .class("primary")
                        .attr("type", "button")
                        .act("add-collaborator")
                        .flag("disabled", candidates.is_empty())
                        .text(lang.t(T::Add))
                }),
            );
        });
        // The form is drawn from the inbox each time it is (re)loaded or
        // saved, never while the administrator is editing it.
        let sig = format!("{}|{}|{}", self.id, d.forms.inbox_version, lang.code());
        self.form.refresh(sig, |el| {
            if let Some(inbox) = inbox {
                dom::append(el, assignment_form(inbox, lang));
            }
        });
        if let Some(n) = dom::by_id("assignment-notice") {
            notice(&n, d.forms.assignment_notice.as_ref());
        }
        let script = inbox
            .filter(|i| i.channel_type == ChannelType::WebWidget)
            .and_then(|i| i.web_widget_script.clone());
        let sig = format!("{script:?}{}", lang.code());
        self.snippet.refresh(sig, |el| {
            if let Some(script) = &script {
                dom::append(el, snippet(script, lang));
            }
        });
        if let Some(n) = dom::by_id("snippet-notice") {
            notice(&n, d.forms.snippet_notice.as_ref());
        }
        self.settings.update(inbox, d);
        self.channel.update(inbox, d);
        if let (false, Some(i)) = (self.log_moved, inbox) {
            if i.channel_type != ChannelType::WebWidget {
                if let Some(parent) = self.channel_host.parent_node() {
                    let next = self.channel_host.next_sibling();
                    let _ = parent.insert_before(&self.log, next.as_ref());
                }
            }
            self.log_moved = true;
        }
        self.deliveries.update(d);
    }
}

pub(super) fn notice(el: &Element, n: Option<&Notice>) {
    dom::set_text(el, n.map(|n| n.text.as_str()).unwrap_or(""));
    dom::toggle_class(el, "error", n.is_some_and(|n| n.error));
}

fn number(id: &str, value: &str, placeholder: &str) -> Option<H> {
    Some(
        h("input")?
            .id(id)
            .attr("type", "number")
            .attr("min", "1")
            .attr("step", "1")
            .attr("inputmode", "numeric")
            .attr("placeholder", placeholder)
            .value(value),
    )
}

pub(super) fn check(id: &str, on: bool, label: &str) -> Option<H> {
    Some(
        h("label")?
            .class("check")
            .child(
                h("input")?
                    .id(id)
                    .attr("type", "checkbox")
                    .flag("checked", on),
            )
            .child(h("span")?.text(label)),
    )
}

fn assignment_form(inbox: &Inbox, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let f = AssignmentForm::of(inbox);
    let select = |id: &str, current: &str, choices: [(&str, T); 2]| -> Option<H> {
        Some(
            h("select")?.id(id).children(
                choices
                    .into_iter()
                    .map(|(v, label)| option(v, t(label), v == current)),
            ),
        )
    };
    Some(
        h("form")?
            .id("assignment")
            .class("card")
            .act("save-assignment")
            .attr("novalidate", "")
            .child(h("h3")?.text(t(T::ConversationAssignment)))
            .child(h("p")?.class("help").text(t(T::AssignmentHelp)))
            .child(
                check("assignment-enabled", f.enabled, t(T::EnableAssignment))
                    .map(|c| c.class("switch")),
            )
            .child(field(
                t(T::MaxPerAgent),
                number("assignment-max", &f.max, "∞"),
            ))
            .child(h("p")?.class("help").text(t(T::MaxHelp)))
            .child(field(
                t(T::Policy),
                select(
                    "assignment-policy",
                    &f.policy,
                    [("round_robin", T::RoundRobin), ("balanced", T::Balanced)],
                ),
            ))
            .child(check(
                "assignment-from-queue",
                f.from_queue,
                t(T::FromQueue),
            ))
            .child(
                h("div")?
                    .class("field-row")
                    .child(field(
                        t(T::OfflineRule),
                        select(
                            "assignment-offline",
                            &f.offline,
                            [("keep", T::OfflineKeep), ("requeue", T::OfflineRequeue)],
                        ),
                    ))
                    .child(field(
                        t(T::Grace),
                        number("assignment-grace", &f.grace, "60"),
                    )),
            )
            .child(field(
                t(T::Reassign),
                number("assignment-reassign", &f.reassign, ""),
            ))
            .child(h("p")?.class("help").text(t(T::ReassignHelp)))
            .child(
                h("div")?
                    .class("form-actions")
                    .child(
                        h("button")?
                            .id("assignment-save")
                            .class("primary")
                            .attr("type", "submit")
                            .text(t(T::Save)),
                    )
                    .child(
                        h("span")?
                            .id("assignment-notice")
                            .class("notice")
                            .attr("role", "status"),
                    ),
            ),
    )
}

fn snippet(script: &str, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    Some(
        h("section")?
            .class("card")
            .child(h("h3")?.text(t(T::WidgetScript)))
            .child(h("p")?.class("help").text(t(T::WidgetHelp)))
            .child(
                h("textarea")?
                    .id("widget-snippet")
                    .attr("readonly", "")
                    .attr("rows", "3")
                    .attr("spellcheck", "false")
                    .text(script),
            )
            .child(
                h("div")?
                    .class("form-actions")
                    .child(
                        h("button")?
                            .id("copy-snippet")
                            .class("ghost")
                            .attr("type", "button")
                            .act("copy-snippet")
                            .text(t(T::Copy)),
                    )
                    .child(
                        h("span")?
                            .id("snippet-notice")
                            .class("notice")
                            .attr("role", "status"),
                    ),
            ),
    )
}
