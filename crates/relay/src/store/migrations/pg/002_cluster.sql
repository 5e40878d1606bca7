-- Several relays on one database (issue 13).

-- Which relay holds a representative's open consoles (also on SQLite).
CREATE TABLE relay_consoles (
    relay    TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (relay, username)
);
CREATE INDEX relay_consoles_user ON relay_consoles (username);

-- Every relay process says it is alive about twice a second (times are the database's clock,
-- so relays on machines whose clocks differ agree). One not seen for the lease time is dead:
-- its consoles are gone and its share of LINE's rate limit goes to the others.
CREATE TABLE relays (
    id         TEXT PRIMARY KEY,
    seen_at    BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);

-- Leases: the one relay that follows the log for routing, media and the automated sender.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Media files by SHA-256 (customer media and representatives' uploads), so every relay can
-- serve them and they are backed up and replicated with the rest of the data. Each relay keeps
-- a file copy in its data directory as a cache. Stored in parts of 1 MiB, so a 200 MB video
-- never sits whole in a relay's memory.
CREATE TABLE media_blobs (
    sha256 TEXT NOT NULL,
    part   BIGINT NOT NULL,
    bytes  BYTEA NOT NULL,
    PRIMARY KEY (sha256, part)
);
