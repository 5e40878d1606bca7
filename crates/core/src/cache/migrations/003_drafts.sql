-- What a representative has typed but not sent, per conversation: it survives a restart or a
-- crash of the console. It goes with its conversation (an erased customer, a chat no longer
-- visible) and with the whole cache at sign-out.
CREATE TABLE drafts (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    text            TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);
