//! Produce (key 0): each partition's record batch goes to the core's broker, which decides by
//! acks and the ISR, appends, and answers (the same code the simulator runs). A batch with
//! keyless records for a compacted topic is refused here first, whole, with INVALID_RECORD and
//! per-record `record_errors` (KIP-467), as Kafka's `LogValidator` does.
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

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};
use kafka_protocol::records::RecordBatchDecoder;

use super::{Reply, str_bytes};
use crate::core::ErrorCode;
use crate::core::message::TopicPartition;
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;

pub(super) fn handle(cluster: &Arc<Cluster>, broker: &Arc<BrokerHandle>, request: ProduceRequest) -> Reply {
    let acks = request.acks;
    let mut topics = Vec::new();
    let mut flush_round = None;
    for topic_data in request.topic_data {
        let name = topic_data.name.0.to_string();
        let mut partitions = Vec::new();
        for partition_data in topic_data.partition_data {
            let index = partition_data.index;
            let records = partition_data.records.unwrap_or_default();
            let keyless = if is_compacted(broker, &name) { keyless_records(&records) } else { Vec::new() };
            let started = if !matches!(acks, -1..=1) {
                Err(ErrorCode::InvalidRequiredAcks)
            } else if !keyless.is_empty() {
                // Nothing of the batch is appended (Kafka's LogValidator refuses it whole).
                Err(ErrorCode::InvalidRecord)
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
            partitions.push((index, answer, keyless));
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
            for (index, answer, keyless) in partitions {
                let mut response = PartitionProduceResponse::default();
                response.index = index;
                response.base_offset = -1;
                response.log_append_time_ms = -1;
                response.log_start_offset = -1;
                let outcome = match answer {
                    Some(Ok(receiver)) => receiver.await.unwrap_or((ErrorCode::NotLeaderOrFollower, -1)),
                    Some(Err(error)) => (error, -1),
                    None => (ErrorCode::None, -1),
                };
                match outcome {
                    (ErrorCode::None, base_offset) => {
                        any_written = true;
                        response.base_offset = base_offset;
                        let tp = TopicPartition { topic: name.0.to_string(), partition: index };
                        response.log_start_offset = broker
                            .with_node(|node| node.logs.get(&tp).map(|log| log.log.log_start_offset()))
                            .flatten()
                            .unwrap_or(-1);
                    }
                    (error, _) if !keyless.is_empty() => {
                        // ProduceResponse v8+ (KIP-467) names each refused record; older
                        // versions carry the code alone (the codec leaves the fields out).
                        let (record_errors, message) = keyless_record_errors(&keyless, &name.0, index);
                        response.error_code = error.code();
                        response.record_errors = record_errors;
                        response.error_message = Some(str_bytes(message));
                    }
                    (error, _) => {
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

/// Whether `topic`'s `cleanup.policy` includes `compact` (`compact` or `compact,delete`).
fn is_compacted(broker: &BrokerHandle, topic: &str) -> bool {
    broker
        .with_node(|node| {
            node.image
                .topics
                .get(topic)
                .and_then(|t| t.configs.get("cleanup.policy"))
                .is_some_and(|policy| policy.split(',').any(|p| p.trim() == "compact"))
        })
        .unwrap_or(false)
}

/// The batch indexes of the records without a key. Compaction keeps the latest record per key,
/// so Kafka's `LogValidator` refuses keyless records on a compacted topic. A batch that does not
/// decode is left to the append path, which refuses it with its own error.
fn keyless_records(records: &Bytes) -> Vec<i32> {
    let mut bytes = records.clone();
    let Ok(set) = RecordBatchDecoder::decode(&mut bytes) else { return Vec::new() };
    set.records.iter().zip(0..).filter(|(record, _)| record.key.is_none()).map(|(_, index)| index).collect()
}

/// Kafka's per-record errors and partition message for keyless records (`LogValidator`
/// `validateKey` and `processRecordErrors`).
fn keyless_record_errors(keyless: &[i32], topic: &str, partition: i32) -> (Vec<BatchIndexAndErrorMessage>, String) {
    let reason = format!("Compacted topic cannot accept message without key in topic partition {topic}-{partition}.");
    let record_errors: Vec<BatchIndexAndErrorMessage> = keyless
        .iter()
        .map(|&batch_index| {
            let mut error = BatchIndexAndErrorMessage::default();
            error.batch_index = batch_index;
            error.batch_index_error_message = Some(str_bytes(reason.clone()));
            error
        })
        .collect();
    let shown: Vec<String> =
        keyless.iter().take(3).map(|index| format!("RecordError(batchIndex={index}, message='{reason}')")).collect();
    let message = format!(
        "One or more records have been rejected due to {} record errors in total, and only showing the first three errors at most: [{}]",
        keyless.len(),
        shown.join(", ")
    );
    (record_errors, message)
}
