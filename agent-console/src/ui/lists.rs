//! Mine / Unassigned / All with their counts, the status and inbox
//! filters, and the rows. Rows are kept by conversation id: an event
//! updates a row's texts, or moves the row, and never rebuilds the list.
//! Rows have a fixed height, so nothing shifts under the pointer except
//! where a row really moved.

use std::collections::HashMap;

use switchboard_protocol::chat::Conversation;
use web_sys::Element;

use crate::conversation::store::{Status, StatusLabel, Tab};
use crate::dom::{self, h, option};
use crate::i18n::format;
use crate::i18n::T;
use crate::route::Route;
use crate::state::{Data, Dirty};

struct Row {
    el: Element,
    avatar: Element,
    contact: Element,
    waiting: Element,
    last: Element,
    inbox: Element,
    assignee: Element,
    sig: String,
}

pub(super) struct Lists {
    content: Element,
    tabs: Vec<(Tab, Element, Element)>,
    status: Element,
    inbox: Element,
    inbox_sig: String,
    list: Element,
    empty: Element,
    more: Element,
    rows: HashMap<i64, Row>,
    order: Vec<i64>,
}

impl Lists {
    pub(super) fn build(content: &Element, d: &Data) -> Option<Lists> {
        let t = |k| d.lang.t(k);
        let tabs_bar = h("div")?.class("tabs").attr("role", "tablist").el();
        let mut tabs = Vec::new();
        for tab in Tab::ALL {
            let count = h("span")?.class("count").text("0").el();
            let key = match tab {
                Tab::Mine => "mine",
                Tab::Unassigned => "unassigned",
                Tab::All => "all",
            };
            let button = h("button")?
                .id(tab.dom_id())
                .class("tab")
                .attr("type", "button")
                .attr("role", "tab")
                .act("tab")
                .data("tab", key)
                .child(h("span")?.class("tab-label").text(t(tab.label())))
                .el();
            let _ = button.append_child(&count);
            let _ = tabs_bar.append_child(&button);
            tabs.push((tab, button, count));
        }
        let status = h("select")?
            .id("filter-status")
            .act("filter-status")
            .attr("aria-label", t(T::Status))
            .children(
                Status::ALL
                    .into_iter()
                    .map(|s| option(s.as_str(), t(s.label()), s == d.filters.status)),
            )
            .el();
        let inbox = h("select")?
            .id("filter-inbox")
            .act("filter-inbox")
            .attr("aria-label", t(T::Inbox))
            .el();
        let empty = h("p")?.class("list-empty").text(t(T::NoConversations)).el();
        let more = h("button")?
            .class("load-more ghost")
            .attr("type", "button")
            .act("load-more")
            .text(t(T::LoadMore))
            .el();
        let list = h("div")?
            .id("conversation-list")
            .class("conversation-list")
            .el();
        let _ = list.append_child(&empty);
        let _ = list.append_child(&more);
        let filters = h("div")?.class("filters").el();
        let _ = filters.append_child(&status);
        let _ = filters.append_child(&inbox);
        let section = h("section")?.class("lists").el();
        for e in [&tabs_bar, &filters, &list] {
            let _ = section.append_child(e);
        }
        let _ = content.append_child(&section);
        dom::toggle_class(content, "layout-conversations", true);
        Some(Lists {
            content: content.clone(),
            tabs,
            status,
            inbox,
            inbox_sig: String::new(),
            list,
            empty,
            more,
            rows: HashMap::new(),
            order: Vec::new(),
        })
    }

    pub(super) fn update(&mut self, d: &Data, dirty: Dirty) {
        dom::toggle_class(&self.content, "has-open", d.open_id().is_some());
        if dirty.list {
            self.filters(d);
            self.rows(d);
        }
        if dirty.list || dirty.clocks {
            self.clocks(d);
        }
    }

    fn filters(&mut self, d: &Data) {
        let f = d.filters;
        let counts = d.store.counts(f.status, f.inbox);
        // "25+" while only part of a long list is loaded.
        let complete = d.store.loaded(f.status).is_none_or(|l| l.complete);
        for (tab, button, count) in &self.tabs {
            dom::toggle_class(button, "active", *tab == f.tab);
            dom::set_attr(
                button,
                "aria-selected",
                if *tab == f.tab { "true" } else { "false" },
            );
            let n = counts.of(*tab);
            let text = if complete {
                n.to_string()
            } else {
                format!("{n}+")
            };
            dom::set_text(count, &text);
        }
        dom::set_value(&self.status, f.status.as_str());
        let sig: String = d
            .inboxes
            .iter()
            .map(|i| format!("{}:{};", i.id, i.name))
            .collect::<String>()
            + d.lang.code();
        if sig != self.inbox_sig {
            let t = |k| d.lang.t(k);
            dom::replace_children(
                &self.inbox,
                std::iter::once(option("", t(T::AllInboxes), false)).chain(
                    d.inboxes
                        .iter()
                        .map(|i| option(&i.id.to_string(), &i.name, false)),
                ),
            );
            self.inbox_sig = sig;
        }
        let value = f.inbox.map(|i| i.to_string()).unwrap_or_default();
        dom::set_value(&self.inbox, &value);
        let loaded = d.store.loaded(f.status);
        let more = loaded.is_some_and(|l| !l.complete) && d.pages_in_flight == 0;
        dom::set_hidden(&self.more, !more);
    }

    fn rows(&mut self, d: &Data) {
        let list = d.store.list(&d.filters);
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        for c in &list {
            let sig = row_sig(c, d);
            match self.rows.get_mut(&c.id) {
                Some(row) if row.sig == sig => {}
                Some(row) => {
                    fill(row, c, d);
                    row.sig = sig;
                }
                None => {
                    if let Some(mut row) = new_row(c.id) {
                        fill(&row, c, d);
                        row.sig = sig;
                        self.rows.insert(c.id, row);
                    }
                }
            }
        }
        let shown: std::collections::HashSet<i64> = ids.iter().copied().collect();
        self.rows.retain(|id, row| {
            let keep = shown.contains(id);
            if !keep {
                row.el.remove();
            }
            keep
        });
        if ids != self.order {
            for id in &ids {
                if let Some(row) = self.rows.get(id) {
                    let _ = self.list.insert_before(&row.el, Some(&self.empty));
                }
            }
            self.order = ids;
        }
        dom::set_hidden(&self.empty, !self.order.is_empty() || d.pages_in_flight > 0);
    }

    /// Only the waiting times: they change every second, the rest does not.
    fn clocks(&self, d: &Data) {
        let now = dom::now_s();
        for (id, row) in &self.rows {
            match d.store.waiting_since(*id) {
                Some(since) => {
                    dom::set_text(&row.waiting, &format::waiting(d.lang, now - since));
                    dom::toggle_class(&row.waiting, "late", now - since >= 300);
                }
                None => dom::set_text(&row.waiting, ""),
            }
        }
    }
}

fn row_sig(c: &Conversation, d: &Data) -> String {
    let last = c
        .last_non_activity_message
        .as_ref()
        .map(|m| format!("{}:{}", m.id, m.updated_at))
        .unwrap_or_default();
    let assignee = c.meta.assignee.as_ref().map(|a| a.available_name.as_str());
    let inbox = d.inbox(c.inbox_id).map(|i| i.name.as_str());
    format!(
        "{}|{}|{last}|{assignee:?}|{inbox:?}|{}|{}",
        format::contact_name(&c.meta.sender, d.lang),
        c.meta.sender.id,
        d.open_id() == Some(c.id),
        d.lang.code()
    )
}

fn new_row(id: i64) -> Option<Row> {
    let span = |class: &str| h("span").map(|s| s.class(class).el());
    let avatar = span("avatar")?;
    let contact = span("row-contact")?;
    let waiting = span("row-waiting")?;
    let last = span("row-last-message")?;
    let inbox = span("row-inbox")?;
    let assignee = span("row-assignee")?;
    let top = span("row-top")?;
    let _ = top.append_child(&contact);
    let _ = top.append_child(&waiting);
    let bottom = span("row-bottom")?;
    let _ = bottom.append_child(&inbox);
    let _ = bottom.append_child(&assignee);
    let main = span("row-main")?;
    for e in [&top, &last, &bottom] {
        let _ = main.append_child(e);
    }
    let el = h("a")?
        .class("conversation-row")
        .attr("href", &Route::Conversations(Some(id)).path())
        .act("nav")
        .data("conversation-id", &id.to_string())
        .el();
    let _ = el.append_child(&avatar);
    let _ = el.append_child(&main);
    Some(Row {
        el,
        avatar,
        contact,
        waiting,
        last,
        inbox,
        assignee,
        sig: String::new(),
    })
}

fn fill(row: &Row, c: &Conversation, d: &Data) {
    let t = |k| d.lang.t(k);
    let name = &format::contact_name(&c.meta.sender, d.lang);
    dom::set_text(&row.avatar, &format::initials(name));
    dom::set_attr(
        &row.avatar,
        "data-hue",
        &(c.contact_id.rem_euclid(8)).to_string(),
    );
    dom::set_text(&row.contact, name);
    let last = c.last_non_activity_message.as_ref();
    let text = last.and_then(|m| m.content.as_deref());
    dom::set_text(&row.last, text.unwrap_or(t(T::NoMessagesYet)));
    dom::toggle_class(&row.last, "empty", text.is_none());
    dom::toggle_class(&row.last, "note", last.is_some_and(|m| m.private));
    let inbox = d.inbox(c.inbox_id).map(|i| i.name.as_str()).unwrap_or("");
    dom::set_text(&row.inbox, inbox);
    let assignee = c.meta.assignee.as_ref();
    dom::set_text(
        &row.assignee,
        assignee
            .map(|a| a.available_name.as_str())
            .unwrap_or(t(T::Nobody)),
    );
    dom::toggle_class(&row.assignee, "nobody", assignee.is_none());
    dom::toggle_class(&row.assignee, "mine", c.assignee_id == Some(d.me()));
    dom::toggle_class(&row.el, "selected", d.open_id() == Some(c.id));
    dom::set_attr(&row.waiting, "title", t(T::WaitingFor));
}
