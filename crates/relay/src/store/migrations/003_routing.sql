-- Routing and work distribution. Every row here changes only on the writer thread, in the
-- same transaction as the log events that tell consoles about it, so a restart resumes
-- exactly where the relay stopped: no conversation, offer or queue position lost.

-- One workstream per channel; its settings as JSON (routing::config::Workstream).
CREATE TABLE workstreams (
    channel_id  TEXT PRIMARY KEY,
    config      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Queues; settings as JSON (routing::config::Queue).
CREATE TABLE queues (
    id          TEXT PRIMARY KEY,
    config      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Representatives as routing sees them.
CREATE TABLE agents (
    user            TEXT PRIMARY KEY,
    chosen          TEXT NOT NULL DEFAULT 'offline',  -- what the representative set
    presence        TEXT NOT NULL DEFAULT 'offline',  -- effective, after capacity and connection
    capacity        INTEGER NOT NULL DEFAULT 3,
    used            INTEGER NOT NULL DEFAULT 0,       -- units in use, as last logged
    disconnected_at INTEGER,                          -- NULL while connected (or never seen)
    gone            INTEGER NOT NULL DEFAULT 0,       -- disconnected longer than the grace period
    last_offer_at   INTEGER NOT NULL DEFAULT 0,       -- fairness: least recently offered first
    updated_at      INTEGER NOT NULL
);

-- What the relay knows of a customer across conversations.
CREATE TABLE customers (
    channel_id     TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    following      INTEGER,
    last_owner     TEXT,                  -- affinity
    last_closed_at INTEGER,
    PRIMARY KEY (channel_id, chat_id)
);

CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    version          INTEGER NOT NULL DEFAULT 1,
    channel_id       TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('open', 'active', 'waiting', 'wrap_up', 'closed')),
    queue_id         TEXT NOT NULL,
    owner            TEXT,
    affinity_to      TEXT,                -- offer to this representative first
    offered_to       TEXT,
    offered_at       INTEGER,
    offer_expires_at INTEGER,
    first_text       TEXT,
    language         TEXT,
    opened_at        INTEGER NOT NULL,
    last_customer_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    accepted_at      INTEGER,
    ended_at         INTEGER,
    wrapup_until     INTEGER,             -- wrap-up blocks capacity until then (NULL: always)
    closed_at        INTEGER,
    close_reason     TEXT,
    transferred_from TEXT,
    reply_token      TEXT,                -- the latest customer event's, while unused
    reply_token_at   INTEGER,
    last_trigger     TEXT,                -- last automated message: never the same twice in a row
    survey_state     TEXT,                -- NULL, 'asked', 'rated', 'done'
    units            INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX conversations_live ON conversations (channel_id, chat_id) WHERE state != 'closed';
CREATE INDEX conversations_by_state ON conversations (state, last_customer_at);
CREATE INDEX conversations_by_owner ON conversations (owner) WHERE state != 'closed';
CREATE INDEX conversations_by_chat ON conversations (channel_id, chat_id, closed_at);

-- Declined offers (reject or timeout) per conversation and representative.
CREATE TABLE declines (
    conversation_id TEXT NOT NULL,
    user            TEXT NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user)
);

CREATE TABLE consultants (
    conversation_id TEXT NOT NULL,
    user            TEXT NOT NULL,
    joined          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user)
);

-- Automated messages the relay sends; the id is the push retry key.
CREATE TABLE automated (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    trigger         TEXT NOT NULL,
    messages        TEXT NOT NULL,         -- JSON array of message objects
    reply_token     TEXT,
    reply_token_at  INTEGER,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    via             TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX automated_pending ON automated (next_attempt_at) WHERE state = 'pending';

CREATE TABLE survey_answers (
    conversation_id TEXT PRIMARY KEY,
    owner           TEXT,
    rating          INTEGER,
    comment         TEXT,
    answered_at     INTEGER NOT NULL
);
