//! The test harness: a real server on port 0 over a fresh database per test,
//! on SQLite and on Postgres.
//!
//! Postgres runs when `SWITCHBOARD_TEST_POSTGRES_URL` is set (CI sets it);
//! each test gets its own schema there, so tests run in parallel without
//! seeing each other. Without the variable the Postgres half is skipped and
//! says so once per run on stderr.

use std::io::Write;
use std::sync::{Arc, Once};

use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::cli::{create_account, CreatedAccountOutput};
use switchboard_server::store::{self, Store};
use switchboard_server::{launch, Settings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const POSTGRES_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
/// A `Settings::public_url` that [`TestApp::spawn_with`] replaces with the
/// server's own address once it is bound (browsers follow the links).
pub(crate) const OWN_URL: &str = "own";
/// When set, each test that really ran on Postgres appends a line to this
/// file: CI counts them to prove the Postgres half ran.
pub(crate) const POSTGRES_LOG_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_LOG";

/// Runs each named `async fn name(db: Db)` once per database, as the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::common::postgres_configured() {
                    super::$name($crate::common::Db::Postgres).await
                }
            }
        }
    )*};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

/// Whether the Postgres half runs; prints the skip notice once otherwise.
pub(crate) fn postgres_configured() -> bool {
    static NOTICE: Once = Once::new();
    let set = std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.is_empty());
    if !set {
        // Written past libtest's capture on purpose: one visible line per run.
        NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "note: {POSTGRES_ENV} is not set; the Postgres half of the tests is skipped"
            );
        });
    }
    set
}

/// A database of its own: a SQLite file in a temporary folder, or a fresh
/// Postgres schema (dropped when this value is).
pub(crate) struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub(crate) async fn new(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("switchboard.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Db::Postgres => {
                let base = std::env::var(POSTGRES_ENV).expect("postgres url");
                let schema = format!(
                    "sbt_{}",
                    switchboard_server::secrets::random_token(16).to_lowercase()
                );
                let admin = sqlx::PgPool::connect(&base)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_ENV}: {e}"));
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&admin)
                    .await
                    .expect("create schema");
                admin.close().await;
                if let Ok(log) = std::env::var(POSTGRES_LOG_ENV) {
                    let mut file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&log)
                        .expect("postgres log");
                    writeln!(file, "{schema}").expect("write postgres log");
                }
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                TestDb {
                    url,
                    _dir: None,
                    pg: Some((base, schema)),
                }
            }
        }
    }

    pub(crate) async fn store(&self) -> Arc<dyn Store> {
        store::connect(&self.url).await.expect("open store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg.take() {
            // Drop runs inside the test's runtime, which cannot be blocked on;
            // a thread with its own small runtime does the clean-up.
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
}

/// A running server.
pub(crate) struct TestApp {
    pub base: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub(crate) async fn spawn(db: &TestDb) -> TestApp {
        // Fixed, so what the API shows stays the same across restarts.
        Self::spawn_with(db, Settings::new("https://switchboard.test")).await
    }

    pub(crate) async fn spawn_with(db: &TestDb, mut settings: Settings) -> TestApp {
        if settings.files_dir == std::path::Path::new("data/files") {
            // Each server its own folder, outside the source tree.
            settings.files_dir = tempfile::tempdir().expect("tempdir").keep();
        }
        let store = db.store().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        if settings.public_url == OWN_URL {
            settings.public_url = base.clone();
        }
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(launch(store, settings, listener, async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server gracefully and waits until it has.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task").expect("server result");
        }
    }

    /// Sends a request and returns the status and the JSON body. Panics if the
    /// body is not JSON: every response of the API must be.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.header("api_access_token", token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        read(res, &method, path).await
    }

    /// Sends raw bytes with the given content type.
    pub(crate) async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .body(body);
        if let Some(token) = token {
            req = req.header("api_access_token", token);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.expect("request");
        read(res, &method, path).await
    }

    /// Writes `request` as is on a new connection and reads the answer: for
    /// requests an HTTP client would refuse to send.
    pub(crate) async fn raw_http(&self, request: &str) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        // Read one response (headers, then content-length bytes): the server
        // may keep the connection open waiting for a body we never send.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_len, body_len) = loop {
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
                    .await
                    .expect("answer within 10 s")
                    .expect("read");
            assert!(n > 0, "connection closed before a full answer: {answer:?}");
            answer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&answer).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .expect("content-length");
                if answer.len() >= end + 4 + length {
                    break (end + 4, length);
                }
            }
        };
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        let body = &text[head_len..head_len + body_len];
        let value: Value = serde_json::from_str(body)
            .unwrap_or_else(|_| panic!("-> {status} with a non-JSON body: {body:?}"));
        (status, value)
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub(crate) async fn delete(
        &self,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(token), body).await
    }
}

async fn read(res: reqwest::Response, method: &Method, path: &str) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{method} {path} -> {status} with a non-JSON body: {text:?}"));
    if status >= 400 {
        assert!(
            value["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {path} -> {status} without a message: {value}"
        );
    }
    (status, value)
}

/// A server with one account created the way an operator does it.
pub(crate) struct Env {
    pub app: TestApp,
    pub db: TestDb,
    pub account_id: i64,
    pub admin_id: i64,
    pub admin_token: String,
}

impl Env {
    pub(crate) async fn start(db: Db) -> Env {
        Self::start_with(db, Settings::new("https://switchboard.test")).await
    }

    pub(crate) async fn start_with(db: Db, settings: Settings) -> Env {
        let db = TestDb::new(db).await;
        let created = new_account(&db, "Acme", "ana@acme.test").await;
        let app = TestApp::spawn_with(&db, settings).await;
        Env {
            app,
            db,
            account_id: created.account_id,
            admin_id: created.user_id,
            admin_token: created.access_token,
        }
    }

    /// Stops the server gracefully and starts a new one on the same database.
    pub(crate) async fn restart(self) -> Env {
        self.restart_with(Settings::new("https://switchboard.test"))
            .await
    }

    /// [`Env::restart`] with these settings.
    pub(crate) async fn restart_with(self, settings: Settings) -> Env {
        let Env {
            app,
            db,
            account_id,
            admin_id,
            admin_token,
        } = self;
        app.stop().await;
        let app = TestApp::spawn_with(&db, settings).await;
        Env {
            app,
            db,
            account_id,
            admin_id,
            admin_token,
        }
    }

    /// `/api/v1/accounts/{account_id}` + `rest`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/api/v1/accounts/{}{rest}", self.account_id)
    }

    /// Adds an agent with a password and returns (agent id, its session token).
    pub(crate) async fn agent(&self, name: &str, email: &str, role: &str) -> (i64, String) {
        let (status, agent) = self
            .app
            .post(
                &self.path("/agents"),
                &self.admin_token,
                json!({"name": name, "email": email, "role": role, "password": "password123"}),
            )
            .await;
        assert_eq!(status, 200, "{agent}");
        let token = sign_in(&self.app, email, "password123").await;
        (agent["id"].as_i64().expect("agent id"), token)
    }

    /// Creates a website inbox and returns its id.
    pub(crate) async fn web_inbox(&self, name: &str) -> i64 {
        let (status, inbox) = self
            .app
            .post(
                &self.path("/inboxes"),
                &self.admin_token,
                json!({"name": name, "channel": {"type": "web_widget", "website_url": "https://acme.test"}}),
            )
            .await;
        assert_eq!(status, 200, "{inbox}");
        inbox["id"].as_i64().expect("inbox id")
    }
}

pub(crate) async fn new_account(db: &TestDb, name: &str, email: &str) -> CreatedAccountOutput {
    create_account(&db.url, name, "Ana Admin", email, "password123".to_string())
        .await
        .expect("create account")
}

/// Signs in and returns the session token.
pub(crate) async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let (status, body) = app
        .call(
            Method::POST,
            "/auth/sign_in",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// The ids in a JSON array of objects, or of `{"payload": [...]}`.
pub(crate) fn ids(value: &Value) -> Vec<i64> {
    let list = value.get("payload").unwrap_or(value);
    list.as_array()
        .expect("array")
        .iter()
        .map(|v| v["id"].as_i64().expect("id"))
        .collect()
}

/// Settings whose outbox may call loopback (the tests' stand-ins) and
/// retries within milliseconds.
pub(crate) fn quick_outbox(public_url: &str) -> Settings {
    let mut settings = Settings::new(public_url);
    settings.outbox = switchboard_server::outbox::OutboxConfig {
        allow_private: true,
        retry_base: std::time::Duration::from_millis(20),
        retry_max: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    settings
}

/// Polls a delivery-log page until its newest delivery has `status`;
/// returns that delivery.
/// The delivery log at `log_path` once nothing in it is pending any more:
/// a receiver can record a call before the outbox has written down its
/// answer, so tests read the log only after it has settled.
pub(crate) async fn settled_log(env: &Env, log_path: &str) -> Vec<Value> {
    for _ in 0..500 {
        let (_, log) = env.app.get(log_path, &env.admin_token).await;
        let items = log["payload"].as_array().cloned().unwrap_or_default();
        if items.iter().all(|d| d["status"] != "pending") {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, log) = env.app.get(log_path, &env.admin_token).await;
    panic!("deliveries at {log_path} stayed pending: {log}");
}

pub(crate) async fn wait_for_delivery(env: &Env, log_path: &str, status: &str) -> Value {
    for _ in 0..500 {
        let (_, log) = env.app.get(log_path, &env.admin_token).await;
        if log["payload"][0]["status"] == status {
            return log["payload"][0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, log) = env.app.get(log_path, &env.admin_token).await;
    panic!("no delivery became {status} at {log_path}: {log}");
}
