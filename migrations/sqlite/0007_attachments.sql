-- Files attached to messages. The bytes are in the file store under
-- file_key (random, unguessable: its URL is the permission to read it).
-- No foreign key to conversations: the hub writes those asynchronously,
-- and a file is stored before the message that carries it.
CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY,
    account_id       BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id  BIGINT  NOT NULL,
    file_key         TEXT    NOT NULL UNIQUE,
    file_type        TEXT    NOT NULL,   -- image, audio, video or file
    content_type     TEXT    NOT NULL,
    file_name        TEXT    NOT NULL,
    byte_size        BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
