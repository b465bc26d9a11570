-- Visitors who gave no name used to be stored as "Visitor " and six letters
-- or digits of their token. They now keep no name, and the console calls
-- them "Visitor #<id>" in the agent's language: those generated names go.
-- Only that exact shape (case-sensitive), only on contacts without an
-- e-mail or phone, and only on contacts a website widget reached.
UPDATE contacts SET name = ''
 WHERE name ~ '^Visitor [A-Za-z0-9]{6}$'
   AND email IS NULL AND phone_number IS NULL
   AND EXISTS (SELECT 1 FROM contact_inboxes ci JOIN inboxes i ON i.id = ci.inbox_id
               WHERE ci.contact_id = contacts.id AND i.channel_type = 'web_widget');
