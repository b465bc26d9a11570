//! Inboxes and their collaborators.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use switchboard_protocol::api::ChannelType;

use super::agents::{AgentRow, AGENT_SELECT};
use super::{parse_column, SqlStore};
use crate::store::{
    now, Agent, Inbox, InboxStore, MemberChange, NewInbox, StoreError, StoreResult,
};

const INBOX_SELECT: &str = "SELECT id, account_id, name, channel_type, enable_auto_assignment, \
     auto_assignment_config, settings, website_token, inbox_identifier, phone_number FROM inboxes";

#[derive(FromRow)]
struct InboxRow {
    id: i64,
    account_id: i64,
    name: String,
    channel_type: String,
    enable_auto_assignment: bool,
    auto_assignment_config: String,
    settings: String,
    website_token: Option<String>,
    inbox_identifier: Option<String>,
    phone_number: Option<String>,
}

impl TryFrom<InboxRow> for Inbox {
    type Error = StoreError;
    fn try_from(r: InboxRow) -> Result<Self, StoreError> {
        let json = |column: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("inbox {} {column}: {e}", r.id))
        };
        Ok(Inbox {
            id: r.id,
            account_id: r.account_id,
            name: r.name.clone(),
            channel_type: parse_column(&r.channel_type, ChannelType::parse, "channel_type")?,
            enable_auto_assignment: r.enable_auto_assignment,
            auto_assignment_config: serde_json::from_str(&r.auto_assignment_config)
                .map_err(|e| json("auto_assignment_config", e))?,
            settings: serde_json::from_str(&r.settings).map_err(|e| json("settings", e))?,
            website_token: r.website_token.clone(),
            inbox_identifier: r.inbox_identifier.clone(),
            phone_number: r.phone_number.clone(),
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Largest number of users one collaborator change may name.
pub(super) const MAX_MEMBER_CHANGE: usize = 1000;

#[async_trait]
impl<DB> InboxStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Option<bool>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn list_inboxes(&self, account_id: i64) -> StoreResult<Vec<Inbox>> {
        let rows: Vec<InboxRow> =
            sqlx::query_as(&format!("{INBOX_SELECT} WHERE account_id = $1 ORDER BY id"))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Inbox::try_from).collect()
    }

    async fn get_inbox(&self, account_id: i64, inbox_id: i64) -> StoreResult<Inbox> {
        let row: Option<InboxRow> =
            sqlx::query_as(&format!("{INBOX_SELECT} WHERE account_id = $1 AND id = $2"))
                .bind(account_id)
                .bind(inbox_id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn inbox_by_identifier(&self, identifier: &str) -> StoreResult<Inbox> {
        let row: Option<InboxRow> = sqlx::query_as(&format!(
            "{INBOX_SELECT} WHERE inbox_identifier = $1 AND channel_type = 'api'"
        ))
        .bind(identifier)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn inbox_by_phone_number(&self, phone_number: &str) -> StoreResult<Inbox> {
        let row: Option<InboxRow> = sqlx::query_as(&format!(
            "{INBOX_SELECT} WHERE phone_number = $1 AND channel_type = 'whatsapp'"
        ))
        .bind(phone_number)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn inbox_by_website_token(&self, website_token: &str) -> StoreResult<Inbox> {
        let row: Option<InboxRow> = sqlx::query_as(&format!(
            "{INBOX_SELECT} WHERE website_token = $1 AND channel_type = 'web_widget'"
        ))
        .bind(website_token)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn create_inbox(&self, account_id: i64, new: &NewInbox) -> StoreResult<Inbox> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO inboxes (account_id, name, channel_type, enable_auto_assignment, \
             auto_assignment_config, settings, website_token, inbox_identifier, created_at, \
             phone_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(account_id)
        .bind(new.name.as_str())
        .bind(new.channel_type.as_str())
        .bind(new.enable_auto_assignment)
        .bind(to_json(&new.auto_assignment_config)?)
        .bind(to_json(&new.settings)?)
        .bind(new.website_token.clone())
        .bind(new.inbox_identifier.clone())
        .bind(now())
        .bind(new.phone_number.clone())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            super::conflict_on_unique(e, "another inbox already uses this phone number")
        })?;
        self.get_inbox(account_id, id).await
    }

    async fn save_inbox(&self, inbox: &Inbox) -> StoreResult<Inbox> {
        let saved: Option<(i64,)> = sqlx::query_as(
            "UPDATE inboxes SET name = $1, enable_auto_assignment = $2, \
             auto_assignment_config = $3, settings = $4 WHERE id = $5 AND account_id = $6 \
             RETURNING id",
        )
        .bind(inbox.name.as_str())
        .bind(inbox.enable_auto_assignment)
        .bind(to_json(&inbox.auto_assignment_config)?)
        .bind(to_json(&inbox.settings)?)
        .bind(inbox.id)
        .bind(inbox.account_id)
        .fetch_optional(&self.pool)
        .await?;
        if saved.is_none() {
            return Err(StoreError::NotFound);
        }
        self.get_inbox(inbox.account_id, inbox.id).await
    }

    async fn list_members(&self, account_id: i64, inbox_id: i64) -> StoreResult<Vec<Agent>> {
        // Proves the inbox belongs to the account before listing anything.
        self.get_inbox(account_id, inbox_id).await?;
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_SELECT} JOIN inbox_members m ON m.user_id = u.id \
             WHERE au.account_id = $1 AND m.inbox_id = $2 ORDER BY u.id"
        ))
        .bind(account_id)
        .bind(inbox_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Agent::try_from).collect()
    }

    async fn change_members(
        &self,
        account_id: i64,
        inbox_id: i64,
        change: MemberChange,
        user_ids: &[i64],
    ) -> StoreResult<Vec<Agent>> {
        if user_ids.len() > MAX_MEMBER_CHANGE {
            return Err(StoreError::Invalid(format!(
                "at most {MAX_MEMBER_CHANGE} user_ids per request"
            )));
        }
        let mut tx = self.pool.begin().await?;
        // A write first: it proves the inbox is this account's and takes the
        // write lock, so the checks below cannot race with another change.
        let inbox: Option<(i64,)> = sqlx::query_as(
            "UPDATE inboxes SET id = id WHERE id = $1 AND account_id = $2 RETURNING id",
        )
        .bind(inbox_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if inbox.is_none() {
            return Err(StoreError::NotFound);
        }
        for &user_id in user_ids {
            let agent: Option<(i64,)> = sqlx::query_as(
                "SELECT user_id FROM account_users WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if agent.is_none() {
                return Err(StoreError::Invalid(format!(
                    "user {user_id} is not an agent of this account"
                )));
            }
        }
        if change == MemberChange::Replace {
            sqlx::query("DELETE FROM inbox_members WHERE inbox_id = $1")
                .bind(inbox_id)
                .execute(&mut *tx)
                .await?;
        }
        let at = now();
        for &user_id in user_ids {
            let query = match change {
                MemberChange::Add | MemberChange::Replace => sqlx::query(
                    "INSERT INTO inbox_members (inbox_id, user_id, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(inbox_id)
                .bind(user_id)
                .bind(at),
                MemberChange::Remove => {
                    sqlx::query("DELETE FROM inbox_members WHERE inbox_id = $1 AND user_id = $2")
                        .bind(inbox_id)
                        .bind(user_id)
                }
            };
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.list_members(account_id, inbox_id).await
    }
}
