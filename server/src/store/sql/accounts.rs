//! Accounts: created together with their first administrator.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::{conflict_on_unique, SqlStore};
use crate::store::{now, AccountStore, CreatedAccount, NewUser, StoreResult, TokenKind};

#[async_trait]
impl<DB> AccountStore for SqlStore<DB>
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
    async fn create_account(
        &self,
        name: &str,
        admin: &NewUser,
        token_sha256: &str,
    ) -> StoreResult<CreatedAccount> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let (account_id,): (i64,) =
            sqlx::query_as("INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
        let (user_id,): (i64,) = sqlx::query_as(
            // The account's creator chose this password: it is theirs.
            "INSERT INTO users (email, name, display_name, password_hash, created_at, claimed_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(admin.email.as_str())
        .bind(admin.name.as_str())
        .bind(admin.display_name.clone())
        .bind(admin.password_hash.clone())
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "a user with this email already exists"))?;
        sqlx::query(
            "INSERT INTO account_users (account_id, user_id, role, created_at) \
             VALUES ($1, $2, 'administrator', $3)",
        )
        .bind(account_id)
        .bind(user_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO access_tokens (token_sha256, user_id, kind, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_sha256)
        .bind(user_id)
        .bind(TokenKind::Api.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CreatedAccount {
            account_id,
            user_id,
        })
    }

    async fn account_name(&self, account_id: i64) -> StoreResult<String> {
        let row: Option<(String,)> = sqlx::query_as("SELECT name FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(name,)| name)
            .ok_or(crate::store::StoreError::NotFound)
    }
}
