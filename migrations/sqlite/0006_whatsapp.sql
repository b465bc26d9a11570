-- WhatsApp inboxes and message delivery states.
--
-- Allowing 'whatsapp' as a channel type widens a CHECK constraint, which
-- SQLite cannot ALTER. Rebuilding the table is not possible here (migrations
-- run inside a transaction, where foreign keys cannot be switched off, and
-- dropping the old table would cascade into every conversation), so the
-- constraint's text is edited in the schema: SQLite documents this for
-- changes that no stored row can violate, as a wider CHECK is. It comes
-- last, after the ALTERs (which work from the schema text as loaded), and
-- the server runs migrations on a connection of their own, closed before
-- any other opens, so no connection keeps the old constraint.
-- WhatsApp: "+5511999990000"; webhooks are routed by it.
ALTER TABLE inboxes ADD COLUMN phone_number TEXT;
CREATE UNIQUE INDEX inboxes_phone_number ON inboxes (phone_number) WHERE phone_number IS NOT NULL;

-- The channel's id for a message (WhatsApp's "wamid...") and how far it got.
ALTER TABLE messages ADD COLUMN source_id TEXT;
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'sent'
    CHECK (status IN ('sent', 'delivered', 'read', 'failed'));
CREATE UNIQUE INDEX messages_source ON messages (account_id, source_id) WHERE source_id IS NOT NULL;

PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (channel_type IN (''web_widget'', ''api''))',
                          'CHECK (channel_type IN (''web_widget'', ''api'', ''whatsapp''))')
 WHERE type = 'table' AND name = 'inboxes';
PRAGMA writable_schema = OFF;
