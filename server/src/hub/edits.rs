//! Edits of stored messages, and the locks that keep concurrent work on one
//! conversation or customer from overwriting itself.
//!
//! A message is edited by several hands: an agent deleting it, a visitor
//! answering a form, a WhatsApp delivery report, the outbox storing a sent
//! message's WhatsApp id or a failure, a media download attaching files.
//! Each reads the message, changes a field and saves the whole row, so two
//! at once would lose one change (a status moving back, a deleted reply
//! coming back). [`Hub::edit_message`] runs them one after another per
//! conversation: read, change, save, wait until durable, next.
//!
//! The locks are striped (a fixed array, picked by hashing the key), so they
//! cost nothing per conversation; two keys sharing a stripe only wait for
//! each other's short edit.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, MutexGuard};

use super::{Hub, HubError, HubResult};
use crate::store::{Message, MessageStatus, WriteOp};

/// Stripes per lock family.
const STRIPES: usize = 64;

/// A family of striped async locks.
pub struct Stripes([AsyncMutex<()>; STRIPES]);

impl Default for Stripes {
    fn default() -> Self {
        Stripes(std::array::from_fn(|_| AsyncMutex::new(())))
    }
}

impl Stripes {
    /// Waits for the stripe of `key`.
    pub async fn lock(&self, key: impl Hash) -> MutexGuard<'_, ()> {
        let mut hasher = rustc_hash::FxHasher::default();
        key.hash(&mut hasher);
        self.0[(hasher.finish() as usize) % STRIPES].lock().await
    }
}

/// How long a delivery report waits for its message to learn its id.
const EARLY_KEPT: Duration = Duration::from_secs(600);
/// Most reports waiting at once; the oldest are dropped past it.
const EARLY_MAX: usize = 10_000;

/// Delivery reports (WhatsApp's `sent`, `delivered`, `read`, `failed`) that
/// arrived before the send's answer stored the message's external id: the
/// report and the answer race, and the report often wins. They wait here,
/// in memory, until the id is stored; a restart in that instant loses one,
/// and the next report (which only moves forward) makes up for it.
#[derive(Default)]
pub struct EarlyReports(Mutex<HashMap<(i64, String), (Report, Instant)>>);

/// A message's new delivery state, and the reason of a failure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub status: MessageStatus,
    pub error: Option<String>,
}

impl Report {
    /// Applies the report if it moves the message forward; returns whether it did.
    pub fn apply(&self, message: &mut Message) -> bool {
        if !message.status.advances_to(self.status) {
            return false;
        }
        message.status = self.status;
        if let (Some(error), serde_json::Value::Object(attributes)) =
            (&self.error, &mut message.content_attributes)
        {
            attributes.insert("external_error".into(), error.clone().into());
        }
        true
    }
}

impl EarlyReports {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, String), (Report, Instant)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps a report for a message not known by this id yet (the furthest
    /// of several).
    pub fn park(&self, account_id: i64, source_id: &str, report: Report) {
        let mut map = self.map();
        if map.len() >= EARLY_MAX {
            map.retain(|_, (_, at)| at.elapsed() < EARLY_KEPT);
            if map.len() >= EARLY_MAX {
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
        }
        let key = (account_id, source_id.to_string());
        match map.get_mut(&key) {
            Some((parked, _)) if !parked.status.advances_to(report.status) => {}
            Some(entry) => *entry = (report, Instant::now()),
            None => {
                map.insert(key, (report, Instant::now()));
            }
        }
    }

    /// The report waiting for this id, if any (it is taken).
    pub fn take(&self, account_id: i64, source_id: &str) -> Option<Report> {
        self.map()
            .remove(&(account_id, source_id.to_string()))
            .filter(|(_, at)| at.elapsed() < EARLY_KEPT)
            .map(|(report, _)| report)
    }
}

impl Hub {
    /// Edits a stored message: reads it, lets `edit` change it, saves it and
    /// answers once durable, all under its conversation's edit lock, so
    /// concurrent edits apply one after another. `edit` returns false to
    /// leave the message as it is (nothing is written). Answers with the
    /// message as it stands.
    pub async fn edit_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message_id: i64,
        edit: impl FnOnce(&mut Message) -> bool,
    ) -> HubResult<Message> {
        self.ensure_roster(account_id).await?;
        let _serial = self.message_edits.lock(conversation_id).await;
        let shard = self.shard(account_id);
        if !Self::lock(&shard)
            .conversations
            .contains_key(&conversation_id)
        {
            return Err(HubError::NotFound);
        }
        let mut message = self.store.get_message(conversation_id, message_id).await?;
        if message.account_id != account_id {
            return Err(HubError::NotFound);
        }
        if !edit(&mut message) {
            return Ok(message);
        }
        message.updated_at = crate::store::now();
        let slot = self.slot().await?;
        let durable = {
            let mut state = Self::lock(&shard);
            let live = state
                .conversations
                .get_mut(&conversation_id)
                .ok_or(HubError::NotFound)?;
            if live
                .last_message
                .as_ref()
                .is_some_and(|m| m.id == message.id)
            {
                live.last_message = Some(std::sync::Arc::new(message.clone()));
            }
            self.commit(
                &mut state,
                slot,
                vec![WriteOp::UpdateMessage(message.clone())],
            )
        };
        Self::durable(durable).await?;
        Ok(message)
    }

    /// Reports that arrived before their message's external id was stored.
    pub fn early_reports(&self) -> &EarlyReports {
        &self.early_reports
    }

    /// Locks that serialise the find-or-create of one customer's contact and
    /// conversation (keyed by channel and customer), so two messages
    /// arriving at once open one conversation, not two.
    pub fn customer_locks(&self) -> &Stripes {
        &self.customer_locks
    }

    /// Locks that serialise one contact's CRM link: its syncs, which hold it
    /// across the CRM's calls (a family of their own, so a slow CRM never
    /// holds up customers' messages), and every other write of the link.
    pub fn crm_locks(&self) -> &Stripes {
        &self.crm_locks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: MessageStatus) -> Report {
        Report {
            status,
            error: None,
        }
    }

    #[test]
    fn early_reports_keep_the_furthest_and_are_taken_once() {
        let early = EarlyReports::default();
        early.park(1, "wamid.A", report(MessageStatus::Delivered));
        early.park(1, "wamid.A", report(MessageStatus::Sent));
        early.park(2, "wamid.A", report(MessageStatus::Read));
        assert_eq!(
            early.take(1, "wamid.A"),
            Some(report(MessageStatus::Delivered)),
            "a later report never moves a parked one back"
        );
        assert_eq!(early.take(1, "wamid.A"), None);
        assert_eq!(
            early.take(2, "wamid.A"),
            Some(report(MessageStatus::Read)),
            "accounts are kept apart"
        );
    }

    #[tokio::test]
    async fn stripes_serialise_one_key() {
        let stripes = Stripes::default();
        let first = stripes.lock(("inbox", 7)).await;
        let second = tokio::time::timeout(Duration::from_millis(50), stripes.lock(("inbox", 7)));
        assert!(second.await.is_err(), "the same key waits");
        drop(first);
        let _again = stripes.lock(("inbox", 7)).await;
    }
}
