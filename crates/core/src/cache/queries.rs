//! Reads for the UI: the conversation list, a page of a conversation, search.

use rusqlite::{params, Row};

use super::{search, Cache, CacheError, Conversation, Draft, Message, SearchHit};

const MESSAGE_COLUMNS: &str =
    "id, conversation_id, seq, line_message_id, outbox_id, direction, kind, text, body, \
     created_at, status, via, error, sent_by, hidden, automated";

fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        seq: r.get(2)?,
        line_message_id: r.get(3)?,
        outbox_id: r.get(4)?,
        direction: r.get(5)?,
        kind: r.get(6)?,
        text: r.get(7)?,
        body: r.get(8)?,
        created_at: r.get(9)?,
        status: r.get(10)?,
        via: r.get(11)?,
        error: r.get(12)?,
        sent_by: r.get(13)?,
        hidden: r.get::<_, i64>(14)? != 0,
        automated: r.get(15)?,
    })
}

fn conversation(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        chat_id: r.get(2)?,
        display_name: r.get(3)?,
        picture_url: r.get(4)?,
        language: r.get(5)?,
        following: r.get::<_, i64>(6)? != 0,
        last_message_at: r.get(7)?,
        last_preview: r.get(8)?,
        unread: r.get(9)?,
        reply_until: r.get(11)?,
        routing: r
            .get::<_, Option<String>>(10)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// The last column: until when a reply is free (`REPLY_TOKEN_FRESH_MS` after the token came).
const CONVERSATION_COLUMNS: &str =
    "id, channel_id, chat_id, display_name, picture_url, language, following, last_message_at, last_preview, unread, routing, \
     CASE WHEN reply_token IS NOT NULL THEN reply_token_at + 50000 END";

// The SQL above spells the window out; keep it the relay's.
const _: () = assert!(linedesk_protocol::routing::REPLY_TOKEN_FRESH_MS == 50_000);

impl Cache {
    /// What waits for `me`: chat requests offered to me (not lapsed) and my conversations
    /// with unread messages.
    pub fn waiting_for(&self, me: &str, now: i64) -> Result<u32, CacheError> {
        let conn = self.r();
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM conversations
             WHERE (state = 'open' AND offered_to = ?1 AND offer_expires_at > ?2)
                OR (owner = ?1 AND state IN ('active', 'waiting', 'wrap_up') AND unread > 0)",
            rusqlite::params![me, now],
            |r| r.get(0),
        )?)
    }

    /// Every representative's presence, by name.
    pub fn agents(&self) -> Result<Vec<linedesk_protocol::routing::AgentSnapshot>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached("SELECT snapshot FROM agents ORDER BY user")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows
            .filter_map(|t| t.ok().and_then(|t| serde_json::from_str(&t).ok()))
            .collect())
    }

    /// The relay conversations of one chat, newest first.
    pub fn episodes(
        &self,
        conversation_id: i64,
    ) -> Result<Vec<linedesk_protocol::routing::ConversationSnapshot>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(
            "SELECT snapshot FROM episodes WHERE conversation_id = ?1 ORDER BY opened_at DESC LIMIT 100",
        )?;
        let rows = stmt.query_map([conversation_id], |r| r.get::<_, String>(0))?;
        Ok(rows
            .filter_map(|t| t.ok().and_then(|t| serde_json::from_str(&t).ok()))
            .collect())
    }

    /// Conversations: every live routed one (requests, my work) first, then the most recent.
    pub fn conversations(&self, limit: usize) -> Result<Vec<Conversation>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations
             ORDER BY state IS NOT NULL AND state != 'closed' DESC, last_message_at DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], conversation)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every message of a conversation from `from` (inclusive) to `to` (exclusive, `None`: to
    /// the end), UTC ms, oldest first: one relay conversation's part of the chat.
    pub fn messages_between(
        &self,
        conversation_id: i64,
        from: i64,
        to: Option<i64>,
    ) -> Result<Vec<Message>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = ?1 AND created_at >= ?2 AND (?3 IS NULL OR created_at < ?3)
             ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map(params![conversation_id, from, to], message)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the first customer message (or button press, which opens a conversation too) of a
    /// conversation in `[from, to]` (UTC ms) was stamped.
    pub fn first_inbound(
        &self,
        conversation_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Option<i64>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(
            "SELECT MIN(created_at) FROM messages
             WHERE conversation_id = ?1 AND created_at BETWEEN ?2 AND ?3
               AND (direction = 'in' OR (kind = 'postback'
                    AND coalesce(json_extract(body, '$.postback.data'), '') NOT LIKE 'linedesk-%'))",
        )?;
        Ok(stmt.query_row(params![conversation_id, from, to], |r| r.get(0))?)
    }

    /// Every draft kept.
    pub fn drafts(&self) -> Result<Vec<Draft>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached("SELECT conversation_id, text FROM drafts")?;
        let rows = stmt.query_map([], |r| {
            Ok(Draft {
                conversation_id: r.get(0)?,
                text: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps the draft of a conversation (an empty one removes it). Answers false when the
    /// conversation is not (or no longer) in the cache: nothing is kept then.
    pub fn set_draft(
        &self,
        conversation_id: i64,
        text: &str,
        now: i64,
    ) -> Result<bool, CacheError> {
        let conn = self.w();
        if text.is_empty() {
            conn.execute(
                "DELETE FROM drafts WHERE conversation_id = ?1",
                [conversation_id],
            )?;
            return Ok(true);
        }
        let n = conn.execute(
            "INSERT INTO drafts (conversation_id, text, updated_at)
             SELECT id, ?2, ?3 FROM conversations WHERE id = ?1
             ON CONFLICT (conversation_id) DO UPDATE SET text = ?2, updated_at = ?3",
            params![conversation_id, text, now],
        )?;
        Ok(n == 1)
    }

    /// One conversation.
    pub fn conversation(&self, id: i64) -> Result<Conversation, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"
        ))?;
        stmt.query_row([id], conversation).map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => CacheError::NoConversation(id),
            e => e.into(),
        })
    }

    /// The newest `limit` messages of a conversation before message `before` (all if `None`),
    /// oldest first.
    pub fn messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Message>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = ?1 AND (?2 IS NULL OR (created_at, id) < (SELECT created_at, id FROM messages WHERE id = ?2))
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))?;
        let mut rows: Vec<Message> = stmt
            .query_map(params![conversation_id, before, limit as i64], message)?
            .collect::<Result<_, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// One message.
    pub fn message(&self, id: i64) -> Result<Option<Message>, CacheError> {
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"
        ))?;
        match stmt.query_row([id], message) {
            Ok(m) => Ok(Some(m)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a conversation read; says whether it had unread messages. One already read is
    /// not written again: the open chat is marked read on each of its updates, and every write
    /// costs an fsync.
    pub fn mark_read(&self, conversation_id: i64) -> Result<bool, CacheError> {
        let changed = self.w().execute(
            "UPDATE conversations SET unread = 0 WHERE id = ?1 AND unread <> 0",
            [conversation_id],
        )?;
        Ok(changed > 0)
    }

    /// Full-text search over every cached message, newest first.
    pub fn search(&self, input: &str, limit: usize) -> Result<Vec<SearchHit>, CacheError> {
        let Some(q) = search::query(input) else {
            return Ok(Vec::new());
        };
        let conn = self.r();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {cols}, c.display_name FROM (
                 SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2
             ) f JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id
             WHERE m.hidden = 0 ORDER BY m.id DESC",
            cols = MESSAGE_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = stmt.query_map(params![q, limit as i64], |r| {
            Ok(SearchHit {
                message: message(r)?,
                display_name: r.get(MESSAGE_COLUMNS.split(", ").count())?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
