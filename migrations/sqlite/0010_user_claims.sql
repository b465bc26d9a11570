-- When a person first used credentials of their own (Unix seconds): their
-- first sign-in, or the command line's `account create`, where they chose
-- the password themselves. Until then an administrator of their only account
-- may still set their name and password; from then on only they can.
ALTER TABLE users ADD COLUMN claimed_at BIGINT;

-- Users who already have a password may have signed in with it: theirs.
UPDATE users SET claimed_at = created_at WHERE password_hash IS NOT NULL;
