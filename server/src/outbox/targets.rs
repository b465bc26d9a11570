//! What each delivery calls and what its answer changes: the request built
//! from the destination's current settings, and the effects of a WhatsApp
//! send or download (or a failed reply) on its message.

use super::send::{Answer, Call};
use super::{guard, render, sign, Target, Worker};
use crate::store::{Attempt, Delivery, DeliveryKind, DeliveryStatus, MessageStatus, MessageType};

impl Worker {
    /// Builds the request for a delivery from the destination's current
    /// settings (a fixed URL or secret applies to pending retries too).
    pub(super) async fn target(&self, delivery: &Delivery) -> Target {
        let directory = match self.hub.directory(delivery.account_id).await {
            Ok(d) => d,
            Err(e) => return Target::Cancelled(format!("account unavailable: {e}")),
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
                let body = match render::body(&self.store, &directory, delivery).await {
                    Ok(body) => body,
                    Err(e) => return Target::Broken(e),
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
                let body = match render::body(&self.store, &directory, delivery).await {
                    Ok(body) => body,
                    Err(e) => return Target::Broken(e),
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
                let Some((conversation, Some(message))) = render::facts(&delivery.payload) else {
                    return Target::Broken("stored message unreadable".into());
                };
                if delivery.event == "download_media" {
                    return Target::Download {
                        config: config.clone(),
                        media: message.content_attributes["whatsapp_media"].clone(),
                    };
                }
                let to = match self
                    .store
                    .link_of(conversation.contact_id, conversation.inbox_id)
                    .await
                {
                    Ok(Some(link)) => link.source_id,
                    Ok(None) => return Target::Cancelled("the contact was deleted".into()),
                    Err(e) => return Target::Broken(e.to_string()),
                };
                match crate::whatsapp::send::call(
                    &self.config.graph,
                    config,
                    &to,
                    &message,
                    self.config.allow_private,
                ) {
                    Ok(call) => Target::Call(call),
                    Err(e) => Target::Broken(e),
                }
            }
            DeliveryKind::Crm => {
                Target::Broken(format!("no sender for {} calls", delivery.kind.as_str()))
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

    /// Stores downloaded media and attaches it to its message (agents get
    /// `message.updated`).
    pub(super) async fn attach(
        &self,
        delivery: &Delivery,
        upload: crate::files::Upload,
    ) -> Result<(), String> {
        let Some((conversation, Some(facts))) = render::facts(&delivery.payload) else {
            return Err("stored message unreadable".into());
        };
        let stored = crate::files::store(
            self.store.as_ref(),
            self.files.as_ref(),
            &self.public_url,
            delivery.account_id,
            conversation.id,
            vec![upload],
        )
        .await
        .map_err(|e| e.message().to_string())?;
        let mut message = self
            .store
            .get_message(conversation.id, facts.id)
            .await
            .map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(attributes) = &mut message.content_attributes {
            attributes.insert("attachments".into(), serde_json::Value::Array(stored));
        }
        message.updated_at = crate::store::now();
        self.hub
            .update_message(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// What a finished call changes beyond its own row: a WhatsApp reply
    /// learns its WhatsApp id; a reply that could not be delivered (WhatsApp,
    /// or an API inbox's callback) is marked failed with the reason, which
    /// agents see on the message.
    pub(super) async fn after(
        &self,
        delivery: &Delivery,
        answer: Option<&Answer>,
        attempt: &Attempt,
    ) {
        let reply_to_customer = match delivery.kind {
            DeliveryKind::Whatsapp => true,
            DeliveryKind::ApiInbox => delivery.event == "message_created",
            DeliveryKind::Webhook | DeliveryKind::Crm => false,
        };
        if !reply_to_customer {
            return;
        }
        let Some((conversation, Some(facts))) = render::facts(&delivery.payload) else {
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
        let mut message = match self.store.get_message(conversation.id, facts.id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(message = facts.id, error = %e, "outbox: message gone");
                return;
            }
        };
        if let Some(id) = sent_id {
            message.source_id = Some(id);
        }
        if failed {
            message.status = MessageStatus::Failed;
            if let serde_json::Value::Object(attributes) = &mut message.content_attributes {
                let reason = attempt.error.clone().unwrap_or_default();
                attributes.insert("external_error".into(), reason.into());
            }
        }
        message.updated_at = crate::store::now();
        if let Err(e) = self.hub.update_message(message).await {
            tracing::warn!(message = facts.id, error = %e, "outbox: cannot update the message");
        }
    }
}
