//! Test helpers: an in-process broker on a temporary directory; the client is `broker::testkit`.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

pub use broker::testkit::*;
use broker::{Broker, BrokerConfig};
use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

pub struct TestBroker {
    pub broker: Option<Broker>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    /// Applied to the configuration at every start, restarts included.
    configure: fn(&mut BrokerConfig),
}

impl TestBroker {
    pub async fn start() -> TestBroker {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: fn(&mut BrokerConfig)) -> TestBroker {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = start_in_with(dir.path(), configure).await;
        TestBroker { addr: broker.local_addr(), broker: Some(broker), dir, configure }
    }

    /// Stops the broker (flushing) and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        if let Some(broker) = self.broker.take() {
            broker.shutdown().await;
        }
        let broker = start_in_with(self.dir.path(), self.configure).await;
        self.addr = broker.local_addr();
        self.broker = Some(broker);
    }

    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }
}

pub async fn start_in(dir: &std::path::Path) -> Broker {
    start_in_with(dir, |_| {}).await
}

pub async fn start_in_with(dir: &std::path::Path, configure: fn(&mut BrokerConfig)) -> Broker {
    let mut config = BrokerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.to_owned());
    config.flush_interval_ms = 2;
    configure(&mut config);
    Broker::start(config).await.expect("broker starts")
}

pub fn name(text: &str) -> TopicName {
    TopicName(StrBytes::from_string(text.to_owned()))
}

pub fn create_request(
    topic: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(&str, &str)],
) -> CreateTopicsRequest {
    let mut creatable = CreatableTopic::default();
    creatable.name = name(topic);
    creatable.num_partitions = partitions;
    creatable.replication_factor = replication_factor;
    creatable.configs = configs
        .iter()
        .map(|(k, v)| {
            let mut config = CreatableTopicConfig::default();
            config.name = StrBytes::from_string((*k).to_owned());
            config.value = Some(StrBytes::from_string((*v).to_owned()));
            config
        })
        .collect();
    let mut request = CreateTopicsRequest::default();
    request.topics = vec![creatable];
    request.timeout_ms = 5_000;
    request
}

/// Metadata for every topic: `topics` null (v1+), as clients send it.
/// ApiVersions as a client sends it from v3 on: with its software's name and version (KIP-511).
pub fn api_versions_request() -> ApiVersionsRequest {
    let mut request = ApiVersionsRequest::default();
    request.client_software_name = StrBytes::from_static_str("streamlab-tests");
    request.client_software_version = StrBytes::from_static_str("1.0");
    request
}

pub fn all_topics() -> MetadataRequest {
    let mut request = MetadataRequest::default();
    request.topics = None;
    request
}

pub fn produce_request(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    let mut data = PartitionProduceData::default();
    data.index = partition;
    data.records = Some(records);
    let mut topic_data = TopicProduceData::default();
    topic_data.name = name(topic);
    topic_data.partition_data = vec![data];
    let mut request = ProduceRequest::default();
    request.acks = acks;
    request.timeout_ms = 5_000;
    request.topic_data = vec![topic_data];
    request
}

pub fn fetch_request(topic: &str, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest {
    let mut fetch_partition = FetchPartition::default();
    fetch_partition.partition = partition;
    fetch_partition.fetch_offset = offset;
    fetch_partition.partition_max_bytes = 1 << 20;
    fetch_partition.current_leader_epoch = -1;
    let mut fetch_topic = FetchTopic::default();
    fetch_topic.topic = name(topic);
    fetch_topic.partitions = vec![fetch_partition];
    let mut request = FetchRequest::default();
    request.replica_id = BrokerId(-1);
    request.max_wait_ms = max_wait_ms;
    request.min_bytes = 1;
    request.max_bytes = 50 << 20;
    request.topics = vec![fetch_topic];
    request
}

pub fn list_offsets_request(topic: &str, partition: i32, timestamp: i64) -> ListOffsetsRequest {
    let mut requested = ListOffsetsPartition::default();
    requested.partition_index = partition;
    requested.timestamp = timestamp;
    requested.current_leader_epoch = -1;
    let mut list_topic = ListOffsetsTopic::default();
    list_topic.name = name(topic);
    list_topic.partitions = vec![requested];
    let mut request = ListOffsetsRequest::default();
    request.replica_id = BrokerId(-1);
    request.topics = vec![list_topic];
    request
}
