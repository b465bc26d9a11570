//! The durable outbox: every outbound call (account webhooks, API inbox
//! callbacks, WhatsApp sends) is a row written in the same commit as the
//! change that caused it ([`plan`]), then delivered by this worker.
//!
//! - **At least once.** A row stays `pending` until an attempt succeeds; a
//!   crash or restart between the call and its record means the call is made
//!   again, so receivers de-duplicate on the delivery id they are sent.
//! - **Retries** back off exponentially (`retry_base` doubling up to
//!   `retry_max`) with jitter (each wait is 50-100% of its step, so failed
//!   receivers are not hit in lockstep), honour `Retry-After` on any refusal
//!   that carries it, and stop 24 hours after the row was written: the row is
//!   then `failed` with its last error, and an administrator can retry it.
//! - **Per destination** (scheme, host and port) at most `per_destination`
//!   calls run at once, each bounded by `timeout`, so one slow receiver takes
//!   a few workers, not all of them, and never delays a chat: nothing on the
//!   chat path waits for the outbox.
//! - **Private networks** are refused unless allowed, see [`guard`].
//!
//! The worker wakes when a commit that queued calls is durable, when an
//! attempt ends, and otherwise when the next retry is due.

pub mod guard;
pub mod plan;
mod render;
pub mod send;
pub mod sign;
mod targets;

pub use plan::plan;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::store::{now_ms, Attempt, Delivery, DeliveryKind, DeliveryStatus, Store};
use send::{Answer, Call};

/// How the outbox calls out.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Allow destinations on loopback and private networks (tests, local setups).
    pub allow_private: bool,
    /// Wait before the first retry; doubles with each failure.
    pub retry_base: Duration,
    /// Longest wait between two attempts.
    pub retry_max: Duration,
    /// After this long since the row was written, failures are final.
    pub give_up_after: Duration,
    /// Each attempt's limit, connection included.
    pub timeout: Duration,
    /// Calls in flight to one destination at most.
    pub per_destination: usize,
    /// Where WhatsApp replies go.
    pub graph: crate::whatsapp::send::Graph,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            allow_private: false,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            per_destination: 4,
            graph: crate::whatsapp::send::Graph {
                url: "https://graph.facebook.com".to_string(),
                version: "v22.0".to_string(),
            },
        }
    }
}

/// Calls in flight across all destinations at most.
const IN_FLIGHT: usize = 256;

/// Starts the worker; it stops when `stop` is cancelled.
pub fn spawn(
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    files: Arc<dyn crate::files::FileStore>,
    public_url: Arc<str>,
    config: OutboxConfig,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let tracker = tokio_util::task::TaskTracker::new();
    let worker = Arc::new(Worker {
        tracker: tracker.clone(),
        client: send::client(config.allow_private, config.timeout),
        wake: hub.outbox_wake(),
        hub,
        store,
        files,
        public_url,
        config,
        busy: Mutex::default(),
        destinations: Mutex::default(),
    });
    tokio::spawn(async move {
        worker.run(stop).await;
        tracker.close();
        if tokio::time::timeout(STOP_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("outbound calls still running at shutdown; they will be retried");
        }
    })
}

/// How long shutdown waits for calls in flight.
const STOP_GRACE: Duration = Duration::from_secs(5);

struct Worker {
    tracker: tokio_util::task::TaskTracker,
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    /// Where downloaded media go, and the base of their URLs.
    files: Arc<dyn crate::files::FileStore>,
    public_url: Arc<str>,
    client: reqwest::Client,
    config: OutboxConfig,
    wake: Arc<Notify>,
    /// Deliveries being attempted (or waiting for their destination).
    busy: Mutex<HashSet<i64>>,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Where a delivery goes and what it says, or why it cannot go anywhere.
enum Target {
    Call(Call),
    /// A customer's WhatsApp media to fetch and attach to its message.
    Download {
        config: crate::store::WhatsappConfig,
        media: serde_json::Value,
    },
    /// Its destination is gone (webhook deleted, callback URL removed).
    Cancelled(String),
    /// It cannot be built (bad URL, missing data): final.
    Broken(String),
}

impl Worker {
    async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let started = self.start_due().await;
            let wait = if started > 0 {
                Duration::ZERO
            } else {
                self.until_next().await
            };
            if wait.is_zero() {
                if stop.is_cancelled() {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Starts every due delivery there is room for; returns how many.
    async fn start_due(self: &Arc<Self>) -> usize {
        let busy: Vec<i64> = self.busy().iter().copied().collect();
        let room = IN_FLIGHT.saturating_sub(busy.len());
        if room == 0 {
            return 0;
        }
        let due = match self
            .store
            .due_deliveries(now_ms(), &busy, room as i64)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read due deliveries");
                return 0;
            }
        };
        let started = due.len();
        for delivery in due {
            self.busy().insert(delivery.id);
            self.tracker.spawn(self.clone().attempt(delivery));
        }
        started
    }

    /// How long to sleep when nothing was started: until the next retry is
    /// due (at least 50 ms, at most 5 s), or 1 s when what is due is busy.
    async fn until_next(&self) -> Duration {
        let now = now_ms();
        match self.store.next_due().await {
            Ok(Some(at)) if at > now => Duration::from_millis((at - now).clamp(50, 5000) as u64),
            Ok(Some(_)) => Duration::from_secs(1),
            Ok(None) => Duration::from_secs(5),
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read the next due time");
                Duration::from_secs(1)
            }
        }
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn destination(&self, url: &reqwest::Url) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        self.destinations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_destination.max(1))))
            .clone()
    }

    async fn attempt(self: Arc<Self>, delivery: Delivery) {
        let id = delivery.id;
        let (attempt, answer) = match self.target(&delivery).await {
            Target::Cancelled(why) => (
                final_attempt(DeliveryStatus::Cancelled, None, None, why),
                None,
            ),
            Target::Broken(why) => (final_attempt(DeliveryStatus::Failed, None, None, why), None),
            Target::Call(call) => {
                let url = call.url.to_string();
                let gate = self.destination(&call.url);
                let answer = match gate.acquire_owned().await {
                    Ok(_permit) => send::post(&self.client, call).await,
                    Err(_) => Answer::Unreachable("outbox stopping".into()),
                };
                (self.judge(&delivery, url, &answer), Some(answer))
            }
            Target::Download { config, media } => {
                let fetched = crate::whatsapp::media::download(
                    &self.client,
                    &self.config.graph,
                    &config,
                    &media,
                    self.config.allow_private,
                )
                .await;
                let answer = match fetched {
                    Ok(upload) => match self.attach(&delivery, upload).await {
                        Ok(()) => Answer::Success {
                            status: 200,
                            body: String::new(),
                        },
                        Err(e) => Answer::Unreachable(e),
                    },
                    Err(answer) => answer,
                };
                let url = self.config.graph.url.clone();
                (self.judge(&delivery, url, &answer), Some(answer))
            }
        };
        self.after(&delivery, answer.as_ref(), &attempt).await;
        if let Err(e) = self.store.record_attempt(id, &attempt).await {
            // The row stays pending and is tried again: at least once.
            tracing::warn!(delivery = id, error = %e, "outbox: cannot record an attempt");
        }
        match attempt.status {
            DeliveryStatus::Delivered => {
                tracing::debug!(delivery = id, event = %delivery.event, "delivered")
            }
            DeliveryStatus::Pending => tracing::info!(
                delivery = id,
                event = %delivery.event,
                error = attempt.error.as_deref().unwrap_or(""),
                "outbound call failed; will retry"
            ),
            _ => tracing::warn!(
                delivery = id,
                event = %delivery.event,
                status = attempt.status.as_str(),
                error = attempt.error.as_deref().unwrap_or(""),
                "outbound call given up"
            ),
        }
        self.busy().remove(&id);
        self.wake.notify_one();
    }

    /// What an answer means for the delivery: done, retry when, or give up.
    fn judge(&self, delivery: &Delivery, url: String, answer: &Answer) -> Attempt {
        let now = now_ms();
        let (status_code, error, retry_after, permanent) = match answer {
            Answer::Success { status, .. } => {
                return Attempt {
                    at: now,
                    url: Some(url),
                    status_code: Some(i64::from(*status)),
                    error: None,
                    status: DeliveryStatus::Delivered,
                    next_attempt_at: now,
                }
            }
            Answer::Refused {
                status,
                body,
                retry_after,
            } if delivery.kind == DeliveryKind::Whatsapp => (
                Some(i64::from(*status)),
                crate::whatsapp::send::reason(*status, body),
                *retry_after,
                crate::whatsapp::send::permanent(*status),
            ),
            Answer::Refused {
                status,
                body,
                retry_after,
            } => (
                Some(i64::from(*status)),
                format!("HTTP {status}: {}", snippet(body)),
                *retry_after,
                // 410 Gone: the receiver says this URL is over.
                *status == 410,
            ),
            Answer::Unreachable(why) => (None, why.clone(), None, false),
        };
        let step = self.backoff(delivery.attempts);
        let wait = retry_after.map_or(step, |ra| ra.min(self.config.give_up_after));
        let next = now.saturating_add(wait.as_millis() as i64);
        let deadline = delivery
            .created_at
            .saturating_add(self.config.give_up_after.as_millis() as i64);
        let status = if permanent || next > deadline {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Pending
        };
        Attempt {
            at: now,
            url: Some(url),
            status_code,
            error: Some(error),
            status,
            next_attempt_at: next,
        }
    }

    /// The wait after `attempts` earlier failures: `retry_base * 2^attempts`,
    /// capped, then 50-100% of it at random.
    fn backoff(&self, attempts: i64) -> Duration {
        let base = self.config.retry_base.as_millis() as u64;
        let step = base
            .saturating_mul(1u64 << attempts.clamp(0, 30))
            .min(self.config.retry_max.as_millis() as u64);
        let jitter = OsRng.next_u64() % (step / 2 + 1);
        Duration::from_millis(step / 2 + jitter)
    }
}

fn final_attempt(
    status: DeliveryStatus,
    url: Option<String>,
    status_code: Option<i64>,
    error: String,
) -> Attempt {
    let now = now_ms();
    Attempt {
        at: now,
        url,
        status_code,
        error: Some(error),
        status,
        next_attempt_at: now,
    }
}

/// The start of a receiver's answer, on one line, for the delivery log.
fn snippet(body: &str) -> String {
    let line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_string()
}
