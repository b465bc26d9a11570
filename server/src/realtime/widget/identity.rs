//! Who a visitor is: the pre-chat form and the host page's `setUser` and
//! `setCustomAttributes`.
//!
//! A site that knows its user passes their `identifier` (its own user id).
//! An identifier is trusted only when signed: `identifier_hash` is the hex
//! HMAC-SHA256 of the identifier keyed with the inbox's `hmac_token`, which
//! the site computes on its server. A signed identifier that names an
//! existing contact moves the visitor onto that contact (the widget
//! reconnects with the token it is given), so a user who signs in on a
//! second device sees their conversations there. An unsigned identifier may
//! only label the current visitor, never claim someone else's contact, and
//! is refused outright when the inbox makes signatures mandatory. The
//! anonymous visitor's earlier conversations stay with the anonymous
//! contact: contacts are never merged behind an agent's back.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use switchboard_protocol::realtime::{Identity, VisitorContact};

use super::VisitorHandler;
use crate::api::contacts::{apply, ContactFieldsBody};
use crate::api::error::ApiError;
use crate::secrets::random_token;
use crate::store::{Contact, ContactFields};

/// What `set_user` says about the visitor.
pub(super) struct User {
    pub identifier: Option<String>,
    pub identifier_hash: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

pub(super) fn visitor_contact(c: &Contact) -> VisitorContact {
    VisitorContact {
        id: c.id,
        name: c.name.clone(),
        email: c.email.clone(),
        identifier: c.identifier.clone(),
        custom_attributes: c.custom_attributes.clone(),
    }
}

/// Whether `hash` is the hex HMAC-SHA256 of `identifier` under `key`,
/// compared in constant time.
pub fn verify(key: &str, identifier: &str, hash: &str) -> bool {
    let Some(expected) = decode_hex(hash.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(identifier.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn unverified(message: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "identity_unverified",
        message,
    )
}

fn fields_of(c: &Contact) -> ContactFields {
    ContactFields {
        name: c.name.clone(),
        email: c.email.clone(),
        phone_number: c.phone_number.clone(),
        identifier: c.identifier.clone(),
        custom_attributes: c.custom_attributes.clone(),
    }
}

pub(super) async fn set_user(h: &VisitorHandler, user: User) -> Result<Identity, ApiError> {
    let state = &h.state;
    let inbox = state.store.get_inbox(h.account_id, h.inbox_id).await?;
    let identifier = user
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let verified = match (identifier, user.identifier_hash.as_deref()) {
        (Some(id), Some(hash)) => {
            let key = inbox.settings.hmac_token.as_deref().unwrap_or_default();
            if key.is_empty() || !verify(key, id, hash) {
                return Err(unverified(
                    "identifier_hash is not the HMAC-SHA256 of the identifier with this inbox's key",
                ));
            }
            true
        }
        (Some(_), None) if inbox.settings.hmac_mandatory => {
            return Err(unverified(
                "this website requires a signed identifier (identifier_hash)",
            ))
        }
        _ => false,
    };
    let body = ContactFieldsBody {
        name: user.name,
        email: user.email,
        phone_number: user.phone_number,
        identifier: identifier.map(str::to_string),
        custom_attributes: None,
    };
    let current = state.store.get_contact(h.account_id, h.contact_id).await?;
    let owner = match identifier {
        Some(id) if current.identifier.as_deref() != Some(id) => {
            state.store.contact_by_identifier(h.account_id, id).await?
        }
        _ => None,
    };
    let (contact, token, switched) = match (owner, identifier) {
        (Some(other), _) => {
            if !verified {
                return Err(unverified(
                    "this identifier belongs to another contact: sign it with identifier_hash",
                ));
            }
            let link = match state.store.link_of(other.id, h.inbox_id).await? {
                Some(link) => link,
                None => {
                    let token = random_token(super::VISITOR_TOKEN_LEN);
                    state
                        .store
                        .create_contact_inbox(other.id, h.inbox_id, &token)
                        .await?
                }
            };
            (save(h, &other, &body).await?, link.source_id, true)
        }
        // A visitor already known as someone else starts afresh as the new
        // identity rather than relabelling the other person's contact.
        (None, Some(_))
            if current
                .identifier
                .as_deref()
                .is_some_and(|c| Some(c) != identifier) =>
        {
            let mut fields = ContactFields {
                name: format!("Visitor {}", &random_token(6)),
                custom_attributes: serde_json::json!({}),
                ..ContactFields::default()
            };
            apply(&body, &mut fields)?;
            let token = random_token(super::VISITOR_TOKEN_LEN);
            let (contact, link) = state
                .store
                .create_visitor(h.account_id, h.inbox_id, &fields, &token)
                .await?;
            h.state.hub.contact_saved(None, &contact).await?;
            (contact, link.source_id, true)
        }
        _ => {
            let link = state
                .store
                .link_of(current.id, h.inbox_id)
                .await?
                .map(|l| l.source_id)
                .unwrap_or_default();
            (save(h, &current, &body).await?, link, false)
        }
    };
    Ok(Identity {
        switched,
        visitor_token: token,
        contact: visitor_contact(&contact),
        hmac_verified: verified,
    })
}

pub(super) async fn set_custom_attributes(
    h: &VisitorHandler,
    attributes: Map<String, Value>,
) -> Result<Identity, ApiError> {
    let current = h
        .state
        .store
        .get_contact(h.account_id, h.contact_id)
        .await?;
    let body = ContactFieldsBody {
        custom_attributes: Some(attributes),
        ..ContactFieldsBody::default()
    };
    let saved = save(h, &current, &body).await?;
    Ok(Identity {
        switched: false,
        visitor_token: h.visitor_token.clone(),
        contact: visitor_contact(&saved),
        hmac_verified: false,
    })
}

/// Applies `body` onto the contact and saves it, telling agents.
async fn save(
    h: &VisitorHandler,
    c: &Contact,
    body: &ContactFieldsBody,
) -> Result<Contact, ApiError> {
    let mut fields = fields_of(c);
    apply(body, &mut fields)?;
    if fields == fields_of(c) {
        return Ok(c.clone());
    }
    let saved = h
        .state
        .store
        .update_contact(h.account_id, c.id, &fields)
        .await?;
    h.state.hub.contact_saved(Some(c), &saved).await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::verify;

    #[test]
    fn identifier_hashes_are_checked() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        let hash = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
        let id = "The quick brown fox jumps over the lazy dog";
        assert!(verify("key", id, hash));
        assert!(verify("key", id, &hash.to_uppercase()));
        assert!(!verify("other", id, hash));
        assert!(!verify("key", "someone else", hash));
        assert!(!verify("key", id, "zz"));
        assert!(!verify("key", id, ""));
    }
}
