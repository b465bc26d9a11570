-- Visitors who gave no name used to be stored as "Visitor " and six letters
-- of their token. They now keep no name, and the console calls them
-- "Visitor #<id>" in the agent's language: those generated names go.
UPDATE contacts SET name = ''
 WHERE name LIKE 'Visitor %' AND length(name) = 14
   AND email IS NULL AND phone_number IS NULL;
