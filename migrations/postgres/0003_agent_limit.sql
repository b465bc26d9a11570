-- An agent's own limit of open conversations across all inboxes (NULL: none),
-- on top of each inbox's max_assignment_limit.
ALTER TABLE account_users ADD COLUMN max_concurrent_conversations BIGINT;
