//! Messages: history pages, private notes, echo ids, incoming messages on API
//! inboxes, deletion, and bad input that changes nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{ids, Db, Env};
use crate::conversations::{contact, open};

both_databases!(history_notes_and_echo_ids, incoming_deleted_and_bad_input);

async fn history_notes_and_echo_ids(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let web = env.web_inbox("Website").await;
    let visitor = contact(&env, "Visitor").await;
    let id = open(&env, web, visitor, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let messages = env.path(&format!("/conversations/{id}/messages"));

    let mut sent = Vec::new();
    for n in 0..25 {
        let (status, m) = app
            .post(
                &messages,
                t,
                json!({"content": format!("reply {n}"), "echo_id": format!("e-{n}")}),
            )
            .await;
        assert_eq!(status, 200, "{m}");
        assert_eq!(m["message_type"], 1);
        assert_eq!(m["sender"]["type"], "user");
        assert_eq!(m["echo_id"], format!("e-{n}"));
        sent.push(m["id"].as_i64().expect("id"));
    }
    // A retry with the same echo id answers with the first message.
    let (status, again) = app
        .post(
            &messages,
            t,
            json!({"content": "reply 3 (retried)", "echo_id": "e-3"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], sent[3]);
    assert_eq!(again["content"], "reply 3");

    let (_, note) = app
        .post(
            &messages,
            t,
            json!({"content": "VIP customer", "private": true}),
        )
        .await;
    assert_eq!(note["private"], true);

    // The latest 20, oldest first; `before` pages back.
    let (_, page) = app.get(&messages, t).await;
    let page_ids = ids(&page["payload"]);
    assert_eq!(page_ids.len(), 20);
    assert!(page_ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(page_ids.last(), note["id"].as_i64().as_ref());
    let (_, older) = app
        .get(&format!("{messages}?before={}", page_ids[0]), t)
        .await;
    let older_ids = ids(&older["payload"]);
    let mut all: Vec<i64> = older_ids.iter().chain(&page_ids).copied().collect();
    all.dedup();
    assert_eq!(all.len(), 26, "25 replies and a note, no duplicate");
    assert_eq!(page["meta"]["contact"]["name"], "Visitor");

    // The conversation list previews the newest message.
    let (_, list) = app.get(&env.path("/conversations"), t).await;
    assert_eq!(
        list["data"]["payload"][0]["last_non_activity_message"]["content"],
        "VIP customer"
    );
}

async fn incoming_deleted_and_bad_input(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let web = env.web_inbox("Website").await;
    let (_, api) = app
        .post(
            &env.path("/inboxes"),
            t,
            json!({"name": "API", "channel": {"type": "api"}}),
        )
        .await;
    let api = api["id"].as_i64().expect("id");
    let visitor = contact(&env, "Visitor").await;
    let web_conversation = open(&env, web, visitor, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let api_conversation = open(&env, api, visitor, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let on_web = env.path(&format!("/conversations/{web_conversation}/messages"));
    let on_api = env.path(&format!("/conversations/{api_conversation}/messages"));

    // Incoming messages: API inboxes only; they reopen a resolved conversation.
    let (status, _) = app
        .post(
            &on_web,
            t,
            json!({"content": "hi", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(status, 422);
    let toggle = env.path(&format!("/conversations/{api_conversation}/toggle_status"));
    app.post(&toggle, t, json!({"status": "resolved"})).await;
    let (status, incoming) = app
        .post(
            &on_api,
            t,
            json!({"content": "hello?", "message_type": "incoming"}),
        )
        .await;
    assert_eq!(status, 200, "{incoming}");
    assert_eq!(incoming["message_type"], 0);
    assert_eq!(incoming["sender"]["type"], "contact");
    assert_eq!(incoming["sender"]["name"], "Visitor");
    let (_, c) = app
        .get(&env.path(&format!("/conversations/{api_conversation}")), t)
        .await;
    assert_eq!(c["status"], "open");

    // Deleting keeps the message's place and drops its content.
    let (_, reply) = app.post(&on_web, t, json!({"content": "a typo"})).await;
    let reply_id = reply["id"].as_i64().expect("id");
    let (status, deleted) = app.delete(&format!("{on_web}/{reply_id}"), t, None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["content"], "This message was deleted");
    assert_eq!(deleted["content_attributes"]["deleted"], true);
    let (_, history) = app.get(&on_web, t).await;
    assert_eq!(history["payload"][0]["content"], "This message was deleted");

    let before: Value = app.get(&on_web, t).await.1;
    let long = "x".repeat(150_001);
    let cases = [
        (json!({}), 422),
        (json!({"content": "   "}), 422),
        (json!({"content": long}), 422),
        (json!({"content": 5}), 422),
        (json!({"content": "hi", "private": "yes"}), 422),
        (json!({"content": "hi", "message_type": "sideways"}), 422),
        (json!({"content": "hi", "echo_id": ""}), 422),
        (json!({"content": "hi", "content_attributes": []}), 422),
    ];
    for (body, expected) in cases {
        let (status, answer) = app.post(&on_web, t, body.clone()).await;
        assert_eq!(status, expected, "{body} -> {answer}");
    }
    // Blank and overlong text say why with the codes clients translate.
    for (body, code) in [
        (json!({"content": "   "}), "blank"),
        (json!({"content": "x".repeat(150_001)}), "too_long"),
    ] {
        let (_, answer) = app.post(&on_web, t, body).await;
        assert_eq!(answer["errors"][0]["field"], "content", "{answer}");
        assert_eq!(answer["errors"][0]["code"], code, "{answer}");
    }
    let json_type = Some("application/json");
    for bytes in [&b"{\"content\": "[..], &b"{\"content\": \"\xc3\x28\"}"[..]] {
        let (status, _) = app
            .raw(Method::POST, &on_web, Some(t), json_type, bytes.to_vec())
            .await;
        assert_eq!(status, 400);
    }
    let unknown = env.path("/conversations/999999/messages");
    let (status, _) = app.post(&unknown, t, json!({"content": "hi"})).await;
    assert_eq!(status, 404);
    let (status, _) = app.delete(&format!("{on_web}/999999"), t, None).await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&format!("{on_web}?before=abc"), t).await;
    assert_eq!(status, 400);
    // Another account cannot read or write here, even knowing the ids.
    let other = crate::common::new_account(&env.db, "Globex", "gus@globex.test").await;
    let theirs = format!(
        "/api/v1/accounts/{}/conversations/{web_conversation}/messages",
        other.account_id
    );
    let (status, _) = app
        .post(&theirs, &other.access_token, json!({"content": "hi"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&theirs, &other.access_token).await;
    assert_eq!(status, 404);
    let after: Value = app.get(&on_web, t).await.1;
    assert_eq!(after, before, "bad input changed the conversation");
}
