//! The reads behind [`crate::access`]: who may see and write what, from `conversations`,
//! `consultants`, `queues`, `media` with `events`, and `contact_links`. Only reads; the rules
//! themselves stay in [`crate::access`].

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;

/// The latest conversation of a chat, as far as access cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    /// Conversation id.
    pub id: String,
    /// Who owns it, if anyone.
    pub owner: Option<String>,
    /// Who it is offered to, if anyone.
    pub offered_to: Option<String>,
    /// Its queue.
    pub queue_id: String,
}

/// A chat's latest conversation, with whether a given user consults in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestInvolving {
    /// Channel.
    pub channel_id: String,
    /// Chat.
    pub chat_id: String,
    /// The conversation's queue.
    pub queue_id: String,
    /// Who owns it, if anyone.
    pub owner: Option<String>,
    /// Who it is offered to, if anyone.
    pub offered_to: Option<String>,
    /// Whether the user asked about is one of its consultants.
    pub consulting: bool,
}

/// A chat's live (not closed) conversation, as far as writing in it cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// Conversation id.
    pub id: String,
    /// Its state, as stored (a `ConversationState` name).
    pub state: String,
    /// Who owns it, if anyone.
    pub owner: Option<String>,
}

/// The latest conversation of a chat (opened last), if it has any.
pub fn latest<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    chat: &str,
) -> Result<Option<Latest>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT id, owner, offered_to, queue_id FROM conversations
         WHERE channel_id = ?1 AND chat_id = ?2 ORDER BY opened_at DESC, id DESC LIMIT 1",
        args![channel, chat],
        |r| {
            Ok(Latest {
                id: r.get(0)?,
                owner: r.get(1)?,
                offered_to: r.get(2)?,
                queue_id: r.get(3)?,
            })
        },
    )
}

/// Whether `user` is a consultant (joined or not) of the conversation.
pub fn consults<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
    user: &str,
) -> Result<bool, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            r#"SELECT EXISTS (SELECT 1 FROM consultants WHERE conversation_id = ?1 AND "user" = ?2)"#,
            args![conversation, user],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

fn latest_involving(r: &Row<'_>) -> Result<LatestInvolving, StoreError> {
    Ok(LatestInvolving {
        channel_id: r.get::<String>(0)?,
        chat_id: r.get::<String>(1)?,
        queue_id: r.get::<String>(2)?,
        owner: r.get::<Option<String>>(3)?,
        offered_to: r.get::<Option<String>>(4)?,
        consulting: r.get::<bool>(5)?,
    })
}

/// The latest conversation of every chat, each with whether `user` consults in it.
pub fn latest_per_chat<'a>(
    db: impl Into<Db<'a>>,
    user: &str,
) -> Result<Vec<LatestInvolving>, StoreError> {
    let db = db.into();
    db.query(
        r#"SELECT c.channel_id, c.chat_id, c.queue_id, c.owner, c.offered_to,
                EXISTS (SELECT 1 FROM consultants k WHERE k.conversation_id = c.id AND k."user" = ?1)
         FROM conversations c
         WHERE NOT EXISTS (SELECT 1 FROM conversations n WHERE n.channel_id = c.channel_id
                               AND n.chat_id = c.chat_id AND (n.opened_at > c.opened_at
                               OR (n.opened_at = c.opened_at AND n.id > c.id)))"#,
        args![user],
        latest_involving,
    )
}

/// Channel, chat and queue of every open (not yet accepted) conversation.
pub fn open_requests<'a>(
    db: impl Into<Db<'a>>,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT channel_id, chat_id, queue_id FROM conversations WHERE state = 'open'",
        args![],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
            ))
        },
    )
}

/// The chat's live (not closed) conversation.
pub fn live_conversation<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    chat: &str,
) -> Result<Option<Live>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT id, state, owner FROM conversations
         WHERE channel_id = ?1 AND chat_id = ?2 AND state != 'closed'",
        args![channel, chat],
        |r| {
            Ok(Live {
                id: r.get(0)?,
                state: r.get(1)?,
                owner: r.get(2)?,
            })
        },
    )
}

/// Whether `user` consults in the conversation and was let in to write (`None`: not a
/// consultant).
pub fn consultant_joined<'a>(
    db: impl Into<Db<'a>>,
    conversation: &str,
    user: &str,
) -> Result<Option<bool>, StoreError> {
    let db = db.into();
    db.query_opt(
        r#"SELECT joined FROM consultants WHERE conversation_id = ?1 AND "user" = ?2"#,
        args![conversation, user],
        |r| r.get::<bool>(0),
    )
}

/// The chat a LINE message (or one of our sent messages) belongs to, by its message ID.
pub fn chat_of_message<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    message_id: &str,
) -> Result<Option<String>, StoreError> {
    let db = db.into();
    Ok(db
        .query_opt(
            "SELECT e.chat_id FROM media m JOIN events e ON e.seq = m.seq
             WHERE m.channel_id = ?1 AND m.message_id = ?2",
            args![channel, message_id],
            |r| r.get::<Option<String>>(0),
        )?
        .flatten())
}

/// The chats (channel, LINE user) a contact is linked to.
pub fn chats_of_contact<'a>(
    db: impl Into<Db<'a>>,
    contact: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let db = db.into();
    db.query(
        "SELECT channel_id, user_id FROM contact_links WHERE contact_id = ?1",
        args![contact],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )
}
