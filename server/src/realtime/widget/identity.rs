//! Who a visitor is: the pre-chat form and the host page's `setUser` and
//! `setCustomAttributes`.
//!
//! A site that knows its user passes their `identifier` (its own user id).
//! An identifier is trusted only when signed: `identifier_hash` is the hex
//! HMAC-SHA256 of the identifier keyed with the inbox's `hmac_token`, which
//! the site computes on its server. The rules:
//!
//! - An unsigned identifier only labels the current visitor (marked as the
//!   visitor's own claim, `identifier_by_visitor`), never names someone
//!   else's contact, and is refused outright when the inbox makes
//!   signatures mandatory.
//! - A signed identifier that names a contact the account vouches for (its
//!   agents set it, or a signed visitor did) moves the visitor onto that
//!   contact, so a user who signs in on a second device sees their
//!   conversations there. They get a link (token) that only signed sessions
//!   ever held, never one an anonymous session had.
//!   The contact's links that anonymous sessions held in that inbox are
//!   retired (their sockets closed, their tokens dead): nobody who was there
//!   before the owner reads on.
//! - A signed identifier that another visitor claimed unsigned first is
//!   taken from that claimant's contact: the signed visitor never becomes,
//!   nor merges with, a contact someone else could have prepared.
//! - A visitor who proves their identity on an unverified link gets a new
//!   token; every other connection holding the old one is closed
//!   (`close::REVOKED`): whoever planted or copied it reads nothing more.
//!   Only conversations opened from then on count as verified.
//! - A connection may change identity a few times
//!   ([`links::MAX_CONTACTS_PER_CONNECTION`]), not create contacts at will.
//!
//! The anonymous visitor's earlier conversations stay with the anonymous
//! contact: contacts are never merged behind an agent's back.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use switchboard_protocol::realtime::{Identity, VisitorContact};

use super::handler::VisitorHandler;
use super::links;
use crate::http::error::ApiError;
use crate::input::{apply_contact as apply, ContactFieldsBody};
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
pub(super) fn verify(key: &str, identifier: &str, hash: &str) -> bool {
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

/// `current` with `body` applied. An identifier this call sets (changes)
/// is marked as the visitor's own claim unless it was signed.
fn changed(
    current: &ContactFields,
    body: &ContactFieldsBody,
    verified: bool,
) -> Result<ContactFields, ApiError> {
    let mut fields = current.clone();
    apply(body, &mut fields)?;
    if verified {
        fields.identifier_by_visitor = false;
    } else if fields.identifier != current.identifier {
        fields.identifier_by_visitor = fields.identifier.is_some();
    }
    Ok(fields)
}

pub(super) async fn set_user(h: &mut VisitorHandler, user: User) -> Result<Identity, ApiError> {
    let inbox = h.state.store.get_inbox(h.account_id, h.inbox_id).await?;
    let identifier = user
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let verified = match (&identifier, user.identifier_hash.as_deref()) {
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
        identifier: identifier.clone(),
        custom_attributes: None,
    };
    let current = links::current_contact(h).await?;
    let base = current.as_ref().map(ContactFields::of).unwrap_or_default();
    // Every value is checked before anything is stored.
    let wanted = changed(&base, &body, verified)?;
    let Some(id) = identifier else {
        return links::label(h, current, wanted, false).await;
    };
    let ours = current
        .as_ref()
        .is_some_and(|c| c.identifier.as_deref() == Some(id.as_str()));
    let owner = match ours {
        true => None,
        false => {
            h.state
                .store
                .contact_by_identifier(h.account_id, &id)
                .await?
        }
    };
    match owner {
        Some(_) if !verified => {
            return Err(unverified(
                "this identifier belongs to another contact: sign it with identifier_hash",
            ))
        }
        Some(other) if !other.identifier_by_visitor => {
            let fields = changed(&ContactFields::of(&other), &body, true)?;
            return links::switch_to(h, other, fields).await;
        }
        Some(claimant) => links::take_identifier(h, &claimant).await?,
        None => {}
    }
    // A visitor already known as someone else starts afresh as the new
    // identity rather than relabelling the other person's contact.
    if current
        .as_ref()
        .is_some_and(|c| c.identifier.is_some() && !ours)
    {
        let fields = changed(&ContactFields::default(), &body, verified)?;
        return links::start_afresh(h, fields, verified).await;
    }
    links::label(h, current, wanted, verified).await
}

pub(super) async fn set_custom_attributes(
    h: &mut VisitorHandler,
    attributes: Map<String, Value>,
) -> Result<Identity, ApiError> {
    let body = ContactFieldsBody {
        custom_attributes: Some(attributes),
        ..ContactFieldsBody::default()
    };
    let current = links::current_contact(h).await?;
    let base = current.as_ref().map(ContactFields::of).unwrap_or_default();
    let wanted = changed(&base, &body, false)?;
    links::label(h, current, wanted, false).await
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
