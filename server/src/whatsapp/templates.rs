//! A WhatsApp number's message templates, read from Meta's WhatsApp
//! Business Management API so agents can pick one when the 24-hour window
//! is closed (see [`super::window`]).
//!
//! `POST /inboxes/{id}/sync_templates` reads
//! `GET {graph}/{version}/{business_account_id}/message_templates` page by
//! page (at most [`MAX_PAGES`] of 100; [`MAX_KEPT`] templates are kept at
//! most) and keeps, per template, what an agent
//! needs to fill one in: `id`, `name`, `language`, `status`, `category`
//! and `components` (Meta's own shape: the body's text with its `{{1}}`
//! placeholders, header, footer, buttons). Templates of every status are
//! kept; only `APPROVED` ones can be sent, and the console offers those.
//! The list replaces the previous one, so a template deleted at Meta
//! disappears. Nothing syncs by itself: an inbox shows when it last synced
//! (`message_templates_last_updated`) and anyone of the account can sync
//! it again.

use serde_json::{json, Value};

use super::send::Graph;
use crate::outbox::guard::check_url;
use crate::store::WhatsappConfig;

/// Pages of 100 read at most: 2,000 templates, far more than Meta lets a
/// business keep approved at once.
pub const MAX_PAGES: usize = 20;
/// A template's stored JSON beyond this is dropped (Meta's largest, with
/// ten buttons and a long body, is a few KiB).
const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// A page's answer beyond this is refused.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// What is kept at most, in templates and in bytes: every agent's inbox
/// list carries them. The rest are left out.
pub const MAX_KEPT: usize = 500;
const MAX_KEPT_BYTES: usize = 1024 * 1024;

/// Why the templates could not be read, said to the person who asked.
#[derive(Debug, PartialEq)]
pub enum SyncError {
    /// Meta refused the credentials (401/403): the access token is wrong,
    /// expired, or lacks `whatsapp_business_management`.
    Refused(String),
    /// Meta could not be reached or answered something unreadable.
    Unavailable(String),
}

/// Reads every template of the number's business account.
pub async fn fetch(
    client: &reqwest::Client,
    graph: &Graph,
    config: &WhatsappConfig,
    allow_private: bool,
) -> Result<Vec<Value>, SyncError> {
    let base = graph.url.trim_end_matches('/');
    let mut next = Some(format!(
        "{base}/{}/{}/message_templates?fields=name,language,status,category,components&limit=100",
        graph.version, config.business_account_id
    ));
    let mut templates = Vec::new();
    let mut bytes = 0;
    'pages: for _ in 0..MAX_PAGES {
        let Some(url) = next.take() else {
            break;
        };
        let page = page(client, &url, config, allow_private).await?;
        for template in page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(kept)
        {
            bytes += template.to_string().len();
            if templates.len() == MAX_KEPT || bytes > MAX_KEPT_BYTES {
                break 'pages;
            }
            templates.push(template);
        }
        // Only pages of the same Graph API are followed: the token goes
        // with every request, in the header only.
        next = page["paging"]["next"]
            .as_str()
            .filter(|n| n.starts_with(&format!("{base}/")))
            .map(without_token);
    }
    Ok(templates)
}

/// Meta's `paging.next` links carry the access token in their query;
/// it is dropped (the request's header carries it) so that it can never
/// appear in an error or a log line.
fn without_token(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "access_token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    parsed.into()
}

async fn page(
    client: &reqwest::Client,
    url: &str,
    config: &WhatsappConfig,
    allow_private: bool,
) -> Result<Value, SyncError> {
    let url = check_url(url, allow_private).map_err(SyncError::Unavailable)?;
    // Without the URL: errors are shown to agents and logged.
    let unreachable = |e: reqwest::Error| {
        SyncError::Unavailable(format!(
            "WhatsApp could not be reached: {}",
            e.without_url()
        ))
    };
    let mut response = client
        .get(url)
        .bearer_auth(&config.api_key)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_PAGE_BYTES {
            return Err(SyncError::Unavailable(
                "WhatsApp's answer is too large".into(),
            ));
        }
    }
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let why = answer["error"]["message"]
        .as_str()
        .map(|m| format!("WhatsApp answered {status}: {m}"))
        .unwrap_or_else(|| format!("WhatsApp answered {status}"));
    match status {
        200..=299 if answer.is_object() => Ok(answer),
        200..=299 => Err(SyncError::Unavailable(
            "WhatsApp's answer is not JSON".into(),
        )),
        401 | 403 => Err(SyncError::Refused(why)),
        // Meta's OAuthException (bad token) comes as a 400 with code 190.
        400 if answer["error"]["code"] == 190 => Err(SyncError::Refused(why)),
        _ => Err(SyncError::Unavailable(why)),
    }
}

/// The fields agents need from one of Meta's templates, or `None` if it
/// has no name or language, or is unreasonably large.
fn kept(t: &Value) -> Option<Value> {
    let text = |key: &str| t[key].as_str().filter(|s| !s.is_empty());
    let template = json!({
        "id": t["id"].as_str().unwrap_or_default(),
        "name": text("name")?,
        "language": text("language")?,
        "status": text("status").unwrap_or("UNKNOWN"),
        "category": text("category").unwrap_or_default(),
        "components": t["components"].as_array().cloned().unwrap_or_default(),
    });
    (template.to_string().len() <= MAX_TEMPLATE_BYTES).then_some(template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_what_agents_need_and_drop_the_unusable() {
        let t = kept(
            &json!({"id": "9", "name": "order_update", "language": "pt_BR",
            "status": "APPROVED", "category": "UTILITY", "extra": 1,
            "components": [{"type": "BODY", "text": "Olá {{1}}"}]}),
        )
        .expect("kept");
        assert_eq!(t["components"][0]["text"], "Olá {{1}}");
        assert!(t.get("extra").is_none());
        assert_eq!(kept(&json!({"name": "x"})), None, "no language");
        let huge = "x".repeat(MAX_TEMPLATE_BYTES);
        assert_eq!(
            kept(&json!({"name": "x", "language": "en", "components": [{"text": huge}]})),
            None
        );
    }

    #[test]
    fn next_pages_drop_the_token_from_their_address() {
        assert_eq!(
            without_token(
                "https://graph.test/v22.0/1/message_templates?limit=100&access_token=EAAG&after=B"
            ),
            "https://graph.test/v22.0/1/message_templates?limit=100&after=B"
        );
        assert_eq!(
            without_token("https://graph.test/x?access_token=EAAG"),
            "https://graph.test/x"
        );
    }
}
