-- Reports (issue 15): what the reports follower keeps as it reads the log, so that a report
-- sums a few rows a day instead of reading the log. Neither table holds customer data: a
-- conversation is its relay id, its channel and a hash of its chat.

-- Each conversation the follower has seen, with what it counted already (so each figure is
-- counted once however many snapshots of the conversation the log holds).
CREATE TABLE report_conversations (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    -- identity::chat_hash(channel, chat): the sends of a chat find its conversation.
    chat_hash TEXT NOT NULL,
    -- The day it opened, in the report time zone: every figure of it counts on that day.
    day TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    owner TEXT,
    offered_to TEXT,
    accepted_at INTEGER,
    first_response_at INTEGER,
    ended_at INTEGER,
    closed INTEGER NOT NULL DEFAULT 0,
    survey_sent INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX report_conversations_by_chat ON report_conversations (chat_hash, opened_at);

-- The figures by day, channel, queue and representative ('' for none); every column a sum,
-- so any grouping adds rows up. The two sketches (DDSketch, postcard) give the wait and first
-- response percentiles of any range.
CREATE TABLE report_daily (
    day TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    unanswered INTEGER NOT NULL DEFAULT 0,
    transfers INTEGER NOT NULL DEFAULT 0,
    declines INTEGER NOT NULL DEFAULT 0,
    targeted INTEGER NOT NULL DEFAULT 0,
    within_target INTEGER NOT NULL DEFAULT 0,
    handle_n INTEGER NOT NULL DEFAULT 0,
    handle_ms INTEGER NOT NULL DEFAULT 0,
    wrap_n INTEGER NOT NULL DEFAULT 0,
    wrap_ms INTEGER NOT NULL DEFAULT 0,
    surveys_sent INTEGER NOT NULL DEFAULT 0,
    surveys_answered INTEGER NOT NULL DEFAULT 0,
    rating_sum INTEGER NOT NULL DEFAULT 0,
    sent_free INTEGER NOT NULL DEFAULT 0,
    sent_metered INTEGER NOT NULL DEFAULT 0,
    wait_sketch BLOB,
    first_response_sketch BLOB,
    PRIMARY KEY (day, channel_id, queue_id, agent)
);
