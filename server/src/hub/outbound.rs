//! What the hub hands the outbox: waking its worker after commits that
//! queued calls, and the calls that have no conversation change to ride
//! with (contact events, widget triggers). See [`crate::outbox`].

use std::sync::Arc;

use super::writer::{self, Durable};
use super::{Hub, HubResult};
use crate::store::{Contact, NewDelivery, WriteOp};

impl Hub {
    /// What the outbox worker waits on between rounds.
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }

    /// Wakes the outbox worker once `durable` is committed: a row it read
    /// before the commit would not be there yet.
    pub(super) fn wake_outbox_after(&self, durable: Durable) {
        let wake = self.outbox_wake.clone();
        tokio::spawn(async move {
            if durable.wait().await.is_ok() {
                wake.notify_one();
            }
        });
    }

    /// A website visitor opened the chat window: `webwidget_triggered` for
    /// the account webhooks that subscribe to it.
    pub async fn widget_triggered(
        &self,
        contact: &Contact,
        visit: crate::outbox::plan::Visit,
    ) -> HubResult<()> {
        let directory = self.directory(contact.account_id).await?;
        let deliveries = crate::outbox::plan::plan_widget(&directory, contact, visit);
        self.queue_deliveries(contact.account_id, deliveries).await
    }

    /// After a contact was stored: consoles hear of a change, and the
    /// account's webhooks get `contact_created` (`before` absent) or
    /// `contact_updated` (when something changed), queued in the commit
    /// right after the contact's own; answers once that is durable.
    pub async fn contact_saved(
        &self,
        before: Option<&Contact>,
        contact: &Contact,
    ) -> HubResult<()> {
        let directory = self.directory(contact.account_id).await?;
        let mut crm = Vec::new();
        // A contact the CRM skipped while anonymous is sent once it has an
        // e-mail or a phone, if it came through an inbox the CRM covers.
        let identified = before.is_some_and(|b| !crate::crm::sync::reachable(b))
            && crate::crm::sync::reachable(contact)
            && contact.crm.is_none();
        if identified {
            let latest = self
                .contact_conversations(contact.account_id, contact.id)
                .into_iter()
                .map(|l| l.conversation)
                .max_by_key(|c| c.id)
                .filter(|c| directory.crm_applies(c.inbox_id));
            if let Some(c) = latest {
                crm.push(crate::crm::sync::delivery(
                    contact.account_id,
                    contact.id,
                    Some(c.id),
                    Some(c.inbox_id),
                    crate::store::now_ms(),
                ));
            }
        }
        let (event, changed) = match before {
            None => ("contact_created", serde_json::Value::Null),
            Some(before) => {
                self.contact_changed(contact.account_id, contact.clone());
                let changed = crate::outbox::plan::contact_changes(before, contact);
                if changed.is_empty() {
                    return self.queue_deliveries(contact.account_id, crm).await;
                }
                ("contact_updated", serde_json::Value::Array(changed))
            }
        };
        let mut deliveries = crate::outbox::plan::plan_contact(&directory, event, contact, changed);
        deliveries.extend(crm);
        self.queue_deliveries(contact.account_id, deliveries).await
    }

    /// Queues a contact's CRM sync (an agent's retry).
    pub async fn queue_crm_sync(
        &self,
        account_id: i64,
        contact_id: i64,
        conversation_id: Option<i64>,
        inbox_id: Option<i64>,
    ) -> HubResult<()> {
        let delivery = crate::crm::sync::delivery(
            account_id,
            contact_id,
            conversation_id,
            inbox_id,
            crate::store::now_ms(),
        );
        self.queue_deliveries(account_id, vec![delivery]).await
    }

    /// Commits outbound calls that have no change of their own to ride with
    /// (a contact's events, a widget trigger) and wakes the outbox.
    async fn queue_deliveries(
        &self,
        account_id: i64,
        deliveries: Vec<NewDelivery>,
    ) -> HubResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let slot = self.slot().await?;
        let ops = deliveries
            .into_iter()
            .map(WriteOp::InsertDelivery)
            .collect();
        // Outbound calls only: no shard holds them in memory, but in
        // cluster mode they commit under the account's lease like the rest.
        let epoch = self
            .loaded_shard(account_id)
            .and_then(|shard| Self::lock(&shard).epoch);
        let shard = writer::ShardRef {
            account_id,
            stale: None,
            epoch,
        };
        let durable = slot.send(Some(shard), ops);
        self.wake_outbox_after(durable.clone());
        Self::durable(durable).await
    }
}
