//! Contacts and the inboxes they write through.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{conflict_on_unique, SqlStore};
use crate::store::{
    now, Contact, ContactFields, ContactInbox, ContactStore, StoreError, StoreResult,
};

const CONTACT_SELECT: &str = "SELECT id, account_id, name, email, phone_number, identifier, \
     custom_attributes, created_at, crm, identifier_by_visitor FROM contacts";

const LINK_SELECT: &str = "SELECT id, contact_id, inbox_id, source_id, \
     hmac_verified_at IS NOT NULL AS hmac_verified FROM contact_inboxes";

const TAKEN: &str = "a contact with this email or identifier already exists";

#[derive(FromRow)]
struct ContactRow {
    id: i64,
    account_id: i64,
    name: String,
    email: Option<String>,
    phone_number: Option<String>,
    identifier: Option<String>,
    custom_attributes: String,
    created_at: i64,
    crm: Option<String>,
    identifier_by_visitor: bool,
}

#[derive(FromRow)]
struct LinkRow {
    id: i64,
    contact_id: i64,
    inbox_id: i64,
    source_id: String,
    hmac_verified: bool,
}

impl From<LinkRow> for ContactInbox {
    fn from(r: LinkRow) -> Self {
        ContactInbox {
            id: r.id,
            contact_id: r.contact_id,
            inbox_id: r.inbox_id,
            source_id: r.source_id,
            hmac_verified: r.hmac_verified,
        }
    }
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            email: r.email,
            phone_number: r.phone_number,
            identifier: r.identifier,
            custom_attributes: serde_json::from_str(&r.custom_attributes)
                .map_err(|e| StoreError::Corrupt(format!("contact {}: {e}", r.id)))?,
            created_at: r.created_at,
            // An unreadable CRM state is shown as none; the next sync rewrites it.
            crm: r.crm.and_then(|text| serde_json::from_str(&text).ok()),
            identifier_by_visitor: r.identifier_by_visitor,
        })
    }
}

fn rows(rows: Vec<ContactRow>) -> StoreResult<Vec<Contact>> {
    rows.into_iter().map(Contact::try_from).collect()
}

/// `%q%` for LIKE, with the pattern characters of `q` escaped by `\`.
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl<DB> ContactStore for SqlStore<DB>
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
    async fn list_contacts(
        &self,
        account_id: i64,
        query: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<Contact>, i64)> {
        let filter = "WHERE account_id = $1 AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' \
             OR email LIKE $2 ESCAPE '\\' OR phone_number LIKE $2 ESCAPE '\\' \
             OR LOWER(identifier) LIKE $2 ESCAPE '\\')";
        let pattern = query.map(like_pattern);
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM contacts {filter}"))
            .bind(account_id)
            .bind(pattern.clone())
            .fetch_one(&self.pool)
            .await?;
        let found: Vec<ContactRow> = sqlx::query_as(&format!(
            "{CONTACT_SELECT} {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(account_id)
        .bind(pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows(found)?, total))
    }

    async fn get_contact(&self, account_id: i64, contact_id: i64) -> StoreResult<Contact> {
        if let Some(contact) = self.contacts.contact(account_id, contact_id) {
            return Ok(contact);
        }
        let generation = self.contacts.generation();
        let row: Option<ContactRow> = sqlx::query_as(&format!(
            "{CONTACT_SELECT} WHERE account_id = $1 AND id = $2"
        ))
        .bind(account_id)
        .bind(contact_id)
        .fetch_optional(&self.pool)
        .await?;
        let contact: Contact = row.ok_or(StoreError::NotFound)?.try_into()?;
        self.contacts.put_contact(generation, &contact);
        Ok(contact)
    }

    async fn contact_by_identifier(
        &self,
        account_id: i64,
        identifier: &str,
    ) -> StoreResult<Option<Contact>> {
        let row: Option<ContactRow> = sqlx::query_as(&format!(
            "{CONTACT_SELECT} WHERE account_id = $1 AND identifier = $2 ORDER BY id LIMIT 1"
        ))
        .bind(account_id)
        .bind(identifier)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Contact::try_from).transpose()
    }

    async fn contacts_by_ids(&self, account_id: i64, ids: &[i64]) -> StoreResult<Vec<Contact>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for &id in ids {
            match self.contacts.contact(account_id, id) {
                Some(contact) => found.push(contact),
                None => missing.push(id),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let generation = self.contacts.generation();
        let list = super::batch::placeholders(1, missing.len(), 2);
        let sql = format!("{CONTACT_SELECT} WHERE account_id = $1 AND id IN {list}");
        let mut query = sqlx::query_as::<DB, ContactRow>(&sql).bind(account_id);
        for &id in &missing {
            query = query.bind(id);
        }
        for contact in rows(query.fetch_all(&self.pool).await?)? {
            self.contacts.put_contact(generation, &contact);
            found.push(contact);
        }
        Ok(found)
    }

    async fn create_contact(
        &self,
        account_id: i64,
        fields: &ContactFields,
    ) -> StoreResult<Contact> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO contacts (account_id, name, email, phone_number, identifier, \
             custom_attributes, created_at, identifier_by_visitor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(account_id)
        .bind(fields.name.as_str())
        .bind(fields.email.clone())
        .bind(fields.phone_number.clone())
        .bind(fields.identifier.clone())
        .bind(fields.custom_attributes.to_string())
        .bind(now())
        .bind(fields.identifier_by_visitor)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, TAKEN))?;
        self.get_contact(account_id, id).await
    }

    async fn create_visitor(
        &self,
        account_id: i64,
        inbox_id: i64,
        fields: &ContactFields,
        source_id: &str,
        hmac_verified: bool,
    ) -> StoreResult<(Contact, ContactInbox)> {
        let at = now();
        let generation = self.contacts.generation();
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO contacts (account_id, name, email, phone_number, identifier, \
             custom_attributes, created_at, identifier_by_visitor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(account_id)
        .bind(fields.name.as_str())
        .bind(fields.email.clone())
        .bind(fields.phone_number.clone())
        .bind(fields.identifier.clone())
        .bind(fields.custom_attributes.to_string())
        .bind(at)
        .bind(fields.identifier_by_visitor)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, TAKEN))?;
        let (link_id,): (i64,) = sqlx::query_as(
            "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, created_at, \
             hmac_verified_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(inbox_id)
        .bind(source_id)
        .bind(at)
        .bind(hmac_verified.then_some(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, "this source_id is already used in the inbox"))?;
        tx.commit().await?;
        let contact = Contact {
            id,
            account_id,
            name: fields.name.clone(),
            email: fields.email.clone(),
            phone_number: fields.phone_number.clone(),
            identifier: fields.identifier.clone(),
            custom_attributes: fields.custom_attributes.clone(),
            created_at: at,
            crm: None,
            identifier_by_visitor: fields.identifier_by_visitor,
        };
        let link = ContactInbox {
            id: link_id,
            contact_id: id,
            inbox_id,
            source_id: source_id.to_string(),
            hmac_verified,
        };
        self.contacts.put_contact(generation, &contact);
        self.contacts.put_link(generation, &link);
        Ok((contact, link))
    }

    async fn update_contact(
        &self,
        account_id: i64,
        contact_id: i64,
        fields: &ContactFields,
    ) -> StoreResult<Contact> {
        let updated: Option<(i64,)> = sqlx::query_as(
            "UPDATE contacts SET name = $1, email = $2, phone_number = $3, identifier = $4, \
             custom_attributes = $5, identifier_by_visitor = $8 \
             WHERE account_id = $6 AND id = $7 RETURNING id",
        )
        .bind(fields.name.as_str())
        .bind(fields.email.clone())
        .bind(fields.phone_number.clone())
        .bind(fields.identifier.clone())
        .bind(fields.custom_attributes.to_string())
        .bind(account_id)
        .bind(contact_id)
        .bind(fields.identifier_by_visitor && fields.identifier.is_some())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, TAKEN))?;
        self.contacts.forget_contact(account_id, contact_id);
        updated.ok_or(StoreError::NotFound)?;
        self.get_contact(account_id, contact_id).await
    }

    async fn contact_inbox(
        &self,
        inbox_id: i64,
        source_id: &str,
    ) -> StoreResult<Option<ContactInbox>> {
        if let Some(link) = self.contacts.link(inbox_id, source_id) {
            return Ok(Some(link));
        }
        let generation = self.contacts.generation();
        let row: Option<LinkRow> = sqlx::query_as(&format!(
            "{LINK_SELECT} WHERE inbox_id = $1 AND source_id = $2"
        ))
        .bind(inbox_id)
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await?;
        let link = row.map(ContactInbox::from);
        if let Some(link) = &link {
            self.contacts.put_link(generation, link);
        }
        Ok(link)
    }

    async fn link_of(&self, contact_id: i64, inbox_id: i64) -> StoreResult<Option<ContactInbox>> {
        let row: Option<LinkRow> = sqlx::query_as(&format!(
            "{LINK_SELECT} WHERE contact_id = $1 AND inbox_id = $2 ORDER BY id LIMIT 1"
        ))
        .bind(contact_id)
        .bind(inbox_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ContactInbox::from))
    }

    async fn verified_link_of(
        &self,
        contact_id: i64,
        inbox_id: i64,
    ) -> StoreResult<Option<ContactInbox>> {
        let row: Option<LinkRow> = sqlx::query_as(&format!(
            "{LINK_SELECT} WHERE contact_id = $1 AND inbox_id = $2 \
             AND hmac_verified_at IS NOT NULL ORDER BY id LIMIT 1"
        ))
        .bind(contact_id)
        .bind(inbox_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ContactInbox::from))
    }

    async fn create_contact_inbox(
        &self,
        contact_id: i64,
        inbox_id: i64,
        source_id: &str,
        hmac_verified: bool,
    ) -> StoreResult<ContactInbox> {
        let generation = self.contacts.generation();
        let at = now();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, created_at, \
             hmac_verified_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(contact_id)
        .bind(inbox_id)
        .bind(source_id)
        .bind(at)
        .bind(hmac_verified.then_some(at))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, "this source_id is already used in the inbox"))?;
        let link = ContactInbox {
            id,
            contact_id,
            inbox_id,
            source_id: source_id.to_string(),
            hmac_verified,
        };
        self.contacts.put_link(generation, &link);
        Ok(link)
    }

    async fn rekey_link(
        &self,
        link: &ContactInbox,
        source_id: &str,
        verified: bool,
    ) -> StoreResult<ContactInbox> {
        // Only if the token is still the one the caller saw: two tabs
        // proving the identity at once cannot overwrite each other's.
        let changed: Option<(i64,)> = sqlx::query_as(
            "UPDATE contact_inboxes SET source_id = $1, \
             hmac_verified_at = CASE WHEN $4 THEN COALESCE(hmac_verified_at, $5) \
                 ELSE hmac_verified_at END \
             WHERE id = $2 AND source_id = $3 RETURNING id",
        )
        .bind(source_id)
        .bind(link.id)
        .bind(link.source_id.as_str())
        .bind(verified)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| conflict_on_unique(e, "this source_id is already used in the inbox"))?;
        // Forgotten after the write: a read racing with it cannot keep the
        // old token in the cache (the generation check drops what it read).
        self.contacts.forget_link(link.inbox_id, &link.source_id);
        changed.ok_or(StoreError::Conflict(
            "the visitor's token changed meanwhile".to_string(),
        ))?;
        Ok(ContactInbox {
            source_id: source_id.to_string(),
            hmac_verified: link.hmac_verified || verified,
            ..link.clone()
        })
    }

    async fn unverified_links_of(
        &self,
        contact_id: i64,
        inbox_id: i64,
    ) -> StoreResult<Vec<ContactInbox>> {
        let rows: Vec<LinkRow> = sqlx::query_as(&format!(
            "{LINK_SELECT} WHERE contact_id = $1 AND inbox_id = $2 \
             AND hmac_verified_at IS NULL ORDER BY id"
        ))
        .bind(contact_id)
        .bind(inbox_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ContactInbox::from).collect())
    }
}
