//! The KRaft metadata quorum: DescribeQuorum, plus the cluster id from Metadata.

use broker::core::ErrorCode;
use kafka_protocol::messages::MetadataRequest;
use kafka_protocol::protocol::StrBytes;

use super::{Kafka, KafkaError, Refusal, kafka_uuid_text, refusal, topic_name};

/// A DescribeQuorum answer, as the admin client's `QuorumInfo` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumInfo {
    pub cluster_id: String,
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    pub voters: Vec<QuorumReplicaInfo>,
    pub observers: Vec<QuorumReplicaInfo>,
    /// The listeners of the voters (KIP-853); may be empty.
    pub nodes: Vec<QuorumNodeInfo>,
}

/// A voter's or observer's replication state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumReplicaInfo {
    pub replica_id: i32,
    /// The replica's directory id in base64; `None` is the zero id.
    pub directory_id: Option<String>,
    pub log_end_offset: i64,
    pub last_fetch_timestamp_ms: Option<i64>,
    pub last_caught_up_timestamp_ms: Option<i64>,
}

/// A quorum node's listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumNodeInfo {
    pub node_id: i32,
    /// `(listener, host, port)`, e.g. `("CONTROLLER", "localhost", 9093)`.
    pub endpoints: Vec<(String, String, u16)>,
}

/// The metadata log's topic, which DescribeQuorum asks about.
const CLUSTER_METADATA_TOPIC: &str = "__cluster_metadata";

impl Kafka {
    /// [`Kafka::describe_quorum`], retried as the admin client retries a retriable error
    /// (NOT_LEADER_OR_FOLLOWER: the quorum is electing a leader) until `timeout` — what
    /// `kafka-metadata-quorum` does right after the active controller stopped.
    pub async fn describe_quorum_waiting(
        &self,
        timeout: std::time::Duration,
    ) -> Result<Result<QuorumInfo, Refusal>, KafkaError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let answer = self.describe_quorum().await?;
            let electing = matches!(&answer, Err(r) if r.code == ErrorCode::NotLeaderOrFollower.code());
            if !electing || tokio::time::Instant::now() >= deadline {
                return Ok(answer);
            }
            // The admin client's retry.backoff.ms.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The KRaft metadata quorum as the admin client's `describeMetadataQuorum` and
    /// `describeCluster` give it to `kafka-metadata-quorum`: DescribeQuorum v2 for
    /// `__cluster_metadata-0`, and the cluster id from Metadata.
    pub async fn describe_quorum(&self) -> Result<Result<QuorumInfo, Refusal>, KafkaError> {
        use kafka_protocol::messages::DescribeQuorumRequest;
        use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
        let mut partition = PartitionData::default();
        partition.partition_index = 0;
        let mut topic = TopicData::default();
        topic.topic_name = topic_name(CLUSTER_METADATA_TOPIC);
        topic.partitions = vec![partition];
        let mut request = DescribeQuorumRequest::default();
        request.topics = vec![topic];
        let response = self.call(&request, 2).await?;
        let message = |text: Option<StrBytes>| text.map(|m| m.to_string());
        if let Err(refused) = refusal(response.error_code, message(response.error_message)) {
            return Ok(Err(refused));
        }
        let Some(answer) = response.topics.into_iter().next().and_then(|t| t.partitions.into_iter().next()) else {
            return Ok(Err(Refusal { code: ErrorCode::UnknownTopicOrPartition.code(), message: String::new() }));
        };
        if let Err(refused) = refusal(answer.error_code, message(answer.error_message.clone())) {
            return Ok(Err(refused));
        }
        let replica = |state: &kafka_protocol::messages::describe_quorum_response::ReplicaState| {
            // -1 is "unknown" on the wire; the admin client turns it into an empty OptionalLong.
            let known = |ms: i64| (ms >= 0).then_some(ms);
            QuorumReplicaInfo {
                replica_id: state.replica_id.0,
                directory_id: (!state.replica_directory_id.is_nil())
                    .then(|| kafka_uuid_text(&state.replica_directory_id)),
                log_end_offset: state.log_end_offset,
                last_fetch_timestamp_ms: known(state.last_fetch_timestamp),
                last_caught_up_timestamp_ms: known(state.last_caught_up_timestamp),
            }
        };
        let nodes = response
            .nodes
            .iter()
            .map(|node| QuorumNodeInfo {
                node_id: node.node_id.0,
                endpoints: node.listeners.iter().map(|l| (l.name.to_string(), l.host.to_string(), l.port)).collect(),
            })
            .collect();
        let mut metadata = MetadataRequest::default();
        metadata.topics = Some(Vec::new());
        metadata.allow_auto_topic_creation = false;
        let cluster_id = self.call(&metadata, 12).await?.cluster_id.map_or_else(String::new, |id| id.to_string());
        Ok(Ok(QuorumInfo {
            cluster_id,
            leader_id: answer.leader_id.0,
            leader_epoch: answer.leader_epoch,
            high_watermark: answer.high_watermark,
            voters: answer.current_voters.iter().map(replica).collect(),
            observers: answer.observers.iter().map(replica).collect(),
            nodes,
        }))
    }
}
