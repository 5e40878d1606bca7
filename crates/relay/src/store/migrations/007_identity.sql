-- Admin and identity: channel health and deletion, users' skills, contacts linked to LINE
-- profiles with an audit trail, and privacy consent per profile.

-- A deleted channel keeps its row (history and contact links stay readable) but loses its
-- credentials; webhooks for it are refused with 410.
ALTER TABLE channels ADD COLUMN deleted_at INTEGER;
ALTER TABLE channels ADD COLUMN bot_user_id TEXT;
ALTER TABLE channels ADD COLUMN bot_name TEXT;
ALTER TABLE channels ADD COLUMN consent TEXT;             -- JSON ConsentSettings, NULL: off

ALTER TABLE channel_stats ADD COLUMN day INTEGER;         -- UTC day number of events_day
ALTER TABLE channel_stats ADD COLUMN events_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channel_stats ADD COLUMN token_valid INTEGER;  -- NULL: never checked
ALTER TABLE channel_stats ADD COLUMN token_checked_at INTEGER;
ALTER TABLE channel_stats ADD COLUMN token_error TEXT;
ALTER TABLE channel_stats ADD COLUMN webhook_endpoint TEXT;  -- what LINE has, as last read
ALTER TABLE channel_stats ADD COLUMN webhook_active INTEGER;
ALTER TABLE channel_stats ADD COLUMN quota_limit INTEGER;    -- NULL: unlimited or unknown
ALTER TABLE channel_stats ADD COLUMN quota_used INTEGER;
ALTER TABLE channel_stats ADD COLUMN last_test TEXT;         -- JSON of the last webhook test

ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';   -- JSON array of strings
ALTER TABLE users ADD COLUMN display_name TEXT;

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    phone       TEXT,
    phone_digits TEXT,                     -- digits only, for search
    email       TEXT,
    company     TEXT,
    notes       TEXT,
    fields      TEXT NOT NULL DEFAULT '{}', -- custom fields, JSON object of strings
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contacts_name ON contacts (name COLLATE NOCASE);
CREATE INDEX contacts_email ON contacts (email COLLATE NOCASE);
CREATE INDEX contacts_phone ON contacts (phone_digits);

-- A LINE profile linked to a contact. Two contacts on one profile is allowed (a shared
-- phone) but flags that profile's conversations for a supervisor instead of guessing.
CREATE TABLE contact_links (
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    linked_by   TEXT NOT NULL,
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id, contact_id)
);
CREATE INDEX contact_links_by_contact ON contact_links (contact_id);

-- Who did what to a contact or link, when and why. Erasure leaves one stub without personal
-- data.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,             -- create, edit, merge, link, unlink, export, erase
    contact_id  INTEGER,
    channel_id  TEXT,
    user_id     TEXT,
    detail      TEXT
);
CREATE INDEX audit_by_contact ON audit (contact_id, at);

-- Privacy consent per LINE profile.
CREATE TABLE consents (
    channel_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('asked', 'granted', 'declined')),
    asked_at    INTEGER NOT NULL,
    answered_at INTEGER,
    PRIMARY KEY (channel_id, user_id)
);

