//! What each delivery calls and what its answer changes: the request built
//! from the destination's current settings, and the effects of a WhatsApp
//! send or download (or a failed reply) on its message.

use super::send::{Answer, Call};
use super::{guard, payload, sign, Target, Worker};
use crate::hub::edits::Report;
use crate::store::{Attempt, Delivery, DeliveryKind, DeliveryStatus, MessageStatus, MessageType};

impl Worker {
    /// Builds the request for a delivery from the destination's current
    /// settings (a fixed URL or secret applies to pending retries too).
    pub(super) async fn target(&self, delivery: &Delivery) -> Target {
        let directory = match self.hub.directory(delivery.account_id).await {
            Ok(d) => d,
            Err(crate::hub::HubError::NotFound) => {
                return Target::Cancelled("the account was deleted".into())
            }
            Err(e) => return Target::Later(format!("account unavailable: {e}")),
        };
        match delivery.kind {
            DeliveryKind::Webhook => {
                let Some(hook) = directory
                    .webhooks
                    .iter()
                    .find(|w| Some(w.id) == delivery.webhook_id)
                else {
                    return Target::Cancelled("the webhook was deleted".into());
                };
                let body = match payload::body(&self.store, &directory, delivery).await {
                    Ok(body) => body,
                    Err(fault) => return fault.into(),
                };
                self.signed(&hook.url, &hook.secret, delivery, body)
            }
            DeliveryKind::ApiInbox => {
                let Some(inbox) = delivery.inbox_id.and_then(|id| directory.inboxes.get(&id))
                else {
                    return Target::Cancelled("the inbox was deleted".into());
                };
                let Some(url) = inbox.settings.webhook_url.clone().filter(|u| !u.is_empty()) else {
                    return Target::Cancelled("the inbox has no webhook_url".into());
                };
                let secret = inbox.settings.secret.clone().unwrap_or_default();
                let body = match payload::body(&self.store, &directory, delivery).await {
                    Ok(body) => body,
                    Err(fault) => return fault.into(),
                };
                self.signed(&url, &secret, delivery, body)
            }
            DeliveryKind::Whatsapp => {
                let Some(inbox) = delivery.inbox_id.and_then(|id| directory.inboxes.get(&id))
                else {
                    return Target::Cancelled("the inbox was deleted".into());
                };
                let Some(config) = &inbox.settings.provider_config else {
                    return Target::Cancelled("the WhatsApp number is disconnected".into());
                };
                let Some((conversation, Some(message))) = payload::facts(&delivery.payload) else {
                    return Target::Broken("stored message unreadable".into());
                };
                if delivery.event == "download_media" {
                    return Target::Download {
                        config: config.clone(),
                        media: message.content_attributes["whatsapp_media"].clone(),
                    };
                }
                let link = match self
                    .store
                    .link_of(conversation.contact_id, conversation.inbox_id)
                    .await
                {
                    Ok(Some(link)) => link,
                    Ok(None) => return Target::Cancelled("the contact was deleted".into()),
                    Err(e) => return Target::Later(e.to_string()),
                };
                // A link made before links of WhatsApp numbers were named
                // by the number holds a random id: the contact's phone
                // number is where the message goes then.
                let to = if link.source_id.bytes().all(|b| b.is_ascii_digit()) {
                    link.source_id
                } else {
                    let contact = match self
                        .store
                        .get_contact(conversation.account_id, conversation.contact_id)
                        .await
                    {
                        Ok(contact) => contact,
                        Err(e) => return Target::Later(e.to_string()),
                    };
                    match contact.phone_number {
                        Some(phone) => phone.trim_start_matches('+').to_string(),
                        None => {
                            return Target::Cancelled("the contact has no WhatsApp number".into())
                        }
                    }
                };
                let file = message.content_attributes.get("template_params").is_none()
                    && message.content_attributes["attachments"].get(0).is_some();
                if file {
                    return Target::WhatsappFile {
                        config: config.clone(),
                        to,
                        message,
                    };
                }
                match crate::whatsapp::send::call(
                    &self.config.graph,
                    config,
                    &to,
                    &message,
                    None,
                    self.config.allow_private,
                ) {
                    Ok(call) => Target::Call(call),
                    Err(e) => Target::Broken(e),
                }
            }
            DeliveryKind::Crm => {
                let Some((hook, settings)) = &directory.crm else {
                    return Target::Cancelled("the CRM integration was removed or disabled".into());
                };
                let contact_id = delivery.payload["crm"]["contact_id"].as_i64().unwrap_or(0);
                match self
                    .store
                    .get_contact(delivery.account_id, contact_id)
                    .await
                {
                    // An anonymous visitor is nobody to a sales team yet:
                    // the sync waits until the contact has an e-mail or a
                    // phone (see `Hub::contact_saved`), unless an agent
                    // asked for it (then it fails, saying why).
                    Ok(c) if c.crm.is_none() && !crate::crm::sync::reachable(&c) => {
                        Target::Cancelled(
                            "the contact has no e-mail or phone yet; it is sent once it has one"
                                .into(),
                        )
                    }
                    Ok(_) => Target::Crm(hook.clone(), settings.clone()),
                    Err(crate::store::StoreError::NotFound) => {
                        Target::Cancelled("the contact was deleted".into())
                    }
                    Err(e) => Target::Later(e.to_string()),
                }
            }
        }
    }

    fn signed(&self, url: &str, secret: &str, delivery: &Delivery, body: Vec<u8>) -> Target {
        let url = match guard::check_url(url, self.config.allow_private) {
            Ok(url) => url,
            Err(e) => return Target::Broken(e),
        };
        let headers = sign::headers(secret, &delivery.delivery_id, &delivery.event, &body);
        Target::Call(Call { url, headers, body })
    }

    /// Sends a WhatsApp reply with a file: the file is uploaded to the
    /// number's media, then the message names it. A retry uploads again
    /// (an unused upload expires on WhatsApp's side).
    pub(super) async fn send_whatsapp_file(
        &self,
        config: &crate::store::WhatsappConfig,
        to: &str,
        message: &crate::store::Message,
    ) -> Answer {
        let first = &message.content_attributes["attachments"][0];
        let Some(key) = crate::files::keys_of(&message.content_attributes)
            .into_iter()
            .next()
        else {
            return refused(422, "the file's link is unreadable".into());
        };
        let bytes = match self.files.get(&key).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return refused(410, "the file was deleted".into())
            }
            Err(e) => return Answer::Unreachable(format!("cannot read the file: {e}")),
        };
        let file = crate::whatsapp::media::Outgoing {
            bytes,
            content_type: first["content_type"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_string(),
            name: first["file_name"].as_str().unwrap_or("file").to_string(),
        };
        let graph = &self.config.graph;
        let allow_private = self.config.allow_private;
        let media_id =
            match crate::whatsapp::media::upload(&self.client, graph, config, file, allow_private)
                .await
            {
                Ok(id) => id,
                Err(answer) => return answer,
            };
        match crate::whatsapp::send::call(
            graph,
            config,
            to,
            message,
            Some(&media_id),
            allow_private,
        ) {
            Ok(call) => super::send::post(&self.client, call).await,
            Err(e) => refused(422, e),
        }
    }

    /// Runs a contact's CRM sync with the integration's connector.
    pub(super) async fn sync_crm(
        &self,
        delivery: &Delivery,
        hook: &crate::store::IntegrationHook,
        settings: &crate::crm::AgendorSettings,
    ) -> Answer {
        let connector = match crate::crm::agendor::Agendor::new(
            self.client.clone(),
            settings,
            self.config.allow_private,
        ) {
            Ok(c) => c,
            Err(e) => return refused(422, e.message().to_string()),
        };
        let cx = crate::crm::sync::Context {
            hub: &self.hub,
            store: &self.store,
            hook,
            settings,
            connector: &connector,
            public_url: &self.public_url,
        };
        crate::crm::sync::run(&cx, delivery).await
    }

    /// Stores downloaded media and attaches it to its message (agents get
    /// `message.updated`). A file of a refused type is a final refusal; the
    /// store or hub being unavailable is retried.
    pub(super) async fn attach(&self, delivery: &Delivery, upload: crate::files::Upload) -> Answer {
        let Some((conversation, Some(facts))) = payload::facts(&delivery.payload) else {
            return refused(422, "stored message unreadable".into());
        };
        if let Err(e) = upload.check("media") {
            return refused(415, e.message().to_string());
        }
        let stored = match crate::files::store(
            self.store.as_ref(),
            self.files.as_ref(),
            &self.public_url,
            delivery.account_id,
            conversation.id,
            vec![upload],
        )
        .await
        {
            Ok(stored) => stored,
            Err(e) => return Answer::Unreachable(e.message().to_string()),
        };
        let keys = crate::files::keys_of(&serde_json::json!({ "attachments": stored }));
        let attached = self
            .hub
            .edit_message(delivery.account_id, conversation.id, facts.id, |m| {
                if m.deleted {
                    return false;
                }
                if !m.content_attributes.is_object() {
                    m.content_attributes = serde_json::json!({});
                }
                m.content_attributes["attachments"] = stored.into();
                true
            })
            .await;
        match attached {
            Ok(m) if !m.deleted => Answer::Success {
                status: 200,
                body: String::new(),
            },
            // Deleted (or gone) meanwhile: the file is not kept.
            Ok(_) | Err(crate::hub::HubError::NotFound) => {
                crate::files::forget(&self.store, &self.files, delivery.account_id, &keys).await;
                refused(410, "the message was deleted".into())
            }
            Err(e) => {
                crate::files::forget(&self.store, &self.files, delivery.account_id, &keys).await;
                Answer::Unreachable(e.to_string())
            }
        }
    }

    /// What a finished call changes beyond its own row: a CRM sync that was
    /// given up shows on its contact; a WhatsApp reply
    /// learns its WhatsApp id; a reply that could not be delivered (WhatsApp,
    /// or an API inbox's callback) is marked failed with the reason, which
    /// agents see on the message.
    pub(super) async fn after(
        &self,
        delivery: &Delivery,
        answer: Option<&Answer>,
        attempt: &Attempt,
    ) {
        if delivery.kind == DeliveryKind::Crm {
            let why = attempt.error.as_deref().unwrap_or("gave up");
            match attempt.status {
                DeliveryStatus::Failed => {
                    crate::crm::sync::gave_up(&self.hub, &self.store, delivery, why).await
                }
                DeliveryStatus::Cancelled => {
                    crate::crm::sync::cancelled(&self.hub, &self.store, delivery, why).await
                }
                _ => {}
            }
            return;
        }
        let reply_to_customer = match delivery.kind {
            DeliveryKind::Whatsapp => true,
            DeliveryKind::ApiInbox => delivery.event == "message_created",
            DeliveryKind::Webhook | DeliveryKind::Crm => false,
        };
        if !reply_to_customer {
            return;
        }
        let Some((conversation, Some(facts))) = payload::facts(&delivery.payload) else {
            return;
        };
        if !matches!(
            facts.message_type,
            MessageType::Outgoing | MessageType::Template
        ) {
            return;
        }
        let sent_id = match (delivery.kind, answer) {
            (DeliveryKind::Whatsapp, Some(Answer::Success { body, .. })) => {
                crate::whatsapp::send::sent_id(body)
            }
            _ => None,
        };
        let failed = matches!(
            attempt.status,
            DeliveryStatus::Failed | DeliveryStatus::Cancelled
        );
        if sent_id.is_none() && !failed {
            return;
        }
        let account_id = delivery.account_id;
        let edited = self
            .hub
            .edit_message(account_id, conversation.id, facts.id, |m| {
                let mut changed = false;
                if let Some(id) = &sent_id {
                    m.source_id = Some(id.clone());
                    changed = true;
                }
                if failed {
                    let reason = Report {
                        status: MessageStatus::Failed,
                        error: attempt.error.clone(),
                    };
                    changed |= reason.apply(m);
                }
                changed
            })
            .await;
        if let Err(e) = edited {
            tracing::warn!(message = facts.id, error = %e, "outbox: cannot update the message");
            return;
        }
        // A delivery report that overtook this answer waited for the id.
        if let Some(report) = sent_id.and_then(|id| self.hub.early_reports().take(account_id, &id))
        {
            let applied = self
                .hub
                .edit_message(account_id, conversation.id, facts.id, |m| report.apply(m))
                .await;
            if let Err(e) = applied {
                tracing::warn!(message = facts.id, error = %e, "outbox: cannot apply a report");
            }
        }
    }
}

fn refused(status: u16, body: String) -> Answer {
    Answer::Refused {
        status,
        body,
        retry_after: None,
    }
}
