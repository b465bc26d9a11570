//! The messages of the open conversation, kept by id like the list rows.
//! New messages keep the view at the bottom when the agent was there;
//! older pages load above without moving what the agent is reading.

use std::collections::HashMap;

use switchboard_protocol::chat::Message;
use web_sys::Element;

use crate::conversation::thread::Pending;
use crate::dom::{self, h};
use crate::i18n::format;
use crate::i18n::{Lang, T};
use crate::state::Data;

/// Within this many pixels of the bottom counts as "at the bottom".
const STICKY_PX: i32 = 80;

pub(super) struct ThreadView {
    el: Element,
    older: Element,
    loading: Element,
    rows: HashMap<String, (Element, String)>,
    order: Vec<String>,
    filled: bool,
}

impl ThreadView {
    pub(super) fn build(d: &Data) -> Option<ThreadView> {
        let older = h("button")?
            .class("load-older ghost")
            .attr("type", "button")
            .act("load-older")
            .text(d.lang.t(T::LoadOlder))
            .flag("hidden", true)
            .el();
        let loading = h("p")?
            .class("thread-loading")
            .text(d.lang.t(T::Loading))
            .el();
        let el = h("div")?.id("messages").class("messages").el();
        let _ = el.append_child(&older);
        let _ = el.append_child(&loading);
        Some(ThreadView {
            el,
            older,
            loading,
            rows: HashMap::new(),
            order: Vec::new(),
            filled: false,
        })
    }

    pub(super) fn element(&self) -> &Element {
        &self.el
    }

    pub(super) fn update(&mut self, id: i64, d: &Data) {
        let Some(thread) = d.threads.get(id) else {
            return;
        };
        let loaded = thread.loaded;
        dom::set_hidden(&self.loading, loaded);
        dom::set_hidden(&self.older, !(loaded && thread.has_older));
        dom::set_disabled(&self.older, thread.loading_older);
        let at_bottom =
            self.el.scroll_top() + self.el.client_height() >= self.el.scroll_height() - STICKY_PX;
        let (old_height, old_top) = (self.el.scroll_height(), self.el.scroll_top());
        let old_first = self.order.first().cloned();
        let now = dom::now_s();
        let tz = dom::tz_offset_minutes();
        let mut keys = Vec::new();
        for m in &thread.messages {
            let key = format!("m{}", m.id);
            let sig = format!(
                "{}|{}|{}|{}|{}",
                m.updated_at,
                m.content.as_deref().map_or(0, str::len),
                m.status,
                m.attachments.len(),
                d.lang.code()
            );
            self.put(&key, sig, || message(m, d.lang, now, tz));
            keys.push(key);
        }
        for p in &thread.pending {
            let key = format!("p{}", p.echo_id);
            self.put(&key, format!("{}|{}", p.failed, d.lang.code()), || {
                pending(p, d.lang)
            });
            keys.push(key);
        }
        let shown: std::collections::HashSet<&String> = keys.iter().collect();
        self.rows.retain(|key, (el, _)| {
            let keep = shown.contains(key);
            if !keep {
                el.remove();
            }
            keep
        });
        if keys != self.order {
            for key in &keys {
                if let Some((el, _)) = self.rows.get(key) {
                    let _ = self.el.append_child(el);
                }
            }
            let grew_above =
                old_first.is_some_and(|f| keys.first() != Some(&f) && keys.contains(&f));
            let mine = keys.last().is_some_and(|k| k.starts_with('p'));
            if !self.filled || at_bottom || mine {
                self.el.set_scroll_top(self.el.scroll_height());
            } else if grew_above {
                self.el
                    .set_scroll_top(self.el.scroll_height() - (old_height - old_top));
            }
            self.order = keys;
        }
        if loaded {
            self.filled = true;
        }
    }

    /// Creates the row for `key`, or redraws it when its signature changed.
    fn put(&mut self, key: &str, sig: String, draw: impl FnOnce() -> Option<Element>) {
        match self.rows.get(key) {
            Some((_, old)) if *old == sig => {}
            Some((el, _)) => {
                if let Some(new) = draw() {
                    let _ = el.replace_with_with_node_1(&new);
                    self.rows.insert(key.to_string(), (new, sig));
                }
            }
            None => {
                if let Some(new) = draw() {
                    self.rows.insert(key.to_string(), (new, sig));
                }
            }
        }
    }
}

fn message(m: &Message, lang: Lang, now: i64, tz: i64) -> Option<Element> {
    let kind = match (m.message_type, m.private) {
        (2, _) => "activity",
        (_, true) => "note",
        (0, false) => "incoming",
        _ => "outgoing",
    };
    let deleted = m
        .content_attributes
        .get("deleted")
        .and_then(|v| v.as_bool())
        == Some(true);
    let content = m.content.as_deref().unwrap_or("");
    let time = h("time")?
        .class("time")
        .text(&format::stamp(lang, m.created_at, now, tz))
        .el();
    let sender = m
        .sender
        .as_ref()
        .map(|s| s.available_name.as_str())
        .unwrap_or("");
    let row = h("div")?
        .class(&format!("message {kind}"))
        .class_if("deleted", deleted)
        .data("message-id", &m.id.to_string())
        .el();
    if kind == "activity" {
        dom::append(&row, h("span").map(|s| s.class("sender")));
        dom::append(
            &row,
            h("span").map(|s| s.class("content").text(&lang.activity(content))),
        );
        let _ = row.append_child(&time);
        return Some(row);
    }
    let meta = h("div")?
        .class("meta")
        .child(h("span")?.class("sender").text(sender))
        .el();
    if kind == "note" {
        dom::append(
            &meta,
            h("span").map(|s| s.class("note-label").text(lang.t(T::PrivateNote))),
        );
    }
    let _ = meta.append_child(&time);
    let bubble = h("div")?.class("bubble").el();
    let _ = bubble.append_child(&meta);
    if !content.is_empty() || m.attachments.is_empty() {
        dom::append(&bubble, h("div").map(|c| c.class("content").text(content)));
    }
    for file in m.attachments.iter().filter_map(attachment) {
        let _ = bubble.append_child(&file);
    }
    if m.status == "failed" {
        let reason = m
            .content_attributes
            .get("external_error")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        dom::append(
            &bubble,
            h("div").map(|e| {
                e.class("delivery-failed")
                    .text(&format!("{} {reason}", lang.t(T::DeliveryFailed)))
            }),
        );
    }
    let _ = row.append_child(&bubble);
    Some(row)
}

/// A file of a message: images and media shown, other files as a link.
fn attachment(file: &serde_json::Value) -> Option<Element> {
    let text = |key: &str| file.get(key).and_then(|v| v.as_str()).unwrap_or("");
    let url = text("data_url");
    // Only web links: a stored value never becomes a script URL.
    if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
        return None;
    }
    let name = text("file_name");
    let size = file
        .get("file_size")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let link = h("a")?
        .class("attachment")
        .attr("href", url)
        .attr("target", "_blank")
        .attr("rel", "noopener");
    Some(match text("file_type") {
        "image" => link
            .child(
                h("img")?
                    .attr("src", url)
                    .attr("alt", name)
                    .attr("loading", "lazy"),
            )
            .el(),
        kind @ ("audio" | "video") => h(kind)?
            .class("attachment")
            .attr("src", url)
            .attr("controls", "")
            .attr("preload", "none")
            .el(),
        _ => link
            .text(&format!(
                "{name} · {}",
                crate::conversation::upload::size(size)
            ))
            .el(),
    })
}

fn pending(p: &Pending, lang: Lang) -> Option<Element> {
    let kind = if p.private { "note" } else { "outgoing" };
    let state = if p.failed { T::NotSent } else { T::Sending };
    let row = h("div")?
        .class(&format!("message {kind} pending"))
        .class_if("failed", p.failed)
        .data("echo-id", &p.echo_id)
        .child(
            h("div")?
                .class("bubble")
                .child(
                    h("div")?
                        .class("meta")
                        .child(h("span")?.class("sender").text(lang.t(T::You)))
                        .child(h("span")?.class("time").text(lang.t(state))),
                )
                .child(h("div")?.class("content").text(&p.content)),
        );
    let row = if p.failed {
        row.act("retry").data("echo", &p.echo_id)
    } else {
        row
    };
    Some(row.el())
}
