//! Attachments' records.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::SqlStore;
use crate::store::{now, Attachment, AttachmentStore, NewAttachment, StoreError, StoreResult};

#[derive(FromRow)]
struct AttachmentRow {
    id: i64,
    account_id: i64,
    conversation_id: i64,
    file_key: String,
    file_type: String,
    content_type: String,
    file_name: String,
    byte_size: i64,
}

#[async_trait]
impl<DB> AttachmentStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn insert_attachment(&self, new: &NewAttachment) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO attachments (account_id, conversation_id, file_key, file_type, \
             content_type, file_name, byte_size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.account_id)
        .bind(new.conversation_id)
        .bind(new.file_key.as_str())
        .bind(new.file_type.as_str())
        .bind(new.content_type.as_str())
        .bind(new.file_name.as_str())
        .bind(new.byte_size)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn attachment_by_key(&self, file_key: &str) -> StoreResult<Attachment> {
        let row: Option<AttachmentRow> = sqlx::query_as(
            "SELECT id, account_id, conversation_id, file_key, file_type, content_type, \
             file_name, byte_size FROM attachments WHERE file_key = $1",
        )
        .bind(file_key)
        .fetch_optional(&self.pool)
        .await?;
        let r = row.ok_or(StoreError::NotFound)?;
        Ok(Attachment {
            id: r.id,
            account_id: r.account_id,
            conversation_id: r.conversation_id,
            file_key: r.file_key,
            file_type: r.file_type,
            content_type: r.content_type,
            file_name: r.file_name,
            byte_size: r.byte_size,
        })
    }
}
