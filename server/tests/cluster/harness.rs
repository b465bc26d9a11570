//! Real node processes of one cluster: the `switchboard` binary started
//! several times on one fresh Postgres schema and the NATS server named by
//! `SWITCHBOARD_TEST_NATS_URL`, each with a subject prefix of its own, so
//! clusters of tests running at once never hear each other.
//!
//! Without `SWITCHBOARD_TEST_POSTGRES_URL` and `SWITCHBOARD_TEST_NATS_URL`
//! the tests are skipped (and say so once); CI sets both, and each test
//! that really ran appends a line to `SWITCHBOARD_TEST_CLUSTER_LOG`.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub(crate) const POSTGRES_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
pub(crate) const NATS_ENV: &str = "SWITCHBOARD_TEST_NATS_URL";
pub(crate) const LOG_ENV: &str = "SWITCHBOARD_TEST_CLUSTER_LOG";

pub(crate) struct Node {
    pub name: String,
    pub url: String,
    port: u16,
    child: Option<Child>,
}

impl Node {
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends `signal` (`KILL`, `TERM`, `STOP`, `CONT`) to the process.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.pid());
    }

    /// Waits for the process to end (after KILL or TERM); its exit status.
    pub(crate) fn wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .take()
            .map(|mut c| c.wait().expect("wait for node"))
    }
}

pub(crate) struct Cluster {
    pub nodes: Vec<Node>,
    pub token: String,
    pub account_id: i64,
    pub db_url: String,
    nats: String,
    prefix: String,
    dir: tempfile::TempDir,
    schema: (String, String),
    pub http: reqwest::Client,
}

/// Whether the cluster tests can run; says once why not.
fn configured() -> Option<(String, String)> {
    let pg = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty());
    let nats = std::env::var(NATS_ENV).ok().filter(|v| !v.is_empty());
    match (pg, nats) {
        (Some(pg), Some(nats)) => Some((pg, nats)),
        _ => {
            static NOTICE: std::sync::Once = std::sync::Once::new();
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {POSTGRES_ENV} or {NATS_ENV} is not set; the cluster tests are skipped"
                );
            });
            None
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Cluster {
    /// A fresh schema, one account, and nodes named `names`, all serving.
    pub(crate) async fn start(test: &str, names: &[&str]) -> Option<Cluster> {
        let (base, nats) = configured()?;
        let id = switchboard_server::secrets::random_token(10).to_lowercase();
        let schema = format!("sbc_{id}");
        let admin = sqlx::PgPool::connect(&base).await.expect("postgres");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        if let Ok(log) = std::env::var(LOG_ENV) {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("cluster log");
            writeln!(file, "{test}").expect("write cluster log");
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        let db_url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let output = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["account", "create", "--name", "Acme", "--admin-name", "Ana"])
            .args([
                "--admin-email",
                "ana@acme.test",
                "--admin-password",
                "password123",
            ])
            .args(["--database-url", &db_url])
            .output()
            .expect("account create");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let created: Value = serde_json::from_slice(&output.stdout).expect("account json");
        let mut cluster = Cluster {
            nodes: Vec::new(),
            token: created["access_token"].as_str().expect("token").to_string(),
            account_id: created["account_id"].as_i64().expect("account"),
            db_url,
            nats,
            prefix: format!("sbt{id}"),
            dir: tempfile::tempdir().expect("temp dir"),
            schema: (base, schema),
            http: reqwest::Client::new(),
        };
        for name in names {
            cluster.spawn(name);
        }
        for i in 0..cluster.nodes.len() {
            cluster.ready(i).await;
        }
        Some(cluster)
    }

    /// Starts node `name` (its log goes to the test's folder).
    pub(crate) fn spawn(&mut self, name: &str) -> usize {
        let port = free_port();
        let child = self.process(name, port, true);
        self.nodes.push(Node {
            name: name.to_string(),
            url: format!("http://127.0.0.1:{port}"),
            port,
            child: Some(child),
        });
        self.nodes.len() - 1
    }

    /// Starts a node again under the same name and port.
    pub(crate) fn restart(&mut self, i: usize) {
        let (name, port) = (self.nodes[i].name.clone(), self.nodes[i].port);
        self.nodes[i].child = Some(self.process(&name, port, false));
    }

    /// The node process, its log in the test's folder (a new log, or
    /// appended to).
    fn process(&self, name: &str, port: u16, new_log: bool) -> Child {
        let path = self.dir.path().join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(!new_log)
            .truncate(new_log)
            .open(path)
            .expect("log");
        Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["serve", "--database-url", &self.db_url])
            .args(["--cluster", &self.nats, "--node-name", name])
            .args(["--cluster-prefix", &self.prefix])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--files-dir")
            .arg(self.dir.path().join("files"))
            .arg("--outbound-allow-private")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start node")
    }

    /// Waits until node `i` answers.
    pub(crate) async fn ready(&self, i: usize) {
        let started = Instant::now();
        let url = format!("{}/healthz", self.nodes[i].url);
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = self.http.get(&url).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "node {} did not start:\n{}",
            self.nodes[i].name,
            self.log(i)
        );
    }

    /// Node `i`'s log so far.
    pub(crate) fn log(&self, i: usize) -> String {
        let path = self.dir.path().join(format!("{}.log", self.nodes[i].name));
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// `path` under the account's API on node `i`.
    pub(crate) fn api(&self, i: usize, path: &str) -> String {
        format!(
            "{}/api/v1/accounts/{}{path}",
            self.nodes[i].url, self.account_id
        )
    }

    pub(crate) async fn get(&self, i: usize, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.api(i, path))
            .header("api_access_token", &self.token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, i: usize, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.api(i, path))
            .header("api_access_token", &self.token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Another account (CLI, as an operator would): (id, admin token).
    pub(crate) fn create_account(&self, name: &str) -> (i64, String) {
        let email = format!("admin-{}@acme.test", name.replace(' ', "-").to_lowercase());
        let output = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["account", "create", "--name", name, "--admin-name", "Admin"])
            .args(["--admin-email", &email, "--admin-password", "password123"])
            .args(["--database-url", &self.db_url])
            .output()
            .expect("account create");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let created: Value = serde_json::from_slice(&output.stdout).expect("account json");
        (
            created["account_id"].as_i64().expect("account"),
            created["access_token"].as_str().expect("token").to_string(),
        )
    }

    /// A new agent of the account, signed in on node `i`: (id, token).
    pub(crate) async fn agent(&self, i: usize, name: &str, email: &str) -> (i64, String) {
        let body =
            json!({"name": name, "email": email, "role": "agent", "password": "password123"});
        let (status, agent) = self.post(i, "/agents", body).await;
        assert_eq!(status, 200, "{agent}");
        let r = self
            .http
            .post(format!("{}/auth/sign_in", self.nodes[i].url))
            .json(&json!({"email": email, "password": "password123"}))
            .send()
            .await
            .expect("sign in");
        let signed: Value = r.json().await.expect("sign-in json");
        (
            agent["id"].as_i64().expect("agent id"),
            signed["data"]["access_token"]
                .as_str()
                .expect("token")
                .to_string(),
        )
    }

    /// Which node holds the account's lease, read from the database.
    pub(crate) async fn owner(&self) -> Option<String> {
        let pool = sqlx::PgPool::connect(&self.db_url).await.expect("postgres");
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT node FROM shard_leases WHERE account_id = $1 AND expires_at > now()",
        )
        .bind(self.account_id)
        .fetch_optional(&pool)
        .await
        .expect("lease");
        pool.close().await;
        owner
    }

    /// A read of the cluster's database.
    pub(crate) async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.db_url).await.expect("postgres")
    }

    pub(crate) fn index(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .expect("node")
    }

    /// An agent socket (the administrator's) on node `i`.
    pub(crate) async fn agent_socket(&self, i: usize) -> Socket {
        self.agent_socket_as(i, &self.token).await
    }

    /// An agent socket of the holder of `token` on node `i`.
    pub(crate) async fn agent_socket_as(&self, i: usize, token: &str) -> Socket {
        self.agent_socket_from(i, token, None).await
    }

    /// The administrator's socket on node `i`, resuming after `cursor`.
    pub(crate) async fn agent_socket_resuming(&self, i: usize, cursor: u64) -> Socket {
        self.agent_socket_from(i, &self.token, Some(cursor)).await
    }

    async fn agent_socket_from(&self, i: usize, token: &str, cursor: Option<u64>) -> Socket {
        let mut url = format!(
            "ws://127.0.0.1:{}/ws/agent?account_id={}",
            self.nodes[i].port, self.account_id
        );
        if let Some(cursor) = cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let mut request = url.into_client_request().expect("request");
        request
            .headers_mut()
            .insert("api_access_token", token.parse().expect("header"));
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("agent socket");
        let mut socket = Socket::new(ws);
        socket.welcome = Some(socket.next_event("welcome").await);
        socket
    }

    /// A visitor socket on node `i`, for the inbox's website token.
    pub(crate) async fn visitor_socket(&self, i: usize, website_token: &str) -> Socket {
        let url = format!("ws://127.0.0.1:{}/ws/widget", self.nodes[i].port);
        let mut request = url.into_client_request().expect("request");
        request
            .headers_mut()
            .insert("origin", self.nodes[i].url.parse().expect("origin header"));
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("visitor socket");
        let mut socket = Socket::new(ws);
        socket
            .send(json!({"type": "auth", "website_token": website_token}))
            .await;
        socket.welcome = Some(socket.next_event("welcome").await);
        socket
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let (base, schema) = self.schema.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) struct Socket {
    ws: Ws,
    /// The `welcome` frame.
    pub welcome: Option<Value>,
    /// The newest cursor any frame carried.
    pub cursor: Option<u64>,
}

impl Socket {
    fn new(ws: Ws) -> Socket {
        Socket {
            ws,
            welcome: None,
            cursor: None,
        }
    }

    /// Reads until the socket ends (its node died), within 10 s.
    pub(crate) async fn closed(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => panic!("the socket stayed open"),
                Ok(None | Some(Err(_))) => return,
                Ok(Some(Ok(WsMessage::Close(_)))) => return,
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    self.note(&text);
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    fn note(&mut self, text: &str) -> Option<Value> {
        let value: Value = serde_json::from_str(text).ok()?;
        if let Some(cursor) = value["cursor"].as_u64() {
            self.cursor = Some(cursor);
        }
        Some(value)
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.ws
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .expect("send frame");
    }

    /// The next frame named `event` within 10 s (others are skipped).
    pub(crate) async fn next_event(&mut self, event: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no `{event}` within 10 s"))
                .unwrap_or_else(|| panic!("the socket closed before `{event}`"))
                .expect("frame");
            if let WsMessage::Text(text) = frame {
                let value = self.note(&text).expect("json frame");
                if value["event"] == event {
                    return value;
                }
            }
        }
    }
}
