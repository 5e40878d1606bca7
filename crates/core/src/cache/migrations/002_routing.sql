-- Work distribution as the relay decided it: the latest snapshot of each routed conversation
-- ("episode": the relay's conversation, one chat has many over time), the chat's current one
-- on the chat row, and every representative's presence.

ALTER TABLE conversations ADD COLUMN episode_id TEXT;          -- the relay conversation shown now
ALTER TABLE conversations ADD COLUMN state TEXT;               -- its state; NULL before routing said anything
ALTER TABLE conversations ADD COLUMN owner TEXT;
ALTER TABLE conversations ADD COLUMN offered_to TEXT;
ALTER TABLE conversations ADD COLUMN offer_expires_at INTEGER;
ALTER TABLE conversations ADD COLUMN routing TEXT;             -- its snapshot (JSON)
CREATE INDEX conversations_by_state ON conversations (state, owner);

CREATE TABLE episodes (
    id              TEXT PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL,
    owner           TEXT,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    snapshot        TEXT NOT NULL
);
CREATE INDEX episodes_by_conversation ON episodes (conversation_id, opened_at DESC);

CREATE TABLE agents (
    user     TEXT PRIMARY KEY,
    snapshot TEXT NOT NULL
);

-- The relay's automated messages (greeting, survey …): which trigger sent it.
ALTER TABLE messages ADD COLUMN automated TEXT;
