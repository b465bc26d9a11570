-- CRM integrations (Chatwoot's /integrations/hooks, app "agendor"), and
-- each contact's record in the CRM.

-- A contact's CRM link and sync state (JSON, see CrmLink in the protocol
-- crate); written by the CRM sync only, never by contact edits.
ALTER TABLE contacts ADD COLUMN crm TEXT;

CREATE TABLE integration_hooks (
    id               INTEGER PRIMARY KEY,
    account_id       BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    app_id           TEXT    NOT NULL,
    status           BIGINT  NOT NULL DEFAULT 1,   -- 1 enabled, 0 disabled (Chatwoot's)
    settings         TEXT    NOT NULL DEFAULT '{}', -- JSON, the API token included
    last_success_at  BIGINT,                        -- Unix milliseconds
    last_error       TEXT,
    last_error_at    BIGINT,
    created_at       BIGINT  NOT NULL,
    UNIQUE (account_id, app_id)
);
