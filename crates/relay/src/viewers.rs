//! Collision: a conversation shows who else has it open and who is typing in it. Each console
//! says so every few seconds while the conversation is open, and at once when typing starts
//! (`POST /api/conversations/{id}/viewing {typing}`); the answer is everyone else who said so
//! within [`VIEWING_FOR_MS`]. The rows live in the database, so consoles on different relays
//! of a cluster see each other. Only whoever may see the conversation may say or ask.

use axum::Json;
use linedesk_protocol::routing::{Viewer, ViewingRequest, TYPING_FOR_MS, VIEWING_FOR_MS};

use crate::auth::Caller;
use crate::policy::Refusal;
use crate::routing::engine;
use crate::routing::http::parse;
use crate::store::viewers as store;
use crate::Relay;

/// `POST /api/conversations/{id}/viewing`, for `caller`.
pub async fn viewing(
    relay: &Relay,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> Result<Json<Vec<Viewer>>, Refusal> {
    let req: ViewingRequest = if body.is_empty() {
        ViewingRequest::default()
    } else {
        parse(body)?
    };
    let viewer = caller.viewer();
    let key = id.to_owned();
    // Someone else's conversation answers as if it did not exist.
    let snap = relay
        .read(move |c| {
            let Some(snap) = engine::snapshot(c, &key)? else {
                return Ok(None);
            };
            let may = crate::access::may_see(c, &viewer, &snap.channel_id, &snap.chat_id)?;
            Ok(may.then_some(snap))
        })
        .await?
        .ok_or_else(|| Refusal::not_found("no such conversation"))?;
    let now = relay.clock().now_ms();
    let user = caller.session.user.name.clone();
    let conv = snap.id.clone();
    let others = relay
        .writer()
        .run(move |c| {
            store::seen(c, &conv, &user, req.typing, now)?;
            store::others(c, &conv, &user, now - VIEWING_FOR_MS, now - TYPING_FOR_MS)
        })
        .await
        .map_err(Refusal::internal)?;
    Ok(Json(
        others
            .into_iter()
            .map(|(user, typing)| Viewer { user, typing })
            .collect(),
    ))
}
