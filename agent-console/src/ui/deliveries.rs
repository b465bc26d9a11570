//! A delivery log: the newest outbound calls of an inbox or a webhook,
//! each with its status, attempts, last answer, time and error, and Retry
//! on failed ones. Shared by an inbox's settings and the webhooks screen.

use web_sys::Element;

use super::section::Section;
use crate::admin::deliveries::LogKey;
use crate::dom::{self, h, H};
use crate::i18n::{Lang, T};
use crate::state::Data;

pub(super) struct DeliveryList {
    key: LogKey,
    list: Section,
}

/// The list's element id: `deliveries-inbox-3`, `deliveries-webhook-2`.
pub(super) fn list_id(key: LogKey) -> String {
    format!("deliveries-{}", key.tag().replace(':', "-"))
}

/// The Refresh button of a screen's logs.
pub(super) fn refresh_button(lang: Lang) -> Option<H> {
    Some(
        h("button")?
            .id("deliveries-refresh")
            .class("ghost small")
            .attr("type", "button")
            .act("refresh-deliveries")
            .text(lang.t(T::Refresh)),
    )
}

impl DeliveryList {
    /// An empty list to put in the page; `update` fills it.
    pub(super) fn new(key: LogKey) -> Option<(DeliveryList, Element)> {
        let el = h("ul")?
            .id(&list_id(key))
            .class("delivery-list")
            .attr("aria-live", "polite")
            .el();
        let list = DeliveryList {
            key,
            list: Section::new(el.clone()),
        };
        Some((list, el))
    }

    pub(super) fn update(&mut self, d: &Data) {
        let lang = d.lang;
        let c = &d.forms.channels;
        let log = c.logs.get(&self.key);
        let items = log.and_then(|l| l.items.as_deref());
        let retrying: Vec<i64> = items
            .unwrap_or_default()
            .iter()
            .map(|x| x.id)
            .filter(|id| c.retrying.contains(id))
            .collect();
        let sig = format!("{items:?}{retrying:?}{}", lang.code());
        let tag = self.key.tag();
        self.list.refresh(sig, |el| {
            let Some(items) = items else {
                dom::append(
                    el,
                    h("li").map(|li| li.class("muted").text(lang.t(T::Loading))),
                );
                return;
            };
            if items.is_empty() {
                dom::append(
                    el,
                    h("li").map(|li| li.class("muted empty").text(lang.t(T::NoDeliveries))),
                );
            }
            let now = dom::now_s();
            let offset = dom::tz_offset_minutes();
            for x in items {
                let id = x.id.to_string();
                let retry = x.can_retry().then(|| {
                    h("button").map(|b| {
                        b.class("delivery-retry ghost small")
                            .attr("type", "button")
                            .act("retry-delivery")
                            .data("log", &tag)
                            .data("delivery-id", &id)
                            .flag("disabled", c.retrying.contains(&x.id))
                            .text(lang.t(T::Retry))
                    })
                });
                let problem = x
                    .problem()
                    .and_then(|e| h("p").map(|p| p.class("delivery-error").text(e)));
                dom::append(
                    el,
                    h("li").map(|li| {
                        li.class("delivery")
                            .data("delivery-id", &id)
                            .data("status", &x.status)
                            .child(h("span").map(|s| {
                                s.class("badge delivery-status")
                                    .data("status", &x.status)
                                    .text(lang.t(x.status_label()))
                            }))
                            .child(h("span").map(|s| s.class("delivery-event").text(&x.what(lang))))
                            .child(h("span").map(|s| {
                                s.class("delivery-facts")
                                    .text(&x.facts(lang, now, offset).join(" · "))
                            }))
                            .child(retry.flatten())
                            .child(problem)
                    }),
                );
            }
        });
    }
}
