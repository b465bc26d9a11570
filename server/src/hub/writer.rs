//! The group-commit writer: one task that takes queued writes, commits as many
//! as are waiting in one transaction, then tells every waiter.
//!
//! There is no timer: while one batch commits (an fsync on SQLite), the next
//! one accumulates, so batches grow exactly as fast as load does and a lone
//! write is never held back. The queue is bounded; callers reserve a slot
//! *before* changing any in-memory state, so a full queue refuses cleanly (503)
//! instead of growing or dropping. Transient database failures are retried
//! forever with backoff (nothing is dropped; the queue fills and pushes back);
//! a write the database itself rejects fails alone, and only its waiter hears.

use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::store::{Fence, Store, StoreError, WriteOp};

/// Most writes (rows) one transaction carries.
pub const MAX_BATCH_OPS: usize = 4096;

/// The outcome of one logical write, as every waiter sees it.
pub type Outcome = Option<Result<(), Refusal>>;

/// Why a write did not commit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// The database refused it (or the writer stopped first).
    #[error("{0}")]
    Database(Arc<str>),
    /// Cluster mode: this node no longer owns the account (its lease
    /// expired or moved); the account's new owner must take the write.
    #[error("this node no longer owns the account")]
    Moved,
}

/// A receiver that completes when the write it belongs to is committed.
#[derive(Debug, Clone)]
pub struct Durable(watch::Receiver<Outcome>);

impl Durable {
    /// Already committed (e.g. a row loaded from the database).
    pub fn committed() -> Durable {
        let (_tx, rx) = watch::channel(Some(Ok(())));
        Durable(rx)
    }

    /// Waits for the commit.
    ///
    /// # Errors
    /// Why the database refused the write (the whole commit it was in), or
    /// that the writer stopped before committing it.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the write stays
    /// queued and commits (or is refused) all the same.
    pub async fn wait(mut self) -> Result<(), Refusal> {
        match self.0.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
            Err(_) => Err(Refusal::Database(Arc::from(
                "the writer stopped before committing",
            ))),
        }
    }
}

struct Job {
    ops: Vec<WriteOp>,
    done: watch::Sender<Outcome>,
    shard: Option<ShardRef>,
}

/// The shard a job belongs to: its account, its stale flag (absent when
/// the job changes nothing the shard holds in memory) and, in cluster
/// mode, the lease epoch it was loaded under.
#[derive(Debug, Clone)]
pub struct ShardRef {
    pub account_id: i64,
    pub stale: Option<Arc<std::sync::atomic::AtomicBool>>,
    pub epoch: Option<i64>,
}

impl Job {
    /// The database refused this job: its shard is stale from now on.
    fn refused(&self, refused: &mpsc::UnboundedSender<i64>) {
        if let Some(ShardRef {
            account_id,
            stale: Some(stale),
            ..
        }) = &self.shard
        {
            stale.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = refused.send(*account_id);
        }
    }
}

enum Msg {
    Job(Job),
    /// Commit what is queued, then stop.
    Stop,
}

/// The queue's sending side; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
}

/// A reserved place in the queue: taking it cannot fail or wait.
pub struct Slot<'a>(mpsc::Permit<'a, Msg>);

impl Slot<'_> {
    /// Queues `ops` as one logical write, committed together. `shard`: the
    /// shard that already holds the change in memory, marked stale (before
    /// the caller hears of the refusal) and named to the hub if the
    /// database refuses it.
    pub fn send(self, shard: Option<ShardRef>, ops: Vec<WriteOp>) -> Durable {
        let (done, rx) = watch::channel(None);
        self.0.send(Msg::Job(Job { ops, done, shard }));
        Durable(rx)
    }
}

/// The queue stayed full for the whole wait: the caller should answer 503.
#[derive(Debug, thiserror::Error)]
#[error("the write queue is full")]
pub struct QueueFull;

impl Writer {
    /// Starts the writer task over `store` with room for `capacity` queued writes.
    /// The accounts of refused writes are sent to `refused`. `node`: in
    /// cluster mode, this node's name; every commit is then fenced by the
    /// leases of the accounts it touches (see [`Fence`]).
    pub fn spawn(
        store: Arc<dyn Store>,
        capacity: usize,
        metrics: Arc<Metrics>,
        refused: mpsc::UnboundedSender<i64>,
        node: Option<Arc<str>>,
    ) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity);
        let committer = Committer {
            store,
            metrics,
            refused,
            node,
        };
        let handle = tokio::spawn(run(committer, rx));
        (Writer { tx }, handle)
    }

    /// Reserves a queue slot, waiting up to `wait` for one to free.
    ///
    /// # Errors
    /// [`QueueFull`] when no slot freed within `wait` (or the writer has
    /// stopped): the caller answers "busy" having changed nothing.
    ///
    /// # Cancel safety
    /// Cancel safe: a future dropped before it completes holds no slot
    /// (it only loses its place among the waiters, as tokio's
    /// `mpsc::Sender::reserve`); a [`Slot`] dropped unused frees its place.
    pub async fn reserve(&self, wait: Duration) -> Result<Slot<'_>, QueueFull> {
        match tokio::time::timeout(wait, self.tx.reserve()).await {
            Ok(Ok(permit)) => Ok(Slot(permit)),
            _ => Err(QueueFull),
        }
    }

    /// (writes queued now, the queue's capacity), for `/metrics`.
    pub fn depth(&self) -> (usize, usize) {
        let capacity = self.tx.max_capacity();
        (capacity - self.tx.capacity(), capacity)
    }

    /// Asks the writer to commit everything queued so far and stop.
    pub async fn stop(&self) {
        let _ = self.tx.send(Msg::Stop).await;
    }
}

/// What the writer task commits with.
struct Committer {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    refused: mpsc::UnboundedSender<i64>,
    /// Cluster mode: this node's name, for the fence.
    node: Option<Arc<str>>,
}

async fn run(committer: Committer, mut rx: mpsc::Receiver<Msg>) {
    let mut stopping = false;
    while !stopping {
        let Some(first) = rx.recv().await else { break };
        let mut jobs = Vec::new();
        let mut ops = 0;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Job(job) => {
                    ops += job.ops.len();
                    jobs.push(job);
                }
                Msg::Stop => {
                    stopping = true;
                    rx.close();
                }
            }
            if ops < MAX_BATCH_OPS {
                next = rx.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            committer.commit(jobs).await;
            // Between two commits, once everyone has heard: the only
            // moment log upkeep cannot race a write.
            committer.store.between_commits().await;
        }
    }
    // After a stop, whatever was still queued behind it is committed too.
    let mut rest = Vec::new();
    while let Ok(Msg::Job(job)) = rx.try_recv() {
        rest.push(job);
    }
    if !rest.is_empty() {
        committer.commit(rest).await;
    }
    tracing::info!("writer stopped; every queued write is committed");
}

impl Committer {
    /// Commits `jobs` in one transaction; when the database refuses it,
    /// finds the job it refuses by committing each alone. In cluster mode
    /// the jobs of accounts this node no longer holds are refused as
    /// [`Refusal::Moved`] and the rest commit without them.
    async fn commit(&self, mut jobs: Vec<Job>) {
        if self.node.is_some() {
            // A job without an epoch belongs to no lease: it cannot be fenced.
            let (fenced, unowned): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|j| j.shard.as_ref().is_some_and(|s| s.epoch.is_some()));
            for job in unowned {
                self.moved(job);
            }
            jobs = fenced;
        }
        // One flat batch; each job remembers where its writes start and end.
        let mut batch: Vec<WriteOp> = Vec::with_capacity(jobs.iter().map(|j| j.ops.len()).sum());
        let mut bounds = Vec::with_capacity(jobs.len());
        for job in &mut jobs {
            let start = batch.len();
            batch.append(&mut job.ops);
            bounds.push(start..batch.len());
        }
        loop {
            if jobs.is_empty() {
                return;
            }
            let fence = self.fence(&jobs);
            let started = std::time::Instant::now();
            let outcome = apply_with_retry(self.store.as_ref(), &batch, fence.as_ref()).await;
            self.metrics.committed(jobs.len(), started.elapsed());
            match outcome {
                Ok(()) => {
                    for job in jobs {
                        job.done.send_replace(Some(Ok(())));
                    }
                    return;
                }
                Err(StoreError::Fenced(lost)) => {
                    tracing::warn!(accounts = ?lost, "commit fenced: this node lost these accounts");
                    // The rest commit again without the lost accounts' writes.
                    let mut kept = Vec::new();
                    let mut kept_batch = Vec::new();
                    let mut kept_bounds = Vec::new();
                    for (job, range) in jobs.into_iter().zip(bounds) {
                        let gone = job
                            .shard
                            .as_ref()
                            .is_some_and(|s| lost.contains(&s.account_id));
                        if gone {
                            self.moved(job);
                            continue;
                        }
                        let start = kept_batch.len();
                        kept_batch.extend_from_slice(&batch[range]);
                        kept_bounds.push(start..kept_batch.len());
                        kept.push(job);
                    }
                    (jobs, batch, bounds) = (kept, kept_batch, kept_bounds);
                }
                Err(_) if jobs.len() > 1 => {
                    // Find the write the database refuses: each job on its own.
                    for (job, range) in jobs.into_iter().zip(bounds) {
                        let fence = self.fence(std::slice::from_ref(&job));
                        let ops = &batch[range];
                        match apply_with_retry(self.store.as_ref(), ops, fence.as_ref()).await {
                            Ok(()) => {
                                job.done.send_replace(Some(Ok(())));
                            }
                            Err(StoreError::Fenced(_)) => self.moved(job),
                            Err(e) => self.refuse(job, &e),
                        }
                    }
                    return;
                }
                Err(e) => {
                    for job in jobs {
                        self.refuse(job, &e);
                    }
                    return;
                }
            }
        }
    }

    /// The leases `jobs` need (cluster mode only).
    fn fence(&self, jobs: &[Job]) -> Option<Fence> {
        let node = self.node.clone()?;
        let mut leases: Vec<(i64, i64)> = jobs
            .iter()
            .filter_map(|j| {
                let shard = j.shard.as_ref()?;
                Some((shard.account_id, shard.epoch?))
            })
            .collect();
        leases.sort_unstable();
        leases.dedup();
        Some(Fence { node, leases })
    }

    /// The database refused `job`: its shard is stale, its waiter hears why.
    fn refuse(&self, job: Job, err: &StoreError) {
        job.refused(&self.refused);
        job.done
            .send_replace(Some(Err(Refusal::Database(Arc::from(err.to_string())))));
    }

    /// This node does not hold `job`'s account: its shard is stale (never
    /// written from again), its waiter retries on the new owner.
    fn moved(&self, job: Job) {
        if let Some(stale) = job.shard.as_ref().and_then(|s| s.stale.as_ref()) {
            stale.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        job.done.send_replace(Some(Err(Refusal::Moved)));
    }
}

/// Applies one batch; transient failures are retried until they pass.
///
/// A transient failure may have hit the COMMIT itself, after the batch was
/// in: if a retry then finds the lease gone, the batch may be in the
/// database already, so it is not "moved" (which would have the new owner
/// apply it again) but a refusal whose outcome is unknown.
async fn apply_with_retry(
    store: &dyn Store,
    ops: &[WriteOp],
    fence: Option<&Fence>,
) -> Result<(), StoreError> {
    let mut delay = Duration::from_millis(10);
    let mut failed_once = false;
    loop {
        match store.apply_batch(ops, fence).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Fenced(_)) if failed_once => {
                tracing::error!(
                    ops = ops.len(),
                    "lease lost while retrying a commit: outcome unknown"
                );
                return Err(StoreError::Invalid(
                    "the lease moved while the commit was retried; it may have been made".into(),
                ));
            }
            Err(e) if is_transient(&e) => {
                failed_once = true;
                tracing::warn!(error = %e, retry_in = ?delay, ops = ops.len(), "write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Err(e) => {
                tracing::error!(error = %e, ops = ops.len(), "the database refused a write");
                return Err(e);
            }
        }
    }
}

/// Failures that go away by themselves: lost connections, a busy database.
fn is_transient(err: &StoreError) -> bool {
    let StoreError::Database(e) = err else {
        return false;
    };
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite BUSY/LOCKED; Postgres serialization, deadlock,
            // connection and shutdown classes.
            matches!(
                code.as_ref(),
                "5" | "6" | "517" | "40001" | "40P01" | "57P01" | "57P03"
            ) || code.starts_with("08")
        }
        _ => false,
    }
}
