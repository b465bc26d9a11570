//! Tests of the session's messages: starting, resending, failures, the
//! pre-chat form and what reaches the host page.

use serde_json::json;

use super::fixtures::*;
use super::*;
use crate::state::{Delivery, Kind};

#[test]
fn the_first_message_starts_a_conversation_and_the_next_wait_for_it() {
    let mut s = live(json!([]));
    assert!(s.send_message("  hello  ", "e1".into(), 0.0));
    assert!(s.send_message("second", "e2".into(), 0.0));
    assert!(
        !s.send_message("   ", "e3".into(), 0.0),
        "never an empty message"
    );
    let frames = sent(&s.drain());
    assert_eq!(
        frames,
        vec![json!({"type": "start_conversation", "content": "hello", "echo_id": "e1"})]
    );
    s.received(
        &frame(
            "ack",
            None,
            json!({"conversation_id": 42, "message_id": 7, "echo_id": "e1"}),
        ),
        0.0,
    );
    let frames = sent(&s.drain());
    assert_eq!(
        frames,
        vec![
            json!({"type": "message", "conversation_id": 42, "content": "second", "echo_id": "e2"})
        ]
    );
}

#[test]
fn unacked_messages_are_resent_with_the_same_echo_id_after_a_reconnect() {
    let mut s = live(json!([conv_json(42)]));
    s.send_message("one", "e1".into(), 0.0);
    s.send_message("two", "e2".into(), 0.0);
    s.received(
        &frame(
            "ack",
            None,
            json!({"conversation_id": 42, "message_id": 7, "echo_id": "e1"}),
        ),
        0.0,
    );
    s.closed(1006, 0.5);
    s.drain();
    // Offline: a third message waits.
    s.send_message("three", "e3".into(), 0.0);
    assert!(sent(&s.drain()).is_empty());
    s.connecting(0.0);
    s.opened(0.0);
    s.received(
        &welcome("vis", true, json!([conv_json(42)]), json!(null), false),
        0.0,
    );
    let frames = sent(&s.drain());
    let echoes: Vec<_> = frames
        .iter()
        .filter_map(|f| f["echo_id"].as_str())
        .collect();
    assert_eq!(echoes, ["e2", "e3"], "{frames:?}");
    let kinds: Vec<_> = frames
        .iter()
        .map(|f| f["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["auth", "message", "message"],
        "resumed: no history reload"
    );
}

#[test]
fn a_start_lost_in_a_disconnect_is_not_started_twice() {
    let mut s = live(json!([]));
    s.send_message("hello", "e1".into(), 0.0);
    s.closed(1001, 0.0);
    s.drain();
    s.connecting(0.0);
    s.opened(0.0);
    // The server had created it before the connection dropped.
    s.received(
        &welcome("vis", false, json!([conv_json(42)]), json!(null), false),
        0.0,
    );
    let frames = sent(&s.drain());
    assert!(
        frames.iter().all(|f| f["type"] != "start_conversation"),
        "{frames:?}"
    );
    assert!(frames.contains(
        &json!({"type": "message", "conversation_id": 42, "content": "hello", "echo_id": "e1"})
    ));
}

#[test]
fn errors_fail_the_oldest_request_and_retry_keeps_the_echo_id() {
    let mut s = live(json!([conv_json(42)]));
    s.received(
        &frame(
            "history",
            None,
            json!({"conversation_id": 42, "messages": [], "has_more": false}),
        ),
        0.0,
    );
    s.send_message("x", "e1".into(), 0.0);
    s.drain();
    s.received(
        &frame(
            "error",
            None,
            json!({"error": "rate_limited", "message": "slow down"}),
        ),
        0.0,
    );
    let item = &s.chat.items[0];
    assert_eq!(item.kind, Kind::Own(Delivery::Failed(Reason::RateLimited)));
    let uid = item.uid;
    s.retry(uid);
    let frames = sent(&s.drain());
    assert_eq!(frames[0]["echo_id"], "e1");
    assert_eq!(s.chat.items[0].kind, Kind::Own(Delivery::Sending));
}

#[test]
fn prechat_holds_messages_until_the_email_is_known() {
    let mut s = Session::new("web".into(), None, false);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.received(&welcome("v", false, json!([]), json!(null), true), 0.0);
    s.drain();
    assert!(s.prechat_due());
    s.submit_prechat("Joana", "joana@");
    assert_eq!(s.prechat_error, Some(Reason::InvalidEmail));
    assert!(s.drain().is_empty());
    s.send_message("hello", "e1".into(), 0.0);
    assert!(sent(&s.drain()).is_empty(), "held back by the form");
    s.submit_prechat(" Joana ", "joana@example.com");
    assert_eq!(
        sent(&s.drain()),
        vec![
            json!({"type": "set_user", "identifier": null, "identifier_hash": null,
        "name": "Joana", "email": "joana@example.com", "phone_number": null, "avatar_url": null})
        ]
    );
    assert!(s.prechat_busy);
    s.received(
        &frame(
            "identity",
            None,
            json!({"switched": false, "visitor_token": "v", "hmac_verified": false,
        "contact": {"id": 17, "name": "Joana", "email": "joana@example.com", "identifier": null,
                    "custom_attributes": {}}}),
        ),
        0.0,
    );
    assert!(!s.prechat_due() && !s.prechat_busy);
    assert_eq!(types(&s.drain()), ["start_conversation"]);
}

#[test]
fn team_messages_reach_the_host_and_unread_resets_on_open() {
    let mut s = live(json!([conv_json(42)]));
    let m = crate::state::tests::msg(5, 42, 1, "hi");
    s.received(
        &frame(
            "message.created",
            Some(101),
            serde_json::to_value(&m).unwrap_or_default(),
        ),
        0.0,
    );
    let effects = s.drain();
    assert_eq!(
        effects,
        vec![
            Effect::Host(HostOut::Unread(1)),
            Effect::Host(HostOut::Message(Box::new(m)))
        ]
    );
    s.set_open(true);
    // Opening also tells the server (`triggered`, for webhooks).
    assert_eq!(
        s.drain(),
        vec![
            Effect::Host(HostOut::Unread(0)),
            Effect::Send(r#"{"type":"triggered","event_info":{}}"#.to_string())
        ]
    );
    s.set_open(true);
    assert!(s.drain().is_empty());
}
