//! Attachments: the storage seam, the limits, and serving files.
//!
//! Files live behind [`FileStore`]; the default keeps them in a local folder
//! (`--files-dir`, `data/files` by default), two levels of sub-folders deep
//! so no folder grows huge. Another backend (S3 and the like) only has to
//! implement `put` and `get`.
//!
//! **Limits.** At most [`MAX_FILE_BYTES`] (25 MiB) per file and
//! [`MAX_FILES`] files per message, of the types in [`allowed`]: images
//! (JPEG, PNG, GIF, WebP), audio (OGG, MP3, MP4/AAC, AMR, WAV, WebM), video
//! (MP4, 3GPP, WebM), PDF, plain text, CSV, Word, Excel, PowerPoint and ZIP.
//! Anything else is refused with a 422 naming the type. These cover what
//! WhatsApp carries; SVG and HTML are refused because a browser would run
//! their scripts.
//!
//! **Who can download.** Each file gets a random 32-character key, and its
//! URL (`/files/{key}/{name}`) appears only in the payloads of those who may
//! see the message: the account's agents, and, unless it is a private note,
//! the conversation's contact. The key is the permission, as in a
//! capability URL: unguessable, never listed. Files are served with their
//! stored type, `nosniff`, and as downloads (`attachment`) unless they are
//! images, audio or video.

use std::path::PathBuf;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiPath;
use crate::http::AppState;
use crate::store::{NewAttachment, StoreError};

/// Largest file accepted.
pub(crate) const MAX_FILE_BYTES: usize = 25 * 1024 * 1024;
/// Most files on one message.
pub(crate) const MAX_FILES: usize = 10;

/// Where attachment bytes are kept.
#[async_trait]
pub trait FileStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    /// Removes a file; a missing one is not an error.
    async fn delete(&self, key: &str) -> std::io::Result<()>;
}

/// Files in a local folder.
#[derive(Debug, Clone)]
pub(crate) struct LocalFiles {
    root: PathBuf,
}

impl LocalFiles {
    pub(crate) fn new(root: impl Into<PathBuf>) -> LocalFiles {
        LocalFiles { root: root.into() }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        let valid = key.len() >= 8 && key.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad file key",
            ));
        }
        Ok(self.root.join(&key[0..2]).join(&key[2..4]).join(key))
    }
}

#[async_trait]
impl FileStore for LocalFiles {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Written aside, synced, then renamed: a crash leaves no half file
        // under the real name.
        let partial = path.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        file.sync_all().await?;
        tokio::fs::rename(&partial, &path).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(key)?).await
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Chatwoot's `file_type` of an allowed MIME type; `None`: refused.
pub(crate) fn allowed(content_type: &str) -> Option<&'static str> {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Some(match base.as_str() {
        "image/jpeg" | "image/png" | "image/gif" | "image/webp" => "image",
        "audio/ogg" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/amr" | "audio/wav"
        | "audio/webm" => "audio",
        "video/mp4" | "video/3gpp" | "video/webm" => "video",
        "application/pdf"
        | "text/plain"
        | "text/csv"
        | "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/zip" => "file",
        _ => return None,
    })
}

/// A file name safe to show and to put in a header: no path, no control
/// characters, at most 200 characters.
pub(crate) fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        "file".to_string()
    } else {
        name.to_string()
    }
}

/// A file received from an agent, a contact or a channel.
#[derive(Debug)]
pub struct Upload {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Checks size and type: `field` names the form field in errors.
    pub fn check(&self, field: &str) -> ApiResult<&'static str> {
        if self.bytes.is_empty() {
            return Err(ApiError::invalid(field, "is an empty file"));
        }
        if self.bytes.len() > MAX_FILE_BYTES {
            return Err(ApiError::invalid(
                field,
                format!("is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)),
            ));
        }
        allowed(&self.content_type).ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("has a type that is not accepted ({})", self.content_type),
            )
        })
    }
}

/// Stores checked uploads and returns their descriptions, which the message
/// keeps in `content_attributes.attachments` (and its JSON as `attachments`).
pub(crate) async fn store(
    store: &dyn crate::store::Store,
    files: &dyn FileStore,
    public_url: &str,
    account_id: i64,
    conversation_id: i64,
    uploads: Vec<Upload>,
) -> ApiResult<Vec<Value>> {
    let kept = put(files, uploads).await?;
    record(store, files, public_url, account_id, conversation_id, kept).await
}

/// A file whose bytes are stored but not yet recorded.
#[derive(Debug)]
pub(crate) struct Kept {
    key: String,
    name: String,
    content_type: String,
    file_type: &'static str,
    size: usize,
}

/// Checks and stores the bytes of uploads (nothing else): a caller can then
/// create what the files belong to, and [`record`] them. If one fails,
/// those already stored are removed.
pub(crate) async fn put(files: &dyn FileStore, uploads: Vec<Upload>) -> ApiResult<Vec<Kept>> {
    for upload in &uploads {
        upload.check("attachments[]")?;
    }
    let mut kept: Vec<Kept> = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let key = crate::secrets::random_token(32);
        if let Err(e) = files.put(&key, &upload.bytes).await {
            remove(files, &kept).await;
            return Err(ApiError::internal(e));
        }
        kept.push(Kept {
            file_type: allowed(&upload.content_type).unwrap_or("file"),
            name: clean_name(&upload.name),
            content_type: upload
                .content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
            size: upload.bytes.len(),
            key,
        });
    }
    Ok(kept)
}

/// Removes stored bytes that will not be recorded after all.
pub(crate) async fn discard(files: &dyn FileStore, kept: Vec<Kept>) {
    remove(files, &kept).await
}

async fn remove(files: &dyn FileStore, kept: &[Kept]) {
    for k in kept {
        if let Err(e) = files.delete(&k.key).await {
            tracing::warn!(error = %e, "cannot remove an unused file");
        }
    }
}

/// Records stored files as a conversation's and describes them; if that
/// fails, their bytes are removed.
pub(crate) async fn record(
    store: &dyn crate::store::Store,
    files: &dyn FileStore,
    public_url: &str,
    account_id: i64,
    conversation_id: i64,
    kept: Vec<Kept>,
) -> ApiResult<Vec<Value>> {
    let mut out = Vec::with_capacity(kept.len());
    for (done, k) in kept.iter().enumerate() {
        let inserted = store
            .insert_attachment(&NewAttachment {
                account_id,
                conversation_id,
                file_key: k.key.clone(),
                file_type: k.file_type.to_string(),
                content_type: k.content_type.clone(),
                file_name: k.name.clone(),
                byte_size: k.size as i64,
            })
            .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) => {
                let recorded: Vec<String> = kept[..done].iter().map(|k| k.key.clone()).collect();
                if let Err(e) = store.delete_attachments(account_id, &recorded).await {
                    tracing::warn!(error = %e, "cannot forget unused files");
                }
                remove(files, &kept).await;
                return Err(e.into());
            }
        };
        let extension = k.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let url = format!("{public_url}/files/{}/{}", k.key, encode_path(&k.name));
        out.push(json!({
            "id": id,
            "file_type": k.file_type,
            "content_type": k.content_type,
            "extension": extension,
            "file_name": k.name,
            "file_size": k.size,
            "data_url": url,
            "thumb_url": if k.file_type == "image" { url.clone() } else { String::new() },
        }));
    }
    Ok(out)
}

/// The file keys of a message's attachments: the segment before the name
/// in their `data_url`s (`{public_url}/files/{key}/{name}`; the name is
/// percent-encoded, so it has no `/`).
pub(crate) fn keys_of(content_attributes: &Value) -> Vec<String> {
    content_attributes["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["data_url"].as_str())
        .filter_map(|url| url.rsplit('/').nth(1))
        .map(str::to_string)
        .collect()
}

/// Forgets files whose message or conversation is gone: their records
/// first (the links stop working at once), then their bytes. Failures are
/// logged, not returned: the deletion they follow has happened, and a file
/// left behind is unreachable without its record.
pub(crate) async fn forget(
    store: &std::sync::Arc<dyn crate::store::Store>,
    files: &std::sync::Arc<dyn FileStore>,
    account_id: i64,
    keys: &[String],
) {
    if keys.is_empty() {
        return;
    }
    if let Err(e) = store.delete_attachments(account_id, keys).await {
        tracing::warn!(error = %e, files = keys.len(), "cannot forget deleted files");
        return;
    }
    for key in keys {
        if let Err(e) = files.delete(key).await {
            tracing::warn!(error = %e, "cannot remove a deleted file");
        }
    }
}

/// Forgets the files of deleted conversations. Like [`forget`], failures
/// are logged: the deletion has happened, and its answer says so.
pub(crate) async fn forget_conversations(
    store: &std::sync::Arc<dyn crate::store::Store>,
    files: &std::sync::Arc<dyn FileStore>,
    account_id: i64,
    conversation_ids: &[i64],
) {
    match store.attachment_keys(account_id, conversation_ids).await {
        Ok(keys) => forget(store, files, account_id, &keys).await,
        Err(e) => tracing::warn!(error = %e, "cannot list deleted conversations' files"),
    }
}

/// Percent-encodes a file name for a URL path segment.
fn encode_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /files/{key}/{name}`: an attachment's bytes (see [`serve`]).
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/files/{key}/{name}", axum::routing::get(serve))
}

/// `GET /files/{key}/{name}`: the file, for whoever holds its URL.
pub(crate) async fn serve(
    State(state): State<AppState>,
    ApiPath((key, _name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let found = match state.store.attachment_by_key(&key).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("File")),
        Err(e) => return Err(e.into()),
    };
    let bytes = state
        .files
        .get(&found.file_key)
        .await
        .map_err(|_| ApiError::not_found("File"))?;
    let inline = matches!(found.file_type.as_str(), "image" | "audio" | "video");
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        found
            .file_name
            .replace(|c: char| !c.is_ascii() || c == '"', "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, found.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_names() {
        assert_eq!(allowed("image/png"), Some("image"));
        assert_eq!(allowed("audio/ogg; codecs=opus"), Some("audio"));
        assert_eq!(allowed("application/pdf"), Some("file"));
        assert_eq!(allowed("image/svg+xml"), None);
        assert_eq!(allowed("text/html"), None);
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_name("C:\\x\\relatório \"final\".pdf"),
            "relatório final.pdf"
        );
        assert_eq!(clean_name(".."), "file");
        assert_eq!(encode_path("a b.pdf"), "a%20b.pdf");
        let attributes = json!({"attachments": [
            {"data_url": "https://acme.test/files/files/KEY1/a%2Fb.pdf"},
            {"data_url": "https://acme.test/chat/files/KEY2/x.png"},
        ]});
        assert_eq!(keys_of(&attributes), ["KEY1", "KEY2"]);
    }
}
