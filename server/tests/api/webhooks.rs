//! Account webhooks, API inbox callbacks and the durable outbox behind them,
//! against a local stand-in receiver.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use switchboard_server::Settings;

use crate::both_databases;
use crate::common::{settled_log, Db, Env};
use crate::standin::{Recorded, Reply, StandIn};

both_databases!(
    webhooks_are_managed_by_administrators_with_clear_errors,
    events_reach_webhooks_and_the_api_inbox_signed,
    a_receiver_that_fails_five_times_gets_exactly_one_success,
    pending_retries_are_delivered_after_a_restart,
    retry_after_gone_and_giving_up,
    the_example_bridge_receives_the_agents_reply,
    opening_the_widget_triggers_webwidget_triggered,
    the_first_message_after_a_restart_reaches_webhooks,
    a_slow_receiver_holds_up_only_its_own_deliveries,
);

/// Outbound calls to loopback allowed (the stand-in), and quick retries.
fn settings() -> Settings {
    crate::common::quick_outbox("https://switchboard.test")
}

/// The documented check: `sha256=` + hex HMAC-SHA256(secret, "{timestamp}.{body}").
fn verify(r: &Recorded, secret: &str) {
    let timestamp = r.header("x-chatwoot-timestamp");
    assert!(
        timestamp.parse::<i64>().is_ok(),
        "timestamp header: {timestamp:?}"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r.header("x-chatwoot-signature"), format!("sha256={hex}"));
}

fn events(requests: &[Recorded], path: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.path == path && r.answered == 200)
        .map(|r| r.json()["event"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn webhooks_are_managed_by_administrators_with_clear_errors(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let hooks = env.path("/webhooks");

    // Chatwoot's wrapped form; subscriptions default to every event.
    let (status, created) = app
        .post(
            &hooks,
            t,
            json!({"webhook": {"url": "https://crm.example.com/cw", "name": "CRM"}}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let hook = &created["payload"]["webhook"];
    assert_eq!(hook["url"], "https://crm.example.com/cw");
    assert_eq!(hook["name"], "CRM");
    assert_eq!(hook["subscriptions"].as_array().map(Vec::len), Some(8));
    let secret = hook["secret"].as_str().expect("secret");
    assert_eq!(secret.len(), 24);
    let id = hook["id"].as_i64().expect("id");

    // Top-level form, one inbox.
    let inbox = env.web_inbox("Site").await;
    let (status, second) = app
        .post(
            &hooks,
            t,
            json!({"url": "https://other.example.com/x", "subscriptions": ["message_created"], "inbox_id": inbox}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["payload"]["webhook"]["inbox"]["id"], inbox);

    let (_, list) = app.get(&hooks, t).await;
    assert_eq!(
        list["payload"]["webhooks"].as_array().map(Vec::len),
        Some(2)
    );

    // Bad input: 422 naming the field, nothing stored.
    for (body, field) in [
        (json!({"url": "ftp://x.example.com"}), "url"),
        (json!({"subscriptions": ["message_created"]}), "url"),
        (json!({"url": "http://127.0.0.1:5432/"}), "url"),
        (json!({"url": "http://169.254.169.254/latest"}), "url"),
        (json!({"url": "https://crm.example.com/cw"}), "url"),
        (
            json!({"url": "https://a.example.com", "subscriptions": []}),
            "subscriptions",
        ),
        (
            json!({"url": "https://a.example.com", "subscriptions": ["message_sent"]}),
            "subscriptions",
        ),
    ] {
        let (status, error) = app.post(&hooks, t, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {error}");
        assert!(
            error["message"].as_str().unwrap_or("").contains(field),
            "{error}"
        );
    }
    let (status, _) = app
        .post(
            &hooks,
            t,
            json!({"url": "https://a.example.com", "inbox_id": 999_999}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.get(&hooks, t).await;
    assert_eq!(
        list["payload"]["webhooks"].as_array().map(Vec::len),
        Some(2)
    );

    // Agents can neither list nor change webhooks (secrets inside).
    let (_, agent) = env.agent("Bia", "bia@acme.test", "agent").await;
    assert_eq!(app.get(&hooks, &agent).await.0, 403);
    let (status, _) = app
        .post(&hooks, &agent, json!({"url": "https://evil.example.com"}))
        .await;
    assert_eq!(status, 403);

    // Update keeps what is not named; the secret cannot be chosen.
    let one = env.path(&format!("/webhooks/{id}"));
    let (status, updated) = app
        .patch(
            &one,
            t,
            json!({"subscriptions": ["conversation_created"], "secret": "mine"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let w = &updated["payload"]["webhook"];
    assert_eq!(w["subscriptions"], json!(["conversation_created"]));
    assert_eq!(w["url"], "https://crm.example.com/cw");
    assert_eq!(w["secret"], secret);

    let (status, _) = app.delete(&one, t, None).await;
    assert_eq!(status, 200);
    assert_eq!(app.delete(&one, t, None).await.0, 404);
    assert_eq!(app.patch(&one, t, json!({"name": "x"})).await.0, 404);

    // Another account cannot see or touch them.
    let other = crate::common::new_account(&env.db, "Other", "olga@other.test").await;
    let foreign = format!("/api/v1/accounts/{}/webhooks", env.account_id);
    assert_eq!(app.get(&foreign, &other.access_token).await.0, 404);
}

async fn events_reach_webhooks_and_the_api_inbox_signed(db: Db) {
    let receiver = StandIn::start().await;
    let env = Env::start_with(db, settings()).await;
    let (app, t) = (&env.app, env.admin_token.as_str());

    let (_, created) = app
        .post(
            &env.path("/webhooks"),
            t,
            json!({"url": format!("{}/hook", receiver.url)}),
        )
        .await;
    let hook_secret = created["payload"]["webhook"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let (status, inbox) = app
        .post(
            &env.path("/inboxes"),
            t,
            json!({"name": "Bridge", "channel": {"type": "api", "webhook_url": format!("{}/bridge", receiver.url)}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox_secret = inbox["secret"]
        .as_str()
        .expect("API inbox secret for admins")
        .to_string();
    assert_ne!(inbox_secret, inbox["hmac_token"].as_str().unwrap_or(""));
    let (_, agent) = env.agent("Bia", "bia@acme.test", "agent").await;
    let (_, seen_by_agent) = app
        .get(&env.path(&format!("/inboxes/{}", inbox["id"])), &agent)
        .await;
    assert!(
        seen_by_agent.get("secret").is_none(),
        "agents never see the secret"
    );

    // A customer writes through the Public client API.
    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().expect("identifier")
    );
    let (_, me) = app
        .call(
            Method::POST,
            &format!("{base}/contacts"),
            None,
            Some(json!({"name": "Joana"})),
        )
        .await;
    let source = me["source_id"].as_str().expect("source").to_string();
    let (_, conversation) = app
        .call(
            Method::POST,
            &format!("{base}/contacts/{source}/conversations"),
            None,
            None,
        )
        .await;
    let id = conversation["id"].as_i64().expect("id");
    app.call(
        Method::POST,
        &format!("{base}/contacts/{source}/conversations/{id}/messages"),
        None,
        Some(json!({"content": "Oi!"})),
    )
    .await;
    // The team answers, notes privately, resolves.
    let messages = env.path(&format!("/conversations/{id}/messages"));
    app.post(&messages, t, json!({"content": "Olá, Joana"}))
        .await;
    app.post(
        &messages,
        t,
        json!({"content": "VIP customer", "private": true}),
    )
    .await;
    app.post(
        &env.path(&format!("/conversations/{id}/toggle_status")),
        t,
        json!({"status": "resolved"}),
    )
    .await;

    let seen = receiver
        .wait_until("every event", |r| {
            events(r, "/hook").len() >= 6 && events(r, "/bridge").len() >= 5
        })
        .await;
    let hook = events(&seen, "/hook");
    for event in [
        "conversation_created",
        "message_created",
        "conversation_status_changed",
        "conversation_updated",
    ] {
        assert!(
            hook.contains(&event.to_string()),
            "{event} missing from {hook:?}"
        );
    }
    // Incoming, outgoing and the private note: three message_created.
    assert_eq!(
        hook.iter().filter(|e| *e == "message_created").count(),
        3,
        "{hook:?}"
    );

    for r in seen.iter().filter(|r| r.path == "/hook") {
        verify(r, &hook_secret);
        assert_eq!(r.header("x-chatwoot-delivery").len(), 36);
    }
    for r in seen.iter().filter(|r| r.path == "/bridge") {
        verify(r, &inbox_secret);
        assert!(
            !String::from_utf8_lossy(&r.body).contains("VIP customer"),
            "private notes never reach the API inbox"
        );
    }

    // Chatwoot's shape: the agent's reply, as the bridge receives it.
    let reply = seen
        .iter()
        .filter(|r| r.path == "/bridge")
        .map(Recorded::json)
        .find(|b| b["event"] == "message_created" && b["message_type"] == "outgoing")
        .expect("the agent's reply reached the bridge");
    assert_eq!(reply["content"], "Olá, Joana");
    assert_eq!(reply["private"], false);
    assert_eq!(reply["sender"]["type"], "user");
    assert_eq!(reply["conversation"]["id"], id);
    assert_eq!(
        reply["conversation"]["contact_inbox"]["source_id"],
        source.as_str()
    );
    assert_eq!(reply["inbox"]["name"], "Bridge");
    assert_eq!(reply["account"]["name"], "Acme");
    assert!(reply["created_at"].as_str().unwrap_or("").ends_with('Z'));
    let status_change = seen
        .iter()
        .filter(|r| r.path == "/hook")
        .map(Recorded::json)
        .find(|b| b["event"] == "conversation_status_changed")
        .expect("status change");
    assert_eq!(status_change["status"], "resolved");
    assert_eq!(
        status_change["changed_attributes"][0]["status"],
        json!({"previous_value": "open", "current_value": "resolved"})
    );

    // The delivery log tells what happened.
    let items = settled_log(&env, &env.path("/deliveries?kind=api_inbox")).await;
    assert!(items.len() >= 5, "{items:?}");
    assert!(
        items.iter().all(|d| d["status"] == "delivered"
            && d["attempts"] == 1
            && d["last_status_code"] == 200),
        "{items:?}"
    );
}

async fn a_receiver_that_fails_five_times_gets_exactly_one_success(db: Db) {
    let receiver = StandIn::start().await;
    for _ in 0..5 {
        receiver.then(Reply::json(500, json!({"error": "database is down"})));
    }
    let env = Env::start_with(db, settings()).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let (_, created) = app
        .post(
            &env.path("/webhooks"),
            t,
            json!({"url": format!("{}/hook", receiver.url), "subscriptions": ["conversation_created"]}),
        )
        .await;
    let webhook_id = created["payload"]["webhook"]["id"].as_i64().expect("id");
    let inbox = env.web_inbox("Site").await;
    let (_, contact) = app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": "Rui", "inbox_id": inbox}),
        )
        .await;
    let (status, conversation) = app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox, "contact_id": contact["payload"]["contact"]["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{conversation}");

    let seen = receiver
        .wait_until("a success", |r| r.iter().any(|r| r.answered == 200))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen_after = receiver.requests();
    assert_eq!(
        seen_after.len(),
        6,
        "5 failures, 1 success, nothing after: {seen:#?}"
    );
    let ids: Vec<&str> = seen_after
        .iter()
        .map(|r| r.header("x-chatwoot-delivery"))
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one delivery id across retries"
    );
    assert_eq!(seen_after.iter().filter(|r| r.answered == 200).count(), 1);

    let log = settled_log(
        &env,
        &env.path(&format!("/webhooks/{webhook_id}/deliveries")),
    )
    .await;
    let d = &log[0];
    assert_eq!(d["status"], "delivered", "{log:?}");
    assert_eq!(d["attempts"], 6);
    assert_eq!(d["event"], "conversation_created");
}

async fn pending_retries_are_delivered_after_a_restart(db: Db) {
    let receiver = StandIn::start().await;
    receiver.always(Reply::status(503));
    let mut slow = settings();
    slow.outbox.retry_base = Duration::from_millis(200);
    slow.outbox.retry_max = Duration::from_millis(400);
    let env = Env::start_with(db, slow.clone()).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    app.post(
        &env.path("/webhooks"),
        t,
        json!({"url": format!("{}/hook", receiver.url), "subscriptions": ["contact_created"]}),
    )
    .await;
    let (status, _) = app
        .post(&env.path("/contacts"), t, json!({"name": "Rui"}))
        .await;
    assert_eq!(status, 200);
    receiver
        .wait_until("a failed attempt", |r| !r.is_empty())
        .await;

    let env = env.restart_with(slow).await;
    receiver.always(Reply::status(200));
    let seen = receiver
        .wait_until("delivery after the restart", |r| {
            r.iter().any(|r| r.answered == 200)
        })
        .await;
    let body = seen
        .iter()
        .find(|r| r.answered == 200)
        .expect("success")
        .json();
    assert_eq!(body["event"], "contact_created");
    assert_eq!(body["name"], "Rui");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver
            .requests()
            .iter()
            .filter(|r| r.answered == 200)
            .count(),
        1
    );
    let log = settled_log(&env, &env.path("/deliveries")).await;
    assert_eq!(log[0]["status"], "delivered", "{log:?}");
}

async fn retry_after_gone_and_giving_up(db: Db) {
    let receiver = StandIn::start().await;
    let mut quick_give_up = settings();
    quick_give_up.outbox.give_up_after = Duration::from_millis(1500);
    let env = Env::start_with(db, quick_give_up).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let subscribe = |path: &str| json!({"url": format!("{}{path}", receiver.url), "subscriptions": ["contact_created"]});

    // 429 with Retry-After: 1 waits a second, although retries are 20 ms apart.
    receiver.then(Reply::status(429).header("Retry-After", "1"));
    let (_, hook) = app
        .post(&env.path("/webhooks"), t, subscribe("/limited"))
        .await;
    let hook_id = hook["payload"]["webhook"]["id"].as_i64().expect("id");
    app.post(&env.path("/contacts"), t, json!({"name": "Ana"}))
        .await;
    let seen = receiver.wait_until("the retry", |r| r.len() >= 2).await;
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(
        gap >= Duration::from_millis(900),
        "Retry-After honoured: {gap:?}"
    );
    app.delete(&env.path(&format!("/webhooks/{hook_id}")), t, None)
        .await;

    // 410 Gone is final at once.
    receiver.then(Reply::status(410));
    let (_, hook) = app
        .post(&env.path("/webhooks"), t, subscribe("/gone"))
        .await;
    let gone_id = hook["payload"]["webhook"]["id"].as_i64().expect("id");
    app.post(&env.path("/contacts"), t, json!({"name": "Bruno"}))
        .await;
    let log_path = env.path(&format!("/webhooks/{gone_id}/deliveries"));
    let d = crate::common::wait_for_delivery(&env, &log_path, "failed").await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status_code"], 410);
    app.delete(&env.path(&format!("/webhooks/{gone_id}")), t, None)
        .await;

    // A receiver down past the deadline: failed with its last error, and an
    // administrator's retry delivers it.
    receiver.always(Reply::json(500, json!({"error": "still down"})));
    let (_, hook) = app
        .post(&env.path("/webhooks"), t, subscribe("/down"))
        .await;
    let down_id = hook["payload"]["webhook"]["id"].as_i64().expect("id");
    app.post(&env.path("/contacts"), t, json!({"name": "Carla"}))
        .await;
    let log_path = env.path(&format!("/webhooks/{down_id}/deliveries"));
    let d = crate::common::wait_for_delivery(&env, &log_path, "failed").await;
    assert!(d["attempts"].as_i64().unwrap_or(0) >= 2, "{d}");
    assert!(
        d["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("still down"),
        "{d}"
    );
    // A retry opens a new window: its attempts count from zero and it is
    // retried again (not tried once) before failing anew.
    let id = d["id"].as_i64().expect("id");
    let before = receiver.requests().len();
    let (status, retried) = app
        .post(&env.path(&format!("/deliveries/{id}/retry")), t, json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    assert!(retried["retried_at"].is_i64(), "{retried}");
    let d = crate::common::wait_for_delivery(&env, &log_path, "failed").await;
    assert!(
        receiver.requests().len() - before >= 2,
        "retried within the new window"
    );
    assert!(d["attempts"].as_i64().unwrap_or(0) >= 2, "{d}");
    receiver.always(Reply::status(200));
    let (status, retried) = app
        .post(&env.path(&format!("/deliveries/{id}/retry")), t, json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    crate::common::wait_for_delivery(&env, &log_path, "delivered").await;
    let (status, again) = app
        .post(&env.path(&format!("/deliveries/{id}/retry")), t, json!({}))
        .await;
    assert_eq!(status, 422, "a delivered call is not sent again: {again}");
}

/// `examples/api_bridge.py`, run as its README says, against this server:
/// the customer's message goes in, the agent's reply comes out on its URL.
async fn the_example_bridge_receives_the_agents_reply(db: Db) {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let env = Env::start_with(db, settings()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/api_bridge.py");
    let mut bridge = tokio::process::Command::new("python3")
        .arg(script)
        .args(["--url", &env.app.base, "--token", &env.admin_token])
        .args(["--account-id", &env.account_id.to_string(), "--wait", "20"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs the example (CI installs it)");
    let mut lines = BufReader::new(bridge.stdout.take().expect("stdout")).lines();
    let first = lines
        .next_line()
        .await
        .expect("read")
        .expect("a first line");
    let id: i64 = first
        .strip_prefix("customer wrote in conversation ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"));
    assert!(first.ends_with("Hello from the bridge"), "{first}");

    let messages = env.path(&format!("/conversations/{id}/messages"));
    let t = env.admin_token.as_str();
    env.app
        .post(
            &messages,
            t,
            json!({"content": "internal", "private": true}),
        )
        .await;
    env.app
        .post(&messages, t, json!({"content": "Olá! Como posso ajudar?"}))
        .await;
    let reply = lines
        .next_line()
        .await
        .expect("read")
        .expect("the reply line");
    assert_eq!(reply, "agent Ana Admin replied: Olá! Como posso ajudar?");
    let status = bridge.wait().await.expect("bridge exits");
    assert!(status.success(), "the bridge exits 0 after the reply");
}

async fn opening_the_widget_triggers_webwidget_triggered(db: Db) {
    let receiver = StandIn::start().await;
    let env = Env::start_with(db, settings()).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    app.post(
        &env.path("/webhooks"),
        t,
        json!({"url": format!("{}/hook", receiver.url),
           "subscriptions": ["webwidget_triggered", "conversation_created", "message_created"]}),
    )
    .await;
    let inbox = env.web_inbox("Site").await;
    let (_, site) = app.get(&env.path(&format!("/inboxes/{inbox}")), t).await;
    let website_token = site["website_token"].as_str().expect("token");
    let (mut visitor, _) = crate::ws::Ws::visitor(app, website_token, None).await;
    visitor
        .send(json!({"type": "triggered", "event_info": {"referer": "https://acme.test/pricing"}}))
        .await;
    // Opening the chat window makes the visitor a contact (the webhook
    // names them): their token comes first.
    let source = visitor.event("identity").await["data"]["visitor_token"]
        .as_str()
        .expect("token")
        .to_string();
    let seen = receiver.wait_until("the trigger", |r| !r.is_empty()).await;
    let body = seen[0].json();
    assert_eq!(body["event"], "webwidget_triggered");
    assert_eq!(
        body["source_id"],
        Value::Null,
        "the visitor token is a credential"
    );
    assert_eq!(body["inbox"]["name"], "Site");
    assert_eq!(body["event_info"]["referer"], "https://acme.test/pricing");
    assert_eq!(body["current_conversation"], Value::Null);
    assert_eq!(
        body["contact"]["name"], "",
        "a visitor who gave no name has none"
    );

    // Bad input gets an error frame and sends nothing.
    visitor
        .send(json!({"type": "triggered", "event_info": "x".repeat(5000)}))
        .await;
    let error = visitor.event("error").await;
    assert!(error.to_string().contains("event_info"), "{error}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.requests().len(), 1);

    // The visitor writes: conversation and message events, and the delivery
    // log, never carry the visitor's token.
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi!", "echo_id": "v1"}))
        .await;
    visitor.event("ack").await;
    let seen = receiver.wait_until("the events", |r| r.len() >= 3).await;
    for request in &seen {
        let text = String::from_utf8_lossy(&request.body);
        assert!(!text.contains(&source), "token sent in {text}");
    }
    let created = seen
        .iter()
        .find(|r| r.json()["event"] == "conversation_created");
    let created = created.expect("conversation_created").json();
    assert_eq!(created["contact_inbox"]["source_id"], Value::Null);
    assert!(created["contact_inbox"]["id"].is_i64(), "{created}");
    let (_, log) = app.get(&env.path("/deliveries"), t).await;
    assert!(
        !log.to_string().contains(&source),
        "token in the log: {log}"
    );
}

/// One receiver that hangs holds its own deliveries only: it gets at most
/// `per_destination` calls at once, and another webhook's calls go out
/// while a backlog larger than every worker slot waits for it.
async fn a_slow_receiver_holds_up_only_its_own_deliveries(db: Db) {
    let slow = StandIn::start().await;
    let fast = StandIn::start().await;
    slow.hold();
    let env = Env::start_with(db, settings()).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    app.post(
        &env.path("/webhooks"),
        t,
        json!({"url": format!("{}/slow", slow.url),
               "subscriptions": ["contact_created", "conversation_created"]}),
    )
    .await;
    app.post(
        &env.path("/webhooks"),
        t,
        json!({"url": format!("{}/fast", fast.url), "subscriptions": ["contact_updated"]}),
    )
    .await;
    // More than the 256 calls the worker runs at once.
    let mut last = 0;
    for i in 0..300 {
        let (status, c) = app
            .post(
                &env.path("/contacts"),
                t,
                json!({"name": format!("Lead {i}")}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        last = c["payload"]["contact"]["id"].as_i64().expect("id");
    }
    slow.wait_until("the first calls", |r| r.len() >= 4).await;
    // Events about conversations in two inboxes are the same webhook's:
    // they wait in its one lane too.
    for name in ["Site A", "Site B"] {
        let inbox = env.web_inbox(name).await;
        let (status, c) = app
            .post(
                &env.path("/conversations"),
                t,
                json!({"inbox_id": inbox, "contact_id": last}),
            )
            .await;
        assert_eq!(status, 200, "{c}");
    }
    let (status, _) = app
        .call(
            Method::PUT,
            &env.path(&format!("/contacts/{last}")),
            Some(t),
            Some(json!({"name": "Closed deal"})),
        )
        .await;
    assert_eq!(status, 200);
    let seen = fast
        .wait_until("the other webhook's call", |r| !r.is_empty())
        .await;
    assert_eq!(seen[0].json()["event"], "contact_updated");
    assert_eq!(
        slow.requests().len(),
        4,
        "the hung receiver has its 4 calls and no more"
    );
    slow.release();
    slow.wait_until("the whole backlog", |r| r.len() >= 302)
        .await;
    assert!(
        slow.max_in_flight() <= 4,
        "{} at once",
        slow.max_in_flight()
    );
}

/// After a restart the account's settings are loaded lazily; the first
/// message (here a customer's, through the Public client API) must still
/// find the webhook.
async fn the_first_message_after_a_restart_reaches_webhooks(db: Db) {
    let receiver = StandIn::start().await;
    let env = Env::start_with(db, settings()).await;
    let t = env.admin_token.clone();
    env.app
        .post(
            &env.path("/webhooks"),
            &t,
            json!({"url": format!("{}/hook", receiver.url), "subscriptions": ["message_created"]}),
        )
        .await;
    let (_, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            &t,
            json!({"name": "Bridge", "channel": {"type": "api"}}),
        )
        .await;
    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().expect("identifier")
    );
    let (_, me) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts"),
            None,
            Some(json!({"name": "Rui"})),
        )
        .await;
    let source = me["source_id"].as_str().expect("source").to_string();
    let (_, c) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts/{source}/conversations"),
            None,
            None,
        )
        .await;
    let path = format!(
        "{base}/contacts/{source}/conversations/{}/messages",
        c["id"]
    );
    let env = env.restart_with(settings()).await;
    let (status, _) = env
        .app
        .call(
            Method::POST,
            &path,
            None,
            Some(json!({"content": "depois do reinício"})),
        )
        .await;
    assert_eq!(status, 200);
    let seen = receiver.wait_until("the message", |r| !r.is_empty()).await;
    assert_eq!(seen[0].json()["content"], "depois do reinício");
}
