//! Realtime over real sockets: agents see conversations, assignments and
//! messages as they happen; visitors see their own conversation's public
//! events and nothing else; slow consumers are cut without slowing anyone;
//! a resumed connection gets every missed event exactly once.

use serde_json::{json, Value};
use switchboard_server::Settings;

use crate::both_databases;
use crate::common::{Db, Env};
use crate::ws::{Closed, Ws};

both_databases!(
    agents_see_changes_live,
    visitors_see_replies_never_notes,
    visitors_reach_only_their_own,
    slow_consumer_is_cut_and_resumes,
    resume_yields_missed_events_once,
    queue_position_counts_down,
    bad_credentials_and_frames_get_clear_errors,
    console_connections_decide_presence,
);

/// A website inbox with automatic assignment (`config`); returns (id, website_token).
async fn website(env: &Env, config: Value) -> (i64, String) {
    let body = json!({"name": "Website", "channel": {"type": "web_widget", "website_url": "https://acme.test"},
        "enable_auto_assignment": true, "auto_assignment_config": config});
    let (status, inbox) = env
        .app
        .post(&env.path("/inboxes"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{inbox}");
    let token = inbox["website_token"].as_str().expect("website_token");
    (inbox["id"].as_i64().expect("id"), token.to_string())
}

async fn collaborators(env: &Env, inbox: i64, agents: &[i64]) {
    let body = json!({"inbox_id": inbox, "user_ids": agents});
    let (status, out) = env
        .app
        .post(&env.path("/inbox_members"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{out}");
}

/// An agent who needs an open console to count as present.
async fn console_agent(env: &Env, name: &str) -> (i64, String) {
    let email = format!("{}@acme.test", name.to_lowercase());
    env.agent(name, &email, "agent").await
}

async fn reply(env: &Env, token: &str, conversation: i64, body: Value) -> Value {
    let path = env.path(&format!("/conversations/{conversation}/messages"));
    let (status, message) = env.app.post(&path, token, body).await;
    assert_eq!(status, 200, "{message}");
    message
}

fn is_event(frame: &Value, name: &str) -> bool {
    frame["event"] == name
}

async fn agents_see_changes_live(db: Db) {
    let env = Env::start(db).await;
    let (bruno, bruno_token) = console_agent(&env, "Bruno").await;
    let (inbox, website_token) = website(&env, json!({"max_assignment_limit": 5})).await;
    collaborators(&env, inbox, &[bruno]).await;

    // Without a console Bruno is away: a conversation waits.
    let (mut visitor, _) = Ws::visitor(&env.app, &website_token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi!", "echo_id": "v1"}))
        .await;
    let ack = visitor.event("ack").await;
    let waiting = ack["data"]["conversation_id"].as_i64().expect("id");
    let (_, shown) = env
        .app
        .get(
            &env.path(&format!("/conversations/{waiting}")),
            &env.admin_token,
        )
        .await;
    assert!(shown["assignee_id"].is_null(), "{shown}");

    // His console makes him present; the next conversation is his, and he
    // hears of it with its assignee.
    let (mut console, welcome) = Ws::agent(&env.app, &bruno_token, env.account_id, None).await;
    assert_eq!(welcome["data"]["user_id"], bruno);
    assert_eq!(welcome["data"]["resumed"], false);
    let (mut second, _) = Ws::visitor(&env.app, &website_token, None).await;
    second
        .send(json!({"type": "start_conversation", "content": "Hello", "echo_id": "v2"}))
        .await;
    let id = second.event("ack").await["data"]["conversation_id"].clone();
    let created = console
        .until(|f| is_event(f, "conversation.created") && f["data"]["id"] == id)
        .await;
    let created = created.last().expect("created");
    assert_eq!(created["data"]["assignee_id"], bruno);
    assert_eq!(created["data"]["meta"]["assignee"]["name"], "Bruno");
    let assigned = console.event("assignee.changed").await;
    assert_eq!(assigned["data"]["id"], id);
    assert!(assigned["cursor"].as_u64() > created["cursor"].as_u64());
    let first = console.event("message.created").await;
    assert_eq!(first["data"]["content"], "Hello");

    // REST changes produce the same events as everything else.
    let path = env.path(&format!("/conversations/{id}/toggle_status"));
    env.app
        .post(&path, &env.admin_token, json!({"status": "resolved"}))
        .await;
    let status = console.event("conversation.status_changed").await;
    assert_eq!(status["data"]["status"], "resolved");
    let id = id.as_i64().expect("id");
    reply(
        &env,
        &env.admin_token,
        id,
        json!({"content": "Note", "private": true}),
    )
    .await;
    let seen = console
        .until(|f| is_event(f, "message.created") && f["data"]["content"] == "Note")
        .await;
    assert_eq!(
        seen.last().expect("note")["data"]["private"],
        true,
        "agents see private notes"
    );

    // Typing from the visitor reaches the console.
    second
        .send(json!({"type": "typing_on", "conversation_id": id}))
        .await;
    let typing = console.event("conversation.typing_on").await;
    assert_eq!(typing["data"]["sender_type"], "contact");
    console.close().await;
    env.app.stop().await;
}

async fn visitors_see_replies_never_notes(db: Db) {
    let env = Env::start(db).await;
    let (ana_id, ana) = (env.admin_id, env.admin_token.clone());
    let (inbox, website_token) = website(&env, json!({})).await;
    collaborators(&env, inbox, &[ana_id]).await;
    let display = json!({"display_name": "Ana S."});
    env.app.patch("/api/v1/profile", &ana, display).await;

    let (mut visitor, welcome) = Ws::visitor(&env.app, &website_token, None).await;
    assert!(
        welcome["data"].get("visitor_token").is_none(),
        "a page view is nobody yet: {welcome}"
    );
    assert_eq!(welcome["data"]["inbox"]["id"], inbox);
    visitor
        .send(
            json!({"type": "start_conversation", "content": "Preciso de ajuda", "echo_id": "e-1"}),
        )
        .await;
    // Writing makes the visitor a contact: their token comes first.
    let identity = visitor.event("identity").await;
    let token = identity["data"]["visitor_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert!(token.len() >= 32, "visitor tokens are unguessable");
    assert_eq!(identity["data"]["switched"], false);
    let ack = visitor.event("ack").await;
    assert_eq!(ack["data"]["echo_id"], "e-1");
    let id = ack["data"]["conversation_id"].as_i64().expect("id");
    let stored = ack["data"]["message_id"].as_i64().expect("message id");
    let (_, history) = env
        .app
        .get(&env.path(&format!("/conversations/{id}/messages")), &ana)
        .await;
    let ids: Vec<i64> = history["payload"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["id"].as_i64())
        .collect();
    assert!(ids.contains(&stored), "acked means stored: {history}");

    // A retry with the same echo id is the same message.
    visitor
        .send(
            json!({"type": "message", "conversation_id": id, "content": "again", "echo_id": "e-2"}),
        )
        .await;
    let first = visitor.event("ack").await["data"]["message_id"].clone();
    visitor
        .send(
            json!({"type": "message", "conversation_id": id, "content": "again", "echo_id": "e-2"}),
        )
        .await;
    assert_eq!(visitor.event("ack").await["data"]["message_id"], first);

    reply(
        &env,
        &ana,
        id,
        json!({"content": "Only for the team", "private": true}),
    )
    .await;
    reply(
        &env,
        &ana,
        id,
        json!({"content": "Olá! Como posso ajudar?"}),
    )
    .await;
    let seen = visitor
        .until(|f| is_event(f, "message.created") && f["data"]["message_type"] == 1)
        .await;
    let answer = seen.last().expect("reply");
    assert_eq!(answer["data"]["content"], "Olá! Como posso ajudar?");
    assert_eq!(answer["data"]["sender"]["available_name"], "Ana S.");
    assert_eq!(
        answer["data"]["sender"]["name"], "Ana S.",
        "visitors know agents by their display name only"
    );
    for frame in &seen {
        assert_ne!(
            frame["data"]["private"], true,
            "a private note reached the visitor: {frame}"
        );
        assert_ne!(
            frame["data"]["message_type"], 2,
            "activity lines are for the team: {frame}"
        );
        assert!(frame["data"]["sender"]["email"].is_null());
        assert!(
            !frame.to_string().contains("Ana Admin"),
            "the agent's full name reached the visitor: {frame}"
        );
    }
    visitor
        .send(json!({"type": "history", "conversation_id": id}))
        .await;
    let page = visitor.event("history").await;
    assert!(page["data"]["messages"]
        .as_array()
        .is_some_and(|m| m.len() >= 2));
    assert!(
        !page.to_string().contains("Ana Admin"),
        "the agent's full name is in the history: {page}"
    );

    // The same visitor token, later: the same conversation, resumed.
    visitor.close().await;
    let (_, again) = Ws::visitor(&env.app, &website_token, Some(&token)).await;
    assert_eq!(again["data"]["conversations"][0]["id"], id);
    env.app.stop().await;
}

async fn visitors_reach_only_their_own(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token) = website(&env, json!({})).await;
    let (mut a, _) = Ws::visitor(&env.app, &website_token, None).await;
    let (mut b, _) = Ws::visitor(&env.app, &website_token, None).await;
    a.send(json!({"type": "start_conversation", "content": "A here"}))
        .await;
    let a_id = a.event("ack").await["data"]["conversation_id"].clone();
    b.send(json!({"type": "start_conversation", "content": "B's secret"}))
        .await;
    let b_id = b.event("ack").await["data"]["conversation_id"].clone();

    a.send(json!({"type": "subscribe", "conversation_id": b_id}))
        .await;
    let refused = a.event("error").await;
    assert_eq!(refused["data"]["error"], "not_found");
    a.send(json!({"type": "message", "conversation_id": b_id, "content": "hi B"}))
        .await;
    assert_eq!(a.event("error").await["data"]["error"], "not_found");
    a.send(json!({"type": "typing_on", "conversation_id": b_id}))
        .await;
    assert_eq!(a.event("error").await["data"]["error"], "not_found");
    a.send(json!({"type": "subscribe", "conversation_id": a_id}))
        .await;
    assert_eq!(a.event("ack").await["data"]["conversation_id"], a_id);

    // B writes again; A then writes: A's frames up to its own message hold
    // nothing of B's.
    b.send(json!({"type": "message", "conversation_id": b_id, "content": "more secrets"}))
        .await;
    b.event("ack").await;
    a.send(json!({"type": "message", "conversation_id": a_id, "content": "mine"}))
        .await;
    let seen = a
        .until(|f| is_event(f, "message.created") && f["data"]["content"] == "mine")
        .await;
    for frame in &seen {
        let text = frame.to_string();
        assert!(!text.contains("secret"), "A saw B's message: {text}");
        if let Some(c) = frame["data"]["conversation_id"].as_i64() {
            assert_eq!(json!(c), a_id, "{frame}");
        }
    }
    env.app.stop().await;
}

/// Posts `n` messages of `size` characters to the conversation; their ids.
async fn burst(env: &Env, id: i64, n: usize, size: usize) -> Vec<i64> {
    let text = "x".repeat(size);
    let mut ids = Vec::new();
    for i in 0..n {
        let m = reply(
            env,
            &env.admin_token,
            id,
            json!({"content": format!("{i} {text}")}),
        )
        .await;
        ids.push(m["id"].as_i64().expect("id"));
    }
    ids
}

/// The ids of `message.created` events among `frames`.
fn message_ids(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| is_event(f, "message.created"))
        .filter_map(|f| f["data"]["id"].as_i64())
        .collect()
}

async fn open_conversation(env: &Env, inbox: i64) -> i64 {
    let contact = crate::conversations::contact(env, "Joana").await;
    let made = crate::conversations::open(env, inbox, contact, json!({})).await;
    made["id"].as_i64().expect("id")
}

async fn slow_consumer_is_cut_and_resumes(db: Db) {
    let mut settings = Settings::new("https://switchboard.test");
    settings.ws_outbound_queue = 128;
    // Room to replay all 800 messages of 16 KiB: this test is about
    // resuming, not about the replay window's byte budget.
    settings.replay.bytes = 64 * 1024 * 1024;
    let env = Env::start_with(db, settings).await;
    let (inbox, _) = website(&env, json!({})).await;
    let id = open_conversation(&env, inbox).await;

    let (mut fast, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    let mut slow = Ws::connect_small(&env.app, "/ws/agent").await;
    slow.send(
        json!({"type": "auth", "access_token": env.admin_token, "account_id": env.account_id}),
    )
    .await;
    // The slow client reads its welcome, then nothing while 800 large
    // messages go out.
    slow.event("welcome").await;
    let reader = tokio::spawn(async move {
        fast.until(|f| {
            f["data"]["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("799 "))
        })
        .await
    });
    let sent = burst(&env, id, 800, 16 * 1024).await;
    let seen = reader.await.expect("fast reader");
    assert_eq!(
        message_ids(&seen),
        sent,
        "the fast client got everything, in order"
    );

    // The slow one gets what was queued for it, then the documented close.
    let mut received = Vec::new();
    let code = loop {
        match slow.next().await {
            Ok(frame) => received.push(frame),
            Err(closed) => break closed,
        }
    };
    assert_eq!(code, Closed::Code(4008));
    let got = message_ids(&received);
    assert!(got.len() < sent.len(), "it was cut before the end");
    let last = slow.cursor.expect("the slow client saw some events");

    // Resuming from its last cursor completes the sequence exactly.
    let (mut resumed, welcome) =
        Ws::agent(&env.app, &env.admin_token, env.account_id, Some(last)).await;
    assert_eq!(welcome["data"]["resumed"], true, "{welcome}");
    let rest = resumed
        .until(|f| f["data"]["id"].as_i64() == sent.last().copied())
        .await;
    let mut all = got.clone();
    all.extend(message_ids(&rest));
    assert_eq!(all, sent, "no gap and no duplicate across the cut");
    env.app.stop().await;
}

async fn resume_yields_missed_events_once(db: Db) {
    let env = Env::start(db).await;
    let (inbox, _) = website(&env, json!({})).await;
    let id = open_conversation(&env, inbox).await;
    let (mut console, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    let before = burst(&env, id, 3, 10).await;
    let seen = console
        .until(|f| f["data"]["id"].as_i64() == before.last().copied())
        .await;
    assert_eq!(message_ids(&seen), before);
    let cursor = console.cursor.expect("cursor");
    drop(console);

    let missed = burst(&env, id, 5, 10).await;
    let path = env.path(&format!("/conversations/{id}/toggle_status"));
    env.app
        .post(&path, &env.admin_token, json!({"status": "resolved"}))
        .await;
    let (mut back, welcome) =
        Ws::agent(&env.app, &env.admin_token, env.account_id, Some(cursor)).await;
    assert_eq!(welcome["data"]["resumed"], true);
    let replay = back
        .until(|f| is_event(f, "conversation.status_changed"))
        .await;
    assert_eq!(
        message_ids(&replay),
        missed,
        "exactly the missed messages, in order"
    );
    let cursors: Vec<u64> = replay.iter().filter_map(|f| f["cursor"].as_u64()).collect();
    assert!(cursors.iter().all(|c| *c > cursor));
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors only grow: {cursors:?}"
    );
    // And live events follow without a seam.
    let live = burst(&env, id, 1, 10).await;
    let rest = back
        .until(|f| f["data"]["id"].as_i64() == Some(live[0]))
        .await;
    let events: Vec<&Value> = rest
        .iter()
        .filter(|f| f["event"] != "presence.update")
        .collect();
    assert_eq!(
        events.len(),
        2,
        "only the resolve's activity line before it: {rest:?}"
    );
    assert_eq!(events[0]["data"]["message_type"], 2);

    // A cursor the server no longer has (or never had) asks for a reload.
    let (mut stale, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, Some(1)).await;
    stale.event("resync").await;

    // Shutting down says "going away" to every socket.
    let Env { app, db, .. } = env;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(back.closed().await, Closed::Code(1001));
    assert_eq!(stale.closed().await, Closed::Code(1001));
    stopping.await.expect("stopped");
    drop(db);
}

async fn queue_position_counts_down(db: Db) {
    let env = Env::start(db).await;
    let body =
        json!({"name": "Solo", "email": "solo@acme.test", "role": "agent", "auto_offline": false});
    let (_, agent) = env
        .app
        .post(&env.path("/agents"), &env.admin_token, body)
        .await;
    let solo = agent["id"].as_i64().expect("id");
    let config = json!({"max_assignment_limit": 1, "assign_from_queue": true});
    let (inbox, website_token) = website(&env, config).await;
    collaborators(&env, inbox, &[solo]).await;

    let mut visitors = Vec::new();
    let mut ids = Vec::new();
    for i in 0..3 {
        let (mut v, _) = Ws::visitor(&env.app, &website_token, None).await;
        v.send(json!({"type": "start_conversation", "content": format!("visitor {i}")}))
            .await;
        ids.push(v.event("ack").await["data"]["conversation_id"].clone());
        visitors.push(v);
    }
    // The first went to Solo; the second and third wait, first and second in line.
    let third = visitors[2].event("conversation.created").await;
    assert!(third["data"]["assignee"].is_null());
    let position = |frames: &[Value], id: &Value| {
        frames
            .iter()
            .rev()
            .find(|f| is_event(f, "queue.position") && f["data"]["conversation_id"] == *id)
            .map(|f| f["data"]["position"].clone())
    };
    let seen = visitors[2]
        .until(|f| is_event(f, "queue.position") && f["data"]["position"] == 2)
        .await;
    assert_eq!(position(&seen, &ids[2]), Some(json!(2)));

    // Solo resolves the first: the second is pulled, the third moves up.
    let path = env.path(&format!("/conversations/{}/toggle_status", ids[0]));
    env.app
        .post(&path, &env.admin_token, json!({"status": "resolved"}))
        .await;
    let seen = visitors[1].until(|f| is_event(f, "assignee.changed")).await;
    assert_eq!(
        seen.last().expect("assigned")["data"]["assignee"]["available_name"],
        "Solo"
    );
    let seen = visitors[2]
        .until(|f| is_event(f, "queue.position") && f["data"]["position"] == 1)
        .await;
    assert_eq!(position(&seen, &ids[2]), Some(json!(1)));
    env.app.stop().await;
}

async fn bad_credentials_and_frames_get_clear_errors(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token) = website(&env, json!({})).await;

    // A bad token in the first frame: an error frame, then 4001.
    let mut ws = Ws::connect(&env.app, "/ws/agent").await;
    ws.send(json!({"type": "auth", "access_token": "nope", "account_id": env.account_id}))
        .await;
    let refused = ws.frame().await;
    assert_eq!(refused["event"], "error");
    assert_eq!(refused["data"]["error"], "unauthorized");
    assert_eq!(ws.closed().await, Closed::Code(4001));

    // Another account's id is refused like a bad token.
    let mut ws = Ws::connect(&env.app, "/ws/agent").await;
    ws.send(json!({"type": "auth", "access_token": env.admin_token, "account_id": env.account_id + 1000}))
        .await;
    assert_eq!(ws.frame().await["data"]["error"], "not_found");
    assert_eq!(ws.closed().await, Closed::Code(4001));

    // In a header: refused before the upgrade, as JSON.
    let path = format!("/ws/agent?account_id={}", env.account_id);
    let refused = Ws::connect_with(&env.app, &path, &[("api_access_token", "nope")]).await;
    assert_eq!(refused.err(), Some(401));
    let ok = Ws::connect_with(
        &env.app,
        &path,
        &[("api_access_token", env.admin_token.as_str())],
    )
    .await;
    let mut ws = ok.expect("a good header token connects");
    assert_eq!(
        ws.event("welcome").await["data"]["account_id"],
        env.account_id
    );

    // Bad frames: each gets an error frame and changes nothing.
    ws.send_text("not json").await;
    assert_eq!(ws.event("error").await["data"]["error"], "invalid_frame");
    ws.send(json!({"type": "shout"})).await;
    assert_eq!(ws.event("error").await["data"]["error"], "invalid_frame");
    ws.send(json!({"type": "typing_on", "conversation_id": 999_999}))
        .await;
    assert_eq!(ws.event("error").await["data"]["error"], "not_found");
    // Repeated abuse closes the socket.
    for _ in 0..40 {
        if !ws.try_send_text("{").await {
            break;
        }
    }
    let code = Some(ws.closed().await);
    assert_eq!(code, Some(Closed::Code(1008)));

    // Too fast: an error frame names the limit.
    let (mut ws, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    for _ in 0..60 {
        ws.send(json!({"type": "ping"})).await;
    }
    let limited = ws.event("error").await;
    assert_eq!(limited["data"]["error"], "rate_limited");

    // Visitors: an unknown website token or visitor token, or a foreign site.
    let (mut v, _) = (Ws::connect(&env.app, "/ws/widget").await, ());
    v.send(json!({"type": "auth", "website_token": "nope"}))
        .await;
    assert_eq!(v.frame().await["data"]["error"], "not_found");
    assert_eq!(v.closed().await, Closed::Code(4001));
    let mut v = Ws::connect(&env.app, "/ws/widget").await;
    v.send(json!({"type": "auth", "website_token": website_token, "visitor_token": "guess"}))
        .await;
    assert_eq!(v.frame().await["data"]["error"], "not_found");
    let foreign =
        Ws::connect_with(&env.app, "/ws/widget", &[("origin", "https://evil.test")]).await;
    let mut v = foreign.expect("upgrade");
    v.send(json!({"type": "auth", "website_token": website_token}))
        .await;
    assert_eq!(v.frame().await["data"]["error"], "origin_not_allowed");
    let home = Ws::connect_with(&env.app, "/ws/widget", &[("origin", "https://acme.test")]).await;
    let mut v = home.expect("upgrade");
    v.send(json!({"type": "auth", "website_token": website_token}))
        .await;
    v.event("welcome").await;
    // A frame that is not the visitor's kind.
    v.send(json!({"type": "read", "conversation_id": 1})).await;
    assert_eq!(v.event("error").await["data"]["error"], "invalid_frame");
    env.app.stop().await;
}

async fn console_connections_decide_presence(db: Db) {
    let env = Env::start(db).await;
    let (bruno, bruno_token) = console_agent(&env, "Bruno").await;
    let config = json!({"on_agent_offline": "requeue", "offline_grace_seconds": 1});
    let (inbox, website_token) = website(&env, config).await;
    collaborators(&env, inbox, &[bruno]).await;
    let (mut watcher, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    let (mut visitor, welcome) = Ws::visitor(&env.app, &website_token, None).await;
    assert_eq!(welcome["data"]["agents_online"], false);

    let (console, _) = Ws::agent(&env.app, &bruno_token, env.account_id, None).await;
    watcher
        .until(|f| {
            is_event(f, "presence.update") && f["data"]["users"][bruno.to_string()] == "online"
        })
        .await;
    visitor
        .until(|f| is_event(f, "presence.update") && f["data"]["agents_online"] == true)
        .await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi"}))
        .await;
    let id = visitor.event("ack").await["data"]["conversation_id"].clone();
    let assigned = visitor.event("assignee.changed").await;
    assert_eq!(assigned["data"]["assignee"]["id"], bruno);

    // He closes his last console: offline at once, and after the grace
    // period his conversation returns to the queue.
    console.close().await;
    watcher
        .until(|f| {
            is_event(f, "presence.update") && f["data"]["users"][bruno.to_string()] == "offline"
        })
        .await;
    let back = watcher
        .until(|f| is_event(f, "assignee.changed") && f["data"]["id"] == id)
        .await;
    assert!(back.last().expect("requeued")["data"]["assignee_id"].is_null());
    env.app.stop().await;
}
