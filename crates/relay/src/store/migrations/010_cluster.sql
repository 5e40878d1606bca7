-- Which relay holds a representative's open consoles (issue 13). A SQLite relay is alone on
-- its file, but keeps the same rows as several relays on PostgreSQL do, so presence follows
-- connections the same way on both engines.
CREATE TABLE relay_consoles (
    relay    TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (relay, username)
);
CREATE INDEX relay_consoles_user ON relay_consoles (username);
