//! What clients do that a strict reading would get wrong: trailing slashes
//! (Chatwoot's own OpenAPI file names `.../inboxes/{id}/`, and Rails answers
//! both forms), and retrying the request that opens a conversation.

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::{Db, Env};
use crate::widget::website;
use crate::ws::Ws;

both_databases!(
    trailing_slashes_are_accepted,
    a_retried_start_opens_one_conversation,
    fields_not_computed_are_left_out
);

async fn trailing_slashes_are_accepted(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let inbox = env.web_inbox("Website").await;
    let shown = env.path(&format!("/inboxes/{inbox}"));
    let (status, plain) = app.get(&shown, t).await;
    assert_eq!(status, 200);
    let (status, slashed) = app.get(&format!("{shown}/"), t).await;
    assert_eq!(status, 200, "{slashed}");
    assert_eq!(slashed, plain);

    let (status, list) = app.get(&env.path("/inboxes/"), t).await;
    assert_eq!(status, 200, "{list}");
    let (status, contact) = app
        .post(&env.path("/contacts/"), t, json!({"name": "Joana"}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let (status, renamed) = app
        .patch(&format!("{shown}/"), t, json!({"name": "Site"}))
        .await;
    assert_eq!((status, renamed["name"].clone()), (200, json!("Site")));
    let (status, _) = app
        .call(Method::GET, "/api/v1/profile/", Some(t), None)
        .await;
    assert_eq!(status, 200);
    // Unknown paths stay unknown, slash or not.
    let (status, _) = app.get(&env.path("/nothing/"), t).await;
    assert_eq!(status, 404);
}

async fn a_retried_start_opens_one_conversation(db: Db) {
    let env = Env::start(db).await;
    let (inbox, website_token, _) = website(&env).await;
    let (mut agent, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;

    // The widget's first message, sent again after a lost `ack`.
    let (mut visitor, _) = Ws::visitor(&env.app, &website_token, None).await;
    let start = json!({"type": "start_conversation", "content": "hi", "echo_id": "s-1"});
    visitor.send(start.clone()).await;
    let first = visitor.event("ack").await["data"].clone();
    visitor.send(start).await;
    let again = visitor.event("ack").await["data"].clone();
    assert_eq!(again, first, "the same conversation and message");

    // Agents heard of one conversation.
    agent.send(json!({"type": "ping"})).await;
    let frames = agent.until(|f| f["event"] == "pong").await;
    let created = frames
        .iter()
        .filter(|f| f["event"] == "conversation.created")
        .count();
    assert_eq!(created, 1, "{frames:?}");

    // A start without a first message is retried the same way.
    let empty = json!({"type": "start_conversation", "echo_id": "s-2"});
    visitor.send(empty.clone()).await;
    let second = visitor.event("ack").await["data"].clone();
    assert_ne!(second["conversation_id"], first["conversation_id"]);
    visitor.send(empty).await;
    assert_eq!(visitor.event("ack").await["data"], second);

    // The same over REST, with the first message's echo_id.
    let contact = crate::conversations::contact(&env, "Joana").await;
    let body = json!({"inbox_id": inbox, "contact_id": contact,
                      "message": {"content": "Olá", "echo_id": "r-1"}});
    let (status, opened) = env
        .app
        .post(&env.path("/conversations"), &env.admin_token, body.clone())
        .await;
    assert_eq!(status, 200, "{opened}");
    let (status, retried) = env
        .app
        .post(&env.path("/conversations"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["id"], opened["id"]);
    let (_, meta) = env
        .app
        .get(&env.path("/conversations/meta"), &env.admin_token)
        .await;
    assert_eq!(meta["meta"]["all_count"], 3, "{meta}");
    let (_, messages) = env
        .app
        .get(
            &env.path(&format!("/conversations/{}/messages", opened["id"])),
            &env.admin_token,
        )
        .await;
    let texts = messages["payload"].to_string();
    assert_eq!(texts.matches("Olá").count(), 1, "{texts}");
}

/// Chatwoot's fields switchboard does not compute yet are absent, not
/// constants that would mislead (an `unread_count` of 0 over unread
/// messages, a contact always `offline`); those true of every conversation
/// stay.
async fn fields_not_computed_are_left_out(db: Db) {
    let env = Env::start(db).await;
    let inbox = env.web_inbox("Website").await;
    let contact = crate::conversations::contact(&env, "Joana").await;
    let opened = crate::conversations::open(&env, inbox, contact, json!({})).await;
    let (_, shown) = env
        .app
        .get(
            &env.path(&format!("/conversations/{}", opened["id"])),
            &env.admin_token,
        )
        .await;
    assert!(shown.get("unread_count").is_none(), "{shown}");
    // No muting, labels or priorities exist: these are true as they are.
    assert_eq!(
        (&shown["muted"], &shown["labels"], &shown["priority"]),
        (&json!(false), &json!([]), &json!(null))
    );
    assert_eq!(shown["can_reply"], true);
    assert_eq!(shown["meta"]["hmac_verified"], false, "computed: no widget");
    assert!(shown["meta"]["sender"].get("availability_status").is_none());
    let (_, page) = env
        .app
        .get(
            &env.path(&format!("/conversations/{}/messages", opened["id"])),
            &env.admin_token,
        )
        .await;
    assert_eq!(page["meta"]["labels"], json!([]), "{page}");
}
