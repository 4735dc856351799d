//! Metadata (key 3): brokers, the controller, and each topic's partitions with leader and ISR.
//!
//! Asking for an unknown topic creates it when the client allows it (`allow_auto_topic_creation`,
//! always true before v4) and the broker does (`--auto-create-topics`), as Kafka's
//! `auto.create.topics.enable`; producers rely on it (librdkafka defaults to it).

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, ResponseKind};

use super::admin::{auto_create_topic, live_broker_ids};
use super::{Reply, authorized_operations, str_bytes, topic_name};
use crate::core::ErrorCode;
use crate::core::metadata::{MetadataImage, NO_LEADER, TopicImage};
use crate::core::topic::validate_topic_name;
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;
use crate::runtime::metadata_log::METADATA_TOPIC;

pub(super) fn handle(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: MetadataRequest,
    version: i16,
) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        // v0: an empty list means all topics; v1+: null means all, empty means none.
        let requested: Option<Vec<(Option<String>, [u8; 16])>> = match request.topics {
            None => None,
            Some(topics) if topics.is_empty() && version == 0 => None,
            Some(topics) => {
                Some(topics.into_iter().map(|t| (t.name.map(|n| n.0.to_string()), *t.topic_id.as_bytes())).collect())
            }
        };
        let allow_auto_create = (version < 4 || request.allow_auto_topic_creation) && cluster.config.auto_create_topics;
        let image = |read: &dyn Fn(&MetadataImage) -> MetadataResponseTopic| broker.with_node(|node| read(&node.image));
        let mut topics = Vec::new();
        match requested {
            None => topics.extend(
                broker
                    .with_node(|node| {
                        node.image.topics.values().map(|t| topic_metadata(&node.image, t)).collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            ),
            Some(requested) => {
                for (name, topic_id) in requested {
                    topics.push(match name {
                        Some(name) => named_topic(&cluster, &broker, &name, allow_auto_create).await,
                        None => image(&|image| {
                            image.topics.values().find(|t| t.topic_id == topic_id).map_or_else(
                                || topic_error(None, topic_id, ErrorCode::UnknownTopicOrPartition),
                                |t| topic_metadata(image, t),
                            )
                        })
                        .unwrap_or_else(|| topic_error(None, topic_id, ErrorCode::UnknownTopicOrPartition)),
                    });
                }
            }
        }
        let mut response = MetadataResponse::default();
        response.brokers = live_broker_ids(&broker)
            .into_iter()
            .filter_map(|id| cluster.brokers.get(&id))
            .map(|handle| {
                let (host, port) = handle.advertised();
                let mut entry = MetadataResponseBroker::default();
                entry.node_id = BrokerId(handle.id);
                entry.host = str_bytes(host);
                entry.port = i32::from(port);
                entry
            })
            .collect();
        response.cluster_id = Some(str_bytes(cluster.cluster_id.clone()));
        // KRaft clients cannot reach the controllers: Kafka names a broker here.
        response.controller_id = BrokerId(cluster.first_running_broker().map_or(-1, |b| b.id));
        // KIP-430: the flags exist from v8 (the cluster one until v10, where DescribeCluster took over).
        for topic in &mut topics {
            topic.topic_authorized_operations =
                authorized_operations::topic(request.include_topic_authorized_operations);
        }
        response.topics = topics;
        response.cluster_authorized_operations =
            authorized_operations::cluster(request.include_cluster_authorized_operations);
        Some(ResponseKind::Metadata(response))
    })
}

async fn named_topic(
    cluster: &Cluster,
    broker: &BrokerHandle,
    name: &str,
    allow_auto_create: bool,
) -> MetadataResponseTopic {
    let found = |broker: &BrokerHandle| {
        broker.with_node(|node| node.image.topics.get(name).map(|t| topic_metadata(&node.image, t))).flatten()
    };
    if let Some(topic) = found(broker) {
        return topic;
    }
    if validate_topic_name(name).is_err() {
        return topic_error(Some(name), [0; 16], ErrorCode::InvalidTopicException);
    }
    // The metadata log is not a topic clients can read (Kafka hides it the same way).
    if !allow_auto_create || name == METADATA_TOPIC {
        return topic_error(Some(name), [0; 16], ErrorCode::UnknownTopicOrPartition);
    }
    match auto_create_topic(cluster, broker, name).await {
        // Created meanwhile by another request: also fine.
        ErrorCode::None | ErrorCode::TopicAlreadyExists => {
            found(broker).unwrap_or_else(|| topic_error(Some(name), [0; 16], ErrorCode::LeaderNotAvailable))
        }
        // Past the partition replica budget: retrying will not help, so say so (Kafka answers
        // a creation its policy refuses with POLICY_VIOLATION too).
        ErrorCode::PolicyViolation => {
            tracing::warn!(
                topic = name,
                max_partition_replicas = cluster.config.max_partition_replicas,
                "auto-create refused: the cluster is at its partition replica limit (--max-partition-replicas)"
            );
            topic_error(Some(name), [0; 16], ErrorCode::PolicyViolation)
        }
        error => {
            tracing::warn!(topic = name, error = error.name(), "auto-create failed");
            // What Kafka answers while it cannot create the topic: the client retries.
            topic_error(Some(name), [0; 16], ErrorCode::LeaderNotAvailable)
        }
    }
}

fn topic_error(name: Option<&str>, topic_id: [u8; 16], error: ErrorCode) -> MetadataResponseTopic {
    let mut topic = MetadataResponseTopic::default();
    topic.error_code = error.code();
    topic.name = name.map(topic_name);
    topic.topic_id = uuid::Uuid::from_bytes(topic_id);
    topic.topic_authorized_operations = authorized_operations::NOT_REQUESTED;
    topic
}

/// A topic's partitions as the metadata has them: leader (LEADER_NOT_AVAILABLE without one),
/// leader epoch, replicas, ISR, and the replicas on brokers that are not live (offline).
pub(super) fn topic_metadata(image: &MetadataImage, state: &TopicImage) -> MetadataResponseTopic {
    let mut topic = topic_error(Some(&state.name), state.topic_id, ErrorCode::None);
    topic.partitions = state
        .partitions
        .iter()
        .enumerate()
        .map(|(index, registration)| {
            let mut metadata = MetadataResponsePartition::default();
            metadata.partition_index = i32::try_from(index).unwrap_or(i32::MAX);
            if registration.leader == NO_LEADER {
                metadata.error_code = ErrorCode::LeaderNotAvailable.code();
            }
            metadata.leader_id = BrokerId(registration.leader);
            metadata.leader_epoch = registration.leader_epoch;
            metadata.replica_nodes = registration.replicas.iter().copied().map(BrokerId).collect();
            metadata.isr_nodes = registration.isr.iter().copied().map(BrokerId).collect();
            metadata.offline_replicas =
                registration.replicas.iter().copied().filter(|id| !image.is_active(*id)).map(BrokerId).collect();
            metadata
        })
        .collect();
    topic
}
