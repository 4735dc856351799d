//! Records: Fetch (decoded for display or as the producer's bytes) and Produce (placed by the
//! Java producer's partitioners).

use std::collections::BTreeMap;

use broker::client::{BatchProducer, BatchRecord, encode_batch};
use broker::core::ErrorCode;
use broker::core::partitioner::partition_for_key;
use bytes::Buf;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest};
use kafka_protocol::records::{Compression, RecordBatchDecoder};

/// The most the record browser inflates one stored batch to (what the broker's ListOffsets also
/// allows): batches produced now stay under their topic's `max.message.bytes`.
const BATCH_UNCOMPRESSED_BYTES_MAX: usize = 64 * 1024 * 1024;

use super::{Kafka, KafkaError, Refusal, topic_name};

/// A record as a consumer sees it, key and value decoded as (lossy) UTF-8 for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<String>,
    pub value: Option<String>,
}

/// A record as the producer sent it: key and value are bytes, whatever they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub offset: i64,
    pub timestamp_ms: i64,
    /// The batch's timestamp type: `true` for LogAppendTime (the broker's clock), `false` for
    /// CreateTime (the producer's).
    pub log_append_time: bool,
    pub key: Option<bytes::Bytes>,
    pub value: Option<bytes::Bytes>,
    /// Header keys and values, in the order the producer sent them.
    pub headers: Vec<(String, Option<bytes::Bytes>)>,
}

/// A record to produce: key and value, either of which may be null (a null value is a tombstone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord {
    pub key: Option<String>,
    pub value: Option<String>,
    /// Header keys and values (`parse.headers` in the console producer).
    pub headers: Vec<(String, Option<String>)>,
}

/// Where a produced record landed: its partition and offset (-1 when acks=0 gave no answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    pub partition: i32,
    pub offset: i64,
}

impl Kafka {
    /// Up to `max_records` records of a partition from `from_offset` on.
    pub async fn records(
        &self,
        topic: &str,
        partition: i32,
        from_offset: i64,
        max_records: usize,
    ) -> Result<Vec<RecordView>, KafkaError> {
        let raw = self.raw_records(topic, partition, from_offset, max_records, usize::MAX).await?;
        Ok(raw
            .into_iter()
            .map(|record| RecordView {
                partition,
                offset: record.offset,
                timestamp_ms: record.timestamp_ms,
                key: record.key.map(|k| String::from_utf8_lossy(&k).into_owned()),
                value: record.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
            })
            .collect())
    }

    /// Up to `max_records` records of a partition from `from_offset` on, as the bytes the
    /// producer sent. Stops early once the keys and values read add up to `max_bytes` (the first
    /// record is always returned, whatever its size).
    pub async fn raw_records(
        &self,
        topic: &str,
        partition: i32,
        from_offset: i64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawRecord>, KafkaError> {
        let mut out: Vec<RawRecord> = Vec::new();
        let mut next = from_offset;
        let mut bytes_read = 0usize;
        while out.len() < max_records && bytes_read < max_bytes {
            let mut fetch_partition = FetchPartition::default();
            fetch_partition.partition = partition;
            fetch_partition.fetch_offset = next;
            fetch_partition.partition_max_bytes = 1 << 20;
            fetch_partition.current_leader_epoch = -1;
            let mut fetch_topic = FetchTopic::default();
            fetch_topic.topic = topic_name(topic);
            fetch_topic.partitions = vec![fetch_partition];
            let mut request = FetchRequest::default();
            request.replica_id = BrokerId(-1);
            request.max_wait_ms = 0;
            request.min_bytes = 0;
            request.max_bytes = 4 << 20;
            request.topics = vec![fetch_topic];
            let response = self.call_leader(topic, partition, &request, 12).await?;
            let Some(data) = response.responses.into_iter().next().and_then(|t| t.partitions.into_iter().next()) else {
                break;
            };
            if data.error_code != 0 {
                return Err(KafkaError::Broker(data.error_code));
            }
            let mut bytes = data.records.unwrap_or_default();
            // Where the next fetch starts: past every record seen, control records included.
            let mut seen_up_to = next;
            'batches: while bytes.has_remaining() && out.len() < max_records {
                // The decoder inflates a compressed batch whole, unbounded: check first, as a
                // bounded stream, that this one inflates to a sane size (a bomb stops the page).
                let header = broker::record::BatchHeader::parse(&bytes).ok();
                let inflates_sanely =
                    header.as_ref().and_then(|header| bytes.get(..header.size_in_bytes())).is_some_and(|batch| {
                        broker::record::codec::record_positions_bounded(batch, BATCH_UNCOMPRESSED_BYTES_MAX).is_ok()
                    });
                let Some(header) = header.filter(|_| inflates_sanely) else { break };
                // A LogAppendTime batch's records all carry its maxTimestamp (Java's
                // `DefaultRecord.readFrom`); the decoder leaves them their producer's deltas.
                let log_append_time = header.timestamp_type_is_log_append_time().then_some(header.max_timestamp);
                let Ok(set) = RecordBatchDecoder::decode(&mut bytes) else { break };
                for record in set.records.into_iter().filter(|r| r.offset >= next) {
                    if out.len() >= max_records || (bytes_read >= max_bytes && !out.is_empty()) {
                        break 'batches;
                    }
                    seen_up_to = seen_up_to.max(record.offset + 1);
                    if record.control {
                        continue;
                    }
                    bytes_read += record.key.as_ref().map_or(0, bytes::Bytes::len)
                        + record.value.as_ref().map_or(0, bytes::Bytes::len);
                    out.push(RawRecord {
                        offset: record.offset,
                        timestamp_ms: log_append_time.unwrap_or(record.timestamp),
                        log_append_time: log_append_time.is_some(),
                        key: record.key,
                        value: record.value,
                        headers: record.headers.into_iter().map(|(key, value)| (key.to_string(), value)).collect(),
                    });
                }
            }
            if seen_up_to == next {
                break;
            }
            next = seen_up_to;
        }
        out.truncate(max_records);
        Ok(out)
    }

    /// Produces records as the Java producer would place them: a keyed record goes to
    /// `murmur2(key) % partitions`; unkeyed records all go to one partition per call (the
    /// sticky partitioner of KIP-480 fills a batch before moving on). Returns where each record
    /// landed, in the order given.
    pub async fn produce(
        &self,
        topic: &str,
        records: &[ProducerRecord],
        acks: i16,
    ) -> Result<Result<Vec<RecordPosition>, Refusal>, KafkaError> {
        use kafka_protocol::messages::ProduceRequest;
        use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
        let Some(info) = self.topic(topic).await? else {
            return Ok(Err(Refusal {
                code: ErrorCode::UnknownTopicOrPartition.code(),
                message: format!("Topic {topic} not present in metadata"),
            }));
        };
        let count = i32::try_from(info.partitions.len()).unwrap_or(1).max(1);
        let sticky = i32::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()),
        )
        .unwrap_or(0)
            % count;
        let mut by_partition: BTreeMap<i32, Vec<(usize, &ProducerRecord)>> = BTreeMap::new();
        for (index, record) in records.iter().enumerate() {
            let partition = record.key.as_ref().map_or(sticky, |key| partition_for_key(key.as_bytes(), count));
            by_partition.entry(partition).or_default().push((index, record));
        }
        let now = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()),
        )
        .unwrap_or(0);
        let mut placed = vec![RecordPosition { partition: 0, offset: -1 }; records.len()];
        for (partition, batch_records) in by_partition {
            let batch: Vec<BatchRecord<'_>> = batch_records
                .iter()
                .map(|(_, record)| BatchRecord {
                    key: record.key.as_deref().map(str::as_bytes),
                    value: record.value.as_deref().map(str::as_bytes),
                    timestamp_ms: now,
                    headers: record
                        .headers
                        .iter()
                        .map(|(key, value)| (key.as_str(), value.as_deref().map(str::as_bytes)))
                        .collect(),
                })
                .collect();
            let encoded = encode_batch(&batch, Compression::None, BatchProducer::PLAIN)?;
            let mut data = PartitionProduceData::default();
            data.index = partition;
            data.records = Some(encoded);
            let mut topic_data = TopicProduceData::default();
            topic_data.name = topic_name(topic);
            topic_data.partition_data = vec![data];
            let mut request = ProduceRequest::default();
            request.acks = acks;
            request.timeout_ms = 30_000;
            request.topic_data = vec![topic_data];
            if acks == 0 {
                // No answer comes (the protocol guide: "the server will not send any response"),
                // so there are no offsets to report either: -1, as Kafka's RecordMetadata has then.
                let leader = self.leader_address(topic, partition).await?;
                self.send_without_response(leader, &request, 9).await?;
                for (index, _) in &batch_records {
                    placed[*index] = RecordPosition { partition, offset: -1 };
                }
                continue;
            }
            let answer = self.produce_with_retries(topic, partition, &request).await?;
            if answer.error_code != 0 {
                return Ok(Err(Refusal {
                    code: answer.error_code,
                    message: answer
                        .error_message
                        .map_or_else(|| format!("error code {}", answer.error_code), |m| m.to_string()),
                }));
            }
            for (i, (index, _)) in batch_records.iter().enumerate() {
                placed[*index] =
                    RecordPosition { partition, offset: answer.base_offset + i64::try_from(i).unwrap_or(0) };
            }
        }
        Ok(Ok(placed))
    }

    /// Sends one partition's Produce to its leader, retrying as Kafka's producer does while the
    /// partition has no reachable leader — a stopped broker, a leader not elected yet
    /// (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE) — with fresh metadata each time, for up
    /// to [`DELIVERY_TIMEOUT`]. Other errors (NOT_ENOUGH_REPLICAS among them, which a lesson
    /// wants the learner to see) are answered at once.
    async fn produce_with_retries(
        &self,
        topic: &str,
        partition: i32,
        request: &kafka_protocol::messages::ProduceRequest,
    ) -> Result<kafka_protocol::messages::produce_response::PartitionProduceResponse, KafkaError> {
        let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
        loop {
            let outcome = match self.call_leader(topic, partition, request, 9).await {
                Ok(response) => {
                    let answer =
                        response.responses.into_iter().next().and_then(|t| t.partition_responses.into_iter().next());
                    answer.ok_or_else(KafkaError::missing_answer)
                }
                Err(error) => Err(error),
            };
            let retriable = match &outcome {
                Ok(answer) => RETRIABLE.iter().any(|code| code.code() == answer.error_code),
                Err(KafkaError::Client(_)) => true,
                Err(error) => RETRIABLE.iter().any(|code| error.is(*code)),
            };
            if !retriable || tokio::time::Instant::now() >= deadline {
                return outcome;
            }
            // Kafka's retry.backoff.ms.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// How long a produce keeps trying to reach a leader (Kafka's `delivery.timeout.ms` is 120 s;
/// a console command should not hang that long): longer than a broker session, so a stopped
/// leader's partitions have a new one by then.
const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Errors a producer retries with fresh metadata: the leader moved or is being elected.
const RETRIABLE: [ErrorCode; 2] = [ErrorCode::NotLeaderOrFollower, ErrorCode::LeaderNotAvailable];
