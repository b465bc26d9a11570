//! Users, their access tokens and their memberships in accounts.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use switchboard_protocol::api::{Availability, Role};

use super::{conflict_on_unique, parse_column, SqlStore};
use crate::store::{
    now, Membership, StoreError, StoreResult, TokenKind, User, UserPatch, UserStore,
};

#[derive(FromRow)]
pub(super) struct UserRow {
    id: i64,
    email: String,
    name: String,
    display_name: Option<String>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            email: r.email,
            name: r.name,
            display_name: r.display_name,
        }
    }
}

#[derive(FromRow)]
struct MembershipRow {
    account_id: i64,
    account_name: String,
    role: String,
    availability: String,
    auto_offline: bool,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            account_id: r.account_id,
            account_name: r.account_name,
            role: parse_column(&r.role, Role::parse, "role")?,
            availability: parse_column(&r.availability, Availability::parse, "availability")?,
            auto_offline: r.auto_offline,
        })
    }
}

const MEMBERSHIP_SELECT: &str = "SELECT a.id AS account_id, a.name AS account_name, au.role, \
     au.availability, au.auto_offline \
     FROM account_users au JOIN accounts a ON a.id = au.account_id WHERE au.user_id = $1";

#[async_trait]
impl<DB> UserStore for SqlStore<DB>
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
    async fn user_by_token(&self, token_sha256: &str) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.display_name \
             FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1",
        )
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(User::from))
    }

    async fn credentials(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let row: Option<(i64, String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, email, name, display_name, password_hash FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, email, name, display_name, hash)| {
            (
                User {
                    id,
                    email,
                    name,
                    display_name,
                },
                hash,
            )
        }))
    }

    async fn start_session(
        &self,
        user_id: i64,
        token_sha256: &str,
        password_hash: &str,
    ) -> StoreResult<bool> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        // Only while the password checked is still the person's: a sign-in
        // that straddles a password change gets no session.
        let started: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO access_tokens (token_sha256, user_id, kind, created_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS \
             (SELECT 1 FROM users WHERE id = $2 AND password_hash = $5) RETURNING user_id",
        )
        .bind(token_sha256)
        .bind(user_id)
        .bind(TokenKind::Session.as_str())
        .bind(at)
        .bind(password_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let started = started.is_some();
        if started {
            sqlx::query(CLAIM)
                .bind(at)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(started)
    }

    async fn delete_session(&self, token_sha256: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM access_tokens WHERE token_sha256 = $1 AND kind = 'session'")
            .bind(token_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn token_hashes(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT token_sha256 FROM access_tokens WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    async fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
        let rows: Vec<MembershipRow> =
            sqlx::query_as(&format!("{MEMBERSHIP_SELECT} ORDER BY a.id"))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Membership::try_from).collect()
    }

    async fn membership(&self, account_id: i64, user_id: i64) -> StoreResult<Option<Membership>> {
        let row: Option<MembershipRow> =
            sqlx::query_as(&format!("{MEMBERSHIP_SELECT} AND a.id = $2"))
                .bind(user_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Membership::try_from).transpose()
    }

    async fn update_user(&self, user_id: i64, patch: &UserPatch) -> StoreResult<User> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let row: Option<UserRow> = sqlx::query_as(
            "UPDATE users SET email = COALESCE($1, email), name = COALESCE($2, name), \
             display_name = CASE WHEN $3 THEN $4 ELSE display_name END, \
             password_hash = COALESCE($5, password_hash), \
             claimed_at = COALESCE(claimed_at, $7) \
             WHERE id = $6 RETURNING id, email, name, display_name",
        )
        .bind(patch.email.clone())
        .bind(patch.name.clone())
        .bind(patch.display_name.is_some())
        .bind(patch.display_name.clone().flatten())
        .bind(patch.password_hash.clone())
        .bind(user_id)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "a user with this email already exists"))?;
        let user = row.map(User::from).ok_or(StoreError::NotFound)?;
        if patch.password_hash.is_some() {
            revoke_sessions(&mut tx, user_id, patch.keep_session.as_deref()).await?;
        }
        tx.commit().await?;
        Ok(user)
    }
}

/// Marks a person's credentials as their own from `$1` (Unix seconds).
const CLAIM: &str = "UPDATE users SET claimed_at = COALESCE(claimed_at, $1) WHERE id = $2";

/// Revokes every console session of the user but `keep` (a token's
/// SHA-256): after a new password, whoever knew the old one is signed out.
async fn revoke_sessions<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    user_id: i64,
    keep: Option<&str>,
) -> StoreResult<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "DELETE FROM access_tokens WHERE user_id = $1 AND kind = 'session' \
         AND token_sha256 <> $2",
    )
    .bind(user_id)
    .bind(keep.unwrap_or(""))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
