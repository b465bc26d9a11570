//! The REST calls the load generator makes: setting up agents and inboxes
//! with an administrator's token, agents' replies, and reading conversations
//! back to check that every acknowledged message is in the database.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use switchboard_protocol::api::{Agent, Inbox, Payload, Profile};
use switchboard_protocol::chat::{Conversation, Message};

use crate::cli::Common;

/// Password of the agents a run creates (they sign in with it once).
const AGENT_PASSWORD: &str = "load-test-password";
/// Messages per page of `GET .../messages` (the server's page size).
const PAGE: usize = 20;
/// Password hashing is deliberately slow: agents are created and signed in a
/// few at a time.
const SETUP_CONCURRENCY: usize = 4;
/// Attempts for a request answered `503` (write queue full).
const ATTEMPTS_ON_503: u32 = 5;

/// A REST client for one account.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: Arc<str>,
    pub account_id: i64,
    admin_token: Arc<str>,
}

/// An agent this run created, signed in.
#[derive(Debug, Clone)]
pub(crate) struct AgentUser {
    pub id: i64,
    pub token: String,
}

/// A website inbox this run created.
#[derive(Debug, Clone)]
pub(crate) struct WebInbox {
    pub website_token: String,
}

/// How an HTTP call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The server answered with this status.
    Status(u16, String),
    /// No answer (connection refused, reset, timed out).
    Transport(String),
}

impl CallError {
    /// A short name for error tables: `http_503`, `transport`.
    pub(crate) fn kind(&self) -> String {
        match self {
            CallError::Status(status, _) => format!("http_{status}"),
            CallError::Transport(_) => "transport".to_string(),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status(status, body) => write!(f, "HTTP {status}: {body}"),
            CallError::Transport(e) => write!(f, "no answer: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

impl Api {
    pub(crate) fn new(common: &Common) -> anyhow::Result<Api> {
        let token = common
            .token
            .clone()
            .context("--token (an administrator's API access token) is required")?;
        let account_id = common.account_id.context("--account-id is required")?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Api {
            http,
            base: common.url.trim_end_matches('/').into(),
            account_id,
            admin_token: token.into(),
        })
    }

    fn account_path(&self, rest: &str) -> String {
        format!("{}/api/v1/accounts/{}{rest}", self.base, self.account_id)
    }

    /// Sends a request and decodes a 2xx JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: String,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<T, CallError> {
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.header("api_access_token", token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            let text: String = text.chars().take(300).collect();
            return Err(CallError::Status(status.as_u16(), text));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| CallError::Status(status.as_u16(), format!("unexpected answer: {e}")))
    }

    /// Checks the server answers and the token is an administrator's of the account.
    pub(crate) async fn check(&self) -> anyhow::Result<()> {
        let url = format!("{}/healthz", self.base);
        let _: Value = self
            .call(reqwest::Method::GET, url, None, None)
            .await
            .with_context(|| format!("the server at {} does not answer", self.base))?;
        let _: Vec<Agent> = self
            .call(
                reqwest::Method::GET,
                self.account_path("/agents"),
                Some(&self.admin_token),
                None,
            )
            .await
            .with_context(|| {
                format!(
                    "cannot list the agents of account {} with the token given",
                    self.account_id
                )
            })?;
        Ok(())
    }

    /// Creates `count` agents named after the run and signs each in.
    pub(crate) async fn create_agents(
        &self,
        run: &str,
        count: usize,
    ) -> anyhow::Result<Vec<AgentUser>> {
        stream::iter(0..count)
            .map(|i| self.create_agent(run, i))
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn create_agent(&self, run: &str, i: usize) -> anyhow::Result<AgentUser> {
        let email = format!("{run}-agent-{i}@load.switchboard.test");
        let body = json!({
            "name": format!("Load {run} agent {i}"),
            "email": email,
            "role": "agent",
            "password": AGENT_PASSWORD,
            "auto_offline": true,
        });
        let agent: Agent = self
            .call(
                reqwest::Method::POST,
                self.account_path("/agents"),
                Some(&self.admin_token),
                Some(&body),
            )
            .await
            .with_context(|| format!("cannot create agent {email}"))?;
        #[derive(serde::Deserialize)]
        struct SignedIn {
            data: Profile,
        }
        let signed: SignedIn = self
            .call(
                reqwest::Method::POST,
                format!("{}/auth/sign_in", self.base),
                None,
                Some(&json!({"email": email, "password": AGENT_PASSWORD})),
            )
            .await
            .with_context(|| format!("agent {email} cannot sign in"))?;
        Ok(AgentUser {
            id: agent.id,
            token: signed.data.access_token,
        })
    }

    /// Creates a website inbox with automatic assignment and practically no
    /// cap, and makes `members` its collaborators.
    pub(crate) async fn create_inbox(
        &self,
        name: &str,
        members: &[i64],
    ) -> anyhow::Result<WebInbox> {
        let body = json!({
            "name": name,
            "channel": {"type": "web_widget", "website_url": "https://load.switchboard.test"},
            "enable_auto_assignment": true,
            "auto_assignment_config": {"max_assignment_limit": 1_000_000},
        });
        let inbox: Inbox = self
            .call(
                reqwest::Method::POST,
                self.account_path("/inboxes"),
                Some(&self.admin_token),
                Some(&body),
            )
            .await
            .with_context(|| format!("cannot create inbox {name}"))?;
        let website_token = inbox
            .website_token
            .context("the new website inbox has no website_token")?;
        if !members.is_empty() {
            let _: Payload<Agent> = self
                .call(
                    reqwest::Method::POST,
                    self.account_path("/inbox_members"),
                    Some(&self.admin_token),
                    Some(&json!({"inbox_id": inbox.id, "user_ids": members})),
                )
                .await
                .with_context(|| format!("cannot add collaborators to inbox {name}"))?;
        }
        tracing::debug!(inbox_id = inbox.id, name, "inbox created");
        Ok(WebInbox { website_token })
    }

    /// An agent posts a public reply; retried with the same `echo_id` while
    /// the server answers `503`. Returns the message id and the number of
    /// retries.
    pub(crate) async fn post_message(
        &self,
        token: &str,
        conversation_id: i64,
        content: &str,
        echo_id: &str,
    ) -> Result<(i64, u32), CallError> {
        let body = json!({"content": content, "echo_id": echo_id});
        let url = self.account_path(&format!("/conversations/{conversation_id}/messages"));
        let mut retries = 0;
        loop {
            let answer: Result<Message, CallError> = self
                .call(reqwest::Method::POST, url.clone(), Some(token), Some(&body))
                .await;
            match answer {
                Ok(message) => return Ok((message.id, retries)),
                Err(CallError::Status(503, _)) if retries + 1 < ATTEMPTS_ON_503 => {
                    retries += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The ids of every message of a conversation, read page by page.
    pub(crate) async fn message_ids(
        &self,
        conversation_id: i64,
    ) -> Result<HashSet<i64>, CallError> {
        let mut ids = HashSet::new();
        let mut before: Option<i64> = None;
        loop {
            let query = before.map(|b| format!("?before={b}")).unwrap_or_default();
            let url =
                self.account_path(&format!("/conversations/{conversation_id}/messages{query}"));
            let page: Payload<Message> = self
                .call(reqwest::Method::GET, url, Some(&self.admin_token), None)
                .await?;
            let oldest = page.payload.iter().map(|m| m.id).min();
            let full = page.payload.len() >= PAGE;
            ids.extend(page.payload.iter().map(|m| m.id));
            match oldest {
                Some(oldest) if full => before = Some(oldest),
                _ => return Ok(ids),
            }
        }
    }

    /// A conversation as the REST API shows it now.
    pub(crate) async fn conversation(
        &self,
        conversation_id: i64,
    ) -> Result<Conversation, CallError> {
        self.call(
            reqwest::Method::GET,
            self.account_path(&format!("/conversations/{conversation_id}")),
            Some(&self.admin_token),
            None,
        )
        .await
    }
}

/// A name no earlier run used: seconds since the epoch, the process id and
/// a counter (tests run several scenarios in one process), in base 36.
pub(crate) fn run_id() -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "lt{}-{}-{}",
        base36(secs),
        base36(u64::from(std::process::id())),
        base36(n)
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Fails unless `rate` messages a second fits the server's per-connection limit.
pub(crate) fn check_rate(rate: f64) -> anyhow::Result<()> {
    if !(rate > 0.0 && rate.is_finite()) {
        bail!("--rate must be above 0");
    }
    // Leave room under the server's limit for acks being late and bursts.
    if rate > crate::cli::SERVER_FRAMES_PER_SECOND * 0.75 {
        bail!(
            "--rate {rate} is too close to the server's limit of {} frames a second per connection",
            crate::cli::SERVER_FRAMES_PER_SECOND
        );
    }
    Ok(())
}
