//! ListOffsets (key 2) and OffsetForLeaderEpoch (key 23): where a consumer may start.
//!
//! ListOffsets timestamps follow the protocol's special values: -1 latest (the high watermark,
//! the next offset a consumer would read), -2 earliest (the log start offset), -3 the record with
//! the largest timestamp (KIP-734, v7). Any other value finds the first record whose timestamp is
//! at least that (`kafka-console-consumer --offset` by time, `kcat -o s@<ts>`).

use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::offset_for_leader_epoch_response::{EpochEndOffset, OffsetForLeaderTopicResult};
use kafka_protocol::messages::{
    ListOffsetsRequest, ListOffsetsResponse, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
};

use crate::core::ErrorCode;
use crate::core::broker::storage::ReplicaLog;
use crate::core::message::TopicPartition;
use crate::core::replica::PartitionReplica;
use crate::record::codec::record_positions_bounded;
use crate::runtime::broker::BrokerHandle;
use crate::runtime::storage::DiskLog;

const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// The most a stored batch's records are inflated to find a timestamp in it. Batches produced
/// now inflate to at most their topic's `max.message.bytes`; this also bounds any stored before
/// produce checked that, so an old decompression bomb costs a bounded read.
const STORED_BATCH_UNCOMPRESSED_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Runs `read` on the partition this broker leads, after KIP-320's leader epoch check.
pub(super) fn on_leader<T>(
    broker: &BrokerHandle,
    topic: &str,
    partition: i32,
    current_leader_epoch: i32,
    read: impl FnOnce(&PartitionReplica, &DiskLog) -> Result<T, ErrorCode>,
) -> Result<T, ErrorCode> {
    let tp = TopicPartition { topic: topic.to_owned(), partition };
    broker
        .with_node(|node| {
            let (replica, log) = node.leader(&tp)?;
            if let Some(error) = replica.check_leader_epoch(current_leader_epoch) {
                return Err(error);
            }
            read(replica, log)
        })
        .unwrap_or(Err(ErrorCode::NotLeaderOrFollower))
}

pub(super) fn handle(broker: &BrokerHandle, request: ListOffsetsRequest, version: i16) -> ListOffsetsResponse {
    let mut response = ListOffsetsResponse::default();
    for topic in request.topics {
        let mut partitions = Vec::new();
        for requested in topic.partitions {
            let mut answer = ListOffsetsPartitionResponse::default();
            answer.partition_index = requested.partition_index;
            answer.timestamp = -1;
            answer.offset = -1;
            answer.leader_epoch = -1;
            let found = on_leader(
                broker,
                topic.name.0.as_str(),
                requested.partition_index,
                requested.current_leader_epoch,
                |replica, log| Ok((replica.leader_epoch, offset_for(replica, log, requested.timestamp)?)),
            );
            match found {
                Ok((leader_epoch, (offset, timestamp))) => {
                    // The field exists from v4; the codec refuses to encode it below.
                    if version >= 4 {
                        answer.leader_epoch = leader_epoch;
                    }
                    answer.offset = offset;
                    answer.timestamp = timestamp;
                }
                Err(error) => answer.error_code = error.code(),
            }
            partitions.push(answer);
        }
        let mut topic_response = ListOffsetsTopicResponse::default();
        topic_response.name = topic.name;
        topic_response.partitions = partitions;
        response.topics.push(topic_response);
    }
    response
}

/// `(offset, timestamp)` for a ListOffsets timestamp; `(-1, -1)` when no record qualifies.
fn offset_for(replica: &PartitionReplica, log: &DiskLog, timestamp: i64) -> Result<(i64, i64), ErrorCode> {
    match timestamp {
        LATEST_TIMESTAMP => Ok((replica.high_watermark, -1)),
        EARLIEST_TIMESTAMP => Ok((log.log_start_offset(), -1)),
        MAX_TIMESTAMP => Ok(log.log.max_timestamp().unwrap_or((-1, -1))),
        t if t < 0 => Err(ErrorCode::UnsupportedVersion),
        t => {
            let batch = log.log.batch_for_timestamp(t).map_err(|error| {
                tracing::error!(%error, "time index lookup failed");
                ErrorCode::KafkaStorageError
            })?;
            let Some(batch) = batch else { return Ok((-1, -1)) };
            // The time index finds the batch; the exact record needs its timestamps, which may be
            // compressed: inflate that one batch as a bounded stream.
            let positions = record_positions_bounded(&batch, STORED_BATCH_UNCOMPRESSED_BYTES_MAX).map_err(|error| {
                tracing::error!(%error, "stored batch does not decode");
                ErrorCode::CorruptMessage
            })?;
            Ok(positions
                .iter()
                .find(|r| r.timestamp >= t && r.offset < replica.high_watermark)
                .map_or((-1, -1), |r| (r.offset, r.timestamp)))
        }
    }
}

/// OffsetForLeaderEpoch (KIP-101/KIP-320): the end offset of a leader epoch, with which a
/// consumer checks that its position survived a leader change.
pub(super) fn offset_for_leader_epoch(
    broker: &BrokerHandle,
    request: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let mut response = OffsetForLeaderEpochResponse::default();
    for topic in request.topics {
        let mut result = OffsetForLeaderTopicResult::default();
        let name = topic.topic.0.to_string();
        result.topic = topic.topic;
        for requested in topic.partitions {
            let mut answer = EpochEndOffset::default();
            answer.partition = requested.partition;
            answer.leader_epoch = -1;
            answer.end_offset = -1;
            // The largest epoch at most the one asked for, and where it ended in this leader's
            // log (Kafka's `endOffsetFor`); (-1, -1) when the log has no epoch that old.
            let found = on_leader(broker, &name, requested.partition, requested.current_leader_epoch, |_, log| {
                Ok(log.epochs().end_offset_for(requested.leader_epoch, log.log_end_offset()))
            });
            match found {
                Ok((leader_epoch, end_offset)) => {
                    answer.leader_epoch = leader_epoch;
                    answer.end_offset = end_offset;
                }
                Err(error) => answer.error_code = error.code(),
            }
            result.partitions.push(answer);
        }
        response.topics.push(result);
    }
    response
}
