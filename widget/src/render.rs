//! The message list: one element per item, keyed by the item's uid, so a
//! message keeps its node from "sending…" to "sent" and the log region
//! announces each message once.

use std::collections::{HashMap, HashSet};

use web_sys::{Element, Node};

use crate::dom::{child, document, el, set_attr, set_hidden, set_text};
use crate::i18n::{fill, Locale, Strings};
use crate::session::Refusal;
use crate::state::{Attachment, Delivery, FileKind, Item, Kind, Reason};
use crate::text::{human_size, initials, linkify, safe_url, Segment};

/// A drawn item and what it was drawn from.
#[derive(Debug)]
pub(crate) struct Row {
    el: Element,
    item: Item,
    locale: Locale,
}

/// A refusal in the visitor's language.
pub(crate) fn reason_text(r: &Reason, t: &Strings) -> String {
    match r {
        Reason::RateLimited => t.rate_limited.to_string(),
        Reason::NotFound => t.not_found.to_string(),
        Reason::Unverified => t.unverified.to_string(),
        Reason::InvalidEmail => t.invalid_email.to_string(),
        Reason::TooLarge => t.files_too_large.to_string(),
        Reason::Busy => t.busy.to_string(),
        Reason::Taken => t.taken.to_string(),
        Reason::TooLong => t.field_too_long.to_string(),
        Reason::Other(m) if m.is_empty() => t.send_failed.to_string(),
        Reason::Other(m) => m.clone(),
    }
}

/// Why picked files were not sent, in the visitor's language.
pub(crate) fn refusal_text(r: &Refusal, t: &Strings) -> String {
    match r {
        Refusal::TooMany(n) => fill(t.too_many_files, &n.to_string()),
        Refusal::TooLarge(name) => fill(t.file_too_large, name),
        Refusal::Empty(name) => fill(t.file_empty, name),
        Refusal::TextTooLong => t.text_too_long_for_files.to_string(),
        Refusal::Server(Reason::Other(m)) if m.is_empty() => t.upload_failed.to_string(),
        Refusal::Server(reason) => reason_text(reason, t),
    }
}

/// Brings `list` in line with `items`. Returns whether items went in
/// above the ones already shown (an older page), for the scroll position.
pub(crate) fn reconcile(
    list: &Element,
    rows: &mut HashMap<u32, Row>,
    items: &[Item],
    locale: Locale,
    team: &str,
    origin: &str,
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
                let Some(node) = build(item, locale.strings(), team, origin) else {
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
        && a.attachments == b.attachments
        && match (&a.kind, &b.kind) {
            (Kind::Own(_), Kind::Own(_)) => true,
            (x, y) => x == y,
        }
}

fn build(item: &Item, t: &Strings, team: &str, origin: &str) -> Option<Element> {
    let row = match &item.kind {
        Kind::Joined(name) => {
            let row = el("p", "sb-event")?;
            row.set_text_content(Some(&fill(t.joined, name)));
            return Some(row);
        }
        Kind::Resolved => {
            let row = el("p", "sb-event sb-resolved")?;
            row.set_text_content(Some(t.resolved));
            return Some(row);
        }
        Kind::Own(_) => {
            let row = el("div", "sb-message sb-incoming")?;
            let bubble = child(&row, "div", "sb-bubble")?;
            body(&bubble, item, t, origin)?;
            child(&row, "div", "sb-meta")?;
            row
        }
        Kind::Team { name, avatar } => {
            let name = if name.is_empty() { team } else { name };
            let row = el("div", "sb-message sb-outgoing")?;
            let face = child(&row, "div", "sb-avatar")?;
            set_attr(&face, "aria-hidden", "true");
            match avatar {
                Some(url) => {
                    let img = child(&face, "img", "sb-avatar-img")?;
                    set_attr(&img, "alt", "");
                    set_attr(&img, "data-initials", &initials(name));
                    set_attr(&img, "src", url);
                }
                None => {
                    child(&face, "span", "sb-initials")?.set_text_content(Some(&initials(name)));
                }
            }
            let bubble = child(&row, "div", "sb-bubble")?;
            child(&bubble, "div", "sb-sender")?.set_text_content(Some(name));
            body(&bubble, item, t, origin)?;
            row
        }
    };
    update(&row, item, t);
    Some(row)
}

/// What a message says: its text (left out when it has only files), then
/// its files.
fn body(bubble: &Element, item: &Item, t: &Strings, origin: &str) -> Option<()> {
    if !item.content.is_empty() || item.attachments.is_empty() {
        content(bubble, &item.content)?;
    }
    if item.attachments.is_empty() {
        return Some(());
    }
    let list = child(bubble, "div", "sb-files")?;
    for a in &item.attachments {
        file(&list, a, t, origin)?;
    }
    Some(())
}

/// One file: a picture opening the full one in a new tab, a player, or a
/// download link. Names go in as text; URLs only when [`safe_url`] allows.
fn file(parent: &Element, a: &Attachment, t: &Strings, origin: &str) -> Option<()> {
    let url = Some(a.url.as_str()).filter(|u| safe_url(u, origin));
    let size = a.size.map(|n| human_size(n, t.decimal_comma));
    let Some(url) = url.filter(|_| a.kind != FileKind::File) else {
        let link = file_link(&a.name, url, size.as_deref())?;
        parent.append_child(&link).ok()?;
        return Some(());
    };
    let media = match a.kind {
        FileKind::Image => {
            let link = child(parent, "a", "sb-file-image")?;
            new_tab(&link, url);
            let img = child(&link, "img", "sb-thumb")?;
            set_attr(&img, "alt", &a.name);
            let thumb = Some(a.thumb.as_str()).filter(|u| safe_url(u, origin));
            set_attr(&img, "src", thumb.unwrap_or(url));
            return Some(());
        }
        FileKind::Audio => child(parent, "audio", "sb-media sb-audio")?,
        _ => {
            let video = child(parent, "video", "sb-media sb-video")?;
            set_attr(&video, "playsinline", "");
            video
        }
    };
    set_attr(&media, "controls", "");
    set_attr(&media, "preload", "metadata");
    set_attr(&media, "aria-label", &a.name);
    set_attr(&media, "title", &a.name);
    // For the download link that replaces a player the browser cannot use.
    set_attr(&media, "data-size", size.as_deref().unwrap_or(""));
    set_attr(&media, "src", url);
    Some(())
}

/// "nota.pdf · 12 KB": a download link when the URL is usable, else the
/// name alone; `size` already written out.
pub(crate) fn file_link(name: &str, url: Option<&str>, size: Option<&str>) -> Option<Element> {
    let node = match url {
        Some(url) => {
            let a = el("a", "sb-file")?;
            new_tab(&a, url);
            set_attr(&a, "download", name);
            a
        }
        None => el("span", "sb-file")?,
    };
    child(&node, "span", "sb-file-name")?.set_text_content(Some(name));
    if let Some(size) = size.filter(|s| !s.is_empty()) {
        child(&node, "span", "sb-file-size")?.set_text_content(Some(&format!(" · {size}")));
    }
    Some(node)
}

/// A link that opens in a new tab without a handle on this frame.
fn new_tab(a: &Element, url: &str) {
    set_attr(a, "href", url);
    set_attr(a, "target", "_blank");
    set_attr(a, "rel", "noopener noreferrer");
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
                set_attr(&a, "href", url);
                set_attr(&a, "target", "_blank");
                set_attr(&a, "rel", "noopener noreferrer nofollow");
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
        set_attr(row, "data-message-id", &id.to_string());
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
    set_attr(row, "data-state", state);
    meta.set_text_content(None);
    // "Sending…" / "Sent" would be noise in the log; a failure is news.
    let failed = matches!(delivery, Delivery::Failed(_));
    set_attr(&meta, "aria-hidden", if failed { "false" } else { "true" });
    let Some(note) = child(&meta, "span", "sb-state") else {
        return;
    };
    set_text(&note, &label);
    if failed {
        if let Some(retry) = child(&meta, "button", "sb-retry") {
            set_attr(&retry, "type", "button");
            set_attr(&retry, "data-uid", &item.uid.to_string());
            retry.set_text_content(Some(t.retry));
        }
    }
    set_hidden(&meta, false);
}
