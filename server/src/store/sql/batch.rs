//! Applying one batch of the writer's queue in one transaction.
//!
//! Inserts are buffered and flushed as multi-row INSERTs; anything that must
//! see them (a message edit, a delete) flushes them first, so the effect is
//! that of applying the ops one by one in queue order. Conversation states
//! are whole-row writes, so only the last per conversation is kept, and they
//! run after everything else: inserts of those
//! conversations come earlier anyway, and a row a delete removed simply
//! matches no update. A busy conversation costs one row write per batch,
//! not one per message.

use std::collections::HashMap;

use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type,
};

use super::SqlStore;
use crate::store::{
    Conversation, Fence, Message, NewDelivery, Sender, StoreError, StoreResult, WriteOp,
};

/// Most rows one multi-row statement carries (SQLite allows 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 1000;

/// Row counts of the multi-row inserts. Each shape is one SQL text, prepared
/// once per connection and cached; arbitrary counts would mean a fresh
/// prepare of a statement with thousands of parameters on every batch.
const INSERT_SHAPES: [usize; 5] = [256, 64, 16, 4, 1];

/// Splits `rows` into slices of the [`INSERT_SHAPES`] sizes, largest first.
fn shaped<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    for size in INSERT_SHAPES {
        while rows.len() >= size {
            let (head, tail) = rows.split_at(size);
            out.push(head);
            rows = tail;
        }
    }
    out
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values numbered from
/// `first`: the VALUES list of a multi-row statement (or an IN list).
/// SQLite gets plain `?`s instead: sqlx resolves each `$N` there by name, which
/// grows with the square of the parameter count.
pub(super) fn placeholders_for<DB: Database>(rows: usize, columns: usize, first: usize) -> String {
    if DB::NAME == "SQLite" {
        let row = format!("({})", vec!["?"; columns].join(", "));
        return vec![row; rows].join(", ");
    }
    placeholders(rows, columns, first)
}

/// `($1, $2), ($3, $4)`: see [`placeholders_for`].
pub(super) fn placeholders(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(first + row * columns + column).to_string());
        }
        out.push(')');
    }
    out
}

/// Inserts waiting to be flushed, in queue order.
#[derive(Default)]
struct Pending<'a> {
    conversations: Vec<&'a Conversation>,
    messages: Vec<&'a Message>,
    deliveries: Vec<&'a NewDelivery>,
}

impl<DB> SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Option<bool>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(super) async fn apply(&self, ops: &[WriteOp], fence: Option<&Fence>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        if let Some(fence) = fence {
            Self::check_fence(&mut tx, fence).await?;
        }
        let mut pending = Pending::default();
        let mut latest: HashMap<i64, &Conversation> = HashMap::new();
        for op in ops {
            match op {
                WriteOp::InsertConversation(c) => pending.conversations.push(c),
                WriteOp::InsertMessage(m) => pending.messages.push(m.as_ref()),
                WriteOp::InsertDelivery(d) => pending.deliveries.push(d),
                WriteOp::UpdateConversation(c) => {
                    latest.insert(c.id, c);
                }
                WriteOp::UpdateMessage(m) => {
                    Self::flush(&mut tx, &mut pending).await?;
                    sqlx::query(
                        "UPDATE messages SET content = $1, content_attributes = $2, deleted = $3, \
                         updated_at = $4, source_id = $5, status = $6 WHERE id = $7",
                    )
                    .bind(m.content.as_deref())
                    .bind(m.content_attributes.to_string())
                    .bind(m.deleted)
                    .bind(m.updated_at)
                    .bind(m.source_id.as_deref())
                    .bind(m.status.as_str())
                    .bind(m.id)
                    .execute(&mut *tx)
                    .await?;
                }
                WriteOp::DeleteContact {
                    account_id,
                    contact_id,
                } => {
                    Self::flush(&mut tx, &mut pending).await?;
                    sqlx::query("DELETE FROM contacts WHERE account_id = $1 AND id = $2")
                        .bind(*account_id)
                        .bind(*contact_id)
                        .execute(&mut *tx)
                        .await?;
                }
                WriteOp::DeleteInbox {
                    account_id,
                    inbox_id,
                } => {
                    Self::flush(&mut tx, &mut pending).await?;
                    sqlx::query("DELETE FROM inboxes WHERE account_id = $1 AND id = $2")
                        .bind(*account_id)
                        .bind(*inbox_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        Self::flush(&mut tx, &mut pending).await?;
        let states: Vec<&Conversation> = latest.into_values().collect();
        if DB::NAME == "SQLite" {
            // In-process, a cached statement per row is the fast path;
            // SQLite would rescan a VALUES list for every row it updates.
            for c in states {
                sqlx::query(
                    "UPDATE conversations SET status = $1, assignee_id = $2, snoozed_until = $3, \
                     last_activity_at = $4, auto_assigned_at = $5 WHERE id = $6",
                )
                .bind(c.status.as_str())
                .bind(c.assignee_id)
                .bind(c.snoozed_until)
                .bind(c.last_activity_at)
                .bind(c.auto_assigned_at)
                .bind(c.id)
                .execute(&mut *tx)
                .await?;
            }
        } else {
            // Over the network, one statement per chunk saves a round trip per row.
            for chunk in states.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "UPDATE conversations SET status = v.column2, assignee_id = v.column3, \
                     snoozed_until = v.column4, last_activity_at = v.column5, \
                     auto_assigned_at = v.column6 \
                     FROM (VALUES {}) AS v WHERE conversations.id = v.column1",
                    placeholders(chunk.len(), 6, 1)
                );
                let mut q = sqlx::query(&sql);
                for c in chunk {
                    q = q
                        .bind(c.id)
                        .bind(c.status.as_str())
                        .bind(c.assignee_id)
                        .bind(c.snoozed_until)
                        .bind(c.last_activity_at)
                        .bind(c.auto_assigned_at);
                }
                q.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Cluster mode: locks the lease rows of the batch's accounts (`FOR
    /// SHARE`, so a node taking one over waits for this commit to end) and
    /// checks that this node holds each at the epoch the batch was made
    /// under, by the database's clock. The SQL is Postgres's: the cluster
    /// refuses to start on SQLite.
    async fn check_fence(tx: &mut Transaction<'_, DB>, fence: &Fence) -> StoreResult<()> {
        if fence.leases.is_empty() {
            return Ok(());
        }
        let list = placeholders_for::<DB>(1, fence.leases.len(), 2);
        let sql = format!(
            "SELECT account_id, epoch FROM shard_leases WHERE node = $1 \
             AND expires_at > now() AND account_id IN {list} FOR SHARE"
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(fence.node.as_ref());
        for (account, _) in &fence.leases {
            query = query.bind(*account);
        }
        let held: HashMap<i64, i64> = query.fetch_all(&mut **tx).await?.into_iter().collect();
        let lost: Vec<i64> = fence
            .leases
            .iter()
            .filter(|(account, epoch)| held.get(account) != Some(epoch))
            .map(|(account, _)| *account)
            .collect();
        if lost.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Fenced(lost))
        }
    }

    /// Writes the buffered inserts: conversations before the messages that
    /// may belong to them. Existing rows are skipped, so a batch that did
    /// commit can be applied again harmlessly.
    async fn flush(tx: &mut Transaction<'_, DB>, pending: &mut Pending<'_>) -> StoreResult<()> {
        for chunk in shaped(&pending.conversations) {
            let sql = format!(
                "INSERT INTO conversations (id, account_id, inbox_id, contact_id, \
                 contact_inbox_id, status, assignee_id, snoozed_until, created_at, \
                 last_activity_at, auto_assigned_at) VALUES {} ON CONFLICT DO NOTHING",
                placeholders_for::<DB>(chunk.len(), 11, 1)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(c.id)
                    .bind(c.account_id)
                    .bind(c.inbox_id)
                    .bind(c.contact_id)
                    .bind(c.contact_inbox_id)
                    .bind(c.status.as_str())
                    .bind(c.assignee_id)
                    .bind(c.snoozed_until)
                    .bind(c.created_at)
                    .bind(c.last_activity_at)
                    .bind(c.auto_assigned_at);
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in shaped(&pending.messages) {
            let sql = format!(
                "INSERT INTO messages (id, account_id, conversation_id, message_type, content, \
                 private, sender_type, sender_id, echo_id, content_attributes, deleted, \
                 created_at, updated_at, source_id, status) VALUES {} ON CONFLICT DO NOTHING",
                placeholders_for::<DB>(chunk.len(), 15, 1)
            );
            let mut q = sqlx::query(&sql);
            for m in chunk {
                q = q
                    .bind(m.id)
                    .bind(m.account_id)
                    .bind(m.conversation_id)
                    .bind(m.message_type.as_str())
                    .bind(m.content.as_deref())
                    .bind(m.private)
                    .bind(m.sender.map(Sender::type_str))
                    .bind(m.sender.map(Sender::id))
                    .bind(m.echo_id.as_deref())
                    .bind(m.content_attributes.to_string())
                    .bind(m.deleted)
                    .bind(m.created_at)
                    .bind(m.updated_at)
                    .bind(m.source_id.as_deref())
                    .bind(m.status.as_str());
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in shaped(&pending.deliveries) {
            let sql = format!(
                "INSERT INTO outbox (account_id, kind, webhook_id, inbox_id, event, delivery_id, \
                 payload, next_attempt_at, created_at) VALUES {} \
                 ON CONFLICT (delivery_id) DO NOTHING",
                placeholders_for::<DB>(chunk.len(), 9, 1)
            );
            let mut q = sqlx::query(&sql);
            for d in chunk {
                q = q
                    .bind(d.account_id)
                    .bind(d.kind.as_str())
                    .bind(d.webhook_id)
                    .bind(d.inbox_id)
                    .bind(d.event.as_str())
                    .bind(d.delivery_id.as_str())
                    .bind(d.payload.to_string())
                    .bind(d.created_at)
                    .bind(d.created_at);
            }
            q.execute(&mut **tx).await?;
        }
        pending.conversations.clear();
        pending.messages.clear();
        pending.deliveries.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_cover_every_row_once() {
        for n in [0, 1, 3, 4, 5, 255, 256, 257, 1000, 4097] {
            let rows: Vec<usize> = (0..n).collect();
            let parts = shaped(&rows);
            assert!(parts.iter().all(|p| INSERT_SHAPES.contains(&p.len())));
            let joined: Vec<usize> = parts.concat();
            assert_eq!(joined, rows);
        }
    }

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(placeholders(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(1, 3, 2), "($2, $3, $4)");
    }
}
