//! A new message's body, as JSON or as `multipart/form-data` with its
//! fields and files under `attachments[]` (Chatwoot's form): read by the
//! agents' REST route and the widget's upload alike.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::AppState;
use crate::files::Upload;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostedType {
    Outgoing,
    Incoming,
}

#[derive(Debug, Deserialize)]
pub struct MessageBody {
    pub content: Option<String>,
    pub message_type: Option<PostedType>,
    /// A private note: visible to agents only.
    #[serde(default)]
    pub private: bool,
    pub content_attributes: Option<Map<String, Value>>,
    /// The client's id for this message; a retry with the same one returns
    /// the first message instead of adding another.
    pub echo_id: Option<String>,
    /// WhatsApp inboxes: send this approved template (see `whatsapp::window`).
    pub template_params: Option<crate::whatsapp::window::TemplateParams>,
}

/// A message as JSON, or as `multipart/form-data` with its fields and
/// files under `attachments[]` (Chatwoot's form).
pub struct MessageInput {
    pub body: MessageBody,
    pub files: Vec<Upload>,
}

impl MessageInput {
    /// The text, echo id and files, for senders other than agents (a
    /// website visitor's upload).
    pub fn into_parts(self) -> (Option<String>, Option<String>, Vec<Upload>) {
        (self.body.content, self.body.echo_id, self.files)
    }
}

impl FromRequest<AppState> for MessageInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            // Only files earn the route its large limit: JSON gets the usual one.
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, crate::http::MAX_BODY_BYTES)
                .await
                .map_err(|_| too_large(crate::http::MAX_BODY_BYTES))?;
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let ApiJson(body) = ApiJson::<MessageBody>::from_request(req, state).await?;
            return Ok(MessageInput {
                body,
                files: Vec::new(),
            });
        }
        let bad =
            |e: axum::extract::multipart::MultipartError| ApiError::bad_request(e.body_text());
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let mut fields = Map::new();
        let mut files = Vec::new();
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "attachments[]" || name == "attachments" {
                if files.len() >= crate::files::MAX_FILES {
                    return Err(ApiError::invalid(
                        "attachments[]",
                        format!("at most {} files per message", crate::files::MAX_FILES),
                    ));
                }
                let upload_name = field.file_name().unwrap_or("file").to_string();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = capped(field, crate::files::MAX_FILE_BYTES, "attachments[]").await?;
                files.push(Upload {
                    name: upload_name,
                    content_type,
                    bytes,
                });
                continue;
            }
            let text = capped(field, crate::http::MAX_BODY_BYTES, &name).await?;
            let text = String::from_utf8(text)
                .map_err(|_| ApiError::invalid(&name, "must be UTF-8 text"))?;
            let value = match name.as_str() {
                "private" => Value::Bool(matches!(text.trim(), "true" | "1" | "on")),
                "content_attributes" | "template_params" => serde_json::from_str(&text)
                    .map_err(|_| ApiError::invalid(&name, "must be a JSON object"))?,
                "content" | "echo_id" | "message_type" => Value::String(text),
                _ => continue,
            };
            fields.insert(name, value);
        }
        let body = serde_json::from_value(Value::Object(fields))
            .map_err(|e| ApiError::invalid("message", e.to_string()))?;
        Ok(MessageInput { body, files })
    }
}

/// Reads a form field, refusing it as soon as it passes `limit` bytes
/// rather than after the whole request.
async fn capped(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
    name: &str,
) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::invalid(
                name,
                format!("is larger than {} MiB", limit / (1024 * 1024)),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}
