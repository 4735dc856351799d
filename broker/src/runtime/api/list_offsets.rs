//! ListOffsets (key 2) and OffsetForLeaderEpoch (key 23): where a consumer may start.
//!
//! ListOffsets timestamps follow the protocol's special values: -1 latest (the high watermark,
//! the next offset a consumer would read), -2 earliest (the log start offset), -3 the record with
//! the largest timestamp (KIP-734, v7). Any other value finds the first record whose timestamp is
//! at least that (`kafka-console-consumer --offset` by time, `kcat -o s@<ts>`).

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::offset_for_leader_epoch_response::{EpochEndOffset, OffsetForLeaderTopicResult};
use kafka_protocol::messages::{
    ListOffsetsRequest, ListOffsetsResponse, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
};
use kafka_protocol::records::RecordBatchDecoder;

use crate::core::ErrorCode;
use crate::runtime::cluster::{Cluster, PartitionInner};

const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

pub(super) fn handle(cluster: &Arc<Cluster>, request: ListOffsetsRequest, version: i16) -> ListOffsetsResponse {
    let mut response = ListOffsetsResponse::default();
    for topic in request.topics {
        let state = cluster.topic(topic.name.0.as_str());
        let mut partitions = Vec::new();
        for requested in topic.partitions {
            let mut answer = ListOffsetsPartitionResponse::default();
            answer.partition_index = requested.partition_index;
            answer.timestamp = -1;
            answer.offset = -1;
            answer.leader_epoch = -1;
            let partition = state.as_ref().and_then(|t| t.partition(requested.partition_index));
            match partition {
                None => answer.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                Some(partition) => {
                    let inner = partition.lock();
                    if let Some(error) = inner.replica.check_leader_epoch(requested.current_leader_epoch) {
                        answer.error_code = error.code();
                    } else {
                        // The field exists from v4; the codec refuses to encode it below.
                        if version >= 4 {
                            answer.leader_epoch = inner.replica.leader_epoch;
                        }
                        match offset_for(&inner, requested.timestamp) {
                            Ok((offset, timestamp)) => {
                                answer.offset = offset;
                                answer.timestamp = timestamp;
                            }
                            Err(error) => answer.error_code = error.code(),
                        }
                    }
                }
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
fn offset_for(inner: &PartitionInner, timestamp: i64) -> Result<(i64, i64), ErrorCode> {
    let replica = &inner.replica;
    match timestamp {
        LATEST_TIMESTAMP => Ok((replica.high_watermark, -1)),
        EARLIEST_TIMESTAMP => Ok((replica.log_start_offset, -1)),
        MAX_TIMESTAMP => Ok(inner.log.max_timestamp().unwrap_or((-1, -1))),
        t if t < 0 => Err(ErrorCode::UnsupportedVersion),
        t => {
            let batch = inner.log.batch_for_timestamp(t).map_err(|error| {
                tracing::error!(%error, "time index lookup failed");
                ErrorCode::KafkaStorageError
            })?;
            let Some(batch) = batch else { return Ok((-1, -1)) };
            // The time index finds the batch; the exact record needs its timestamps, which may be
            // compressed, so decode the records of that one batch.
            let mut bytes = Bytes::from(batch);
            let records = RecordBatchDecoder::decode(&mut bytes).map_err(|error| {
                tracing::error!(%error, "stored batch does not decode");
                ErrorCode::CorruptMessage
            })?;
            Ok(records
                .records
                .iter()
                .find(|r| r.timestamp >= t && r.offset < replica.high_watermark)
                .map_or((-1, -1), |r| (r.offset, r.timestamp)))
        }
    }
}

/// OffsetForLeaderEpoch (KIP-101/KIP-320): the end offset of a leader epoch, with which a
/// consumer checks that its position survived a leader change.
pub(super) fn offset_for_leader_epoch(
    cluster: &Arc<Cluster>,
    request: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let mut response = OffsetForLeaderEpochResponse::default();
    for topic in request.topics {
        let state = cluster.topic(topic.topic.0.as_str());
        let mut result = OffsetForLeaderTopicResult::default();
        result.topic = topic.topic;
        for requested in topic.partitions {
            let mut answer = EpochEndOffset::default();
            answer.partition = requested.partition;
            answer.leader_epoch = -1;
            answer.end_offset = -1;
            let partition = state.as_ref().and_then(|t| t.partition(requested.partition));
            match partition {
                None => answer.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                Some(partition) => {
                    let inner = partition.lock();
                    if let Some(error) = inner.replica.check_leader_epoch(requested.current_leader_epoch) {
                        answer.error_code = error.code();
                    } else if requested.leader_epoch <= inner.replica.leader_epoch {
                        // One leader epoch so far: it ends at the log end.
                        answer.leader_epoch = inner.replica.leader_epoch;
                        answer.end_offset = inner.log.log_end_offset();
                    }
                }
            }
            result.partitions.push(answer);
        }
        response.topics.push(result);
    }
    response
}
