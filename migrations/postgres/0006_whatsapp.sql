-- WhatsApp inboxes and message delivery states.
ALTER TABLE inboxes DROP CONSTRAINT inboxes_channel_type_check;
ALTER TABLE inboxes ADD CONSTRAINT inboxes_channel_type_check
    CHECK (channel_type IN ('web_widget', 'api', 'whatsapp'));
-- WhatsApp: "+5511999990000"; webhooks are routed by it.
ALTER TABLE inboxes ADD COLUMN phone_number TEXT;
CREATE UNIQUE INDEX inboxes_phone_number ON inboxes (phone_number) WHERE phone_number IS NOT NULL;

-- The channel's id for a message (WhatsApp's "wamid...") and how far it got.
ALTER TABLE messages ADD COLUMN source_id TEXT;
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'sent'
    CHECK (status IN ('sent', 'delivered', 'read', 'failed'));
CREATE UNIQUE INDEX messages_source ON messages (account_id, source_id) WHERE source_id IS NOT NULL;
