-- A quick reply's picture (issue 16): an upload of this relay, sent after the text. `image` is
-- its JSON ({url, previewUrl}); `image_token` its upload, which a customer's erasure keeps.
ALTER TABLE quick_replies ADD COLUMN image TEXT;
ALTER TABLE quick_replies ADD COLUMN image_token TEXT;
