-- Which contact links (a visitor's token in an inbox) were handed out only
-- to sessions that proved their identity with the inbox's HMAC: a signed
-- identity reuses only such a link, never one an anonymous session held.
ALTER TABLE contact_inboxes ADD COLUMN hmac_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- The contact's identifier was named by a visitor without a signature (the
-- widget's unsigned setUser, the Public API). It labels that contact, but a
-- signed identity never becomes that contact: it takes the identifier over.
ALTER TABLE contacts ADD COLUMN identifier_by_visitor BOOLEAN NOT NULL DEFAULT FALSE;
