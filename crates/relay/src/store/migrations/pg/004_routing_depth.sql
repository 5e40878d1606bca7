-- Routing as deep as the suites' (issue 14): a conversation keeps the skills its rule requires
-- and how they must match, and when it overflowed (each conversation overflows at most once).
ALTER TABLE conversations ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN skill_match TEXT NOT NULL DEFAULT 'exact';
ALTER TABLE conversations ADD COLUMN overflowed_at BIGINT;
-- Overflow walks one queue in its order.
CREATE INDEX conversations_by_queue ON conversations (queue_id, last_customer_at, id)
    WHERE state = 'open' AND offered_to IS NULL;
