//! The on-disk commit log of one partition: segment files, sparse indexes, recovery, retention.
//!
//! # Layout
//!
//! * [`PartitionLog`] (this file): the partition's directory (say `<data>/orders-0/`) as a list
//!   of segments ordered by base offset. Appends go to the last one (the active segment); a new
//!   one rolls in on `segment.bytes` or `segment.ms`; retention deletes whole old segments.
//! * `segment`: one segment, its files, appends, reads, recovery.
//! * `index`: the `.index` (offset → position) and `.timeindex` (timestamp → offset) formats.
//! * `cleaner`: log compaction (Kafka's `LogCleaner`): the latest record of each key kept at
//!   its offset, segments rewritten to `.cleaned` files and swapped in through `.swap` files,
//!   a half-done swap finished or undone by [`PartitionLog::open`].
//! * [`FileCache`] (`file_cache.rs`): the bounded cache of open handles every segment's files
//!   go through, so a broker with thousands of partitions holds a bounded number of descriptors.
//!
//! ```text
//! orders-0/
//!   00000000000000000000.log        batches with offsets [0, 5120)     sealed
//!   00000000000000000000.index
//!   00000000000000000000.timeindex
//!   00000000000000005120.log        batches with offsets [5120, LEO)   active
//!   00000000000000005120.index
//!   00000000000000005120.timeindex
//! ```
//!
//! Blocking `std::fs` I/O: the caller runs it on a blocking thread and owns the policy. Time is
//! an argument (`now_ms`), never read from the system clock, and so is the flush schedule: an
//! append only reaches the page cache, and [`PartitionLog::flush`] (called by the caller every
//! few milliseconds, a group commit) makes it durable.
//!
//! Crash safety: an append writes the log bytes before the index entries; recovery on
//! [`PartitionLog::open`] trusts nothing past the last batch with a sane header, a valid CRC and
//! offsets past the previous batch's (a cleaned segment has gaps), truncates there, and rebuilds
//! the indexes from the log.

mod cleaner;
mod file_cache;
mod index;
mod segment;

use std::fs;
use std::path::{Path, PathBuf};

pub use cleaner::{CLEANER_CHECKPOINT_FILE, CleanedLog, CleanerStats, DEDUPE_BUFFER_BYTES_DEFAULT, LogToClean};
use file_cache::FileRef;
pub use file_cache::{FileCache, FileCacheStats};

use crate::record::batch::{self, BatchError, BatchHeader};
use segment::{INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX, io_error, remove_if_exists};

/// Segment positions are stored as 4 bytes and Kafka's `segment.bytes` is an `int`, so a
/// segment never grows past this, whatever the configuration says.
const SEGMENT_BYTES_MAX: u64 = i32::MAX as u64;

/// Per-topic log settings, named after Kafka's topic configs (defaults are Kafka's).
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes`: roll to a new segment before the active one would exceed this.
    /// Default 1 GiB; capped at `i32::MAX` as in Kafka.
    pub segment_bytes: u64,
    /// `segment.ms`: roll once the active segment spans more than this, measured from its
    /// first batch's timestamp to the incoming batch's. Default 7 days.
    pub segment_ms: i64,
    /// `retention.ms`: delete a sealed segment once its largest timestamp is older than this.
    /// Default 7 days; -1 keeps data forever.
    pub retention_ms: i64,
    /// `retention.bytes`: delete the oldest sealed segments while the log stays at least this
    /// big without them. Default -1, no size limit.
    pub retention_bytes: i64,
    /// `index.interval.bytes`: add an index entry after roughly this many bytes of log.
    /// Default 4096.
    pub index_interval_bytes: u32,
    /// `max.message.bytes`: the largest batch accepted by append, log overhead included.
    /// Default 1048588 (1 MiB + 12 bytes of log overhead).
    pub max_message_bytes: usize,
    /// `message.timestamp.type=LogAppendTime`: a leader append stamps the batch with the time
    /// it was appended (Kafka's `LogValidator`); default CreateTime, the producer's timestamps.
    pub log_append_time: bool,
    /// `cleanup.policy` includes `delete`: `retention.ms` and `retention.bytes` delete old
    /// segments. Default true (`cleanup.policy=delete`).
    pub cleanup_policy_delete: bool,
    /// `cleanup.policy` includes `compact`: the cleaner keeps the latest record of each key
    /// (see `cleaner.rs`). Default false.
    pub cleanup_policy_compact: bool,
    /// `delete.retention.ms`: how long a tombstone stays once the cleaner has first seen it
    /// (KIP-534's delete horizon). Default 1 day.
    pub delete_retention_ms: i64,
    /// `min.compaction.lag.ms`: a segment holding a record younger than this is not cleaned.
    /// Default 0.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: a dirty segment whose first batch is older than this is cleaned
    /// whatever the dirty ratio. Default `i64::MAX` (never forced).
    pub max_compaction_lag_ms: i64,
    /// `min.cleanable.dirty.ratio`: the share of the log (by bytes) that must be dirty before
    /// the cleaner picks it. Default 0.5.
    pub min_cleanable_dirty_ratio: f64,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: 7 * 24 * 60 * 60 * 1000,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: -1,
            index_interval_bytes: 4096,
            max_message_bytes: 1024 * 1024 + batch::LOG_OVERHEAD,
            log_append_time: false,
            cleanup_policy_delete: true,
            cleanup_policy_compact: false,
            delete_retention_ms: 24 * 60 * 60 * 1000,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            min_cleanable_dirty_ratio: 0.5,
        }
    }
}

/// Why a log operation failed. [`LogError::kafka_error_code`] maps each case to the error code
/// a Kafka broker would answer with.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file operation failed; `context` says which file and what was being done.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The batch given to `append` does not parse or fails its CRC.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] BatchError),
    /// The batch is larger than `max.message.bytes`.
    #[error("the record batch is {size_bytes} bytes, more than max.message.bytes ({max_bytes})")]
    MessageTooLarge { size_bytes: usize, max_bytes: usize },
    /// The batch would not fit even in an empty segment.
    #[error("the record batch is {size_bytes} bytes, more than segment.bytes ({segment_bytes})")]
    BatchLargerThanSegment { size_bytes: usize, segment_bytes: u64 },
    /// The bytes given to `append` hold more than one batch, or trailing bytes.
    #[error("expected exactly one record batch: the batch is {batch_bytes} bytes but {buffer_bytes} were sent")]
    NotOneBatch { batch_bytes: usize, buffer_bytes: usize },
    /// `recordCount` is not `lastOffsetDelta + 1`, as it must be in a producer's batch.
    #[error("the batch header says {record_count} records but lastOffsetDelta {last_offset_delta} (must be count - 1)")]
    InconsistentRecordCount { record_count: i32, last_offset_delta: i32 },
    /// A read or truncation outside `[log_start_offset, log_end_offset]`.
    #[error("offset {offset} is out of range: log start offset {log_start_offset}, log end offset {log_end_offset}")]
    OffsetOutOfRange { offset: i64, log_start_offset: i64, log_end_offset: i64 },
    /// Stored bytes that recovery did not check (the middle of a sealed segment) are damaged.
    #[error("segment {segment_base_offset} is corrupt at byte {position}: {source}")]
    Corrupt { segment_base_offset: i64, position: u64, source: BatchError },
    /// An earlier write or fsync failed, so memory and files may disagree: reopen to recover.
    #[error("the partition log is offline after an I/O error; reopen it to run recovery")]
    Offline,
}

impl LogError {
    /// The Kafka protocol error code for this failure (Kafka protocol guide, "Error Codes").
    pub fn kafka_error_code(&self) -> i16 {
        match self {
            LogError::OffsetOutOfRange { .. } => 1,        // OFFSET_OUT_OF_RANGE
            LogError::InvalidBatch(_) => 2,                // CORRUPT_MESSAGE
            LogError::MessageTooLarge { .. } => 10,        // MESSAGE_TOO_LARGE
            LogError::BatchLargerThanSegment { .. } => 18, // RECORD_LIST_TOO_LARGE
            LogError::NotOneBatch { .. } | LogError::InconsistentRecordCount { .. } => 87, // INVALID_RECORD
            LogError::Io { .. } | LogError::Corrupt { .. } | LogError::Offline => 56, // KAFKA_STORAGE_ERROR
        }
    }
}

/// Files to fsync, taken from a log by [`PartitionLog::take_sync_work`]. It holds names, not
/// descriptors: each file is synced through the [`FileCache`] (reopened if the cache closed it
/// since, unless closing already fsynced it), so a round over many partitions stays within the
/// cache's budget.
#[derive(Debug)]
pub struct SyncWork {
    files: Vec<FileRef>,
    /// The partition directory, when segment files were created or deleted in it.
    dir: Option<PathBuf>,
}

impl SyncWork {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dir.is_none()
    }

    /// fsyncs every file (data only: sizes are part of it on Linux's `fdatasync`), then the
    /// directory.
    pub fn sync(&self) -> Result<(), LogError> {
        for file in &self.files {
            file.sync()?;
        }
        if let Some(dir) = &self.dir {
            sync_dir(dir)?;
        }
        Ok(())
    }
}

/// What [`PartitionLog::open`] found and repaired, for the startup log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments in the log after recovery.
    pub segments: usize,
    /// Segments re-read batch by batch (the active one, and any whose index was unusable).
    pub segments_scanned: usize,
    /// Batches whose header, CRC and offsets were checked.
    pub batches_scanned: u64,
    /// Bytes cut off torn or corrupt tails, including deleted segments.
    pub truncated_bytes: u64,
    /// Segments deleted because an earlier one ended before their base offset.
    pub segments_deleted: usize,
    /// Segments whose index files were rebuilt (missing, torn, garbage or stale).
    pub indexes_rebuilt: usize,
    /// Cleaned segments whose swap a crash interrupted, finished on open (see `cleaner.rs`).
    pub swaps_completed: usize,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
}

/// The result of an append, as Kafka's `LogAppendInfo` reports it to the produce path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// The offset assigned to the first record: the log end offset before the append.
    pub base_offset: i64,
    pub last_offset: i64,
    /// The batch's `maxTimestamp`.
    pub max_timestamp: i64,
    /// The time the batch was stamped with (`message.timestamp.type=LogAppendTime`), or -1:
    /// its timestamps are the producer's. A ProduceResponse carries it as `log_append_time_ms`.
    pub log_append_time_ms: i64,
}

/// The commit log of one partition. See the module documentation.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    config: LogConfig,
    /// Ordered by base offset, contiguous (each starts at the previous one's next offset),
    /// never empty; the last one is active.
    segments: Vec<Segment>,
    /// Segment files were created or deleted since the last flush: fsync the directory too.
    dir_changed: bool,
    /// An append failed half-way: the in-memory state may not match the files any more.
    offline: bool,
    /// Where segments open their files.
    files: FileCache,
}

impl PartitionLog {
    /// Opens the partition log in `dir` (creating the directory and a first empty segment at
    /// offset 0 if needed) and recovers it.
    ///
    /// Recovery (Kafka `LogLoader`): the active segment is re-read in full; a sealed segment
    /// only from its last offset index entry on, unless an index file is missing or fails its
    /// sanity checks, in which case it is re-read in full too. A full read checks each batch's
    /// header, CRC and base offset (it must be the previous batch's next offset), truncates
    /// the file at the first failure and rebuilds the indexes. A segment whose base offset is
    /// not the previous segment's next offset is deleted, with all later ones.
    ///
    /// Segment files are opened through `files`, one at a time and closed again as the cache
    /// fills: recovering a log (or every log of a broker) never needs more descriptors than the
    /// cache's capacity.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] only: no file content makes `open` fail.
    pub fn open(
        dir: &Path,
        config: LogConfig,
        now_ms: i64,
        files: &FileCache,
    ) -> Result<(PartitionLog, RecoveryReport), LogError> {
        fs::create_dir_all(dir).map_err(io_error(format!("cannot create {}", dir.display())))?;
        // A clean interrupted by a crash: finish its swap or drop its unfinished files.
        let swaps_completed = cleaner::complete_swaps(dir)?;
        let base_offsets = list_segments(dir)?;
        let mut report = RecoveryReport { swaps_completed, ..RecoveryReport::default() };
        let mut segments: Vec<Segment> = Vec::new();
        for (i, &base_offset) in base_offsets.iter().enumerate() {
            if segments.last().is_some_and(|previous| previous.next_offset() != base_offset) {
                // A gap or an overlap: everything from here on is unreachable by offset.
                for &orphan in &base_offsets[i..] {
                    let path = dir.join(segment::file_name(orphan, LOG_SUFFIX));
                    report.truncated_bytes += fs::metadata(&path).map_or(0, |metadata| metadata.len());
                    report.segments_deleted += 1;
                    for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
                        remove_if_exists(&dir.join(segment::file_name(orphan, suffix)))?;
                    }
                }
                break;
            }
            let is_last = i + 1 == base_offsets.len();
            let (segment, recovery) =
                Segment::open(dir, base_offset, is_last, config.index_interval_bytes, now_ms, files)?;
            report.segments_scanned += usize::from(recovery.full_scan);
            report.batches_scanned += recovery.batches_scanned;
            report.truncated_bytes += recovery.truncated_bytes;
            report.indexes_rebuilt += usize::from(recovery.indexes_rewritten);
            segments.push(segment);
        }
        if segments.is_empty() {
            segments.push(Segment::create(dir, 0, now_ms, files)?);
        }
        let mut log = PartitionLog {
            dir: dir.to_path_buf(),
            config,
            segments,
            dir_changed: false,
            offline: false,
            files: files.clone(),
        };
        log.active_mut().activate()?;
        report.segments = log.segments.len();
        report.log_start_offset = log.log_start_offset();
        report.log_end_offset = log.log_end_offset();
        Ok((log, report))
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Alters the topic configs (IncrementalAlterConfigs). Takes effect from the next append
    /// (segment limits, index interval) or retention run.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// The first offset still in the log: the base offset of the oldest segment.
    pub fn log_start_offset(&self) -> i64 {
        self.segments.first().map_or(0, Segment::base_offset)
    }

    /// LEO: the offset the next appended record gets.
    pub fn log_end_offset(&self) -> i64 {
        self.segments.last().map_or(0, Segment::next_offset)
    }

    /// Bytes of all segment `.log` files.
    pub fn size_in_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size_bytes).sum()
    }

    /// Base offsets of the segments, oldest first (the file names, for lessons and tests).
    pub fn segment_base_offsets(&self) -> Vec<i64> {
        self.segments.iter().map(Segment::base_offset).collect()
    }

    /// Bytes appended since the last [`PartitionLog::flush`], which a crash could still lose.
    pub fn unflushed_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::unflushed_bytes).sum()
    }

    fn active(&self) -> &Segment {
        // `segments` is never empty (see `open`, `enforce_retention`, `truncate_to`).
        &self.segments[self.segments.len() - 1]
    }

    fn active_mut(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// Appends one producer batch as the leader does: validates it, assigns its offsets from
    /// the log end offset and stamps `leader_epoch` (both as the batch is written; `batch`
    /// itself is not changed, and the CRC does not cover them) and, on a LogAppendTime topic,
    /// the append time (the CRC recomputed), rolling to a new segment first if the active one
    /// is full or too old.
    ///
    /// # Errors
    ///
    /// [`LogError::InvalidBatch`] (bad header, CRC mismatch), [`LogError::NotOneBatch`],
    /// [`LogError::InconsistentRecordCount`], [`LogError::MessageTooLarge`],
    /// [`LogError::BatchLargerThanSegment`]: the log is unchanged. [`LogError::Io`] while
    /// writing takes the log [`LogError::Offline`] until it is reopened.
    pub fn append(&mut self, batch: &[u8], leader_epoch: i32, now_ms: i64) -> Result<AppendInfo, LogError> {
        if self.offline {
            return Err(LogError::Offline);
        }
        let mut header = self.validate(batch)?;
        let log_append_time_ms = self.config.log_append_time.then_some(now_ms);
        if let Some(log_append_time_ms) = log_append_time_ms {
            header.attributes |= batch::TIMESTAMP_TYPE_MASK;
            header.max_timestamp = log_append_time_ms;
        }
        if self.should_roll(&header, self.log_end_offset(), now_ms) {
            self.roll(now_ms).inspect_err(|_| self.offline = true)?;
        }
        let base_offset = self.log_end_offset();
        let header = BatchHeader { base_offset, partition_leader_epoch: leader_epoch, ..header };
        let index_interval_bytes = self.config.index_interval_bytes;
        self.active_mut().append(batch, &header, index_interval_bytes, now_ms).inspect_err(|_| self.offline = true)?;
        Ok(AppendInfo {
            base_offset,
            last_offset: header.last_offset(),
            max_timestamp: header.max_timestamp,
            log_append_time_ms: log_append_time_ms.unwrap_or(-1),
        })
    }

    /// Appends a batch fetched from the leader as it is: its offsets, leader epoch and
    /// timestamps are the leader's (Kafka `UnifiedLog.appendAsFollower`), so replicas hold the
    /// same bytes. A batch from a cleaned segment may start
    /// past the log end offset (the cleaner removed the batches in between) and hold fewer
    /// records than its offsets span, down to none (an idempotent producer's emptied batch).
    ///
    /// # Errors
    ///
    /// As [`PartitionLog::append`], and [`LogError::OffsetOutOfRange`] if the batch starts
    /// below the log end offset.
    pub fn append_as_follower(&mut self, batch: &[u8], now_ms: i64) -> Result<AppendInfo, LogError> {
        if self.offline {
            return Err(LogError::Offline);
        }
        let header = self.validate_size_and_crc(batch)?;
        let log_end_offset = self.log_end_offset();
        if header.base_offset < log_end_offset {
            return Err(LogError::OffsetOutOfRange {
                offset: header.base_offset,
                log_start_offset: self.log_start_offset(),
                log_end_offset,
            });
        }
        if self.should_roll(&header, header.base_offset, now_ms) {
            self.roll(now_ms).inspect_err(|_| self.offline = true)?;
        }
        let index_interval_bytes = self.config.index_interval_bytes;
        self.active_mut().append(batch, &header, index_interval_bytes, now_ms).inspect_err(|_| self.offline = true)?;
        Ok(AppendInfo {
            base_offset: header.base_offset,
            last_offset: header.last_offset(),
            max_timestamp: header.max_timestamp,
            log_append_time_ms: -1,
        })
    }

    /// The produce-path checks of Kafka's `LogValidator` that apply to raw batches.
    fn validate(&self, batch: &[u8]) -> Result<BatchHeader, LogError> {
        let header = self.validate_size_and_crc(batch)?;
        // LogValidator.validateBatch: a producer's batch holds lastOffsetDelta + 1 records
        // (only compaction leaves gaps, and compacted batches are never produced).
        if header.record_count <= 0 || i64::from(header.record_count) != i64::from(header.last_offset_delta) + 1 {
            return Err(LogError::InconsistentRecordCount {
                record_count: header.record_count,
                last_offset_delta: header.last_offset_delta,
            });
        }
        Ok(header)
    }

    /// One whole batch, within `max.message.bytes` and `segment.bytes`, its CRC right.
    fn validate_size_and_crc(&self, batch: &[u8]) -> Result<BatchHeader, LogError> {
        let header = BatchHeader::parse(batch)?;
        let batch_bytes = header.size_in_bytes();
        if batch.len() < batch_bytes {
            return Err(BatchError::Truncated { needed: batch_bytes, available: batch.len() }.into());
        }
        // Produce v3+ carries exactly one batch per partition (LogValidator.validateOneBatchRecords).
        if batch.len() > batch_bytes {
            return Err(LogError::NotOneBatch { batch_bytes, buffer_bytes: batch.len() });
        }
        if batch_bytes > self.config.max_message_bytes {
            return Err(LogError::MessageTooLarge {
                size_bytes: batch_bytes,
                max_bytes: self.config.max_message_bytes,
            });
        }
        let segment_bytes = self.config.segment_bytes.min(SEGMENT_BYTES_MAX);
        if batch_bytes as u64 > segment_bytes {
            return Err(LogError::BatchLargerThanSegment { size_bytes: batch_bytes, segment_bytes });
        }
        batch::verify_crc(batch)?;
        Ok(header)
    }

    /// Kafka `UnifiedLog.maybeRoll` / `LogSegment.shouldRoll`: a non-empty active segment rolls
    /// if the batch would push it past `segment.bytes`, if it has spanned more than
    /// `segment.ms`, or if the batch's last offset would not fit a 4-byte relative offset.
    /// `base_offset` is where the batch goes (the log end offset, or a follower's batch's own).
    fn should_roll(&self, header: &BatchHeader, base_offset: i64, now_ms: i64) -> bool {
        let active = self.active();
        if active.size_bytes() == 0 {
            return false;
        }
        let segment_bytes = self.config.segment_bytes.min(SEGMENT_BYTES_MAX);
        let full = active.size_bytes() + header.size_in_bytes() as u64 > segment_bytes;
        let old = active.time_waited_for_roll_ms(now_ms, header.max_timestamp) > self.config.segment_ms;
        let last_offset = base_offset.saturating_add(i64::from(header.last_offset_delta));
        let offsets_overflow = last_offset - active.base_offset() > i64::from(i32::MAX);
        full || old || offsets_overflow
    }

    /// Seals the active segment and starts a new one at the log end offset.
    fn roll(&mut self, now_ms: i64) -> Result<(), LogError> {
        let base_offset = self.log_end_offset();
        self.active_mut().seal()?;
        self.segments.push(Segment::create(&self.dir, base_offset, now_ms, &self.files)?);
        self.dir_changed = true;
        Ok(())
    }

    /// Whole batches, in log order, starting with the batch that contains `offset` (so the
    /// first may start before it: consumers skip records below their fetch offset), for a
    /// Fetch. Stops before the first batch whose last offset is `>= upper_bound` (the caller
    /// passes the high watermark, or the log end offset for a follower), and before a batch
    /// that would take the result past `max_bytes`, except that the first batch is returned
    /// even if it alone is larger (KIP-74), so a consumer always makes progress. May span
    /// segments. CRCs are not re-checked: clients check them.
    ///
    /// Returns an owned `Vec<u8>`: the bytes are copied out of the file once, ready to be put
    /// in a FetchResponse. Empty when `offset` is the log end offset or at/after `upper_bound`.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] unless `log_start_offset <= offset <= log_end_offset`.
    pub fn read(&self, offset: i64, max_bytes: usize, upper_bound: i64) -> Result<Vec<u8>, LogError> {
        self.check_in_range(offset)?;
        let mut out = Vec::new();
        if offset >= self.log_end_offset() || offset >= upper_bound {
            return Ok(out);
        }
        let mut first = self.segment_index_for(offset);
        let mut position = match self.segments[first].find_batch(offset)? {
            Some((position, _)) => position,
            // `offset` is in a gap the cleaner left at the end of its segment: the next
            // segment has the next batch.
            None if first + 1 < self.segments.len() => {
                first += 1;
                0
            }
            None => return Ok(out),
        };
        for segment in &self.segments[first..] {
            if segment.read_batches(position, max_bytes, upper_bound, &mut out)? {
                break;
            }
            position = 0;
        }
        Ok(out)
    }

    fn check_in_range(&self, offset: i64) -> Result<(), LogError> {
        let (log_start_offset, log_end_offset) = (self.log_start_offset(), self.log_end_offset());
        if offset < log_start_offset || offset > log_end_offset {
            return Err(LogError::OffsetOutOfRange { offset, log_start_offset, log_end_offset });
        }
        Ok(())
    }

    /// Index in `segments` of the last segment whose base offset is `<= offset`.
    fn segment_index_for(&self, offset: i64) -> usize {
        self.segments.partition_point(|segment| segment.base_offset() <= offset).saturating_sub(1)
    }

    /// For ListOffsets with a timestamp: the first batch (in offset order) whose `maxTimestamp`
    /// is `>= timestamp_ms`, found through the time indexes (Kafka
    /// `UnifiedLog.fetchOffsetByTimestamp`). The answer is the first record inside it with a
    /// timestamp `>= timestamp_ms` (see [`crate::record::batch::record_positions`]); the caller
    /// also checks that record is below the high watermark, as Kafka does. `None` if no batch
    /// is that recent.
    pub fn batch_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<Vec<u8>>, LogError> {
        for segment in self.segments.iter().filter(|segment| segment.max_timestamp() >= timestamp_ms) {
            if let Some(batch) = segment.find_batch_by_timestamp(timestamp_ms)? {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }

    /// For ListOffsets with timestamp -3 (`MAX_TIMESTAMP`, KIP-734): `(offset, timestamp)` of
    /// the record with the largest timestamp, the earliest such record on ties, as Kafka 3.8+
    /// answers. The offset is exact for uncompressed and LogAppendTime batches; for a
    /// compressed batch it is the batch's last offset (what Kafka answered before 3.8,
    /// KAFKA-16310), since the log does not decompress. `None` if no batch has a timestamp.
    pub fn max_timestamp(&self) -> Option<(i64, i64)> {
        let mut best: Option<&Segment> = None;
        for segment in &self.segments {
            if segment.max_timestamp() >= 0 && best.is_none_or(|best| segment.max_timestamp() > best.max_timestamp()) {
                best = Some(segment);
            }
        }
        best.map(|segment| (segment.offset_of_max_timestamp(), segment.max_timestamp()))
    }

    /// Headers of the most recent batches, oldest first, from about the last `window_bytes` of
    /// the log (across the last segments). Rebuilds idempotent producers' state after a restart,
    /// as Kafka does from its log; the window bounds the start-up cost.
    pub fn recent_batch_headers(&self, window_bytes: u64) -> Result<Vec<BatchHeader>, LogError> {
        let mut remaining = window_bytes;
        let mut chunks = Vec::new();
        for segment in self.segments.iter().rev() {
            if remaining == 0 {
                break;
            }
            chunks.push(segment.tail_headers(remaining)?);
            remaining = remaining.saturating_sub(segment.size_bytes());
        }
        Ok(chunks.into_iter().rev().flatten().collect())
    }

    /// Group commit without blocking appends: returns the files written since the last flush
    /// for the caller to `fsync` outside whatever lock guards this log
    /// (see [`SyncWork::sync`]). A failed sync must be reported with
    /// [`PartitionLog::mark_offline`].
    pub fn take_sync_work(&mut self) -> Result<SyncWork, LogError> {
        if self.offline {
            return Err(LogError::Offline);
        }
        let files = self.segments.iter_mut().flat_map(Segment::take_sync_files).collect();
        // The directory entry of a new segment must be durable too.
        let dir = std::mem::take(&mut self.dir_changed).then(|| self.dir.clone());
        Ok(SyncWork { files, dir })
    }

    /// Takes the log offline after a failed sync: it refuses writes until reopened (recovery).
    pub fn mark_offline(&mut self) {
        self.offline = true;
    }

    /// Makes every append so far durable: fsyncs the log and index files of segments written
    /// since the last flush, and the directory if segments were created or deleted. Cheap when
    /// nothing changed.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`]; after one, the data may or may not be durable (an fsync error cannot be
    /// retried safely), so the log goes [`LogError::Offline`].
    pub fn flush(&mut self) -> Result<(), LogError> {
        if self.offline {
            return Err(LogError::Offline);
        }
        let result = self.flush_inner();
        self.offline = result.is_err();
        result
    }

    fn flush_inner(&mut self) -> Result<(), LogError> {
        for segment in &mut self.segments {
            segment.flush()?;
        }
        if self.dir_changed {
            sync_dir(&self.dir)?;
            self.dir_changed = false;
        }
        Ok(())
    }

    /// Deletes old sealed segments (the active one is never deleted) and advances the log
    /// start offset, as Kafka's `UnifiedLog.deleteOldSegments`, oldest first:
    ///
    /// 1. `retention.ms`: while the oldest segment's largest timestamp is more than
    ///    `retention_ms` before `now_ms` (stops at the first younger one, even if a later
    ///    segment is older: timestamps are the producers' and need not increase);
    /// 2. `retention.bytes`: while the log would still hold at least `retention_bytes`
    ///    without its oldest segment.
    ///
    /// Only with `cleanup.policy` including `delete` (Kafka `UnifiedLog.deleteOldSegments`): a
    /// `compact`-only topic keeps every segment, the cleaner alone shrinks it.
    ///
    /// Returns how many segments were deleted.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize, LogError> {
        let mut deleted = 0;
        if !self.config.cleanup_policy_delete {
            return Ok(deleted);
        }
        let retention_ms = self.config.retention_ms;
        while retention_ms >= 0 && self.segments.len() > 1 {
            let oldest = &self.segments[0];
            if now_ms.saturating_sub(oldest.largest_timestamp_for_retention()) <= retention_ms {
                break;
            }
            self.delete_oldest_segment()?;
            deleted += 1;
        }
        if let Ok(retention_bytes) = u64::try_from(self.config.retention_bytes) {
            while self.segments.len() > 1 && self.size_in_bytes() - self.segments[0].size_bytes() >= retention_bytes {
                self.delete_oldest_segment()?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    fn delete_oldest_segment(&mut self) -> Result<(), LogError> {
        let oldest = self.segments.remove(0);
        self.dir_changed = true;
        oldest.delete()
    }

    /// Drops every record at or after `offset`, as a follower does with a divergent tail (KIP-101).
    /// Segments starting after `offset` are deleted; in the one containing it, the batch that
    /// contains `offset` goes too (batches are never split), so the new log end offset is that
    /// batch's base offset, which is `offset` when `offset` is a batch boundary. A no-op if
    /// `offset >= log_end_offset`.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] if `offset < log_start_offset`.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        if self.offline {
            return Err(LogError::Offline);
        }
        if offset >= self.log_end_offset() {
            return Ok(());
        }
        self.check_in_range(offset)?;
        let result = self.truncate_inner(offset);
        self.offline = result.is_err();
        result
    }

    fn truncate_inner(&mut self, offset: i64) -> Result<(), LogError> {
        // Newest first, so that a crash midway leaves a contiguous log.
        while self.segments.len() > 1 && self.active().base_offset() > offset {
            if let Some(segment) = self.segments.pop() {
                self.dir_changed = true;
                segment.delete()?;
            }
        }
        let index_interval_bytes = self.config.index_interval_bytes;
        let active = self.active_mut();
        active.truncate_to(offset, index_interval_bytes)?;
        active.activate()
    }
}

/// Base offsets of the `.log` files in `dir`, sorted. Index files without a `.log` (left by a
/// crash during deletion) are removed; other files are left alone.
fn list_segments(dir: &Path) -> Result<Vec<i64>, LogError> {
    let entries = fs::read_dir(dir).map_err(io_error(format!("cannot list {}", dir.display())))?;
    let mut logs = Vec::new();
    let mut indexes = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(format!("cannot list {}", dir.display())))?;
        let name = entry.file_name();
        let Some((stem, suffix)) = name.to_str().and_then(|name| name.split_once('.')) else { continue };
        if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(base_offset) = stem.parse::<i64>() else { continue };
        match suffix {
            LOG_SUFFIX => logs.push(base_offset),
            INDEX_SUFFIX | TIME_INDEX_SUFFIX => indexes.push((base_offset, entry.path())),
            _ => {}
        }
    }
    logs.sort_unstable();
    for (base_offset, path) in indexes {
        if logs.binary_search(&base_offset).is_err() {
            remove_if_exists(&path)?;
        }
    }
    Ok(logs)
}

/// fsyncs a directory so that file creations and deletions in it survive a crash.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), LogError> {
    let context = || format!("cannot fsync {}", dir.display());
    fs::File::open(dir).and_then(|file| file.sync_all()).map_err(|source| LogError::Io { context: context(), source })
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), LogError> {
    // Directories cannot be opened as files here; creations are durable with the file itself.
    Ok(())
}

#[cfg(test)]
mod tests;
