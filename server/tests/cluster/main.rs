//! The cluster, tested as it runs: real node processes on Postgres and
//! NATS (see [`harness`]). Each test starts its own nodes; they run in
//! parallel with each other and with the rest of the suite.

mod failover;
mod fence;
mod harness;

use std::time::{Duration, Instant};

use harness::Cluster;
use serde_json::{json, Value};

/// A web widget inbox (website token) with the administrator in it.
async fn widget_inbox(cluster: &Cluster, on: usize) -> (i64, String) {
    let (status, inbox) = cluster
        .post(
            on,
            "/inboxes",
            json!({"name": "Site", "channel": {"type": "web_widget", "website_url": ""}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let id = inbox["id"].as_i64().expect("inbox id");
    let (status, body) = cluster
        .post(
            on,
            "/inbox_members",
            json!({"inbox_id": id, "user_ids": [1]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        id,
        inbox["website_token"].as_str().expect("token").to_string(),
    )
}

/// A visitor on node A, an agent's console on node B and REST calls on
/// node C see one another's changes as on a single server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_agent_on_different_nodes_talk() {
    let Some(cluster) = Cluster::start("talk", &["a", "b", "c"]).await else {
        return;
    };
    let (inbox, token) = widget_inbox(&cluster, 2).await;
    let mut agent = cluster.agent_socket(1).await;
    let mut visitor = cluster.visitor_socket(0, &token).await;

    visitor
        .send(json!({"type": "start_conversation", "content": "Olá, preciso de ajuda", "echo_id": "v-1"}))
        .await;
    let ack = visitor.next_event("ack").await;
    let conversation = ack["data"]["conversation_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no conversation in {ack}"));
    let created = agent.next_event("message.created").await;
    assert_eq!(created["data"]["content"], "Olá, preciso de ajuda");

    // Typing from the visitor reaches the agent on the other node.
    visitor
        .send(json!({"type": "typing_on", "conversation_id": conversation}))
        .await;
    agent.next_event("conversation.typing_on").await;

    // The agent answers over REST on a third node; the visitor hears it.
    let (status, reply) = cluster
        .post(
            2,
            &format!("/conversations/{conversation}/messages"),
            json!({"content": "Claro! Em que posso ajudar?"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    // (The visitor hears its own message first.)
    let mut heard = visitor.next_event("message.created").await;
    if heard["data"]["content"] == "Olá, preciso de ajuda" {
        heard = visitor.next_event("message.created").await;
    }
    assert_eq!(heard["data"]["content"], "Claro! Em que posso ajudar?");

    // An assignment made on the visitor's node reaches the agent's.
    let (bia, _) = cluster.agent(0, "Bia", "bia@acme.test").await;
    let members = json!({"inbox_id": inbox, "user_ids": [1, bia]});
    let (status, body) = cluster.post(1, "/inbox_members", members).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = cluster
        .post(
            0,
            &format!("/conversations/{conversation}/assignments"),
            json!({"assignee_id": bia}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    loop {
        let changed = agent.next_event("assignee.changed").await;
        if changed["data"]["meta"]["assignee"]["id"] == bia {
            assert_eq!(changed["data"]["id"], conversation);
            break;
        }
    }

    // Every node lists and counts the same.
    let mut seen: Vec<Value> = Vec::new();
    for node in 0..3 {
        let (status, meta) = cluster.get(node, "/conversations/meta").await;
        assert_eq!(status, 200);
        seen.push(meta);
    }
    assert!(seen.iter().all(|m| *m == seen[0]), "{seen:?}");
    assert_eq!(seen[0]["meta"]["assigned_count"], 1, "{}", seen[0]);
}

/// A node joining takes its fair share of accounts, and every request
/// meanwhile is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_node_takes_a_fair_share() {
    let Some(mut cluster) = Cluster::start("join", &["a"]).await else {
        return;
    };
    // More accounts, each with a token of its own administrator.
    let mut tokens = vec![(cluster.account_id, cluster.token.clone())];
    for n in 0..11 {
        tokens.push(cluster.create_account(&format!("Co {n}")));
    }
    let touch = |cluster: &Cluster, node: usize, account: i64, token: &str| {
        let url = format!(
            "{}/api/v1/accounts/{account}/conversations/meta",
            cluster.nodes[node].url
        );
        let request = cluster.http.get(url).header("api_access_token", token);
        async move { request.send().await.expect("GET").status().as_u16() }
    };
    for (account, token) in &tokens {
        assert_eq!(touch(&cluster, 0, *account, token).await, 200);
    }
    let pool = cluster.pool().await;
    let owners = |pool: sqlx::PgPool| async move {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT node, count(*) FROM shard_leases WHERE expires_at > now() GROUP BY node",
        )
        .fetch_all(&pool)
        .await
        .expect("leases");
        rows
    };
    assert_eq!(owners(pool.clone()).await, vec![("a".to_string(), 12)]);

    let b = cluster.spawn("b");
    cluster.ready(b).await;
    // Requests keep being answered while accounts move.
    let started = Instant::now();
    let mut spread = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        for (i, (account, token)) in tokens.iter().enumerate() {
            assert_eq!(touch(&cluster, i % 2, *account, token).await, 200);
        }
        spread = owners(pool.clone()).await;
        let b_has = spread.iter().find(|(n, _)| n == "b").map_or(0, |(_, c)| *c);
        let a_has = spread.iter().find(|(n, _)| n == "a").map_or(0, |(_, c)| *c);
        if b_has >= 3 && a_has + b_has == 12 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the new node got no fair share: {spread:?}");
}

/// Webhooks go out once, from the account's owner, whichever node took
/// the change: a contact created on one node and a message on another each
/// reach the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_go_out_once_from_the_owner() {
    let Some(cluster) = Cluster::start("webhooks", &["a", "b", "c"]).await else {
        return;
    };
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let subscriptions = json!(["contact_created", "message_created"]);
    let (status, body) = cluster
        .post(
            0,
            "/webhooks",
            json!({"url": hook, "subscriptions": subscriptions}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, inbox) = cluster
        .post(
            1,
            "/inboxes",
            json!({"name": "API", "channel": {"type": "api"}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox = inbox["id"].as_i64().expect("inbox");
    let (status, contact) = cluster
        .post(1, "/contacts", json!({"name": "Rui", "inbox_id": inbox}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let contact = contact["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact");
    let (status, c) = cluster
        .post(
            2,
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "message": {"content": "pedido 42"}}),
        )
        .await;
    assert_eq!(status, 200, "{c}");

    let started = Instant::now();
    while received.lock().unwrap().len() < 2 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Time for a second copy to show up if one were coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut events: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|b| b["event"].as_str().unwrap_or_default().to_string())
        .collect();
    events.sort();
    assert_eq!(events, vec!["contact_created", "message_created"]);
}
