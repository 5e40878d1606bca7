-- Files representatives send, hosted for LINE at long-lived, unguessable URLs (/o/{token}).
CREATE TABLE uploads (
    token          TEXT PRIMARY KEY,          -- 256 random bits, base64url: the URL is the capability
    kind           TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'file')),
    sha256         TEXT NOT NULL,             -- bytes in the media store
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    file_name      TEXT NOT NULL,
    preview_sha256 TEXT,                      -- JPEG preview (image, video)
    channel_id     TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
