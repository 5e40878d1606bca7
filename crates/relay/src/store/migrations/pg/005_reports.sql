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
    opened_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    owner TEXT,
    offered_to TEXT,
    accepted_at BIGINT,
    first_response_at BIGINT,
    ended_at BIGINT,
    closed BIGINT NOT NULL DEFAULT 0,
    survey_sent BIGINT NOT NULL DEFAULT 0,
    rated BIGINT NOT NULL DEFAULT 0
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
    received BIGINT NOT NULL DEFAULT 0,
    accepted BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    unanswered BIGINT NOT NULL DEFAULT 0,
    transfers BIGINT NOT NULL DEFAULT 0,
    declines BIGINT NOT NULL DEFAULT 0,
    targeted BIGINT NOT NULL DEFAULT 0,
    within_target BIGINT NOT NULL DEFAULT 0,
    handle_n BIGINT NOT NULL DEFAULT 0,
    handle_ms BIGINT NOT NULL DEFAULT 0,
    wrap_n BIGINT NOT NULL DEFAULT 0,
    wrap_ms BIGINT NOT NULL DEFAULT 0,
    surveys_sent BIGINT NOT NULL DEFAULT 0,
    surveys_answered BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    sent_free BIGINT NOT NULL DEFAULT 0,
    sent_metered BIGINT NOT NULL DEFAULT 0,
    wait_sketch BYTEA,
    first_response_sketch BYTEA,
    PRIMARY KEY (day, channel_id, queue_id, agent)
);
