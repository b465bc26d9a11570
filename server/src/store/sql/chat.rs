//! Conversations and messages: loading them for the hub, reading message
//! history, and applying the writer's batches in one transaction each.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{parse_column, SqlStore};
use crate::store::{
    ChatStore, Conversation, ConversationStatus, Fence, Message, MessageStatus, MessageType,
    Sender, StoreError, StoreResult, WriteOp,
};

const CONVERSATION_SELECT: &str = "SELECT id, account_id, inbox_id, contact_id, contact_inbox_id, \
     status, assignee_id, snoozed_until, created_at, last_activity_at, auto_assigned_at \
     FROM conversations";

const MESSAGE_SELECT: &str = "SELECT id, account_id, conversation_id, message_type, content, \
     private, sender_type, sender_id, echo_id, content_attributes, deleted, created_at, \
     updated_at, source_id, status FROM messages";

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
    auto_assigned_at: Option<i64>,
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
            auto_assigned_at: r.auto_assigned_at,
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
    source_id: Option<String>,
    status: String,
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
            source_id: r.source_id,
            status: parse_column(&r.status, MessageStatus::parse, "messages.status")?,
        })
    }
}

fn messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(Message::try_from).collect()
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
    async fn load_conversations(&self, account: Option<i64>) -> StoreResult<Vec<Conversation>> {
        let rows: Vec<ConversationRow> = sqlx::query_as(&format!(
            "{CONVERSATION_SELECT} WHERE ($1 IS NULL OR account_id = $1) ORDER BY id"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Conversation::try_from).collect()
    }

    async fn load_last_messages(&self, account: Option<i64>) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE id IN (SELECT MAX(id) FROM messages \
             WHERE message_type <> 'activity' AND deleted = FALSE \
             AND ($1 IS NULL OR account_id = $1) GROUP BY conversation_id)"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        messages(rows)
    }

    async fn load_verified_links(&self, account: Option<i64>) -> StoreResult<Vec<(i64, i64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT i.account_id, ci.id, ci.hmac_verified_at FROM contact_inboxes ci \
             JOIN inboxes i ON i.id = ci.inbox_id WHERE ci.hmac_verified_at IS NOT NULL \
             AND ($1 IS NULL OR i.account_id = $1)",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn load_last_incoming(&self, account: Option<i64>) -> StoreResult<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT conversation_id, MAX(created_at) FROM messages \
             WHERE message_type = 'incoming' AND ($1 IS NULL OR account_id = $1) \
             GROUP BY conversation_id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
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

    async fn message_by_source_id(
        &self,
        account_id: i64,
        source_id: &str,
    ) -> StoreResult<Option<Message>> {
        let row: Option<MessageRow> = sqlx::query_as(&format!(
            "{MESSAGE_SELECT} WHERE account_id = $1 AND source_id = $2"
        ))
        .bind(account_id)
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Message::try_from).transpose()
    }

    async fn last_incoming_at(&self, conversation_id: i64) -> StoreResult<Option<i64>> {
        let (at,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(created_at) FROM messages WHERE conversation_id = $1 \
             AND message_type = 'incoming'",
        )
        .bind(conversation_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(at)
    }

    async fn between_commits(&self) {
        if !self
            .wal_full
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        // No write is running: this checkpoint can reach the end of the log
        // (unless a reader still needs it; then it is asked for again), and
        // the next commit starts the log over.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }

    async fn apply_batch(&self, ops: &[WriteOp], fence: Option<&Fence>) -> StoreResult<()> {
        let applied = self.apply(ops, fence).await;
        // After the commit (or its failure): a read racing the delete
        // cannot put the row back, the generation check sees to it.
        for op in ops {
            match op {
                WriteOp::DeleteContact {
                    account_id,
                    contact_id,
                } => self.contacts.forget_contact(*account_id, *contact_id),
                WriteOp::DeleteInbox { inbox_id, .. } => self.contacts.forget_inbox(*inbox_id),
                _ => {}
            }
        }
        applied
    }
}
