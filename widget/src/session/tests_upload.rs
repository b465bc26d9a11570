//! Tests of the visitor's files: limits, when an upload goes and into
//! which conversation, its answer, failures and retries.

use serde_json::{json, Value};

use super::fixtures::*;
use super::*;
use crate::state::{Delivery, FileKind, Kind};

fn files(sizes: &[u64]) -> Vec<Picked> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| Picked {
            name: format!("f{i}.pdf"),
            size,
        })
        .collect()
}

fn uploads(effects: &[Effect]) -> Vec<UploadRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Upload(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn message_json(id: i64, conversation_id: i64, echo: &str) -> Value {
    json!({
        "id": id, "content": null, "account_id": 1, "inbox_id": 3,
        "conversation_id": conversation_id, "message_type": 0, "content_type": "text",
        "content_attributes": {}, "created_at": 1, "updated_at": 1, "private": false,
        "status": "sent", "source_id": null, "sender_type": "Contact", "sender_id": 17,
        "sender": {"id": 17, "name": "Visitor", "available_name": "Visitor",
                   "avatar_url": "", "thumbnail": "", "type": "contact"},
        "echo_id": echo,
        "attachments": [{"id": 5, "message_id": id, "file_type": "file",
                         "content_type": "application/pdf", "extension": "pdf",
                         "file_name": "nota.pdf", "file_size": 12300,
                         "data_url": "https://hub.test/files/k/nota.pdf", "thumb_url": ""}]
    })
}

fn answer(id: i64, conversation_id: i64, echo: &str) -> String {
    json!({"conversation_id": conversation_id, "message": message_json(id, conversation_id, echo)})
        .to_string()
}

#[test]
fn limits_are_checked_before_anything_is_sent() {
    let max = MAX_FILE_BYTES;
    assert_eq!(check_files(&files(&[1; MAX_FILES]), ""), Ok(()));
    assert_eq!(
        check_files(&files(&[max]), "hi"),
        Ok(()),
        "25 MiB is allowed"
    );
    assert_eq!(
        check_files(&files(&[1; MAX_FILES + 1]), ""),
        Err(Refusal::TooMany(11))
    );
    assert_eq!(
        check_files(&files(&[1, max + 1]), ""),
        Err(Refusal::TooLarge("f1.pdf".into()))
    );
    assert_eq!(
        check_files(&files(&[1, 0]), ""),
        Err(Refusal::Empty("f1.pdf".into()))
    );
    let long = "a".repeat(crate::text::MAX_MESSAGE_CHARS + 1);
    assert_eq!(check_files(&files(&[1]), &long), Err(Refusal::TextTooLong));

    let mut s = live(json!([conv_json(42)]));
    assert!(!s.attach(&files(&[1; 11]), "hi", "u1".into(), 0.0));
    assert_eq!(s.attach_notice, Some(Refusal::TooMany(11)));
    assert!(s.upload.is_none() && s.drain().is_empty(), "nothing goes");
    assert!(s.can_attach(), "the visitor may pick again");
    // A text message sent afterwards clears the notice.
    s.send_message("ok", "e1".into(), 0.0);
    assert_eq!(s.attach_notice, None);
}

#[test]
fn files_go_into_the_shown_conversation_with_the_words_typed() {
    let mut s = live(json!([conv_json(42)]));
    assert!(s.attach(&files(&[10, 20]), "  see attached ", "u1".into(), 0.0));
    assert_eq!(
        uploads(&s.drain()),
        vec![UploadRequest {
            path: "/widget/messages?website_token=web&conversation_id=42".into(),
            visitor_token: "vis".into(),
            content: Some("see attached".into()),
            echo_id: "u1".into(),
        }]
    );
    assert!(s.uploading() && !s.can_attach(), "one upload at a time");
    assert!(!s.attach(&files(&[1]), "", "u2".into(), 0.0));
    // The socket brings the message first; the answer then adds nothing.
    let event = frame("message.created", Some(101), message_json(70, 42, "u1"));
    s.received(&event, 0.0);
    s.upload_answered("u1", 200, &answer(70, 42, "u1"));
    assert!(s.upload.is_none() && s.can_attach());
    assert_eq!(s.chat.items.len(), 1, "one item per message id");
    let item = &s.chat.items[0];
    assert_eq!(item.id, Some(70));
    assert_eq!(item.kind, Kind::Own(Delivery::Sent));
    assert_eq!(item.content, "", "files only: no text");
    assert_eq!(item.attachments.len(), 1);
    assert_eq!(item.attachments[0].kind, FileKind::File);
    assert_eq!(item.attachments[0].name, "nota.pdf");
    assert_eq!(item.attachments[0].size, Some(12300));
}

#[test]
fn the_answer_adds_the_message_when_the_socket_has_not() {
    let mut s = live(json!([conv_json(42)]));
    s.attach(&files(&[10]), "", "u1".into(), 0.0);
    s.drain();
    s.upload_answered("u1", 200, &answer(70, 42, "u1"));
    assert_eq!(s.chat.items.len(), 1);
    // The live event that follows merges into it.
    let uid = s.chat.items[0].uid;
    s.received(
        &frame("message.created", Some(101), message_json(70, 42, "u1")),
        0.0,
    );
    assert_eq!(s.chat.items.len(), 1);
    assert_eq!(s.chat.items[0].uid, uid, "the same node");
    // A late or repeated answer changes nothing.
    s.upload_answered("u1", 200, &answer(70, 42, "u1"));
    assert_eq!(s.chat.items.len(), 1);
}

#[test]
fn a_first_upload_starts_the_conversation_and_text_waits_for_it() {
    let mut s = live(json!([]));
    s.attach(&files(&[10]), "", "u1".into(), 0.0);
    let up = uploads(&s.drain());
    assert_eq!(
        up[0].path, "/widget/messages?website_token=web",
        "no conversation yet"
    );
    // Typed while the upload is out: it must not start a second one.
    s.send_message("and this", "e1".into(), 0.0);
    assert!(sent(&s.drain()).is_empty());
    // The answer names the conversation: adopted, and the text goes in.
    s.upload_answered("u1", 200, &answer(70, 42, "u1"));
    assert_eq!(s.chat.current, Some(42));
    assert_eq!(
        sent(&s.drain()),
        vec![
            json!({"type": "message", "conversation_id": 42, "content": "and this", "echo_id": "e1"})
        ]
    );
    assert_eq!(s.chat.items[0].id, Some(70));
}

#[test]
fn an_upload_waits_for_a_conversation_being_started() {
    let mut s = live(json!([]));
    s.send_message("hello", "e1".into(), 0.0);
    assert_eq!(types(&s.drain()), ["start_conversation"]);
    assert!(s.attach(&files(&[10]), "", "u1".into(), 0.0));
    assert!(uploads(&s.drain()).is_empty(), "waits for the ack");
    assert!(s.uploading(), "shown as sending meanwhile");
    s.received(
        &frame(
            "ack",
            None,
            json!({"conversation_id": 42, "message_id": 7, "echo_id": "e1"}),
        ),
        0.0,
    );
    let up = uploads(&s.drain());
    assert_eq!(
        up[0].path,
        "/widget/messages?website_token=web&conversation_id=42"
    );
}

#[test]
fn a_new_visitor_uploads_once_the_server_gave_a_token() {
    let mut s = Session::new("web site".into(), None, true);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.drain();
    assert!(s.attach(&files(&[10]), "", "u1".into(), 0.0));
    assert!(uploads(&s.drain()).is_empty(), "no visitor token yet");
    // A new visitor is no contact yet: the widget asks to become one.
    s.received(&newcomer_welcome(false), 0.0);
    let effects = s.drain();
    assert!(uploads(&effects).is_empty());
    assert_eq!(types(&effects), ["set_custom_attributes"]);
    s.received(&identity("new", false), 0.0);
    let effects = s.drain();
    assert!(effects.contains(&Effect::SaveToken(Some("new".into()))));
    let up = uploads(&effects);
    assert_eq!(up[0].visitor_token, "new");
    assert_eq!(up[0].path, "/widget/messages?website_token=web%20site");
}

#[test]
fn a_lost_upload_is_kept_for_retry_with_the_same_echo_id() {
    let mut s = live(json!([conv_json(42)]));
    s.attach(&files(&[10]), "words", "u1".into(), 0.0);
    s.drain();
    s.upload_lost("u1");
    assert_eq!(
        s.upload.as_ref().map(|u| u.state.clone()),
        Some(UploadState::Failed(None))
    );
    assert!(!s.uploading() && !s.can_attach(), "retry or cancel first");
    s.retry_upload();
    let up = uploads(&s.drain());
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].echo_id, "u1");
    assert_eq!(up[0].content.as_deref(), Some("words"));
    // Server trouble is worth a retry too; a busy server says why.
    s.upload_answered("u1", 503, "oops");
    assert_eq!(
        s.upload.as_ref().map(|u| u.state.clone()),
        Some(UploadState::Failed(None))
    );
    s.retry_upload();
    s.drain();
    let busy = json!({"error": "rate_limited", "message": "slow down"}).to_string();
    s.upload_answered("u1", 429, &busy);
    assert_eq!(
        s.upload.as_ref().map(|u| u.state.clone()),
        Some(UploadState::Failed(Some(Reason::RateLimited)))
    );
    // Cancel drops the files and gives the words back.
    s.cancel_upload();
    assert!(s.upload.is_none());
    assert_eq!(s.drain(), vec![Effect::Restore("words".into())]);
}

#[test]
fn a_refused_upload_shows_the_servers_words_and_returns_the_text() {
    let mut s = live(json!([conv_json(42)]));
    s.attach(&files(&[10]), "look", "u1".into(), 0.0);
    s.drain();
    let body = json!({"error": "validation_failed",
                      "message": "attachments[] has a type that is not accepted (image/svg+xml)"})
    .to_string();
    s.upload_answered("u1", 422, &body);
    assert!(s.upload.is_none() && s.can_attach());
    assert_eq!(
        s.attach_notice,
        Some(Refusal::Server(Reason::Other(
            "attachments[] has a type that is not accepted (image/svg+xml)".into()
        )))
    );
    assert_eq!(s.drain(), vec![Effect::Restore("look".into())]);
    // Too large together: a known code, in the visitor's language.
    s.attach(&files(&[10]), "", "u2".into(), 0.0);
    s.drain();
    let body = json!({"error": "payload_too_large", "message": "the body is larger than 1 bytes"});
    s.upload_answered("u2", 413, &body.to_string());
    assert_eq!(s.attach_notice, Some(Refusal::Server(Reason::TooLarge)));
    assert!(s.drain().is_empty(), "no words to give back");
    // Not JSON at all: a plain "not sent".
    s.attach(&files(&[10]), "", "u3".into(), 0.0);
    s.drain();
    s.upload_answered("u3", 400, "<html>");
    assert_eq!(
        s.attach_notice,
        Some(Refusal::Server(Reason::Other(String::new())))
    );
}

#[test]
fn a_reset_drops_the_upload_and_its_late_answer() {
    let mut s = live(json!([conv_json(42)]));
    s.attach(&files(&[10]), "", "u1".into(), 0.0);
    s.drain();
    s.reset();
    assert!(s.upload.is_none());
    s.upload_answered("u1", 200, &answer(70, 42, "u1"));
    assert!(s.chat.items.is_empty() && s.chat.current.is_none());
    s.upload_lost("u1");
    assert!(s.upload.is_none());
}

#[test]
fn a_failed_first_upload_lets_the_text_start_the_conversation() {
    let mut s = live(json!([]));
    s.attach(&files(&[10]), "", "u1".into(), 0.0);
    s.drain();
    s.send_message("hi", "e1".into(), 0.0);
    assert!(sent(&s.drain()).is_empty());
    s.upload_lost("u1");
    assert_eq!(types(&s.drain()), ["start_conversation"]);
    // Retried meanwhile: it waits for that conversation.
    s.retry_upload();
    assert!(uploads(&s.drain()).is_empty());
    s.received(
        &frame(
            "ack",
            None,
            json!({"conversation_id": 43, "message_id": 8, "echo_id": "e1"}),
        ),
        0.0,
    );
    assert_eq!(
        uploads(&s.drain())[0].path,
        "/widget/messages?website_token=web&conversation_id=43"
    );
}
