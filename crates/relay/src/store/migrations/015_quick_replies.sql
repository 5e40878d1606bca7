-- Quick replies (issue 16): the team's (owner NULL, kept by supervisors and admins) and each
-- user's own. `texts` is a JSON object of text by language.
CREATE TABLE quick_replies (
    id INTEGER PRIMARY KEY,
    owner TEXT,
    title TEXT NOT NULL,
    texts TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX quick_replies_by_owner ON quick_replies (owner);
