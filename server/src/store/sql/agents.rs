//! The agents of an account: users joined to it with a role.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use switchboard_protocol::api::{Availability, Role};

use super::{conflict_on_unique, parse_column, SqlStore};
use crate::store::{now, Agent, AgentPatch, AgentStore, NewAgent, StoreError, StoreResult, User};

/// Selects agents; callers append `WHERE`/`AND` clauses on `au` and `u`.
pub(super) const AGENT_SELECT: &str = "SELECT u.id, u.email, u.name, u.display_name, \
     u.password_hash IS NOT NULL AS has_password, au.account_id, au.role, au.availability, \
     au.auto_offline, au.max_concurrent_conversations \
     FROM account_users au JOIN users u ON u.id = au.user_id";

#[derive(FromRow)]
pub(super) struct AgentRow {
    id: i64,
    email: String,
    name: String,
    display_name: Option<String>,
    has_password: bool,
    account_id: i64,
    role: String,
    availability: String,
    auto_offline: bool,
    max_concurrent_conversations: Option<i64>,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;
    fn try_from(r: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            user: User {
                id: r.id,
                email: r.email,
                name: r.name,
                display_name: r.display_name,
            },
            account_id: r.account_id,
            role: parse_column(&r.role, Role::parse, "role")?,
            availability: parse_column(&r.availability, Availability::parse, "availability")?,
            auto_offline: r.auto_offline,
            max_concurrent_conversations: r
                .max_concurrent_conversations
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            has_password: r.has_password,
        })
    }
}

/// Takes the account's write lock for the rest of the transaction (a row lock
/// on Postgres, the database write lock on SQLite), so that checks such as
/// "one administrator remains" cannot race with another change.
const LOCK_ACCOUNT: &str = "UPDATE accounts SET id = id WHERE id = $1";

const COUNT_ADMINS: &str =
    "SELECT COUNT(*) FROM account_users WHERE account_id = $1 AND role = 'administrator'";

const LAST_ADMIN: &str = "the account must keep at least one administrator";

#[async_trait]
impl<DB> AgentStore for SqlStore<DB>
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
    async fn list_agents(&self, account_id: i64) -> StoreResult<Vec<Agent>> {
        let rows: Vec<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_SELECT} WHERE au.account_id = $1 ORDER BY u.id"
        ))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Agent::try_from).collect()
    }

    async fn get_agent(&self, account_id: i64, user_id: i64) -> StoreResult<Agent> {
        let row: Option<AgentRow> = sqlx::query_as(&format!(
            "{AGENT_SELECT} WHERE au.account_id = $1 AND au.user_id = $2"
        ))
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn add_agent(&self, account_id: i64, new: &NewAgent) -> StoreResult<Agent> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO users (email, name, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(new.user.email.as_str())
        .bind(new.user.name.as_str())
        .bind(new.user.display_name.clone())
        .bind(new.user.password_hash.clone())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let user_id = match inserted {
            Some((id,)) => id,
            // Someone has this e-mail already. E-mails are not verified, so
            // whoever set up that person (another account's administrator,
            // or someone who named this e-mail in their own profile) may
            // know their password: joining them here would let that person
            // into this account. Only a person nobody has used yet (in no
            // account, never signed in) is taken, as if new.
            None => {
                let fresh: Option<(i64,)> = sqlx::query_as(
                    "UPDATE users SET name = $2, display_name = $3, password_hash = $4 \
                     WHERE email = $1 AND claimed_at IS NULL AND NOT EXISTS \
                     (SELECT 1 FROM account_users au WHERE au.user_id = users.id) \
                     RETURNING id",
                )
                .bind(new.user.email.as_str())
                .bind(new.user.name.as_str())
                .bind(new.user.display_name.clone())
                .bind(new.user.password_hash.clone())
                .fetch_optional(&mut *tx)
                .await?;
                fresh.ok_or(StoreError::PersonExists)?.0
            }
        };
        sqlx::query(
            "INSERT INTO account_users (account_id, user_id, role, availability, auto_offline, \
             created_at, max_concurrent_conversations) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account_id)
        .bind(user_id)
        .bind(new.role.as_str())
        .bind(new.availability.as_str())
        .bind(new.auto_offline)
        .bind(at)
        .bind(new.max_concurrent_conversations.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "this user is already an agent of the account"))?;
        tx.commit().await?;
        self.get_agent(account_id, user_id).await
    }

    async fn update_agent(
        &self,
        account_id: i64,
        user_id: i64,
        patch: &AgentPatch,
    ) -> StoreResult<Agent> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(LOCK_ACCOUNT)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let changed: Option<(i64,)> = sqlx::query_as(
            "UPDATE account_users SET role = COALESCE($1, role), \
             availability = COALESCE($2, availability), \
             auto_offline = COALESCE($3, auto_offline), \
             max_concurrent_conversations = CASE WHEN $6 THEN $7 \
                 ELSE max_concurrent_conversations END \
             WHERE account_id = $4 AND user_id = $5 RETURNING user_id",
        )
        .bind(patch.role.map(Role::as_str))
        .bind(patch.availability.map(Availability::as_str))
        .bind(patch.auto_offline)
        .bind(account_id)
        .bind(user_id)
        .bind(patch.max_concurrent_conversations.is_some())
        .bind(patch.max_concurrent_conversations.flatten().map(i64::from))
        .fetch_optional(&mut *tx)
        .await?;
        if changed.is_none() {
            return Err(StoreError::NotFound);
        }
        let (admins,): (i64,) = sqlx::query_as(COUNT_ADMINS)
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if admins == 0 {
            return Err(StoreError::Conflict(LAST_ADMIN.to_string()));
        }
        if patch.name.is_some() || patch.password_hash.is_some() {
            // Only while the person is this account's alone and has never
            // used credentials of their own: otherwise an administrator could
            // add someone else's e-mail, set a password and sign in as them.
            let set: Option<(i64,)> = sqlx::query_as(
                "UPDATE users SET name = COALESCE($1, name), \
                 password_hash = COALESCE($2, password_hash) \
                 WHERE id = $3 AND claimed_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM account_users WHERE user_id = $3 AND account_id <> $4) \
                 RETURNING id",
            )
            .bind(patch.name.clone())
            .bind(patch.password_hash.clone())
            .bind(user_id)
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?;
            if set.is_none() {
                return Err(StoreError::NotYours);
            }
        }
        tx.commit().await?;
        self.get_agent(account_id, user_id).await
    }

    async fn remove_agent(&self, account_id: i64, user_id: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(LOCK_ACCOUNT)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let removed: Option<(i64,)> = sqlx::query_as(
            "DELETE FROM account_users WHERE account_id = $1 AND user_id = $2 RETURNING user_id",
        )
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if removed.is_none() {
            return Err(StoreError::NotFound);
        }
        let (admins,): (i64,) = sqlx::query_as(COUNT_ADMINS)
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if admins == 0 {
            return Err(StoreError::Conflict(LAST_ADMIN.to_string()));
        }
        sqlx::query(
            "DELETE FROM inbox_members WHERE user_id = $1 \
             AND inbox_id IN (SELECT id FROM inboxes WHERE account_id = $2)",
        )
        .bind(user_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
