//! One client connection: frames in, requests decoded and handled, responses out in order.
//!
//! # Framing and hostile input
//!
//! A Kafka frame is a 4-byte big-endian size and that many bytes. Before anything is decoded the
//! size is checked against `max_request_bytes` (Kafka's `socket.request.max.bytes`), so a client
//! cannot make us buffer more. Then, as Kafka does: an unknown API key, or a version outside what
//! we advertise, closes the connection — except ApiVersions, which answers an unsupported version
//! with a v0 response carrying UNSUPPORTED_VERSION and our table (KIP-511), so the client can
//! retry with a version we speak. Decoding runs under `catch_unwind` as a last line of defence;
//! the codec's allocation abort on hostile counts is fixed in its vendored copy
//! (`broker/vendor/kafka-protocol/STREAMLAB-PATCH.md`). A bad connection is closed and logged;
//! every other connection carries on.
//!
//! # Slow and idle clients
//!
//! A frame's buffer grows with the bytes that arrive, not with the size it announces; a frame
//! still incomplete `request_read_timeout_ms` after its first byte closes its connection, and so
//! does a connection idle for `connections_max_idle_ms`. Request bytes in flight come out of the
//! process-wide `queued.max.request.bytes` budget (see [`serve`]).

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::stream::{FuturesOrdered, StreamExt};
use kafka_protocol::messages::{ApiKey, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Encodable, decode_request_header_from_buffer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{AcquireError, OwnedSemaphorePermit};
use tokio::time::{Instant, sleep_until};

use super::api::{self, versions};
use super::broker::BrokerHandle;
use super::cluster::Cluster;
use crate::core::ErrorCode;

/// Requests a connection may have in flight before we stop reading from it (back pressure).
const MAX_IN_FLIGHT: usize = 64;

/// Why a connection is closed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CloseReason {
    #[error("frame of {size} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge { size: i64, max: usize },
    #[error("frame of {0} bytes is too short for a request header")]
    FrameTooShort(usize),
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("API {0:?} is not supported by this broker")]
    UnsupportedApi(ApiKey),
    #[error("{api:?} version {version} is not supported (supported: {min}..={max})")]
    UnsupportedVersion { api: ApiKey, version: i16, min: i16, max: i16 },
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed { api: ApiKey, version: i16, reason: String },
}

/// A request ready to be handled.
#[derive(Debug)]
pub(crate) enum Decoded {
    Request {
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        client_id: String,
        body: Box<RequestKind>,
    },
    /// KIP-511: an ApiVersions request of a version we do not know, answered at v0.
    ApiVersionsFallback {
        correlation_id: i32,
    },
}

/// Takes one whole frame off the front of `buf`, if one is there.
pub(crate) fn take_frame(buf: &mut BytesMut, max_request_bytes: usize) -> Result<Option<Bytes>, CloseReason> {
    let Some(size) = announced_size(buf, max_request_bytes)? else { return Ok(None) };
    if buf.len() < 4 + size {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(size).freeze()))
}

/// Decodes a frame into a request, or says why the connection must close.
pub(crate) fn decode(mut frame: Bytes) -> Result<Decoded, CloseReason> {
    // api_key (2) + api_version (2) + correlation_id (4): the part of every header version.
    if frame.len() < 8 {
        return Err(CloseReason::FrameTooShort(frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api = ApiKey::try_from(key).map_err(|()| CloseReason::UnknownApiKey(key))?;
    let supported = versions::supported(api).ok_or(CloseReason::UnsupportedApi(api))?;
    if version < supported.decode_min || version > supported.max {
        if api == ApiKey::ApiVersions && version > supported.max {
            return Ok(Decoded::ApiVersionsFallback { correlation_id });
        }
        return Err(CloseReason::UnsupportedVersion { api, version, min: supported.decode_min, max: supported.max });
    }
    let malformed = |reason: String| CloseReason::Malformed { api, version, reason };
    let decoded = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let header = decode_request_header_from_buffer(&mut frame)?;
        Ok::<_, anyhow::Error>((header.client_id, RequestKind::decode(api, &mut frame, version)?))
    }));
    match decoded {
        Ok(Ok((client_id, body))) => Ok(Decoded::Request {
            api,
            version,
            correlation_id,
            client_id: client_id.map(|c| c.to_string()).unwrap_or_default(),
            body: Box::new(body),
        }),
        Ok(Err(error)) => Err(malformed(error.to_string())),
        Err(_) => Err(malformed("the decoder panicked".into())),
    }
}

/// Encodes a response frame: size, header, body. The codec's errors come back as text.
pub(crate) fn encode_response(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseKind,
) -> Result<BytesMut, String> {
    let mut out = BytesMut::with_capacity(256);
    out.put_i32(0);
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation_id;
    header.encode(&mut out, api.response_header_version(version)).map_err(|e| e.to_string())?;
    body.encode(&mut out, version).map_err(|e| e.to_string())?;
    let size = i32::try_from(out.len() - 4).map_err(|_| "response larger than 2 GiB".to_owned())?;
    out[..4].copy_from_slice(&size.to_be_bytes());
    Ok(out)
}

/// How much a read asks for at least: small requests fit in one read, and an idle connection
/// holds no buffer at all.
const READ_CHUNK: usize = 16 * 1024;

/// The size a frame announces, once its 4-byte prefix has arrived, checked against
/// `max_request_bytes`.
fn announced_size(buf: &[u8], max_request_bytes: usize) -> Result<Option<usize>, CloseReason> {
    let Some(prefix) = buf.get(..4) else { return Ok(None) };
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let size = usize::try_from(size)
        .map_err(|_| CloseReason::FrameTooLarge { size: i64::from(size), max: max_request_bytes })?;
    if size > max_request_bytes {
        return Err(CloseReason::FrameTooLarge { size: size as i64, max: max_request_bytes });
    }
    Ok(Some(size))
}

/// Makes room in `buf` for the next read.
///
/// Once the frame being read holds its share of the `queued.max.request.bytes` budget
/// (`frame_granted`), its memory is accounted for: the buffer is sized to the frame's end in one
/// allocation, so a 1 MiB produce request costs one allocation instead of seven doublings (each
/// an mmap, a copy and an munmap at that size). Before that, the buffer grows with what arrives
/// (doubling, never past the end of the frame being read), not with what a frame announces: a
/// client announcing 8 MiB and sending 1 KiB costs a few KiB, not 8 MiB.
fn make_room(buf: &mut BytesMut, frame_end: Option<usize>, frame_granted: bool) {
    if buf.capacity() > buf.len() {
        return;
    }
    let wanted = buf.len().saturating_mul(2).max(buf.len() + READ_CHUNK);
    let capacity = match frame_end {
        Some(end) if end > buf.len() && frame_granted => end,
        Some(end) if end > buf.len() => wanted.min(end),
        _ => wanted,
    };
    // `BytesMut::reserve` would at least double the allocation past the frame's end; copy into
    // an exact one instead (amortized: each byte is copied a bounded number of times).
    let mut grown = BytesMut::with_capacity(capacity);
    grown.extend_from_slice(buf);
    *buf = grown;
}

/// What a connection has to wait for before it reads again.
type Grant = Result<OwnedSemaphorePermit, AcquireError>;

/// Serves one connection until the client closes it, sends something we must refuse, leaves a
/// request unfinished past `request_read_timeout_ms` or stays idle past `connections_max_idle_ms`.
///
/// # Memory
///
/// Every frame takes its announced size from the process-wide `queued.max.request.bytes` budget
/// before its body is read, as Kafka's memory pool does, and gives it back once its response is
/// written. The exception is a connection's only request in flight when it fits a read chunk
/// (16 KiB): it is read at once, so the budget bounds what large and pipelined requests add. While the budget is spent, the connection stops reading: its client's bytes wait in
/// the kernel's socket buffer, and TCP slows the client down.
pub(crate) async fn serve(cluster: Arc<Cluster>, broker: Arc<BrokerHandle>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let config = &cluster.config;
    let request_read_timeout = Duration::from_millis(config.request_read_timeout_ms);
    let connections_max_idle = Duration::from_millis(config.connections_max_idle_ms);
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = BytesMut::new();
    let mut pending = FuturesOrdered::new();
    let mut reading = true;
    // The budget held for the frame at the front of `buf`, and the one being waited for.
    let mut grant: Option<OwnedSemaphorePermit> = None;
    let mut acquiring: Option<Pin<Box<dyn Future<Output = Grant> + Send>>> = None;
    // When the frame at the front of `buf` must have fully arrived.
    let mut frame_deadline: Option<Instant> = None;
    let mut last_active = Instant::now();
    loop {
        if !reading && pending.is_empty() {
            break;
        }
        // Take every whole frame off the front of `buf`.
        let mut frame_end = None;
        while !buf.is_empty() {
            let size = match announced_size(&buf, config.max_request_bytes) {
                Ok(Some(size)) => size,
                Ok(None) => break,
                Err(reason) => {
                    tracing::warn!(%peer, %reason, "closing connection");
                    return;
                }
            };
            // One small request at a time per connection is read without the budget: it costs
            // no more than the read buffer every connection may hold anyway, and so a client
            // asking for metadata, committing or heart-beating always gets through, even while
            // other connections hold the whole budget with large requests they never finish
            // (a slow loris waits for its read timeout, not everyone else with it).
            let small_and_alone = 4 + size <= READ_CHUNK && pending.is_empty();
            if let (Some(budget), None, None, false) = (&cluster.request_budget, &grant, &acquiring, small_and_alone) {
                let bytes = u32::try_from((4 + size).min(budget.total_bytes)).unwrap_or(u32::MAX);
                acquiring = Some(Box::pin(budget.bytes.clone().acquire_many_owned(bytes)));
            }
            if acquiring.is_some() || buf.len() < 4 + size {
                frame_end = Some(4 + size);
                break;
            }
            let Ok(Some(frame)) = take_frame(&mut buf, config.max_request_bytes) else { break };
            frame_deadline = None;
            let held = grant.take();
            match decode(frame) {
                Ok(Decoded::Request { api, version, correlation_id, client_id, body }) => {
                    tracing::trace!(%peer, ?api, version, correlation_id, "request");
                    let context = api::RequestContext { client_id, client_host: format!("/{}", peer.ip()) };
                    // A Produce request's batches are validated first, on the blocking pool if
                    // they are compressed (see `api::prepare`).
                    let request = api::prepare(&broker, *body, version).await;
                    let reply = api::dispatch(&cluster, &broker, request, version, context);
                    pending.push_back(Box::pin(async move {
                        let body = reply.await;
                        drop(held);
                        (api, version, correlation_id, body)
                    }) as Pin<Box<dyn Future<Output = _> + Send>>);
                }
                Ok(Decoded::ApiVersionsFallback { correlation_id }) => {
                    drop(held);
                    let body = ResponseKind::ApiVersions(versions::response(ErrorCode::UnsupportedVersion));
                    pending.push_back(Box::pin(async move { (ApiKey::ApiVersions, 0, correlation_id, Some(body)) }));
                }
                Err(reason) => {
                    tracing::warn!(%peer, %reason, "closing connection");
                    return;
                }
            }
        }
        if buf.is_empty() {
            // An idle connection holds no buffer.
            buf = BytesMut::new();
        }
        let can_read = reading && pending.len() < MAX_IN_FLIGHT && acquiring.is_none();
        let frame_granted = grant.is_some();
        let now = Instant::now();
        let deadline = if buf.is_empty() {
            frame_deadline = None;
            pending.is_empty().then(|| last_active + connections_max_idle)
        } else if can_read {
            Some(*frame_deadline.get_or_insert(now + request_read_timeout))
        } else {
            // We are the ones not reading: the client's time does not run.
            frame_deadline = Some(now + request_read_timeout);
            None
        };
        tokio::select! {
            Some((api, version, correlation_id, body)) = pending.next(), if !pending.is_empty() => {
                let Some(body) = body else { continue };
                match encode_response(api, version, correlation_id, &body) {
                    Ok(frame) => {
                        if let Err(error) = writer.write_all(&frame).await {
                            tracing::debug!(%peer, %error, "client went away");
                            return;
                        }
                        last_active = Instant::now();
                    }
                    Err(error) => {
                        tracing::error!(%peer, ?api, version, %error, "cannot encode a response; closing");
                        return;
                    }
                }
            }
            granted = async { acquiring.as_mut()?.await.ok() }, if acquiring.is_some() => {
                acquiring = None;
                // The semaphore is never closed; `None` cannot happen, and would only read on.
                grant = granted;
            }
            read = async { make_room(&mut buf, frame_end, frame_granted); reader.read_buf(&mut buf).await }, if can_read => {
                match read {
                    Ok(0) => reading = false,
                    Ok(_) => last_active = Instant::now(),
                    Err(error) => {
                        tracing::debug!(%peer, %error, "read failed");
                        return;
                    }
                }
            }
            () = sleep_until(deadline.unwrap_or(now)), if deadline.is_some() => {
                if buf.is_empty() {
                    // connections.max.idle.ms: "Idle connections timeout: the server socket
                    // processor threads close the connections that idle more than this".
                    tracing::debug!(%peer, connections_max_idle_ms = config.connections_max_idle_ms, "closing an idle connection");
                } else {
                    tracing::warn!(
                        %peer,
                        received = buf.len(),
                        request_read_timeout_ms = config.request_read_timeout_ms,
                        "closing a connection whose request did not arrive in time"
                    );
                }
                return;
            }
        }
    }
    let _ = writer.shutdown().await;
}
