//! Settings, for administrators: Inboxes (a new one of any channel in
//! `new_inbox.rs`; each opening on its channel block, Collaborators,
//! Conversation assignment, widget script and deliveries, in `inbox.rs`),
//! Agents, and Integrations (Agendor in `integrations.rs`, webhooks in
//! `webhooks.rs`). Forms are drawn once per page so a live update
//! never wipes what is being typed; lists redraw when their data changes.

use web_sys::Element;

use super::inbox::InboxPage;
use super::integrations::IntegrationsPage;
use super::new_inbox::NewInboxForm;
use super::section::Section;
use super::webhooks::WebhooksPage;
use crate::admin::channels;
use crate::dom::{self, field, h, option, H};
use crate::i18n::T;
use crate::route::Route;
use crate::state::Data;

enum Page {
    Inboxes(Section, Box<NewInboxForm>),
    Inbox(Box<InboxPage>),
    Integrations(Box<IntegrationsPage>),
    Webhooks(Box<WebhooksPage>),
    Agents {
        list: Section,
        error: Element,
        form: u32,
    },
}

pub(super) struct Settings {
    main: Element,
    links: Vec<(Route, Element)>,
    route: Option<Route>,
    page: Option<Page>,
}

impl Settings {
    pub(super) fn build(content: &Element, d: &Data) -> Option<Settings> {
        let t = |k| d.lang.t(k);
        let nav = h("nav")?.class("subnav").el();
        let mut links = Vec::new();
        for (route, label) in [
            (Route::SettingsInboxes, T::Inboxes),
            (Route::SettingsAgents, T::Agents),
            (Route::SettingsIntegrations, T::Integrations),
        ] {
            let a = h("a")?
                .class("subnav-link")
                .attr("href", &route.path())
                .act("nav")
                .text(t(label))
                .el();
            let _ = nav.append_child(&a);
            links.push((route, a));
        }
        let main = h("div")?.class("settings-main").el();
        let layout = h("div")?.class("settings").el();
        let _ = layout.append_child(&nav);
        let _ = layout.append_child(&main);
        let _ = content.append_child(&layout);
        Some(Settings {
            main,
            links,
            route: None,
            page: None,
        })
    }

    pub(super) fn update(&mut self, d: &Data) {
        if self.route != Some(d.route) {
            self.main.set_text_content(None);
            // A new page starts at its top, not where the last one was.
            self.main.set_scroll_top(0);
            self.page = match d.route {
                Route::SettingsInbox(id) => InboxPage::build(&self.main, id, d)
                    .map(Box::new)
                    .map(Page::Inbox),
                Route::SettingsAgents => agents_page(&self.main, d),
                Route::SettingsIntegrations => IntegrationsPage::build(&self.main, d)
                    .map(Box::new)
                    .map(Page::Integrations),
                Route::SettingsWebhooks => WebhooksPage::build(&self.main, d)
                    .map(Box::new)
                    .map(Page::Webhooks),
                _ => inboxes_page(&self.main, d),
            };
            self.route = Some(d.route);
        }
        for (route, a) in &self.links {
            let active = match d.route {
                Route::SettingsInbox(_) => *route == Route::SettingsInboxes,
                Route::SettingsWebhooks => *route == Route::SettingsIntegrations,
                r => r == *route,
            };
            dom::toggle_class(a, "active", active);
        }
        match &mut self.page {
            Some(Page::Inboxes(list, form)) => {
                draw_inboxes(list, d);
                form.update(d);
            }
            Some(Page::Inbox(page)) => page.update(d),
            Some(Page::Integrations(page)) => page.update(d),
            Some(Page::Webhooks(page)) => page.update(d),
            Some(Page::Agents { list, error, form }) => {
                draw_agents(list, d);
                dom::set_text(error, d.forms.agent_error.as_deref().unwrap_or(""));
                if *form != d.forms.agent_form_version {
                    for id in ["agent-name", "agent-email", "agent-password"] {
                        if let Some(e) = dom::by_id(id) {
                            dom::set_value(&e, "");
                        }
                    }
                    *form = d.forms.agent_form_version;
                }
            }
            None => {}
        }
    }
}

fn input(id: &str, kind: &str) -> Option<H> {
    Some(h("input")?.id(id).attr("type", kind))
}

fn inboxes_page(main: &Element, d: &Data) -> Option<Page> {
    let list = h("div")?.class("inbox-list").el();
    dom::append(main, h("h2").map(|x| x.text(d.lang.t(T::Inboxes))));
    let _ = main.append_child(&list);
    let form = NewInboxForm::build(main, d)?;
    Some(Page::Inboxes(Section::new(list), Box::new(form)))
}

fn draw_inboxes(list: &mut Section, d: &Data) {
    let lang = d.lang;
    let sig = format!(
        "{:?}{}",
        d.inboxes
            .iter()
            .map(|i| (
                i.id,
                &i.name,
                i.enable_auto_assignment,
                i.auto_assignment_config.max_assignment_limit,
                i.connected
            ))
            .collect::<Vec<_>>(),
        lang.code()
    );
    list.refresh(sig, |el| {
        for i in &d.inboxes {
            let mut channel = lang.t(channels::channel_label(i.channel_type)).to_string();
            if i.connected == Some(false) {
                channel = format!("{channel} · {}", lang.t(T::NumberDisconnected));
            }
            let assignment = match (
                i.enable_auto_assignment,
                i.auto_assignment_config.max_assignment_limit,
            ) {
                (false, _) => String::new(),
                (true, None) => lang.t(T::ConversationAssignment).to_string(),
                (true, Some(n)) => format!("{} · {} {n}", lang.t(T::ConversationAssignment), "≤"),
            };
            dom::append(
                el,
                h("a").map(|a| {
                    a.class("inbox-item")
                        .attr("href", &Route::SettingsInbox(i.id).path())
                        .act("nav")
                        .data("inbox-id", &i.id.to_string())
                        .child(h("span").map(|s| s.class("inbox-name").text(&i.name)))
                        .child(h("span").map(|s| s.class("inbox-channel").text(&channel)))
                        .child(h("span").map(|s| s.class("inbox-meta").text(&assignment)))
                }),
            );
        }
    });
}

fn agents_page(main: &Element, d: &Data) -> Option<Page> {
    let t = |k| d.lang.t(k);
    let list = h("div")?.id("agents").class("agent-list").el();
    let error = h("p")?
        .id("agent-error")
        .class("form-error")
        .attr("role", "alert")
        .el();
    let form = h("form")?
        .class("card")
        .act("create-agent")
        .attr("novalidate", "")
        .child(h("h3")?.text(t(T::NewAgent)))
        .child(field(t(T::Name), input("agent-name", "text")))
        .child(field(t(T::Email), input("agent-email", "email")))
        .child(field(
            t(T::Role),
            h("select").map(|s| {
                s.id("agent-role").children([
                    option("agent", t(T::Agent), true),
                    option("administrator", t(T::Administrator), false),
                ])
            }),
        ))
        .child(field(
            t(T::PasswordOptional),
            input("agent-password", "password").map(|i| i.attr("autocomplete", "new-password")),
        ))
        .el();
    let _ = form.append_child(&error);
    dom::append(
        &form,
        h("div").map(|a| {
            a.class("form-actions").child(h("button").map(|b| {
                b.id("agent-create")
                    .class("primary")
                    .attr("type", "submit")
                    .text(t(T::Add))
            }))
        }),
    );
    dom::append(main, h("h2").map(|x| x.text(t(T::Agents))));
    let _ = main.append_child(&list);
    let _ = main.append_child(&form);
    Some(Page::Agents {
        list: Section::new(list),
        error,
        form: d.forms.agent_form_version,
    })
}

fn draw_agents(list: &mut Section, d: &Data) {
    let lang = d.lang;
    let t = |k| lang.t(k);
    let rows: Vec<_> = d
        .agents
        .iter()
        .map(|a| {
            (
                a.id,
                &a.available_name,
                &a.email,
                a.role.as_str(),
                d.presence.get(&a.id),
            )
        })
        .collect();
    let sig = format!(
        "{rows:?}{:?}{}{}",
        d.forms.confirm_remove,
        d.forms.redraw,
        lang.code()
    );
    let me = d.me();
    list.refresh(sig, |el| {
        for a in &d.agents {
            let id = a.id.to_string();
            let presence = d
                .presence
                .get(&a.id)
                .map(String::as_str)
                .unwrap_or("offline");
            let confirming = d.forms.confirm_remove == Some(a.id);
            let role = h("select").map(|s| {
                s.class("agent-role")
                    .act("agent-role")
                    .data("user-id", &id)
                    .attr("aria-label", t(T::Role))
                    .children([
                        option("agent", t(T::Agent), a.role.as_str() == "agent"),
                        option(
                            "administrator",
                            t(T::Administrator),
                            a.role.as_str() == "administrator",
                        ),
                    ])
            });
            let remove = (a.id != me).then(|| {
                h("button").map(|b| {
                    b.class("remove-agent ghost danger")
                        .class_if("confirming", confirming)
                        .attr("type", "button")
                        .act("remove-agent")
                        .data("user-id", &id)
                        .text(t(if confirming {
                            T::ConfirmRemove
                        } else {
                            T::Remove
                        }))
                })
            });
            dom::append(
                el,
                h("div").map(|row| {
                    row.class("agent-row")
                        .data("user-id", &id)
                        .child(h("span").map(|s| s.class(&format!("dot {presence}"))))
                        .child(h("span").map(|s| s.class("agent-name").text(&a.available_name)))
                        .child(h("span").map(|s| s.class("agent-email").text(&a.email)))
                        .child(role)
                        .child(remove.flatten())
                }),
            );
        }
    });
}
