//! A message's text and a client's echo id, checked.

use serde_json::json;

use super::{Checked, Invalid};
use crate::hub::NewMessage;
use crate::store::MessageType;

/// Longest message, in characters (Chatwoot's limit).
pub(crate) const MAX_CONTENT_CHARS: usize = 150_000;
/// Longest client echo id.
const MAX_ECHO_ID: usize = 128;

/// Validates message text: not blank, not over the limit. The codes are the
/// ones every other text field uses (`blank`, `too_long`), so the console and
/// the widget say why in their user's language.
pub(crate) fn content(text: String) -> Checked<String> {
    if text.trim().is_empty() {
        return Err(Invalid::new("content", "blank", "can't be blank"));
    }
    if text.chars().count() > MAX_CONTENT_CHARS {
        return Err(Invalid::new(
            "content",
            "too_long",
            format!("is too long (maximum is {MAX_CONTENT_CHARS} characters)"),
        ));
    }
    Ok(text)
}

/// An outgoing public message with this text (sender to be filled in).
pub(crate) fn outgoing(text: String) -> Checked<NewMessage> {
    Ok(NewMessage {
        message_type: MessageType::Outgoing,
        content: Some(content(text)?),
        private: false,
        sender: None,
        echo_id: None,
        content_attributes: json!({}),
        source_id: None,
        sent_at: None,
    })
}

/// Validates a client's echo id: 1 to 128 characters once trimmed.
pub(crate) fn echo_id(raw: Option<String>) -> Checked<Option<String>> {
    match raw.map(|e| e.trim().to_string()) {
        Some(e) if e.is_empty() || e.len() > MAX_ECHO_ID => {
            Err(Invalid::of("echo_id", "must be 1 to 128 characters"))
        }
        other => Ok(other),
    }
}
