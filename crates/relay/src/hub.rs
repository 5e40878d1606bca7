//! The console websocket (`GET /api/ws`): authenticate, resume from a cursor, stream the log.
//!
//! The session reads the durable log itself, from the cursor the console names (or the last
//! one it acknowledged), and then waits for the writer's head to move. Because it reads the
//! log rather than a broadcast, a slow or reconnecting console can never miss or double an
//! event: it sees every sequence after its cursor exactly once, in order.
//!
//! Each console receives only what its user may see ([`crate::access`]): the stream is
//! filtered by the event's chat. Right after Welcome the relay says which chats the user may
//! hold ([`ServerFrame::Scope`]); when a conversation event gives her a chat (an offer, a
//! transfer to her, a consult) the chat's earlier events follow as [`ServerFrame::Backfill`];
//! when one takes it away (a transfer away) she gets [`ServerFrame::Forget`]. Sign-out,
//! removal, a password reset or a role change close the socket at once
//! ([`crate::sessions`]).
//!
//! [`run_session`] is generic over `Stream`/`Sink` so tests can drive it with channels.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use linedesk_protocol::routing::{ConversationSnapshot, ConversationState, CONVERSATION_EVENT};
use linedesk_protocol::{ClientFrame, ErrorCode, EventFrame, ServerFrame, PROTOCOL_VERSION};
use serde_json::value::RawValue;

use crate::access::{self, ChatKey, Viewer};
use crate::routing::config::Queue;
use crate::sessions::Ended;
use crate::store::events::StoredEvent;
use crate::store::{self, events, users};
use crate::Relay;

/// The event the relay logs a customer's LINE profile in.
const PROFILE_EVENT: &str = "linedeskProfile";

/// Most earlier events sent when a chat becomes visible.
const BACKFILL_MAX: usize = 5_000;

/// Events read from the log per round trip.
const BATCH: usize = 512;
/// How long a console has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Acks are written at most this often (and when the socket closes).
const ACK_EVERY: Duration = Duration::from_millis(500);
/// Largest frame a console may send: Hello, Ack and Ping are a few hundred bytes. Larger
/// frames close the socket before they are read into memory.
pub const MAX_CLIENT_FRAME: usize = 64 * 1024;

/// `GET /api/ws`.
pub async fn upgrade(State(relay): State<Relay>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket: WebSocket| async move {
            let (sink, stream) = socket.split();
            if let Err(e) = run_session(relay, sink, stream).await {
                tracing::debug!(error = %e, "console session ended");
            }
        })
}

fn text(frame: &ServerFrame) -> Message {
    Message::Text(
        serde_json::to_string(frame)
            .expect("server frames serialize")
            .into(),
    )
}

async fn refuse<S>(sink: &mut S, code: ErrorCode, message: &str) -> anyhow::Result<()>
where
    S: Sink<Message> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    sink.send(text(&ServerFrame::Error {
        code,
        message: message.into(),
    }))
    .await?;
    let _ = sink.send(Message::Close(None)).await;
    Ok(())
}

/// One console connection, from Hello to close.
pub async fn run_session<S, R, E>(relay: Relay, mut sink: S, mut stream: R) -> anyhow::Result<()>
where
    S: Sink<Message> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    // 1. Hello.
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, next_frame(&mut stream)).await {
        Ok(Ok(Some(frame))) => frame,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(reason)) => return refuse(&mut sink, ErrorCode::BadRequest, &reason).await,
        Err(_) => return refuse(&mut sink, ErrorCode::BadRequest, "no hello within 10 s").await,
    };
    let ClientFrame::Hello {
        version,
        token,
        since,
    } = hello
    else {
        return refuse(
            &mut sink,
            ErrorCode::BadRequest,
            "the first frame must be hello",
        )
        .await;
    };
    if version != PROTOCOL_VERSION {
        return refuse(
            &mut sink,
            ErrorCode::VersionMismatch,
            "protocol version not supported; update the console",
        )
        .await;
    }
    // Listen before looking the session up, so an end announced in between is not missed.
    let ended = relay.sessions().subscribe();
    let Some(session) = crate::auth::session_for(&relay, &token).await? else {
        return refuse(
            &mut sink,
            ErrorCode::Unauthenticated,
            "session unknown or expired; sign in again",
        )
        .await;
    };

    // 2. Welcome.
    let mut head_rx = relay.tail().head();
    let cursor = since.unwrap_or(session.acked_seq);
    let head = *head_rx.borrow_and_update();
    sink.send(text(&ServerFrame::Welcome {
        version: PROTOCOL_VERSION,
        user: session.user.name.clone(),
        role: session.user.role,
        resume_after: cursor,
        head,
    }))
    .await?;
    tracing::info!(user = %session.user.name, resume_after = cursor, head, "console connected");
    let mut filter = Filter::load(&relay, &session).await?;
    sink.send(text(&ServerFrame::Scope(
        filter.scope.take().expect("loaded with a scope"),
    )))
    .await?;
    crate::routing::Routing::connected(&relay, &session.user.name);
    let live = Live {
        token,
        ended,
        head_rx,
    };
    let result = stream_log(
        &relay,
        &session,
        &mut filter,
        cursor,
        live,
        &mut sink,
        &mut stream,
    )
    .await;
    crate::routing::Routing::disconnected(&relay, &session.user.name);
    result
}

/// What a session listens to besides the console.
struct Live {
    /// The session token (to look the session up again after missed announcements).
    token: String,
    ended: tokio::sync::broadcast::Receiver<Ended>,
    head_rx: tokio::sync::watch::Receiver<u64>,
}

/// What one console may receive, kept up to date as conversation events stream by.
struct Filter {
    viewer: Viewer,
    /// The chats the user may see (unused for admins).
    visible: HashSet<ChatKey>,
    /// Queue settings (supervisors, members) as of the connection.
    queues: HashMap<String, Queue>,
    /// Chats whose open request card she holds: their profile events reach her too (a
    /// profile fetched after the card still names the customer).
    cards: HashSet<ChatKey>,
    /// The first frame after Welcome.
    scope: Option<linedesk_protocol::Scope>,
}

/// What to do with one logged event for this console.
enum Verdict {
    Send,
    Skip,
    /// The chat just became visible: its earlier events first, then this one.
    Grant(ChatKey),
    /// The chat is no longer visible: tell the console to forget it.
    Revoke(ChatKey),
    /// An open pick-mode request of her queue: the customer's profile (name, picture), then
    /// the card. Not the messages.
    Card(ChatKey),
    /// A request of her queue that someone took or closed: the card goes.
    Uncard(ChatKey),
}

impl Filter {
    async fn load(relay: &Relay, session: &users::Session) -> anyhow::Result<Self> {
        let viewer = Viewer {
            user: session.user.name.clone(),
            role: session.user.role,
        };
        let v = viewer.clone();
        let (visible, cards, queues, scope) = relay
            .read(move |c| {
                let (visible, cards) = if v.sees_all() {
                    (HashSet::new(), HashSet::new())
                } else {
                    (
                        access::visible_chats(c, &v)?,
                        access::open_cards(c, &v)?.into_iter().collect(),
                    )
                };
                Ok((visible, cards, access::queues(c)?, access::scope(c, &v)?))
            })
            .await?;
        Ok(Self {
            viewer,
            visible,
            queues,
            cards,
            scope: Some(scope),
        })
    }

    async fn judge(&mut self, relay: &Relay, ev: &StoredEvent) -> anyhow::Result<Verdict> {
        if self.viewer.sees_all() {
            return Ok(Verdict::Send);
        }
        // Team-wide events (presence, erasure hashes) carry no chat.
        let Some(chat) = &ev.chat_id else {
            return Ok(Verdict::Send);
        };
        let key = (ev.channel_id.clone(), chat.clone());
        let visible = self.visible.contains(&key);
        if ev.event_type != CONVERSATION_EVENT {
            let card_profile = ev.event_type == PROFILE_EVENT && self.cards.contains(&key);
            return Ok(if visible || card_profile {
                Verdict::Send
            } else {
                Verdict::Skip
            });
        }
        let snap: Option<ConversationSnapshot> =
            serde_json::from_str::<serde_json::Value>(&ev.body)
                .ok()
                .and_then(|v| serde_json::from_value(v["conversation"].clone()).ok());
        let Some(snap) = snap else {
            return Ok(if visible {
                Verdict::Send
            } else {
                Verdict::Skip
            });
        };
        let involves = access::involves(&self.viewer, &snap, &self.queues);
        if involves == visible {
            return Ok(if visible {
                Verdict::Send
            } else {
                self.card(&snap, key)
            });
        }
        // Access may have changed: the database decides (as of now, which is never behind
        // the event being streamed).
        let (viewer, (channel, chat_id)) = (self.viewer.clone(), key.clone());
        let may = relay
            .read(move |c| access::may_see(c, &viewer, &channel, &chat_id))
            .await?;
        Ok(match (visible, may) {
            (false, true) => {
                self.visible.insert(key.clone());
                Verdict::Grant(key)
            }
            (true, false) => {
                self.visible.remove(&key);
                Verdict::Revoke(key)
            }
            (true, true) => Verdict::Send,
            (false, false) => self.card(&snap, key),
        })
    }

    /// A pick-mode request in one of her queues: the card while it is open, not the messages.
    fn card(&mut self, snap: &ConversationSnapshot, key: ChatKey) -> Verdict {
        if !access::is_request_card_for(&self.viewer, snap, &self.queues) {
            Verdict::Skip
        } else if snap.state == ConversationState::Open {
            self.cards.insert(key.clone());
            Verdict::Card(key)
        } else {
            self.cards.remove(&key);
            Verdict::Uncard(key)
        }
    }
}

fn event_frame(ev: StoredEvent) -> anyhow::Result<EventFrame> {
    Ok(EventFrame {
        seq: ev.seq,
        channel_id: ev.channel_id,
        webhook_event_id: ev.webhook_event_id,
        received_at: ev.received_at,
        event: RawValue::from_string(ev.body)?,
    })
}

/// The event's frame: the tail's, serialized once for every console, or made now.
fn frame_of(ev: &StoredEvent, shared: Option<&Utf8Bytes>) -> anyhow::Result<Message> {
    Ok(match shared {
        Some(f) => Message::Text(f.clone()),
        None => text(&ServerFrame::Event(event_frame(ev.clone())?)),
    })
}

/// Sends one event as the filter decides.
async fn deliver<S>(
    relay: &Relay,
    filter: &mut Filter,
    ev: &StoredEvent,
    shared: Option<&Utf8Bytes>,
    sink: &mut S,
) -> anyhow::Result<()>
where
    S: Sink<Message> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    match filter.judge(relay, ev).await? {
        Verdict::Skip => Ok(()),
        Verdict::Send => Ok(sink.feed(frame_of(ev, shared)?).await?),
        Verdict::Card((channel, chat)) => {
            let before = ev.seq;
            let profiles = relay
                .read(move |c| {
                    events::chat_before(
                        c,
                        &channel,
                        &chat,
                        before,
                        Some(PROFILE_EVENT),
                        BACKFILL_MAX,
                    )
                })
                .await?;
            for p in profiles {
                sink.feed(text(&ServerFrame::Backfill(event_frame(p)?)))
                    .await?;
            }
            Ok(sink.feed(frame_of(ev, shared)?).await?)
        }
        Verdict::Revoke((channel_id, chat)) | Verdict::Uncard((channel_id, chat)) => {
            let chat_hash = linedesk_protocol::identity::chat_hash(&channel_id, &chat);
            Ok(sink
                .feed(text(&ServerFrame::Forget {
                    channel_id,
                    chat_hash,
                }))
                .await?)
        }
        Verdict::Grant((channel, chat)) => {
            let before = ev.seq;
            let earlier = relay
                .read(move |c| events::chat_before(c, &channel, &chat, before, None, BACKFILL_MAX))
                .await?;
            for old in earlier {
                sink.feed(text(&ServerFrame::Backfill(event_frame(old)?)))
                    .await?;
            }
            Ok(sink.feed(frame_of(ev, shared)?).await?)
        }
    }
}

/// Why a session ends, if this announcement concerns it.
async fn ended_for(
    relay: &Relay,
    session: &users::Session,
    token: &str,
    got: Result<Ended, tokio::sync::broadcast::error::RecvError>,
) -> anyhow::Result<Option<&'static str>> {
    use tokio::sync::broadcast::error::RecvError;
    Ok(match got {
        Ok(Ended::User { name, reason }) if name == session.user.name => Some(reason),
        Ok(Ended::Session { token_hash }) if token_hash == session.token_hash => {
            Some("signed out; sign in again")
        }
        Ok(_) => None,
        // Missed announcements: look the session up again.
        Err(RecvError::Lagged(_)) => match crate::auth::session_for(relay, token).await? {
            Some(s) if s.user.role == session.user.role => None,
            _ => Some("your session ended; sign in again"),
        },
        Err(RecvError::Closed) => None,
    })
}

#[allow(clippy::too_many_arguments)]
async fn stream_log<S, R, E>(
    relay: &Relay,
    session: &users::Session,
    filter: &mut Filter,
    mut cursor: u64,
    live: Live,
    sink: &mut S,
    stream: &mut R,
) -> anyhow::Result<()>
where
    S: Sink<Message> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    let Live {
        token,
        mut ended,
        mut head_rx,
    } = live;
    let mut stop = relay.shutdown_signal();
    let expires = tokio::time::Instant::now()
        + Duration::from_millis((session.expires_at - store::now_ms()).max(0) as u64);
    let mut acked = session.acked_seq;
    let mut ack_written = acked;
    let mut ack_timer = tokio::time::interval(ACK_EVERY);
    let mut caught_up_sent = false;
    let idle = relay.console_idle();
    let mut last_heard = tokio::time::Instant::now();

    // 3. Stream: backlog first, then live.
    let result: anyhow::Result<()> = loop {
        let head = *head_rx.borrow_and_update();
        if cursor < head {
            // Recent events from the shared tail; an older backlog from the log.
            let delivered = match relay.tail().after(cursor, BATCH) {
                Some(recent) => {
                    for te in &recent {
                        cursor = te.event.seq;
                        deliver(relay, filter, &te.event, Some(&te.frame), sink).await?;
                    }
                    recent.len()
                }
                None => {
                    let after = cursor;
                    let batch = relay
                        .read(move |c| events::read_after(c, after, BATCH))
                        .await?;
                    for ev in &batch {
                        cursor = ev.seq;
                        deliver(relay, filter, ev, None, sink).await?;
                    }
                    batch.len()
                }
            };
            if delivered == 0 {
                // Nothing past the cursor (erased rows, or a console ahead of a reset relay).
                cursor = head;
                continue;
            }
            sink.flush().await?;
            continue;
        }
        if !caught_up_sent {
            sink.send(text(&ServerFrame::CaughtUp { head: cursor }))
                .await?;
            caught_up_sent = true;
        }
        tokio::select! {
            changed = head_rx.changed() => {
                if changed.is_err() { break Ok(()); }
            }
            _ = tokio::time::sleep_until(last_heard + idle) => {
                tracing::info!(user = %session.user.name, "console silent too long; taken as gone");
                break refuse(&mut *sink, ErrorCode::BadRequest, "no ping within the idle deadline").await;
            }
            incoming = next_frame(&mut *stream) => {
                last_heard = tokio::time::Instant::now();
                match incoming {
                    Ok(Some(ClientFrame::Ack { seq })) => acked = acked.max(seq.min(cursor)),
                    Ok(Some(ClientFrame::Ping { nonce })) => sink.send(text(&ServerFrame::Pong { nonce })).await?,
                    Ok(Some(ClientFrame::Hello { .. })) => {
                        break refuse(&mut *sink, ErrorCode::BadRequest, "hello was already said").await;
                    }
                    Ok(None) => break Ok(()),
                    Err(reason) => break refuse(&mut *sink, ErrorCode::BadRequest, &reason).await,
                }
            }
            _ = ack_timer.tick() => {
                if acked > ack_written {
                    write_ack(relay, &session.token_hash, acked);
                    ack_written = acked;
                }
            }
            got = ended.recv() => {
                if let Some(reason) = ended_for(relay, session, &token, got).await? {
                    tracing::info!(user = %session.user.name, reason, "session ended; closing its websocket");
                    break refuse(&mut *sink, ErrorCode::Unauthenticated, reason).await;
                }
            }
            _ = tokio::time::sleep_until(expires) => {
                break refuse(&mut *sink, ErrorCode::Unauthenticated, "session expired; sign in again").await;
            }
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                break Ok(());
            }
        }
    };
    if acked > ack_written {
        write_ack(relay, &session.token_hash, acked);
    }
    result
}

fn write_ack(relay: &Relay, token_hash: &[u8], seq: u64) {
    let writer = relay.writer().clone();
    let hash = token_hash.to_vec();
    tokio::spawn(async move {
        if let Err(e) = writer.run(move |c| users::ack(c, &hash, seq)).await {
            tracing::warn!(error = %e, "could not record ack");
        }
    });
}

/// The next client frame; `Ok(None)` when the socket closed, `Err` for a malformed frame.
async fn next_frame<R, E>(stream: &mut R) -> Result<Option<ClientFrame>, String>
where
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::error::Error,
{
    loop {
        match stream.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str())
                    .map(Some)
                    .map_err(|e| format!("malformed frame: {e}"));
            }
            Some(Ok(Message::Binary(_))) => {
                return Err("binary frames are not part of the protocol".into())
            }
            Some(Ok(_)) => continue, // ping/pong handled by the websocket layer
        }
    }
}
