//! Conversations and messages: loading them for the hub, reading message
//! history, and applying the writer's batches in one transaction each.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{parse_column, SqlStore};
use crate::store::{
    ChatStore, Conversation, ConversationStatus, Message, MessageType, Sender, StoreError,
    StoreResult, WriteOp,
};

const CONVERSATION_SELECT: &str = "SELECT id, account_id, inbox_id, contact_id, contact_inbox_id, \
     status, assignee_id, snoozed_until, created_at, last_activity_at FROM conversations";

const MESSAGE_SELECT: &str = "SELECT id, account_id, conversation_id, message_type, content, \
     private, sender_type, sender_id, echo_id, content_attributes, deleted, created_at, \
     updated_at FROM messages";

#[derive(FromRow)]
struct ConversationRow {
    id: i64,
    account_id: i64,
    inbox_id: i64,
    contact_id: i64,
    contact_inbox_id: Option<i64>,
    status: String,
    assignee_id: Option<i64>,
    snoozed_until: Option<i64>,
    created_at: i64,
    last_activity_at: i64,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StoreError;
    fn try_from(r: ConversationRow) -> Result<Self, StoreError> {
        Ok(Conversation {
            id: r.id,
            account_id: r.account_id,
            inbox_id: r.inbox_id,
            contact_id: r.contact_id,
            contact_inbox_id: r.contact_inbox_id,
            status: parse_column(&r.status, ConversationStatus::parse, "status")?,
            assignee_id: r.assignee_id,
            snoozed_until: r.snoozed_until,
            created_at: r.created_at,
            last_activity_at: r.last_activity_at,
        })
    }
}

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    account_id: i64,
    conversation_id: i64,
    message_type: String,
    content: Option<String>,
    private: bool,
    sender_type: Option<String>,
    sender_id: Option<i64>,
    echo_id: Option<String>,
    content_attributes: String,
    deleted: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: r.id,
            account_id: r.account_id,
            conversation_id: r.conversation_id,
            message_type: parse_column(&r.message_type, MessageType::parse, "message_type")?,
            content: r.content,
            private: r.private,
            sender: Sender::from_parts(r.sender_type.as_deref(), r.sender_id),
            echo_id: r.echo_id,
            content_attributes: serde_json::from_str(&r.content_attributes)
                .map_err(|e| StoreError::Corrupt(format!("message {}: {e}", r.id)))?,
            deleted: r.deleted,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
}

/// Most rows one multi-row INSERT carries (SQLite allows 32,766 parameters).
const ROWS_PER_INSERT: usize = 1000;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values numbered from
/// `first`: the VALUES list of a multi-row insert (or an IN list), in the
/// placeholder syntax both backends accept.
pub(super) fn placeholders(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
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

#[async_trait]
impl<DB> ChatStore for SqlStore<DB>
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
    async fn load_conversations(&self) -> StoreResult<Vec<Conversation>> {
        let rows: Vec<ConversationRow> =
            sqlx::query_as(&format!("{CONVERSATION_SELECT} ORDER BY id"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn load_last_messages(&self) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE id IN (SELECT MAX(id) FROM messages \
             WHERE message_type <> 'activity' AND deleted = FALSE GROUP BY conversation_id)"
        ))
        .fetch_all(&self.pool)
        .await?;
        messages(rows)
    }

    async fn max_ids(&self) -> StoreResult<(i64, i64)> {
        let (conversation,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM conversations")
            .fetch_one(&self.pool)
            .await?;
        let (message,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM messages")
            .fetch_one(&self.pool)
            .await?;
        Ok((conversation.unwrap_or(0), message.unwrap_or(0)))
    }

    async fn list_messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: i64,
        public_only: bool,
    ) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE conversation_id = $1 AND ($2 IS NULL OR id < $2) \
             AND ($4 = FALSE OR (private = FALSE AND message_type <> 'activity')) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(conversation_id)
        .bind(before)
        .bind(limit)
        .bind(public_only)
        .fetch_all(&self.pool)
        .await?;
        let mut list = messages(rows)?;
        list.reverse();
        Ok(list)
    }

    async fn recent_echoes(&self, conversation_id: i64, limit: i64) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE conversation_id = $1 AND echo_id IS NOT NULL \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        messages(rows)
    }

    async fn get_message(&self, conversation_id: i64, message_id: i64) -> StoreResult<Message> {
        let row: Option<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE conversation_id = $1 AND id = $2"
        ))
        .bind(conversation_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn apply_batch(&self, ops: &[WriteOp]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let mut latest: HashMap<i64, &Conversation> = HashMap::new();
        let mut i = 0;
        while i < ops.len() {
            // Runs of inserts of one kind become one multi-row INSERT; the
            // queue order is kept, so a row never precedes what it refers to.
            let run = ops[i..]
                .iter()
                .take(ROWS_PER_INSERT)
                .take_while(|op| std::mem::discriminant(*op) == std::mem::discriminant(&ops[i]))
                .count();
            match &ops[i] {
                WriteOp::InsertConversation(_) => {
                    let sql = format!(
                        "INSERT INTO conversations (id, account_id, inbox_id, contact_id, \
                         contact_inbox_id, status, assignee_id, snoozed_until, created_at, \
                         last_activity_at) VALUES {} ON CONFLICT DO NOTHING",
                        placeholders(run, 10, 1)
                    );
                    let mut q = sqlx::query(&sql);
                    for op in &ops[i..i + run] {
                        if let WriteOp::InsertConversation(c) = op {
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
                                .bind(c.last_activity_at);
                        }
                    }
                    q.execute(&mut *tx).await?;
                }
                WriteOp::InsertMessage(_) => {
                    let sql = format!(
                        "INSERT INTO messages (id, account_id, conversation_id, message_type, \
                         content, private, sender_type, sender_id, echo_id, content_attributes, \
                         deleted, created_at, updated_at) VALUES {} ON CONFLICT DO NOTHING",
                        placeholders(run, 13, 1)
                    );
                    let mut q = sqlx::query(&sql);
                    for op in &ops[i..i + run] {
                        if let WriteOp::InsertMessage(m) = op {
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
                                .bind(m.updated_at);
                        }
                    }
                    q.execute(&mut *tx).await?;
                }
                WriteOp::UpdateConversation(c) => {
                    // Deferred to the end of the batch, last state per
                    // conversation wins: see `save_conversations`.
                    latest.insert(c.id, c);
                }
                WriteOp::UpdateMessage(m) => {
                    sqlx::query(
                        "UPDATE messages SET content = $1, content_attributes = $2, deleted = $3, \
                         updated_at = $4 WHERE id = $5",
                    )
                    .bind(m.content.as_deref())
                    .bind(m.content_attributes.to_string())
                    .bind(m.deleted)
                    .bind(m.updated_at)
                    .bind(m.id)
                    .execute(&mut *tx)
                    .await?;
                }
                WriteOp::DeleteContact {
                    account_id,
                    contact_id,
                } => {
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
                    sqlx::query("DELETE FROM inboxes WHERE account_id = $1 AND id = $2")
                        .bind(*account_id)
                        .bind(*inbox_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            i += match &ops[i] {
                WriteOp::InsertConversation(_) | WriteOp::InsertMessage(_) => run,
                _ => 1,
            };
        }
        // Conversation states are whole-row writes, so only the last one per
        // conversation matters, and running them after the batch's inserts
        // and deletes changes nothing: inserts come first anyway, and a row a
        // delete removed matches no update. One statement per chunk instead
        // of one per message keeps busy conversations cheap.
        let states: Vec<&Conversation> = latest.into_values().collect();
        for chunk in states.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "UPDATE conversations SET status = v.column2, assignee_id = v.column3, \
                 snoozed_until = v.column4, last_activity_at = v.column5 \
                 FROM (VALUES {}) AS v WHERE conversations.id = v.column1",
                placeholders(chunk.len(), 5, 1)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(c.id)
                    .bind(c.status.as_str())
                    .bind(c.assignee_id)
                    .bind(c.snoozed_until)
                    .bind(c.last_activity_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
