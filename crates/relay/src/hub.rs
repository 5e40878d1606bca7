//! The console websocket (`GET /api/ws`): authenticate, resume from a cursor, stream the log.
//!
//! The session reads the durable log itself, from the cursor the console names (or the last
//! one it acknowledged), and then waits for the writer's head to move. Because it reads the
//! log rather than a broadcast, a slow or reconnecting console can never miss or double an
//! event: it sees every sequence after its cursor exactly once, in order.
//!
//! [`run_session`] is generic over `Stream`/`Sink` so tests can drive it with channels.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use linedesk_protocol::{ClientFrame, ErrorCode, EventFrame, ServerFrame, PROTOCOL_VERSION};
use serde_json::value::RawValue;

use crate::store::{self, events, users};
use crate::Relay;

/// Events read from the log per round trip.
const BATCH: usize = 512;
/// How long a console has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Acks are written at most this often (and when the socket closes).
const ACK_EVERY: Duration = Duration::from_millis(500);

/// `GET /api/ws`.
pub async fn upgrade(State(relay): State<Relay>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket: WebSocket| async move {
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
    let Some(session) = crate::auth::session_for(&relay, &token).await? else {
        return refuse(
            &mut sink,
            ErrorCode::Unauthenticated,
            "session unknown or expired; sign in again",
        )
        .await;
    };

    // 2. Welcome.
    let mut head_rx = relay.writer().head();
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
    crate::routing::Routing::connected(&relay, &session.user.name);
    let result = stream_log(&relay, &session, cursor, head_rx, &mut sink, &mut stream).await;
    crate::routing::Routing::disconnected(&relay, &session.user.name);
    result
}

async fn stream_log<S, R, E>(
    relay: &Relay,
    session: &users::Session,
    mut cursor: u64,
    mut head_rx: tokio::sync::watch::Receiver<u64>,
    sink: &mut S,
    stream: &mut R,
) -> anyhow::Result<()>
where
    S: Sink<Message> + Unpin,
    S::Error: std::error::Error + Send + Sync + 'static,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut stop = relay.shutdown_signal();
    let expires = tokio::time::Instant::now()
        + Duration::from_millis((session.expires_at - store::now_ms()).max(0) as u64);
    let mut acked = session.acked_seq;
    let mut ack_written = acked;
    let mut ack_timer = tokio::time::interval(ACK_EVERY);
    let mut caught_up_sent = false;

    // 3. Stream: backlog first, then live.
    let result: anyhow::Result<()> = loop {
        let head = *head_rx.borrow_and_update();
        if cursor < head {
            let after = cursor;
            let batch = relay
                .read(move |c| events::read_after(c, after, BATCH))
                .await?;
            if batch.is_empty() {
                // The log has no rows past the cursor yet (a console ahead of a reset relay).
                cursor = head;
                continue;
            }
            for ev in batch {
                cursor = ev.seq;
                sink.feed(text(&ServerFrame::Event(EventFrame {
                    seq: ev.seq,
                    channel_id: ev.channel_id,
                    webhook_event_id: ev.webhook_event_id,
                    received_at: ev.received_at,
                    event: RawValue::from_string(ev.body)?,
                })))
                .await?;
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
            incoming = next_frame(&mut *stream) => match incoming {
                Ok(Some(ClientFrame::Ack { seq })) => acked = acked.max(seq.min(cursor)),
                Ok(Some(ClientFrame::Ping { nonce })) => sink.send(text(&ServerFrame::Pong { nonce })).await?,
                Ok(Some(ClientFrame::Hello { .. })) => {
                    break refuse(&mut *sink, ErrorCode::BadRequest, "hello was already said").await;
                }
                Ok(None) => break Ok(()),
                Err(reason) => break refuse(&mut *sink, ErrorCode::BadRequest, &reason).await,
            },
            _ = ack_timer.tick() => {
                if acked > ack_written {
                    write_ack(relay, &session.token_hash, acked);
                    ack_written = acked;
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
