-- Account webhooks (Chatwoot's /webhooks API) and the durable outbox every
-- outbound call goes through.

CREATE TABLE webhooks (
    id             INTEGER PRIMARY KEY,
    account_id     BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id       BIGINT  REFERENCES inboxes(id) ON DELETE CASCADE, -- NULL: every inbox
    name           TEXT,
    url            TEXT    NOT NULL,
    subscriptions  TEXT    NOT NULL DEFAULT '[]',  -- JSON array of event names
    secret         TEXT    NOT NULL,               -- HMAC key of the signature header
    created_at     BIGINT  NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account_id);

-- One outbound call: written in the same commit as the change that caused
-- it, then delivered by the outbox workers until it succeeds or gives up.
-- No foreign keys: the delivery log outlives a deleted webhook or inbox.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT  NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('webhook', 'api_inbox', 'whatsapp', 'crm')),
    webhook_id        BIGINT,
    inbox_id          BIGINT,
    event             TEXT    NOT NULL,
    delivery_id       TEXT    NOT NULL UNIQUE,   -- sent to receivers so they can de-duplicate
    payload           TEXT    NOT NULL,          -- JSON: the facts of the event, see outbox::plan
    status            TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT  NOT NULL,          -- Unix milliseconds
    created_at        BIGINT  NOT NULL,          -- Unix milliseconds
    last_attempt_at   BIGINT,
    last_status_code  INTEGER,
    last_error        TEXT,
    url               TEXT,                      -- where the last attempt went
    delivered_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_account ON outbox (account_id, id);
