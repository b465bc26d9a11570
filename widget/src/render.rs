//! The message list: one element per item, keyed by the item's uid, so a
//! message keeps its node from "sending…" to "sent" and the log region
//! announces each message once.

use std::collections::{HashMap, HashSet};

use web_sys::{Element, Node};

use crate::dom::{attr, child, document, el, hide, text};
use crate::i18n::{fill, Locale, Strings};
use crate::state::{Delivery, Item, Kind, Reason};
use crate::text::{initials, linkify, Segment};

/// A drawn item and what it was drawn from.
#[derive(Debug)]
pub struct Row {
    el: Element,
    item: Item,
    locale: Locale,
}

/// A refusal in the visitor's language.
pub fn reason_text(r: &Reason, t: &Strings) -> String {
    match r {
        Reason::RateLimited => t.rate_limited.to_string(),
        Reason::NotFound => t.not_found.to_string(),
        Reason::Unverified => t.unverified.to_string(),
        Reason::InvalidEmail => t.invalid_email.to_string(),
        Reason::Other(m) if m.is_empty() => t.send_failed.to_string(),
        Reason::Other(m) => m.clone(),
    }
}

/// Brings `list` in line with `items`. Returns whether items went in
/// above the ones already shown (an older page), for the scroll position.
pub fn reconcile(
    list: &Element,
    rows: &mut HashMap<u32, Row>,
    items: &[Item],
    locale: Locale,
    team: &str,
) -> bool {
    let keep: HashSet<u32> = items.iter().map(|i| i.uid).collect();
    rows.retain(|uid, row| {
        let stays = keep.contains(uid);
        if !stays {
            row.el.remove();
        }
        stays
    });
    let old_first = list.first_element_child();
    let mut cursor: Option<Node> = list.first_child();
    for item in items {
        let reuse = rows.get(&item.uid).and_then(|row| {
            let same = row.locale == locale && same_look(&row.item, item);
            same.then(|| row.el.clone())
        });
        let node = match reuse {
            Some(node) => {
                if let Some(row) = rows.get_mut(&item.uid) {
                    if row.item.rev != item.rev {
                        update(&row.el, item, locale.strings());
                        row.item = item.clone();
                    }
                }
                node
            }
            None => {
                let Some(node) = build(item, locale.strings(), team) else {
                    continue;
                };
                if let Some(old) = rows.remove(&item.uid) {
                    if cursor.as_ref() == Some(old.el.as_ref()) {
                        cursor = old.el.next_sibling();
                    }
                    old.el.remove();
                }
                rows.insert(
                    item.uid,
                    Row {
                        el: node.clone(),
                        item: item.clone(),
                        locale,
                    },
                );
                node
            }
        };
        if cursor.as_ref() == Some(node.as_ref()) {
            cursor = node.next_sibling();
        } else {
            let _ = list.insert_before(&node, cursor.as_ref());
        }
    }
    let new_first = list.first_element_child();
    old_first.is_some() && new_first != old_first && old_first.is_some_and(|o| o.is_connected())
}

/// Whether an item can keep its node and only have its state updated.
fn same_look(a: &Item, b: &Item) -> bool {
    a.content == b.content
        && match (&a.kind, &b.kind) {
            (Kind::Own(_), Kind::Own(_)) => true,
            (x, y) => x == y,
        }
}

fn build(item: &Item, t: &Strings, team: &str) -> Option<Element> {
    let row = match &item.kind {
        Kind::Joined(name) => {
            let row = el("p", "sb-event")?;
            row.set_text_content(Some(&fill(t.joined, name)));
            return Some(row);
        }
        Kind::Own(_) => {
            let row = el("div", "sb-message sb-incoming")?;
            let bubble = child(&row, "div", "sb-bubble")?;
            content(&bubble, &item.content)?;
            child(&row, "div", "sb-meta")?;
            row
        }
        Kind::Team { name, avatar } => {
            let name = if name.is_empty() { team } else { name };
            let row = el("div", "sb-message sb-outgoing")?;
            let face = child(&row, "div", "sb-avatar")?;
            attr(&face, "aria-hidden", "true");
            match avatar {
                Some(url) => {
                    let img = child(&face, "img", "sb-avatar-img")?;
                    attr(&img, "alt", "");
                    attr(&img, "data-initials", &initials(name));
                    attr(&img, "src", url);
                }
                None => {
                    child(&face, "span", "sb-initials")?.set_text_content(Some(&initials(name)));
                }
            }
            let bubble = child(&row, "div", "sb-bubble")?;
            child(&bubble, "div", "sb-sender")?.set_text_content(Some(name));
            content(&bubble, &item.content)?;
            row
        }
    };
    update(&row, item, t);
    Some(row)
}

/// The message text, with web links made clickable (opened in a new tab,
/// without giving that tab a handle on this frame).
fn content(parent: &Element, body: &str) -> Option<()> {
    let doc = document()?;
    let node = child(parent, "div", "sb-content")?;
    for segment in linkify(body) {
        match segment {
            Segment::Text(s) => {
                node.append_child(&doc.create_text_node(s)).ok()?;
            }
            Segment::Link(url) => {
                let a = child(&node, "a", "")?;
                attr(&a, "href", url);
                attr(&a, "target", "_blank");
                attr(&a, "rel", "noopener noreferrer nofollow");
                a.set_text_content(Some(url));
            }
        }
    }
    Some(())
}

/// What changes without redrawing: the server id and, on the visitor's
/// own messages, the delivery state with its Retry button.
fn update(row: &Element, item: &Item, t: &Strings) {
    if let Some(id) = item.id {
        attr(row, "data-message-id", &id.to_string());
    }
    let Kind::Own(delivery) = &item.kind else {
        return;
    };
    let Ok(Some(meta)) = row.query_selector(".sb-meta") else {
        return;
    };
    let (state, label) = match delivery {
        Delivery::Sending => ("sending", t.sending.to_string()),
        Delivery::Sent => ("sent", t.sent.to_string()),
        Delivery::Failed(r) => ("failed", format!("{}: {}", t.failed, reason_text(r, t))),
    };
    attr(row, "data-state", state);
    meta.set_text_content(None);
    // "Sending…" / "Sent" would be noise in the log; a failure is news.
    let failed = matches!(delivery, Delivery::Failed(_));
    attr(&meta, "aria-hidden", if failed { "false" } else { "true" });
    let Some(note) = child(&meta, "span", "sb-state") else {
        return;
    };
    text(&note, &label);
    if failed {
        if let Some(retry) = child(&meta, "button", "sb-retry") {
            attr(&retry, "type", "button");
            attr(&retry, "data-uid", &item.uid.to_string());
            retry.set_text_content(Some(t.retry));
        }
    }
    hide(&meta, false);
}
