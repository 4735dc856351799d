//! Produce (key 0): each partition's record batch goes to the core's broker, which decides by
//! acks and the ISR, appends, and answers (the same code the simulator runs).
//!
//! Before that, [`validate`] makes the checks of Kafka's `LogValidator` (and the classes around
//! it) on every batch: lengths, magic, CRC, counts and offset deltas, codecs, the control and
//! transactional bits, every record's structure, keys on compacted topics, LogAppendTime from a
//! producer ([`crate::record::validate`]). A refused batch is refused whole with Kafka's error
//! code and message, and per-record `record_errors` where Kafka gives them (KIP-467). Compressed
//! records are decompressed as a bounded stream ([`crate::record::codec`]) on tokio's blocking
//! pool, a few at a time, before the request touches any partition: a decompression bomb costs
//! a bounded amount of memory and CPU and stalls no other request.
//!
//! Batches are stored exactly as the producer sent them: only the base offset and the partition
//! leader epoch are rewritten, in place, and the CRC (which does not cover them) stays valid.
//!
//! Durability (the stated policy): acks=0 gets no response; acks=1 is answered once the batch is
//! in the leader's log file (the page cache: it survives the process being killed, not a power
//! cut); acks=all (-1) is answered once every in-sync replica has it (the high watermark passed
//! it) and group commit has fsynced it on the leader, at most `flush_interval_ms` later. With
//! fewer in-sync replicas than `min.insync.replicas` an acks=all write is refused with
//! NOT_ENOUGH_REPLICAS, as Kafka does.

use std::sync::Arc;

use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};
use tokio::sync::Semaphore;

use super::{Reply, str_bytes};
use crate::core::ErrorCode;
use crate::core::config::TopicConfigs;
use crate::core::message::TopicPartition;
use crate::record::batch::{BATCH_HEADER_LEN, Compression};
use crate::record::validate::{Refusal, TopicRules, validate_produce_batch};
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;

/// The most bytes the records of one compressed batch may inflate to, whatever the topic's
/// `max.message.bytes` says: what one validation may hold is one record of at most this size.
const UNCOMPRESSED_BATCH_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Below this many bytes of uncompressed batches a request is validated at once, on the
/// connection's task: walking them takes microseconds, less than a trip to the blocking pool.
const INLINE_VALIDATION_BYTES_MAX: usize = 64 * 1024;

/// Validations running on the blocking pool at once, across all connections: each holds a
/// codec's working memory (up to a 16 MiB zstd window) and a core, so a flood of bombs queues
/// here instead of taking every core and gigabytes.
static VALIDATION_SLOTS: Semaphore = Semaphore::const_new(2);

/// A Produce request whose batches went through Kafka's produce-time checks.
#[derive(Debug)]
pub(crate) struct ValidatedProduce {
    request: ProduceRequest,
    /// Per topic, per partition, in request order: why the batch is refused, if it is.
    refusals: Vec<Vec<Option<Refusal>>>,
}

/// Validates every batch of `request` as Kafka's broker does before appending
/// (`ProduceRequest.validateRecords`, `UnifiedLog.analyzeAndValidateRecords`, `LogValidator`).
/// Compressed or large batches are walked on tokio's blocking pool, outside any lock; the
/// connection awaits the result before it dispatches this or any later request, so requests
/// still change state in the order they arrived.
pub(super) async fn validate(broker: &Arc<BrokerHandle>, request: ProduceRequest, version: i16) -> ValidatedProduce {
    let rules = partition_rules(broker, &request);
    let mut uncompressed_bytes: usize = 0;
    let mut compressed = false;
    for records in request.topic_data.iter().flat_map(|t| &t.partition_data).filter_map(|p| p.records.as_ref()) {
        uncompressed_bytes = uncompressed_bytes.saturating_add(records.len());
        // attributes is bytes 21-22 of the header; the codec is the low 3 bits.
        compressed |= records
            .get(22)
            .is_some_and(|low| !matches!(Compression::from_attributes(i16::from(*low)), Compression::None));
    }
    if !compressed && uncompressed_bytes <= INLINE_VALIDATION_BYTES_MAX {
        return validate_now(request, version, &rules);
    }
    // Closed only if the static were dropped, which it never is.
    let _slot = VALIDATION_SLOTS.acquire().await;
    let fallback = request.clone();
    match tokio::task::spawn_blocking(move || validate_now(request, version, &rules)).await {
        Ok(validated) => validated,
        Err(error) => {
            // A bug in the validation, not the client's fault: refuse, append nothing.
            tracing::error!(%error, "record batch validation failed");
            let refusals = fallback
                .topic_data
                .iter()
                .map(|topic| {
                    let refusal = Refusal {
                        error: ErrorCode::UnknownServerError,
                        message: String::new(),
                        record_errors: Vec::new(),
                    };
                    vec![Some(refusal); topic.partition_data.len()]
                })
                .collect();
            ValidatedProduce { request: fallback, refusals }
        }
    }
}

/// Validates on the calling thread: for small requests, and where no runtime is at hand.
pub(super) fn validate_now(
    request: ProduceRequest,
    version: i16,
    rules: &[Vec<Option<TopicRules>>],
) -> ValidatedProduce {
    let refusals = request
        .topic_data
        .iter()
        .zip(rules)
        .map(|(topic, rules)| {
            topic
                .partition_data
                .iter()
                .zip(rules)
                .map(|(partition, rules)| {
                    // No rules: this broker does not lead the partition; the append path answers.
                    let rules = rules.as_ref()?;
                    let tp = format!("{}-{}", topic.name.0, partition.index);
                    let records = partition.records.as_deref().unwrap_or_default();
                    validate_produce_batch(records, version, &tp, rules).err()
                })
                .collect()
        })
        .collect();
    ValidatedProduce { request, refusals }
}

/// Each partition's rules from its topic's configs, `None` where this broker is not the leader
/// (Kafka answers NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION before validating).
pub(super) fn partition_rules(broker: &BrokerHandle, request: &ProduceRequest) -> Vec<Vec<Option<TopicRules>>> {
    broker
        .with_node(|node| {
            request
                .topic_data
                .iter()
                .map(|topic| {
                    let name = topic.name.0.to_string();
                    // With the broker-level defaults (message.max.bytes, log.cleanup.policy, ...).
                    let rules = node.image.effective_topic_configs(&name, Some(node.id)).map(|c| topic_rules(&c));
                    topic
                        .partition_data
                        .iter()
                        .map(|partition| {
                            let tp = TopicPartition { topic: name.clone(), partition: partition.index };
                            rules.clone().filter(|_| node.leader(&tp).is_ok())
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_else(|| request.topic_data.iter().map(|t| vec![None; t.partition_data.len()]).collect())
}

fn topic_rules(configs: &TopicConfigs) -> TopicRules {
    let max_message_bytes = usize::try_from(configs.get_i64("max.message.bytes")).unwrap_or(1_048_588);
    TopicRules {
        max_message_bytes,
        // The records alone, without the batch header the limit also counts.
        uncompressed_bytes_max: max_message_bytes.saturating_sub(BATCH_HEADER_LEN).min(UNCOMPRESSED_BATCH_BYTES_MAX),
        compacted: super::super::storage::cleanup_policy_has(configs, "compact"),
        log_append_time: configs.get("message.timestamp.type") == Some("LogAppendTime"),
    }
}

pub(super) fn handle(cluster: &Arc<Cluster>, broker: &Arc<BrokerHandle>, validated: ValidatedProduce) -> Reply {
    let ValidatedProduce { request, refusals } = validated;
    let acks = request.acks;
    let mut topics = Vec::new();
    let mut flush_round = None;
    for (topic_data, refusals) in request.topic_data.into_iter().zip(refusals) {
        let name = topic_data.name.0.to_string();
        let mut partitions = Vec::new();
        for (partition_data, refusal) in topic_data.partition_data.into_iter().zip(refusals) {
            let index = partition_data.index;
            let records = partition_data.records.unwrap_or_default();
            let started = if !matches!(acks, -1..=1) {
                Err(ErrorCode::InvalidRequiredAcks)
            } else if let Some(refusal) = &refusal {
                // Nothing of the batch is appended (Kafka's LogValidator refuses it whole).
                Err(refusal.error)
            } else {
                let tp = TopicPartition { topic: name.clone(), partition: index };
                broker.produce(cluster, tp, acks, &records)
            };
            let answer = match started {
                Ok((answer, round)) => {
                    flush_round = Some(round);
                    answer.map(Ok)
                }
                Err(error) => Some(Err(error)),
            };
            let refusal = refusal.filter(|_| matches!(acks, -1..=1));
            partitions.push((index, answer, refusal));
        }
        topics.push((topic_data.name, partitions));
    }
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        if acks == 0 {
            return None;
        }
        let mut responses = Vec::new();
        let mut any_written = false;
        for (name, partitions) in topics {
            let mut partition_responses = Vec::new();
            for (index, answer, refusal) in partitions {
                let mut response = PartitionProduceResponse::default();
                response.index = index;
                response.base_offset = -1;
                response.log_append_time_ms = -1;
                response.log_start_offset = -1;
                let outcome = match answer {
                    Some(Ok(receiver)) => receiver.await.unwrap_or((ErrorCode::NotLeaderOrFollower, -1, -1)),
                    Some(Err(error)) => (error, -1, -1),
                    None => (ErrorCode::None, -1, -1),
                };
                match (outcome, refusal) {
                    ((ErrorCode::None, base_offset, log_append_time_ms), _) => {
                        any_written = true;
                        response.base_offset = base_offset;
                        response.log_append_time_ms = log_append_time_ms;
                        let tp = TopicPartition { topic: name.0.to_string(), partition: index };
                        response.log_start_offset = broker
                            .with_node(|node| node.logs.get(&tp).map(|log| log.log.log_start_offset()))
                            .flatten()
                            .unwrap_or(-1);
                    }
                    ((error, _, _), Some(Refusal { message, record_errors, .. })) => {
                        // ProduceResponse v8+ (KIP-467) carries the message and names each
                        // refused record; older versions carry the code alone (the codec leaves
                        // the fields out).
                        response.error_code = error.code();
                        response.record_errors = record_errors
                            .into_iter()
                            .map(|record_error| {
                                let mut entry = BatchIndexAndErrorMessage::default();
                                entry.batch_index = record_error.batch_index;
                                entry.batch_index_error_message = Some(str_bytes(record_error.message));
                                entry
                            })
                            .collect();
                        response.error_message = (!message.is_empty()).then(|| str_bytes(message));
                    }
                    ((error, _, _), None) => {
                        response.error_code = error.code();
                        response.error_message = error_message(error, &name.0, index).map(str_bytes);
                    }
                }
                partition_responses.push(response);
            }
            let mut topic_response = TopicProduceResponse::default();
            topic_response.name = name;
            topic_response.partition_responses = partition_responses;
            responses.push(topic_response);
        }
        if let (-1, Some(round), true) = (acks, flush_round, any_written) {
            cluster.durable(round).await;
        }
        let mut response = ProduceResponse::default();
        response.responses = responses;
        Some(ResponseKind::Produce(response))
    })
}

/// Kafka's messages for the produce errors a learner meets.
fn error_message(error: ErrorCode, topic: &str, partition: i32) -> Option<String> {
    match error {
        ErrorCode::NotEnoughReplicas => Some(format!(
            "The size of the current ISR is insufficient to satisfy the min.isr requirement of partition {topic}-{partition}"
        )),
        ErrorCode::InvalidRecord => Some(
            "Produce requests with version 3 or later must contain exactly one record batch, without transactions"
                .into(),
        ),
        _ => None,
    }
}
