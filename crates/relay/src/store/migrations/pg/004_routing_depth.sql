-- Routing as deep as the suites' (issue 14): a conversation keeps the skills its rule requires
-- and how they must match, when overflow moved it (it moves once), and which overflow rules of
-- its queue have fired (a bit each, so a "message, then move" set-up runs each step once).
ALTER TABLE conversations ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN skill_match TEXT NOT NULL DEFAULT 'exact';
ALTER TABLE conversations ADD COLUMN overflowed_at BIGINT;
ALTER TABLE conversations ADD COLUMN overflow_done BIGINT NOT NULL DEFAULT 0;
-- Overflow walks one queue in its order.
CREATE INDEX conversations_by_queue ON conversations (queue_id, last_customer_at, id)
    WHERE state = 'open' AND offered_to IS NULL;
