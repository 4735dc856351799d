//! Produce (key 0): append each partition's record batch to its log.
//!
//! Batches are stored exactly as the producer sent them: only the base offset and the partition
//! leader epoch are rewritten, in place, and the CRC (which does not cover them) stays valid.
//!
//! Durability (the stated policy): acks=0 gets no response; acks=1 is answered once the batch is
//! in the log file (the page cache: it survives the broker process being killed, not a power
//! cut); acks=all (-1) is answered once group commit has fsynced it, at most
//! `flush_interval_ms` later. On one broker the ISR is `{self}`, so acks=all also requires
//! `min.insync.replicas` ≤ 1, or the write is refused with NOT_ENOUGH_REPLICAS as Kafka does.

use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};

use super::{Reply, str_bytes};
use crate::core::ErrorCode;
use crate::core::producer::{ProducedBatch, SequenceCheck};
use crate::record::batch::{BatchError, BatchHeader};
use crate::runtime::cluster::{Cluster, PartitionInner, now_ms};

pub(super) fn handle(cluster: &Arc<Cluster>, request: ProduceRequest) -> Reply {
    let acks = request.acks;
    let mut responses = Vec::new();
    let mut flush_round = None;
    let now = now_ms();
    for topic_data in request.topic_data {
        let name = topic_data.name.0.to_string();
        let topic = cluster.topic(&name);
        let mut partitions = Vec::new();
        for partition_data in topic_data.partition_data {
            let mut response = PartitionProduceResponse::default();
            response.index = partition_data.index;
            response.base_offset = -1;
            response.log_append_time_ms = -1;
            response.log_start_offset = -1;
            let index = partition_data.index;
            let partition = topic.as_ref().and_then(|t| t.partition(index).map(|p| (t, p)));
            let outcome = match partition {
                _ if !matches!(acks, -1..=1) => Err((ErrorCode::InvalidRequiredAcks.code(), None)),
                Some((topic, partition)) => {
                    let min_insync = topic.topic.configs.get_i64("min.insync.replicas");
                    let records = partition_data.records.unwrap_or_default();
                    let mut inner = partition.lock();
                    if let Err(code) = inner.replica.check_enough_replicas(acks, min_insync) {
                        Err((
                            code.code(),
                            Some(format!(
                                "The size of the current ISR {:?} is insufficient to satisfy the min.isr requirement of {min_insync} for partition {name}-{index}",
                                inner.replica.isr
                            )),
                        ))
                    } else {
                        append(&records, &mut inner, now).map(|base_offset| {
                            let log_end_offset = inner.log.log_end_offset();
                            inner.replica.on_leader_append(log_end_offset);
                            (base_offset, inner.log.log_start_offset(), partition.clone())
                        })
                    }
                }
                None => Err((ErrorCode::UnknownTopicOrPartition.code(), None)),
            };
            match outcome {
                Ok((base_offset, log_start_offset, partition)) => {
                    response.base_offset = base_offset;
                    response.log_start_offset = log_start_offset;
                    flush_round = Some(cluster.mark_dirty(&name, &partition));
                }
                Err((error, message)) => {
                    response.error_code = error;
                    response.error_message = message.map(str_bytes);
                }
            }
            partitions.push(response);
        }
        let mut topic_response = TopicProduceResponse::default();
        topic_response.name = topic_data.name;
        topic_response.partition_responses = partitions;
        responses.push(topic_response);
    }
    if flush_round.is_some() {
        cluster.appended.notify_waiters();
    }
    let cluster = cluster.clone();
    Box::pin(async move {
        if acks == 0 {
            return None;
        }
        if let (-1, Some(round)) = (acks, flush_round) {
            cluster.durable(round).await;
        }
        let mut response = ProduceResponse::default();
        response.responses = responses;
        Some(ResponseKind::Produce(response))
    })
}

/// Validates and appends one partition's records; returns the base offset they got (for a
/// retried idempotent batch, the offset it got the first time).
fn append(records: &[u8], inner: &mut PartitionInner, now_ms: i64) -> Result<i64, (i16, Option<String>)> {
    // Kafka's ProduceRequest.validateRecords: v3+ carries exactly one magic-2 batch per partition.
    let header = BatchHeader::parse(records).map_err(|e| (batch_error_code(&e).code(), Some(e.to_string())))?;
    if header.size_in_bytes() != records.len() {
        return Err((
            ErrorCode::InvalidRecord.code(),
            Some("Produce requests with version 3 or later must contain exactly one record batch".into()),
        ));
    }
    if header.is_transactional() {
        return Err((
            ErrorCode::InvalidRecord.code(),
            Some("transactions are not supported by this broker yet".into()),
        ));
    }
    let idempotent = header.producer_id >= 0;
    let last_sequence = header.base_sequence.wrapping_add(header.last_offset_delta) & i32::MAX;
    if idempotent {
        match inner.producers.check(header.producer_id, header.producer_epoch, header.base_sequence, last_sequence) {
            SequenceCheck::Append => {}
            SequenceCheck::Duplicate { base_offset } => return Ok(base_offset),
            SequenceCheck::Reject(error) => return Err((error.code(), None)),
        }
    }
    let mut batch = BytesMut::from(records);
    let leader_epoch = inner.replica.leader_epoch;
    let info = inner.log.append(&mut batch, leader_epoch, now_ms).map_err(|error| {
        let code = error.kafka_error_code();
        if code == ErrorCode::KafkaStorageError.code() {
            tracing::error!(%error, "append failed");
        }
        (code, Some(error.to_string()))
    })?;
    if idempotent {
        inner.producers.on_append(
            header.producer_id,
            header.producer_epoch,
            ProducedBatch {
                first_sequence: header.base_sequence,
                last_sequence,
                base_offset: info.base_offset,
                last_offset: info.last_offset,
            },
        );
    }
    Ok(info.base_offset)
}

fn batch_error_code(error: &BatchError) -> ErrorCode {
    match error {
        BatchError::CorruptCrc { .. } => ErrorCode::CorruptMessage,
        BatchError::UnsupportedMagic(_) => ErrorCode::UnsupportedForMessageFormat,
        _ => ErrorCode::CorruptMessage,
    }
}
