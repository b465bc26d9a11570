//! Webhooks and the durable outbox: rows for every outbound call, and the
//! store seam the outbox workers and the delivery-log API use.

use async_trait::async_trait;
use serde_json::Value;

use super::chat::string_enum;
use super::StoreResult;

/// An account webhook (Chatwoot's `/webhooks`): where to POST which events.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub account_id: i64,
    /// Only this inbox's events; `None`: the whole account's.
    pub inbox_id: Option<i64>,
    pub name: Option<String>,
    pub url: String,
    /// Event names, e.g. `message_created`.
    pub subscriptions: Vec<String>,
    /// The key of the HMAC-SHA256 signature header.
    pub secret: String,
    pub created_at: i64,
}

/// Fields of a webhook to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookFields {
    pub inbox_id: Option<i64>,
    pub name: Option<String>,
    pub url: String,
    pub subscriptions: Vec<String>,
}

string_enum! {
    /// What an outbound call is for, which decides where it goes and what
    /// its answer changes: an account webhook (`webhook_id`), an API inbox's
    /// `webhook_url` (`inbox_id`), a WhatsApp Cloud number (`inbox_id`), a
    /// CRM integration.
    DeliveryKind { Webhook = "webhook", ApiInbox = "api_inbox", Whatsapp = "whatsapp", Crm = "crm" }
}

string_enum! {
    /// Where a delivery stands: pending (tried again at `next_attempt_at`),
    /// delivered, failed (a permanent refusal, or 24 hours of failures), or
    /// cancelled (its destination was removed before it could go out).
    DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

/// An outbound call to queue, written by the group-commit writer in the
/// same transaction as the change that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub account_id: i64,
    pub kind: DeliveryKind,
    pub webhook_id: Option<i64>,
    pub inbox_id: Option<i64>,
    pub event: String,
    /// Unique; re-applying a batch that committed skips the row.
    pub delivery_id: String,
    pub payload: Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A stored outbound call and its delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub account_id: i64,
    pub kind: DeliveryKind,
    pub webhook_id: Option<i64>,
    pub inbox_id: Option<i64>,
    pub event: String,
    pub delivery_id: String,
    pub payload: Value,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// Unix milliseconds, as are the other times.
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub url: Option<String>,
    pub delivered_at: Option<i64>,
    /// When an administrator last retried it by hand.
    pub retried_at: Option<i64>,
}

impl Delivery {
    /// Where its 24 hours of retries started: when it was written, or when
    /// an administrator last retried it.
    pub fn window_start(&self) -> i64 {
        self.retried_at
            .unwrap_or(self.created_at)
            .max(self.created_at)
    }
}

/// The result of one attempt, saved on its delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub at: i64,
    pub url: Option<String>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// `Pending` with the time of the next attempt, or a final status.
    pub status: DeliveryStatus,
    pub next_attempt_at: i64,
}

/// Which deliveries a log page shows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub webhook_id: Option<i64>,
    pub inbox_id: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub kind: Option<DeliveryKind>,
    /// Leave out account webhook deliveries (an inbox's own calls only).
    pub exclude_webhooks: bool,
    /// Only ids below this (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Webhooks and the outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn list_webhooks(&self, account_id: i64) -> StoreResult<Vec<Webhook>>;
    async fn create_webhook(
        &self,
        account_id: i64,
        fields: &WebhookFields,
        secret: &str,
    ) -> StoreResult<Webhook>;
    async fn update_webhook(
        &self,
        account_id: i64,
        webhook_id: i64,
        fields: &WebhookFields,
    ) -> StoreResult<Webhook>;
    async fn delete_webhook(&self, account_id: i64, webhook_id: i64) -> StoreResult<()>;
    /// Pending deliveries due at `now_ms`, oldest due first, at most
    /// `per_lane` of each destination (account, kind, webhook, and inbox
    /// unless it is a webhook's),
    /// so one destination's backlog cannot fill the page.
    async fn due_deliveries(
        &self,
        now_ms: i64,
        per_lane: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;
    /// When the next pending delivery is due, if any.
    async fn next_due(&self) -> StoreResult<Option<i64>>;
    async fn record_attempt(&self, id: i64, attempt: &Attempt) -> StoreResult<()>;
    async fn list_deliveries(
        &self,
        account_id: i64,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<Delivery>>;
    async fn get_delivery(&self, account_id: i64, id: i64) -> StoreResult<Delivery>;
    /// Makes a failed or cancelled delivery pending again, due now, with a
    /// new window of retries from `now_ms` and its attempts counted afresh.
    async fn retry_delivery(&self, account_id: i64, id: i64, now_ms: i64) -> StoreResult<Delivery>;
}

/// Current time as Unix milliseconds, the unit of the outbox's times.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
