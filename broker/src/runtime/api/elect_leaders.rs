//! ElectLeaders (43, KIP-460): `kafka-leader-election.sh --election-type preferred|unclean`.
//!
//! The broker forwards each partition's election to the active controller (KIP-590), which
//! decides it as Kafka's `ReplicationControlManager.electLeader` does (see
//! [`crate::core::controller::Controller::elect_leader`]); the partitions are elected
//! concurrently and answered together once every broker's metadata shows the new leaders.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::join_all;
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, ResponseKind};

use super::admin::{forward, wait_for_metadata};
use super::{Reply, str_bytes, topic_name};
use crate::core::ErrorCode;
use crate::core::controller::ElectionType;
use crate::core::metadata::NO_LEADER;
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;
use crate::runtime::storage::NodeMessage;

pub(super) fn handle(cluster: &Arc<Cluster>, broker: &Arc<BrokerHandle>, request: ElectLeadersRequest) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        let mut response = ElectLeadersResponse::default();
        let Some(election) = ElectionType::from_wire(request.election_type) else {
            // Kafka: InvalidRequestException("Unknown election type N"), for the whole request.
            response.error_code = ErrorCode::InvalidRequest.code();
            return Some(ResponseKind::ElectLeaders(response));
        };
        // `null`: every partition of every topic; Kafka then leaves out those that need no election.
        let every_partition = request.topic_partitions.is_none();
        let wanted: Vec<(String, Vec<i32>)> = match request.topic_partitions {
            Some(topics) => topics.into_iter().map(|t| (t.topic.0.to_string(), t.partitions)).collect(),
            None => broker
                .with_node(|node| {
                    node.image
                        .topics
                        .values()
                        .map(|t| (t.name.clone(), (0..i32::try_from(t.partitions.len()).unwrap_or(0)).collect()))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let partitions: Vec<(&str, i32)> =
            wanted.iter().flat_map(|(topic, partitions)| partitions.iter().map(|&p| (topic.as_str(), p))).collect();
        let (cluster, broker) = (&cluster, &broker);
        let elections = partitions.iter().map(|&(topic, partition)| async move {
            (topic, partition, elect(cluster, broker, topic, partition, election).await)
        });
        let outcomes = join_all(elections).await;

        let elected: Vec<(&str, i32)> =
            outcomes.iter().filter(|(_, _, e)| *e == ErrorCode::None).map(|(t, p, _)| (*t, *p)).collect();
        wait_for_metadata(cluster, |image| {
            elected.iter().all(|&(topic, partition)| {
                image.partition(topic, partition).is_none_or(|p| match election {
                    ElectionType::Preferred => p.replicas.first() == Some(&p.leader),
                    ElectionType::Unclean => p.leader != NO_LEADER,
                })
            })
        })
        .await;

        let mut by_topic: BTreeMap<&str, Vec<PartitionResult>> = BTreeMap::new();
        for (topic, _) in &wanted {
            by_topic.entry(topic).or_default();
        }
        for (topic, partition, error) in outcomes {
            if every_partition && error == ErrorCode::ElectionNotNeeded {
                continue;
            }
            let mut result = PartitionResult::default();
            result.partition_id = partition;
            result.error_code = error.code();
            result.error_message = message(error, topic, partition).map(str_bytes);
            by_topic.entry(topic).or_default().push(result);
        }
        response.replica_election_results = by_topic
            .into_iter()
            .map(|(topic, partition_result)| {
                let mut result = ReplicaElectionResult::default();
                result.topic = topic_name(topic);
                result.partition_result = partition_result;
                result
            })
            .collect();
        Some(ResponseKind::ElectLeaders(response))
    })
}

/// One partition's election, forwarded to the active controller.
async fn elect(
    cluster: &Cluster,
    broker: &BrokerHandle,
    topic: &str,
    partition: i32,
    election: ElectionType,
) -> ErrorCode {
    forward(cluster, broker, |request_id| NodeMessage::ElectLeader {
        request_id,
        topic: topic.to_owned(),
        partition,
        election,
    })
    .await
}

/// Kafka's message where it sends one; `None` lets the client use the error's own text
/// ("Leader election not needed for topic partition.", ...), as Kafka's controller does.
fn message(error: ErrorCode, topic: &str, partition: i32) -> Option<String> {
    match error {
        ErrorCode::UnknownTopicOrPartition => Some(format!("No such partition as {topic}-{partition}")),
        ErrorCode::RequestTimedOut | ErrorCode::NotController => {
            Some("The controller did not answer in time: is a majority of the controllers running?".into())
        }
        _ => None,
    }
}
