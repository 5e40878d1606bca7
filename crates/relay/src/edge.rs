//! The HTTP edge: how connections are accepted and how long a client may take.
//!
//! `axum::serve` has no timer, so a client that opens a connection and sends half a header
//! line holds a file descriptor forever; a few thousand of them and real webhooks fail. This
//! server loop (hyper-util, as `axum::serve` itself is built) adds what a relay on the internet
//! needs:
//! - a cap on open connections ([`Limits::max_connections`]): at the cap the relay stops
//!   accepting, so further clients wait in the kernel's backlog instead of using descriptors;
//!   a websocket keeps its place until it closes;
//! - a deadline for a request's headers, which also ends keep-alive connections that stay idle
//!   ([`Limits::header_timeout`]);
//! - a deadline between two pieces of a request body ([`Limits::body_idle_timeout`]), so a
//!   body that trickles in never completes;
//! - on shutdown, requests in flight get [`DRAIN`] to finish.
//!
//! Size limits live with the routes (`lib.rs`): a body over its route's limit is refused with
//! 413 from its `Content-Length` before a byte of it is read.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

/// How long requests in flight may take to finish once the relay is told to stop.
pub const DRAIN: Duration = Duration::from_secs(5);

/// What one client may hold and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections, websockets included.
    pub max_connections: usize,
    /// From the first byte a request may start with to its last header line; also how long a
    /// keep-alive connection may sit idle.
    pub header_timeout: Duration,
    /// Longest pause between two parts of a request body.
    pub body_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 8192,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(30),
        }
    }
}

/// `limits` with the connection cap lowered to what the process may open, after raising its
/// soft file-descriptor limit to the hard one (systemd's default soft limit is 1,024).
pub fn within_descriptors(mut limits: Limits) -> Limits {
    // Descriptors the relay needs besides client connections: database, media files, LINE.
    const RESERVE: u64 = 256;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(open) => {
            let room = usize::try_from(open.saturating_sub(RESERVE).max(16)).unwrap_or(usize::MAX);
            if room < limits.max_connections {
                tracing::warn!(
                    configured = limits.max_connections,
                    room,
                    "fewer file descriptors than max_connections; the cap is lowered"
                );
                limits.max_connections = room;
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the file-descriptor limit"),
    }
    limits
}

/// Serves `app` on connections from `listener` until `stop` resolves.
pub async fn serve<L>(mut listener: L, app: Router, limits: Limits, stop: impl Future<Output = ()>)
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_idle_timeout,
    ));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    let mut warned_full = false;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(
                        max = limits.max_connections,
                        "connection cap reached; new clients wait until one closes"
                    );
                    warned_full = true;
                }
                tokio::select! {
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    _ = &mut stop => break,
                }
            }
        };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        if permits.available_permits() > limits.max_connections / 2 {
            warned_full = false;
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = builder
            .serve_connection_with_upgrades(
                TokioIo::new(Held {
                    io,
                    _permit: permit,
                }),
                service,
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::trace!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain period were cut off");
    }
}

/// A connection's stream together with its place under the cap: the place is given back when
/// the stream is dropped, also after a websocket upgrade carried it away from hyper.
struct Held<IO> {
    io: IO,
    _permit: OwnedSemaphorePermit,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Held<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Held<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
