//! Fetch (key 1): whole stored batches from each partition, up to the high watermark.
//!
//! * The batch containing `fetch_offset` is returned whole even when the offset is in its middle
//!   (clients skip the records before it; Tansu/franz-go FINDINGS), and the first batch is
//!   returned even when larger than `max_bytes` so a consumer can always make progress (KIP-74).
//! * Long poll: with less than `min_bytes` ready, the request waits for appends until
//!   `max_wait_ms`, or clients would spin.
//! * No fetch sessions (KIP-227): `session_id` is always 0, so every fetch is a full fetch.
//! * `last_stable_offset` = high watermark (no transactions yet); `preferred_read_replica` = -1,
//!   or librdkafka drops the records.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, ResponseKind};

use super::Reply;
use crate::core::ErrorCode;
use crate::log::LogError;
use crate::runtime::cluster::Cluster;

/// Longest a fetch may park, whatever the client asks (Kafka has no cap, but a learning broker
/// should not hold connections for minutes).
const MAX_WAIT_CAP_MS: u64 = 30_000;

pub(super) fn handle(cluster: &Arc<Cluster>, request: FetchRequest) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        let max_wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0).min(MAX_WAIT_CAP_MS));
        let deadline = tokio::time::Instant::now() + max_wait;
        let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
        loop {
            // Register for wake-ups before reading, so an append between the read and the wait
            // is not missed.
            let appended = cluster.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let (response, bytes, errors) = read(&cluster, &request);
            if bytes >= min_bytes.max(1) || errors || tokio::time::Instant::now() >= deadline {
                return Some(ResponseKind::Fetch(response));
            }
            tokio::select! {
                () = &mut appended => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    })
}

/// One pass over the requested partitions: the response, how many record bytes it carries,
/// and whether any partition answered with an error (which ends the long poll, as in Kafka).
fn read(cluster: &Cluster, request: &FetchRequest) -> (FetchResponse, usize, bool) {
    let mut budget = usize::try_from(request.max_bytes).unwrap_or(0);
    let mut total = 0;
    let mut errors = false;
    let read_committed = request.isolation_level == 1;
    let mut topics = Vec::new();
    for fetch_topic in &request.topics {
        let name = fetch_topic.topic.0.as_str();
        let topic = cluster.topic(name);
        let mut partitions = Vec::new();
        for fetch_partition in &fetch_topic.partitions {
            let mut data = PartitionData::default();
            data.partition_index = fetch_partition.partition;
            data.high_watermark = -1;
            data.last_stable_offset = -1;
            data.log_start_offset = -1;
            data.preferred_read_replica = BrokerId(-1);
            data.aborted_transactions = read_committed.then(Vec::new);
            let partition = topic.as_ref().and_then(|t| t.partition(fetch_partition.partition));
            let Some(partition) = partition else {
                data.error_code = ErrorCode::UnknownTopicOrPartition.code();
                errors = true;
                partitions.push(data);
                continue;
            };
            let inner = partition.lock();
            let replica = &inner.replica;
            data.high_watermark = replica.high_watermark;
            data.last_stable_offset = replica.high_watermark;
            data.log_start_offset = replica.log_start_offset;
            if let Some(error) = replica.check_leader_epoch(fetch_partition.current_leader_epoch) {
                data.error_code = error.code();
                errors = true;
            } else if (replica.high_watermark..=replica.log_end_offset).contains(&fetch_partition.fetch_offset) {
                // Nothing committed to read yet (offsets above the high watermark are not visible).
                data.records = Some(Bytes::new());
            } else {
                let partition_max = usize::try_from(fetch_partition.partition_max_bytes).unwrap_or(0);
                // KIP-74: only the first partition with data may exceed the request's budget.
                let max = if total == 0 { partition_max } else { partition_max.min(budget) };
                match inner.log.read(fetch_partition.fetch_offset, max, replica.high_watermark) {
                    Ok(records) => {
                        total += records.len();
                        budget = budget.saturating_sub(records.len());
                        data.records = Some(Bytes::from(records));
                    }
                    Err(LogError::OffsetOutOfRange { .. }) => {
                        data.error_code = ErrorCode::OffsetOutOfRange.code();
                        errors = true;
                    }
                    Err(error) => {
                        tracing::error!(%error, topic = name, partition = fetch_partition.partition, "fetch read failed");
                        data.error_code = ErrorCode::KafkaStorageError.code();
                        errors = true;
                    }
                }
            }
            drop(inner);
            partitions.push(data);
        }
        let mut topic_response = FetchableTopicResponse::default();
        topic_response.topic = fetch_topic.topic.clone();
        topic_response.topic_id = fetch_topic.topic_id;
        topic_response.partitions = partitions;
        topics.push(topic_response);
    }
    let mut response = FetchResponse::default();
    response.session_id = 0;
    response.responses = topics;
    (response, total, errors)
}
