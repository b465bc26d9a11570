-- Accounts, their agents (users with a role per account), access tokens,
-- inboxes and the inbox's collaborators. Timestamps are Unix seconds (UTC).

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,   -- stored lower-case
    name           TEXT    NOT NULL,
    display_name   TEXT,
    password_hash  TEXT,                      -- argon2 PHC string; NULL: cannot sign in
    created_at     BIGINT  NOT NULL
);

-- A user is an agent of an account through this row.
CREATE TABLE account_users (
    account_id    BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('agent', 'administrator')),
    availability  TEXT    NOT NULL DEFAULT 'available'
                          CHECK (availability IN ('available', 'busy', 'offline')),
    auto_offline  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_users_user ON account_users (user_id);

-- Only a SHA-256 of each token is kept: a leaked database leaks no session.
CREATE TABLE access_tokens (
    token_sha256  TEXT    PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('api', 'session')),
    created_at    BIGINT  NOT NULL
);
CREATE INDEX access_tokens_user ON access_tokens (user_id);

CREATE TABLE inboxes (
    id                      INTEGER PRIMARY KEY,
    account_id              BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name                    TEXT    NOT NULL,
    channel_type            TEXT    NOT NULL CHECK (channel_type IN ('web_widget', 'api')),
    enable_auto_assignment  BOOLEAN NOT NULL DEFAULT TRUE,
    auto_assignment_config  TEXT    NOT NULL DEFAULT '{}',   -- JSON
    settings                TEXT    NOT NULL DEFAULT '{}',   -- JSON, see store::InboxSettings
    website_token           TEXT    UNIQUE,
    inbox_identifier        TEXT    UNIQUE,
    created_at              BIGINT  NOT NULL
);
CREATE INDEX inboxes_account ON inboxes (account_id);

-- The inbox's collaborators ("Colaboradores").
CREATE TABLE inbox_members (
    inbox_id    BIGINT  NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_members_user ON inbox_members (user_id);
