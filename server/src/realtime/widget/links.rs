//! The visitor's contact and link (token) as `identity` changes them: a
//! newcomer becoming a contact, a connection moving onto another link, a
//! token replaced once its visitor proves who they are, and links retired
//! when a contact's owner arrives. The rules that choose among these are in
//! [`super::identity`].

use axum::http::StatusCode;
use switchboard_protocol::realtime::Identity;

use super::handler::{Known, VisitorHandler};
use super::identity::visitor_contact;
use crate::http::error::ApiError;
use crate::secrets::random_token;
use crate::store::{Contact, ContactFields, ContactInbox};

/// Contacts one connection may create (its first, and identities it moves
/// to): enough for a visitor who signs in and out a few times, not a way to
/// fill the contacts table.
pub(super) const MAX_CONTACTS_PER_CONNECTION: u8 = 5;

/// What `identity` says of a known visitor.
pub(super) fn identity_of(known: &Known, contact: &Contact, switched: bool) -> Identity {
    Identity {
        switched,
        visitor_token: known.token.clone(),
        contact: visitor_contact(contact),
        hmac_verified: known.verified,
    }
}

fn known(link: &ContactInbox) -> Known {
    Known {
        contact_id: link.contact_id,
        link_id: link.id,
        token: link.source_id.clone(),
        verified: link.hmac_verified,
    }
}

/// The visitor's contact as stored now (`None` for a newcomer).
pub(super) async fn current_contact(h: &VisitorHandler) -> Result<Option<Contact>, ApiError> {
    match &h.visitor {
        Some(k) => Ok(Some(
            h.state
                .store
                .get_contact(h.account_id, k.contact_id)
                .await?,
        )),
        None => Ok(None),
    }
}

/// A new contact with its own link into the inbox, counted against the
/// connection's [`MAX_CONTACTS_PER_CONNECTION`].
async fn new_contact(
    h: &mut VisitorHandler,
    mut fields: ContactFields,
    verified: bool,
) -> Result<(Contact, ContactInbox), ApiError> {
    if h.contacts_made >= MAX_CONTACTS_PER_CONNECTION {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_identities",
            "this connection changed identity too often: reconnect",
        ));
    }
    h.contacts_made += 1;
    let token = random_token(super::VISITOR_TOKEN_LEN);
    // A visitor who gave no name keeps none: the console names them in the
    // agent's language ("Visitante #12"), see `Contact::shown_name`.
    if !fields.custom_attributes.is_object() {
        fields.custom_attributes = serde_json::json!({});
    }
    let (contact, link) = h
        .state
        .store
        .create_visitor(h.account_id, h.inbox_id, &fields, &token, verified)
        .await?;
    h.state.shards.contact_saved(None, &contact).await?;
    if verified {
        h.state.shards.link_verified(h.account_id, link.id).await?;
    }
    Ok((contact, link))
}

/// Moves the connection onto `link`: it hears that link's conversations
/// from now on, and acts as its contact.
fn move_to(h: &mut VisitorHandler, link: &ContactInbox) -> Known {
    h.state
        .realtime
        .channel(h.account_id)
        .relink(h.subscriber_id, h.link_id(), link.id);
    let k = known(link);
    h.visitor = Some(k.clone());
    k
}

/// A newcomer becomes a contact (with `fields`).
pub(super) async fn become_contact(
    h: &mut VisitorHandler,
    fields: ContactFields,
    verified: bool,
) -> Result<(Known, Contact), ApiError> {
    let (contact, link) = new_contact(h, fields, verified).await?;
    Ok((move_to(h, &link), contact))
}

/// A visitor known as someone else takes a new identity: a new contact,
/// `switched` (their conversations are not this identity's).
pub(super) async fn start_afresh(
    h: &mut VisitorHandler,
    fields: ContactFields,
    verified: bool,
) -> Result<Identity, ApiError> {
    let (contact, link) = new_contact(h, fields, verified).await?;
    let k = move_to(h, &link);
    Ok(identity_of(&k, &contact, true))
}

/// Saves `wanted` onto the visitor's own contact (a newcomer becomes one).
/// With `verified`, a link that anonymous sessions may hold gets a new token.
pub(super) async fn label(
    h: &mut VisitorHandler,
    current: Option<Contact>,
    wanted: ContactFields,
    verified: bool,
) -> Result<Identity, ApiError> {
    let Some(c) = current else {
        let (k, contact) = become_contact(h, wanted, verified).await?;
        return Ok(identity_of(&k, &contact, false));
    };
    let saved = save(h, &c, wanted).await?;
    let mut k = h
        .visitor
        .clone()
        .ok_or_else(|| ApiError::internal("a contact without a link"))?;
    if verified && !k.verified {
        k = rotate(h, &k).await?;
    }
    Ok(identity_of(&k, &saved, false))
}

/// The visitor proved their identity on a link anonymous sessions may hold:
/// it gets a new token, and every other connection with the old one is
/// closed.
async fn rotate(h: &mut VisitorHandler, k: &Known) -> Result<Known, ApiError> {
    let link = ContactInbox {
        id: k.link_id,
        contact_id: k.contact_id,
        inbox_id: h.inbox_id,
        source_id: k.token.clone(),
        hmac_verified: k.verified,
    };
    let token = random_token(super::VISITOR_TOKEN_LEN);
    let link = h.state.store.rekey_link(&link, &token, true).await?;
    h.state.shards.link_verified(h.account_id, link.id).await?;
    h.state
        .visitor_revoked(h.account_id, link.id, h.subscriber_id)
        .await;
    let k = known(&link);
    h.visitor = Some(k.clone());
    Ok(k)
}

/// A signed identity names a contact the account vouches for: the visitor
/// moves onto it, through a link only signed sessions ever held. The links
/// anonymous sessions held into it here are retired first.
pub(super) async fn switch_to(
    h: &mut VisitorHandler,
    other: Contact,
    fields: ContactFields,
) -> Result<Identity, ApiError> {
    for stale in h
        .state
        .store
        .unverified_links_of(other.id, h.inbox_id)
        .await?
    {
        // A token nobody is given: the link stays (agents see its
        // conversations), no visitor reaches it any more.
        let dead = random_token(super::VISITOR_TOKEN_LEN);
        h.state.store.rekey_link(&stale, &dead, false).await?;
        h.state
            .visitor_revoked(h.account_id, stale.id, h.subscriber_id)
            .await;
    }
    let link = match h.state.store.verified_link_of(other.id, h.inbox_id).await? {
        Some(link) => link,
        None => {
            let token = random_token(super::VISITOR_TOKEN_LEN);
            let link = h
                .state
                .store
                .create_contact_inbox(other.id, h.inbox_id, &token, true)
                .await?;
            h.state.shards.link_verified(h.account_id, link.id).await?;
            link
        }
    };
    let saved = save(h, &other, fields).await?;
    let switched = h.visitor.as_ref().is_none_or(|k| k.link_id != link.id);
    let k = move_to(h, &link);
    Ok(identity_of(&k, &saved, switched))
}

/// An identifier a visitor claimed unsigned is taken from their contact:
/// its owner just signed it.
pub(super) async fn take_identifier(
    h: &VisitorHandler,
    claimant: &Contact,
) -> Result<(), ApiError> {
    let mut fields = ContactFields::of(claimant);
    fields.identifier = None;
    fields.identifier_by_visitor = false;
    let saved = h
        .state
        .store
        .update_contact(h.account_id, claimant.id, &fields)
        .await?;
    h.state.shards.contact_saved(Some(claimant), &saved).await?;
    Ok(())
}

/// Saves `fields` onto the contact when they differ, telling agents.
pub(super) async fn save(
    h: &VisitorHandler,
    c: &Contact,
    fields: ContactFields,
) -> Result<Contact, ApiError> {
    if fields == ContactFields::of(c) {
        return Ok(c.clone());
    }
    let saved = h
        .state
        .store
        .update_contact(h.account_id, c.id, &fields)
        .await?;
    h.state.shards.contact_saved(Some(c), &saved).await?;
    Ok(saved)
}
