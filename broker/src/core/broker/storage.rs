//! What a broker needs from its partition logs, whichever driver keeps them: the seam between
//! the replication logic in [`super::BrokerNode`] and the bytes (raft-rs's `Storage`, quinn's
//! caller-supplied buffers).
//!
//! The simulator keeps records in memory (`sim::memory`); the tokio runtime keeps record batches
//! in segment files. The broker logic only ever asks for offsets, leader epochs, appends, reads
//! and truncations, so both run the same replication code.

use std::fmt::Debug;

use crate::core::ErrorCode;
use crate::core::config::TopicConfigs;
use crate::core::message::TopicPartition;
use crate::core::replica::LeaderEpochCache;

/// The data that travels in produce and fetch messages, as the driver represents it.
pub trait Payload: Clone + Debug + PartialEq + Eq {
    /// What a producer hands the partition leader: one record in the simulator, one record
    /// batch (v2) on the wire.
    type Produce: Clone + Debug + PartialEq + Eq;
    /// What a follower fetch carries: records with their offsets and leader epochs.
    type Fetched: Clone + Debug + PartialEq + Eq + Default;

    /// The produced data in a few words, for the event log (the record's value, or "3 records").
    fn describe(produce: &Self::Produce) -> String;
}

/// Where a leader append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: i64,
    pub last_offset: i64,
    /// An idempotent producer's retry of a batch this log already holds (KIP-98): nothing was
    /// written, and the offsets are where the batch went the first time.
    pub duplicate: bool,
    /// The time the log stamped the batch with (`message.timestamp.type=LogAppendTime`), -1
    /// if its timestamps are the producer's (or it is a duplicate).
    pub log_append_time_ms: i64,
}

/// One partition's log on one broker. Offsets are contiguous from the log start offset; every
/// record carries the leader epoch it was written in.
pub trait ReplicaLog: Debug {
    type Payload: Payload;

    fn log_start_offset(&self) -> i64;

    fn log_end_offset(&self) -> i64;

    /// The epochs of the records, with the offset each began at (KIP-101).
    fn epochs(&self) -> &LeaderEpochCache;

    /// This broker leads from `leader_epoch` on: the epoch starts at the log end (KIP-101), so a
    /// follower that fetches with an older epoch learns where to truncate.
    fn begin_leader_epoch(&mut self, leader_epoch: i32);

    /// The id of the topic this log was created for (Kafka's `partition.metadata`, KIP-516);
    /// `None` for a log from before it was recorded. A log whose topic id is not the current
    /// topic's belongs to an earlier topic of the same name: a stray.
    fn topic_id(&self) -> Option<[u8; 16]>;

    /// Records the topic id of a log that had none (it is adopted by the topic of its name).
    ///
    /// # Errors
    ///
    /// `KafkaStorageError` if it cannot be written; the log stays usable without it.
    fn set_topic_id(&mut self, topic_id: [u8; 16]) -> Result<(), ErrorCode>;

    /// The high watermark this log last learnt (Kafka's `replication-offset-checkpoint`): where a
    /// broker that restarts, or becomes leader, starts from.
    fn high_watermark(&self) -> i64;

    fn set_high_watermark(&mut self, high_watermark: i64);

    /// The leader appends a producer's records in `leader_epoch`, checking them (batch format,
    /// idempotent sequence numbers) as its format requires.
    fn append_as_leader(
        &mut self,
        now_ms: u64,
        leader_epoch: i32,
        records: &<Self::Payload as Payload>::Produce,
    ) -> Result<Appended, ErrorCode>;

    /// A follower appends what its leader sent. Records below the log end offset (a duplicated
    /// answer) are skipped; a gap is refused.
    fn append_as_follower(&mut self, records: &<Self::Payload as Payload>::Fetched) -> Result<(), ErrorCode>;

    /// Records from `fetch_offset` on, at most `max` (in the log's unit: bytes on disk, Kafka's
    /// `replica.fetch.max.bytes`; records in the simulator), for a follower.
    fn read(&self, fetch_offset: i64, max: usize) -> Result<<Self::Payload as Payload>::Fetched, ErrorCode>;

    /// Drops records at and after `offset` (a follower's diverging tail, KIP-279); returns how
    /// many records went. A log of batches keeps whole batches: it truncates to the start of
    /// the batch holding `offset`.
    fn truncate_to(&mut self, offset: i64) -> Result<u64, ErrorCode>;

    /// The topic's configs changed (or the log was just opened): segment size, retention, ...
    fn configure(&mut self, configs: &TopicConfigs);
}

/// Creates and deletes the logs of the partitions a broker is assigned.
pub trait Storage: Debug {
    type Payload: Payload;
    type Log: ReplicaLog<Payload = Self::Payload>;

    /// The log of a partition this broker was just assigned, for the topic `topic_id`.
    fn create_log(
        &mut self,
        tp: &TopicPartition,
        topic_id: [u8; 16],
        configs: &TopicConfigs,
    ) -> Result<Self::Log, ErrorCode>;

    /// The partition is gone (its topic was deleted, or the log is a stray): remove its data.
    fn delete_log(&mut self, tp: &TopicPartition, log: Self::Log);
}
