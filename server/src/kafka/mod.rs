//! The server's Kafka client, through the wire protocol only.
//!
//! Exercise checks, the console and the live views ask the broker what a learner's client would
//! see. Nothing here reaches into the embedded broker's internals (nor into the console: the
//! client returns its own types, and the console formats from them), so the same code works
//! against an external cluster. Like any Kafka client it knows several bootstrap brokers and
//! sends Produce, Fetch and ListOffsets to each partition's leader (from Metadata); everything
//! else goes to the first broker that answers. Connections are pooled per broker; a failed one
//! is dropped and the request retried once on a fresh connection (the broker may have restarted).
//!
//! # Layout
//!
//! * this file: [`Kafka`] (the pool and the request plumbing), [`KafkaError`], [`Refusal`].
//! * `topics`: Metadata, CreateTopics, DeleteTopics, CreatePartitions.
//! * `configs`: DescribeConfigs, IncrementalAlterConfigs on topics and brokers.
//! * `offsets`: ListOffsets.
//! * `records`: Fetch and Produce.
//! * `groups`: ListGroups, DescribeGroups, OffsetFetch, OffsetCommit, DeleteGroups.
//! * `quorum`: DescribeQuorum.
//! * `elections`: ElectLeaders.

mod configs;
mod elections;
mod groups;
mod offsets;
mod quorum;
mod records;
mod topics;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;

use broker::client::{ClientError, Connection};
use broker::core::ErrorCode;
use kafka_protocol::messages::TopicName;
use kafka_protocol::protocol::{Request, StrBytes};

pub use configs::{ConfigResource, DescribedConfig, TopicConfigEntry};
pub use elections::ElectionResult;
pub use groups::{CommittedOffset, GroupDeletion, GroupDetail, ListedGroup, MemberDetail};
pub use offsets::LogOffsets;
pub use quorum::{QuorumInfo, QuorumNodeInfo, QuorumReplicaInfo};
pub use records::{ProducerRecord, RawRecord, RecordPosition, RecordView};
pub use topics::{ClusterMetadata, ClusterTopic, PartitionInfo, PartitionReplicas, TopicInfo};

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

/// A Kafka protocol client for one cluster, reached through its brokers, with pooled connections.
#[derive(Debug)]
pub struct Kafka {
    /// Every broker this client may bootstrap from, by id: broker 1 first.
    brokers: Vec<(i32, SocketAddr)>,
    /// The address learners' own clients use (the brokers' advertised addresses).
    advertised: String,
    idle: Mutex<HashMap<SocketAddr, Vec<Connection>>>,
}

impl Kafka {
    /// A client of a one-broker cluster (broker id 1) at `bootstrap`.
    pub fn new(bootstrap: SocketAddr) -> Self {
        Kafka::cluster(vec![(1, bootstrap)])
    }

    /// A client of the cluster whose brokers listen at these addresses (id, address).
    pub fn cluster(brokers: Vec<(i32, SocketAddr)>) -> Self {
        // One bootstrap server is enough for a client: Metadata names the others.
        let advertised = brokers.first().map(|(_, addr)| addr.to_string()).unwrap_or_default();
        Kafka { brokers, advertised, idle: Mutex::new(HashMap::new()) }
    }

    /// Shows learners `address` instead of the connect addresses (`--kafka-advertised`).
    pub fn with_advertised(mut self, address: String) -> Self {
        self.advertised = address;
        self
    }

    /// Broker 1's address.
    pub fn bootstrap(&self) -> SocketAddr {
        self.brokers.first().map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9092)), |(_, addr)| *addr)
    }

    /// The bootstrap server learners' own clients use.
    pub fn advertised(&self) -> &str {
        &self.advertised
    }

    /// Sends to the first broker that answers.
    async fn call<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
        tokio::time::timeout(REQUEST_TIMEOUT, async {
            let mut last_error = None;
            for (_, addr) in &self.brokers {
                match self.call_unbounded(*addr, request, version).await {
                    Ok(response) => return Ok(response),
                    // A stopped broker: try the next one, as a client's bootstrap list does.
                    Err(KafkaError::Client(error)) => last_error = Some(KafkaError::Client(error)),
                    Err(error) => return Err(error),
                }
            }
            Err(last_error.unwrap_or(KafkaError::Client(ClientError::Closed)))
        })
        .await
        .map_err(|_| KafkaError::Timeout)?
    }

    /// Sends to the leader of `topic`-`partition` (Produce, Fetch and ListOffsets must go there).
    async fn call_leader<R: Request>(
        &self,
        topic: &str,
        partition: i32,
        request: &R,
        version: i16,
    ) -> Result<R::Response, KafkaError> {
        let leader = self.leader_address(topic, partition).await?;
        self.call_at(leader, request, version).await
    }

    /// Sends to the broker at `addr`.
    async fn call_at<R: Request>(
        &self,
        addr: SocketAddr,
        request: &R,
        version: i16,
    ) -> Result<R::Response, KafkaError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.call_unbounded(addr, request, version))
            .await
            .map_err(|_| KafkaError::Timeout)?
    }

    /// Where the leader of `topic`-`partition` listens. Without a leader (none elected yet),
    /// LEADER_NOT_AVAILABLE; an unknown partition, UNKNOWN_TOPIC_OR_PARTITION.
    async fn leader_address(&self, topic: &str, partition: i32) -> Result<SocketAddr, KafkaError> {
        let leaders = self.leaders(&[topic.to_owned()]).await?;
        let leader = leaders
            .get(&(topic.to_owned(), partition))
            .copied()
            .ok_or(KafkaError::Broker(ErrorCode::UnknownTopicOrPartition.code()))?;
        leader.ok_or(KafkaError::Broker(ErrorCode::LeaderNotAvailable.code()))
    }

    /// The leader's address of every partition of `topics` (`None`: no leader now), from one
    /// Metadata request. Brokers this client knows by id are reached at their known address;
    /// others at the host and port Metadata gives (an external cluster).
    async fn leaders(&self, topics: &[String]) -> Result<BTreeMap<(String, i32), Option<SocketAddr>>, KafkaError> {
        use kafka_protocol::messages::MetadataRequest;
        use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
        let mut request = MetadataRequest::default();
        request.topics = Some(
            topics
                .iter()
                .map(|name| {
                    let mut topic = MetadataRequestTopic::default();
                    topic.name = Some(topic_name(name));
                    topic
                })
                .collect(),
        );
        request.allow_auto_topic_creation = false;
        let response = self.call(&request, 12).await?;
        let mut addresses: HashMap<i32, SocketAddr> = self.brokers.iter().copied().collect();
        for broker in &response.brokers {
            if let std::collections::hash_map::Entry::Vacant(entry) = addresses.entry(broker.node_id.0) {
                let port = u16::try_from(broker.port).unwrap_or(0);
                let resolved =
                    tokio::net::lookup_host((broker.host.as_str(), port)).await.ok().and_then(|mut a| a.next());
                if let Some(addr) = resolved {
                    entry.insert(addr);
                }
            }
        }
        let mut leaders = BTreeMap::new();
        for topic in response.topics {
            let Some(name) = topic.name.map(|n| n.0.to_string()) else { continue };
            for partition in topic.partitions {
                let leader = addresses.get(&partition.leader_id.0).copied();
                leaders.insert((name.clone(), partition.partition_index), leader);
            }
        }
        Ok(leaders)
    }

    async fn call_unbounded<R: Request>(
        &self,
        addr: SocketAddr,
        request: &R,
        version: i16,
    ) -> Result<R::Response, KafkaError> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&addr).and_then(Vec::pop);
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
                let mut connection = Connection::connect(addr, "streamlab-server").await?;
                let response = connection.send(request, version).await?;
                (connection, response)
            }
        };
        self.put_back(addr, connection);
        Ok(response)
    }

    /// Sends a request that has no response (Produce with acks=0) to `addr` on a fresh
    /// connection, which is then pooled: the broker answers later requests on it in order, so
    /// nothing is misread.
    async fn send_without_response<R: Request>(
        &self,
        addr: SocketAddr,
        request: &R,
        version: i16,
    ) -> Result<(), KafkaError> {
        let write = async {
            let mut connection = Connection::connect(addr, "streamlab-server").await?;
            connection.write_request(request, version).await?;
            Ok::<_, ClientError>(connection)
        };
        let connection = tokio::time::timeout(REQUEST_TIMEOUT, write).await.map_err(|_| KafkaError::Timeout)??;
        self.put_back(addr, connection);
        Ok(())
    }

    fn put_back(&self, addr: SocketAddr, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let pool = idle.entry(addr).or_default();
        if pool.len() < POOLED_CONNECTIONS_MAX {
            pool.push(connection);
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
