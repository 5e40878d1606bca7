-- Pictures (issue 16): stickers, LINE emoji and customers' profile pictures, fetched by the
-- relay when an event or a profile names them, kept once by key in the media store, served to
-- consoles. Keys: `sticker:{id}`, `sticker:{id}:animation`, `emoji:{product}:{id}`,
-- `avatar:{channel}:{user}` (erased with the customer).
CREATE TABLE pictures (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    sha256 TEXT,
    content_type TEXT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    first_tried_at BIGINT,
    next_attempt_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX pictures_due ON pictures (status, next_attempt_at);
CREATE INDEX pictures_by_file ON pictures (sha256);
