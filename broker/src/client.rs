//! A Kafka client connection over the wire protocol (feature `client`).
//!
//! What the server's console and exercise checks use to reach a broker — this one, or an
//! external cluster later — through the protocol, never through broker internals; the broker's
//! tests use it too (via [`crate::testkit`]). One request at a time per connection, answers
//! matched by correlation id; frames larger than [`MAX_RESPONSE_BYTES`] are refused.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response frame accepted (a fetch of many partitions stays far below).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the broker: {0}")]
    Io(#[from] std::io::Error),
    #[error("the broker closed the connection")]
    Closed,
    #[error("malformed response: {0}")]
    Codec(String),
    #[error("response frame of {0} bytes is larger than allowed")]
    TooLarge(usize),
    #[error("response correlation id {got} does not match the request's {expected}")]
    CorrelationMismatch { expected: i32, got: i32 },
}

#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    client_id: String,
    correlation_id: i32,
}

impl Connection {
    pub async fn connect(addr: SocketAddr, client_id: &str) -> Result<Connection, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, client_id: client_id.to_owned(), correlation_id: 0 })
    }

    /// Sends `request` at `version` and reads its response.
    pub async fn send<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response, ClientError> {
        self.write_request(request, version).await?;
        self.read_response::<R>(version).await
    }

    /// Writes a request without waiting for its answer (for pipelining and acks=0).
    pub async fn write_request<R: Request>(&mut self, request: &R, version: i16) -> Result<(), ClientError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let mut header = RequestHeader::default();
        header.request_api_key = R::KEY;
        header.request_api_version = version;
        header.correlation_id = self.correlation_id;
        header.client_id = Some(StrBytes::from_string(self.client_id.clone()));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header.encode(&mut frame, R::header_version(version)).map_err(|e| ClientError::Codec(e.to_string()))?;
        request.encode(&mut frame, version).map_err(|e| ClientError::Codec(e.to_string()))?;
        let size = i32::try_from(frame.len() - 4).map_err(|_| ClientError::TooLarge(frame.len()))?;
        frame[..4].copy_from_slice(&size.to_be_bytes());
        self.stream.write_all(&frame).await?;
        Ok(())
    }

    /// Reads the response to the last request written.
    pub async fn read_response<R: Request>(&mut self, version: i16) -> Result<R::Response, ClientError> {
        let mut frame = self.read_frame().await?;
        let header_version = <R::Response as HeaderVersion>::header_version(version);
        let header =
            ResponseHeader::decode(&mut frame, header_version).map_err(|e| ClientError::Codec(e.to_string()))?;
        if header.correlation_id != self.correlation_id {
            return Err(ClientError::CorrelationMismatch { expected: self.correlation_id, got: header.correlation_id });
        }
        R::Response::decode(&mut frame, version).map_err(|e| ClientError::Codec(e.to_string()))
    }

    /// One raw response frame (without its size prefix).
    pub async fn read_frame(&mut self) -> Result<Bytes, ClientError> {
        let mut size = [0u8; 4];
        match self.stream.read_exact(&mut size).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(ClientError::Closed),
            Err(e) => return Err(e.into()),
        }
        let size =
            usize::try_from(i32::from_be_bytes(size)).map_err(|_| ClientError::Codec("negative frame size".into()))?;
        if size > MAX_RESPONSE_BYTES {
            return Err(ClientError::TooLarge(size));
        }
        let mut frame = vec![0; size];
        self.stream.read_exact(&mut frame).await?;
        Ok(Bytes::from(frame))
    }

    /// The socket, for tests that write raw bytes or watch it close.
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}
