//! Tests of the session's connection: auth, resuming, reconnects,
//! liveness, identity switches and reset.

use serde_json::json;

use super::fixtures::*;
use super::*;

#[test]
fn auth_carries_both_tokens_and_the_cursor_to_resume() {
    let mut s = Session::new("web".into(), None, false);
    s.start();
    assert_eq!(s.drain(), vec![Effect::Connect { delay_ms: 0 }]);
    s.connecting(0.0);
    s.opened(0.0);
    let auth = sent(&s.drain());
    assert_eq!(
        auth,
        vec![
            json!({"type": "auth", "website_token": "web", "visitor_token": null, "cursor": null})
        ]
    );
    s.received(
        &welcome(
            "new-token",
            false,
            json!([conv_json(42)]),
            json!(null),
            false,
        ),
        0.0,
    );
    let effects = s.drain();
    assert!(effects.contains(&Effect::SaveToken(Some("new-token".into()))));
    assert_eq!(
        types(&effects),
        ["history"],
        "the shown conversation is loaded"
    );
    assert_eq!(s.status(), Status::Online);
    s.received(&frame("message.created", Some(130), json!({})), 0.0);
    s.received(
        &frame(
            "presence.update",
            Some(120),
            json!({"agents_online": false}),
        ),
        0.0,
    );
    assert_eq!(s.status(), Status::Away);
    s.closed(4008, 0.0);
    assert_eq!(s.drain(), vec![Effect::Connect { delay_ms: 500 }]);
    assert_eq!(s.status(), Status::Reconnecting);
    s.connecting(1.0);
    s.opened(1.0);
    assert_eq!(
        sent(&s.drain())[0]["cursor"],
        json!(130),
        "the largest cursor seen"
    );
}

#[test]
fn close_4001_is_final_but_a_refused_stored_visitor_gets_one_fresh_try() {
    let mut s = Session::new("web".into(), Some("old".into()), false);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.drain();
    s.received(
        &frame(
            "error",
            None,
            json!({"error": "not_found", "message": "Visitor not found"}),
        ),
        0.0,
    );
    s.closed(4001, 0.0);
    let effects = s.drain();
    assert_eq!(
        effects,
        vec![Effect::SaveToken(None), Effect::Connect { delay_ms: 0 }]
    );
    s.connecting(0.0);
    s.opened(0.0);
    assert_eq!(sent(&s.drain())[0]["visitor_token"], json!(null));
    s.received(
        &frame(
            "error",
            None,
            json!({"error": "not_found", "message": "Inbox not found"}),
        ),
        0.0,
    );
    s.closed(4001, 0.0);
    assert!(s.drain().is_empty(), "no reconnect");
    assert_eq!(s.status(), Status::Fatal(Fatal::Unavailable));
    // Nothing can be sent into an unavailable chat.
    assert!(!s.send_message("hi", "e1".into(), 0.0));

    let mut s = Session::new("web".into(), None, false);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.received(
        &frame(
            "error",
            None,
            json!({"error": "origin_not_allowed", "message": "no"}),
        ),
        0.0,
    );
    s.closed(4001, 0.0);
    assert_eq!(s.status(), Status::Fatal(Fatal::OriginBlocked));
    assert_eq!(
        Session::new(String::new(), None, false).status(),
        Status::Fatal(Fatal::Unavailable)
    );
}

#[test]
fn backoff_grows_and_resets_on_welcome() {
    let mut s = Session::new("web".into(), None, false);
    let mut delays = Vec::new();
    for _ in 0..3 {
        s.connecting(0.0);
        s.closed(1006, 0.0);
        for e in s.drain() {
            if let Effect::Connect { delay_ms } = e {
                delays.push(delay_ms);
            }
        }
    }
    assert_eq!(delays, [500, 1000, 2000]);
    assert_eq!(s.status(), Status::Reconnecting);
    s.connecting(0.0);
    s.received(&welcome("v", false, json!([]), json!(null), false), 0.0);
    s.closed(1006, 0.0);
    assert!(s.drain().contains(&Effect::Connect { delay_ms: 500 }));
}

#[test]
fn a_silent_link_is_pinged_then_given_up() {
    let mut s = live(json!([]));
    s.tick(PING_AFTER_MS - 1.0, 0.0);
    assert!(s.drain().is_empty());
    s.tick(PING_AFTER_MS + 1.0, 0.0);
    assert_eq!(types(&s.drain()), ["ping"]);
    s.received(&frame("pong", None, json!({})), PING_AFTER_MS + 50.0);
    s.tick(PING_AFTER_MS + 20_000.0, 0.0);
    assert!(s.drain().is_empty(), "a pong came: all is well");
    s.tick(2.0 * PING_AFTER_MS + 100.0, 0.0);
    assert_eq!(types(&s.drain()), ["ping"]);
    s.tick(2.0 * PING_AFTER_MS + 100.0 + PONG_WITHIN_MS + 1.0, 0.0);
    assert_eq!(s.drain(), vec![Effect::Connect { delay_ms: 500 }]);
    assert_eq!(s.link, Link::Down);
}

#[test]
fn a_switched_identity_reconnects_fresh_with_the_new_token() {
    let mut s = live(json!([conv_json(42)]));
    s.received(
        &frame(
            "message.created",
            Some(150),
            serde_json::to_value(crate::state::tests::msg(5, 42, 1, "hi")).unwrap_or_default(),
        ),
        0.0,
    );
    assert_eq!(s.chat.unread, 1);
    s.drain();
    s.identify(VisitorFrame::SetUser {
        identifier: Some("u-1".into()),
        identifier_hash: Some("ab".into()),
        name: None,
        email: None,
        phone_number: None,
        avatar_url: None,
    });
    assert_eq!(types(&s.drain()), ["set_user"]);
    s.received(&frame("identity", None, json!({"switched": true, "visitor_token": "other", "hmac_verified": true,
        "contact": {"id": 20, "name": "Ana", "email": null, "identifier": "u-1", "custom_attributes": {}}})), 0.0);
    let effects = s.drain();
    assert!(effects.contains(&Effect::SaveToken(Some("other".into()))));
    assert!(effects.contains(&Effect::Host(HostOut::Unread(0))));
    assert_eq!(effects.last(), Some(&Effect::Connect { delay_ms: 0 }));
    assert!(s.chat.items.is_empty() && s.chat.current.is_none());
    s.connecting(0.0);
    s.opened(0.0);
    let auth = &sent(&s.drain())[0];
    assert_eq!(
        (auth["visitor_token"].clone(), auth["cursor"].clone()),
        (json!("other"), json!(null))
    );
}

#[test]
fn identity_frames_wait_for_the_connection_and_survive_a_drop() {
    let mut s = Session::new("web".into(), None, false);
    s.identify(VisitorFrame::SetCustomAttributes {
        custom_attributes: serde_json::Map::new(),
    });
    assert!(s.drain().is_empty());
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.received(&welcome("v", false, json!([]), json!(null), false), 0.0);
    assert_eq!(types(&s.drain()), ["auth", "set_custom_attributes"]);
    s.closed(1006, 0.0);
    s.connecting(0.0);
    s.received(&welcome("v", false, json!([]), json!(null), false), 0.0);
    assert_eq!(
        types(&s.drain()),
        ["set_custom_attributes"],
        "unanswered: sent again"
    );
}

#[test]
fn reset_forgets_the_visitor() {
    let mut s = live(json!([conv_json(42)]));
    s.send_message("x", "e1".into(), 0.0);
    s.drain();
    s.reset();
    assert_eq!(
        s.drain(),
        vec![Effect::SaveToken(None), Effect::Connect { delay_ms: 0 }]
    );
    assert!(s.chat.items.is_empty());
    s.connecting(0.0);
    s.opened(0.0);
    assert_eq!(sent(&s.drain())[0]["visitor_token"], json!(null));
}

#[test]
fn opening_the_window_while_live_tells_the_server_once() {
    let mut s = super::fixtures::live(serde_json::json!([]));
    s.set_open(true);
    s.set_open(true);
    let types = super::fixtures::types(&s.drain());
    assert_eq!(types, vec!["triggered"]);
    s.set_open(false);
    assert!(super::fixtures::types(&s.drain()).is_empty());
}

#[test]
fn a_new_visitor_keeps_the_token_its_first_write_brings() {
    let mut s = Session::new("web".into(), None, false);
    s.start();
    s.connecting(0.0);
    s.opened(0.0);
    s.drain();
    s.received(&newcomer_welcome(true), 0.0);
    let effects = s.drain();
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::SaveToken(_))),
        "nothing to keep yet"
    );
    assert!(s.prechat_due(), "a new visitor has given no e-mail");
    s.received(&identity("first", false), 0.0);
    assert!(s.drain().contains(&Effect::SaveToken(Some("first".into()))));
    // Proving who they are gives the visitor a new token, same contact.
    s.received(&identity("proved", true), 0.0);
    let effects = s.drain();
    assert!(effects.contains(&Effect::SaveToken(Some("proved".into()))));
    assert!(!effects.contains(&Effect::Connect { delay_ms: 0 }));
}

#[test]
fn a_revoked_token_comes_back_as_a_new_visitor_with_the_signed_identity() {
    let mut s = live(json!([conv_json(42)]));
    s.identify(VisitorFrame::SetUser {
        identifier: Some("u-1".into()),
        identifier_hash: Some("ab".into()),
        name: None,
        email: None,
        phone_number: None,
        avatar_url: None,
    });
    s.received(&identity("vis", true), 0.0);
    s.drain();
    s.closed(switchboard_protocol::realtime::close::REVOKED, 0.0);
    let effects = s.drain();
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::SaveToken(_))),
        "the page's storage holds the proving tab's token: left alone"
    );
    assert_eq!(effects.last(), Some(&Effect::Connect { delay_ms: 0 }));
    assert!(s.chat.current.is_none());
    s.connecting(0.0);
    s.opened(0.0);
    let auth = sent(&s.drain());
    assert_eq!(auth[0]["visitor_token"], json!(null));
    s.received(&newcomer_welcome(false), 0.0);
    let again = sent(&s.drain());
    assert_eq!(again[0]["type"], "set_user");
    assert_eq!(again[0]["identifier_hash"], "ab");
}
