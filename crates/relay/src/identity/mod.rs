//! Contacts and identity: contact records, links from LINE profiles to contacts (audited),
//! the customer summary, suggestions, consent, and per-contact export and erasure.
//!
//! | call | roles |
//! |---|---|
//! | `GET /api/contacts?q=`, `POST /api/contacts`, `GET/PUT /api/contacts/{id}` | everyone |
//! | `POST /api/contacts/{id}/link`, `…/unlink`, `GET /api/profiles/{channel}/{user}` | everyone |
//! | `POST /api/contacts/{id}/merge`, `GET …/export`, `POST …/erase` | supervisor, admin |
//!
//! Handlers name their role with the extractors of [`crate::policy`]; merge and erase share
//! `POST /api/contacts/{id}/{action}` with link, so they check `Supervising::ROLES` with
//! [`Caller::require`] themselves.
//!
//! A link changes what every console shows: the profile's conversations are logged again
//! with the contact (or the `ambiguous_contact` flag when two contacts share the profile), in
//! the same transaction as the link and its audit row. Later conversations of the profile
//! carry the contact from the moment they open.

pub mod erase;

use crate::store::identity as store;
use linedesk_protocol::{Invalid, Reason};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use linedesk_protocol::identity::{
    ContactFields, ContactSummary, LinkRequest, MergeRequest, ProfileIdentity,
};
use serde::Deserialize;

use crate::auth::Caller;
use crate::policy::{AnyUser, Refusal, RoleSet, Supervising};
use crate::routing::engine::{self, EngineError};
use crate::routing::http::parse;
use crate::routing::Routing;
use crate::Relay;

/// Chats erased a moment ago, so that a LINE profile fetch that was already under way when
/// its customer was erased does not store the profile again. Fetches give up after 30 s and
/// none outlives the process, so two minutes of memory is enough and nothing goes to disk.
///
/// Both the erasure and the profile's write run on the writer thread, so "started before the
/// erasure" is decided in one order: a fetch takes a ticket when it starts, an erasure stamps
/// the chat with a later one.
#[derive(Default)]
pub struct RecentErasures {
    tickets: std::sync::atomic::AtomicU64,
    erased: std::sync::Mutex<std::collections::HashMap<String, (u64, std::time::Instant)>>,
}

impl RecentErasures {
    const KEEP: std::time::Duration = std::time::Duration::from_secs(120);

    /// A ticket for work that may write a chat's data later.
    pub fn ticket(&self) -> u64 {
        self.tickets
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// Records that the chat was erased now.
    pub fn erased(&self, channel_id: &str, user_id: &str) {
        let stamp = self.ticket() + 1;
        let mut map = self.erased.lock().expect("erasures lock");
        map.retain(|_, (_, at)| at.elapsed() < Self::KEEP);
        map.insert(
            linedesk_protocol::identity::chat_hash(channel_id, user_id),
            (stamp, std::time::Instant::now()),
        );
    }

    /// Whether the chat was erased after `ticket` was taken.
    pub fn since(&self, channel_id: &str, user_id: &str, ticket: u64) -> bool {
        let map = self.erased.lock().expect("erasures lock");
        map.get(&linedesk_protocol::identity::chat_hash(channel_id, user_id))
            .is_some_and(|(stamp, _)| *stamp > ticket)
    }
}

fn not_found() -> EngineError {
    EngineError::not_found(Reason::NoSuchContact)
}

/// `GET /api/contacts?q=` query.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    /// Name, email or phone (part of).
    #[serde(default)]
    pub q: String,
}

/// `GET /api/contacts?q=`: up to 50 contacts matching name, email or phone.
pub async fn search(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Query(q): Query<SearchQuery>,
) -> Result<impl IntoResponse, Refusal> {
    if q.q.chars().count() > 200 {
        return Err(Refusal::field("q", Reason::Length { min: 0, max: 200 }));
    }
    let viewer = caller.viewer();
    let found = relay
        .read(move |c| {
            let mut list = store::search(c, &q.q, 50)?;
            // Anyone may find a contact to link a customer to, but only by name and company;
            // the personal details and links stay with those who may see the customer.
            for contact in &mut list {
                if !crate::access::may_see_contact(c, &viewer, contact.id)? {
                    redact(contact);
                }
            }
            Ok(list)
        })
        .await?;
    Ok(Json(found))
}

/// `POST /api/contacts`: creates a contact (and links a profile to it); answers the summary.
pub async fn create(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let req: linedesk_protocol::identity::NewContact = parse(&body)?;
    if let Some(l) = &req.link {
        check_chat(&relay, &caller, &l.channel_id, &l.user_id).await?;
    }
    let fields = store::clean(req.fields).map_err(Refusal::invalid)?;
    if let Some(l) = &req.link {
        check_link(l)?;
    }
    let actor = caller.session.user.name.clone();
    let created = Routing::decide(&relay, move |tx| {
        let id = store::create(tx.conn(), &fields, &actor, tx.now())?;
        if let Some(l) = &req.link {
            store::link(
                tx.conn(),
                id,
                &l.channel_id,
                &l.user_id,
                &actor,
                l.reason.as_deref(),
                tx.now(),
            )?;
            tx.profile_changed(&l.channel_id, &l.user_id)?;
        }
        summary(tx.conn(), id)
    })
    .await?;
    Ok(Json(created))
}

/// Checks a link request's channel and LINE user ID.
pub fn check_link(l: &LinkRequest) -> Result<(), Refusal> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !ok(&l.channel_id) {
        return Err(Refusal::field("channelId", Reason::ChannelId));
    }
    if !ok(&l.user_id) {
        return Err(Refusal::field("userId", Reason::LineUser));
    }
    if l.reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(Refusal::field(
            "reason",
            Reason::Length { min: 0, max: 500 },
        ));
    }
    Ok(())
}

/// The customer summary of a contact.
pub fn summary(conn: crate::store::sql::Db<'_>, id: i64) -> Result<ContactSummary, EngineError> {
    let contact = store::get(conn, id)?.ok_or_else(not_found)?;
    let mut conversations = Vec::new();
    for l in &contact.links {
        for cid in store::latest_conversations(conn, &l.channel_id, &l.user_id)? {
            if let Some(s) = engine::snapshot(conn, &cid)? {
                conversations.push(s);
            }
        }
    }
    conversations.sort_by_key(|c| std::cmp::Reverse(c.opened_at));
    let audit = store::audit_of(conn, id)?;
    Ok(ContactSummary {
        contact,
        conversations,
        audit,
    })
}

/// A contact found by someone who may not see its customer: name and company only.
fn redact(contact: &mut linedesk_protocol::identity::Contact) {
    let f = &mut contact.fields;
    f.phone = None;
    f.email = None;
    f.notes = None;
    f.custom.clear();
    contact.links.clear();
}

/// Whether the caller may read or change this contact: answers the refusal otherwise (a
/// contact she may not see answers as if it did not exist, so ids cannot be walked).
pub(crate) async fn check_contact(relay: &Relay, caller: &Caller, id: i64) -> Result<(), Refusal> {
    let viewer = caller.viewer();
    let may = relay
        .read(move |c| crate::access::may_see_contact(c, &viewer, id))
        .await?;
    if may {
        Ok(())
    } else {
        Err(not_found().into())
    }
}

/// Whether the caller may see this LINE profile's chat.
async fn check_chat(
    relay: &Relay,
    caller: &Caller,
    channel: &str,
    user: &str,
) -> Result<(), Refusal> {
    let viewer = caller.viewer();
    let (channel, user) = (channel.to_owned(), user.to_owned());
    let may = relay
        .read(move |c| crate::access::may_see(c, &viewer, &channel, &user))
        .await?;
    if may {
        Ok(())
    } else {
        Err(Refusal::not_found(
            "userId: no customer of yours has this LINE profile",
        ))
    }
}

/// `GET /api/contacts/{id}`: the customer summary. Every read is audited.
pub async fn get(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, Refusal> {
    check_contact(&relay, &caller, id).await?;
    let actor = caller.session.user.name.clone();
    let now = relay.clock().now_ms();
    let read = relay
        .writer()
        .run(move |c| {
            let out = summary(c, id);
            if out.is_ok() {
                store::audit(c, now, &actor, "view", Some(id), None, None, None)?;
            }
            Ok(out)
        })
        .await
        .map_err(Refusal::internal)?;
    Ok(Json(read?))
}

/// `PUT /api/contacts/{id}`: replaces the fields.
pub async fn update(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let fields: ContactFields = parse(&body)?;
    let fields = store::clean(fields).map_err(Refusal::invalid)?;
    check_contact(&relay, &caller, id).await?;
    let actor = caller.session.user.name.clone();
    let updated = Routing::decide(&relay, move |tx| {
        if !store::update(tx.conn(), id, &fields, &actor, tx.now())? {
            return Err(not_found());
        }
        // The name on conversations changed.
        let links = store::get(tx.conn(), id)?
            .map(|c| c.links)
            .unwrap_or_default();
        for l in links {
            tx.profile_changed(&l.channel_id, &l.user_id)?;
        }
        summary(tx.conn(), id)
    })
    .await?;
    Ok(Json(updated))
}

/// `POST /api/contacts/{id}/{link|unlink}`.
pub async fn link(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    match action.as_str() {
        "link" | "unlink" => {}
        "merge" => {
            return merge(relay, caller, id, body)
                .await
                .map(IntoResponse::into_response)
        }
        "erase" => {
            return erase::erase(relay, caller, id)
                .await
                .map(IntoResponse::into_response)
        }
        _ => return Err(Refusal::not_found("no such contact action")),
    }
    let req: LinkRequest = parse(&body)?;
    check_link(&req)?;
    // A profile she may not see cannot be linked or unlinked by her.
    check_chat(&relay, &caller, &req.channel_id, &req.user_id).await?;
    let actor = caller.session.user.name.clone();
    let linking = action == "link";
    let linked = Routing::decide(&relay, move |tx| {
        if store::get(tx.conn(), id)?.is_none() {
            return Err(not_found());
        }
        let changed = if linking {
            if !store::profile_known(tx.conn(), &req.channel_id, &req.user_id)? {
                return Err(EngineError::NotFound(Invalid::new(
                    "userId",
                    Reason::UnknownProfile,
                )));
            }
            store::link(
                tx.conn(),
                id,
                &req.channel_id,
                &req.user_id,
                &actor,
                req.reason.as_deref(),
                tx.now(),
            )?
        } else {
            store::unlink(
                tx.conn(),
                id,
                &req.channel_id,
                &req.user_id,
                &actor,
                req.reason.as_deref(),
                tx.now(),
            )?
        };
        if changed {
            tx.profile_changed(&req.channel_id, &req.user_id)?;
        }
        summary(tx.conn(), id)
    })
    .await?;
    Ok(Json(linked).into_response())
}

/// `POST /api/contacts/{id}/merge` (supervisor, admin): folds `other` into this contact.
async fn merge(
    relay: Relay,
    caller: Caller,
    id: i64,
    body: axum::body::Bytes,
) -> Result<Json<ContactSummary>, Refusal> {
    caller.require(Supervising::ROLES)?;
    let req: MergeRequest = parse(&body)?;
    if req.other == id {
        return Err(Refusal::field("other", Reason::SameContact));
    }
    for contact in [id, req.other] {
        check_contact(&relay, &caller, contact).await?;
    }
    let actor = caller.session.user.name.clone();
    let merged = Routing::decide(&relay, move |tx| {
        if store::get(tx.conn(), id)?.is_none() || store::get(tx.conn(), req.other)?.is_none() {
            return Err(not_found());
        }
        let moved = store::merge(tx.conn(), id, req.other, &actor, tx.now())?;
        for (channel, user) in moved {
            tx.profile_changed(&channel, &user)?;
        }
        summary(tx.conn(), id)
    })
    .await?;
    Ok(Json(merged))
}

/// `GET /api/profiles/{channel}/{user}`: the profile's contacts, suggestions and consent.
pub async fn profile(
    State(relay): State<Relay>,
    AnyUser(caller): AnyUser,
    Path((channel, user)): Path<(String, String)>,
) -> Result<impl IntoResponse, Refusal> {
    check_chat(&relay, &caller, &channel, &user).await?;
    let identity = relay
        .read(move |c| {
            let display_name = store::display_name(c, &channel, &user)?;
            let contacts = store::linked(c, &channel, &user)?;
            let exclude: Vec<i64> = contacts.iter().map(|c| c.id).collect();
            let suggestions = match (&display_name, contacts.is_empty()) {
                (Some(name), true) => store::suggestions(c, name, &exclude)?,
                _ => Vec::new(),
            };
            let consent = store::consent(c, &channel, &user)?;
            Ok(ProfileIdentity {
                channel_id: channel,
                user_id: user,
                display_name,
                contacts,
                suggestions,
                consent,
            })
        })
        .await?;
    Ok(Json(identity))
}

#[cfg(test)]
mod tests {
    use super::RecentErasures;

    #[test]
    fn only_work_started_before_an_erasure_is_dropped() {
        let e = RecentErasures::default();
        let before = e.ticket();
        e.erased("1650000000", "U1");
        let after = e.ticket();
        assert!(e.since("1650000000", "U1", before));
        assert!(!e.since("1650000000", "U1", after), "a later fetch stores");
        assert!(
            !e.since("1650000000", "U2", before),
            "other chats are untouched"
        );
    }
}
