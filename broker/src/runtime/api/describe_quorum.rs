//! DescribeQuorum (key 55, KIP-595/KIP-836/KIP-853): the state of the KRaft metadata quorum, what
//! `kafka-metadata-quorum describe` prints.
//!
//! Kafka's brokers forward this request to the active controller, which answers from its quorum
//! state; here the broker asks the active controller of its process. Without one (no majority
//! of controllers running) the answer is NOT_LEADER_OR_FOLLOWER, as a voter that does not lead
//! gives. Only partition 0 of `__cluster_metadata` exists; any other gets
//! UNKNOWN_TOPIC_OR_PARTITION, as in Kafka's `KafkaRaftClient.handleDescribeQuorumRequest`.

use std::sync::Arc;

use kafka_protocol::messages::describe_quorum_response::{PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};

use super::str_bytes;
use crate::core::ErrorCode;
use crate::core::quorum::ReplicaState as CoreReplicaState;
use crate::runtime::cluster::Cluster;
use crate::runtime::metadata_log::METADATA_TOPIC;

pub(super) fn handle(cluster: &Arc<Cluster>, request: DescribeQuorumRequest, version: i16) -> DescribeQuorumResponse {
    let quorum = cluster.active_controller().and_then(|controller| controller.describe_quorum());
    let mut response = DescribeQuorumResponse::default();
    for topic in request.topics {
        let known_topic = topic.topic_name.0.as_str() == METADATA_TOPIC;
        let mut data = TopicData::default();
        data.topic_name = topic.topic_name;
        for partition in topic.partitions {
            let mut answer = PartitionData::default();
            answer.partition_index = partition.partition_index;
            let refusal = match &quorum {
                _ if !known_topic || partition.partition_index != 0 => Some((
                    ErrorCode::UnknownTopicOrPartition,
                    "This server only has the quorum's partition __cluster_metadata-0.",
                )),
                None => Some((
                    ErrorCode::NotLeaderOrFollower,
                    "The metadata quorum has no leader: is a majority of the controllers running?",
                )),
                Some(_) => None,
            };
            let Some(quorum) = quorum.as_ref().filter(|_| refusal.is_none()) else {
                let (error, message) = refusal.unwrap_or((ErrorCode::UnknownServerError, ""));
                answer.error_code = error.code();
                answer.leader_id = BrokerId(-1);
                answer.leader_epoch = -1;
                answer.high_watermark = -1;
                if version >= 2 {
                    answer.error_message = Some(str_bytes(message));
                }
                data.partitions.push(answer);
                continue;
            };
            answer.leader_id = BrokerId(quorum.leader_id);
            answer.leader_epoch = quorum.leader_epoch;
            answer.high_watermark = quorum.high_watermark;
            let replica = |state: &CoreReplicaState| {
                let mut replica = ReplicaState::default();
                replica.replica_id = BrokerId(state.replica_id);
                // KIP-858: every node's log directory id (all of them live in this process).
                if let Some(directory_id) = directory_id(cluster, state.replica_id) {
                    replica.replica_directory_id = uuid::Uuid::from_bytes(directory_id);
                }
                replica.log_end_offset = state.log_end_offset;
                let fetched = state.last_fetch_ms.and_then(|ms| i64::try_from(ms).ok()).unwrap_or(-1);
                replica.last_fetch_timestamp = fetched;
                // A replica is caught up when it fetched the leader's end: for the leader, now.
                replica.last_caught_up_timestamp =
                    if state.log_end_offset >= quorum.high_watermark { fetched } else { -1 };
                replica
            };
            answer.current_voters = quorum.voters.iter().map(replica).collect();
            answer.observers = quorum.observers.iter().map(replica).collect();
            data.partitions.push(answer);
        }
        response.topics.push(data);
    }
    // v2's `nodes` lists the voters' controller listeners; the controllers here have none of
    // their own (they talk to the brokers in-process), so the list is empty and the tool
    // prints no endpoints.
    response
}

fn directory_id(cluster: &Cluster, node: i32) -> Option<[u8; 16]> {
    match cluster.brokers.get(&node) {
        Some(broker) => Some(broker.directory_id),
        None => cluster.controllers.get(&node).map(|c| c.directory_id),
    }
}
