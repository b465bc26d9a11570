-- When a conversation was assigned automatically, while that assignee has
-- not answered yet (NULL otherwise): the reassign_after_seconds clock, kept
-- so that it survives a restart.
ALTER TABLE conversations ADD COLUMN auto_assigned_at BIGINT;
