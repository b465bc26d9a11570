//! Conversation and message ids, handed out by the hub so a write can be
//! acknowledged with its id before it commits.
//!
//! One node: two counters that resume after the largest stored ids.
//! Cluster mode: both come from blocks of [`BLOCK`] ids that a node takes
//! from Postgres (see `crate::cluster`). Blocks are taken in increasing
//! order by every node, and a node takes a fresh one whenever it acquires
//! an account, so ids are unique across nodes and keep increasing within
//! an account whichever node writes it: every id the previous owner
//! committed came from a block taken before its lease ended.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

/// Ids in one block.
pub const BLOCK: i64 = 1_000_000;

/// When fewer ids than this are left in the current block, the next write
/// first takes a spare one. A write reserves a writer slot before taking
/// ids and at most [`super::QUEUE_CAPACITY`] writes wait at once, each
/// taking a handful of ids: far fewer than this.
const LOW_WATER: i64 = 250_000;

/// Where a cluster node takes blocks from.
#[async_trait]
pub trait BlockSource: Send + Sync + 'static {
    /// The next block's number: ids `n * BLOCK .. (n + 1) * BLOCK`.
    async fn next_block(&self) -> anyhow::Result<i64>;
}

pub(super) enum Ids {
    Local {
        conversation: AtomicI64,
        message: AtomicI64,
    },
    Blocks(Blocks),
}

pub(super) struct Blocks {
    source: Arc<dyn BlockSource>,
    range: Mutex<Range>,
    /// One refill at a time.
    refill: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone, Copy)]
struct Range {
    next: i64,
    end: i64,
    spare: Option<i64>,
}

impl Ids {
    /// Counters after the largest stored ids.
    pub(super) fn local(max_conversation: i64, max_message: i64) -> Ids {
        Ids::Local {
            conversation: AtomicI64::new(max_conversation + 1),
            message: AtomicI64::new(max_message + 1),
        }
    }

    /// Blocks from `source`, starting with a fresh one.
    pub(super) async fn blocks(source: Arc<dyn BlockSource>) -> anyhow::Result<Ids> {
        let first = source.next_block().await?;
        Ok(Ids::Blocks(Blocks {
            source,
            range: Mutex::new(Range {
                next: first * BLOCK,
                end: (first + 1) * BLOCK,
                spare: None,
            }),
            refill: tokio::sync::Mutex::new(()),
        }))
    }

    pub(super) fn conversation(&self) -> i64 {
        match self {
            Ids::Local { conversation, .. } => conversation.fetch_add(1, Ordering::Relaxed),
            Ids::Blocks(blocks) => blocks.take(),
        }
    }

    pub(super) fn message(&self) -> i64 {
        match self {
            Ids::Local { message, .. } => message.fetch_add(1, Ordering::Relaxed),
            Ids::Blocks(blocks) => blocks.take(),
        }
    }

    /// Before a write: makes sure a spare block is at hand when the current
    /// one runs low.
    ///
    /// # Errors
    /// The block could not be taken (the database is unreachable).
    pub(super) async fn headroom(&self) -> anyhow::Result<()> {
        let Ids::Blocks(blocks) = self else {
            return Ok(());
        };
        if !blocks.low() {
            return Ok(());
        }
        let _one = blocks.refill.lock().await;
        if !blocks.low() {
            return Ok(());
        }
        let block = blocks.source.next_block().await?;
        blocks.lock().spare = Some(block);
        Ok(())
    }

    /// After acquiring an account: go on from a block taken now, above
    /// every id the account's previous owner can have committed.
    ///
    /// # Errors
    /// The block could not be taken.
    pub(super) async fn fresh_block(&self) -> anyhow::Result<()> {
        let Ids::Blocks(blocks) = self else {
            return Ok(());
        };
        let _one = blocks.refill.lock().await;
        let block = blocks.source.next_block().await?;
        let mut range = blocks.lock();
        // A spare taken earlier is below the fresh block: dropped.
        *range = Range {
            next: block * BLOCK,
            end: (block + 1) * BLOCK,
            spare: None,
        };
        Ok(())
    }
}

impl Blocks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Range> {
        self.range.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn low(&self) -> bool {
        let range = self.lock();
        range.spare.is_none() && range.end - range.next < LOW_WATER
    }

    fn take(&self) -> i64 {
        let mut range = self.lock();
        if range.next >= range.end {
            if let Some(spare) = range.spare.take() {
                range.next = spare * BLOCK;
                range.end = (spare + 1) * BLOCK;
            } else {
                // Cannot happen while every write asks for headroom first
                // (see LOW_WATER); the id past the block would collide with
                // another node's, so say so loudly.
                tracing::error!("id block exhausted without a spare");
            }
        }
        let id = range.next;
        range.next += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(AtomicI64);

    #[async_trait]
    impl BlockSource for Counter {
        async fn next_block(&self) -> anyhow::Result<i64> {
            Ok(self.0.fetch_add(1, Ordering::SeqCst) + 1)
        }
    }

    #[tokio::test]
    async fn ids_come_from_blocks_and_a_fresh_block_goes_higher() {
        let source = Arc::new(Counter(AtomicI64::new(4)));
        let ids = Ids::blocks(source.clone()).await.unwrap();
        assert_eq!(ids.conversation(), 5 * BLOCK);
        assert_eq!(ids.message(), 5 * BLOCK + 1);
        ids.fresh_block().await.unwrap();
        assert_eq!(ids.message(), 6 * BLOCK);
        // Running low takes a spare, used once the block is spent.
        if let Ids::Blocks(blocks) = &ids {
            blocks.lock().next = 7 * BLOCK - 2;
        }
        ids.headroom().await.unwrap();
        assert_eq!(ids.message(), 7 * BLOCK - 2);
        assert_eq!(ids.message(), 7 * BLOCK - 1);
        assert_eq!(ids.message(), 7 * BLOCK, "the spare block (7) follows");
    }
}
