//! The server's Kafka client, through the wire protocol only.
//!
//! Exercise checks, the console and the live views ask the broker what a learner's client would
//! see. Nothing here reaches into the embedded broker's internals (nor into the console: the
//! client returns its own types, and the console formats from them), so the same code works
//! against an external cluster. Connections are pooled; a failed one is dropped and the request
//! retried once on a fresh connection (the broker may have restarted).
//!
//! # Layout
//!
//! * this file: [`Kafka`] (the pool and the request plumbing), [`KafkaError`], [`Refusal`].
//! * `topics`: Metadata, CreateTopics, DeleteTopics, CreatePartitions.
//! * `configs`: DescribeConfigs, IncrementalAlterConfigs on topics.
//! * `offsets`: ListOffsets.
//! * `records`: Fetch and Produce.
//! * `groups`: ListGroups, DescribeGroups, OffsetFetch, OffsetCommit, DeleteGroups.
//! * `quorum`: DescribeQuorum.

mod configs;
mod groups;
mod offsets;
mod quorum;
mod records;
mod topics;

use std::net::SocketAddr;
use std::sync::Mutex;

use broker::client::{ClientError, Connection};
use broker::core::ErrorCode;
use kafka_protocol::messages::TopicName;
use kafka_protocol::protocol::{Request, StrBytes};

pub use configs::TopicConfigEntry;
pub use groups::{CommittedOffset, GroupDeletion, GroupDetail, ListedGroup, MemberDetail};
pub use offsets::LogOffsets;
pub use quorum::{QuorumInfo, QuorumNodeInfo, QuorumReplicaInfo};
pub use records::{ProducerRecord, RawRecord, RecordPosition, RecordView};
pub use topics::{ClusterTopic, PartitionInfo, TopicInfo};

/// Idle connections kept for reuse.
const POOLED_CONNECTIONS_MAX: usize = 16;

/// How long a request may wait for its answer: Kafka clients' `request.timeout.ms` default. A
/// broker that stops answering (an external cluster in trouble) fails the console command or
/// check instead of holding the learner's page forever.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a request got no usable answer: the broker could not be reached or understood, answered
/// with an error code, or did not answer in time. A refusal the caller shows the learner (an
/// admin request Kafka rejected) is a [`Refusal`] instead.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the broker answered with error code {0}")]
    Broker(i16),
    #[error("the broker did not answer within {} s (request.timeout.ms)", REQUEST_TIMEOUT.as_secs())]
    Timeout,
}

impl KafkaError {
    /// Whether the broker answered with `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        matches!(self, KafkaError::Broker(answered) if *answered == code.code())
    }

    /// The response had no entry for what was asked (a broker bug, or not a Kafka broker).
    fn missing_answer() -> KafkaError {
        KafkaError::Broker(ErrorCode::UnknownServerError.code())
    }
}

/// A Kafka protocol client for one cluster, reached through `bootstrap`, with pooled connections.
#[derive(Debug)]
pub struct Kafka {
    bootstrap: SocketAddr,
    /// The address learners' own clients use (the broker's advertised address).
    advertised: String,
    idle: Mutex<Vec<Connection>>,
}

impl Kafka {
    pub fn new(bootstrap: SocketAddr) -> Self {
        Kafka { bootstrap, advertised: bootstrap.to_string(), idle: Mutex::new(Vec::new()) }
    }

    /// Shows learners `address` instead of the connect address (`--kafka-advertised`).
    pub fn with_advertised(mut self, address: String) -> Self {
        self.advertised = address;
        self
    }

    pub fn bootstrap(&self) -> SocketAddr {
        self.bootstrap
    }

    pub fn advertised(&self) -> &str {
        &self.advertised
    }

    async fn call<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.call_unbounded(request, version))
            .await
            .map_err(|_| KafkaError::Timeout)?
    }

    async fn call_unbounded<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let first = match pooled {
            Some(mut connection) => match connection.send(request, version).await {
                Ok(response) => Ok((connection, response)),
                Err(error) => Err(error),
            },
            None => Err(ClientError::Closed),
        };
        let (connection, response) = match first {
            Ok(done) => done,
            Err(_) => {
                let mut connection = Connection::connect(self.bootstrap, "streamlab-server").await?;
                let response = connection.send(request, version).await?;
                (connection, response)
            }
        };
        self.put_back(connection);
        Ok(response)
    }

    /// Sends a request that has no response (Produce with acks=0) on a fresh connection, which is
    /// then pooled: the broker answers later requests on it in order, so nothing is misread.
    async fn send_without_response<R: Request>(&self, request: &R, version: i16) -> Result<(), KafkaError> {
        let write = async {
            let mut connection = Connection::connect(self.bootstrap, "streamlab-server").await?;
            connection.write_request(request, version).await?;
            Ok::<_, ClientError>(connection)
        };
        let connection = tokio::time::timeout(REQUEST_TIMEOUT, write).await.map_err(|_| KafkaError::Timeout)??;
        self.put_back(connection);
        Ok(())
    }

    fn put_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOLED_CONNECTIONS_MAX {
            idle.push(connection);
        }
    }
}

/// Kafka's answer to an admin request that it refused: the error code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: i16,
    pub message: String,
}

fn refusal(code: i16, message: Option<String>) -> Result<(), Refusal> {
    if code == 0 {
        Ok(())
    } else {
        Err(Refusal { code, message: message.unwrap_or_else(|| format!("error code {code}")) })
    }
}

/// Kafka's `Uuid.toString`: URL-safe base64 without padding.
fn kafka_uuid_text(id: &uuid::Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_owned()))
}
