//! The web site's listener: hyper's HTTP/1 server under the limits `axum::serve` does not set.
//!
//! `axum::serve` builds hyper's connection without a timer, so hyper's header-read timeout
//! never runs, and it accepts every connection it is offered. A client that sends half a
//! request line, or opens sockets and says nothing, then holds them for as long as it likes;
//! ~20,000 of them stop the process from accepting anything (issue 11). This module serves the
//! same router the way `axum::serve` does, connection by connection, with:
//!
//! * **a header-read timeout** (hyper's `header_read_timeout`): the request line and headers
//!   must arrive within it. hyper starts that clock whenever a connection waits for a request,
//!   so a kept-alive connection that sends no next request is closed after it too.
//! * **an idle timeout**: a connection on which no byte has moved either way for this long is
//!   asked to close after its response in progress, and closed outright after a second such
//!   quiet period (a stalled upload, a client that stopped reading). An event stream sends a
//!   keep-alive comment every 15 s, so an open stream is never idle that long.
//! * **a connection cap**: while every slot is taken, nothing more is accepted; new clients
//!   wait in the kernel's listen backlog, which costs the process nothing, until one closes;
//! * **a cap per client address**: one address past its share is closed at once (see
//!   `broker::runtime::per_address`), so idle sockets from one place cannot fill every slot.
//!
//! Graceful shutdown works as in `axum::serve`: stop accepting, ask every connection to close
//! after its response in progress, wait until they have.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use broker::runtime::per_address::{ConnectionsPerIp, IpSlot, RefusalLog};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, sleep_until};

/// The HTTP listener's limits (`--http-*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// The request line and headers must arrive within this (hyper's `header_read_timeout`).
    pub header_read_timeout_ms: u64,
    /// No byte either way for this long: the connection closes (see the module documentation).
    pub idle_timeout_ms: u64,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one address: past it, a new one from that address
    /// is closed at once, as Kafka's `max.connections.per.ip` does, so one address cannot take
    /// every slot from everyone else.
    pub max_connections_per_ip: usize,
}

/// How often a full listener says so in the log, at most.
const FULL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` under `limits` until `shutdown` resolves, then waits for open
/// connections to finish their responses.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    // Every connection task holds a receiver; the sender sees them all gone once they end.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut last_full_log: Option<Instant> = None;
    let per_ip = ConnectionsPerIp::default();
    let mut refusals = RefusalLog::default();
    loop {
        if permits.available_permits() == 0 && last_full_log.is_none_or(|at| at.elapsed() >= FULL_LOG_INTERVAL) {
            last_full_log = Some(Instant::now());
            tracing::warn!(
                max_connections = limits.max_connections,
                "the web site has all its connections open; new ones wait"
            );
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = per_ip.take(peer.ip(), limits.max_connections_per_ip) else {
            drop(stream);
            if let Some(refused) = refusals.refused(Instant::now()) {
                tracing::warn!(
                    %peer,
                    refused,
                    max_connections_per_ip = limits.max_connections_per_ip,
                    "refused web connections from an address that has too many already"
                );
            }
            continue;
        };
        let held = (permit, slot, open_rx.clone());
        tokio::spawn(serve_connection(stream, peer, app.clone(), limits, stopping.clone(), held));
    }
    drop(listener);
    stop.send_replace(true);
    drop(open_rx);
    open_tx.closed().await;
}

/// One connection, until it ends, the server stops, or it stays quiet too long.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: HttpLimits,
    mut stopping: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, IpSlot, watch::Receiver<()>),
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms));
    let mut connection = pin!(builder.serve_connection(io, TowerToHyperService::new(app)));
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let mut closing = false;
    // When the connection was asked to close for being quiet.
    let mut quiet_since: Option<Instant> = None;
    loop {
        let deadline = quiet_since.map_or(activity.last(), |at| at.max(activity.last())) + idle;
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    // A header-read timeout lands here, as does a client going away.
                    tracing::debug!(%peer, %error, "HTTP connection ended");
                }
                return;
            }
            _ = stopping.wait_for(|stopping| *stopping), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = sleep_until(deadline) => {
                let now = Instant::now();
                if activity.last() + idle > now {
                    continue;
                }
                match quiet_since {
                    None => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                        quiet_since = Some(now);
                    }
                    Some(at) if at + idle <= now => {
                        tracing::debug!(%peer, idle_timeout_ms = limits.idle_timeout_ms, "closing a quiet HTTP connection");
                        return;
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// When a connection last moved a byte, for the idle timeout.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity { start: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let elapsed_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(elapsed_ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A socket that notes in its [`Activity`] every read or write that moved bytes.
#[derive(Debug)]
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
