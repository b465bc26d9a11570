-- Contacts, the inboxes they write through, conversations and messages.
-- Conversation and message ids are allocated by the hub (it acknowledges a
-- message with its id before the row is written), so they have no identity.

CREATE TABLE contacts (
    id                 INTEGER PRIMARY KEY,
    account_id         BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name               TEXT    NOT NULL DEFAULT '',
    email              TEXT,                          -- lower-case
    phone_number       TEXT,
    identifier         TEXT,                          -- the company's own id for the person
    custom_attributes  TEXT    NOT NULL DEFAULT '{}', -- JSON object
    created_at         BIGINT  NOT NULL
);
CREATE INDEX contacts_account ON contacts (account_id, id);
CREATE UNIQUE INDEX contacts_email ON contacts (account_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_identifier ON contacts (account_id, identifier) WHERE identifier IS NOT NULL;

-- A contact as seen by one inbox; source_id is how the channel names them
-- (for API inboxes: the unguessable contact identifier of the client API).
CREATE TABLE contact_inboxes (
    id          INTEGER PRIMARY KEY,
    contact_id  BIGINT  NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    inbox_id    BIGINT  NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    source_id   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (inbox_id, source_id)
);
CREATE INDEX contact_inboxes_contact ON contact_inboxes (contact_id);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,  -- the rowid itself: one b-tree less per insert
    account_id        BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id          BIGINT  NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    contact_id        BIGINT  NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    contact_inbox_id  BIGINT  REFERENCES contact_inboxes(id) ON DELETE SET NULL,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'snoozed')),
    assignee_id       BIGINT  REFERENCES users(id) ON DELETE SET NULL,
    snoozed_until     BIGINT,
    created_at        BIGINT  NOT NULL,
    last_activity_at  BIGINT  NOT NULL
);
CREATE INDEX conversations_account ON conversations (account_id);
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_inbox ON conversations (inbox_id);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,  -- the rowid itself: one b-tree less per insert
    account_id          BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id     BIGINT  NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_type        TEXT    NOT NULL CHECK (message_type IN ('incoming', 'outgoing', 'activity', 'template')),
    content             TEXT,
    private             BOOLEAN NOT NULL DEFAULT FALSE,
    sender_type         TEXT    CHECK (sender_type IN ('User', 'Contact')),
    sender_id           BIGINT,
    echo_id             TEXT,    -- the client's id for the message; retries carry it (the hub
                                 -- answers retries from memory, see hub::shard::Echoes)
    content_attributes  TEXT    NOT NULL DEFAULT '{}',
    deleted             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
