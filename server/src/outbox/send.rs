//! One HTTP attempt of an outbound call, and what its answer means.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

/// Most bytes of a receiver's answer that are read (error messages, ids).
const ANSWER_LIMIT: usize = 64 * 1024;

/// A request ready to go.
#[derive(Debug)]
pub struct Call {
    pub url: reqwest::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug)]
pub enum Answer {
    /// A 2xx status, with (the start of) the body.
    Success { status: u16, body: String },
    /// The receiver answered with another status.
    Refused {
        status: u16,
        body: String,
        /// From `Retry-After` (seconds or an HTTP date), if sent.
        retry_after: Option<Duration>,
    },
    /// No answer: refused address, DNS, connection, timeout.
    Unreachable(String),
}

/// Builds the HTTP client every outbound call shares. It ignores proxy
/// settings from the environment (a proxy would resolve names itself, past
/// the guarded resolver), follows no redirects and bounds every call. It
/// fails only when the TLS backend cannot start, and then the server does
/// not start either: an unguarded fallback client would defeat the guard.
pub fn client(allow_private: bool, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(super::guard::GuardedResolver {
            allow_private,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()?;
    Ok(client)
}

/// POSTs the call as JSON and reads the answer.
pub async fn post(client: &reqwest::Client, call: Call) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("switchboard/", env!("CARGO_PKG_VERSION"))),
    );
    for (name, value) in call.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => return Answer::Unreachable(format!("header {name} could not be encoded")),
        }
    }
    let sent = client
        .post(call.url)
        .headers(headers)
        .body(call.body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return Answer::Unreachable(describe(&e)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let mut body = Vec::new();
    while body.len() < ANSWER_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) if (200..300).contains(&status) => {
                // The receiver took it; an answer cut short does not undo that.
                tracing::debug!(error = %e.without_url(), "outbound answer cut short");
                break;
            }
            Err(e) => return Answer::Unreachable(describe(&e)),
        }
    }
    body.truncate(ANSWER_LIMIT);
    let body = String::from_utf8_lossy(&body).into_owned();
    if (200..300).contains(&status) {
        Answer::Success { status, body }
    } else {
        Answer::Refused {
            status,
            body,
            retry_after,
        }
    }
}

/// The error and its causes on one line (reqwest's own text omits them).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
        let parsed = parse_retry_after(&later).unwrap();
        assert!(parsed > Duration::from_secs(3500) && parsed <= Duration::from_secs(3600));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
