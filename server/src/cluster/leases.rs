//! The cluster's rows in Postgres (migration 0013): which nodes are alive,
//! which node owns each account (a lease with an epoch), and blocks of ids.
//! Every time is the database's clock, so nodes need not agree on theirs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;

use crate::hub::{BlockSource, BLOCK};

/// How long a lease (and a node's heartbeat) lasts unless renewed. A node
/// renews every [`RENEW_EVERY`]; one that misses two renewals in a row is
/// taken for dead and its accounts move.
pub(crate) const LEASE: Duration = Duration::from_secs(3);
/// How often a node renews its leases and heartbeat.
pub(crate) const RENEW_EVERY: Duration = Duration::from_secs(1);

/// What trying to take an account's lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// This node holds it now, at this epoch.
    At(i64),
    /// Another node holds a live lease.
    Held,
    /// No such account.
    NoAccount,
}

/// A live lease as another node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) node: String,
    pub(crate) live: bool,
}

/// This node's queries.
#[derive(Clone)]
pub(crate) struct Leases {
    pool: PgPool,
    node: Arc<str>,
    /// The block above every id stored before the cluster took over ids.
    floor: i64,
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Leases {
    /// `max_id`: the largest conversation or message id stored.
    pub(crate) fn new(pool: PgPool, node: Arc<str>, max_id: i64) -> Leases {
        Leases {
            pool,
            node,
            floor: max_id / BLOCK + 1,
        }
    }

    /// Says this node is alive for another [`LEASE`]; returns every live
    /// node's name, sorted.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn heartbeat(&self) -> sqlx::Result<Vec<String>> {
        sqlx::query(
            "INSERT INTO cluster_nodes (name, expires_at) \
             VALUES ($1, now() + make_interval(secs => $2)) \
             ON CONFLICT (name) DO UPDATE SET expires_at = EXCLUDED.expires_at",
        )
        .bind(self.node.as_ref())
        .bind(seconds(LEASE))
        .execute(&self.pool)
        .await?;
        self.live_nodes().await
    }

    /// Every live node's name, sorted.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn live_nodes(&self) -> sqlx::Result<Vec<String>> {
        sqlx::query_scalar("SELECT name FROM cluster_nodes WHERE expires_at > now() ORDER BY name")
            .fetch_all(&self.pool)
            .await
    }

    /// This node is leaving: it is no longer counted among the live.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn leave(&self) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM cluster_nodes WHERE name = $1")
            .bind(self.node.as_ref())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Renews, in one statement, the leases of `accounts` this node still
    /// holds; returns them (account -> epoch). A lease that expired before
    /// this renewal is not among them: it may have moved. Only accounts the
    /// node has loaded are renewed: a lease left by an earlier process of
    /// the same name runs out and is taken over like any other.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn renew(&self, accounts: &[i64]) -> sqlx::Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "UPDATE shard_leases SET expires_at = now() + make_interval(secs => $2) \
             WHERE node = $1 AND expires_at > now() AND account_id = ANY($3) \
             RETURNING account_id, epoch",
        )
        .bind(self.node.as_ref())
        .bind(seconds(LEASE))
        .bind(accounts)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Takes the account's lease if nobody holds a live one, one epoch
    /// above the last.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn acquire(&self, account_id: i64) -> sqlx::Result<Taken> {
        let epoch: Option<i64> = sqlx::query_scalar(
            "INSERT INTO shard_leases (account_id, node, epoch, expires_at) \
             SELECT id, $2, 1, now() + make_interval(secs => $3) FROM accounts WHERE id = $1 \
             ON CONFLICT (account_id) DO UPDATE SET node = EXCLUDED.node, \
                 epoch = shard_leases.epoch + 1, expires_at = EXCLUDED.expires_at \
             WHERE shard_leases.expires_at <= now() \
             RETURNING epoch",
        )
        .bind(account_id)
        .bind(self.node.as_ref())
        .bind(seconds(LEASE))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(epoch) = epoch {
            return Ok(Taken::At(epoch));
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(if exists.is_some() {
            Taken::Held
        } else {
            Taken::NoAccount
        })
    }

    /// Gives the lease up at once (a graceful hand-over), if this node
    /// still holds it at `epoch`.
    ///
    /// # Errors
    /// The database failed (the lease then simply expires).
    pub(crate) async fn release(&self, account_id: i64, epoch: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE shard_leases SET expires_at = '-infinity' \
             WHERE account_id = $1 AND node = $2 AND epoch = $3",
        )
        .bind(account_id)
        .bind(self.node.as_ref())
        .bind(epoch)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Who holds the account's lease, if anyone ever did.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn holder(&self, account_id: i64) -> sqlx::Result<Option<Holder>> {
        let row: Option<(String, bool)> = sqlx::query_as(
            "SELECT node, expires_at > now() FROM shard_leases WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(node, live)| Holder { node, live }))
    }

    /// Accounts whose lease ran out or was given up: a dead node's, or
    /// one handed over. Their preferred live node takes them, so their
    /// outbox and time rules keep running with nobody asking.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn orphans(&self, limit: i64) -> sqlx::Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT account_id FROM shard_leases WHERE expires_at <= now() \
             ORDER BY account_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}

#[async_trait]
impl BlockSource for Leases {
    async fn next_block(&self) -> anyhow::Result<i64> {
        let block: i64 = sqlx::query_scalar(
            "UPDATE id_blocks SET last_block = GREATEST(last_block + 1, $1) RETURNING last_block",
        )
        .bind(self.floor)
        .fetch_one(&self.pool)
        .await?;
        Ok(block)
    }
}
