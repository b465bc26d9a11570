//! What every scenario shares: the run's context, the phases its tasks
//! follow, and helpers to wait, drain and check the database.

pub(crate) mod assign;
pub(crate) mod chat;
pub(crate) mod compare;
pub(crate) mod connect;
pub(crate) mod failover;
pub(crate) mod fanout;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use switchboard_protocol::chat::Message;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::api::{run_id, Api};
use crate::cli::Common;
use crate::net::{Dialer, Stamp};
use crate::progress::Progress;
use crate::report::Report;
use crate::stats::{rss_bytes, Clock, Errors};

/// Where a run is; every connection task watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connecting and preparing; nothing is measured yet.
    Setup,
    /// Measuring: senders start at `at` (plus their own offset).
    Run { at: Instant },
    /// Senders stop; receivers keep reading what is on its way.
    Stop,
    /// Everyone closes their connection.
    Close,
}

/// Concurrent reads when checking the database at the end.
const VERIFY_CONCURRENCY: usize = 8;
/// How long connection tasks get to close once told to.
const CLOSE_WITHIN: Duration = Duration::from_secs(15);

/// What a scenario works with.
pub(crate) struct Ctx {
    pub common: Common,
    pub api: Api,
    pub dialer: Arc<Dialer>,
    pub clock: Clock,
    /// This run's name: in agent e-mails, inbox names and every message.
    pub run: Arc<str>,
    pub errors: Arc<Errors>,
    pub progress: Progress,
    /// Bounds the WebSocket handshakes in flight.
    pub handshakes: Arc<Semaphore>,
    phase: watch::Sender<Phase>,
}

impl Ctx {
    /// Checks the server and the token; `connections`: how many sockets the
    /// scenario will hold, to choose source addresses.
    pub(crate) async fn new(common: &Common, connections: usize) -> anyhow::Result<Ctx> {
        let api = Api::new(common)?;
        api.check().await?;
        Ctx::with_sockets_to(common, api, &common.urls, connections).await
    }

    /// A context whose WebSockets go to `ws_urls` (`compare`'s bare relay)
    /// while `api` stays the server's.
    pub(crate) async fn with_sockets_to(
        common: &Common,
        api: Api,
        ws_urls: &[impl AsRef<str>],
        connections: usize,
    ) -> anyhow::Result<Ctx> {
        let dialer = Dialer::new(ws_urls, common.source_addresses, connections).await?;
        if !dialer.sources().is_empty() {
            tracing::info!(
                sources = ?dialer.sources(),
                "WebSockets come from these source addresses"
            );
        }
        let run = run_id();
        tracing::info!(run = %run, "run started");
        Ok(Ctx {
            common: common.clone(),
            api,
            dialer: Arc::new(dialer),
            clock: Clock::new(),
            run: run.into(),
            errors: Errors::new(),
            progress: Progress::new(!common.no_progress),
            handshakes: Arc::new(Semaphore::new(common.concurrency.max(1))),
            phase: watch::channel(Phase::Setup).0,
        })
    }

    pub(crate) fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Tells tasks to start measuring a moment from now; returns when.
    pub(crate) fn go(&self) -> Instant {
        let at = Instant::now() + Duration::from_millis(100);
        self.set_phase(Phase::Run { at });
        at
    }

    /// The server's resident memory, when `--server-pid` was given.
    pub(crate) fn server_rss(&self) -> Option<u64> {
        self.common.server_pid.and_then(rss_bytes)
    }

    /// Copies the error tally into the report and, with several URLs, how
    /// the clients were spread over them.
    pub(crate) fn finish(&self, report: &mut Report) {
        // compare's relay half has one relay for all the server's URLs.
        if self.api.urls().count() > 1 && self.dialer.opened().len() == self.api.urls().count() {
            self.add_per_url(report);
        }
        report.error_kinds = self.errors.snapshot();
        report.errors = self.errors.total();
    }

    /// Sockets opened and REST requests sent to each URL.
    fn add_per_url(&self, report: &mut Report) {
        let (opened, requests) = (self.dialer.opened(), self.api.requests());
        let rows: Vec<_> = self
            .api
            .urls()
            .zip(opened.iter().zip(&requests))
            .map(|(url, (sockets, requests))| (url.to_string(), *sockets, *requests))
            .collect();
        let lines = rows
            .iter()
            .map(|(url, sockets, requests)| {
                format!("{url}: {sockets} sockets opened, {requests} REST requests")
            })
            .collect();
        let json = rows
            .iter()
            .map(|(url, sockets, requests)| {
                serde_json::json!({"url": url, "sockets_opened": sockets, "rest_requests": requests})
            })
            .collect();
        report.add(
            "per_url",
            "per URL",
            crate::report::Measure::Table {
                json: serde_json::Value::Array(json),
                lines,
            },
        );
    }

    /// Tells every task to close and waits for them (a while; the rest are
    /// aborted when `tasks` is dropped).
    pub(crate) async fn close(&self, tasks: &mut JoinSet<()>) {
        self.set_phase(Phase::Close);
        let _ = tokio::time::timeout(CLOSE_WITHIN, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if !tasks.is_empty() {
            tracing::warn!(left = tasks.len(), "connections did not close in time");
            tasks.abort_all();
        }
    }

    /// Reads every message id of each conversation (`None` where the
    /// conversation is unknown or could not be read, which is an error). A
    /// message of this run stored more than once (a retried write the
    /// server did not de-duplicate) is an error, `stored_twice`.
    pub(crate) async fn stored_messages(
        &self,
        conversations: &[Option<i64>],
    ) -> Vec<Option<HashSet<i64>>> {
        let done = Arc::new(AtomicU64::new(0));
        let total = conversations.len();
        let seen = done.clone();
        self.progress.phase("checking the database", move || {
            format!(
                "{}/{total} conversations read",
                seen.load(Ordering::Relaxed)
            )
        });
        stream::iter(conversations.iter().copied())
            .map(|id| {
                let done = done.clone();
                async move {
                    let id = id?;
                    let first = usize::try_from(id).unwrap_or_default();
                    let read = self.api.messages(first, None, id).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    match read {
                        Ok(messages) => {
                            self.count_stored_twice(id, &messages);
                            Some(messages.iter().map(|m| m.id).collect())
                        }
                        Err(e) => {
                            self.errors.add(format!("verify_{}", e.kind()), e);
                            None
                        }
                    }
                }
            })
            .buffered(VERIFY_CONCURRENCY)
            .collect()
            .await
    }

    /// Messages of this run (their content is a stamp) stored more than once.
    fn count_stored_twice(&self, conversation_id: i64, messages: &[Message]) {
        let mut seen = HashSet::new();
        for m in messages {
            let Some(content) = m.content.as_deref() else {
                continue;
            };
            if Stamp::parse(content, &self.run).is_some() && !seen.insert(content) {
                self.errors.add(
                    "stored_twice",
                    format!("conversation {conversation_id}: `{content}`"),
                );
            }
        }
    }
}

/// Waits until `done()` or `within` has passed; `false` on timeout.
pub(crate) async fn wait_until(within: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the next phase change; `Close` if the run is over.
pub(crate) async fn next_phase(rx: &mut watch::Receiver<Phase>) -> Phase {
    match rx.changed().await {
        Ok(()) => *rx.borrow_and_update(),
        Err(_) => Phase::Close,
    }
}

/// Why an agent console stopped listening.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The run reached [`Phase::Close`].
    Close,
    /// The socket ended first (recorded as `agent_disconnected`).
    Ended,
}

/// The next text frame of an agent console that listens until the run
/// closes; phase changes before that are skipped.
pub(crate) async fn listen(
    ws: &mut crate::net::Ws,
    phase: &mut watch::Receiver<Phase>,
    errors: &Errors,
) -> Result<tokio_tungstenite::tungstenite::Utf8Bytes, Stop> {
    loop {
        tokio::select! {
            biased;
            p = next_phase(phase) => {
                if p == Phase::Close {
                    return Err(Stop::Close);
                }
            }
            text = ws.next_text() => {
                return text.map_err(|ended| {
                    errors.add("agent_disconnected", ended);
                    Stop::Ended
                });
            }
        }
    }
}

/// Spawns `count` tasks made by `task(i)`, paced at `per_second` (0: no
/// pacing), onto `tasks`.
pub(crate) async fn spawn_paced<F, Fut>(
    tasks: &mut JoinSet<()>,
    count: usize,
    per_second: f64,
    task: F,
) where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    for i in 0..count {
        if per_second > 0.0 {
            let at = start + Duration::from_secs_f64(i as f64 / per_second);
            tokio::time::sleep_until(at.into()).await;
        }
        tasks.spawn(task(i));
    }
}

/// Per-second rate of `n` over `d`.
pub(crate) fn per_second(n: u64, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

/// A counter shared by tasks.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
