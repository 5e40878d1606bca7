-- "Remind me" (issue 16): a conversation set aside until a time, when the relay reminds the
-- representative who asked (a `linedeskReminder` log event), once. `state`: pending, fired
-- (the event is logged), dropped (the conversation had closed or changed hands), cancelled.
CREATE TABLE reminders (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    note TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX reminders_due ON reminders (state, due_at);
CREATE INDEX reminders_by_user ON reminders (user_name, state);
