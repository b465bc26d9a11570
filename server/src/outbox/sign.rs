//! Signing outbound calls so receivers can check they come from us.
//!
//! The recipe (Chatwoot's): `HMAC-SHA256(secret, "{timestamp}.{body}")`,
//! hex-encoded, where `timestamp` is the Unix time in seconds sent in
//! [`TIMESTAMP`] and `body` is the raw request body. A receiver recomputes it
//! with the secret the API showed it, compares in constant time, and refuses
//! timestamps far from its clock (replays). [`DELIVERY`] is the same on every
//! retry of one delivery, for de-duplication. docs/WEBHOOKS.md shows the
//! check in a few languages.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<hex>` of the recipe above.
pub const SIGNATURE: &str = "X-Chatwoot-Signature";
/// Unix seconds when the attempt was signed.
pub const TIMESTAMP: &str = "X-Chatwoot-Timestamp";
/// The delivery's id, stable across retries.
pub const DELIVERY: &str = "X-Chatwoot-Delivery";
/// The event name, e.g. `message_created`.
pub const EVENT: &str = "X-Chatwoot-Event";

/// The headers of one signed attempt. Without a secret there is no
/// signature header (the delivery id and event are still sent).
pub fn headers(
    secret: &str,
    delivery_id: &str,
    event: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let timestamp = crate::store::now();
    let mut out = vec![
        (TIMESTAMP, timestamp.to_string()),
        (DELIVERY, delivery_id.to_string()),
        (EVENT, event.to_string()),
    ];
    if !secret.is_empty() {
        out.push((SIGNATURE, signature(secret, timestamp, body)));
    }
    out
}

/// `sha256=` and the hex HMAC of `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256=");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_computation() {
        // HMAC-SHA256("key", "1700000000.{}"), computed with openssl:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn no_secret_no_signature() {
        let h = headers("", "d-1", "message_created", b"{}");
        assert!(h.iter().all(|(name, _)| *name != SIGNATURE));
        assert!(h.iter().any(|(name, v)| *name == DELIVERY && v == "d-1"));
    }
}
