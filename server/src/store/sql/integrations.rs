//! Integration hooks and contacts' CRM links.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use switchboard_protocol::chat::CrmLink;

use super::SqlStore;
use crate::store::{
    now_ms, Contact, ContactStore, IntegrationHook, IntegrationStore, StoreError, StoreResult,
};

const HOOK_COLUMNS: &str = "id, account_id, app_id, status, settings, last_success_at, \
     last_error, last_error_at, created_at";

#[derive(FromRow)]
struct HookRow {
    id: i64,
    account_id: i64,
    app_id: String,
    status: i64,
    settings: String,
    last_success_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<HookRow> for IntegrationHook {
    type Error = StoreError;
    fn try_from(r: HookRow) -> Result<Self, StoreError> {
        Ok(IntegrationHook {
            settings: serde_json::from_str(&r.settings)
                .map_err(|e| StoreError::Corrupt(format!("integration hook {}: {e}", r.id)))?,
            id: r.id,
            account_id: r.account_id,
            app_id: r.app_id,
            enabled: r.status != 0,
            last_success_at: r.last_success_at,
            last_error: r.last_error,
            last_error_at: r.last_error_at,
            created_at: r.created_at,
        })
    }
}

#[async_trait]
impl<DB> IntegrationStore for SqlStore<DB>
where
    DB: Database,
    Self: ContactStore,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn list_hooks(&self, account_id: i64) -> StoreResult<Vec<IntegrationHook>> {
        let rows: Vec<HookRow> = sqlx::query_as(&format!(
            "SELECT {HOOK_COLUMNS} FROM integration_hooks WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(IntegrationHook::try_from).collect()
    }

    async fn create_hook(
        &self,
        account_id: i64,
        app_id: &str,
        enabled: bool,
        settings: &Value,
    ) -> StoreResult<IntegrationHook> {
        let row: HookRow = sqlx::query_as(&format!(
            "INSERT INTO integration_hooks (account_id, app_id, status, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {HOOK_COLUMNS}"
        ))
        .bind(account_id)
        .bind(app_id)
        .bind(i64::from(enabled))
        .bind(settings.to_string())
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            super::conflict_on_unique(e, "this app is already connected; update its hook instead")
        })?;
        row.try_into()
    }

    async fn update_hook(
        &self,
        account_id: i64,
        hook_id: i64,
        enabled: bool,
        settings: &Value,
    ) -> StoreResult<IntegrationHook> {
        let row: Option<HookRow> = sqlx::query_as(&format!(
            "UPDATE integration_hooks SET status = $1, settings = $2 \
             WHERE account_id = $3 AND id = $4 RETURNING {HOOK_COLUMNS}"
        ))
        .bind(i64::from(enabled))
        .bind(settings.to_string())
        .bind(account_id)
        .bind(hook_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn delete_hook(&self, account_id: i64, hook_id: i64) -> StoreResult<()> {
        let done: Option<(i64,)> = sqlx::query_as(
            "DELETE FROM integration_hooks WHERE account_id = $1 AND id = $2 RETURNING id",
        )
        .bind(account_id)
        .bind(hook_id)
        .fetch_optional(&self.pool)
        .await?;
        done.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn record_hook_health(
        &self,
        account_id: i64,
        hook_id: i64,
        at_ms: i64,
        error: Option<&str>,
    ) -> StoreResult<()> {
        match error {
            None => {
                sqlx::query(
                    "UPDATE integration_hooks SET last_success_at = $1 \
                     WHERE account_id = $2 AND id = $3",
                )
                .bind(at_ms)
                .bind(account_id)
                .bind(hook_id)
                .execute(&self.pool)
                .await?;
            }
            Some(error) => {
                sqlx::query(
                    "UPDATE integration_hooks SET last_error_at = $1, last_error = $2 \
                     WHERE account_id = $3 AND id = $4",
                )
                .bind(at_ms)
                .bind(error)
                .bind(account_id)
                .bind(hook_id)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    async fn set_contact_crm(
        &self,
        account_id: i64,
        contact_id: i64,
        crm: Option<&CrmLink>,
    ) -> StoreResult<Contact> {
        let text = crm
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let done: Option<(i64,)> = sqlx::query_as(
            "UPDATE contacts SET crm = $1 WHERE account_id = $2 AND id = $3 RETURNING id",
        )
        .bind(text)
        .bind(account_id)
        .bind(contact_id)
        .fetch_optional(&self.pool)
        .await?;
        self.contacts.forget_contact(account_id, contact_id);
        done.ok_or(StoreError::NotFound)?;
        self.get_contact(account_id, contact_id).await
    }
}
