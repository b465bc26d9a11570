//! Persistence: the [`Store`] seam and its two backends.
//!
//! One generic SQL implementation ([`sql::SqlStore`]) serves SQLite (the
//! embedded default) and Postgres; the backend is chosen once, from the
//! database URL, by [`connect`]. Every method takes the account it acts for, so
//! no query can reach another tenant's rows.

mod attachments;
mod chat;
mod integrations;
mod model;
mod outbox;
pub mod sql;

pub use attachments::*;
pub use chat::*;
pub use integrations::*;
pub use model::*;
pub use outbox::*;

use std::sync::Arc;

use async_trait::async_trait;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in this account.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken (e.g. an e-mail already taken).
    #[error("{0}")]
    Conflict(String),
    /// The request names something that cannot be used here (e.g. a user who
    /// is not an agent of the account).
    #[error("{0}")]
    Invalid(String),
    /// The e-mail belongs to a person who works for an account or has
    /// signed in: they cannot be added to another account by e-mail.
    #[error("someone already signs in with this e-mail")]
    PersonExists,
    /// The change touches what belongs to a person (their name, password),
    /// not to the account asking.
    #[error("this belongs to the person, not to the account")]
    NotYours,
    /// The database itself failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored JSON column could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Cluster mode: this node no longer holds the lease of these accounts
    /// at the epoch the commit carried (see [`Fence`]); nothing was written.
    #[error("this node no longer owns accounts {0:?}")]
    Fenced(Vec<i64>),
}

/// What a cluster node's commit must still hold (see `crate::cluster`):
/// the batch commits only if, inside its own transaction, `node` holds the
/// lease of every account in `leases` at that epoch. A node paused or cut
/// off past its lease can then never write over the account's new owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub node: Arc<str>,
    /// (account id, epoch), each account once.
    pub leases: Vec<(i64, i64)>,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Accounts and their first administrator.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account, its administrator (a new user) and that user's API
    /// token, in one transaction.
    async fn create_account(
        &self,
        name: &str,
        admin: &NewUser,
        token_sha256: &str,
    ) -> StoreResult<CreatedAccount>;
    async fn account_name(&self, account_id: i64) -> StoreResult<String>;
}

/// Users, their tokens and their memberships.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user_by_token(&self, token_sha256: &str) -> StoreResult<Option<User>>;
    /// The user with this e-mail and their password hash, for signing in.
    async fn credentials(&self, email: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// Stores a console session token minted by signing in with the
    /// password whose hash is `password_hash`, and marks the person's
    /// credentials as claimed (see [`AgentStore::update_agent`]). `false`,
    /// storing nothing, when that is no longer their password.
    async fn start_session(
        &self,
        user_id: i64,
        token_sha256: &str,
        password_hash: &str,
    ) -> StoreResult<bool>;
    /// Revokes a console session token; API tokens are not affected.
    async fn delete_session(&self, token_sha256: &str) -> StoreResult<()>;
    /// The SHA-256 of every token the user holds now, of both kinds.
    async fn token_hashes(&self, user_id: i64) -> StoreResult<Vec<String>>;
    async fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>>;
    async fn membership(&self, account_id: i64, user_id: i64) -> StoreResult<Option<Membership>>;
    /// The person's own change to their profile; it claims their
    /// credentials. A new password revokes every session of theirs but
    /// `patch.keep_session`.
    async fn update_user(&self, user_id: i64, patch: &UserPatch) -> StoreResult<User>;
}

/// The agents of an account.
#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn list_agents(&self, account_id: i64) -> StoreResult<Vec<Agent>>;
    async fn get_agent(&self, account_id: i64, user_id: i64) -> StoreResult<Agent>;
    /// Makes a new user with `new.email` an agent of the account. An e-mail
    /// someone already has is [`StoreError::PersonExists`], unless that
    /// person is in no account and never signed in (then they are set up
    /// afresh from `new`).
    async fn add_agent(&self, account_id: i64, new: &NewAgent) -> StoreResult<Agent>;
    /// Changes role, availability or auto-offline. Refuses to leave the account
    /// without an administrator.
    ///
    /// A name or password in the patch is set only for a person who belongs
    /// to this account alone and has never claimed their credentials (signed
    /// in, or changed their own profile); otherwise nothing changes and the
    /// answer is [`StoreError::NotYours`]. (Such a person has never signed
    /// in: there are no sessions to revoke.)
    async fn update_agent(
        &self,
        account_id: i64,
        user_id: i64,
        patch: &AgentPatch,
    ) -> StoreResult<Agent>;
    /// Removes the agent from the account and from its inboxes. Refuses to
    /// remove the last administrator.
    async fn remove_agent(&self, account_id: i64, user_id: i64) -> StoreResult<()>;
}

/// Inboxes and their collaborators.
#[async_trait]
pub trait InboxStore: Send + Sync {
    async fn list_inboxes(&self, account_id: i64) -> StoreResult<Vec<Inbox>>;
    async fn get_inbox(&self, account_id: i64, inbox_id: i64) -> StoreResult<Inbox>;
    /// The API inbox with this public identifier (Public client API).
    async fn inbox_by_identifier(&self, identifier: &str) -> StoreResult<Inbox>;
    /// The WhatsApp inbox of this number (`+` and digits).
    async fn inbox_by_phone_number(&self, phone_number: &str) -> StoreResult<Inbox>;
    /// The website inbox with this widget token (`/ws/widget`).
    async fn inbox_by_website_token(&self, website_token: &str) -> StoreResult<Inbox>;
    async fn create_inbox(&self, account_id: i64, new: &NewInbox) -> StoreResult<Inbox>;
    /// Saves the inbox's editable fields (name, assignment, settings).
    async fn save_inbox(&self, inbox: &Inbox) -> StoreResult<Inbox>;
    async fn list_members(&self, account_id: i64, inbox_id: i64) -> StoreResult<Vec<Agent>>;
    /// Adds, replaces or removes collaborators, returning the members after the
    /// change. Every user must be an agent of the account, or nothing changes.
    async fn change_members(
        &self,
        account_id: i64,
        inbox_id: i64,
        change: MemberChange,
        user_ids: &[i64],
    ) -> StoreResult<Vec<Agent>>;
}

/// Contacts, written directly (they are created before anything refers to
/// them); deleting one goes through the writer, see [`WriteOp::DeleteContact`].
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// A page of the account's contacts, newest first, and the total; with a
    /// query, only those whose name, e-mail, phone or identifier contain it.
    async fn list_contacts(
        &self,
        account_id: i64,
        query: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<Contact>, i64)>;
    async fn get_contact(&self, account_id: i64, contact_id: i64) -> StoreResult<Contact>;
    /// The account's contact with this identifier (the host site's user id).
    async fn contact_by_identifier(
        &self,
        account_id: i64,
        identifier: &str,
    ) -> StoreResult<Option<Contact>>;
    /// The contacts with these ids (those of this account only), in any order.
    async fn contacts_by_ids(&self, account_id: i64, ids: &[i64]) -> StoreResult<Vec<Contact>>;
    async fn create_contact(&self, account_id: i64, fields: &ContactFields)
        -> StoreResult<Contact>;
    async fn update_contact(
        &self,
        account_id: i64,
        contact_id: i64,
        fields: &ContactFields,
    ) -> StoreResult<Contact>;
    async fn contact_inbox(
        &self,
        inbox_id: i64,
        source_id: &str,
    ) -> StoreResult<Option<ContactInbox>>;
    /// A new contact and its link into the inbox, in one commit: a visitor's
    /// first contact.
    async fn create_visitor(
        &self,
        account_id: i64,
        inbox_id: i64,
        fields: &ContactFields,
        source_id: &str,
        hmac_verified: bool,
    ) -> StoreResult<(Contact, ContactInbox)>;
    /// The contact's oldest link into the inbox, if any.
    async fn link_of(&self, contact_id: i64, inbox_id: i64) -> StoreResult<Option<ContactInbox>>;
    /// The contact's oldest link into the inbox that only verified sessions
    /// ever held (see [`ContactInbox::hmac_verified`]).
    async fn verified_link_of(
        &self,
        contact_id: i64,
        inbox_id: i64,
    ) -> StoreResult<Option<ContactInbox>>;
    async fn create_contact_inbox(
        &self,
        contact_id: i64,
        inbox_id: i64,
        source_id: &str,
        hmac_verified: bool,
    ) -> StoreResult<ContactInbox>;
    /// Gives the link a new token (and, with `verified`, marks it verified
    /// from now): whoever held the old one no longer reaches it. Refused
    /// (`Conflict`) if its token is no longer `link.source_id`.
    async fn rekey_link(
        &self,
        link: &ContactInbox,
        source_id: &str,
        verified: bool,
    ) -> StoreResult<ContactInbox>;
    /// The contact's links into the inbox that unverified sessions may hold.
    async fn unverified_links_of(
        &self,
        contact_id: i64,
        inbox_id: i64,
    ) -> StoreResult<Vec<ContactInbox>>;
}

/// Conversations and messages: the hub loads them at start and writes them
/// through [`ChatStore::apply_batch`]; message history is read from here.
#[async_trait]
pub trait ChatStore: Send + Sync {
    // The `load_*` reads rebuild the hub: every account (`None`), or one
    // account whose shard must be read again after a refused write.
    async fn load_conversations(&self, account: Option<i64>) -> StoreResult<Vec<Conversation>>;
    /// The newest non-activity message of every conversation, for previews.
    async fn load_last_messages(&self, account: Option<i64>) -> StoreResult<Vec<Message>>;
    /// When the contact last wrote in each conversation (Unix seconds), as
    /// `(conversation_id, at)`: the start of WhatsApp's reply window.
    async fn load_last_incoming(&self, account: Option<i64>) -> StoreResult<Vec<(i64, i64)>>;
    /// Every verified visitor link, as `(account_id, contact_inbox_id,
    /// verified at)`.
    async fn load_verified_links(&self, account: Option<i64>) -> StoreResult<Vec<(i64, i64, i64)>>;
    /// The largest conversation and message ids, where the hub's counters resume.
    async fn max_ids(&self) -> StoreResult<(i64, i64)>;
    /// Up to `limit` messages before `before` (or the newest), oldest first;
    /// with `public_only`, no private notes and no activity lines.
    async fn list_messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: i64,
        public_only: bool,
    ) -> StoreResult<Vec<Message>>;
    /// The newest `limit` messages of the conversation that carry an echo id.
    async fn recent_echoes(&self, conversation_id: i64, limit: i64) -> StoreResult<Vec<Message>>;
    /// Upkeep the group-commit writer runs between two of its commits,
    /// after acknowledging the first (SQLite: restarting its log).
    async fn between_commits(&self) {}
    async fn get_message(&self, conversation_id: i64, message_id: i64) -> StoreResult<Message>;
    /// The account's message with this channel id (WhatsApp's `wamid...`).
    async fn message_by_source_id(
        &self,
        account_id: i64,
        source_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// When the contact last wrote in the conversation (Unix seconds).
    async fn last_incoming_at(&self, conversation_id: i64) -> StoreResult<Option<i64>>;
    /// Applies the writes in order, in one transaction. Re-applying a batch
    /// that did commit changes nothing (inserts skip existing rows).
    /// With a `fence` (cluster mode, Postgres), the leases are checked in
    /// the same transaction first: [`StoreError::Fenced`] names the
    /// accounts this node no longer holds, and nothing is written.
    async fn apply_batch(&self, ops: &[WriteOp], fence: Option<&Fence>) -> StoreResult<()>;
}

/// Everything the server persists.
pub trait Store:
    AccountStore
    + UserStore
    + AgentStore
    + InboxStore
    + ContactStore
    + ChatStore
    + OutboxStore
    + AttachmentStore
    + IntegrationStore
{
}
impl<T> Store for T where
    T: AccountStore
        + UserStore
        + AgentStore
        + InboxStore
        + ContactStore
        + ChatStore
        + OutboxStore
        + AttachmentStore
        + IntegrationStore
{
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:...` or `postgres://...` (also `postgresql://`).
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Opens the database named by `url`, creating a SQLite file if missing, and
/// applies pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match Backend::from_url(url) {
        Some(Backend::Sqlite) => Ok(Arc::new(sql::SqlStore::open_sqlite(url).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(sql::SqlStore::open_postgres(url).await?)),
        None => anyhow::bail!(
            "unsupported database URL (expected sqlite:PATH or postgres://...): {}",
            redact_url(url)
        ),
    }
}

/// The URL with any password replaced, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Current time as Unix seconds, the unit of every stored timestamp.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::from_url("sqlite:data/x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://bob:secret@host/db"),
            "postgres://bob:***@host/db"
        );
        assert_eq!(
            redact_url("postgres://bob@host/db"),
            "postgres://bob@host/db"
        );
        assert_eq!(redact_url("sqlite:x.db"), "sqlite:x.db");
    }
}
