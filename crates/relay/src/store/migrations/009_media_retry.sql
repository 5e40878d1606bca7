-- Customer media is retried for as long as LINE may still hold it (issue 11): each row says
-- when it may be tried next, and since when it has been tried, across relay restarts.
ALTER TABLE media ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN first_tried_at INTEGER;
CREATE INDEX media_due ON media (status, next_attempt_at);
