-- "Send later" (issue 16): a representative's message queued with the automated ones, due at
-- the time she chose (next_attempt_at), sent by push with its id as the retry key. `sent_by`
-- names her; NULL for the relay's own messages.
ALTER TABLE automated ADD COLUMN sent_by TEXT;
