//! Losing a node: killed, paused past its lease, or restarted in turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::harness::Cluster;

/// An API inbox, a contact and an open conversation: (inbox, conversation).
async fn conversation(cluster: &Cluster, on: usize) -> (i64, i64) {
    let (status, inbox) = cluster
        .post(
            on,
            "/inboxes",
            json!({"name": "API", "channel": {"type": "api"}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox = inbox["id"].as_i64().expect("inbox");
    let (status, contact) = cluster
        .post(on, "/contacts", json!({"name": "Rui", "inbox_id": inbox}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let contact = contact["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact");
    let (status, c) = cluster
        .post(
            on,
            "/conversations",
            json!({"inbox_id": inbox, "contact_id": contact, "message": {"content": "start"}}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    (inbox, c["id"].as_i64().expect("conversation"))
}

/// Writers posting numbered messages (each with its echo id) to the
/// conversation, starting on node `i % n` and moving to the next node on
/// any failure, retrying the same echo id until acknowledged. Returns the
/// acknowledged echo ids and when each write was acknowledged.
struct Load {
    acked: Arc<Mutex<Vec<(String, Instant)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn load(cluster: &Cluster, conversation: i64, writers: usize) -> Load {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let urls: Vec<String> = (0..cluster.nodes.len())
        .map(|i| cluster.api(i, &format!("/conversations/{conversation}/messages")))
        .collect();
    let tasks = (0..writers)
        .map(|w| {
            let (acked, stop, urls) = (acked.clone(), stop.clone(), urls.clone());
            let (http, token) = (cluster.http.clone(), cluster.token.clone());
            tokio::spawn(async move {
                let mut node = w % urls.len();
                for n in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    let echo = format!("w{w}-{n}");
                    let started = Instant::now();
                    loop {
                        let sent = http
                            .post(&urls[node])
                            .header("api_access_token", &token)
                            .timeout(Duration::from_secs(10))
                            .json(&json!({"content": echo, "echo_id": echo}))
                            .send()
                            .await;
                        if matches!(&sent, Ok(r) if r.status().is_success()) {
                            acked.lock().unwrap().push((echo.clone(), Instant::now()));
                            break;
                        }
                        assert!(
                            started.elapsed() < Duration::from_secs(20),
                            "{echo} never acknowledged"
                        );
                        node = (node + 1) % urls.len();
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    Load { acked, stop, tasks }
}

impl Load {
    async fn finish(self) -> Vec<(String, Instant)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("writer");
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

/// Every acknowledged echo id is stored exactly once, and nothing else
/// with an echo id is.
async fn stored_once(cluster: &Cluster, acked: &[(String, Instant)]) {
    let pool = cluster.pool().await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT echo_id, count(*) FROM messages WHERE echo_id IS NOT NULL GROUP BY echo_id",
    )
    .fetch_all(&pool)
    .await
    .expect("messages");
    let stored: HashMap<String, i64> = rows.into_iter().collect();
    for (echo, _) in acked {
        assert_eq!(
            stored.get(echo),
            Some(&1),
            "{echo} stored {:?} times",
            stored.get(echo)
        );
    }
    assert_eq!(stored.len(), acked.len(), "stored but never acknowledged");
}

/// kill -9 of the node owning a busy account: every acknowledged message
/// is there once, the account is served again within 5 s, and a console
/// on the dead node reconnects elsewhere and resumes or resyncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_loses_nothing() {
    let Some(mut cluster) = Cluster::start("kill", &["a", "b", "c"]).await else {
        return;
    };
    let (_, conversation) = conversation(&cluster, 0).await;
    let owner = cluster.owner().await.expect("an owner");
    let dead = cluster.index(&owner);
    let survivor = (dead + 1) % 3;
    let mut console = cluster.agent_socket(dead).await;
    let writing = load(&cluster, conversation, 3);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let killed = Instant::now();
    cluster.nodes[dead].signal("KILL");
    cluster.nodes[dead].wait();
    // The console's socket drops with its node.
    console.closed().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let acked = writing.finish().await;

    // Served again: the first write acknowledged after the kill.
    let back = acked
        .iter()
        .map(|(_, at)| *at)
        .filter(|at| *at > killed)
        .min()
        .expect("nothing acknowledged after the kill");
    let recovery = back - killed;
    assert!(
        recovery <= Duration::from_secs(5),
        "served again after {recovery:?}"
    );
    stored_once(&cluster, &acked).await;
    let now_owner = cluster.owner().await.expect("a new owner");
    assert_ne!(now_owner, owner);

    // The console reconnects to a survivor with its cursor: resumed or told to resync.
    let cursor = console.cursor.expect("the console saw a cursor");
    let mut again = cluster.agent_socket_resuming(survivor, cursor).await;
    let welcome = again.welcome.clone().expect("welcome");
    if welcome["data"]["resumed"] != true {
        again.next_event("resync").await;
    }
}

/// An owner paused past its lease (SIGSTOP) loses the account to the other
/// node, which writes; resumed, the write it was sent while paused lands
/// exactly once (refused by the fence or routed, as the race between its
/// lease loop and the request goes; `fence::a_commit_needs_the_lease_at_its_epoch`
/// tests the fence itself), and it serves the account again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_writes_nothing_twice() {
    let Some(cluster) = Cluster::start("fence", &["a", "b"]).await else {
        return;
    };
    let (_, conversation) = conversation(&cluster, 0).await;
    let owner = cluster.owner().await.expect("an owner");
    let paused = cluster.index(&owner);
    let other = 1 - paused;
    let path = format!("/conversations/{conversation}/messages");

    cluster.nodes[paused].signal("STOP");
    // Sent to the paused node: it waits in the node's socket backlog.
    let late = {
        let url = cluster.api(paused, &path);
        let request = cluster
            .http
            .post(url)
            .header("api_access_token", &cluster.token)
            .timeout(Duration::from_secs(30))
            .json(&json!({"content": "late", "echo_id": "late"}));
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    };
    // Past the lease: the other node takes the account and writes.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (status, body) = cluster
        .post(
            other,
            &path,
            json!({"content": "taken over", "echo_id": "taken"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        cluster.owner().await.as_deref(),
        Some(&*cluster.nodes[other].name)
    );

    cluster.nodes[paused].signal("CONT");
    let late = late.await.expect("late request").expect("answered");
    assert_eq!(late, 200, "the late write is retried on the new owner");
    let pool = cluster.pool().await;
    let epochs: i64 = sqlx::query_scalar("SELECT epoch FROM shard_leases")
        .fetch_one(&pool)
        .await
        .expect("epoch");
    assert!(epochs >= 2, "the account changed hands");
    let messages: Vec<(String, i64)> =
        sqlx::query_as("SELECT content, count(*) FROM messages GROUP BY content ORDER BY content")
            .fetch_all(&pool)
            .await
            .expect("messages");
    assert_eq!(
        messages,
        vec![
            ("late".to_string(), 1),
            ("start".to_string(), 1),
            ("taken over".to_string(), 1)
        ]
    );
    // The paused node serves the account again, as a follower or, handed
    // back, as its owner.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, _) = cluster.get(paused, "/conversations/meta").await;
    assert_eq!(status, 200);
}

/// Conversations created at once on three nodes into one inbox with a
/// cap: exactly cap x agents are assigned, the rest wait, nobody is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_hold_across_nodes() {
    let Some(cluster) = Cluster::start("caps", &["a", "b", "c"]).await else {
        return;
    };
    const CAP: i64 = 20;
    const CREATES: usize = 3000;
    let (status, inbox) = cluster
        .post(
            0,
            "/inboxes",
            json!({"name": "API", "channel": {"type": "api"}, "enable_auto_assignment": true,
                   "auto_assignment_config": {"max_assignment_limit": CAP}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox = inbox["id"].as_i64().expect("inbox");
    let mut agents = Vec::new();
    for n in 0..3 {
        agents.push(
            cluster
                .agent(n, &format!("Agent {n}"), &format!("agent{n}@acme.test"))
                .await,
        );
    }
    let ids: Vec<i64> = agents.iter().map(|(id, _)| *id).collect();
    let (status, body) = cluster
        .post(
            1,
            "/inbox_members",
            json!({"inbox_id": inbox, "user_ids": ids}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Each agent's console open on a different node: all online.
    let mut consoles = Vec::new();
    for (n, (_, token)) in agents.iter().enumerate() {
        consoles.push(cluster.agent_socket_as(n, token).await);
    }
    let (status, contact) = cluster
        .post(2, "/contacts", json!({"name": "Rui", "inbox_id": inbox}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let contact = contact["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact");

    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..24)
        .map(|w| {
            let urls: Vec<String> = (0..3).map(|i| cluster.api(i, "/conversations")).collect();
            let (http, token, next) = (cluster.http.clone(), cluster.token.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if n >= CREATES {
                        return;
                    }
                    let r = http
                        .post(&urls[(w + n) % 3])
                        .header("api_access_token", &token)
                        .json(&json!({"inbox_id": inbox, "contact_id": contact}))
                        .send()
                        .await
                        .expect("create");
                    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("creator");
    }
    let pool = cluster.pool().await;
    let per_agent: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT assignee_id, count(*) FROM conversations WHERE status = 'open' \
         GROUP BY assignee_id ORDER BY assignee_id NULLS LAST",
    )
    .fetch_all(&pool)
    .await
    .expect("counts");
    let mut expected: Vec<(Option<i64>, i64)> = ids.iter().map(|id| (Some(*id), CAP)).collect();
    expected.push((None, CREATES as i64 - 3 * CAP));
    assert_eq!(per_agent, expected);
    for node in 0..3 {
        let (_, meta) = cluster.get(node, "/conversations/meta").await;
        assert_eq!(
            meta["meta"]["unassigned_count"],
            CREATES as i64 - 3 * CAP,
            "{meta}"
        );
    }
    drop(consoles);
}

/// Every node restarted in turn (SIGTERM, then started again) under load:
/// no acknowledged message lost, every write acknowledged once retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_nothing() {
    let Some(mut cluster) = Cluster::start("rolling", &["a", "b", "c"]).await else {
        return;
    };
    let (_, conversation) = conversation(&cluster, 0).await;
    let writing = load(&cluster, conversation, 3);
    let mut failed_requests = 0;
    for i in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cluster.nodes[i].signal("TERM");
        let status = cluster.nodes[i].wait().expect("exit");
        assert!(status.success(), "node {i} stopped with {status}");
        cluster.restart(i);
        cluster.ready(i).await;
        let (status, _) = cluster.get(i, "/conversations/meta").await;
        if status != 200 {
            failed_requests += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let acked = writing.finish().await;
    assert!(acked.len() > 30, "too little was written: {}", acked.len());
    stored_once(&cluster, &acked).await;
    assert_eq!(failed_requests, 0);
}
