//! A broker's partition logs on disk, behind the core's [`Storage`] seam: the same replication
//! code the simulator runs over memory runs here over segment files.
//!
//! On disk, under the broker's directory (`DATA_DIR/kafka/broker-<id>/`):
//!
//! - `<topic>-<partition>/`: a [`PartitionLog`] (segments holding record batches as producers
//!   sent them, indexes, crash recovery) and `leader-epoch-checkpoint`, the partition's leader
//!   epochs and the offset each began at, in Kafka's format (KIP-101). It is rewritten,
//!   atomically, whenever an epoch begins or a truncation drops one.
//!
//! - `replication-offset-checkpoint`: every partition's high watermark, in Kafka's format
//!   (`ReplicaManager.checkpointHighWatermarks`), rewritten atomically every
//!   `replica.high.watermark.checkpoint.interval.ms` and at a clean stop. A restarted broker
//!   starts each log's high watermark there (at most its log end offset), so a leader serves
//!   what was committed before a crash without waiting for its followers to catch up.
//!
//! Idempotent producers' recent batches (KIP-98) live beside each log and are rebuilt from its
//! tail at start-up, on leaders and followers alike, so a broker that becomes leader still
//! recognises a retried batch.
//!
//! Durability is the broker driver's group commit: every append marks its partition in the
//! shared [`DirtyPartitions`]; the flusher fsyncs them in rounds.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::core::ErrorCode;
use crate::core::broker::storage::{Appended, Payload, ReplicaLog, Storage};
use crate::core::config::TopicConfigs;
use crate::core::message::{Message, TopicPartition};
use crate::core::producer::{ProducedBatch, ProducerStates, SequenceCheck};
use crate::core::replica::{BrokerId, LeaderEpochCache};
use crate::log::{CleanedLog, FileCache, LogConfig, LogError, LogToClean, PartitionLog};
use crate::record::batch::{self, BatchError, BatchHeader};

/// How much of each partition's log tail is read at start-up to rebuild idempotent producers'
/// state: retries come within seconds, so the last batches are the ones that matter.
const PRODUCER_STATE_WINDOW_BYTES: u64 = 32 * 1024 * 1024;

/// Kafka's file of a partition's leader epochs (`LeaderEpochCheckpointFile`).
pub(crate) const LEADER_EPOCH_CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// Kafka's file of a partition's topic id (`PartitionMetadataFile`, KIP-516).
pub(crate) const PARTITION_METADATA_FILE: &str = "partition.metadata";

/// Kafka's file of a log directory's high watermarks (`ReplicaManager.HighWatermarkFilename`).
pub(crate) const HIGH_WATERMARK_CHECKPOINT_FILE: &str = "replication-offset-checkpoint";

/// Produce carries one record batch (v2) per partition, a follower fetch whole batches: both
/// as the bytes the wire and the segment files hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchPayload;

impl Payload for BatchPayload {
    type Produce = Bytes;
    type Fetched = Bytes;

    fn describe(produce: &Bytes) -> String {
        match BatchHeader::parse(produce) {
            Ok(header) if header.record_count == 1 => "1 record".to_owned(),
            Ok(header) => format!("{} records", header.record_count),
            Err(_) => "a malformed batch".to_owned(),
        }
    }
}

/// The messages between the runtime's nodes.
pub(crate) type NodeMessage = Message<BatchPayload>;

/// What was written since the last group-commit round — partitions (by broker), the committed
/// offsets file — and the rounds started so far: one lock for all, so an append either makes
/// the next round or knows it waits for the one after.
#[derive(Debug, Default)]
pub(crate) struct DirtyPartitions {
    pub(crate) partitions: BTreeSet<(BrokerId, TopicPartition)>,
    pub(crate) offsets: bool,
    pub(crate) rounds_started: u64,
}

pub(crate) type SharedDirty = Arc<Mutex<DirtyPartitions>>;

/// The logs of one broker, in `dir`.
#[derive(Debug)]
pub(crate) struct DiskStorage {
    broker_id: BrokerId,
    dir: PathBuf,
    dirty: SharedDirty,
    /// Where every log of this broker opens its segment files.
    files: FileCache,
}

impl DiskStorage {
    pub(crate) fn new(broker_id: BrokerId, dir: PathBuf, dirty: SharedDirty, files: FileCache) -> Self {
        DiskStorage { broker_id, dir, dirty, files }
    }

    /// Opens every partition log found in the directory (at start-up, before the metadata says
    /// which ones this broker hosts), with default configs until the metadata brings the topic's.
    pub(crate) fn open_existing(&self, now_ms: i64) -> Result<Vec<(TopicPartition, DiskLog)>, LogError> {
        let mut logs = Vec::new();
        let mut high_watermarks = read_high_watermarks(&self.dir);
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(logs),
            Err(source) => return Err(LogError::Io { context: format!("cannot list {}", self.dir.display()), source }),
        };
        for entry in entries.flatten() {
            let Some(tp) = entry.file_name().to_str().and_then(parse_partition_dir) else { continue };
            if !entry.path().is_dir() {
                continue;
            }
            let checkpointed_high_watermark = high_watermarks.remove(&tp);
            let log = self.open_log(&entry.path(), &tp, LogConfig::default(), now_ms, checkpointed_high_watermark)?;
            logs.push((tp, log));
        }
        Ok(logs)
    }
}

/// `orders-3` → (orders, 3). Topic names may contain dashes; the partition is after the last.
fn parse_partition_dir(name: &str) -> Option<TopicPartition> {
    let (topic, partition) = name.rsplit_once('-')?;
    let partition = partition.parse::<i32>().ok().filter(|p| *p >= 0)?;
    (!topic.is_empty()).then(|| TopicPartition { topic: topic.to_owned(), partition })
}

impl Storage for DiskStorage {
    type Payload = BatchPayload;
    type Log = DiskLog;

    fn create_log(
        &mut self,
        tp: &TopicPartition,
        topic_id: [u8; 16],
        configs: &TopicConfigs,
    ) -> Result<DiskLog, ErrorCode> {
        let dir = self.dir.join(tp.to_string());
        let now_ms = super::cluster::now_ms();
        let mut log = self.open_log(&dir, tp, log_config(configs), now_ms, None).map_err(|error| {
            tracing::error!(%error, %tp, "cannot create a partition log");
            ErrorCode::KafkaStorageError
        })?;
        log.set_topic_id(topic_id)?;
        Ok(log)
    }

    fn delete_log(&mut self, tp: &TopicPartition, log: DiskLog) {
        let dir = log.log.dir().to_owned();
        drop(log);
        if let Err(error) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(%error, %tp, dir = %dir.display(), "could not remove a deleted partition's log");
        }
    }
}

/// The log settings of a topic, from its configs.
pub(crate) fn log_config(configs: &TopicConfigs) -> LogConfig {
    LogConfig {
        segment_bytes: u64::try_from(configs.get_i64("segment.bytes")).unwrap_or(1 << 30),
        segment_ms: configs.get_i64("segment.ms"),
        retention_ms: configs.get_i64("retention.ms"),
        retention_bytes: configs.get_i64("retention.bytes"),
        index_interval_bytes: u32::try_from(configs.get_i64("index.interval.bytes")).unwrap_or(4096),
        max_message_bytes: usize::try_from(configs.get_i64("max.message.bytes")).unwrap_or(1_048_588),
        log_append_time: configs.get("message.timestamp.type") == Some("LogAppendTime"),
        cleanup_policy_delete: cleanup_policy_has(configs, "delete"),
        cleanup_policy_compact: cleanup_policy_has(configs, "compact"),
        delete_retention_ms: configs.get_i64("delete.retention.ms"),
        min_compaction_lag_ms: configs.get_i64("min.compaction.lag.ms"),
        max_compaction_lag_ms: configs.get_i64("max.compaction.lag.ms"),
        min_cleanable_dirty_ratio: configs
            .get("min.cleanable.dirty.ratio")
            .and_then(|ratio| ratio.trim().parse().ok())
            .unwrap_or(0.5),
    }
}

/// `cleanup.policy` is a list: `compact,delete` has both.
pub(crate) fn cleanup_policy_has(configs: &TopicConfigs, policy: &str) -> bool {
    configs.get("cleanup.policy").is_some_and(|policies| policies.split(',').any(|p| p.trim() == policy))
}

/// One partition's log on this broker.
#[derive(Debug)]
pub(crate) struct DiskLog {
    broker_id: BrokerId,
    tp: TopicPartition,
    pub(crate) log: PartitionLog,
    epochs: LeaderEpochCache,
    high_watermark: i64,
    /// From `partition.metadata`.
    topic_id: Option<[u8; 16]>,
    /// Idempotent producers' recent batches.
    pub(crate) producers: ProducerStates,
    dirty: SharedDirty,
}

impl DiskStorage {
    /// Opens (or creates) the log of `tp` in `dir`, recovering it, its leader epochs and its
    /// idempotent producers.
    fn open_log(
        &self,
        dir: &Path,
        tp: &TopicPartition,
        config: LogConfig,
        now_ms: i64,
        checkpointed_high_watermark: Option<i64>,
    ) -> Result<DiskLog, LogError> {
        let (broker_id, dirty) = (self.broker_id, self.dirty.clone());
        let (log, report) = PartitionLog::open(dir, config, now_ms, &self.files)?;
        if report.truncated_bytes > 0 || report.segments_deleted > 0 {
            tracing::warn!(%tp, ?report, "recovered a partition log: truncated a torn or corrupt tail");
        }
        if report.swaps_completed > 0 {
            tracing::info!(%tp, swaps = report.swaps_completed, "finished swapping in cleaned segments a crash interrupted");
        }
        let mut epochs = read_leader_epochs(dir)?;
        // Recovery may have cut the tail an epoch began in.
        epochs.truncate_from_end(log.log_end_offset());
        let producers = rebuild_producers(&log)?;
        // What a restarted broker may serve before its leader tells it more: what was committed
        // when the high watermarks were last checkpointed, as far as this log still holds it
        // (Kafka's `Partition.createLog` initializes it the same way).
        let topic_id = read_partition_metadata(dir)?;
        let high_watermark = checkpointed_high_watermark
            .unwrap_or(0)
            .clamp(log.log_start_offset(), log.log_end_offset().max(log.log_start_offset()));
        Ok(DiskLog { broker_id, tp: tp.clone(), log, epochs, high_watermark, topic_id, producers, dirty })
    }
}

impl DiskLog {
    /// The cleanable range of this log if its topic is compacted: nothing past the high
    /// watermark (see [`PartitionLog::log_to_clean`]).
    pub(crate) fn log_to_clean(&self, now_ms: i64) -> Result<Option<LogToClean>, LogError> {
        self.log.log_to_clean(self.high_watermark, now_ms)
    }

    /// Swaps a finished clean in (see [`PartitionLog::replace_cleaned`]); returns how many
    /// segments were replaced.
    pub(crate) fn replace_cleaned(&mut self, cleaned: CleanedLog, now_ms: i64) -> Result<usize, LogError> {
        let replaced = self.log.replace_cleaned(cleaned, now_ms)?;
        // The directory changed: the next group commit fsyncs it.
        self.mark_dirty();
        Ok(replaced)
    }

    fn mark_dirty(&self) {
        self.dirty.lock().unwrap_or_else(|e| e.into_inner()).partitions.insert((self.broker_id, self.tp.clone()));
    }

    fn write_epochs(&self) -> Result<(), ErrorCode> {
        let mut text = format!("0\n{}\n", self.epochs.entries().len());
        for (epoch, start_offset) in self.epochs.entries() {
            text.push_str(&format!("{epoch} {start_offset}\n"));
        }
        super::replace_file(&self.log.dir().join(LEADER_EPOCH_CHECKPOINT_FILE), text.as_bytes()).map_err(|error| {
            tracing::error!(%error, tp = %self.tp, "cannot write the leader epoch checkpoint");
            ErrorCode::KafkaStorageError
        })
    }

    /// Records a batch's epoch (and persists the cache when a new epoch begins with it).
    fn note_epoch(&mut self, leader_epoch: i32, base_offset: i64) -> Result<(), ErrorCode> {
        let before = self.epochs.entries().len();
        self.epochs.assign(leader_epoch, base_offset);
        if self.epochs.entries().len() != before { self.write_epochs() } else { Ok(()) }
    }

    fn remember_producer(&mut self, header: &BatchHeader, base_offset: i64, last_offset: i64) {
        if header.producer_id >= 0 {
            self.producers.on_append(
                header.producer_id,
                header.producer_epoch,
                ProducedBatch {
                    first_sequence: header.base_sequence,
                    last_sequence: header.base_sequence.wrapping_add(header.last_offset_delta) & i32::MAX,
                    base_offset,
                    last_offset,
                },
            );
        }
    }
}

/// The error code a log failure answers a client with.
pub(crate) fn log_error_code(error: &LogError) -> ErrorCode {
    match error {
        LogError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
        LogError::InvalidBatch(_) => ErrorCode::CorruptMessage,
        LogError::MessageTooLarge { .. } => ErrorCode::MessageTooLarge,
        LogError::BatchLargerThanSegment { .. } => ErrorCode::RecordListTooLarge,
        LogError::NotOneBatch { .. } | LogError::InconsistentRecordCount { .. } => ErrorCode::InvalidRecord,
        LogError::Io { .. } | LogError::Corrupt { .. } | LogError::Offline => ErrorCode::KafkaStorageError,
    }
}

fn batch_error_code(error: &BatchError) -> ErrorCode {
    match error {
        BatchError::UnsupportedMagic(_) => ErrorCode::UnsupportedForMessageFormat,
        _ => ErrorCode::CorruptMessage,
    }
}

impl ReplicaLog for DiskLog {
    type Payload = BatchPayload;

    fn log_start_offset(&self) -> i64 {
        self.log.log_start_offset()
    }

    fn log_end_offset(&self) -> i64 {
        self.log.log_end_offset()
    }

    fn epochs(&self) -> &LeaderEpochCache {
        &self.epochs
    }

    fn begin_leader_epoch(&mut self, leader_epoch: i32) {
        let log_end_offset = self.log.log_end_offset();
        // A failure is logged; the in-memory cache is still right for this run.
        let _ = self.note_epoch(leader_epoch, log_end_offset);
    }

    fn topic_id(&self) -> Option<[u8; 16]> {
        self.topic_id
    }

    fn set_topic_id(&mut self, topic_id: [u8; 16]) -> Result<(), ErrorCode> {
        if self.topic_id == Some(topic_id) {
            return Ok(());
        }
        let text = format!("version: 0\ntopic_id: {}\n", super::metadata_log::base64_uuid(&topic_id));
        super::replace_file(&self.log.dir().join(PARTITION_METADATA_FILE), text.as_bytes()).map_err(|error| {
            tracing::error!(%error, tp = %self.tp, "cannot write partition.metadata");
            ErrorCode::KafkaStorageError
        })?;
        self.topic_id = Some(topic_id);
        Ok(())
    }

    fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    fn set_high_watermark(&mut self, high_watermark: i64) {
        self.high_watermark = high_watermark;
    }

    /// Kafka's `ProduceRequest.validateRecords` and `LogValidator`, as far as they go here:
    /// exactly one magic-2 batch, no transactional batches yet, idempotent sequence numbers.
    fn append_as_leader(&mut self, now_ms: u64, leader_epoch: i32, records: &Bytes) -> Result<Appended, ErrorCode> {
        let header = BatchHeader::parse(records).map_err(|e| batch_error_code(&e))?;
        if header.size_in_bytes() != records.len() {
            return Err(ErrorCode::InvalidRecord);
        }
        if header.is_transactional() {
            return Err(ErrorCode::InvalidRecord);
        }
        let last_sequence = header.base_sequence.wrapping_add(header.last_offset_delta) & i32::MAX;
        if header.producer_id >= 0 {
            match self.producers.check(header.producer_id, header.producer_epoch, header.base_sequence, last_sequence) {
                SequenceCheck::Append => {}
                SequenceCheck::Duplicate { base_offset } => {
                    let last_offset = base_offset + i64::from(header.last_offset_delta);
                    return Ok(Appended { base_offset, last_offset, duplicate: true, log_append_time_ms: -1 });
                }
                SequenceCheck::Reject(error) => return Err(error),
            }
        }
        let now_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let info = self.log.append(records, leader_epoch, now_ms).map_err(|error| {
            let code = log_error_code(&error);
            if code == ErrorCode::KafkaStorageError {
                tracing::error!(%error, tp = %self.tp, "append failed");
            }
            code
        })?;
        self.mark_dirty();
        self.note_epoch(leader_epoch, info.base_offset)?;
        self.remember_producer(&header, info.base_offset, info.last_offset);
        Ok(Appended {
            base_offset: info.base_offset,
            last_offset: info.last_offset,
            duplicate: false,
            log_append_time_ms: info.log_append_time_ms,
        })
    }

    fn append_as_follower(&mut self, records: &Bytes) -> Result<(), ErrorCode> {
        // A fetch response may end with a partial batch (a max bytes cut): the iteration stops there.
        for (header, bytes) in batch::batches(records).map_while(Result::ok) {
            let log_end_offset = self.log.log_end_offset();
            if header.last_offset() < log_end_offset {
                continue; // already here (a duplicated answer)
            }
            // Past the log end is fine: the leader's cleaner may have removed the batches between.
            if header.base_offset < log_end_offset {
                tracing::error!(tp = %self.tp, base_offset = header.base_offset, log_end_offset, "a fetched batch overlaps the log end");
                return Err(ErrorCode::CorruptMessage);
            }
            let now_ms = super::cluster::now_ms();
            let info = self.log.append_as_follower(bytes, now_ms).map_err(|error| {
                tracing::error!(%error, tp = %self.tp, "follower append failed");
                log_error_code(&error)
            })?;
            self.mark_dirty();
            self.note_epoch(header.partition_leader_epoch, info.base_offset)?;
            self.remember_producer(&header, info.base_offset, info.last_offset);
        }
        Ok(())
    }

    fn read(&self, fetch_offset: i64, max: usize) -> Result<Bytes, ErrorCode> {
        // A follower reads past the high watermark: that is how it gets what is not committed yet.
        self.log.read(fetch_offset, max, i64::MAX).map(Bytes::from).map_err(|error| log_error_code(&error))
    }

    fn truncate_to(&mut self, offset: i64) -> Result<u64, ErrorCode> {
        let before = self.log.log_end_offset();
        self.log.truncate_to(offset.max(self.log.log_start_offset())).map_err(|error| {
            tracing::error!(%error, tp = %self.tp, "truncation failed");
            log_error_code(&error)
        })?;
        let after = self.log.log_end_offset();
        self.high_watermark = self.high_watermark.min(after);
        let entries = self.epochs.entries().len();
        self.epochs.truncate_from_end(after);
        if self.epochs.entries().len() != entries {
            self.write_epochs()?;
        }
        // The dropped batches' producer state is stale now: rebuild it from what stays.
        self.producers = rebuild_producers(&self.log).map_err(|error| log_error_code(&error))?;
        Ok(u64::try_from(before - after).unwrap_or(0))
    }

    fn configure(&mut self, configs: &TopicConfigs) {
        let config = log_config(configs);
        if *self.log.config() != config {
            self.log.set_config(config);
        }
    }
}

/// Idempotent producers' recent batches, from the log tail, so a batch retried across a
/// restart is still recognised as a duplicate (Kafka rebuilds this state from its log too).
fn rebuild_producers(log: &PartitionLog) -> Result<ProducerStates, LogError> {
    let mut producers = ProducerStates::default();
    for header in log.recent_batch_headers(PRODUCER_STATE_WINDOW_BYTES)? {
        if header.producer_id >= 0 {
            producers.on_append(
                header.producer_id,
                header.producer_epoch,
                ProducedBatch {
                    first_sequence: header.base_sequence,
                    last_sequence: header.base_sequence.wrapping_add(header.last_offset_delta) & i32::MAX,
                    base_offset: header.base_offset,
                    last_offset: header.last_offset(),
                },
            );
        }
    }
    Ok(producers)
}

/// Reads `leader-epoch-checkpoint`. A missing file is an empty cache (a new partition, or a
/// log from before the file existed: its epochs were all 0); a damaged one is rebuilt from the
/// batches' own epochs.
fn read_leader_epochs(dir: &Path) -> Result<LeaderEpochCache, LogError> {
    let path = dir.join(LEADER_EPOCH_CHECKPOINT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LeaderEpochCache::default()),
        Err(source) => return Err(LogError::Io { context: format!("cannot read {}", path.display()), source }),
    };
    let mut cache = LeaderEpochCache::default();
    let mut lines = text.lines();
    let header_ok = lines.next() == Some("0") && lines.next().and_then(|n| n.parse::<usize>().ok()).is_some();
    for line in lines {
        let parsed = line.split_once(' ').and_then(|(e, o)| Some((e.parse::<i32>().ok()?, o.parse::<i64>().ok()?)));
        match parsed {
            Some((epoch, start_offset)) if header_ok => cache.assign(epoch, start_offset),
            _ => {
                tracing::warn!(path = %path.display(), "the leader epoch checkpoint is damaged; starting from none");
                return Ok(LeaderEpochCache::default());
            }
        }
    }
    Ok(cache)
}

/// The topic id in a partition directory's `partition.metadata` (`version: 0`, then
/// `topic_id: <base64 UUID>`), `None` if there is none yet. The file is only ever replaced
/// atomically, so a damaged one was edited by hand: it counts as none (with a warning), and
/// the topic of the directory's name adopts the log, rather than one file keeping the whole
/// broker from starting.
///
/// # Errors
///
/// [`LogError::Io`] if it exists but cannot be read (the disk itself fails).
fn read_partition_metadata(dir: &Path) -> Result<Option<[u8; 16]>, LogError> {
    let path = dir.join(PARTITION_METADATA_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LogError::Io { context: format!("cannot read {}", path.display()), source }),
    };
    let mut version = None;
    let mut topic_id = None;
    for line in text.lines() {
        match line.split_once(':').map(|(key, value)| (key.trim(), value.trim())) {
            Some(("version", value)) => version = Some(value.to_owned()),
            Some(("topic_id", value)) => topic_id = super::metadata_log::base64_uuid_decode(value),
            _ => {}
        }
    }
    match (version.as_deref(), topic_id) {
        (Some("0"), Some(topic_id)) => Ok(Some(topic_id)),
        _ => {
            tracing::warn!(path = %path.display(), "partition.metadata does not hold a version 0 topic id; ignoring it");
            Ok(None)
        }
    }
}

/// The high watermarks in `dir`'s checkpoint file. A missing file is an empty map; so is a
/// damaged one (with a warning): each log then starts at its log start offset, which is safe
/// and only means waiting for the followers once more.
pub(crate) fn read_high_watermarks(dir: &Path) -> HashMap<TopicPartition, i64> {
    let path = dir.join(HIGH_WATERMARK_CHECKPOINT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the high watermark checkpoint; starting from none");
            return HashMap::new();
        }
    };
    match parse_high_watermarks(&text) {
        Some(high_watermarks) => high_watermarks,
        None => {
            tracing::warn!(path = %path.display(), "the high watermark checkpoint is damaged; starting from none");
            HashMap::new()
        }
    }
}

/// Kafka's `CheckpointFile` format: a version line (0), a count line, then `topic partition
/// offset` per line. `None` if any part is off, the count included.
fn parse_high_watermarks(text: &str) -> Option<HashMap<TopicPartition, i64>> {
    let mut lines = text.lines();
    if lines.next()? != "0" {
        return None;
    }
    let count = lines.next()?.parse::<usize>().ok()?;
    let mut high_watermarks = HashMap::new();
    for line in lines {
        let mut fields = line.split(' ');
        let (Some(topic), Some(partition), Some(offset), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return None;
        };
        let partition = partition.parse::<i32>().ok().filter(|p| *p >= 0)?;
        let offset = offset.parse::<i64>().ok().filter(|o| *o >= 0)?;
        if topic.is_empty() {
            return None;
        }
        high_watermarks.insert(TopicPartition { topic: topic.to_owned(), partition }, offset);
    }
    (high_watermarks.len() == count).then_some(high_watermarks)
}

/// Replaces `dir`'s high watermark checkpoint with `high_watermarks`, atomically (a crash
/// leaves the old file or the new one).
pub(crate) fn write_high_watermarks(dir: &Path, high_watermarks: &[(TopicPartition, i64)]) -> std::io::Result<()> {
    let mut text = format!("0\n{}\n", high_watermarks.len());
    for (tp, offset) in high_watermarks {
        text.push_str(&format!("{} {} {offset}\n", tp.topic, tp.partition));
    }
    super::replace_file(&dir.join(HIGH_WATERMARK_CHECKPOINT_FILE), text.as_bytes())
}

#[cfg(test)]
mod tests;
