//! Nothing acknowledged is lost: 100 writers post messages to a real
//! `switchboard` process, which is killed with SIGKILL mid-stream. Every
//! message whose POST returned 2xx must be in the database afterwards.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Mutex;

use crate::both_databases;
use crate::common::{new_account, Db, TestDb};

both_databases!(kill_9_loses_no_acknowledged_message);

/// Starts `switchboard serve` on a free port; returns the process and its URL.
fn serve(db: &TestDb) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("switchboard exited early")
            .expect("read log");
        if let Some(rest) = line
            .split("addr=")
            .nth(1)
            .filter(|_| line.contains("listening"))
        {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{addr}"))
}

async fn kill_9_loses_no_acknowledged_message(db: Db) {
    let db = TestDb::new(db).await;
    let account = new_account(&db, "Acme", "ana@acme.test").await;
    let (mut server, base) = serve(&db);
    let client = reqwest::Client::new();
    let api = format!("{base}/api/v1/accounts/{}", account.account_id);
    let token = account.access_token.clone();
    let post = |path: String, body: serde_json::Value| {
        client
            .post(format!("{api}{path}"))
            .header("api_access_token", &token)
            .json(&body)
            .send()
    };
    let inbox: serde_json::Value = post(
        "/inboxes".into(),
        json!({"name": "W", "channel": {"type": "api"}}),
    )
    .await
    .expect("inbox")
    .json()
    .await
    .expect("inbox json");
    let contact: serde_json::Value = post("/contacts".into(), json!({"name": "V"}))
        .await
        .expect("contact")
        .json()
        .await
        .expect("contact json");
    let contact_id = contact["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact id");
    let mut conversations = Vec::new();
    for _ in 0..10 {
        let c: serde_json::Value = post(
            "/conversations".into(),
            json!({"inbox_id": inbox["id"], "contact_id": contact_id}),
        )
        .await
        .expect("conversation")
        .json()
        .await
        .expect("conversation json");
        conversations.push(c["id"].as_i64().expect("conversation id"));
    }

    // 100 writers; each records what the server acknowledged.
    let acked = Arc::new(Mutex::new(Vec::<(i64, i64, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..100 {
        let (client, api, token, acked) =
            (client.clone(), api.clone(), token.clone(), acked.clone());
        let conversation = conversations[w % conversations.len()];
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let content = format!("writer {w} message {n}");
                let sent = client
                    .post(format!("{api}/conversations/{conversation}/messages"))
                    .header("api_access_token", &token)
                    .json(&json!({"content": content, "echo_id": format!("{w}-{n}")}))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status().is_success() => {
                        let Ok(m) = res.json::<serde_json::Value>().await else {
                            break;
                        };
                        let id = m["id"].as_i64().expect("message id");
                        acked.lock().await.push((conversation, id, content));
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let the writers get going, then pull the plug.
    for _ in 0..200 {
        if acked.lock().await.len() >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().expect("reap");
    for writer in writers {
        let _ = writer.await;
    }
    let acked = acked.lock().await.clone();
    assert!(
        acked.len() >= 100,
        "only {} messages were acknowledged",
        acked.len()
    );
    eprintln!("{} messages acknowledged before SIGKILL", acked.len());

    // After a restart every acknowledged message is there, exactly once.
    let (mut server, _) = serve(&db);
    let store = db.store().await;
    for (conversation, id, content) in &acked {
        let stored = store
            .get_message(*conversation, *id)
            .await
            .unwrap_or_else(|e| panic!("acknowledged message {id} is missing: {e}"));
        assert_eq!(stored.content.as_deref(), Some(content.as_str()));
    }
    for conversation in &conversations {
        let all = store
            .list_messages(*conversation, None, 100_000, false)
            .await
            .expect("messages");
        let mut echo_ids: Vec<_> = all.iter().filter_map(|m| m.echo_id.clone()).collect();
        let count = echo_ids.len();
        echo_ids.sort();
        echo_ids.dedup();
        assert_eq!(echo_ids.len(), count, "an echo id was stored twice");
    }
    server.kill().expect("stop");
    let _ = server.wait();
}

both_databases!(sigterm_commits_everything_and_exits_cleanly);

async fn sigterm_commits_everything_and_exits_cleanly(db: Db) {
    let db = TestDb::new(db).await;
    let account = new_account(&db, "Acme", "ana@acme.test").await;
    let (mut server, base) = serve(&db);
    let client = reqwest::Client::new();
    let api = format!("{base}/api/v1/accounts/{}", account.account_id);
    let call = |path: &str, body: serde_json::Value| {
        client
            .post(format!("{api}{path}"))
            .header("api_access_token", &account.access_token)
            .json(&body)
            .send()
    };
    let inbox: serde_json::Value =
        call("/inboxes", json!({"name": "W", "channel": {"type": "api"}}))
            .await
            .expect("inbox")
            .json()
            .await
            .expect("json");
    let contact: serde_json::Value = call("/contacts", json!({"name": "V"}))
        .await
        .expect("contact")
        .json()
        .await
        .expect("json");
    let body = json!({"inbox_id": inbox["id"], "contact_id": contact["payload"]["contact"]["id"]});
    let conversation: serde_json::Value = call("/conversations", body)
        .await
        .expect("conversation")
        .json()
        .await
        .expect("json");
    let id = conversation["id"].as_i64().expect("id");
    let mut acked = Vec::new();
    for n in 0..50 {
        let res = call(
            &format!("/conversations/{id}/messages"),
            json!({"content": format!("m{n}")}),
        )
        .await
        .expect("message");
        assert!(res.status().is_success());
        let m: serde_json::Value = res.json().await.expect("json");
        acked.push(m["id"].as_i64().expect("id"));
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = server.wait().expect("wait");
    assert!(exit.success(), "switchboard exited with {exit} on SIGTERM");
    let store = db.store().await;
    let stored = store
        .list_messages(id, None, 1000, false)
        .await
        .expect("messages");
    let stored: Vec<i64> = stored.iter().map(|m| m.id).collect();
    assert_eq!(stored, acked);
}
