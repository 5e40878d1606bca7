-- Collision (issue 16): who has a conversation open, and who is typing in it, as their
-- consoles last said (every few seconds while open). Rows older than a minute mean nothing.
CREATE TABLE viewers (
    conversation_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    typing_at BIGINT,
    PRIMARY KEY (conversation_id, user_name)
);
CREATE INDEX viewers_by_time ON viewers (seen_at);
