//! A minimal Kafka client for tests: the same codec, over real TCP. Feature `testkit`, for this
//! crate's integration tests and the server's end-to-end tests; not part of the broker.

#![allow(clippy::missing_panics_doc)]

use std::net::SocketAddr;

use bytes::{Buf, Bytes};
use kafka_protocol::protocol::Request;
use kafka_protocol::records::Compression;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::{BatchProducer, BatchRecord, Connection, encode_batch};

/// A test client: [`Connection`] with failures turned into panics (test code only).
#[derive(Debug)]
pub struct Client {
    connection: Connection,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Client { connection: Connection::connect(addr, "streamlab-test").await.expect("connect") }
    }

    /// Sends `request` at `version` and reads its response.
    pub async fn send<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        self.connection.send(request, version).await.expect("a response")
    }

    pub async fn send_raw_request<R: Request>(&mut self, request: &R, version: i16) {
        self.connection.write_request(request, version).await.expect("write");
    }

    /// Reads one response; `None` if the broker closed the connection.
    pub async fn read_response<R: Request>(&mut self, version: i16) -> Option<R::Response> {
        self.connection.read_response::<R>(version).await.ok()
    }

    pub async fn read_frame(&mut self) -> Option<Bytes> {
        self.connection.read_frame().await.ok()
    }

    /// Writes arbitrary bytes (hostile-input tests).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        let _ = self.connection.stream_mut().write_all(bytes).await;
    }

    /// True once the broker has closed the connection (reads EOF or reset).
    pub async fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(5), self.connection.stream_mut().read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

/// A record batch as a producer would send it: records with these (key, value) pairs.
pub fn batch(records: &[(Option<&str>, &str)], timestamp_ms: i64, compression: Compression) -> Bytes {
    producer_batch(records, timestamp_ms, compression, (-1, -1, -1))
}

/// A batch from an idempotent producer: `(producer_id, producer_epoch, base_sequence)`.
pub fn producer_batch(
    records: &[(Option<&str>, &str)],
    timestamp_ms: i64,
    compression: Compression,
    (producer_id, producer_epoch, base_sequence): (i64, i16, i32),
) -> Bytes {
    let records: Vec<BatchRecord<'_>> = records
        .iter()
        .zip(0..)
        .map(|((key, value), i)| BatchRecord {
            key: key.map(str::as_bytes),
            value: Some(value.as_bytes()),
            timestamp_ms: timestamp_ms + i,
            headers: Vec::new(),
        })
        .collect();
    let producer = BatchProducer { producer_id, producer_epoch, base_sequence };
    encode_batch(&records, compression, producer).expect("encode")
}

/// Every record in a fetch response's bytes: (offset, key, value).
pub fn records_of(mut bytes: Bytes) -> Vec<(i64, Option<String>, String)> {
    let mut out = Vec::new();
    while bytes.remaining() > 0 {
        let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut bytes).expect("decodes");
        for record in set.records {
            out.push((
                record.offset,
                record.key.map(|k| String::from_utf8_lossy(&k).into_owned()),
                String::from_utf8_lossy(&record.value.unwrap_or_default()).into_owned(),
            ));
        }
    }
    out
}
