//! Webhooks and the outbox.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{parse_column, SqlStore};
use crate::store::{
    now, Attempt, Delivery, DeliveryFilter, DeliveryKind, DeliveryStatus, OutboxStore, StoreError,
    StoreResult, Webhook, WebhookFields,
};

const WEBHOOK_SELECT: &str =
    "SELECT id, account_id, inbox_id, name, url, subscriptions, secret, created_at FROM webhooks";

macro_rules! delivery_columns {
    () => {
        "id, account_id, kind, webhook_id, inbox_id, event, delivery_id, payload, status, \
         attempts, next_attempt_at, created_at, last_attempt_at, last_status_code, last_error, \
         url, delivered_at, retried_at"
    };
}

const DELIVERY_SELECT: &str = concat!("SELECT ", delivery_columns!(), " FROM outbox");

/// The columns plus each row's place in its lane's queue (1 = next).
const DELIVERY_SELECT_RANKED: &str = concat!(
    "SELECT ",
    delivery_columns!(),
    ", ROW_NUMBER() OVER (PARTITION BY account_id, kind, webhook_id, \
     CASE WHEN kind = 'webhook' THEN NULL ELSE inbox_id END \
     ORDER BY next_attempt_at, id) AS lane_rank FROM outbox"
);

#[derive(FromRow)]
struct WebhookRow {
    id: i64,
    account_id: i64,
    inbox_id: Option<i64>,
    name: Option<String>,
    url: String,
    subscriptions: String,
    secret: String,
    created_at: i64,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(r: WebhookRow) -> Result<Self, StoreError> {
        Ok(Webhook {
            subscriptions: serde_json::from_str(&r.subscriptions)
                .map_err(|e| StoreError::Corrupt(format!("webhook {} subscriptions: {e}", r.id)))?,
            id: r.id,
            account_id: r.account_id,
            inbox_id: r.inbox_id,
            name: r.name,
            url: r.url,
            secret: r.secret,
            created_at: r.created_at,
        })
    }
}

#[derive(FromRow)]
struct DeliveryRow {
    id: i64,
    account_id: i64,
    kind: String,
    webhook_id: Option<i64>,
    inbox_id: Option<i64>,
    event: String,
    delivery_id: String,
    payload: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    created_at: i64,
    last_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    url: Option<String>,
    delivered_at: Option<i64>,
    retried_at: Option<i64>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Delivery {
            kind: parse_column(&r.kind, DeliveryKind::parse, "outbox.kind")?,
            status: parse_column(&r.status, DeliveryStatus::parse, "outbox.status")?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| StoreError::Corrupt(format!("outbox {} payload: {e}", r.id)))?,
            id: r.id,
            account_id: r.account_id,
            webhook_id: r.webhook_id,
            inbox_id: r.inbox_id,
            event: r.event,
            delivery_id: r.delivery_id,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            last_attempt_at: r.last_attempt_at,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            url: r.url,
            delivered_at: r.delivered_at,
            retried_at: r.retried_at,
        })
    }
}

fn all<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

fn subscriptions_json(fields: &WebhookFields) -> String {
    serde_json::Value::from(fields.subscriptions.clone()).to_string()
}

#[async_trait]
impl<DB> OutboxStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn list_webhooks(&self, account_id: i64) -> StoreResult<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = sqlx::query_as(&format!(
            "{WEBHOOK_SELECT} WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        all(rows)
    }

    async fn create_webhook(
        &self,
        account_id: i64,
        fields: &WebhookFields,
        secret: &str,
    ) -> StoreResult<Webhook> {
        let row: WebhookRow = sqlx::query_as(&format!(
            "INSERT INTO webhooks (account_id, inbox_id, name, url, subscriptions, secret, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {}",
            &WEBHOOK_SELECT["SELECT ".len()..WEBHOOK_SELECT.len() - " FROM webhooks".len()]
        ))
        .bind(account_id)
        .bind(fields.inbox_id)
        .bind(fields.name.clone())
        .bind(fields.url.as_str())
        .bind(subscriptions_json(fields))
        .bind(secret)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    async fn update_webhook(
        &self,
        account_id: i64,
        webhook_id: i64,
        fields: &WebhookFields,
    ) -> StoreResult<Webhook> {
        let done: Option<(i64,)> = sqlx::query_as(
            "UPDATE webhooks SET inbox_id = $1, name = $2, url = $3, subscriptions = $4 \
             WHERE account_id = $5 AND id = $6 RETURNING id",
        )
        .bind(fields.inbox_id)
        .bind(fields.name.clone())
        .bind(fields.url.as_str())
        .bind(subscriptions_json(fields))
        .bind(account_id)
        .bind(webhook_id)
        .fetch_optional(&self.pool)
        .await?;
        if done.is_none() {
            return Err(StoreError::NotFound);
        }
        let row: WebhookRow = sqlx::query_as(&format!("{WEBHOOK_SELECT} WHERE id = $1"))
            .bind(webhook_id)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn delete_webhook(&self, account_id: i64, webhook_id: i64) -> StoreResult<()> {
        let done: Option<(i64,)> =
            sqlx::query_as("DELETE FROM webhooks WHERE account_id = $1 AND id = $2 RETURNING id")
                .bind(account_id)
                .bind(webhook_id)
                .fetch_optional(&self.pool)
                .await?;
        if done.is_none() {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn due_deliveries(
        &self,
        now_ms: i64,
        per_lane: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT * FROM ({DELIVERY_SELECT_RANKED} WHERE status = 'pending' \
             AND next_attempt_at <= $1) due WHERE lane_rank <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3"
        ))
        .bind(now_ms)
        .bind(per_lane)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        all(rows)
    }

    async fn next_due(&self) -> StoreResult<Option<i64>> {
        let (at,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(at)
    }

    async fn record_attempt(&self, id: i64, attempt: &Attempt) -> StoreResult<()> {
        let delivered = (attempt.status == DeliveryStatus::Delivered).then_some(attempt.at);
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, status = $1, next_attempt_at = $2, \
             last_attempt_at = $3, last_status_code = $4, last_error = $5, \
             url = COALESCE($6, url), \
             delivered_at = $7 WHERE id = $8 AND status = 'pending'",
        )
        .bind(attempt.status.as_str())
        .bind(attempt.next_attempt_at)
        .bind(attempt.at)
        .bind(attempt.status_code)
        .bind(attempt.error.clone())
        .bind(attempt.url.clone())
        .bind(delivered)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        account_id: i64,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE account_id = $1 AND ($2 IS NULL OR webhook_id = $2) \
             AND ($3 IS NULL OR inbox_id = $3) AND ($4 IS NULL OR status = $4) \
             AND ($5 IS NULL OR id < $5) AND ($6 IS NULL OR kind = $6) \
             AND ($7 = FALSE OR kind <> 'webhook') ORDER BY id DESC LIMIT $8"
        ))
        .bind(account_id)
        .bind(filter.webhook_id)
        .bind(filter.inbox_id)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(filter.before)
        .bind(filter.kind.map(|k| k.as_str()))
        .bind(filter.exclude_webhooks)
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        all(rows)
    }

    async fn get_delivery(&self, account_id: i64, id: i64) -> StoreResult<Delivery> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn retry_delivery(&self, account_id: i64, id: i64, now_ms: i64) -> StoreResult<Delivery> {
        let done: Option<(i64,)> = sqlx::query_as(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, retried_at = $1, \
             attempts = 0 WHERE account_id = $2 AND id = $3 AND status IN ('failed', 'cancelled') RETURNING id",
        )
        .bind(now_ms)
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let delivery = self.get_delivery(account_id, id).await?;
        if done.is_none() && delivery.status != DeliveryStatus::Pending {
            return Err(StoreError::Invalid(format!(
                "delivery {id} is {}; only failed or cancelled deliveries can be retried",
                delivery.status.as_str()
            )));
        }
        Ok(delivery)
    }
}
