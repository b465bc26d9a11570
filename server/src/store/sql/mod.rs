//! The SQL store, generic over the sqlx database driver.
//!
//! The queries are written once, in the SQL both SQLite and Postgres accept
//! (`$1` placeholders, `RETURNING`, `ON CONFLICT`); what differs between the
//! backends (connection options, migrations) lives in the two `open_*`
//! constructors. Each file implements one of the store traits under the same
//! set of driver bounds, spelled out in full because Rust does not carry
//! `where` clauses from one impl to another.

mod accounts;
mod agents;
mod attachments;
mod batch;
mod cache;
mod chat;
mod contacts;
mod inboxes;
mod integrations;
mod outbox;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Pool, Postgres, Sqlite};

use super::StoreError;

/// The database-backed store; `DB` is `Sqlite` or `Postgres`. Clones
/// share the pool and the cache: they are one store.
#[derive(Debug)]
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    /// Shared by clones: they are one store.
    contacts: std::sync::Arc<cache::ContactCache>,
    /// SQLite: set when the WAL has grown past [`WAL_RESTART_FRAMES`].
    wal_full: Arc<AtomicBool>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            contacts: self.contacts.clone(),
            wal_full: self.wal_full.clone(),
        }
    }
}

impl<DB: Database> SqlStore<DB> {
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Cluster mode: other nodes write the same rows, so contacts and
    /// links are no longer remembered between reads (an entry could not
    /// be told when another node changed its row).
    pub fn shared_with_other_nodes(&self) {
        self.contacts.turn_off();
    }
}

impl SqlStore<Sqlite> {
    /// Opens (creating if missing) the SQLite file named by `url`, in WAL mode
    /// with full fsync on commit: an acknowledged write survives power loss,
    /// and group commit keeps the fsync count low.
    pub async fn open_sqlite(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid SQLite URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 64 MiB of page cache per connection and reads through mmap: the
            // writer re-reads index pages on every batch, and the default
            // 2 MiB cache sends most of those reads to the kernel.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            .pragma("temp_store", "memory")
            // Checkpoints run on a background task (see `checkpoints`), not
            // inside the commit of whichever batch crosses the threshold.
            .pragma("wal_autocheckpoint", "0")
            // A log that starts over is cut back to 64 MiB.
            .pragma("journal_size_limit", "67108864");
        if let Some(parent) = Path::new(options.get_filename()).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("cannot create the database folder {}", parent.display())
                })?;
            }
        }
        // Migrations run on a connection of their own, closed before the
        // pool opens any: a migration that edits the schema's text (see
        // 0006_whatsapp.sql) leaves no connection with the old schema cached.
        let mut migrating =
            <sqlx::sqlite::SqliteConnection as sqlx::Connection>::connect_with(&options)
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&mut migrating)
            .await
            .context("cannot apply the SQLite migrations")?;
        sqlx::Connection::close(migrating)
            .await
            .context("cannot close the migration connection")?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {url}"))?;
        let wal_full = Arc::new(AtomicBool::new(false));
        tokio::spawn(checkpoints(pool.clone(), wal_full.clone()));
        Ok(SqlStore {
            pool,
            contacts: Default::default(),
            wal_full,
        })
    }
}

/// Copies the WAL back into the database file every few hundred
/// milliseconds, off the writer's path, so the WAL stays small without any
/// commit paying for it. Ends when the pool is closed.
async fn checkpoints(pool: Pool<Sqlite>, wal_full: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        let frames = match passive {
            Ok((_, frames, _)) => frames,
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                continue;
            }
        };
        // Under a steady stream of commits this checkpoint, racing the
        // writer, never finishes with the log, so the log never starts over.
        // Past the limit the writer checkpoints between two of its commits
        // (see `between_commits`), which lets the next commit restart it.
        if frames >= WAL_RESTART_FRAMES {
            wal_full.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Log frames (pages of 4 KiB) past which the writer restarts the WAL: 32 MiB.
const WAL_RESTART_FRAMES: i64 = 8_192;

impl SqlStore<Postgres> {
    /// Connects to Postgres and applies pending migrations.
    pub async fn open_postgres(url: &str) -> anyhow::Result<Self> {
        let shown = super::redact_url(url);
        let options = PgConnectOptions::from_str(url)
            .with_context(|| format!("invalid Postgres URL {shown}"))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to Postgres at {shown}"))?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .context("cannot apply the Postgres migrations")?;
        Ok(SqlStore {
            pool,
            contacts: Default::default(),
            wal_full: Default::default(),
        })
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] with `what`.
fn conflict_on_unique(err: sqlx::Error, what: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => StoreError::Database(err),
    }
}

/// Parses a stored enum column, reporting a corrupt row instead of panicking.
fn parse_column<T>(
    value: &str,
    parse: fn(&str) -> Option<T>,
    column: &str,
) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("{column} = {value:?}")))
}
