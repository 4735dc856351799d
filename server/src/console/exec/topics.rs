//! `kafka-topics`: create, list, describe, alter (partitions) and delete, through CreateTopics,
//! Metadata, DescribeConfigs, CreatePartitions and DeleteTopics.

use super::{ToolOutput, ToolResult};
use crate::console::format::{self, PartitionDescription, TopicDescription};
use crate::console::parse::{TopicsAlter, TopicsCreate, TopicsDelete, TopicsDescribe, TopicsList};
use crate::kafka::{Kafka, Refusal};

/// `--create` (with `--if-not-exists`, an existing topic is not an error).
pub(super) async fn create(kafka: &Kafka, create: &TopicsCreate) -> ToolResult {
    if create.if_not_exists && kafka.topic(&create.topic).await?.is_some() {
        return Ok(ToolOutput::silent());
    }
    let created =
        kafka.create_topic(&create.topic, create.partitions, create.replication_factor, &create.configs).await?;
    Ok(match created {
        Ok(()) => ToolOutput::Success(format::topic_created(&create.topic)),
        Err(refusal) => refused(&refusal),
    })
}

/// `--list`, optionally narrowed by `--topic`.
pub(super) async fn list(kafka: &Kafka, list: &TopicsList) -> ToolResult {
    let mut names = kafka.list_topics().await?;
    if let Some(filter) = &list.topic {
        names.retain(|name| name == filter);
    }
    Ok(ToolOutput::Success(format::topics_list(&names)))
}

/// `--describe`: partitions, replicas and ISR, with the topic's overridden configs.
pub(super) async fn describe(kafka: &Kafka, describe: &TopicsDescribe) -> ToolResult {
    let names = match &describe.topic {
        Some(topic) => vec![topic.clone()],
        None => kafka.list_topics().await?,
    };
    let mut topics = Vec::new();
    for name in names {
        let Some(info) = kafka.describe_topic(&name).await? else {
            if describe.if_exists {
                continue;
            }
            return Ok(ToolOutput::Failure(format::topic_does_not_exist(&name)));
        };
        let entries = kafka.topic_config_entries(&name).await?.unwrap_or_default();
        let min_insync = entries
            .iter()
            .find(|entry| entry.name == "min.insync.replicas")
            .and_then(|entry| entry.value.parse().ok())
            .unwrap_or(1);
        topics.push(TopicDescription {
            name: name.clone(),
            topic_id: info.topic_id.clone(),
            partitions: info
                .partitions
                .iter()
                .map(|p| PartitionDescription {
                    partition: p.partition,
                    leader: (p.leader >= 0).then_some(p.leader),
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                    elr: p.elr.clone(),
                    last_known_elr: p.last_known_elr.clone(),
                })
                .collect(),
            // Topic overrides only, as `ConfigEntry.isDefault` false.
            configs: entries
                .into_iter()
                .filter(|entry| entry.is_topic_override())
                .map(|entry| (entry.name, entry.value))
                .collect(),
            min_insync_replicas: min_insync,
        });
    }
    // `--unavailable-partitions` lists partitions whose leader is none or not a live broker.
    let live_brokers = if describe.reports.unavailable { kafka.cluster_metadata().await?.brokers } else { Vec::new() };
    Ok(ToolOutput::Success(format::topics_describe(&topics, &describe.reports, &live_brokers)))
}

/// `--alter --partitions`.
pub(super) async fn alter(kafka: &Kafka, alter: &TopicsAlter) -> ToolResult {
    if alter.if_exists && kafka.topic(&alter.topic).await?.is_none() {
        return Ok(ToolOutput::silent());
    }
    Ok(match kafka.create_partitions(&alter.topic, alter.partitions).await? {
        Ok(()) => ToolOutput::silent(),
        Err(refusal) => refused(&refusal),
    })
}

/// `--delete` (with `--if-exists`, a missing topic is not an error).
pub(super) async fn delete(kafka: &Kafka, delete: &TopicsDelete) -> ToolResult {
    if kafka.topic(&delete.topic).await?.is_none() {
        return Ok(if delete.if_exists {
            ToolOutput::silent()
        } else {
            ToolOutput::Failure(format::topic_does_not_exist(&delete.topic))
        });
    }
    Ok(match kafka.delete_topic(&delete.topic).await? {
        Ok(()) => ToolOutput::silent(),
        Err(refusal) => refused(&refusal),
    })
}

/// The broker refused: `TopicCommand` prints the exception's message.
fn refused(refusal: &Refusal) -> ToolOutput {
    ToolOutput::Failure(format::topics_error(&refusal.message))
}
