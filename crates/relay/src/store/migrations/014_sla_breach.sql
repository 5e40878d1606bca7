-- Service-level alerts (issue 15): when an Open conversation first waited past its queue's
-- target (the alert goes out once), and since when a representative's presence is what it is.
ALTER TABLE conversations ADD COLUMN breached_at INTEGER;
ALTER TABLE agents ADD COLUMN presence_since INTEGER NOT NULL DEFAULT 0;
