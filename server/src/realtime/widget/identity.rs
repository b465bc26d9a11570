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
//! - A signed identifier that an unsigned visitor claimed first is taken
//!   from that claimant: the signed visitor never becomes, nor merges with,
//!   a contact someone else could have prepared.
//! - A visitor who proves their identity on an unverified link gets a new
//!   token; every other connection holding the old one is closed
//!   (`close::REVOKED`): whoever planted or copied it reads nothing more.
//!
//! The anonymous visitor's earlier conversations stay with the anonymous
//! contact: contacts are never merged behind an agent's back.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use switchboard_protocol::realtime::{Identity, VisitorContact};

use super::handler::{Known, VisitorHandler};
use crate::api::contacts::{apply, ContactFieldsBody};
use crate::api::error::ApiError;
use crate::realtime::NEWCOMER;
use crate::secrets::random_token;
use crate::store::{Contact, ContactFields, ContactInbox};

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

/// What `identity` says of a known visitor.
pub(super) fn identity_of(known: &Known, contact: &Contact, switched: bool) -> Identity {
    Identity {
        switched,
        visitor_token: known.token.clone(),
        contact: visitor_contact(contact),
        hmac_verified: known.verified,
    }
}

/// A new contact with its own link into the inbox.
async fn new_contact(
    h: &VisitorHandler,
    mut fields: ContactFields,
    verified: bool,
) -> Result<(Contact, ContactInbox), ApiError> {
    let token = random_token(super::VISITOR_TOKEN_LEN);
    if fields.name.is_empty() {
        fields.name = format!("Visitor {}", &token[..6]);
    }
    if !fields.custom_attributes.is_object() {
        fields.custom_attributes = serde_json::json!({});
    }
    let (contact, link) = h
        .state
        .store
        .create_visitor(h.account_id, h.inbox_id, &fields, &token, verified)
        .await?;
    h.state.hub.contact_saved(None, &contact).await?;
    if verified {
        h.state.hub.link_verified(h.account_id, contact.id, link.id);
    }
    Ok((contact, link))
}

fn known(link: &ContactInbox) -> Known {
    Known {
        contact_id: link.contact_id,
        link_id: link.id,
        token: link.source_id.clone(),
        verified: link.hmac_verified,
    }
}

/// A newcomer becomes a contact (with `fields`): the connection moves onto
/// the new link, so it hears its own conversations from now on.
pub(super) async fn become_contact(
    h: &mut VisitorHandler,
    fields: ContactFields,
    verified: bool,
) -> Result<(Known, Contact), ApiError> {
    let (contact, link) = new_contact(h, fields, verified).await?;
    h.state
        .hub
        .channel(h.account_id)
        .relink(h.subscriber_id, NEWCOMER, link.id);
    let k = known(&link);
    h.visitor = Some(k.clone());
    Ok((k, contact))
}

/// `current` with `body` applied, and `identifier_by_visitor` as given when
/// the identifier is set here.
fn changed(
    current: &ContactFields,
    body: &ContactFieldsBody,
    by_visitor: bool,
) -> Result<ContactFields, ApiError> {
    let mut fields = current.clone();
    apply(body, &mut fields)?;
    if body.identifier.is_some() {
        fields.identifier_by_visitor = by_visitor;
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
    let current = match &h.visitor {
        Some(k) => Some(
            h.state
                .store
                .get_contact(h.account_id, k.contact_id)
                .await?,
        ),
        None => None,
    };
    let base = current.as_ref().map(ContactFields::of).unwrap_or_default();
    // Every value is checked before anything is stored.
    let wanted = changed(&base, &body, !verified)?;
    let Some(id) = identifier else {
        return label(h, current, wanted).await;
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
        Some(other) if !other.identifier_by_visitor => return switch_to(h, other, &body).await,
        Some(claimant) => {
            // An unsigned visitor named it first: it was never theirs.
            let mut fields = ContactFields::of(&claimant);
            fields.identifier = None;
            fields.identifier_by_visitor = false;
            let saved = h
                .state
                .store
                .update_contact(h.account_id, claimant.id, &fields)
                .await?;
            h.state.hub.contact_saved(Some(&claimant), &saved).await?;
        }
        None => {}
    }
    // A visitor already known as someone else starts afresh as the new
    // identity rather than relabelling the other person's contact.
    let elsewhere = current
        .as_ref()
        .is_some_and(|c| c.identifier.is_some() && !ours);
    if elsewhere {
        let fields = changed(&ContactFields::default(), &body, !verified)?;
        let (contact, link) = new_contact(h, fields, verified).await?;
        return Ok(identity_of(&known(&link), &contact, true));
    }
    let identity = label(h, current, wanted).await?;
    if verified && !identity.hmac_verified {
        return rotate(h, identity).await;
    }
    Ok(identity)
}

/// Saves `wanted` onto the visitor's own contact (a newcomer becomes one).
async fn label(
    h: &mut VisitorHandler,
    current: Option<Contact>,
    wanted: ContactFields,
) -> Result<Identity, ApiError> {
    match current {
        Some(c) => {
            let saved = save(h, &c, wanted).await?;
            let k = h
                .visitor
                .clone()
                .ok_or_else(|| ApiError::internal("no visitor"))?;
            Ok(identity_of(&k, &saved, false))
        }
        None => {
            let (k, contact) = become_contact(h, wanted, false).await?;
            Ok(identity_of(&k, &contact, false))
        }
    }
}

/// The visitor proved their identity on a link anonymous sessions may hold:
/// it gets a new token, and every other connection with the old one is
/// closed.
async fn rotate(h: &mut VisitorHandler, identity: Identity) -> Result<Identity, ApiError> {
    let Some(k) = h.visitor.clone() else {
        return Ok(identity);
    };
    let link = ContactInbox {
        id: k.link_id,
        contact_id: k.contact_id,
        inbox_id: h.inbox_id,
        source_id: k.token.clone(),
        hmac_verified: k.verified,
    };
    let token = random_token(super::VISITOR_TOKEN_LEN);
    let link = h.state.store.verify_link(&link, &token).await?;
    h.state
        .hub
        .link_verified(h.account_id, link.contact_id, link.id);
    h.state
        .hub
        .channel(h.account_id)
        .revoke_visitors(link.id, h.subscriber_id);
    let k = known(&link);
    h.visitor = Some(k.clone());
    Ok(Identity {
        visitor_token: k.token,
        hmac_verified: true,
        ..identity
    })
}

/// A signed identity names a contact the account vouches for: the visitor
/// moves onto it, through a link only signed sessions ever held.
async fn switch_to(
    h: &VisitorHandler,
    other: Contact,
    body: &ContactFieldsBody,
) -> Result<Identity, ApiError> {
    let link = match h.state.store.verified_link_of(other.id, h.inbox_id).await? {
        Some(link) => link,
        None => {
            let token = random_token(super::VISITOR_TOKEN_LEN);
            let link = h
                .state
                .store
                .create_contact_inbox(other.id, h.inbox_id, &token, true)
                .await?;
            h.state.hub.link_verified(h.account_id, other.id, link.id);
            link
        }
    };
    let wanted = changed(&ContactFields::of(&other), body, false)?;
    let saved = save(h, &other, wanted).await?;
    let switched = h.visitor.as_ref().is_none_or(|k| k.link_id != link.id);
    Ok(identity_of(&known(&link), &saved, switched))
}

pub(super) async fn set_custom_attributes(
    h: &mut VisitorHandler,
    attributes: Map<String, Value>,
) -> Result<Identity, ApiError> {
    let body = ContactFieldsBody {
        custom_attributes: Some(attributes),
        ..ContactFieldsBody::default()
    };
    let current = match &h.visitor {
        Some(k) => Some(
            h.state
                .store
                .get_contact(h.account_id, k.contact_id)
                .await?,
        ),
        None => None,
    };
    let base = current.as_ref().map(ContactFields::of).unwrap_or_default();
    let wanted = changed(&base, &body, false)?;
    label(h, current, wanted).await
}

/// Saves `fields` onto the contact when they differ, telling agents.
async fn save(h: &VisitorHandler, c: &Contact, fields: ContactFields) -> Result<Contact, ApiError> {
    if fields == ContactFields::of(c) {
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
