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

    async fn attachment_keys(
        &self,
        account_id: i64,
        conversation_ids: &[i64],
    ) -> StoreResult<Vec<String>> {
        let mut keys = Vec::new();
        for chunk in conversation_ids.chunks(CHUNK) {
            let list = super::batch::placeholders(1, chunk.len(), 2);
            let sql = format!(
                "SELECT file_key FROM attachments WHERE account_id = $1 \
                 AND conversation_id IN {list}"
            );
            let mut query = sqlx::query_as::<DB, (String,)>(&sql).bind(account_id);
            for &id in chunk {
                query = query.bind(id);
            }
            keys.extend(query.fetch_all(&self.pool).await?.into_iter().map(|(k,)| k));
        }
        Ok(keys)
    }

    async fn delete_attachments(&self, account_id: i64, file_keys: &[String]) -> StoreResult<()> {
        for chunk in file_keys.chunks(CHUNK) {
            let list = super::batch::placeholders(1, chunk.len(), 2);
            let sql =
                format!("DELETE FROM attachments WHERE account_id = $1 AND file_key IN {list}");
            let mut query = sqlx::query::<DB>(&sql).bind(account_id);
            for key in chunk {
                query = query.bind(key.as_str());
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// Ids or keys per statement: well under both databases' parameter limits.
const CHUNK: usize = 500;
