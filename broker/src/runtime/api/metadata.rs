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

use super::admin::new_topic;
use super::{Reply, str_bytes, topic_name};
use crate::core::ErrorCode;
use crate::core::topic::validate_topic_name;
use crate::runtime::cluster::{Cluster, TopicState};
use crate::runtime::metadata_log::METADATA_TOPIC;

/// `topic_authorized_operations` when not asked for (Kafka's `Int.MinValue`).
const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

pub(super) fn handle(cluster: &Arc<Cluster>, request: MetadataRequest, version: i16) -> Reply {
    let cluster = cluster.clone();
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
        let mut topics = Vec::new();
        match requested {
            None => topics.extend(cluster.topics().iter().map(|t| topic_metadata(t))),
            Some(requested) => {
                for (name, topic_id) in requested {
                    topics.push(match name {
                        Some(name) => named_topic(&cluster, &name, allow_auto_create).await,
                        None => cluster.topics().iter().find(|t| t.topic.topic_id == topic_id).map_or_else(
                            || topic_error(None, topic_id, ErrorCode::UnknownTopicOrPartition),
                            |t| topic_metadata(t),
                        ),
                    });
                }
            }
        }
        let mut broker = MetadataResponseBroker::default();
        broker.node_id = BrokerId(cluster.config.node_id);
        broker.host = str_bytes(cluster.config.advertised_host.clone());
        broker.port = i32::from(cluster.config.advertised_port);
        let mut response = MetadataResponse::default();
        response.brokers = vec![broker];
        response.cluster_id = Some(str_bytes(cluster.cluster_id.clone()));
        response.controller_id = BrokerId(cluster.config.node_id);
        response.topics = topics;
        response.cluster_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
        Some(ResponseKind::Metadata(response))
    })
}

async fn named_topic(cluster: &Arc<Cluster>, name: &str, allow_auto_create: bool) -> MetadataResponseTopic {
    if let Some(topic) = cluster.topic(name) {
        return topic_metadata(&topic);
    }
    if validate_topic_name(name).is_err() {
        return topic_error(Some(name), [0; 16], ErrorCode::InvalidTopicException);
    }
    // The metadata log is not a topic clients can read (Kafka hides it the same way).
    if !allow_auto_create || name == METADATA_TOPIC {
        return topic_error(Some(name), [0; 16], ErrorCode::UnknownTopicOrPartition);
    }
    let topic = new_topic(name, cluster.config.default_partitions, 1, Default::default());
    match cluster.create_topic(topic).await {
        Ok(Some(created)) => {
            tracing::info!(topic = name, partitions = created.partitions.len(), "auto-created topic");
            topic_metadata(&created)
        }
        // Created meanwhile by another request.
        Ok(None) => cluster
            .topic(name)
            .map_or_else(|| topic_error(Some(name), [0; 16], ErrorCode::LeaderNotAvailable), |t| topic_metadata(&t)),
        Err(error) => {
            tracing::error!(%error, topic = name, "auto-create failed");
            topic_error(Some(name), [0; 16], ErrorCode::UnknownServerError)
        }
    }
}

fn topic_error(name: Option<&str>, topic_id: [u8; 16], error: ErrorCode) -> MetadataResponseTopic {
    let mut topic = MetadataResponseTopic::default();
    topic.error_code = error.code();
    topic.name = name.map(topic_name);
    topic.topic_id = uuid::Uuid::from_bytes(topic_id);
    topic.topic_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
    topic
}

pub(super) fn topic_metadata(state: &TopicState) -> MetadataResponseTopic {
    let mut topic = topic_error(Some(&state.topic.name), state.topic.topic_id, ErrorCode::None);
    topic.partitions = state
        .partitions
        .iter()
        .map(|partition| {
            let inner = partition.lock();
            let replica = &inner.replica;
            let mut metadata = MetadataResponsePartition::default();
            metadata.partition_index = partition.index;
            metadata.leader_id = BrokerId(replica.leader_id);
            metadata.leader_epoch = replica.leader_epoch;
            metadata.replica_nodes = replica.replicas.iter().copied().map(BrokerId).collect();
            metadata.isr_nodes = replica.isr.iter().copied().map(BrokerId).collect();
            metadata
        })
        .collect();
    topic
}
