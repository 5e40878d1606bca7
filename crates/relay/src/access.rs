//! Who may see and write what: the one place the relay decides it, for every path (the
//! websocket stream, media, conversations, contacts, profiles, sends).
//!
//! A chat (a LINE user, group or room on a channel) is seen through its **latest
//! conversation**: the one opened last. The rules, as the tests walk them:
//!
//! | who        | may see a chat when its latest conversation …                               |
//! |------------|-----------------------------------------------------------------------------|
//! | admin      | always                                                                       |
//! | supervisor | … is in a queue that lists her in `supervisors`, or as a representative     |
//! | rep        | … is offered to her, owned by her (any state, so her closed ones stay until the customer is someone else's), or she consults in it |
//!
//! Seeing a chat means its whole history: earlier conversations with the same customer, so
//! the customer summary works. In pick mode, members of a queue also receive the
//! conversation snapshots of its open requests (the card: name, queue, first text), not the
//! customer's messages, until one of them accepts.
//!
//! | who may write in a live conversation | when |
//! |---|---|
//! | its owner | while Active |
//! | a consultant (any role) | once the owner or a supervisor let them join |
//!
//! Role alone never grants writing: a supervisor consults herself and joins.

use std::collections::{HashMap, HashSet};

use crate::store::sql::Db;
use axum::http::StatusCode;
use linedesk_protocol::routing::{ConversationSnapshot, ConversationState, DistributionMode};
use linedesk_protocol::{ErrorCode, Invalid, Reason, Role, Scope};

use crate::policy::Refusal;
use crate::routing::config::Queue;
use crate::store::access as store;

/// A chat: channel ID and chat ID.
pub type ChatKey = (String, String);

/// The signed-in user whose reads are filtered.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
}

impl Viewer {
    /// Whether the viewer sees everything.
    pub fn sees_all(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Queue settings by id (stored ones; the default queue has no supervisors).
pub fn queues(conn: Db<'_>) -> Result<HashMap<String, Queue>, crate::store::StoreError> {
    let mut out = HashMap::new();
    for (id, config) in crate::store::setup::queues(conn)? {
        if let Ok(q) = serde_json::from_str::<Queue>(&config) {
            out.insert(id, q);
        }
    }
    Ok(out)
}

fn supervises(queues: &HashMap<String, Queue>, queue: &str, user: &str) -> bool {
    queues
        .get(queue)
        .is_some_and(|q| q.supervisors.iter().any(|s| s == user))
}

/// Whether `viewer` may see the chat now.
pub fn may_see(
    conn: Db<'_>,
    viewer: &Viewer,
    channel: &str,
    chat: &str,
) -> Result<bool, crate::store::StoreError> {
    if viewer.sees_all() {
        return Ok(true);
    }
    let Some(l) = store::latest(conn, channel, chat)? else {
        return Ok(false);
    };
    let me = Some(viewer.user.as_str());
    if l.owner.as_deref() == me || l.offered_to.as_deref() == me {
        return Ok(true);
    }
    if store::consults(conn, &l.id, &viewer.user)? {
        return Ok(true);
    }
    Ok(viewer.role == Role::Supervisor && supervises(&queues(conn)?, &l.queue_id, &viewer.user))
}

/// Every chat `viewer` may see now.
pub fn scope(conn: Db<'_>, viewer: &Viewer) -> Result<Scope, crate::store::StoreError> {
    if viewer.sees_all() {
        return Ok(Scope::All);
    }
    let mut chats = visible_chats(conn, viewer)?;
    chats.extend(open_cards(conn, viewer)?);
    Ok(Scope::Chats {
        chats: chats
            .into_iter()
            .map(|(channel, chat)| {
                let hash = linedesk_protocol::identity::chat_hash(&channel, &chat);
                (channel, hash)
            })
            .collect(),
    })
}

/// The chats a representative or supervisor may see now (never called for admins).
pub fn visible_chats(
    conn: Db<'_>,
    viewer: &Viewer,
) -> Result<HashSet<ChatKey>, crate::store::StoreError> {
    let supervised: Vec<String> = if viewer.role == Role::Supervisor {
        queues(conn)?
            .into_iter()
            .filter(|(_, q)| q.supervisors.iter().any(|s| s == &viewer.user))
            .map(|(id, _)| id)
            .collect()
    } else {
        Vec::new()
    };
    // Candidates: any conversation that involves the viewer; then keep the chats where that
    // conversation is the latest one.
    let mut out = HashSet::new();
    for store::LatestInvolving {
        channel_id: channel,
        chat_id: chat,
        queue_id: queue,
        owner,
        offered_to: offered,
        consulting,
    } in store::latest_per_chat(conn, &viewer.user)?
    {
        let me = Some(viewer.user.as_str());
        if owner.as_deref() == me
            || offered.as_deref() == me
            || consulting
            || supervised.contains(&queue)
        {
            out.insert((channel, chat));
        }
    }
    Ok(out)
}

/// The chats of open pick-mode requests in the viewer's queues (she holds their cards).
pub fn open_cards(conn: Db<'_>, viewer: &Viewer) -> Result<Vec<ChatKey>, crate::store::StoreError> {
    let queues = queues(conn)?;
    let mut pick: HashMap<String, bool> = HashMap::new();
    let rows = store::open_requests(conn)?;
    let mut out = Vec::new();
    for (channel, chat, queue) in rows {
        let is_pick = match pick.get(&channel) {
            Some(p) => *p,
            None => {
                let p = crate::routing::engine::load_workstream(conn, &channel)?.mode
                    == DistributionMode::Pick;
                pick.insert(channel.clone(), p);
                p
            }
        };
        let member = queues
            .get(&queue)
            .is_none_or(|q| q.members.is_empty() || q.members.iter().any(|m| m == &viewer.user));
        if is_pick && member {
            out.push((channel, chat));
        }
    }
    Ok(out)
}

/// Whether a conversation snapshot involves the viewer directly (owner, offeree, consultant,
/// a supervisor of its queue). Cheap: no database.
pub fn involves(
    viewer: &Viewer,
    snap: &ConversationSnapshot,
    queues: &HashMap<String, Queue>,
) -> bool {
    let me = viewer.user.as_str();
    snap.owner.as_deref() == Some(me)
        || snap.offer.as_ref().is_some_and(|o| o.to == me)
        || snap.consultants.iter().any(|c| c.user == me)
        || (viewer.role == Role::Supervisor && supervises(queues, &snap.queue_id, me))
}

/// Whether the snapshot is a pick-mode request in a queue the viewer belongs to (she receives
/// the card while it is open, not the messages).
pub fn is_request_card_for(
    viewer: &Viewer,
    snap: &ConversationSnapshot,
    queues: &HashMap<String, Queue>,
) -> bool {
    if snap.mode != DistributionMode::Pick {
        return false;
    }
    // A queue without stored settings (the default) or without members is everyone's.
    queues
        .get(&snap.queue_id)
        .is_none_or(|q| q.members.is_empty() || q.members.iter().any(|m| m == &viewer.user))
}

/// The live conversation the viewer may write in now, or why not.
pub fn may_write(
    conn: Db<'_>,
    user: &str,
    channel: &str,
    chat: &str,
) -> Result<Result<String, Refusal>, crate::store::StoreError> {
    let row: Option<store::Live> = store::live_conversation(conn, channel, chat)?;
    let Some(store::Live { id, state, owner }) = row else {
        return Ok(Err(Refusal::forbidden_because(Reason::NoOpenConversation)));
    };
    let state = ConversationState::parse(&state).unwrap_or(ConversationState::Closed);
    if owner.as_deref() == Some(user) {
        return Ok(match state {
            ConversationState::Active => Ok(id),
            other => Err(Refusal::because(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                Invalid::whole(Reason::NotInState {
                    state: other.as_str().to_owned(),
                }),
            )),
        });
    }
    let joined: Option<bool> = store::consultant_joined(conn, &id, user)?;
    Ok(match joined {
        Some(true) if state != ConversationState::Closed => Ok(id),
        Some(_) => Err(Refusal::forbidden_because(Reason::ReadOnlyConsult)),
        None => Err(Refusal::forbidden_because(Reason::OwnedByOther { owner })),
    })
}

/// The chat a LINE message (or one of our sent messages) belongs to, by its message ID.
pub fn chat_of_message(
    conn: Db<'_>,
    channel: &str,
    message_id: &str,
) -> Result<Option<String>, crate::store::StoreError> {
    store::chat_of_message(conn, channel, message_id)
}

/// The chats (channel, chat) a contact is linked to.
pub fn chats_of_contact(
    conn: Db<'_>,
    contact: i64,
) -> Result<Vec<ChatKey>, crate::store::StoreError> {
    store::chats_of_contact(conn, contact)
}

/// Whether the viewer may see a contact: admins always; others when it is linked to a chat
/// they may see.
pub fn may_see_contact(
    conn: Db<'_>,
    viewer: &Viewer,
    contact: i64,
) -> Result<bool, crate::store::StoreError> {
    if viewer.sees_all() {
        return Ok(true);
    }
    for (channel, chat) in chats_of_contact(conn, contact)? {
        if may_see(conn, viewer, &channel, &chat)? {
            return Ok(true);
        }
    }
    Ok(false)
}
