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
//! - **Per destination** at most `per_destination` calls run at once, each
//!   bounded by `timeout`. A destination (a `Lane`) is one account
//!   webhook, one inbox's callback URL or WhatsApp number, or one account's
//!   CRM. Deliveries are picked lane by lane, so a slow receiver holds a few
//!   of the worker's slots and its backlog waits in the table, not in
//!   memory, while other destinations go on. Nothing on the chat path waits
//!   for the outbox.
//! - **Transient trouble on our side** (the database busy, a restart) is
//!   retried like a failed call; only a request that can never be built
//!   (unreadable facts, a bad URL) fails at once.
//! - **Private networks** are refused unless allowed, see [`guard`].
//!
//! The worker wakes when a commit that queued calls is durable, when an
//! attempt ends, and otherwise when the next retry is due.

pub mod guard;
mod payload;
pub mod plan;
pub mod send;
pub mod sign;
mod targets;

pub use plan::plan;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use tokio::sync::Notify;
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

/// Starts the worker; it stops when `stop` is cancelled. Fails only when
/// the HTTP client cannot be built (see [`send::client`]).
pub fn spawn(
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    files: Arc<dyn crate::files::FileStore>,
    public_url: Arc<str>,
    config: OutboxConfig,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let tracker = tokio_util::task::TaskTracker::new();
    let worker = Arc::new(Worker {
        tracker: tracker.clone(),
        client: send::client(config.allow_private, config.timeout)?,
        wake: hub.outbox_wake(),
        hub,
        store,
        files,
        public_url,
        config,
        busy: Mutex::default(),
    });
    Ok(tokio::spawn(async move {
        worker.run(stop).await;
        tracker.close();
        if tokio::time::timeout(STOP_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("outbound calls still running at shutdown; they will be retried");
        }
    }))
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
    /// Deliveries being attempted, and their lanes.
    busy: Mutex<HashMap<i64, Lane>>,
}

/// One destination's queue: an account webhook (whatever inbox its events
/// are about), an inbox's callback URL or WhatsApp number, or the account's
/// CRM. At most `per_destination` of a lane's deliveries are in flight. The
/// store's due query partitions the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Lane(i64, DeliveryKind, Option<i64>, Option<i64>);

impl Lane {
    fn of(d: &Delivery) -> Lane {
        let inbox = match d.kind {
            DeliveryKind::Webhook => None,
            _ => d.inbox_id,
        };
        Lane(d.account_id, d.kind, d.webhook_id, inbox)
    }
}

/// Where a delivery goes and what it says, or why it cannot go anywhere.
enum Target {
    Call(Call),
    /// A customer's WhatsApp media to fetch and attach to its message.
    Download {
        config: crate::store::WhatsappConfig,
        media: serde_json::Value,
    },
    /// A WhatsApp reply with a file, uploaded before it is sent.
    WhatsappFile {
        config: crate::store::WhatsappConfig,
        to: String,
        message: crate::store::Message,
    },
    /// A contact to sync with the account's CRM.
    Crm(crate::store::IntegrationHook, crate::crm::AgendorSettings),
    /// Its destination is gone (webhook deleted, callback URL removed).
    Cancelled(String),
    /// It cannot be built (bad URL, missing data): final.
    Broken(String),
    /// It cannot be built now (the database or account unavailable): retried.
    Later(String),
}

/// Why a request could not be built, when building it read the store.
pub(super) enum Fault {
    Later(String),
    Broken(String),
}

impl From<crate::store::StoreError> for Fault {
    fn from(e: crate::store::StoreError) -> Fault {
        Fault::Later(e.to_string())
    }
}

impl From<Fault> for Target {
    fn from(f: Fault) -> Target {
        match f {
            Fault::Later(why) => Target::Later(why),
            Fault::Broken(why) => Target::Broken(why),
        }
    }
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

    /// Starts every due delivery there is room for, lane by lane; returns
    /// how many.
    async fn start_due(self: &Arc<Self>) -> usize {
        let per_lane = self.config.per_destination.max(1);
        // Taken before the read: an attempt that ends while the query runs
        // may still be read as pending, and must not start again.
        let was_busy: HashSet<i64> = self.busy().keys().copied().collect();
        let busy_now = was_busy.len();
        let room = IN_FLIGHT.saturating_sub(busy_now);
        if room == 0 {
            return 0;
        }
        // Each lane offers at most twice its limit, so the busy rows of full
        // lanes (at most `busy_now`, plus as many others) cannot crowd out
        // the rows that can start.
        let due = match self
            .store
            .due_deliveries(now_ms(), 2 * per_lane as i64, (room + 2 * busy_now) as i64)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read due deliveries");
                return 0;
            }
        };
        let mut started = 0;
        let mut busy = self.busy();
        let mut in_lane: HashMap<Lane, usize> = HashMap::new();
        for lane in busy.values() {
            *in_lane.entry(*lane).or_default() += 1;
        }
        for delivery in due {
            let lane = Lane::of(&delivery);
            let count = in_lane.entry(lane).or_default();
            let taken = was_busy.contains(&delivery.id) || busy.contains_key(&delivery.id);
            // Cluster mode: each account's calls go out from its owner only.
            let elsewhere = !self.hub.owns(delivery.account_id);
            if started == room || taken || elsewhere || *count >= per_lane {
                continue;
            }
            *count += 1;
            started += 1;
            busy.insert(delivery.id, lane);
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

    fn busy(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Lane>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn attempt(self: Arc<Self>, delivery: Delivery) {
        let id = delivery.id;
        let (attempt, answer) = match self.target(&delivery).await {
            Target::Cancelled(why) => (
                final_attempt(DeliveryStatus::Cancelled, None, None, why),
                None,
            ),
            Target::Broken(why) => (final_attempt(DeliveryStatus::Failed, None, None, why), None),
            Target::Later(why) => {
                let answer = Answer::Unreachable(why);
                (self.judge(&delivery, None, &answer), None)
            }
            Target::Call(call) => {
                let url = call.url.to_string();
                let answer = send::post(&self.client, call).await;
                (self.judge(&delivery, Some(url), &answer), Some(answer))
            }
            Target::WhatsappFile {
                config,
                to,
                message,
            } => {
                let answer = self.send_whatsapp_file(&config, &to, &message).await;
                let url = self.config.graph.url.clone();
                (self.judge(&delivery, Some(url), &answer), Some(answer))
            }
            Target::Crm(hook, settings) => {
                let answer = self.sync_crm(&delivery, &hook, &settings).await;
                let url = settings.base_url.clone();
                (self.judge(&delivery, Some(url), &answer), Some(answer))
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
                    Ok(upload) => self.attach(&delivery, upload).await,
                    Err(answer) => answer,
                };
                let url = self.config.graph.url.clone();
                (self.judge(&delivery, Some(url), &answer), Some(answer))
            }
        };
        self.after(&delivery, answer.as_ref(), &attempt).await;
        if let Err(e) = self.store.record_attempt(id, &attempt).await {
            // The row stays pending and is tried again (at least once), but
            // not before its backoff: the slot is held until then.
            tracing::warn!(delivery = id, error = %e, "outbox: cannot record an attempt");
            tokio::time::sleep(self.backoff(delivery.attempts)).await;
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
    fn judge(&self, delivery: &Delivery, url: Option<String>, answer: &Answer) -> Attempt {
        let now = now_ms();
        let (status_code, error, retry_after, permanent) = match answer {
            Answer::Success { status, .. } => {
                return Attempt {
                    at: now,
                    url,
                    status_code: Some(i64::from(*status)),
                    error: None,
                    status: DeliveryStatus::Delivered,
                    next_attempt_at: now,
                }
            }
            // A CRM sync's refusals carry their reason; like WhatsApp's,
            // a 4xx (a wrong token, bad data) does not change on retry.
            Answer::Refused {
                status,
                body,
                retry_after,
            } if delivery.kind == DeliveryKind::Crm => (
                Some(i64::from(*status)),
                body.clone(),
                *retry_after,
                crate::whatsapp::send::permanent(*status),
            ),
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
        let wait = next_wait(step, retry_after, self.config.give_up_after);
        let next = now.saturating_add(wait.as_millis() as i64);
        let deadline = delivery
            .window_start()
            .saturating_add(self.config.give_up_after.as_millis() as i64);
        let status = if permanent || next > deadline {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Pending
        };
        Attempt {
            at: now,
            url,
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

/// The wait before the next attempt: the backoff `step`, or a receiver's
/// `Retry-After` when that is longer (capped at the whole retry window). A
/// shorter one (`0`, a date in the past) must not turn backoff into a hot
/// loop.
fn next_wait(step: Duration, retry_after: Option<Duration>, give_up_after: Duration) -> Duration {
    retry_after.map_or(step, |ra| ra.min(give_up_after).max(step))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_lengthens_the_wait_but_never_shortens_it() {
        let s = Duration::from_secs;
        let day = s(24 * 3600);
        assert_eq!(next_wait(s(4), None, day), s(4));
        assert_eq!(next_wait(s(4), Some(s(0)), day), s(4), "Retry-After: 0");
        assert_eq!(next_wait(s(4), Some(s(1)), day), s(4));
        assert_eq!(next_wait(s(4), Some(s(120)), day), s(120));
        assert_eq!(next_wait(s(4), Some(s(9 * 24 * 3600)), day), day);
    }
}
