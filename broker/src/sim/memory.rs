//! The simulator's partition logs: records in memory, one per offset, that survive a simulated
//! crash (the simulation keeps them and hands them to the restarted broker).

use std::collections::BTreeMap;

use crate::core::ErrorCode;
use crate::core::broker::storage::{Appended, Payload, ReplicaLog, Storage};
use crate::core::config::TopicConfigs;
use crate::core::message::{Message, TopicPartition};
use crate::core::metadata::MetadataRecord;
use crate::core::quorum::DurableState;
use crate::core::replica::LeaderEpochCache;

/// A record in a simulated partition log. `id` is the simulator's own tag, unique per produced
/// record, so invariant checkers can tell two records at one offset apart; Kafka has no such field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub offset: i64,
    pub leader_epoch: i32,
    pub key: Option<String>,
    pub value: String,
    pub id: u64,
}

/// What the simulated producer sends: one record, offset and epoch still to be assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducedRecord {
    pub key: Option<String>,
    pub value: String,
    pub id: u64,
}

/// Produce carries one record, a follower fetch a run of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimPayload;

impl Payload for SimPayload {
    type Produce = ProducedRecord;
    type Fetched = Vec<LogRecord>;

    fn describe(produce: &ProducedRecord) -> String {
        format!("{:?}", produce.value)
    }
}

/// The messages of a simulated cluster.
pub type SimMessage = Message<SimPayload>;

/// One partition's log on one simulated broker. Offsets start at 0 and are contiguous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryLog {
    pub records: Vec<LogRecord>,
    pub epochs: LeaderEpochCache,
    /// The high watermark as last checkpointed (Kafka's `replication-offset-checkpoint`).
    pub high_watermark: i64,
    /// The topic it was created for (Kafka's `partition.metadata`).
    pub topic_id: Option<[u8; 16]>,
}

impl MemoryLog {
    pub fn record_at(&self, offset: i64) -> Option<&LogRecord> {
        self.records.get(usize::try_from(offset).ok()?)
    }

    fn push(&mut self, record: LogRecord) {
        debug_assert_eq!(record.offset, self.log_end_offset(), "offsets are contiguous");
        self.epochs.assign(record.leader_epoch, record.offset);
        self.records.push(record);
    }
}

impl ReplicaLog for MemoryLog {
    type Payload = SimPayload;

    fn log_start_offset(&self) -> i64 {
        0
    }

    fn log_end_offset(&self) -> i64 {
        self.records.last().map_or(0, |r| r.offset + 1)
    }

    fn epochs(&self) -> &LeaderEpochCache {
        &self.epochs
    }

    fn begin_leader_epoch(&mut self, leader_epoch: i32) {
        let log_end_offset = self.log_end_offset();
        self.epochs.assign(leader_epoch, log_end_offset);
    }

    fn topic_id(&self) -> Option<[u8; 16]> {
        self.topic_id
    }

    fn set_topic_id(&mut self, topic_id: [u8; 16]) -> Result<(), ErrorCode> {
        self.topic_id = Some(topic_id);
        Ok(())
    }

    fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    fn set_high_watermark(&mut self, high_watermark: i64) {
        self.high_watermark = high_watermark;
    }

    fn append_as_leader(
        &mut self,
        _now_ms: u64,
        leader_epoch: i32,
        record: &ProducedRecord,
    ) -> Result<Appended, ErrorCode> {
        let offset = self.log_end_offset();
        let ProducedRecord { key, value, id } = record.clone();
        self.push(LogRecord { offset, leader_epoch, key, value, id });
        Ok(Appended { base_offset: offset, last_offset: offset, duplicate: false, log_append_time_ms: -1 })
    }

    fn append_as_follower(&mut self, records: &Vec<LogRecord>) -> Result<(), ErrorCode> {
        for record in records {
            if record.offset == self.log_end_offset() {
                self.push(record.clone());
            }
        }
        Ok(())
    }

    fn read(&self, fetch_offset: i64, max: usize) -> Result<Vec<LogRecord>, ErrorCode> {
        let start = usize::try_from(fetch_offset).unwrap_or(usize::MAX);
        Ok(self.records.iter().skip(start).take(max).cloned().collect())
    }

    fn truncate_to(&mut self, offset: i64) -> Result<u64, ErrorCode> {
        let keep = usize::try_from(offset.max(0)).unwrap_or(0).min(self.records.len());
        let dropped = self.records.len() - keep;
        self.records.truncate(keep);
        self.epochs.truncate_from_end(offset);
        self.high_watermark = self.high_watermark.min(self.log_end_offset());
        Ok(u64::try_from(dropped).unwrap_or(u64::MAX))
    }

    fn configure(&mut self, _configs: &TopicConfigs) {}
}

/// Makes empty logs for partitions a broker is assigned.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryStorage;

impl Storage for MemoryStorage {
    type Payload = SimPayload;
    type Log = MemoryLog;

    fn create_log(
        &mut self,
        _tp: &TopicPartition,
        topic_id: [u8; 16],
        _configs: &TopicConfigs,
    ) -> Result<MemoryLog, ErrorCode> {
        Ok(MemoryLog { topic_id: Some(topic_id), ..MemoryLog::default() })
    }

    fn delete_log(&mut self, _tp: &TopicPartition, _log: MemoryLog) {}
}

/// What a simulated broker keeps across a crash: its partition logs and its copy of the
/// metadata log.
#[derive(Debug, Clone, Default)]
pub struct BrokerDurable {
    pub logs: BTreeMap<TopicPartition, MemoryLog>,
    pub metadata: DurableState<MetadataRecord>,
}
