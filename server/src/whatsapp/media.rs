//! Media between switchboard and WhatsApp, both ways, run by the outbox.
//!
//! **In**: the Graph API gives a short-lived URL for a media id (`GET
//! /{version}/{media_id}`), and that URL, fetched with the same token, gives
//! the bytes. This runs right after the message is stored, so agents see
//! the message at once and its file a moment later (`message.updated`), and
//! a failed download is retried like any outbound call.
//!
//! **Out**: an agent's file is uploaded first (`POST
//! /{version}/{phone_number_id}/media`, multipart), and the message then
//! names the media id WhatsApp answered with. WhatsApp never has to reach
//! switchboard, which may well sit behind a firewall.

use serde_json::Value;

use super::send::Graph;
use crate::files::{Upload, MAX_FILE_BYTES};
use crate::outbox::guard::check_url;
use crate::outbox::send::Answer;
use crate::store::WhatsappConfig;

/// The media's bytes, named and typed; or the answer that stopped it.
pub async fn download(
    client: &reqwest::Client,
    graph: &Graph,
    config: &WhatsappConfig,
    media: &Value,
    allow_private: bool,
) -> Result<Upload, Answer> {
    let id = media["id"]
        .as_str()
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .ok_or_else(|| Answer::Unreachable("the message names no media id".into()))?;
    let lookup = format!("{}/{}/{id}", graph.url.trim_end_matches('/'), graph.version);
    let (status, body) = get(client, &lookup, config, allow_private).await?;
    let info: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(url) = info["url"].as_str() else {
        // A success without a URL will not get one on retry: as a 404.
        let _ = status;
        return Err(Answer::Refused {
            status: 404,
            body: format!(
                "the media lookup answered without a url: {}",
                String::from_utf8_lossy(&body)
            ),
            retry_after: None,
        });
    };
    let (_, bytes) = get(client, url, config, allow_private).await?;
    let content_type = info["mime_type"]
        .as_str()
        .or(media["mime_type"].as_str())
        .unwrap_or("application/octet-stream")
        .to_string();
    let name = media["filename"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            let extension = content_type
                .split(';')
                .next()
                .and_then(|t| t.split('/').nth(1))
                .unwrap_or("bin");
            format!("whatsapp-{id}.{extension}")
        });
    Ok(Upload {
        name,
        content_type,
        bytes,
    })
}

/// A GET with the number's token; any non-2xx answer is returned as the error.
async fn get(
    client: &reqwest::Client,
    url: &str,
    config: &WhatsappConfig,
    allow_private: bool,
) -> Result<(u16, Vec<u8>), Answer> {
    let url = check_url(url, allow_private).map_err(Answer::Unreachable)?;
    let mut response = client
        .get(url)
        .bearer_auth(&config.api_key)
        .send()
        .await
        .map_err(|e| Answer::Unreachable(format!("media download failed: {}", e.without_url())))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_FILE_BYTES {
                    return Err(Answer::Refused {
                        status: 413,
                        body: "the media is larger than the attachment limit".into(),
                        retry_after: None,
                    });
                }
            }
            Ok(None) => break,
            Err(e) => {
                return Err(Answer::Unreachable(format!(
                    "media download cut: {}",
                    e.without_url()
                )))
            }
        }
    }
    if !(200..300).contains(&status) {
        return Err(Answer::Refused {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            retry_after: None,
        });
    }
    Ok((status, body))
}

/// A file to send: its bytes, type and name.
#[derive(Debug)]
pub struct Outgoing {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub name: String,
}

/// Uploads an agent's file to the number's media; answers the media id.
pub async fn upload(
    client: &reqwest::Client,
    graph: &Graph,
    config: &WhatsappConfig,
    file: Outgoing,
    allow_private: bool,
) -> Result<String, Answer> {
    let url = format!(
        "{}/{}/{}/media",
        graph.url.trim_end_matches('/'),
        graph.version,
        config.phone_number_id
    );
    let url = check_url(&url, allow_private).map_err(Answer::Unreachable)?;
    let part = reqwest::multipart::Part::bytes(file.bytes)
        .file_name(file.name)
        .mime_str(&file.content_type)
        .map_err(|e| Answer::Refused {
            status: 415,
            body: format!("the file's type cannot be sent: {e}"),
            retry_after: None,
        })?;
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", file.content_type.clone())
        .part("file", part);
    let response = client
        .post(url)
        .bearer_auth(&config.api_key)
        .multipart(form)
        .send()
        .await
        .map_err(|e| Answer::Unreachable(format!("media upload failed: {}", e.without_url())))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::outbox::send::parse_retry_after);
    let body = response
        .text()
        .await
        .map_err(|e| Answer::Unreachable(format!("media upload cut: {}", e.without_url())))?;
    if !(200..300).contains(&status) {
        return Err(Answer::Refused {
            status,
            body,
            retry_after,
        });
    }
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .ok_or_else(|| Answer::Unreachable("the media upload answered without an id".to_string()))
}
