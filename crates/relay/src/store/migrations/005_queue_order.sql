-- Distribution walks the queue from an index instead of sorting every waiting conversation on
-- every pass: the queue's priority is copied onto the conversation (kept in step when an admin
-- changes it), and the index holds the queue order itself.
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_queue_order ON conversations ((affinity_to IS NOT NULL) DESC, priority DESC, last_customer_at, id)
    WHERE state = 'open' AND offered_to IS NULL;
