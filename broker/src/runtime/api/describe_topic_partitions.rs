//! DescribeTopicPartitions (75, KIP-966): each partition's leader, replicas and ISR, as Metadata
//! gives them, plus the eligible leader replicas and the last known leader, which Metadata does
//! not carry. What `kafka-topics.sh --describe` and the Java admin's `describeTopics` use from
//! Kafka 3.7 on, and how a learner sees the Elr and LastKnownElr columns.
//!
//! Answered from this broker's metadata image, as Kafka's
//! `DescribeTopicPartitionsRequestHandler` does: the requested topics (every topic for an
//! empty list) in name order from the cursor on, at most `response_partition_limit` partitions
//! (capped at Kafka's `max.request.partition.size.limit`, 2000), with `next_cursor` where the
//! next page starts.

use std::sync::Arc;

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};

use super::{authorized_operations, topic_name};
use crate::core::ErrorCode;
use crate::core::metadata::{MetadataImage, NO_LEADER};
use crate::core::topic::validate_topic_name;
use crate::runtime::broker::BrokerHandle;

/// Kafka's `max.request.partition.size.limit` default: the most partitions one answer carries.
const MAX_REQUEST_PARTITION_SIZE_LIMIT: usize = 2000;

pub(super) fn handle(
    broker: &Arc<BrokerHandle>,
    request: DescribeTopicPartitionsRequest,
) -> DescribeTopicPartitionsResponse {
    let requested: Vec<String> = request.topics.iter().map(|t| t.name.0.to_string()).collect();
    let cursor = request.cursor.as_ref().map(|c| (c.topic_name.0.to_string(), c.partition_index));
    let invalid = |message: &str| {
        tracing::debug!(message, "refused DescribeTopicPartitions");
        let mut response = DescribeTopicPartitionsResponse::default();
        response.topics = requested.iter().map(|name| topic_error(name, ErrorCode::InvalidRequest)).collect();
        response
    };
    if let Some((topic, partition)) = &cursor {
        if !requested.is_empty() && !requested.contains(topic) {
            return invalid("the topic list must contain the cursor topic");
        }
        if *partition < 0 {
            return invalid("the cursor partition must be valid");
        }
    }
    let limit =
        usize::try_from(request.response_partition_limit).unwrap_or(0).clamp(1, MAX_REQUEST_PARTITION_SIZE_LIMIT);
    broker.with_node(|node| describe(&node.image, requested.clone(), cursor.clone(), limit)).unwrap_or_else(|| {
        let mut response = DescribeTopicPartitionsResponse::default();
        response.topics = requested.iter().map(|name| topic_error(name, ErrorCode::NotLeaderOrFollower)).collect();
        response
    })
}

fn describe(
    image: &MetadataImage,
    requested: Vec<String>,
    cursor: Option<(String, i32)>,
    limit: usize,
) -> DescribeTopicPartitionsResponse {
    let every_topic = requested.is_empty();
    let mut names = if every_topic { image.topics.keys().cloned().collect() } else { requested };
    let (cursor_topic, cursor_partition) = cursor.unwrap_or_default();
    names.retain(|name| *name >= cursor_topic);
    names.sort();
    names.dedup();
    let mut response = DescribeTopicPartitionsResponse::default();
    let mut remaining = limit;
    for name in names {
        if remaining == 0 {
            // The previous topic was complete: the next page starts at this one.
            response.next_cursor = Some(cursor_at(&name, 0));
            break;
        }
        let Some(topic) = image.topics.get(&name) else {
            if !every_topic {
                let error = if validate_topic_name(&name).is_ok() {
                    ErrorCode::UnknownTopicOrPartition
                } else {
                    ErrorCode::InvalidTopicException
                };
                response.topics.push(topic_error(&name, error));
            }
            continue;
        };
        let first = if name == cursor_topic { usize::try_from(cursor_partition).unwrap_or(0) } else { 0 };
        let mut entry = topic_error(&name, ErrorCode::None);
        entry.topic_id = uuid::Uuid::from_bytes(topic.topic_id);
        for (index, registration) in topic.partitions.iter().enumerate().skip(first) {
            if remaining == 0 {
                response.next_cursor = Some(cursor_at(&name, i32::try_from(index).unwrap_or(i32::MAX)));
                break;
            }
            remaining -= 1;
            let ids = |ids: &[i32]| ids.iter().copied().map(BrokerId).collect::<Vec<_>>();
            let mut partition = DescribeTopicPartitionsResponsePartition::default();
            partition.partition_index = i32::try_from(index).unwrap_or(i32::MAX);
            if registration.leader == NO_LEADER {
                partition.error_code = ErrorCode::LeaderNotAvailable.code();
            }
            partition.leader_id = BrokerId(registration.leader);
            partition.leader_epoch = registration.leader_epoch;
            partition.replica_nodes = ids(&registration.replicas);
            partition.isr_nodes = ids(&registration.isr);
            partition.eligible_leader_replicas = Some(ids(&registration.elr));
            partition.last_known_elr = Some(ids(&registration.last_known_elr));
            partition.offline_replicas =
                registration.replicas.iter().copied().filter(|id| !image.is_active(*id)).map(BrokerId).collect();
            entry.partitions.push(partition);
        }
        response.topics.push(entry);
        if response.next_cursor.is_some() {
            break;
        }
    }
    response
}

fn topic_error(name: &str, error: ErrorCode) -> DescribeTopicPartitionsResponseTopic {
    let mut topic = DescribeTopicPartitionsResponseTopic::default();
    topic.error_code = error.code();
    topic.name = Some(topic_name(name));
    topic.topic_authorized_operations = authorized_operations::topic(true);
    topic
}

fn cursor_at(topic: &str, partition_index: i32) -> Cursor {
    let mut cursor = Cursor::default();
    cursor.topic_name = topic_name(topic);
    cursor.partition_index = partition_index;
    cursor
}
