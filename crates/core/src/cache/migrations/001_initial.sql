-- The console's local cache: conversations and messages from the relay's log (resumable
-- from the stored cursor), full-text search over message text, and the outbox.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    channel_id      TEXT NOT NULL,
    chat_id         TEXT NOT NULL,           -- LINE user, group or room ID
    display_name    TEXT,
    picture_url     TEXT,
    language        TEXT,
    following       INTEGER NOT NULL DEFAULT 1,
    last_message_at INTEGER NOT NULL DEFAULT 0,
    last_preview    TEXT,
    unread          INTEGER NOT NULL DEFAULT 0,
    reply_token     TEXT,                    -- latest unused reply token
    reply_token_at  INTEGER,                 -- when the relay received it (UTC ms)
    UNIQUE (channel_id, chat_id)
);
CREATE INDEX conversations_recent ON conversations (last_message_at DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    seq             INTEGER UNIQUE,          -- relay log position; NULL for a local send not yet reported
    line_message_id TEXT,
    outbox_id       TEXT UNIQUE,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out', 'event')),
    kind            TEXT NOT NULL,           -- text, image, video, audio, file, location, sticker, follow, …
    text            TEXT,                    -- plain text, shown as text and searched; never HTML
    body            TEXT NOT NULL,           -- the LINE message or event object (JSON)
    created_at      INTEGER NOT NULL,
    status          TEXT,                    -- outgoing: queued, sending, sent, failed, unknown
    via             TEXT,                    -- reply or push
    error           TEXT,
    sent_by         TEXT,
    hidden          INTEGER NOT NULL DEFAULT 0   -- unsent by the customer
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, id);
CREATE INDEX messages_by_line_id ON messages (line_message_id);

-- Contentless: the text lives in `messages`; rowid = messages.id. CJK and Thai characters are
-- indexed one per token (see cache/search.rs), so any substring of them is a phrase query.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,         -- UUID; also the push X-Line-Retry-Key
    message_id     INTEGER NOT NULL REFERENCES messages (id),
    channel_id     TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    message        TEXT NOT NULL,            -- the LINE message object to send (JSON)
    state          TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
    via            TEXT,
    reply_token    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    sent_messages  TEXT,
    reported       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox (state) WHERE state IN ('queued', 'sending');
