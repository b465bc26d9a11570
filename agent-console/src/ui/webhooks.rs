//! Settings → Integrations → Webhooks: the account's webhooks, each with
//! its events, signing secret and latest deliveries (with Retry on failed
//! ones), and a form to add one or edit the one picked. Chatwoot's users
//! cannot see why a webhook fails; here every call's answer is listed.

use std::collections::HashMap;

use switchboard_protocol::api::ChannelType;
use web_sys::Element;

use super::deliveries::{self, DeliveryList};
use super::inbox::{check, notice};
use super::parts::{copy_field, copy_labels, input, mark_invalid};
use super::section::Section;
use crate::admin::deliveries::LogKey;
use crate::admin::webhooks::{Webhook, WebhookForm, EVENTS, WEBHOOK_FIELDS};
use crate::dom::{self, field, h, option, H};
use crate::i18n::{Lang, T};
use crate::route::Route;
use crate::state::Data;

pub(super) struct WebhooksPage {
    list: Section,
    logs: HashMap<i64, DeliveryList>,
    form: Section,
}

impl WebhooksPage {
    pub(super) fn build(main: &Element, d: &Data) -> Option<WebhooksPage> {
        let t = |k| d.lang.t(k);
        dom::append(
            main,
            h("a").map(|a| {
                a.class("back ghost")
                    .attr("href", &Route::SettingsIntegrations.path())
                    .act("nav")
                    .text(&format!("← {}", t(T::Integrations)))
            }),
        );
        dom::append(
            main,
            h("div").map(|x| {
                x.class("page-title")
                    .child(h("h2").map(|h2| h2.text(t(T::Webhooks))))
                    .child(deliveries::refresh_button(d.lang))
            }),
        );
        dom::append(
            main,
            h("p").map(|p| p.class("help").text(t(T::WebhooksHelp))),
        );
        dom::append(
            main,
            h("p").map(|p| {
                p.id("signature-help")
                    .class("help")
                    .text(t(T::SignatureHelp))
            }),
        );
        let list = h("div")?.id("webhooks").class("webhook-list").el();
        let form = h("div")?.class("webhook-form-host").el();
        let _ = main.append_child(&list);
        let _ = main.append_child(&form);
        Some(WebhooksPage {
            list: Section::new(list),
            logs: HashMap::new(),
            form: Section::new(form),
        })
    }

    pub(super) fn update(&mut self, d: &Data) {
        let lang = d.lang;
        let c = &d.forms.channels;
        let hooks = c.webhooks.as_deref();
        let sig = format!(
            "{hooks:?}|{:?}|{:?}|{}",
            c.confirm_delete,
            c.editing,
            lang.code()
        );
        let mut hosts = Vec::new();
        let redrawn = self.list.refresh(sig, |el| match hooks {
            None => dom::append(
                el,
                h("p").map(|p| p.class("muted").text(lang.t(T::Loading))),
            ),
            Some([]) => dom::append(
                el,
                h("p").map(|p| p.class("muted card").text(lang.t(T::NoWebhooks))),
            ),
            Some(hooks) => {
                for hook in hooks {
                    if let Some((card, list)) = card(hook, d) {
                        let _ = el.append_child(&card);
                        hosts.push(list);
                    }
                }
            }
        });
        if redrawn {
            self.logs = hosts.into_iter().collect();
        }
        for log in self.logs.values_mut() {
            log.update(d);
        }
        let secrets: Vec<String> = hooks
            .unwrap_or_default()
            .iter()
            .map(|w| format!("webhook-{}-secret", w.id))
            .collect();
        copy_labels(secrets.iter().map(String::as_str), d);
        let editing = c.editing.and_then(|id| hooks?.iter().find(|w| w.id == id));
        let inboxes: Vec<(i64, &str, ChannelType)> = d
            .inboxes
            .iter()
            .map(|i| (i.id, i.name.as_str(), i.channel_type))
            .collect();
        let sig = format!(
            "{:?}|{}|{}|{inboxes:?}|{}",
            editing.map(|w| w.id),
            c.webhook_form_version,
            hooks.is_some(),
            lang.code()
        );
        let drawn = self.form.refresh(sig, |el| {
            if hooks.is_some() {
                dom::append(el, form(editing, &inboxes, lang));
            }
        });
        if drawn && editing.is_some() {
            if let Some(url) = dom::by_id("webhook-url") {
                url.scroll_into_view();
                dom::focus(&url);
            }
        }
        if let Some(n) = dom::by_id("webhook-notice") {
            notice(&n, c.webhook_notice.as_ref());
        }
        if let Some(b) = dom::by_id("webhook-save") {
            dom::set_disabled(&b, c.webhook_busy);
        }
        mark_invalid(WEBHOOK_FIELDS, c.webhook_invalid);
    }
}

/// One webhook's card, and its delivery list to fill in.
fn card(w: &Webhook, d: &Data) -> Option<(Element, (i64, DeliveryList))> {
    let lang = d.lang;
    let t = |k| lang.t(k);
    let c = &d.forms.channels;
    let id = w.id.to_string();
    let confirming = c.confirm_delete == Some(w.id);
    let events = if w.every_event() {
        t(T::AllEvents).to_string()
    } else {
        EVENTS
            .iter()
            .filter(|(e, _)| w.subscriptions.iter().any(|s| s == e))
            .map(|(_, k)| t(*k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let scope = w.inbox.as_ref().map(|i| {
        let name = i.name.clone().unwrap_or_else(|| format!("#{}", i.id));
        lang.tf(T::OnlyInbox, &[("inbox", &name)])
    });
    let named = w.name.as_deref().is_some_and(|n| !n.trim().is_empty());
    let (log, list) = DeliveryList::new(LogKey::Webhook(w.id))?;
    let card = h("section")?
        .id(&format!("webhook-{id}"))
        .class("card webhook")
        .class_if("editing", c.editing == Some(w.id))
        .data("webhook-id", &id)
        .child(
            h("div")?
                .class("card-title")
                .child(h("h3")?.class("webhook-title").text(w.title()))
                .child(h("span")?.class("spacer"))
                .child(
                    h("button")?
                        .class("webhook-edit ghost small")
                        .attr("type", "button")
                        .act("edit-webhook")
                        .data("webhook-id", &id)
                        .text(t(T::Edit)),
                )
                .child(
                    h("button")?
                        .class("webhook-delete ghost small danger")
                        .class_if("confirming", confirming)
                        .attr("type", "button")
                        .act("delete-webhook")
                        .data("webhook-id", &id)
                        .text(t(if confirming {
                            T::ConfirmDelete
                        } else {
                            T::Delete
                        })),
                ),
        )
        .child(
            named
                .then(|| h("p").map(|p| p.class("webhook-url mono").text(&w.url)))
                .flatten(),
        )
        .child(
            h("p")?
                .class("webhook-events")
                .text(&format!("{}: {events}", t(T::Events))),
        )
        .child(scope.and_then(|s| h("p").map(|p| p.class("webhook-inbox muted").text(&s))))
        .child(copy_field(
            &format!("webhook-{id}-secret"),
            t(T::SigningSecret),
            &w.secret,
            None,
            lang,
        ))
        .child(h("h4")?.text(t(T::Deliveries)))
        .el();
    let _ = card.append_child(&list);
    Some((card, (w.id, log)))
}

/// Add a webhook, or edit the one picked.
fn form(editing: Option<&Webhook>, inboxes: &[(i64, &str, ChannelType)], lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let f = WebhookForm::of(editing);
    let boxes = EVENTS.iter().map(|(event, caption)| {
        check(
            &format!("webhook-event-{event}"),
            f.events.iter().any(|e| e == event),
            t(*caption),
        )
        .map(|c| {
            if let Some(i) = c.el_ref().first_element_child() {
                dom::set_attr(&i, "value", event);
            }
            c.class("webhook-event")
                .child(h("code").map(|x| x.text(event)))
        })
    });
    let choices = std::iter::once(option("", t(T::AllInboxes), f.inbox.is_empty())).chain(
        inboxes
            .iter()
            .map(|(id, name, _)| option(&id.to_string(), name, f.inbox == id.to_string())),
    );
    let (title, save) = match editing {
        Some(_) => (T::EditWebhook, T::Save),
        None => (T::AddWebhook, T::Create),
    };
    let cancel = editing.and_then(|_| {
        h("button").map(|b| {
            b.id("webhook-cancel")
                .class("ghost")
                .attr("type", "button")
                .act("cancel-webhook")
                .text(t(T::Cancel))
        })
    });
    let buttons = h("div")?
        .class("form-actions")
        .child(
            h("button")?
                .id("webhook-save")
                .class("primary")
                .attr("type", "submit")
                .text(t(save)),
        )
        .child(cancel)
        .child(
            h("span")?
                .id("webhook-notice")
                .class("notice")
                .attr("role", "status"),
        );
    Some(
        h("form")?
            .id("webhook-form")
            .class("card")
            .act("save-webhook")
            .attr("novalidate", "")
            .attr("autocomplete", "off")
            .child(h("h3")?.text(t(title)))
            .child(field(
                t(T::WebhookUrl),
                input("webhook-url", "url", &f.url).map(|i| i.attr("placeholder", "https://")),
            ))
            .child(field(
                t(T::WebhookName),
                input("webhook-name", "text", &f.name),
            ))
            .child(
                h("fieldset")?
                    .id("webhook-events")
                    .child(h("legend")?.text(t(T::Events)))
                    .children(boxes),
            )
            .child(field(
                t(T::Inbox),
                h("select").map(|s| s.id("webhook-inbox").children(choices)),
            ))
            .child(h("p")?.class("help").text(t(T::WebhookInboxHelp)))
            .child(Some(buttons)),
    )
}
