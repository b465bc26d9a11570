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
}
