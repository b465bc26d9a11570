//! Settings → Integrations: the Webhooks card (how many, and the way to
//! their screen, `webhooks.rs`) and the Agendor card. Agendor's status
//! and health are redrawn as they change; its form is drawn from the hook
//! each time it is loaded or saved, never while the administrator is
//! editing it.

use web_sys::Element;

use super::inbox::{check, notice};
use super::section::Section;
use crate::admin::integrations::{self, AgendorForm, Hook, TEMPLATE_VARIABLES};
use crate::dom::{self, field, h, H};
use crate::i18n::{Lang, T};
use crate::route::Route;
use crate::state::Data;

pub(super) struct IntegrationsPage {
    webhooks: Element,
    status: Element,
    description: Element,
    health: Section,
    form: Section,
    disconnect: Section,
}

impl IntegrationsPage {
    pub(super) fn build(main: &Element, d: &Data) -> Option<IntegrationsPage> {
        let t = |k| d.lang.t(k);
        let status = h("span")?.id("agendor-status").class("badge").el();
        let description = h("p")?.class("help").el();
        let health = h("div")?
            .id("agendor-health")
            .class("health")
            .attr("aria-live", "polite")
            .el();
        let form = h("div")?.class("agendor-host").el();
        let disconnect = h("div")?.class("form-actions").el();
        let title = h("div")?
            .class("card-title")
            .child(h("h3")?.text("Agendor"))
            .el();
        let _ = title.append_child(&status);
        let card = h("section")?.id("agendor").class("card").el();
        for e in [&title, &description, &health, &form, &disconnect] {
            let _ = card.append_child(e);
        }
        let webhooks = h("span")?.id("webhooks-count").class("badge").el();
        let hooks = h("section")?
            .id("webhooks-card")
            .class("card")
            .child(
                h("div")?
                    .class("card-title")
                    .child(h("h3")?.text(t(T::Webhooks))),
            )
            .child(h("p")?.class("help").text(t(T::WebhooksHelp)))
            .child(
                h("a")?
                    .id("webhooks-link")
                    .class("button-link")
                    .attr("href", &Route::SettingsWebhooks.path())
                    .act("nav")
                    .text(t(T::ManageWebhooks)),
            )
            .el();
        if let Some(title) = hooks.first_element_child() {
            let _ = title.append_child(&webhooks);
        }
        dom::append(main, h("h2").map(|x| x.text(t(T::Integrations))));
        let _ = main.append_child(&hooks);
        let _ = main.append_child(&card);
        Some(IntegrationsPage {
            webhooks,
            status,
            description,
            health: Section::new(health),
            form: Section::new(form),
            disconnect: Section::new(disconnect),
        })
    }

    pub(super) fn update(&mut self, d: &Data) {
        let lang = d.lang;
        let f = &d.forms;
        let count = match f.channels.webhooks.as_deref() {
            None => String::new(),
            Some(list) => lang.tf(T::WebhooksConfigured, &[("n", &list.len().to_string())]),
        };
        dom::set_text(&self.webhooks, &count);
        dom::set_hidden(&self.webhooks, count.is_empty());
        let apps = f.integrations.as_deref();
        let app = apps.and_then(integrations::agendor);
        let hook = apps.and_then(integrations::agendor_hook);
        let (state, key) = match hook {
            Some(h) if h.status => ("enabled", T::Connected),
            Some(_) => ("disabled", T::Disabled),
            None => ("none", T::NotConnected),
        };
        dom::set_text(&self.status, lang.t(key));
        dom::set_attr(&self.status, "data-status", state);
        let description = app
            .map(|a| a.description.as_str())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(lang.t(T::AgendorHelp));
        dom::set_text(&self.description, description);
        let lines = hook
            .map(|h| {
                integrations::health_lines(&h.health, lang, dom::now_s(), dom::tz_offset_minutes())
            })
            .unwrap_or_default();
        self.health.refresh(lines.join("\n"), |el| {
            for line in &lines {
                dom::append(el, h("p").map(|p| p.text(line)));
            }
        });
        let inboxes: Vec<(i64, &str)> = d.inboxes.iter().map(|i| (i.id, i.name.as_str())).collect();
        let sig = format!(
            "{}|{}|{inboxes:?}|{}",
            apps.is_some(),
            f.integrations_version,
            lang.code()
        );
        self.form.refresh(sig, |el| match apps {
            None => dom::append(
                el,
                h("p").map(|p| p.class("muted").text(lang.t(T::Loading))),
            ),
            Some(_) => dom::append(el, form(hook, &inboxes, lang)),
        });
        if let Some(n) = dom::by_id("agendor-notice") {
            notice(&n, f.agendor_notice.as_ref());
        }
        if let Some(save) = dom::by_id("agendor-save") {
            dom::set_disabled(&save, f.agendor_busy);
        }
        for (name, id) in FIELDS {
            if let Some(e) = dom::by_id(id) {
                let invalid = f.agendor_invalid == Some(name);
                dom::toggle_class(&e, "invalid", invalid);
                dom::set_attr(&e, "aria-invalid", if invalid { "true" } else { "false" });
            }
        }
        let sig = format!(
            "{}|{}|{}|{}",
            hook.is_some(),
            f.confirm_disconnect,
            f.agendor_busy,
            lang.code()
        );
        self.disconnect.refresh(sig, |el| {
            if hook.is_none() {
                return;
            }
            let label = if f.confirm_disconnect {
                T::ConfirmDisconnect
            } else {
                T::Disconnect
            };
            dom::append(
                el,
                h("button").map(|b| {
                    b.id("agendor-disconnect")
                        .class("ghost danger")
                        .class_if("confirming", f.confirm_disconnect)
                        .attr("type", "button")
                        .act("disconnect-agendor")
                        .flag("disabled", f.agendor_busy)
                        .text(lang.t(label))
                }),
            );
        });
    }
}

/// The fields a refused save can point at: (`name`, DOM id).
const FIELDS: [(&str, &str); 4] = [
    ("api_token", "agendor-token"),
    ("base_url", "agendor-base-url"),
    ("funnel_id", "agendor-funnel"),
    ("deal_stage", "agendor-stage"),
];

fn input(id: &str, name: &str, kind: &str, value: &str) -> Option<H> {
    Some(
        h("input")?
            .id(id)
            .attr("name", name)
            .attr("type", kind)
            .value(value),
    )
}

fn number(id: &str, name: &str, value: &str) -> Option<H> {
    Some(
        input(id, name, "number", value)?
            .attr("min", "1")
            .attr("step", "1")
            .attr("inputmode", "numeric"),
    )
}

fn radio(value: &str, on: bool, label: &str) -> Option<H> {
    Some(
        h("label")?
            .class("check")
            .child(
                h("input")?
                    .id(&format!("agendor-type-{value}"))
                    .attr("type", "radio")
                    .attr("name", "contact_type")
                    .attr("value", value)
                    .flag("checked", on),
            )
            .child(h("span")?.text(label)),
    )
}

/// A named checkbox (`check` with a `name`, for the settings key).
fn named(id: &str, name: &str, on: bool, label: &str) -> Option<H> {
    let c = check(id, on, label)?;
    if let Some(i) = c.el_ref().first_element_child() {
        dom::set_attr(&i, "name", name);
    }
    Some(c)
}

fn form(hook: Option<&Hook>, inboxes: &[(i64, &str)], lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let f = AgendorForm::of(hook);
    let stored = hook
        .map(|h| &h.settings)
        .filter(|s| s.api_token_set)
        .map(|s| s.api_token_hint.clone().unwrap_or_default());
    let token_help = match &stored {
        Some(hint) => lang.tf(T::TokenStored, &[("hint", hint)]),
        None => t(T::ApiTokenHelp).to_string(),
    };
    let token = input("agendor-token", "api_token", "password", "")?
        .attr("autocomplete", "off")
        .attr("spellcheck", "false")
        .attr("placeholder", stored.as_deref().unwrap_or(""));
    let boxes = inboxes.iter().map(|(id, name)| {
        check(
            &format!("agendor-inbox-{id}"),
            f.inbox_ids.contains(id),
            name,
        )
        .map(|c| {
            if let Some(i) = c.el_ref().first_element_child() {
                dom::set_attr(&i, "name", "inbox_ids");
                dom::set_attr(&i, "value", &id.to_string());
            }
            c.class("agendor-inbox")
        })
    });
    let organization = f.contact_type == "organization";
    let variables = TEMPLATE_VARIABLES
        .iter()
        .map(|v| h("code").map(|c| c.text(v)));
    Some(
        h("form")?
            .id("agendor-form")
            .act("save-agendor")
            .attr("novalidate", "")
            .attr("autocomplete", "off")
            .child(
                named(
                    "agendor-enabled",
                    "status",
                    f.enabled,
                    t(T::IntegrationEnabled),
                )
                .map(|c| c.class("switch")),
            )
            .child(field(t(T::ApiToken), Some(token)))
            .child(h("p")?.class("help").text(&token_help))
            .child(field(
                t(T::BaseUrl),
                input("agendor-base-url", "base_url", "url", &f.base_url),
            ))
            .child(
                h("fieldset")?
                    .id("agendor-inboxes")
                    .child(h("legend")?.text(t(T::WhichInboxes)))
                    .child(h("p")?.class("help").text(t(T::WhichInboxesHelp)))
                    .children(boxes),
            )
            .child(
                h("fieldset")?
                    .child(h("legend")?.text(t(T::ContactType)))
                    .child(radio("person", !organization, t(T::Person)))
                    .child(radio("organization", organization, t(T::Organization))),
            )
            .child(named(
                "agendor-create-deal",
                "create_deal",
                f.create_deal,
                t(T::CreateDeal),
            ))
            .child(field(
                t(T::DealTitle),
                input("agendor-deal-title", "deal_title", "text", &f.deal_title),
            ))
            .child(
                h("div")?
                    .class("field-row")
                    .child(field(
                        t(T::FunnelId),
                        number("agendor-funnel", "funnel_id", &f.funnel_id),
                    ))
                    .child(field(
                        t(T::DealStage),
                        number("agendor-stage", "deal_stage", &f.deal_stage),
                    )),
            )
            .child(named(
                "agendor-add-note",
                "add_note",
                f.add_note,
                t(T::AddCrmNote),
            ))
            .child(field(
                t(T::NoteText),
                Some(
                    h("textarea")?
                        .id("agendor-note-text")
                        .attr("name", "note_text")
                        .attr("rows", "2")
                        .value(&f.note_text),
                ),
            ))
            .child(
                h("p")?
                    .id("agendor-variables")
                    .class("help variables")
                    .child(h("span")?.text(t(T::TemplateVariables)))
                    .children(variables),
            )
            .child(
                h("div")?
                    .class("form-actions")
                    .child(
                        h("button")?
                            .id("agendor-save")
                            .class("primary")
                            .attr("type", "submit")
                            .text(t(T::Save)),
                    )
                    .child(
                        h("span")?
                            .id("agendor-notice")
                            .class("notice")
                            .attr("role", "status"),
                    ),
            ),
    )
}
