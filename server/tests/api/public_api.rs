//! The Public client API of an API inbox: a contact creates themselves,
//! opens conversations, writes and reads, and never sees private notes,
//! activity lines or anyone else's conversations.

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::{Db, Env};

both_databases!(a_contact_chats_through_the_public_api);

async fn a_contact_chats_through_the_public_api(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let (_, inbox) = app
        .post(
            &env.path("/inboxes"),
            t,
            json!({"name": "Bridge", "channel": {"type": "api"}}),
        )
        .await;
    let identifier = inbox["inbox_identifier"]
        .as_str()
        .expect("identifier")
        .to_string();
    let base = format!("/public/api/v1/inboxes/{identifier}");
    let public = |method: Method, path: String, body: Option<serde_json::Value>| {
        let path = format!("{base}{path}");
        async move { app.call(method, &path, None, body).await }
    };

    let (status, me) = public(
        Method::POST,
        "/contacts".into(),
        Some(json!({"name": "Joana", "email": "joana@x.test"})),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    let source = me["source_id"].as_str().expect("source_id").to_string();
    assert!(source.len() >= 32, "contact identifiers are unguessable");
    let (_, again) = public(Method::GET, format!("/contacts/{source}"), None).await;
    assert_eq!(again["name"], "Joana");
    let (_, renamed) = public(
        Method::PATCH,
        format!("/contacts/{source}"),
        Some(json!({"name": "Joana P."})),
    )
    .await;
    assert_eq!(renamed["name"], "Joana P.");

    let (status, conversation) = public(
        Method::POST,
        format!("/contacts/{source}/conversations"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{conversation}");
    let id = conversation["id"].as_i64().expect("id");
    let messages = format!("/contacts/{source}/conversations/{id}/messages");
    let (status, hello) = public(
        Method::POST,
        messages.clone(),
        Some(json!({"content": "Oi!", "echo_id": "m1"})),
    )
    .await;
    assert_eq!(status, 200, "{hello}");
    assert_eq!(hello["message_type"], 0);
    let (_, retry) = public(
        Method::POST,
        messages.clone(),
        Some(json!({"content": "Oi!", "echo_id": "m1"})),
    )
    .await;
    assert_eq!(retry["id"], hello["id"]);

    // The team answers, leaves a private note and assigns: the contact sees
    // the answer only.
    let agent_messages = env.path(&format!("/conversations/{id}/messages"));
    app.post(&agent_messages, t, json!({"content": "Olá, Joana"}))
        .await;
    app.post(
        &agent_messages,
        t,
        json!({"content": "secret note", "private": true}),
    )
    .await;
    let assign = env.path(&format!("/conversations/{id}/assignments"));
    let admin = env.admin_id;
    let body = json!({"inbox_id": inbox["id"], "user_ids": [admin]});
    app.post(&env.path("/inbox_members"), t, body).await;
    app.post(&assign, t, json!({"assignee_id": admin})).await;
    let (_, seen) = public(Method::GET, messages.clone(), None).await;
    let contents: Vec<&str> = seen
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, vec!["Oi!", "Olá, Joana"]);
    let (_, whole) = public(
        Method::GET,
        format!("/contacts/{source}/conversations/{id}"),
        None,
    )
    .await;
    assert!(!whole.to_string().contains("secret note"));
    let (_, list) = public(
        Method::GET,
        format!("/contacts/{source}/conversations"),
        None,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Naming Joana's e-mail does not make anyone Joana.
    let (status, _) = public(
        Method::POST,
        "/contacts".into(),
        Some(json!({"name": "Impostor", "email": "joana@x.test"})),
    )
    .await;
    assert_eq!(status, 409);

    // The contact resolves it.
    let (_, resolved) = public(
        Method::POST,
        format!("/contacts/{source}/conversations/{id}/toggle_status"),
        None,
    )
    .await;
    assert_eq!(resolved["status"], "resolved");

    // Another contact of the same inbox cannot reach Joana's conversation.
    let (_, other) = public(
        Method::POST,
        "/contacts".into(),
        Some(json!({"name": "Pedro"})),
    )
    .await;
    let other = other["source_id"].as_str().expect("source").to_string();
    for path in [
        format!("/contacts/{other}/conversations/{id}"),
        format!("/contacts/{other}/conversations/{id}/messages"),
    ] {
        let (status, _) = public(Method::GET, path.clone(), None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = public(
        Method::POST,
        format!("/contacts/{other}/conversations/{id}/messages"),
        Some(json!({"content": "hi"})),
    )
    .await;
    assert_eq!(status, 404);
    // Unknown identifiers and bad bodies.
    let (status, _) = app
        .call(
            Method::GET,
            "/public/api/v1/inboxes/nope/contacts/x",
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = public(Method::GET, "/contacts/not-a-contact".into(), None).await;
    assert_eq!(status, 404);
    let (status, _) = public(Method::POST, messages.clone(), Some(json!({"content": ""}))).await;
    assert_eq!(status, 422);
    let (status, _) = public(
        Method::POST,
        "/contacts".into(),
        Some(json!({"email": "bad"})),
    )
    .await;
    assert_eq!(status, 422);
    // A website inbox's token is not an API inbox identifier.
    let web = env.web_inbox("Website").await;
    let (_, web) = app.get(&env.path(&format!("/inboxes/{web}")), t).await;
    let token = web["website_token"].as_str().expect("token");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/public/api/v1/inboxes/{token}/contacts"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404);
}
