-- The trust boundary (issue 10): consoles send through the relay, and each console receives
-- only the chats its user may see.

-- The chat an event belongs to (group, room or user), so a console's stream is filtered by an
-- indexed column instead of parsing every event per console; computed by SQLite from the body,
-- which stays byte-identical. Serves `access` (backfill of a chat that became visible:
-- `WHERE channel_id = ? AND chat_id = ? AND seq < ?`) and the hub's per-event filter.
ALTER TABLE events ADD COLUMN chat_id TEXT GENERATED ALWAYS AS (
    COALESCE(json_extract(body, '$.source.groupId'),
             json_extract(body, '$.source.roomId'),
             json_extract(body, '$.source.userId'))
) VIRTUAL;
CREATE INDEX events_by_chat ON events (channel_id, chat_id, seq);

-- Sends made for consoles, one row per outbox id (the push retry key), written before LINE is
-- called: a retry after a crash of either side finds it and never sends twice. `state` moves
-- sending -> sent | failed | unknown (a reply whose outcome nobody knows).
CREATE TABLE sends (
    outbox_id    TEXT PRIMARY KEY,
    channel_id   TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    messages     TEXT NOT NULL,               -- JSON array as the console sent it
    via          TEXT NOT NULL CHECK (via IN ('reply', 'push')),
    reply_token  TEXT,                        -- while a reply is in flight
    state        TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown')),
    answer       TEXT,                        -- the SendAnswer JSON once sent
    error        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Channel tokens are no longer handed to consoles and reports are no longer taken from them;
-- sent_messages keeps what earlier versions recorded (read by export).
