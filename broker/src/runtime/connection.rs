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

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::stream::{FuturesOrdered, StreamExt};
use kafka_protocol::messages::{ApiKey, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Encodable, decode_request_header_from_buffer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let size = usize::try_from(size)
        .map_err(|_| CloseReason::FrameTooLarge { size: i64::from(size), max: max_request_bytes })?;
    if size > max_request_bytes {
        return Err(CloseReason::FrameTooLarge { size: size as i64, max: max_request_bytes });
    }
    if buf.len() < 4 + size {
        buf.reserve(4 + size - buf.len());
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

/// Serves one connection until the client closes it or sends something we must refuse.
pub(crate) async fn serve(cluster: Arc<Cluster>, broker: Arc<BrokerHandle>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut pending = FuturesOrdered::new();
    let mut reading = true;
    loop {
        if !reading && pending.is_empty() {
            break;
        }
        tokio::select! {
            Some((api, version, correlation_id, body)) = pending.next(), if !pending.is_empty() => {
                let Some(body) = body else { continue };
                match encode_response(api, version, correlation_id, &body) {
                    Ok(frame) => {
                        if let Err(error) = writer.write_all(&frame).await {
                            tracing::debug!(%peer, %error, "client went away");
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::error!(%peer, ?api, version, %error, "cannot encode a response; closing");
                        return;
                    }
                }
            }
            read = reader.read_buf(&mut buf), if reading && pending.len() < MAX_IN_FLIGHT => {
                match read {
                    Ok(0) => reading = false,
                    Ok(_) => loop {
                        let frame = match take_frame(&mut buf, cluster.config.max_request_bytes) {
                            Ok(Some(frame)) => frame,
                            Ok(None) => break,
                            Err(reason) => {
                                tracing::warn!(%peer, %reason, "closing connection");
                                return;
                            }
                        };
                        match decode(frame) {
                            Ok(Decoded::Request { api, version, correlation_id, client_id, body }) => {
                                tracing::trace!(%peer, ?api, version, correlation_id, "request");
                                let context = api::RequestContext { client_id, client_host: format!("/{}", peer.ip()) };
                                // A Produce request's batches are validated first, on the
                                // blocking pool if they are compressed (see `api::prepare`).
                                let request = api::prepare(&broker, *body, version).await;
                                let reply = api::dispatch(&cluster, &broker, request, version, context);
                                pending.push_back(Box::pin(async move { (api, version, correlation_id, reply.await) })
                                    as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>);
                            }
                            Ok(Decoded::ApiVersionsFallback { correlation_id }) => {
                                let body = ResponseKind::ApiVersions(versions::response(ErrorCode::UnsupportedVersion));
                                pending.push_back(Box::pin(async move { (ApiKey::ApiVersions, 0, correlation_id, Some(body)) }));
                            }
                            Err(reason) => {
                                tracing::warn!(%peer, %reason, "closing connection");
                                return;
                            }
                        }
                    },
                    Err(error) => {
                        tracing::debug!(%peer, %error, "read failed");
                        return;
                    }
                }
            }
        }
    }
    let _ = writer.shutdown().await;
}
