//! Quick replies: the team's (`owner` NULL) and each user's own.

use std::collections::BTreeMap;

use linedesk_protocol::replies::{QuickReply, QuickReplyImage};

use super::sql::Db;
use super::StoreError;
use crate::args;

const COLUMNS: &str = "id, owner, title, texts, updated_at, image";

fn reply(r: &super::sql::Row<'_>) -> Result<QuickReply, StoreError> {
    let owner: Option<String> = r.get(1)?;
    let texts: String = r.get(3)?;
    Ok(QuickReply {
        id: r.get(0)?,
        team: owner.is_none(),
        owner,
        title: r.get(2)?,
        texts: serde_json::from_str::<BTreeMap<String, String>>(&texts).unwrap_or_default(),
        updated_at: r.get(4)?,
        image: r
            .get::<Option<String>>(5)?
            .and_then(|j| serde_json::from_str::<QuickReplyImage>(&j).ok()),
    })
}

/// The team's replies and `user`'s own, by title.
pub fn visible<'a>(db: impl Into<Db<'a>>, user: &str) -> Result<Vec<QuickReply>, StoreError> {
    db.into().query(
        &format!(
            "SELECT {COLUMNS} FROM quick_replies WHERE owner IS NULL OR owner = ?1
             ORDER BY title, id"
        ),
        args![user],
        reply,
    )
}

/// One reply.
pub fn get<'a>(db: impl Into<Db<'a>>, id: i64) -> Result<Option<QuickReply>, StoreError> {
    db.into().query_opt(
        &format!("SELECT {COLUMNS} FROM quick_replies WHERE id = ?1"),
        args![id],
        reply,
    )
}

/// How many replies `owner` keeps (`None`: the team).
pub fn count<'a>(db: impl Into<Db<'a>>, owner: Option<&str>) -> Result<i64, StoreError> {
    let db = db.into();
    match owner {
        Some(o) => db.query_opt(
            "SELECT COUNT(*) FROM quick_replies WHERE owner = ?1",
            args![o],
            |r| r.get(0),
        ),
        None => db.query_opt(
            "SELECT COUNT(*) FROM quick_replies WHERE owner IS NULL",
            args![],
            |r| r.get(0),
        ),
    }
    .map(Option::unwrap_or_default)
}

/// Adds a reply; answers it.
pub fn insert<'a>(
    db: impl Into<Db<'a>>,
    owner: Option<&str>,
    title: &str,
    texts: &BTreeMap<String, String>,
    image: Option<&QuickReplyImage>,
    now: i64,
) -> Result<QuickReply, StoreError> {
    let texts = serde_json::to_string(texts).unwrap_or_default();
    let (json, token) = image_columns(image);
    db.into()
        .query_opt(
            &format!(
                "INSERT INTO quick_replies (owner, title, texts, updated_at, image, image_token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
            ),
            args![owner, title, texts, now, json, token],
            reply,
        )?
        .ok_or_else(|| StoreError::Other("an insert answered no row".into()))
}

/// Replaces a reply's title and texts (its owner stays).
pub fn update<'a>(
    db: impl Into<Db<'a>>,
    id: i64,
    title: &str,
    texts: &BTreeMap<String, String>,
    image: Option<&QuickReplyImage>,
    now: i64,
) -> Result<Option<QuickReply>, StoreError> {
    let texts = serde_json::to_string(texts).unwrap_or_default();
    let (json, token) = image_columns(image);
    db.into().query_opt(
        &format!(
            "UPDATE quick_replies SET title = ?2, texts = ?3, updated_at = ?4, image = ?5,
                 image_token = ?6 WHERE id = ?1
             RETURNING {COLUMNS}"
        ),
        args![id, title, texts, now, json, token],
        reply,
    )
}

fn image_columns(image: Option<&QuickReplyImage>) -> (Option<String>, Option<String>) {
    match image {
        Some(i) => (serde_json::to_string(i).ok(), i.token().map(str::to_owned)),
        None => (None, None),
    }
}

/// Whether `token` is a quick reply's picture that `user` uploaded: an image uploaded for no
/// channel (never one sent to a customer, which that customer's erasure must be able to take).
pub fn is_reply_picture<'a>(
    db: impl Into<Db<'a>>,
    token: &str,
    user: &str,
) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM uploads WHERE token = ?1 AND kind = 'image'
                 AND channel_id = '' AND uploaded_by = ?2)",
            args![token, user],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

/// Removes a reply.
pub fn remove<'a>(db: impl Into<Db<'a>>, id: i64) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .execute("DELETE FROM quick_replies WHERE id = ?1", args![id])?
        > 0)
}

/// Removes a removed user's own replies.
pub fn remove_owned_by<'a>(db: impl Into<Db<'a>>, owner: &str) -> Result<(), StoreError> {
    db.into()
        .execute("DELETE FROM quick_replies WHERE owner = ?1", args![owner])?;
    Ok(())
}
