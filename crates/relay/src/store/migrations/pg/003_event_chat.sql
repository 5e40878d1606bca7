-- The log's chat column is written by the relay instead of computed by the server.
--
-- As a generated column, PostgreSQL parsed every event body as jsonb three times on insert
-- (once per path of the COALESCE): 8 µs a row here, more than half of the insert. The relay
-- has the body in hand and finds the chat the same way (source.groupId, then roomId, then
-- userId: `store::events::chat_of`). Existing rows keep their values; no rewrite.
ALTER TABLE events ALTER COLUMN chat_id DROP EXPRESSION;
