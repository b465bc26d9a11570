//! Automatic assignment: decisions per second inside a shard (the engine and
//! the count it reserves, no I/O), and conversations per second end to end
//! (HTTP create -> assigned and durable, on SQLite), 10 inboxes x 50 agents.
//!
//! cargo bench -p switchboard-server --bench assign            # full run
//! cargo bench -p switchboard-server --bench assign -- --smoke # seconds, for CI
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use switchboard_protocol::api::Availability;
use switchboard_server::assign::{AgentState, InboxRules, Policy};
use switchboard_server::hub::routing::{AgentEntry, InboxRoster, Roster};
use switchboard_server::hub::shard::{LiveConversation, ShardState};
use switchboard_server::store::{Conversation, ConversationStatus};

const INBOXES: i64 = 10;
const AGENTS: i64 = 50;

fn shard(policy: Policy) -> ShardState {
    let mut roster = Roster::default();
    for inbox in 0..INBOXES {
        let rules = InboxRules {
            enabled: true,
            max_per_agent: None,
            policy,
            ..InboxRules::default()
        };
        roster.inboxes.insert(
            inbox,
            InboxRoster {
                rules,
                members: (1..=AGENTS).collect(),
            },
        );
    }
    for agent in 1..=AGENTS {
        let state = AgentState {
            agent_id: agent,
            availability: Availability::Available,
            auto_offline: false,
            connections: 0,
            max_total: None,
        };
        roster.agents.insert(
            agent,
            AgentEntry {
                state,
                name: format!("Agent {agent}"),
                away_since: None,
            },
        );
    }
    let mut state = ShardState::default();
    state.roster = Some(roster);
    state
}

fn decisions(policy: Policy, count: i64) {
    let mut state = shard(policy);
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let started = Instant::now();
    for id in 0..count {
        let inbox = id % INBOXES;
        let t = Instant::now();
        let assignee = state.auto_pick(inbox);
        state.insert(LiveConversation::new(Conversation {
            id,
            account_id: 1,
            inbox_id: inbox,
            contact_id: 1,
            contact_inbox_id: None,
            status: ConversationStatus::Open,
            assignee_id: assignee,
            snoozed_until: None,
            created_at: id,
            last_activity_at: id,
            auto_assigned_at: None,
        }));
        // What the hub's commit does with the change: hand it to the feed.
        std::hint::black_box(state.take_changes());
        latency
            .record(t.elapsed().as_nanos() as u64)
            .expect("record");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:>12} {:>10} {:>14.0} {:>10.2} {:>10.2} {:>10.2}",
        format!("{policy:?}"),
        count,
        count as f64 / secs,
        latency.value_at_quantile(0.5) as f64 / 1000.0,
        latency.value_at_quantile(0.99) as f64 / 1000.0,
        latency.value_at_quantile(0.999) as f64 / 1000.0,
    );
}

async fn end_to_end(total: usize, concurrency: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let account = switchboard_server::cli::create_account(
        &url,
        "Bench",
        "Admin",
        "admin@bench.test",
        "password123".into(),
    )
    .await
    .expect("account");
    let store = switchboard_server::store::connect(&url)
        .await
        .expect("store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = switchboard_server::Settings::new(base.clone());
    let server = tokio::spawn(switchboard_server::launch(
        store,
        settings,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let api = format!("{base}/api/v1/accounts/{}", account.account_id);
    let token = account.access_token.clone();
    let post = |path: String, body: Value| {
        let request = client
            .post(format!("{api}{path}"))
            .header("api_access_token", &token)
            .json(&body);
        async move {
            request
                .send()
                .await
                .expect("request")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let body = json!({"name": format!("Agent {n}"), "email": format!("a{n}@bench.test"), "role": "agent", "auto_offline": false});
        agents.push(post("/agents".into(), body).await["id"].clone());
    }
    let mut inboxes = Vec::new();
    for n in 0..INBOXES {
        let inbox = post(
            "/inboxes".into(),
            json!({"name": format!("Inbox {n}"), "channel": {"type": "api"}}),
        )
        .await;
        post(
            "/inbox_members".into(),
            json!({"inbox_id": inbox["id"], "user_ids": agents}),
        )
        .await;
        inboxes.push(inbox["id"].as_i64().expect("inbox id"));
    }
    let contact = post("/contacts".into(), json!({"name": "Visitor"})).await["payload"]["contact"]
        ["id"]
        .clone();
    let mut sources = Vec::new();
    for inbox in &inboxes {
        let c = post(
            "/conversations".into(),
            json!({"inbox_id": inbox, "contact_id": contact, "source_id": "bench"}),
        )
        .await;
        assert!(
            c["assignee_id"].is_i64(),
            "warm-up conversation not assigned: {c}"
        );
        sources.push(*inbox);
    }
    let inboxes = Arc::new(sources);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, api, token, inboxes) =
            (client.clone(), api.clone(), token.clone(), inboxes.clone());
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let mut assigned = 0usize;
            let mut n = worker;
            while n < total {
                let body = json!({"inbox_id": inboxes[n % inboxes.len()], "source_id": "bench"});
                let t = Instant::now();
                let c: Value = client
                    .post(format!("{api}/conversations"))
                    .header("api_access_token", &token)
                    .json(&body)
                    .send()
                    .await
                    .expect("create")
                    .json()
                    .await
                    .expect("json");
                latency
                    .record(t.elapsed().as_micros() as u64)
                    .expect("record");
                assigned += usize::from(c["assignee_id"].is_i64());
                n += concurrency;
            }
            (latency, assigned)
        }));
    }
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let mut assigned = 0;
    for task in tasks {
        let (h, a) = task.await.expect("worker");
        latency.add(h).expect("merge");
        assigned += a;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:>12} {:>10} {:>14.0} {:>10.2} {:>10.2} {:>10.2}   ({assigned} assigned)",
        format!("http x{concurrency}"),
        total,
        total as f64 / secs,
        latency.value_at_quantile(0.5) as f64 / 1000.0,
        latency.value_at_quantile(0.99) as f64 / 1000.0,
        latency.value_at_quantile(0.999) as f64 / 1000.0,
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), server).await;
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (count, http_total) = if smoke {
        (20_000, 500)
    } else {
        (500_000, 20_000)
    };
    println!("{INBOXES} inboxes x {AGENTS} agents, round robin and balanced, no cap");
    println!(
        "{:>12} {:>10} {:>14} {:>10} {:>10} {:>10}",
        "case", "count", "per second", "p50", "p99", "p99.9"
    );
    println!("in the shard (decision + count reservation; latencies in us):");
    decisions(Policy::RoundRobin, count);
    decisions(Policy::Balanced, count);
    println!("end to end over HTTP on SQLite (create -> assigned and durable; latencies in ms):");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(end_to_end(http_total, 64));
}
