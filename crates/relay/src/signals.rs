//! What the customer sees of the representative, as LINE's own app shows it:
//!
//! - **Typing**: `POST /api/conversations/{id}/typing` shows LINE's loading animation in the
//!   customer's chat (one-to-one chats only; LINE has none for groups). At most one call to
//!   LINE per conversation every [`TYPING_EVERY`], each for [`TYPING_SECONDS`]: the animation
//!   ends by itself, or when our next message arrives.
//! - **Read**: `POST /api/conversations/{id}/read` marks the customer's messages read with the
//!   `markAsReadToken` of the newest one (it marks every earlier one too), when the channel lets
//!   a bot do so (Chat on: `markAsReadMode` is `manual`; otherwise LINE marks them itself).
//!
//! Only who may write in the conversation (its owner, or a consultant the owner let write)
//! sends either; a supervisor monitoring it is not seen by the customer.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use linedesk_protocol::routing::SignalAnswer;
use linedesk_protocol::Reason;
use serde_json::Value;

use crate::auth::Caller;
use crate::policy::Refusal;
use crate::routing::engine;
use crate::store::events;
use crate::Relay;

/// How long each loading animation lasts (LINE: 5 to 60, in steps of 5).
pub const TYPING_SECONDS: u32 = 20;
/// At most one loading call per conversation this often.
pub const TYPING_EVERY: Duration = Duration::from_secs(10);
/// How long a channel's `markAsReadMode` is believed before LINE is asked again.
const MODE_FOR: Duration = Duration::from_secs(600);
/// How far back the newest message with a read token is looked for.
const READ_LOOKBACK: usize = 50;

/// The signals' state; part of [`crate::Relay`].
pub struct Signals {
    typing: DefaultKeyedRateLimiter<String>,
    /// Per channel: whether a bot marks messages read (`manual`), and when LINE said so.
    modes: Mutex<HashMap<String, (bool, Instant)>>,
    /// Per conversation: the last token marked (a second open marks nothing new).
    marked: Mutex<HashMap<String, String>>,
}

impl Default for Signals {
    fn default() -> Self {
        let quota = Quota::with_period(TYPING_EVERY)
            .expect("a period")
            .allow_burst(NonZeroU32::MIN);
        Self {
            typing: RateLimiter::keyed(quota),
            modes: Mutex::default(),
            marked: Mutex::default(),
        }
    }
}

/// The conversation, when `user` may write in it now, by the same rule as sending
/// ([`crate::access::may_write`]: its owner while Active, a consultant she let in); else the
/// refusal sending would give.
pub(crate) async fn writable(
    relay: &Relay,
    user: &str,
    id: &str,
) -> Result<linedesk_protocol::routing::ConversationSnapshot, Refusal> {
    let (key, user) = (id.to_owned(), user.to_owned());
    let found = relay
        .read(move |c| {
            let Some(snap) = engine::snapshot(c, &key)? else {
                return Ok(Err(Refusal::not_found("no such conversation")));
            };
            Ok(
                match crate::access::may_write(c, &user, &snap.channel_id, &snap.chat_id)? {
                    Ok(live) if live == snap.id => Ok(snap),
                    Ok(_) => Err(Refusal::because(
                        axum::http::StatusCode::CONFLICT,
                        linedesk_protocol::ErrorCode::Conflict,
                        linedesk_protocol::Invalid::whole(Reason::NotInState {
                            state: snap.state.as_str().to_owned(),
                        }),
                    )),
                    Err(refusal) => Err(refusal),
                },
            )
        })
        .await?;
    found
}

/// `typing` or `read` on relay conversation `id`, for `caller`.
pub async fn signal(
    relay: &Relay,
    caller: &Caller,
    id: &str,
    action: &str,
) -> Result<Json<SignalAnswer>, Refusal> {
    let snap = writable(relay, &caller.session.user.name, id).await?;
    // LINE shows neither in a group or room.
    if !snap.chat_id.starts_with('U') {
        return Ok(Json(SignalAnswer { sent: false }));
    }
    let Some(entry) = relay.registry().get(&snap.channel_id) else {
        return Ok(Json(SignalAnswer { sent: false }));
    };
    let signals = relay.signals();
    let sent = match action {
        "typing" => {
            if signals.typing.check_key(&snap.id).is_err() {
                return Ok(Json(SignalAnswer { sent: false }));
            }
            if signals.typing.len() > 10_000 {
                signals.typing.retain_recent();
            }
            match entry
                .client
                .show_loading(&snap.chat_id, TYPING_SECONDS)
                .await
            {
                Ok(()) => true,
                Err(e) => {
                    tracing::info!(error = %e, "LINE did not show the loading animation");
                    false
                }
            }
        }
        _ => mark_read(relay, &entry, &snap).await,
    };
    Ok(Json(SignalAnswer { sent }))
}

/// Marks the customer's messages read up to the newest one with a token; whether LINE did.
async fn mark_read(
    relay: &Relay,
    entry: &crate::registry::ChannelEntry,
    snap: &linedesk_protocol::routing::ConversationSnapshot,
) -> bool {
    if !manual_read(relay, entry).await {
        return false;
    }
    let (channel, chat) = (snap.channel_id.clone(), snap.chat_id.clone());
    let recent = relay
        .read(move |c| {
            events::chat_before(
                c,
                &channel,
                &chat,
                i64::MAX as u64,
                Some("message"),
                READ_LOOKBACK,
            )
        })
        .await;
    let recent = match recent {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the chat's messages");
            return false;
        }
    };
    let token = recent.iter().rev().find_map(|ev| {
        let v: Value = serde_json::from_str(&ev.body).ok()?;
        v["message"]["markAsReadToken"].as_str().map(str::to_owned)
    });
    let Some(token) = token else { return false };
    let signals = relay.signals();
    if signals
        .marked
        .lock()
        .expect("marked lock")
        .get(&snap.id)
        .is_some_and(|t| *t == token)
    {
        return false;
    }
    match entry.client.mark_as_read(&token).await {
        Ok(()) => {
            let mut marked = signals.marked.lock().expect("marked lock");
            if marked.len() > 10_000 {
                marked.clear();
            }
            marked.insert(snap.id.clone(), token);
            true
        }
        Err(e) => {
            tracing::info!(error = %e, "LINE did not mark the messages read");
            false
        }
    }
}

/// Whether the channel lets a bot mark messages read (Chat on), as LINE said lately.
async fn manual_read(relay: &Relay, entry: &crate::registry::ChannelEntry) -> bool {
    let signals = relay.signals();
    let known = signals
        .modes
        .lock()
        .expect("modes lock")
        .get(&entry.channel.id)
        .filter(|(_, at)| at.elapsed() < MODE_FOR)
        .map(|(manual, _)| *manual);
    if let Some(manual) = known {
        return manual;
    }
    let manual = match entry.client.bot_info().await {
        Ok(info) => info.mark_as_read_mode == "manual",
        Err(e) => {
            tracing::info!(error = %e, "LINE did not say how messages are marked read");
            return false;
        }
    };
    signals
        .modes
        .lock()
        .expect("modes lock")
        .insert(entry.channel.id.clone(), (manual, Instant::now()));
    manual
}
