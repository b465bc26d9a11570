//! Placing items: the visitor's own messages from written to sent (or
//! failed), history pages and live events merged into one ordered list.

use switchboard_protocol::chat::Message;
use switchboard_protocol::realtime::History;

use super::{Attachment, Chat, Delivery, Item, Kind, Reason};

impl Chat {
    /// Adds a line of the widget's own (joined, resolved) after the last
    /// item shown (after its anchor, if that is such a line too, so they
    /// keep their own order).
    pub(super) fn add_event(&mut self, kind: Kind) {
        let anchor = self.items.last().map(|i| i.anchor.unwrap_or(i.uid));
        let uid = self.uid();
        // Without an anchor (nothing shown yet) it simply goes first.
        self.place(Item {
            uid,
            rev: 0,
            id: None,
            echo_id: None,
            kind,
            content: String::new(),
            attachments: Vec::new(),
            order: (i64::MIN, 0, uid),
            anchor,
        });
    }

    /// Inserts keeping display order.
    fn place(&mut self, item: Item) {
        let at = self.items.partition_point(|i| i.order <= item.order);
        self.items.insert(at, item);
        self.resort();
    }

    /// Moves notices after their anchors (an anchor moves when a pending
    /// message learns its id). Everything else is kept in order by
    /// [`Chat::place`]; notices are few.
    fn resort(&mut self) {
        let (notices, rest): (Vec<Item>, Vec<Item>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|i| i.anchor.is_some());
        self.items = rest;
        for mut n in notices {
            let anchor = self.items.iter().find(|i| Some(i.uid) == n.anchor);
            if let Some(a) = anchor {
                n.order = (a.order.0, a.order.1, n.uid);
            }
            let at = self.items.partition_point(|i| i.order <= n.order);
            self.items.insert(at, n);
        }
    }

    /// A message the visitor just wrote; returns its uid.
    pub fn add_own(&mut self, content: String, echo_id: String) -> u32 {
        let uid = self.uid();
        self.place(Item {
            uid,
            rev: 0,
            id: None,
            echo_id: Some(echo_id),
            kind: Kind::Own(Delivery::Sending),
            content,
            attachments: Vec::new(),
            order: (i64::MAX, uid, 0),
            anchor: None,
        });
        uid
    }

    /// The visitor's messages still to be sent, oldest first, as
    /// `(echo_id, content)`.
    pub fn unsent(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .filter(|i| i.kind == Kind::Own(Delivery::Sending))
            .filter_map(|i| Some((i.echo_id.clone()?, i.content.clone())))
            .collect()
    }

    /// The visitor's own message with this echo id.
    fn by_echo(&self, echo_id: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|i| matches!(i.kind, Kind::Own(_)) && i.echo_id.as_deref() == Some(echo_id))
    }

    /// The server holds the message (`ack`): it is sent, and now has an id.
    /// The first `ack` of a new conversation also tells which one it is.
    pub fn ack(&mut self, echo_id: &str, conversation_id: i64, message_id: Option<i64>) {
        self.adopt(conversation_id);
        let Some(at) = self.by_echo(echo_id) else {
            return;
        };
        let mut item = self.items.remove(at);
        item.kind = Kind::Own(Delivery::Sent);
        item.rev += 1;
        if let Some(id) = message_id {
            // A live event may have brought it already under its id.
            if self.items.iter().any(|i| i.id == Some(id)) {
                return;
            }
            item.id = Some(id);
            item.order = (id, 0, 0);
        }
        self.place(item);
    }

    /// The server refused the message; `reason` is shown next to it.
    pub fn fail(&mut self, echo_id: &str, reason: Reason) {
        if let Some(at) = self.by_echo(echo_id) {
            let item = &mut self.items[at];
            if item.kind == Kind::Own(Delivery::Sending) {
                item.kind = Kind::Own(Delivery::Failed(reason));
                item.rev += 1;
            }
        }
    }

    /// Retry pressed: the failed message is pending again. Returns its
    /// echo id when there was such a message.
    pub fn retry(&mut self, uid: u32) -> Option<String> {
        let item = self.items.iter_mut().find(|i| i.uid == uid)?;
        if !matches!(item.kind, Kind::Own(Delivery::Failed(_))) {
            return None;
        }
        item.kind = Kind::Own(Delivery::Sending);
        item.rev += 1;
        item.echo_id.clone()
    }

    /// A page of history. The newest page after a gap (we missed more than
    /// a page while away) replaces what was shown, so nothing is silently
    /// missing between old and new messages.
    pub fn apply_history(&mut self, page: History, before: Option<i64>) {
        if self.current != Some(page.conversation_id) {
            return;
        }
        let known_max = self.items.iter().filter_map(|i| i.id).max();
        let page_min = page.messages.iter().map(|m| m.id).min();
        if before.is_none() {
            let gap = page.has_more && matches!((known_max, page_min), (Some(k), Some(p)) if p > k);
            if gap {
                // Unsent words stay; notices about what is gone go.
                self.items
                    .retain(|i| i.id.is_none() && matches!(i.kind, Kind::Own(_)));
            }
            if gap || known_max.is_none() {
                self.has_more = page.has_more;
            }
        } else {
            self.has_more = page.has_more;
        }
        for m in page.messages {
            self.merge(m);
        }
    }

    /// The oldest shown message id: where the next older page starts.
    pub fn oldest_id(&self) -> Option<i64> {
        self.items.iter().filter_map(|i| i.id).min()
    }

    /// A live `message.created` / `message.updated`. Returns the message
    /// when it is a new team message (to count unread and tell the host).
    pub fn apply_live(&mut self, m: Message, open: bool) -> Option<Message> {
        if self.current.is_none_or(|cur| m.conversation_id > cur) {
            self.switch_to(Some(m.conversation_id));
        }
        let team = is_team(&m);
        if team && self.typing.as_ref().map(|t| &t.0) == author(&m).as_ref() {
            self.typing = None;
        }
        let new_team = self.merge(m.clone()) && team;
        if new_team && !open {
            self.unread += 1;
        }
        new_team.then_some(m)
    }

    /// Merges one message; `true` when it was not shown before.
    pub(super) fn merge(&mut self, m: Message) -> bool {
        let shown = matches!(m.message_type, 0 | 1 | 3) && !m.private;
        if Some(m.conversation_id) != self.current || !shown {
            return false;
        }
        let content = m.content.clone().unwrap_or_default();
        let attachments = Attachment::list(&m.attachments);
        if let Some(item) = self.items.iter_mut().find(|i| i.id == Some(m.id)) {
            if item.content != content || item.attachments != attachments {
                item.content = content;
                item.attachments = attachments;
                item.rev += 1;
            }
            return false;
        }
        let own = m.message_type == 0;
        let pending = m
            .echo_id
            .as_deref()
            .filter(|_| own)
            .and_then(|e| self.by_echo(e));
        let mut item = match pending {
            Some(at) => self.items.remove(at),
            None => Item {
                uid: self.uid(),
                rev: 0,
                id: None,
                echo_id: m.echo_id.clone(),
                kind: Kind::Own(Delivery::Sent),
                content: String::new(),
                attachments: Vec::new(),
                order: (0, 0, 0),
                anchor: None,
            },
        };
        item.id = Some(m.id);
        item.order = (m.id, 0, 0);
        item.content = content;
        item.attachments = attachments;
        item.rev += 1;
        item.kind = if own {
            Kind::Own(Delivery::Sent)
        } else {
            Kind::Team {
                name: author(&m).unwrap_or_default(),
                avatar: avatar(&m),
            }
        };
        self.place(item);
        pending.is_none()
    }
}

/// Team messages: the agents' (outgoing) and templates.
fn is_team(m: &Message) -> bool {
    matches!(m.message_type, 1 | 3)
}

fn author(m: &Message) -> Option<String> {
    let s = m.sender.as_ref()?;
    let name = if s.available_name.trim().is_empty() {
        &s.name
    } else {
        &s.available_name
    };
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

fn avatar(m: &Message) -> Option<String> {
    let s = m.sender.as_ref()?;
    [&s.avatar_url, &s.thumbnail]
        .into_iter()
        .find(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'))
        .cloned()
}
