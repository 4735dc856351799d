//! A Kafka client connection over the wire protocol (feature `client`).
//!
//! What the server's console and exercise checks use to reach a broker — this one, or an
//! external cluster later — through the protocol, never through broker internals; the broker's
//! tests use it too (via [`crate::testkit`]). One request at a time per connection, answers
//! matched by correlation id; frames larger than [`MAX_RESPONSE_BYTES`] are refused.
//! [`encode_batch`] builds the record batch a Produce request carries.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};
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

/// A record for [`encode_batch`]: key and value bytes, either of which may be null (a null value
/// is a tombstone), and its create time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub timestamp_ms: i64,
    /// Header keys and values (a `None` value is a null header value).
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

/// Who writes a batch: an idempotent producer's id, epoch and first sequence number, or
/// [`BatchProducer::PLAIN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProducer {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

impl BatchProducer {
    /// A producer without idempotence: no id, epoch or sequence (-1 each).
    pub const PLAIN: BatchProducer = BatchProducer { producer_id: -1, producer_epoch: -1, base_sequence: -1 };
}

/// One v2 record batch as a producer sends it in a Produce request: `records` at relative
/// offsets 0, 1, ... (the broker assigns the real ones), create-time timestamps.
///
/// # Errors
///
/// [`ClientError::Codec`] if the codec cannot encode the batch (a compression it lacks).
pub fn encode_batch(
    records: &[BatchRecord<'_>],
    compression: Compression,
    producer: BatchProducer,
) -> Result<Bytes, ClientError> {
    let records: Vec<Record> = records
        .iter()
        .zip(0..)
        .map(|(record, i)| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id: producer.producer_id,
            producer_epoch: producer.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i64::from(i),
            // The codec keeps records in one batch only while offset - sequence is constant.
            sequence: producer.base_sequence + i,
            timestamp: record.timestamp_ms,
            key: record.key.map(Bytes::copy_from_slice),
            value: record.value.map(Bytes::copy_from_slice),
            headers: record
                .headers
                .iter()
                .map(|&(key, value)| (StrBytes::from_string(key.to_owned()), value.map(Bytes::copy_from_slice)))
                .collect(),
            delete_horizon: false,
        })
        .collect();
    let mut out = BytesMut::new();
    RecordBatchEncoder::encode(&mut out, &records, &RecordEncodeOptions { version: 2, compression })
        .map_err(|e| ClientError::Codec(e.to_string()))?;
    Ok(out.freeze())
}
