-- When a contact link (a visitor's token in an inbox) was verified (Unix
-- seconds; NULL: never): handed out from then on only to sessions that proved
-- their identity with the inbox's HMAC. A signed identity reuses only such a
-- link, never one an anonymous session held; conversations opened through it
-- after that moment show `meta.hmac_verified`.
ALTER TABLE contact_inboxes ADD COLUMN hmac_verified_at BIGINT;

-- The contact's identifier was named by a visitor without a signature (the
-- widget's unsigned setUser, the Public API). It labels that contact, but a
-- signed identity never becomes that contact: it takes the identifier over.
ALTER TABLE contacts ADD COLUMN identifier_by_visitor BOOLEAN NOT NULL DEFAULT FALSE;

-- Before this, an unsigned setUser could put any identifier on a contact:
-- identifiers on contacts that a widget or API inbox reaches are treated as
-- such claims, so their owners take them over when they sign.
UPDATE contacts SET identifier_by_visitor = TRUE
 WHERE identifier IS NOT NULL
   AND id IN (SELECT ci.contact_id FROM contact_inboxes ci
              JOIN inboxes i ON i.id = ci.inbox_id
              WHERE i.channel_type IN ('web_widget', 'api'));
