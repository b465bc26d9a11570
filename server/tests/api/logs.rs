//! No log level writes a credential: a real `switchboard` process at
//! `RUST_LOG=trace` signs someone in, authenticates an agent's socket,
//! gives a visitor their token and answers Meta's verification, and none of
//! the secrets appears in what it wrote.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::both_databases;
use crate::common::{new_account, Db, TestDb};

both_databases!(no_level_logs_a_credential);

/// One socket to the server at `base`: sends `auth`, returns the frames up
/// to and including the first named `until`.
async fn socket(base: &str, path: &str, frames: &[Value], until: &str) -> Vec<Value> {
    let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    for frame in frames {
        ws.send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }
    let mut seen = Vec::new();
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame in time");
        let Some(Ok(Message::Text(text))) = next else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text).expect("JSON frame");
        let done = frame["event"] == until;
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

async fn no_level_logs_a_credential(db: Db) {
    let db = TestDb::new(db).await;
    let account = new_account(&db, "Acme", "ana@acme.test").await;
    let mut server = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
        ])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let reader = {
        let log = log.clone();
        let stderr = server.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    if let Some(rest) = line.split("addr=").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or_default();
                        let _ = addr_tx.send(addr.to_string());
                    }
                }
                log.lock().expect("log").push(line);
            }
        })
    };
    let addr = addr_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the server says where it listens");
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    // Signing in: a password in, a session token out.
    let signed: Value = client
        .post(format!("{base}/auth/sign_in"))
        .json(&json!({"email": "ana@acme.test", "password": "password123"}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    let session = signed["data"]["access_token"]
        .as_str()
        .expect("session")
        .to_string();

    // The agent's socket: the token in its first frame.
    let auth = json!({"type": "auth", "access_token": session, "account_id": account.account_id});
    socket(&base, "/ws/agent", &[auth], "welcome").await;

    // A visitor: their token is given in `identity`, then sent back.
    let inbox: Value = client
        .post(format!(
            "{base}/api/v1/accounts/{}/inboxes",
            account.account_id
        ))
        .header("api_access_token", &account.access_token)
        .json(&json!({"name": "Site", "channel": {"type": "web_widget"}}))
        .send()
        .await
        .expect("inbox")
        .json()
        .await
        .expect("json");
    let website_token = inbox["website_token"].as_str().expect("website token");
    let first = [
        json!({"type": "auth", "website_token": website_token}),
        json!({"type": "start_conversation", "content": "Oi"}),
    ];
    let frames = socket(&base, "/ws/widget", &first, "identity").await;
    let visitor_token = frames.last().expect("identity")["data"]["visitor_token"]
        .as_str()
        .expect("visitor token")
        .to_string();
    let again =
        json!({"type": "auth", "website_token": website_token, "visitor_token": visitor_token});
    socket(&base, "/ws/widget", &[again], "welcome").await;

    // A Public API contact identifier travels in paths.
    let api_inbox: Value = client
        .post(format!(
            "{base}/api/v1/accounts/{}/inboxes",
            account.account_id
        ))
        .header("api_access_token", &account.access_token)
        .json(&json!({"name": "App", "channel": {"type": "api"}}))
        .send()
        .await
        .expect("api inbox")
        .json()
        .await
        .expect("json");
    let inbox_identifier = api_inbox["inbox_identifier"]
        .as_str()
        .expect("inbox identifier");
    let public = format!("{base}/public/api/v1/inboxes/{inbox_identifier}/contacts");
    let contact: Value = client
        .post(&public)
        .json(&json!({"name": "Joana"}))
        .send()
        .await
        .expect("public contact")
        .json()
        .await
        .expect("json");
    let contact_identifier = contact["source_id"]
        .as_str()
        .expect("contact identifier")
        .to_string();
    let shown = client
        .get(format!("{public}/{contact_identifier}"))
        .send()
        .await
        .expect("public contact");
    assert_eq!(shown.status(), 200);

    // Meta's verification carries its verify token in the query string.
    let verify_token = "meta-verify-secret-1234";
    client
        .get(format!(
            "{base}/webhooks/whatsapp/5511999990000?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=7"
        ))
        .send()
        .await
        .expect("verification");

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    assert!(server.wait().expect("wait").success());
    reader.join().expect("log reader");

    let log = log.lock().expect("log").join("\n");
    assert!(
        log.contains(" DEBUG "),
        "the server really logged past info"
    );
    for (what, secret) in [
        ("the API token", account.access_token.as_str()),
        ("the session token", session.as_str()),
        ("the password", "password123"),
        ("the visitor token", visitor_token.as_str()),
        ("Meta's verify token", verify_token),
        (
            "the Public API contact identifier",
            contact_identifier.as_str(),
        ),
    ] {
        assert!(!log.contains(secret), "{what} is in the log");
    }
}
