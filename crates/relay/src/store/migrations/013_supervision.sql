-- Supervisors on the floor (issue 15): what they did to a conversation, for the audit
-- (monitor, whisper, join, assign, force close with its reason). Deleted with the
-- conversation when its customer is erased.
CREATE TABLE supervision_audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX supervision_audit_by_conversation ON supervision_audit (conversation_id, at);
