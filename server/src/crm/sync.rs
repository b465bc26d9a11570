//! One contact's sync, as the outbox runs it: record, deal, note, each
//! step's result saved on the contact before the next (see [`super`]).

use std::sync::Arc;

use serde_json::json;
use switchboard_protocol::api::ChannelType;
use switchboard_protocol::chat::{CrmLink, CrmStatus};

use super::{AgendorSettings, Connector, CrmError, Subject};
use crate::hub::Hub;
use crate::outbox::send::Answer;
use crate::store::{
    now, now_ms, Contact, Delivery, DeliveryKind, IntegrationHook, NewDelivery, Store, StoreError,
};

/// The event name of CRM deliveries.
pub(crate) const EVENT: &str = "crm_sync";

/// A contact's sync, to queue (one lane per account: the CRM's rate limit
/// is the account's token's). The conversation is the one the note links.
pub(crate) fn delivery(
    account_id: i64,
    contact_id: i64,
    conversation_id: Option<i64>,
    inbox_id: Option<i64>,
    at_ms: i64,
) -> NewDelivery {
    let facts = json!({ "crm": {
        "contact_id": contact_id, "conversation_id": conversation_id, "inbox_id": inbox_id,
    }});
    crate::outbox::plan::delivery(
        account_id,
        DeliveryKind::Crm,
        None,
        None,
        EVENT,
        facts,
        at_ms,
    )
}

/// Stores a contact's CRM link (stamped now); the caller then tells the hub
/// (`contact_saved`, so consoles and webhooks hear of it) with `before`, the
/// contact as it was. Callers hold the contact's CRM lock.
pub(crate) async fn store_link(
    store: &Arc<dyn Store>,
    before: &Contact,
    link: &CrmLink,
) -> crate::hub::HubResult<Contact> {
    let mut link = link.clone();
    link.updated_at = now();
    Ok(store
        .set_contact_crm(before.account_id, before.id, Some(&link))
        .await?)
}

/// [`store_link`], then the hub tells whoever follows the contact.
async fn store_link_and_tell(
    hub: &Hub,
    store: &Arc<dyn Store>,
    before: &Contact,
    link: &CrmLink,
) -> crate::hub::HubResult<Contact> {
    let saved = store_link(store, before, link).await?;
    hub.contact_saved(Some(before), &saved).await?;
    Ok(saved)
}

/// What a sync needs besides the delivery.
pub(crate) struct Context<'a> {
    pub hub: &'a Arc<Hub>,
    pub store: &'a Arc<dyn Store>,
    pub hook: &'a IntegrationHook,
    pub settings: &'a AgendorSettings,
    pub connector: &'a dyn Connector,
    pub public_url: &'a str,
}

/// Runs the sync of the delivery's contact; answers as an outbound call
/// would, so the outbox retries or gives up as for any other call.
pub(crate) async fn run(cx: &Context<'_>, delivery: &Delivery) -> Answer {
    let facts = &delivery.payload["crm"];
    let Some(contact_id) = facts["contact_id"].as_i64() else {
        return refused(422, "stored facts unreadable".into());
    };
    let account_id = delivery.account_id;
    // One contact's syncs one at a time: two at once would both create.
    let _serial = cx.hub.crm_locks().lock(contact_id).await;
    let contact = match cx.store.get_contact(account_id, contact_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return refused(410, "the contact was deleted".into()),
        Err(e) => return Answer::Unreachable(e.to_string()),
    };
    let directory = match cx.hub.directory(account_id).await {
        Ok(d) => d,
        Err(e) => return Answer::Unreachable(e.to_string()),
    };
    let inbox = facts["inbox_id"]
        .as_i64()
        .and_then(|id| directory.inboxes.get(&id));
    let conversation_id = facts["conversation_id"].as_i64();
    let subject = Subject {
        inbox_name: inbox.map(|i| i.name.clone()).unwrap_or_default(),
        whatsapp: inbox.is_some_and(|i| i.channel_type == ChannelType::Whatsapp),
        conversation_id,
        conversation_url: conversation_id
            .map(|id| format!("{}/app/conversations/{id}", cx.public_url)),
        contact,
    };
    if !reachable(&subject.contact) {
        let why = "the contact has no e-mail or phone to register; add one and retry";
        let mut link = subject
            .contact
            .crm
            .clone()
            .unwrap_or_else(|| new_link(&cx.hook.app_id, None));
        link.status = CrmStatus::Failed;
        link.error = Some(why.into());
        Saver::new(cx, &subject.contact).save(&link).await;
        return refused(422, why.into());
    }
    let mut saver = Saver::new(cx, &subject.contact);
    let record_type = cx.settings.record_type;
    // A link of another app or record type is started over.
    let mut link = match &subject.contact.crm {
        Some(l)
            if l.app_id == cx.hook.app_id
                && l.record_type.as_deref() == Some(record_type.as_str()) =>
        {
            l.clone()
        }
        _ => new_link(&cx.hook.app_id, Some(record_type.as_str())),
    };
    let outcome = steps(cx, &subject, &mut link, &mut saver).await;
    let health_error = outcome.as_ref().err().map(CrmError::message);
    if let Err(e) = cx
        .store
        .record_hook_health(account_id, cx.hook.id, now_ms(), health_error)
        .await
    {
        tracing::warn!(error = %e, "crm: cannot record the integration's health");
    }
    match outcome {
        Ok(()) => {
            link.status = CrmStatus::Synced;
            link.error = None;
            saver.save(&link).await;
            Answer::Success {
                status: 200,
                body: String::new(),
            }
        }
        Err(e) => {
            let answer = match &e {
                CrmError::Unauthorized(why) => refused(401, why.clone()),
                CrmError::Refused(why) => refused(422, why.clone()),
                CrmError::Unavailable {
                    status: None, why, ..
                } => Answer::Unreachable(why.clone()),
                CrmError::Unavailable {
                    status: Some(status),
                    why,
                    retry_after,
                } => Answer::Refused {
                    status: *status,
                    body: why.clone(),
                    retry_after: *retry_after,
                },
            };
            link.status = match e {
                CrmError::Unavailable { .. } => CrmStatus::Pending,
                _ => CrmStatus::Failed,
            };
            link.error = Some(e.message().to_string());
            saver.save(&link).await;
            answer
        }
    }
}

/// Record, deal, note; each result saved before the next step.
async fn steps(
    cx: &Context<'_>,
    subject: &Subject,
    link: &mut CrmLink,
    saver: &mut Saver<'_, '_>,
) -> Result<(), CrmError> {
    let settings = cx.settings;
    if subject.contact.crm.is_none() {
        saver.save(link).await;
    }
    let record = cx
        .connector
        .record(subject, settings.record_type, link.record_id)
        .await?;
    if link.record_id != Some(record.id) || link.url.as_deref() != Some(record.url.as_str()) {
        link.record_id = Some(record.id);
        link.url = Some(record.url.clone());
        saver.keep(link).await;
    }
    let deal = if settings.create_deal {
        let deal = cx
            .connector
            .deal(subject, settings.record_type, &record, link.deal_id)
            .await?;
        if link.deal_id != Some(deal.id) {
            link.deal_id = Some(deal.id);
            link.deal_url = Some(deal.url.clone());
            saver.keep(link).await;
        }
        Some(deal)
    } else {
        None
    };
    if settings.add_note && subject.conversation_id.is_some() {
        cx.connector
            .note(subject, settings.record_type, &record, deal.as_ref())
            .await?;
    }
    Ok(())
}

/// Saves the link on the contact as a sync goes. Each step's result is
/// stored at once ([`Saver::keep`]), so a retry skips it; consoles and
/// webhooks are told only when the state people see changes
/// ([`Saver::save`]: syncing, then synced or failed), so one sync sends one
/// or two `contact_updated`, not one per step.
struct Saver<'a, 'b> {
    cx: &'a Context<'b>,
    /// The contact as last announced: what the next announcement's
    /// `changed_attributes` are counted from.
    announced: Contact,
    /// The contact as last stored.
    stored: Contact,
}

impl<'a, 'b> Saver<'a, 'b> {
    fn new(cx: &'a Context<'b>, contact: &Contact) -> Self {
        Saver {
            cx,
            announced: contact.clone(),
            stored: contact.clone(),
        }
    }

    /// Stores the link and tells consoles and webhooks.
    async fn save(&mut self, link: &CrmLink) {
        match store_link_and_tell(self.cx.hub, self.cx.store, &self.announced, link).await {
            Ok(saved) => {
                self.announced = saved.clone();
                self.stored = saved;
            }
            Err(e) => tracing::warn!(error = %e, "crm: cannot save the contact's CRM link"),
        }
    }

    /// Stores the link without telling anyone: a step's result on the way
    /// to the sync's end, which [`Saver::save`] announces.
    async fn keep(&mut self, link: &CrmLink) {
        let mut link = link.clone();
        link.updated_at = now();
        let c = &self.stored;
        match self
            .cx
            .store
            .set_contact_crm(c.account_id, c.id, Some(&link))
            .await
        {
            Ok(saved) => self.stored = saved,
            Err(e) => tracing::warn!(error = %e, "crm: cannot save the contact's CRM link"),
        }
    }
}

/// The outbox gave up on a sync (a day of failures, or a refusal): the
/// contact shows it failed, with the reason.
pub(crate) async fn gave_up(
    hub: &Arc<Hub>,
    store: &Arc<dyn Store>,
    delivery: &Delivery,
    why: &str,
) {
    ended(hub, store, delivery, why, true).await
}

/// The sync was cancelled (the integration removed or disabled, the
/// contact anonymous): a contact already showing "syncing" says why; one
/// never sent stays without a link.
pub(crate) async fn cancelled(
    hub: &Arc<Hub>,
    store: &Arc<dyn Store>,
    delivery: &Delivery,
    why: &str,
) {
    ended(hub, store, delivery, why, false).await
}

async fn ended(
    hub: &Arc<Hub>,
    store: &Arc<dyn Store>,
    delivery: &Delivery,
    why: &str,
    create: bool,
) {
    let Some(contact_id) = delivery.payload["crm"]["contact_id"].as_i64() else {
        return;
    };
    // Read under the contact's lock: a sync may be saving its link now.
    let _serial = hub.crm_locks().lock(contact_id).await;
    let Ok(contact) = store.get_contact(delivery.account_id, contact_id).await else {
        return;
    };
    let mut link = match (contact.crm.clone(), create) {
        (Some(link), _) => link,
        (None, true) => new_link(super::AGENDOR, None),
        (None, false) => return,
    };
    if link.status == CrmStatus::Synced
        || (link.status == CrmStatus::Failed && link.error.as_deref() == Some(why))
    {
        // A later sync made it, or this is already said.
        return;
    }
    link.status = CrmStatus::Failed;
    link.error = Some(why.to_string());
    if let Err(e) = store_link_and_tell(hub, store, &contact, &link).await {
        tracing::warn!(error = %e, "crm: cannot save the contact's CRM link");
    }
}

/// Whether a contact has something a CRM can find them by again.
pub(crate) fn reachable(c: &Contact) -> bool {
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    given(&c.email) || given(&c.phone_number)
}

/// A pending link with nothing in the CRM yet.
pub(crate) fn new_link(app_id: &str, record_type: Option<&str>) -> CrmLink {
    CrmLink {
        app_id: app_id.to_string(),
        status: CrmStatus::Pending,
        record_type: record_type.map(str::to_string),
        record_id: None,
        url: None,
        deal_id: None,
        deal_url: None,
        error: None,
        updated_at: now(),
    }
}

fn refused(status: u16, body: String) -> Answer {
    Answer::Refused {
        status,
        body,
        retry_after: None,
    }
}
