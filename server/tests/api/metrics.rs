//! `/metrics`: Prometheus' text format, reflecting what this server did
//! (each server has its own counters, so other tests running alongside do
//! not show here).

use serde_json::json;

use crate::both_databases;
use crate::common::{Db, Env};
use crate::ws::Ws;

both_databases!(metrics_count_connections_events_and_commits);

/// The value of the sample `name` (with its labels) in the exposition.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

async fn scrape(env: &Env) -> String {
    let res = reqwest::get(format!("{}/metrics", env.app.base))
        .await
        .expect("scrape");
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    res.text().await.expect("body")
}

async fn metrics_count_connections_events_and_commits(db: Db) {
    let env = Env::start(db).await;
    let before = scrape(&env).await;
    let body = json!({"name": "Website", "channel": {"type": "web_widget"}, "enable_auto_assignment": true});
    let (_, inbox) = env
        .app
        .post(&env.path("/inboxes"), &env.admin_token, body)
        .await;
    let inbox_id = inbox["id"].as_i64().expect("inbox id");
    env.app
        .post(
            &env.path("/inbox_members"),
            &env.admin_token,
            json!({"inbox_id": inbox_id, "user_ids": [env.admin_id]}),
        )
        .await;
    let (mut console, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    let token = inbox["website_token"].as_str().expect("token");
    let (mut visitor, _) = Ws::visitor(&env.app, token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi"}))
        .await;
    visitor.event("ack").await;
    console.event("assignee.changed").await;

    let after = scrape(&env).await;
    for (name, least) in [
        ("switchboard_websocket_connections{kind=\"agent\"}", 1.0),
        ("switchboard_websocket_connections{kind=\"visitor\"}", 1.0),
    ] {
        assert!(sample(&after, name) >= least, "{name}: {after}");
    }
    for name in [
        "switchboard_events_total",
        "switchboard_deliveries_total",
        "switchboard_committed_writes_total",
        "switchboard_commit_duration_seconds_count",
        "switchboard_auto_assignments_total",
    ] {
        assert!(
            sample(&after, name) > sample(&before, name),
            "{name} grew: {after}"
        );
    }
    // Exactly this test's doing: one console, one visitor, one assignment.
    assert_eq!(sample(&before, "switchboard_auto_assignments_total"), 0.0);
    assert_eq!(sample(&after, "switchboard_auto_assignments_total"), 1.0);
    assert_eq!(
        sample(&after, "switchboard_websocket_connections{kind=\"agent\"}"),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            "switchboard_websocket_connections{kind=\"visitor\"}"
        ),
        1.0
    );
    drop(visitor);
    drop(console);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = scrape(&env).await;
        let open = sample(&now, "switchboard_websocket_connections{kind=\"visitor\"}")
            + sample(&now, "switchboard_websocket_connections{kind=\"agent\"}");
        if open == 0.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "closed sockets still counted: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sample(&after, "switchboard_writer_queue_capacity") > 0.0);
    assert!(sample(&after, "process_resident_memory_bytes") > 0.0);
    assert!(after.contains("# TYPE switchboard_commit_duration_seconds histogram"));
    assert!(
        sample(
            &after,
            "switchboard_commit_duration_seconds_bucket{le=\"+Inf\"}"
        ) >= 1.0
    );
}
