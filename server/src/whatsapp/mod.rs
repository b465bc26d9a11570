//! WhatsApp Cloud inboxes: Meta's webhook in, the Graph API out.
//!
//! - `GET /webhooks/whatsapp/{phone_number}` answers Meta's verification
//!   (`hub.challenge`) when `hub.verify_token` is the inbox's; 401 otherwise.
//! - `POST` there must carry `X-Hub-Signature-256`, the HMAC-SHA256 of the raw
//!   body with the Meta app's secret; anything unsigned or wrongly signed is
//!   refused (401) before it is read. Messages become incoming messages of
//!   the contact of that `wa_id` (created on first contact, named after the
//!   WhatsApp profile), in their latest unresolved conversation of the inbox
//!   or a new one, which goes through assignment like any other. The same
//!   WhatsApp message id delivered twice is stored once. Status reports move
//!   sent messages forward (sent, delivered, read; or failed, with the
//!   reason) and agents see `message.updated`. The answer is sent once
//!   everything is durable, so Meta retries whatever was not stored.
//! - Agents' replies go out through the outbox ([`send`]).
//! - Free text is refused outside the 24-hour customer window, as WhatsApp
//!   refuses it; a template message can be sent instead ([`window`]),
//!   picked from the number's templates as Meta lists them ([`templates`]).
//! - A disconnected number (`POST /inboxes/{id}/disconnect`) answers 404 to
//!   Meta and sends nothing; its conversations stay.

pub mod inbound;
pub mod media;
pub mod send;
pub mod templates;
mod webhook;
pub mod window;

pub use webhook::{routes, MAX_NOTIFICATION_BYTES};

use crate::input::{Checked, Invalid};

/// `+` and 8 to 15 digits (E.164), from what a person types:
/// spaces, dashes, dots and parentheses are dropped.
pub fn number(raw: &str) -> Checked<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'))
        .collect();
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(format!("+{digits}"))
    } else {
        Err(Invalid::of(
            "phone_number",
            "must be a number in international form, like +5511999990000",
        ))
    }
}
