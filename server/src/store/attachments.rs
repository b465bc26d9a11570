//! Attachments' records (their bytes are in [`crate::files::FileStore`]).

use async_trait::async_trait;

use super::StoreResult;

/// A file to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub account_id: i64,
    pub conversation_id: i64,
    pub file_key: String,
    /// `image`, `audio`, `video` or `file`.
    pub file_type: String,
    pub content_type: String,
    pub file_name: String,
    pub byte_size: i64,
}

/// A recorded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: i64,
    pub account_id: i64,
    pub conversation_id: i64,
    pub file_key: String,
    pub file_type: String,
    pub content_type: String,
    pub file_name: String,
    pub byte_size: i64,
}

#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Records a stored file; returns its id.
    async fn insert_attachment(&self, new: &NewAttachment) -> StoreResult<i64>;
    async fn attachment_by_key(&self, file_key: &str) -> StoreResult<Attachment>;
    /// The keys of the files of these conversations (before deleting them).
    async fn attachment_keys(
        &self,
        account_id: i64,
        conversation_ids: &[i64],
    ) -> StoreResult<Vec<String>>;
    /// Forgets these files' records: their links stop working.
    async fn delete_attachments(&self, account_id: i64, file_keys: &[String]) -> StoreResult<()>;
}
