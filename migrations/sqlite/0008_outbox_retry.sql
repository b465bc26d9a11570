-- An administrator's retry of a failed delivery opens a new 24-hour window
-- from this moment (Unix milliseconds), with its attempts counted afresh.
ALTER TABLE outbox ADD COLUMN retried_at BIGINT;
