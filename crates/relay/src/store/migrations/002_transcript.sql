-- Messages representatives sent from their consoles, reported after LINE accepted them.
-- Keyed by the console's outbox id so a report repeated after a crash is stored once.
CREATE TABLE sent_messages (
    outbox_id   TEXT PRIMARY KEY,
    channel_id  TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('reply', 'push')),
    messages    TEXT NOT NULL,            -- JSON array of message objects as sent
    line_ids    TEXT NOT NULL,            -- JSON array of LINE's sentMessages
    sent_at     INTEGER NOT NULL,
    seq         INTEGER NOT NULL          -- the log event that carries it to every console
);

-- LINE profiles of the people who write in, fetched at ingest so consoles can show a name,
-- language and picture before anyone accepts the chat.
CREATE TABLE profiles (
    channel_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    display_name TEXT,                    -- NULL when LINE answered 404 (blocked, no consent)
    picture_url  TEXT,
    language     TEXT,
    fetched_at   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
