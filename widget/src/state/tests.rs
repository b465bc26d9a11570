//! Tests of the conversation model.

use super::*;
use serde_json::json;
use switchboard_protocol::chat::{ConversationStatus, Message};
use switchboard_protocol::realtime::{History, PublicAgent};

pub(crate) fn msg(id: i64, conversation_id: i64, message_type: i64, content: &str) -> Message {
    let sender = if message_type == 0 {
        json!({"id": 17, "name": "Visitor", "available_name": "Visitor", "avatar_url": "",
               "thumbnail": "", "type": "contact"})
    } else {
        json!({"id": 2, "name": "Bruno Lima", "available_name": "Bruno", "avatar_url": "",
               "thumbnail": "https://cdn.test/b.png", "type": "user"})
    };
    serde_json::from_value(json!({
        "id": id, "content": content, "account_id": 1, "inbox_id": 3,
        "conversation_id": conversation_id, "message_type": message_type,
        "content_type": "text", "content_attributes": {}, "created_at": 1, "updated_at": 1,
        "private": false, "status": "sent", "source_id": null,
        "sender_type": if message_type == 0 { "Contact" } else { "User" },
        "sender_id": 2, "sender": sender, "echo_id": null
    }))
    .expect("test message")
}

pub(crate) fn own(id: i64, conversation_id: i64, content: &str, echo: &str) -> Message {
    let mut m = msg(id, conversation_id, 0, content);
    m.echo_id = Some(echo.to_string());
    m
}

pub(crate) fn conv(id: i64, assignee: Option<&str>, queue: Option<usize>) -> VisitorConversation {
    VisitorConversation {
        id,
        inbox_id: 3,
        status: ConversationStatus::Open,
        assignee: assignee.map(|name| PublicAgent {
            id: 2,
            available_name: name.into(),
            avatar_url: String::new(),
        }),
        queue_position: queue,
        created_at: 1,
    }
}

fn page(conversation_id: i64, ids: &[i64], has_more: bool) -> History {
    History {
        conversation_id,
        messages: ids
            .iter()
            .map(|&id| msg(id, conversation_id, 1, "x"))
            .collect(),
        has_more,
    }
}

fn ids(chat: &Chat) -> Vec<Option<i64>> {
    chat.items.iter().map(|i| i.id).collect()
}

fn shown(list: Vec<VisitorConversation>) -> Chat {
    let mut chat = Chat::default();
    chat.set_conversations(list);
    chat
}

#[test]
fn the_latest_conversation_is_shown() {
    let chat = shown(vec![
        conv(40, None, None),
        conv(42, None, Some(3)),
        conv(41, None, None),
    ]);
    assert_eq!(chat.current, Some(42));
    assert_eq!(chat.queue_position(), Some(3));
}

#[test]
fn history_and_live_events_merge_without_duplicates() {
    let mut chat = shown(vec![conv(42, None, None)]);
    chat.apply_history(page(42, &[10, 11, 12], true), None);
    assert!(chat.has_more);
    // The live event of a message the page already had changes nothing.
    assert_eq!(chat.apply_live(msg(12, 42, 1, "x"), true), None);
    assert!(chat.apply_live(msg(13, 42, 1, "new"), true).is_some());
    // An older page goes before; an overlapping one adds nothing twice.
    chat.apply_history(page(42, &[7, 8, 9, 10], false), Some(10));
    assert!(!chat.has_more);
    assert_eq!(ids(&chat), [7, 8, 9, 10, 11, 12, 13].map(Some));
    assert_eq!(chat.oldest_id(), Some(7));
    // `message.updated` edits in place.
    let rev = chat.items[6].rev;
    chat.apply_live(msg(13, 42, 1, "edited"), true);
    assert_eq!(chat.items[6].content, "edited");
    assert!(chat.items[6].rev > rev);
}

#[test]
fn private_activity_and_other_conversations_are_not_shown() {
    let mut chat = shown(vec![conv(42, None, None), conv(41, None, None)]);
    let mut note = msg(5, 42, 1, "note");
    note.private = true;
    assert_eq!(chat.apply_live(note, true), None);
    assert_eq!(
        chat.apply_live(msg(6, 42, 2, "Bruno self-assigned"), true),
        None
    );
    assert_eq!(chat.apply_live(msg(7, 41, 1, "old one"), true), None);
    chat.apply_history(page(41, &[1, 2], false), None);
    assert!(chat.items.is_empty());
}

#[test]
fn a_pending_message_becomes_the_server_message() {
    let mut chat = shown(vec![conv(42, None, None)]);
    chat.apply_history(page(42, &[10], false), None);
    let uid = chat.add_own("hello".into(), "e1".into());
    assert_eq!(chat.unsent(), vec![("e1".to_string(), "hello".to_string())]);
    // The team answered before our ack: ours still shows last, unsent.
    chat.apply_live(msg(12, 42, 1, "hi"), true);
    assert_eq!(ids(&chat), [Some(10), Some(12), None]);
    // The live event of our own message merges by echo id, keeping the uid
    // (the DOM node) and taking its place by id.
    assert_eq!(chat.apply_live(own(11, 42, "hello", "e1"), true), None);
    assert_eq!(ids(&chat), [10, 11, 12].map(Some));
    assert_eq!(chat.items[1].uid, uid);
    assert_eq!(chat.items[1].kind, Kind::Own(Delivery::Sent));
    // The ack that follows adds nothing.
    chat.ack("e1", 42, Some(11));
    assert_eq!(ids(&chat), [10, 11, 12].map(Some));
    assert!(chat.unsent().is_empty());
}

#[test]
fn ack_before_event_also_merges_once() {
    let mut chat = Chat::default();
    chat.add_own("first".into(), "e1".into());
    chat.ack("e1", 42, Some(11));
    assert_eq!(
        chat.current,
        Some(42),
        "the first ack names the new conversation"
    );
    assert_eq!(chat.items[0].kind, Kind::Own(Delivery::Sent));
    chat.apply_live(own(11, 42, "first", "e1"), true);
    assert_eq!(ids(&chat), [Some(11)]);
}

#[test]
fn server_codes_become_reasons_in_the_visitors_language() {
    assert_eq!(
        Reason::from_error("busy", "The server is busy"),
        Reason::Busy
    );
    assert_eq!(Reason::from_error("conflict", "taken"), Reason::Taken);
    assert_eq!(
        Reason::from_codes(
            "validation_failed",
            Some("invalid_email"),
            "email is not valid"
        ),
        Reason::InvalidEmail
    );
    assert_eq!(
        Reason::from_codes("validation_failed", Some("too_long"), "name is too long"),
        Reason::TooLong
    );
    assert_eq!(
        Reason::from_codes("validation_failed", Some("invalid"), "odd"),
        Reason::Other("odd".into())
    );
}

#[test]
fn failed_messages_keep_their_reason_and_can_be_retried() {
    let mut chat = shown(vec![conv(42, None, None)]);
    let uid = chat.add_own("too long".into(), "e1".into());
    chat.fail(
        "e1",
        Reason::from_error("unprocessable_entity", "Content is too long"),
    );
    assert_eq!(
        chat.items[0].kind,
        Kind::Own(Delivery::Failed(Reason::Other(
            "Content is too long".into()
        )))
    );
    assert!(
        chat.unsent().is_empty(),
        "failed messages are not resent by themselves"
    );
    assert_eq!(chat.retry(uid), Some("e1".to_string()));
    assert_eq!(chat.retry(uid), None, "only a failed message is retried");
    assert_eq!(chat.unsent().len(), 1);
    // A late ack of the first attempt wins over a mistaken failure.
    chat.fail("e1", Reason::RateLimited);
    chat.ack("e1", 42, Some(3));
    assert_eq!(chat.items[0].kind, Kind::Own(Delivery::Sent));
    chat.fail("e1", Reason::RateLimited);
    assert_eq!(
        chat.items[0].kind,
        Kind::Own(Delivery::Sent),
        "sent stays sent"
    );
}

#[test]
fn the_newest_page_after_a_gap_replaces_what_was_shown() {
    let mut chat = shown(vec![conv(42, None, None)]);
    chat.apply_history(page(42, &[10, 11], false), None);
    chat.add_own("unsent".into(), "e1".into());
    // Away for long: the newest page starts after everything we knew.
    chat.apply_history(page(42, &[90, 91], true), None);
    assert_eq!(ids(&chat), [Some(90), Some(91), None]);
    assert!(chat.has_more);
    // Overlapping pages merge instead.
    chat.apply_history(page(42, &[91, 92], true), None);
    assert_eq!(ids(&chat), [Some(90), Some(91), Some(92), None]);
}

#[test]
fn unread_counts_team_messages_while_closed() {
    let mut chat = shown(vec![conv(42, None, None)]);
    assert!(chat.apply_live(msg(1, 42, 1, "a"), false).is_some());
    chat.apply_live(msg(2, 42, 0, "mine"), false);
    chat.apply_live(msg(3, 42, 3, "template"), false);
    chat.apply_live(msg(3, 42, 3, "template"), false);
    chat.apply_history(page(42, &[4, 5], false), None);
    assert_eq!(
        chat.unread, 2,
        "own, repeated and history messages do not count"
    );
    chat.apply_live(msg(6, 42, 1, "b"), true);
    assert_eq!(chat.unread, 2, "nothing counts while open");
}

#[test]
fn assignment_adds_a_joined_line_once() {
    let mut chat = shown(vec![conv(42, None, Some(2))]);
    chat.apply_history(page(42, &[10], false), None);
    assert_eq!(
        chat.upsert_conversation(conv(42, Some("Bruno"), None)),
        Some("Bruno".into())
    );
    assert_eq!(
        chat.upsert_conversation(conv(42, Some("Bruno"), None)),
        None
    );
    assert_eq!(chat.queue_position(), None);
    chat.apply_live(msg(11, 42, 1, "hi"), true);
    let kinds: Vec<_> = chat.items.iter().map(|i| &i.kind).collect();
    assert!(
        matches!(kinds[1], Kind::Joined(n) if n == "Bruno"),
        "{kinds:?}"
    );
    assert_eq!(ids(&chat), [Some(10), None, Some(11)]);
}

#[test]
fn a_newer_conversation_takes_over_but_keeps_unsent_words() {
    let mut chat = shown(vec![conv(42, None, None)]);
    chat.apply_history(page(42, &[10], true), None);
    chat.add_own("wait".into(), "e1".into());
    assert_eq!(chat.upsert_conversation(conv(50, None, Some(1))), None);
    assert_eq!(chat.current, Some(50));
    assert_eq!(ids(&chat), [None]);
    assert!(!chat.has_more);
    chat.remove_conversation(50);
    assert_eq!(chat.current, Some(42));
    chat.set_queue_position(42, Some(4));
    assert_eq!(chat.queue_position(), Some(4));
}

#[test]
fn typing_shows_the_agent_until_off_message_or_expiry() {
    let mut chat = shown(vec![conv(42, None, None)]);
    chat.set_typing(42, Some("Bruno".into()), true, 0.0);
    chat.set_typing(41, None, false, 0.0);
    assert_eq!(chat.typing.as_ref().map(|t| t.0.as_str()), Some("Bruno"));
    chat.apply_live(msg(5, 42, 1, "done"), true);
    assert_eq!(chat.typing, None, "the message ends the typing");
    chat.set_typing(42, Some("Bruno".into()), true, 0.0);
    assert!(!chat.expire_typing(TYPING_TTL_MS - 1.0));
    assert!(chat.expire_typing(TYPING_TTL_MS));
    assert_eq!(chat.typing, None);
}

#[test]
fn a_notice_follows_the_message_it_came_after() {
    // The visitor's first message creates a conversation that is assigned
    // at once: "joined" shows after that message, also once it has an id.
    let mut chat = Chat::default();
    chat.add_own("first".into(), "e1".into());
    assert_eq!(
        chat.upsert_conversation(conv(42, Some("Carla"), None)),
        Some("Carla".into())
    );
    chat.ack("e1", 42, Some(11));
    chat.apply_live(msg(12, 42, 1, "hi"), true);
    let kinds: Vec<_> = chat
        .items
        .iter()
        .map(|i| matches!(i.kind, Kind::Joined(_)))
        .collect();
    assert_eq!(kinds, [false, true, false]);
    assert_eq!(ids(&chat), [Some(11), None, Some(12)]);
    // A second change stays after the first notice.
    let mut bruno = conv(42, Some("Bruno"), None);
    if let Some(a) = bruno.assignee.as_mut() {
        a.id = 3;
    }
    chat.upsert_conversation(bruno);
    let last = chat.items.last().map(|i| i.kind.clone());
    assert_eq!(last, Some(Kind::Joined("Bruno".into())));
}

#[test]
fn the_first_page_keeps_a_notice_that_came_before_it() {
    // A new conversation: assigned (live) before its first page arrives.
    let mut chat = Chat::default();
    chat.add_own("first".into(), "e1".into());
    chat.upsert_conversation(conv(42, Some("Carla"), None));
    chat.apply_history(
        History {
            conversation_id: 42,
            messages: vec![own(11, 42, "first", "e1")],
            has_more: false,
        },
        None,
    );
    let kinds: Vec<_> = chat.items.iter().map(|i| i.kind.clone()).collect();
    assert_eq!(
        kinds,
        [Kind::Own(Delivery::Sent), Kind::Joined("Carla".into())]
    );
}

#[test]
fn files_are_read_from_the_message_and_kept_up_to_date() {
    let mut chat = shown(vec![conv(42, None, None)]);
    let mut m = msg(10, 42, 1, "");
    m.content = None;
    m.attachments = vec![
        json!({"id": 1, "message_id": 10, "file_type": "image", "content_type": "image/png",
               "extension": "png", "file_name": "foto.png", "file_size": 2048,
               "data_url": "https://hub.test/files/a/foto.png",
               "thumb_url": "https://hub.test/files/a/foto.png"}),
        json!({"file_type": "audio", "file_name": "voz.ogg", "data_url": "https://hub.test/v"}),
        json!({"file_type": "video", "data_url": "https://hub.test/c", "extension": "mp4"}),
        json!({"content_type": "image/webp", "data_url": "https://hub.test/d"}),
        json!({"file_type": "sticker", "content_type": "application/zip", "file_size": -1}),
        json!("not an object"),
    ];
    assert!(chat.apply_live(m.clone(), true).is_some());
    let files = &chat.items[0].attachments;
    assert_eq!(chat.items[0].content, "", "files only");
    let kinds: Vec<_> = files.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            FileKind::Image,
            FileKind::Audio,
            FileKind::Video,
            FileKind::Image,
            FileKind::File
        ]
    );
    assert_eq!(files[0].name, "foto.png");
    assert_eq!(files[0].size, Some(2048));
    assert_eq!(files[0].thumb, "https://hub.test/files/a/foto.png");
    assert_eq!(files[2].name, "file.mp4");
    assert_eq!(files[3].name, "file");
    assert_eq!(files[4].size, None);
    assert_eq!(files[4].url, "");
    // `message.updated` with other files redraws the item.
    let rev = chat.items[0].rev;
    m.attachments.truncate(1);
    chat.apply_live(m, true);
    assert_eq!(chat.items[0].attachments.len(), 1);
    assert!(chat.items[0].rev > rev);
}

#[test]
fn an_uploaded_message_adopts_the_conversation_and_is_added_once() {
    let mut chat = Chat::default();
    let mut m = own(70, 42, "with a file", "u1");
    m.attachments = vec![json!({"file_type": "file", "file_name": "a.pdf"})];
    assert!(chat.add_uploaded(42, m.clone()));
    assert_eq!(chat.current, Some(42), "like the first ack");
    assert!(!chat.add_uploaded(42, m.clone()), "the same id is one item");
    assert_eq!(chat.apply_live(m, true), None);
    assert_eq!(ids(&chat), [Some(70)]);
    assert_eq!(chat.items[0].attachments[0].name, "a.pdf");
    // Into a conversation that is no longer shown: not shown here.
    let mut newer = shown(vec![conv(50, None, None)]);
    assert!(!newer.add_uploaded(42, own(71, 42, "x", "u2")));
    assert_eq!(newer.current, Some(50));
    assert!(newer.items.is_empty());
}

#[test]
fn the_visitor_is_told_when_the_team_resolves_the_conversation() {
    let mut chat = shown(vec![conv(42, None, None)]);
    let mut resolved = conv(42, None, None);
    resolved.status = ConversationStatus::Resolved;
    chat.upsert_conversation(resolved.clone());
    let last = chat.items.last().map(|i| i.kind.clone());
    assert_eq!(last, Some(Kind::Resolved));
    // Told once, not again for the same state.
    let before = chat.items.len();
    chat.upsert_conversation(resolved);
    assert_eq!(chat.items.len(), before);
}
