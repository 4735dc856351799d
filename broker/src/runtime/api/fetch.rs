//! Fetch (key 1): whole stored batches from each partition, up to the high watermark.
//!
//! * The batch containing `fetch_offset` is returned whole even when the offset is in its middle
//!   (clients skip the records before it; Tansu/franz-go FINDINGS).
//! * KIP-74: the response holds at most the request's `max_bytes` (and never more than the
//!   broker's `fetch.max.bytes`), each partition at most its `partition_max_bytes`, filled in
//!   request order; only the response's first batch may be larger than those, so a consumer can
//!   always make progress.
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
use super::list_offsets::on_leader;
use crate::core::ErrorCode;
use crate::core::broker::storage::ReplicaLog;
use crate::log::LogError;
use crate::runtime::broker::BrokerHandle;

/// Longest a fetch may park, whatever the client asks (Kafka has no cap, but a learning broker
/// should not hold connections for minutes).
const MAX_WAIT_CAP_MS: u64 = 30_000;

/// `fetch_max_bytes` is the broker's `fetch.max.bytes`, the most any response carries.
pub(super) fn handle(broker: &Arc<BrokerHandle>, request: FetchRequest, fetch_max_bytes: usize) -> Reply {
    let broker = broker.clone();
    Box::pin(async move {
        let max_wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0).min(MAX_WAIT_CAP_MS));
        let deadline = tokio::time::Instant::now() + max_wait;
        let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
        loop {
            // Register for wake-ups before reading, so an append between the read and the wait
            // is not missed.
            let appended = broker.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let (response, bytes, errors) = read(&broker, &request, fetch_max_bytes);
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
fn read(broker: &BrokerHandle, request: &FetchRequest, fetch_max_bytes: usize) -> (FetchResponse, usize, bool) {
    // Kafka's `KafkaApis.handleFetchRequest`: min(request max_bytes, fetch.max.bytes), so a
    // client asking for 2 GiB cannot have the broker read that much into memory.
    let mut budget = usize::try_from(request.max_bytes).unwrap_or(0).min(fetch_max_bytes);
    let mut total = 0;
    let mut errors = false;
    let read_committed = request.isolation_level == 1;
    let mut topics = Vec::new();
    for fetch_topic in &request.topics {
        let name = fetch_topic.topic.0.as_str();
        let mut partitions = Vec::new();
        for fetch_partition in &fetch_topic.partitions {
            let mut data = PartitionData::default();
            data.partition_index = fetch_partition.partition;
            data.high_watermark = -1;
            data.last_stable_offset = -1;
            data.log_start_offset = -1;
            data.preferred_read_replica = BrokerId(-1);
            data.aborted_transactions = read_committed.then(Vec::new);
            let partition_max = usize::try_from(fetch_partition.partition_max_bytes).unwrap_or(0);
            // KIP-74: each partition is read up to what is left of the request's `max_bytes`, and
            // only the first batch of the whole response may be larger than that (Kafka's
            // `minOneMessage` holds until some partition returned data), so a consumer always
            // progresses and the response stays within the client's receive buffer.
            let max = partition_max.min(budget);
            let oversized_first_batch_allowed = total == 0;
            let fetch_offset = fetch_partition.fetch_offset;
            let read = on_leader(
                broker,
                name,
                fetch_partition.partition,
                fetch_partition.current_leader_epoch,
                |replica, log| {
                    let offsets = (replica.high_watermark, log.log_start_offset());
                    if (replica.high_watermark..=log.log_end_offset()).contains(&fetch_offset) {
                        // Nothing committed to read yet (offsets above the high watermark are not visible).
                        return Ok((offsets, Bytes::new()));
                    }
                    let readable = (log.log_start_offset()..replica.high_watermark).contains(&fetch_offset);
                    if max == 0 && !oversized_first_batch_allowed && readable {
                        // The budget is spent: nothing of this partition fits, so nothing is read
                        // (an offset out of range still gets its error below).
                        return Ok((offsets, Bytes::new()));
                    }
                    match log.log.read(fetch_offset, max, replica.high_watermark) {
                        // The log hands back a first batch larger than `max` whole; past the
                        // response's first batch that would break the budget, so none is read.
                        Ok(records) if records.len() > max && !oversized_first_batch_allowed => {
                            Ok((offsets, Bytes::new()))
                        }
                        Ok(records) => Ok((offsets, Bytes::from(records))),
                        Err(LogError::OffsetOutOfRange { .. }) => Err(ErrorCode::OffsetOutOfRange),
                        Err(error) => {
                            tracing::error!(%error, topic = name, partition = fetch_partition.partition, "fetch read failed");
                            Err(ErrorCode::KafkaStorageError)
                        }
                    }
                },
            );
            match read {
                Ok(((high_watermark, log_start_offset), records)) => {
                    data.high_watermark = high_watermark;
                    data.last_stable_offset = high_watermark;
                    data.log_start_offset = log_start_offset;
                    total += records.len();
                    budget = budget.saturating_sub(records.len());
                    data.records = Some(records);
                }
                Err(error) => {
                    data.error_code = error.code();
                    errors = true;
                }
            }
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
