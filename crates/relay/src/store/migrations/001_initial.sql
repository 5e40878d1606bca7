-- Initial schema: the durable webhook event log, channels with encrypted credentials,
-- users and sessions, and the media store index.

CREATE TABLE channels (
    id            TEXT PRIMARY KEY,          -- LINE channel ID, also the webhook path segment
    name          TEXT NOT NULL,
    secret_enc    BLOB NOT NULL,             -- channel secret, sealed with the relay key
    token_enc     BLOB NOT NULL,             -- long-lived access token, sealed
    api_base      TEXT NOT NULL,
    api_data_base TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE channel_stats (
    channel_id          TEXT PRIMARY KEY,
    events_received     INTEGER NOT NULL DEFAULT 0,
    last_event_at       INTEGER,
    signature_failures  INTEGER NOT NULL DEFAULT 0,
    last_signature_failure_at INTEGER,
    media_failures      INTEGER NOT NULL DEFAULT 0
);

-- One row per webhook event, in the order the relay made them durable.
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id       TEXT NOT NULL,
    webhook_event_id TEXT,                   -- LINE's ULID; NULL only for odd payloads
    event_type       TEXT NOT NULL,
    event_ts         INTEGER NOT NULL,       -- LINE's timestamp (ms)
    received_at      INTEGER NOT NULL,
    body             TEXT NOT NULL           -- the event object exactly as LINE sent it
);
CREATE UNIQUE INDEX events_dedup ON events (channel_id, webhook_event_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('rep', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,             -- argon2id PHC string
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,            -- sha256 of the bearer token; the token itself is never stored
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device      TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    acked_seq   INTEGER NOT NULL DEFAULT 0
);

-- Customer media downloaded from LINE's content API at ingest.
CREATE TABLE media (
    channel_id   TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    seq          INTEGER NOT NULL,           -- the event that carried it
    status       TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'gone', 'failed')),
    content_type TEXT,
    size         INTEGER,
    sha256       TEXT,
    file_name    TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);
CREATE INDEX media_pending ON media (status) WHERE status = 'pending';

-- Small key/value state: the media pipeline's cursor.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
