//! What travels between nodes: the requests and responses of the Kafka protocol that
//! replication and the controller use, as Rust values (the wire codec stays out of the core).
//! The simulator carries them over its seeded network; the runtime over in-process channels.

use super::ErrorCode;
use super::broker::storage::Payload;
use super::controller::ElectionType;
use super::metadata::MetadataRecord;
use super::quorum::QuorumMessage;
use super::replica::BrokerId;

/// A topic and partition, printed the Kafka way (`orders-0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// `P`: how the driver represents produced and fetched records.
pub enum Message<P: Payload> {
    /// KIP-595 RPCs of the metadata quorum (Vote, BeginQuorumEpoch, Fetch, ...).
    Quorum(QuorumMessage<MetadataRecord>),
    BrokerRegistration {
        broker_id: BrokerId,
        incarnation_id: u64,
        /// The broker epoch this broker shut down cleanly with, or -1 after a crash (KIP-966's
        /// `PreviousBrokerEpoch`, read from its clean-shutdown file).
        previous_broker_epoch: i64,
    },
    BrokerRegistrationResponse {
        error: ErrorCode,
        broker_epoch: i64,
    },
    BrokerHeartbeat {
        broker_id: BrokerId,
        broker_epoch: i64,
        current_metadata_offset: i64,
        /// The broker is about to stop (controlled shutdown).
        want_shutdown: bool,
    },
    BrokerHeartbeatResponse {
        error: ErrorCode,
        is_fenced: bool,
    },
    AlterPartition {
        broker_id: BrokerId,
        broker_epoch: i64,
        tp: TopicPartition,
        leader_epoch: i32,
        partition_epoch: i32,
        new_isr: Vec<BrokerId>,
    },
    AlterPartitionResponse {
        tp: TopicPartition,
        error: ErrorCode,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
    },
    /// CreateTopics, sent to the active controller (brokers forward it there in Kafka, KIP-590).
    CreateTopic {
        request_id: u64,
        name: String,
        partitions: i32,
        replication_factor: i32,
        configs: Vec<(String, String)>,
        /// Explicit replica assignments, partition `i` at index `i`; empty: the controller
        /// places the replicas (then `partitions` and `replication_factor` count).
        assignments: Vec<Vec<BrokerId>>,
    },
    CreateTopicResponse {
        request_id: u64,
        error: ErrorCode,
    },
    /// IncrementalAlterConfigs on a topic, sent to the active controller: each config set to
    /// a value, or removed (back to its default) with `None`. All or nothing.
    AlterConfig {
        request_id: u64,
        topic: String,
        configs: Vec<(String, Option<String>)>,
    },
    AlterConfigResponse {
        request_id: u64,
        error: ErrorCode,
    },
    /// IncrementalAlterConfigs on a BROKER resource, sent to the active controller: dynamic
    /// configs of `broker`, or the cluster-wide defaults (`None`), each set or removed. All or
    /// nothing; answered with an [`Message::AlterConfigResponse`].
    AlterBrokerConfig {
        request_id: u64,
        broker: Option<BrokerId>,
        configs: Vec<(String, Option<String>)>,
    },
    /// CreatePartitions: grow a topic to `count` partitions.
    CreatePartitions {
        request_id: u64,
        topic: String,
        count: i32,
        /// Explicit replica assignments of the new partitions, in order; empty: the controller
        /// places them.
        assignments: Vec<Vec<BrokerId>>,
    },
    CreatePartitionsResponse {
        request_id: u64,
        error: ErrorCode,
    },
    /// ElectLeaders (KIP-460), one partition: move leadership to the preferred replica, or
    /// elect a leader for a partition without one even if that loses records.
    ElectLeader {
        request_id: u64,
        topic: String,
        partition: i32,
        election: ElectionType,
    },
    ElectLeaderResponse {
        request_id: u64,
        error: ErrorCode,
    },
    /// DeleteTopics, one topic.
    DeleteTopic {
        request_id: u64,
        name: String,
    },
    DeleteTopicResponse {
        request_id: u64,
        error: ErrorCode,
    },
    /// A follower's Fetch (Fetch v12+: with the last fetched epoch, KIP-320). The correlation id
    /// (the request header's) pairs the answer with the request, so a duplicated or late answer
    /// cannot start a second fetch loop.
    Fetch {
        correlation_id: u64,
        tp: TopicPartition,
        replica_id: BrokerId,
        fetch_offset: i64,
        last_fetched_epoch: i32,
        current_leader_epoch: i32,
    },
    FetchResponse {
        correlation_id: u64,
        tp: TopicPartition,
        error: ErrorCode,
        high_watermark: i64,
        records: P::Fetched,
        diverging_epoch: Option<(i32, i64)>,
        current_leader_epoch: i32,
    },
    Produce {
        request_id: u64,
        tp: TopicPartition,
        acks: i16,
        records: P::Produce,
    },
    ProduceResponse {
        request_id: u64,
        tp: TopicPartition,
        error: ErrorCode,
        base_offset: i64,
        /// -1 unless the topic stamps LogAppendTime.
        log_append_time_ms: i64,
    },
}

impl<P: Payload> Message<P> {
    /// The Kafka API name, for the view of messages in flight.
    pub fn api_name(&self) -> &'static str {
        match self {
            Message::Quorum(message) => message.name(),
            Message::BrokerRegistration { .. } | Message::BrokerRegistrationResponse { .. } => "BrokerRegistration",
            Message::BrokerHeartbeat { .. } | Message::BrokerHeartbeatResponse { .. } => "BrokerHeartbeat",
            Message::AlterPartition { .. } | Message::AlterPartitionResponse { .. } => "AlterPartition",
            Message::AlterConfig { .. } | Message::AlterBrokerConfig { .. } | Message::AlterConfigResponse { .. } => {
                "IncrementalAlterConfigs"
            }
            Message::CreateTopic { .. } | Message::CreateTopicResponse { .. } => "CreateTopics",
            Message::CreatePartitions { .. } | Message::CreatePartitionsResponse { .. } => "CreatePartitions",
            Message::ElectLeader { .. } | Message::ElectLeaderResponse { .. } => "ElectLeaders",
            Message::DeleteTopic { .. } | Message::DeleteTopicResponse { .. } => "DeleteTopics",
            Message::Fetch { .. } | Message::FetchResponse { .. } => "Fetch",
            Message::Produce { .. } | Message::ProduceResponse { .. } => "Produce",
        }
    }
}
