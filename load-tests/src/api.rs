//! The REST calls the load generator makes: setting up agents and inboxes
//! with an administrator's token, agents' replies, and reading conversations
//! back to check that every acknowledged message is in the database.
//!
//! With several `--url`s (the nodes of a cluster) each call names the client
//! it is for, and client i starts at URL i mod N. Writes that may be retried
//! without a duplicate (those carrying an `echo_id`, which the server
//! de-duplicates) and reads move on to the next URL when one fails.

use std::sync::atomic::{AtomicU64, Ordering};
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
/// Attempts of a request that may be retried (see [`CallError::retryable`]):
/// with the backoff below they span about 12 s, more than a cluster takes
/// to give a dead node's accounts to another (about 5 s).
const ATTEMPTS: u32 = 8;
/// The wait before the first retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long one attempt of a retried request may take: a node waiting for
/// an account's dead owner may never answer.
const ATTEMPT_WITHIN: Duration = Duration::from_secs(10);

/// A REST client for one account, over one or more URLs.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    bases: Arc<[Arc<str>]>,
    /// Requests sent to each URL (per-URL figures of the report).
    requests: Arc<[AtomicU64]>,
    pub account_id: i64,
    admin_token: Arc<str>,
}

/// A request that succeeded, and how many times it was retried first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retried<T> {
    pub value: T,
    pub retries: u32,
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
    /// Whether trying again (on the next URL) may succeed: no answer, or a
    /// server error (`503 busy` or `unavailable` while an account has no
    /// owner, `500`/`502`/`504` from a node that could not reach it).
    pub(crate) fn retryable(&self) -> bool {
        match self {
            CallError::Status(status, _) => matches!(status, 500 | 502 | 503 | 504),
            CallError::Transport(_) => true,
        }
    }

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
        anyhow::ensure!(!common.urls.is_empty(), "--url is required");
        Ok(Api {
            http,
            bases: common
                .urls
                .iter()
                .map(|u| Arc::from(u.trim_end_matches('/')))
                .collect(),
            requests: common.urls.iter().map(|_| AtomicU64::new(0)).collect(),
            account_id,
            admin_token: token.into(),
        })
    }

    /// The URLs, in the order given.
    pub(crate) fn urls(&self) -> impl Iterator<Item = &str> {
        self.bases.iter().map(|b| &**b)
    }

    /// Requests sent to each URL so far.
    pub(crate) fn requests(&self) -> Vec<u64> {
        self.requests
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    fn account_path(&self, rest: &str) -> String {
        format!("/api/v1/accounts/{}{rest}", self.account_id)
    }

    /// Sends a request to URL `at` (mod their number) and decodes a 2xx
    /// JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        at: usize,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<T, CallError> {
        let at = at % self.bases.len();
        self.requests[at].fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{path}", self.bases[at]);
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

    /// `attempt(at)` from URL `first` on, moving to the next URL after each
    /// retryable failure (told to `failed`), with a growing pause, up to
    /// [`ATTEMPTS`] times. Only for requests that are safe to repeat: reads,
    /// and writes the server de-duplicates by `echo_id`.
    async fn retrying<T, F, Fut>(
        &self,
        first: usize,
        mut attempt: F,
        failed: &mut (dyn FnMut(&CallError) + Send),
    ) -> Result<Retried<T>, CallError>
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = Result<T, CallError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut retries = 0;
        loop {
            let answer = tokio::time::timeout(ATTEMPT_WITHIN, attempt(first + retries as usize))
                .await
                .unwrap_or_else(|_| {
                    Err(CallError::Transport(format!(
                        "no answer within {ATTEMPT_WITHIN:?}"
                    )))
                });
            match answer {
                Ok(value) => return Ok(Retried { value, retries }),
                Err(e) if e.retryable() && retries + 1 < ATTEMPTS => {
                    failed(&e);
                    retries += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks every URL answers and the token is an administrator's of the
    /// account.
    pub(crate) async fn check(&self) -> anyhow::Result<()> {
        for (at, base) in self.bases.iter().enumerate() {
            let _: Value = self
                .call(at, reqwest::Method::GET, "/healthz", None, None)
                .await
                .with_context(|| format!("the server at {base} does not answer"))?;
        }
        let _: Vec<Agent> = self
            .call(
                0,
                reqwest::Method::GET,
                &self.account_path("/agents"),
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
        // Not retried: creating an agent is no echo_id write.
        let agent: Agent = self
            .call(
                i,
                reqwest::Method::POST,
                &self.account_path("/agents"),
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
                i,
                reqwest::Method::POST,
                "/auth/sign_in",
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
                0,
                reqwest::Method::POST,
                &self.account_path("/inboxes"),
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
                    0,
                    reqwest::Method::POST,
                    &self.account_path("/inbox_members"),
                    Some(&self.admin_token),
                    Some(&json!({"inbox_id": inbox.id, "user_ids": members})),
                )
                .await
                .with_context(|| format!("cannot add collaborators to inbox {name}"))?;
        }
        tracing::debug!(inbox_id = inbox.id, name, "inbox created");
        Ok(WebInbox { website_token })
    }

    /// Agent `client` posts a public reply. The server de-duplicates
    /// `echo_id` (`POST .../messages` answers a repeated one with the first
    /// message), so a failed or unanswered attempt is retried with it on
    /// the next URL; each failure is told to `failed` first.
    pub(crate) async fn post_message(
        &self,
        client: usize,
        token: &str,
        conversation_id: i64,
        content: &str,
        echo_id: &str,
        failed: &mut (dyn FnMut(&CallError) + Send),
    ) -> Result<Retried<i64>, CallError> {
        let body = json!({"content": content, "echo_id": echo_id});
        let path = self.account_path(&format!("/conversations/{conversation_id}/messages"));
        let posted = self
            .retrying(
                client,
                |at| {
                    self.call::<Message>(at, reqwest::Method::POST, &path, Some(token), Some(&body))
                },
                failed,
            )
            .await?;
        Ok(Retried {
            value: posted.value.id,
            retries: posted.retries,
        })
    }

    /// Every message of a conversation, read page by page (newest first),
    /// as `who` (a token; the administrator's if `None`), from URL `first`
    /// on. A page that cannot be read is retried on the next URL.
    pub(crate) async fn messages(
        &self,
        first: usize,
        who: Option<&str>,
        conversation_id: i64,
    ) -> Result<Vec<Message>, CallError> {
        let token = who.unwrap_or(&self.admin_token);
        let mut all = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let query = before.map(|b| format!("?before={b}")).unwrap_or_default();
            let path =
                self.account_path(&format!("/conversations/{conversation_id}/messages{query}"));
            let page = self
                .retrying(
                    first,
                    |at| {
                        self.call::<Payload<Message>>(
                            at,
                            reqwest::Method::GET,
                            &path,
                            Some(token),
                            None,
                        )
                    },
                    &mut |_| {},
                )
                .await?
                .value;
            let oldest = page.payload.iter().map(|m| m.id).min();
            let full = page.payload.len() >= PAGE;
            all.extend(page.payload);
            match oldest {
                Some(oldest) if full => before = Some(oldest),
                _ => return Ok(all),
            }
        }
    }

    /// A conversation as the REST API shows it now.
    pub(crate) async fn conversation(
        &self,
        conversation_id: i64,
    ) -> Result<Conversation, CallError> {
        let first = usize::try_from(conversation_id).unwrap_or_default();
        let path = self.account_path(&format!("/conversations/{conversation_id}"));
        let read = self
            .retrying(
                first,
                |at| {
                    self.call(
                        at,
                        reqwest::Method::GET,
                        &path,
                        Some(&self.admin_token),
                        None,
                    )
                },
                &mut |_| {},
            )
            .await?;
        Ok(read.value)
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
