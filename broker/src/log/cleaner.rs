//! Log compaction: the cleaner keeps the latest record of each key, as Kafka's `LogCleaner`,
//! `Cleaner` and `LogCleanerManager` do for `cleanup.policy=compact` (and `compact,delete`).
//!
//! # The rounds of a clean
//!
//! ```text
//!  log start        first dirty offset          first uncleanable offset        log end
//!     |  clean (already compacted)  |  dirty, cleanable  |  dirty, uncleanable  | active |
//! ```
//!
//! 1. **Pick** ([`PartitionLog::log_to_clean`], Kafka `LogCleanerManager.cleanableOffsets`):
//!    the dirty section starts at the checkpointed first dirty offset; it is cleanable up to
//!    the first segment that is active, not yet committed (past the high watermark), or holds
//!    a record younger than `min.compaction.lag.ms`. The log is due once its cleanable share of
//!    bytes is above `min.cleanable.dirty.ratio`, or once a dirty segment's first batch is older
//!    than `max.compaction.lag.ms`. The runtime cleans the dirtiest due log first.
//! 2. **Map** ([`LogToClean::clean`], `Cleaner.buildOffsetMap`): key → last offset over the
//!    cleanable dirty section, bounded by `log.cleaner.dedupe.buffer.size`; a full map ends the
//!    round early and the rest waits for the next one.
//! 3. **Copy** (`Cleaner.cleanSegments`): every segment from the log start up to where the map
//!    ends is rewritten, small neighbours grouped into one (`groupSegmentsBySize`), keeping a
//!    record only if no later record has its key. Batches keep their base offset, last offset
//!    delta and producer fields (`MemoryRecords.filterTo`), so offsets never change: removed
//!    records leave gaps. A batch whose records all go is dropped, except an idempotent
//!    producer's last batch, which stays empty so its sequence numbers survive, and the last
//!    batch of each group, so a cleaned segment ends at the offset the old ones ended at.
//! 4. **Swap** ([`PartitionLog::replace_cleaned`], `LocalLog.replaceSegments`), under the log's
//!    lock: `<base>.log.cleaned` → `<base>.log.swap`, old segments deleted, `.swap` → `.log`,
//!    then the new first dirty offset is checkpointed.
//!
//! Tombstones (a key with a null value) follow KIP-534: the first clean that keeps one stamps
//! its batch with a delete horizon, now + `delete.retention.ms` (attributes bit 6, the horizon in
//! `baseTimestamp`); a clean after the horizon removes it. Keyless records (none can be produced
//! on a compacted topic) are removed, as Kafka's cleaner does.
//!
//! Crash safety: `.cleaned` files are deleted on open (an unfinished clean), and a `.swap` file
//! finishes its swap (Kafka `LogLoader`): old segments within its offsets are deleted and it is
//! renamed into place. A crash at any step loses no record (see the tests).
//!
//! Steps 2 and 3 read sealed segment files and write new ones without the log's lock, so
//! produce and fetch go on during a clean; step 4 checks the segments it replaces are unchanged.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::BytesMut;
use kafka_protocol::compression::{self as kafka_compression, Compressor};

use super::segment::{self, INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX, io_error, remove_if_exists};
use super::{LogConfig, LogError, PartitionLog, SEGMENT_BYTES_MAX, sync_dir};
use crate::record::batch::{BATCH_HEADER_LEN, BatchError, BatchHeader, Compression, LOG_OVERHEAD};
use crate::record::codec::records_reader;
use crate::record::validate::{read_varint, read_varlong};

/// The partition's first dirty offset, kept across restarts (Kafka keeps one
/// `cleaner-offset-checkpoint` per log directory; here each partition directory has its own).
pub const CLEANER_CHECKPOINT_FILE: &str = "cleaner-offset-checkpoint";
/// A segment being written by the cleaner (`LogFileUtils.CLEANED_FILE_SUFFIX`).
pub(crate) const CLEANED_SUFFIX: &str = ".cleaned";
/// A cleaned segment being swapped in (`LogFileUtils.SWAP_FILE_SUFFIX`).
pub(crate) const SWAP_SUFFIX: &str = ".swap";
/// Kafka's `log.cleaner.dedupe.buffer.size` default: 128 MiB for the offset map.
pub const DEDUPE_BUFFER_BYTES_DEFAULT: usize = 128 * 1024 * 1024;
/// Bytes per offset map entry, as Kafka's `SkimpyOffsetMap` counts them (a 16-byte key hash
/// and an 8-byte offset).
const OFFSET_MAP_ENTRY_BYTES: usize = 24;
/// Kafka's `log.cleaner.io.buffer.load.factor`: the map is "full" at 90% of its slots.
const DEDUPE_BUFFER_LOAD_FACTOR: f64 = 0.9;
/// The largest a compressed batch may inflate to while it is cleaned (what produce accepts).
const UNCOMPRESSED_BATCH_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Reads and writes of segment files go through buffers of this size.
const IO_BUFFER_BYTES: usize = 1024 * 1024;
/// `attributes` bit 6: `baseTimestamp` is the delete horizon (KIP-534).
const DELETE_HORIZON_FLAG: i16 = 0x40;
/// `attributes` bits 0-2: the compression codec.
const COMPRESSION_MASK: i16 = 0x07;

/// One segment as the cleaner saw it when it planned: enough to check, at the swap, that the
/// segment is still the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentSnapshot {
    pub(crate) base_offset: i64,
    pub(crate) next_offset: i64,
    pub(crate) size_bytes: u64,
}

/// A compacted log's cleanable range and dirtiness (Kafka's `LogToClean`), taken under the
/// log's lock by [`PartitionLog::log_to_clean`]; [`LogToClean::clean`] then runs without it.
#[derive(Debug, Clone)]
pub struct LogToClean {
    dir: PathBuf,
    config: LogConfig,
    /// Where the dirty section starts: the checkpoint, or the log start offset.
    pub first_dirty_offset: i64,
    /// The base offset of the first segment that cannot be cleaned yet.
    pub first_uncleanable_offset: i64,
    /// Bytes of the segments below the first dirty offset.
    pub clean_bytes: u64,
    /// Bytes of the segments from the first dirty offset to the first uncleanable one.
    pub cleanable_bytes: u64,
    /// `max.compaction.lag.ms` has passed for a dirty segment: clean whatever the ratio.
    pub need_compaction_now: bool,
    /// When time alone may make this log due (the compaction lags), for the cleaner's sleep.
    pub next_check_ms: Option<i64>,
    segments: Vec<SegmentSnapshot>,
}

impl LogToClean {
    /// `cleanable_bytes / (clean_bytes + cleanable_bytes)` (Kafka `LogToClean.cleanableRatio`).
    pub fn cleanable_ratio(&self) -> f64 {
        let total_bytes = self.clean_bytes + self.cleanable_bytes;
        if total_bytes == 0 { 0.0 } else { self.cleanable_bytes as f64 / total_bytes as f64 }
    }

    /// Kafka `LogCleanerManager.grabFilthiestCompactedLog`: due when compaction is forced and
    /// something is cleanable, or when the dirty ratio is above `min.cleanable.dirty.ratio`.
    pub fn is_due(&self) -> bool {
        (self.need_compaction_now && self.cleanable_bytes > 0)
            || self.cleanable_ratio() > self.config.min_cleanable_dirty_ratio
    }

    /// Builds the offset map over the dirty section and writes the cleaned segments as
    /// `.cleaned` files, reading the log's files directly: no lock on the log is needed, since
    /// sealed segments do not change (the swap checks they are still there). `now_ms` decides
    /// which tombstones have passed their delete horizon.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`], or [`LogError::Corrupt`] for a batch that fails its CRC or does not
    /// parse; the `.cleaned` files written so far are removed.
    pub fn clean(&self, now_ms: i64, dedupe_buffer_bytes: usize) -> Result<CleanedLog, LogError> {
        self.clean_unless_aborted(now_ms, dedupe_buffer_bytes, &AtomicBool::new(false))
    }

    /// [`LogToClean::clean`], giving up between two batches once `aborted` is set (Kafka's
    /// `checkDone`): a broker that stops must not leave a clean running that could write into
    /// the files of its next incarnation.
    ///
    /// # Errors
    ///
    /// As [`LogToClean::clean`]; an abort is an [`io::ErrorKind::Interrupted`] I/O error.
    pub fn clean_unless_aborted(
        &self,
        now_ms: i64,
        dedupe_buffer_bytes: usize,
        aborted: &AtomicBool,
    ) -> Result<CleanedLog, LogError> {
        let mut written = Vec::new();
        let result = self.clean_into(now_ms, dedupe_buffer_bytes, aborted, &mut written);
        if result.is_err() {
            for path in written {
                let _ = remove_if_exists(&path);
            }
        }
        result
    }

    fn clean_into(
        &self,
        now_ms: i64,
        dedupe_buffer_bytes: usize,
        aborted: &AtomicBool,
        written: &mut Vec<PathBuf>,
    ) -> Result<CleanedLog, LogError> {
        let mut stats = CleanerStats::default();
        let mut producers = ProducerLastOffsets::default();
        let entries_max = ((dedupe_buffer_bytes / OFFSET_MAP_ENTRY_BYTES) as f64 * DEDUPE_BUFFER_LOAD_FACTOR) as usize;
        let mut map = OffsetMap::new(entries_max.max(1));
        let end_offset = self.build_offset_map(&mut map, &mut producers, aborted, &mut stats)?;
        // Producers whose batches the map pass did not read: the clean section and the tail.
        for segment in &self.segments {
            let in_map_pass = segment.base_offset >= self.dirty_segment_base() && segment.next_offset <= end_offset;
            if !in_map_pass {
                self.scan_producers(segment, &mut producers)?;
            }
        }
        let to_clean: Vec<SegmentSnapshot> =
            self.segments.iter().copied().filter(|segment| segment.base_offset < end_offset).collect();
        let segment_bytes = self.config.segment_bytes.min(SEGMENT_BYTES_MAX);
        let mut groups = Vec::new();
        for group in group_segments_by_size(&to_clean, segment_bytes, self.segment_upper_bound(end_offset)) {
            let filter = RecordFilter {
                map: &map,
                now_ms,
                delete_retention_ms: self.config.delete_retention_ms,
                producers: &producers,
            };
            let path =
                self.dir.join(format!("{}{CLEANED_SUFFIX}", segment::file_name(group[0].base_offset, LOG_SUFFIX)));
            written.push(path.clone());
            self.clean_group(&group, &filter, &path, aborted, &mut stats)?;
            groups.push(CleanedGroup { old: group, cleaned: path });
        }
        stats.segments_cleaned = to_clean.len();
        Ok(CleanedLog { groups, first_dirty_offset: end_offset, stats })
    }

    /// The base offset of the segment holding the first dirty offset.
    fn dirty_segment_base(&self) -> i64 {
        self.segments
            .iter()
            .rev()
            .find(|segment| segment.base_offset <= self.first_dirty_offset)
            .map_or(self.first_dirty_offset, |segment| segment.base_offset)
    }

    /// The offset each segment's offsets stay below: the next segment's base offset, or the
    /// end of the round for the last one.
    fn segment_upper_bound(&self, end_offset: i64) -> impl Fn(usize, &[SegmentSnapshot]) -> i64 {
        move |i, segments| segments.get(i + 1).map_or(end_offset, |next| next.base_offset)
    }

    /// Kafka `Cleaner.buildOffsetMap`: key → last offset over `[first_dirty, first_uncleanable)`.
    /// Returns where the map ends: the first uncleanable offset, or, if the map filled, the base
    /// offset of the first batch it could not take.
    fn build_offset_map(
        &self,
        map: &mut OffsetMap,
        producers: &mut ProducerLastOffsets,
        aborted: &AtomicBool,
        stats: &mut CleanerStats,
    ) -> Result<i64, LogError> {
        let dirty_base = self.dirty_segment_base();
        for segment in self.segments.iter().filter(|s| s.base_offset >= dirty_base) {
            if segment.base_offset >= self.first_uncleanable_offset {
                break;
            }
            let mut reader = SegmentReader::open(&self.dir, segment)?;
            while let Some((header, batch)) = reader.next_batch()? {
                check_done(aborted)?;
                producers.note(&header);
                if header.last_offset() < self.first_dirty_offset {
                    continue;
                }
                // The dirty section may end inside this segment (where the last round's map
                // filled): what follows is not cleanable this round.
                if header.base_offset >= self.first_uncleanable_offset {
                    while let Some(header) = reader.next_header()? {
                        producers.note(&header);
                    }
                    break;
                }
                if !map.is_empty() && map.len() + header.record_count.max(0) as usize > map.entries_max {
                    map.latest_offset = header.base_offset - 1;
                    return Ok(header.base_offset);
                }
                stats.bytes_read += batch.len() as u64;
                if !header.is_control() {
                    let records =
                        Records::of(&header, batch).map_err(|source| corrupt(segment, header.base_offset, source))?;
                    for record in records.iter() {
                        let record = record.map_err(|source| corrupt(segment, header.base_offset, source))?;
                        if let Some(key) = record.key
                            && record.offset >= self.first_dirty_offset
                        {
                            map.put(key, record.offset);
                        }
                    }
                }
                map.latest_offset = map.latest_offset.max(header.last_offset());
            }
        }
        // Gaps at the end of the dirty section belong to it too (`updateLatestOffset`).
        map.latest_offset = map.latest_offset.max(self.first_uncleanable_offset - 1);
        Ok(self.first_uncleanable_offset)
    }

    /// Notes the producer of every batch of `segment` from the batch headers alone.
    fn scan_producers(&self, segment: &SegmentSnapshot, producers: &mut ProducerLastOffsets) -> Result<(), LogError> {
        let mut reader = SegmentReader::open(&self.dir, segment)?;
        while let Some(header) = reader.next_header()? {
            producers.note(&header);
        }
        Ok(())
    }

    /// Kafka `Cleaner.cleanSegments`: copies what the filter retains from `group` into `path`.
    fn clean_group(
        &self,
        group: &[SegmentSnapshot],
        filter: &RecordFilter<'_>,
        path: &Path,
        aborted: &AtomicBool,
        stats: &mut CleanerStats,
    ) -> Result<(), LogError> {
        // A new file, never one a writer may still have open.
        remove_if_exists(path)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io_error(format!("cannot create {}", path.display())))?;
        let mut out = BufWriter::with_capacity(IO_BUFFER_BYTES, file);
        let mut rebuilt = Vec::new();
        let group_next_offset = group.last().map_or(0, |segment| segment.next_offset);
        for segment in group {
            let mut reader = SegmentReader::open(&self.dir, segment)?;
            while let Some((header, batch)) = reader.next_batch()? {
                check_done(aborted)?;
                stats.bytes_read += batch.len() as u64;
                // The group's last batch stays, empty if need be, so the cleaned segment ends
                // where the old ones did (the next segment's base offset follows it exactly).
                let retain_empty = header.next_offset() == group_next_offset;
                rebuilt.clear();
                let kept = filter
                    .filter_batch(&header, batch, retain_empty, &mut rebuilt, stats)
                    .map_err(|source| corrupt(segment, header.base_offset, source))?;
                let bytes = match kept {
                    Kept::Original => batch,
                    Kept::Rebuilt => &rebuilt[..],
                    Kept::Nothing => continue,
                };
                out.write_all(bytes).map_err(io_error(format!("cannot write {}", path.display())))?;
                stats.bytes_written += bytes.len() as u64;
            }
        }
        let file = out.into_inner().map_err(|error| LogError::Io {
            context: format!("cannot write {}", path.display()),
            source: error.into_error(),
        })?;
        file.sync_all().map_err(io_error(format!("cannot fsync {}", path.display())))
    }
}

/// What a clean wrote, for [`PartitionLog::replace_cleaned`].
#[derive(Debug)]
pub struct CleanedLog {
    groups: Vec<CleanedGroup>,
    /// The checkpoint once swapped in: where the next clean's dirty section starts.
    pub first_dirty_offset: i64,
    pub stats: CleanerStats,
}

#[derive(Debug)]
struct CleanedGroup {
    old: Vec<SegmentSnapshot>,
    cleaned: PathBuf,
}

impl CleanedLog {
    /// Removes the `.cleaned` files (a clean given up, say because the broker stopped).
    pub fn discard(self) {
        for group in self.groups {
            let _ = remove_if_exists(&group.cleaned);
        }
    }
}

/// What one clean read and kept (Kafka's `CleanerStats`), for the log line and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanerStats {
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_read: u64,
    pub records_retained: u64,
    pub segments_cleaned: usize,
}

/// Kafka's `OffsetMap` (`SkimpyOffsetMap`): key hash → offset of its last record. A key is
/// stored as a 128-bit hash (two SipHash-1-3 with random keys, where Kafka uses MD5), so the
/// memory per key is fixed whatever the key's size; a collision, as unlikely as with MD5, would
/// drop the older of two records.
#[derive(Debug)]
struct OffsetMap {
    /// Keyed by the key's hash, which is already random: hashing it again would only cost.
    entries: HashMap<u128, i64, BuildHasherDefault<KeyHashHasher>>,
    entries_max: usize,
    hashers: (std::collections::hash_map::RandomState, std::collections::hash_map::RandomState),
    /// The last offset the map covers: records past it are always kept.
    latest_offset: i64,
}

impl OffsetMap {
    fn new(entries_max: usize) -> OffsetMap {
        OffsetMap {
            entries: HashMap::default(),
            entries_max,
            hashers: (Default::default(), Default::default()),
            latest_offset: -1,
        }
    }

    fn hash(&self, key: &[u8]) -> u128 {
        let half = |state: &std::collections::hash_map::RandomState| {
            let mut hasher = state.build_hasher();
            hasher.write(key);
            hasher.finish()
        };
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    fn put(&mut self, key: &[u8], offset: i64) {
        let hash = self.hash(key);
        self.entries.insert(hash, offset);
    }

    /// The last offset of `key`, -1 if the dirty section does not have it.
    fn get(&self, key: &[u8]) -> i64 {
        self.entries.get(&self.hash(key)).copied().unwrap_or(-1)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The hasher of [`OffsetMap`]'s table: its keys are SipHash outputs, so their low 64 bits are
/// as good a hash as any.
#[derive(Debug, Default)]
struct KeyHashHasher(u64);

impl Hasher for KeyHashHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; fold anything else in so the hasher stays correct.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

/// Each idempotent producer's last batch in the log, by its last offset (Kafka's
/// `lastRecordsOfActiveProducers`): that batch is kept even if emptied.
#[derive(Debug, Default)]
struct ProducerLastOffsets(HashMap<i64, i64>);

impl ProducerLastOffsets {
    fn note(&mut self, header: &BatchHeader) {
        if header.producer_id >= 0 {
            let last = self.0.entry(header.producer_id).or_insert(i64::MIN);
            *last = (*last).max(header.last_offset());
        }
    }

    fn is_last_batch(&self, header: &BatchHeader) -> bool {
        header.producer_id >= 0 && self.0.get(&header.producer_id) == Some(&header.last_offset())
    }
}

/// What the filter made of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Every record stays: copy the batch as it is.
    Original,
    /// The batch was rebuilt (fewer records, or a new delete horizon) into the output buffer.
    Rebuilt,
    /// Nothing stays.
    Nothing,
}

/// Kafka's cleaner `RecordFilter` (`Cleaner.cleanInto` and `shouldRetainRecord`).
struct RecordFilter<'a> {
    map: &'a OffsetMap,
    now_ms: i64,
    delete_retention_ms: i64,
    producers: &'a ProducerLastOffsets,
}

impl RecordFilter<'_> {
    /// A record stays if it is past the map, or if it is its key's last record and either has a
    /// value or is a tombstone before its batch's delete horizon. Keyless records go.
    fn retain(&self, header: &BatchHeader, record: &Record<'_>) -> bool {
        if record.offset > self.map.latest_offset {
            return true;
        }
        let Some(key) = record.key else { return false };
        let latest_for_key = record.offset >= self.map.get(key);
        let retain_tombstone = !header.has_delete_horizon() || self.now_ms < header.base_timestamp;
        latest_for_key && (record.has_value || retain_tombstone)
    }

    /// Filters one batch into `out` (`MemoryRecords.filterTo`).
    fn filter_batch(
        &self,
        header: &BatchHeader,
        batch: &[u8],
        retain_empty: bool,
        out: &mut Vec<u8>,
        stats: &mut CleanerStats,
    ) -> Result<Kept, BatchError> {
        // No transactions yet: a control batch is kept as it is.
        if header.is_control() {
            return Ok(Kept::Original);
        }
        let records = Records::of(header, batch)?;
        let mut retained = Vec::new();
        let mut all_retained = true;
        let mut has_tombstone = false;
        for record in records.iter() {
            let record = record?;
            stats.records_read += 1;
            if self.retain(header, &record) {
                has_tombstone |= !record.has_value;
                retained.push(record);
            } else {
                all_retained = false;
            }
        }
        stats.records_retained += retained.len() as u64;
        if retained.is_empty() {
            // RETAIN_EMPTY: the producer's sequence numbers, or the segment's end offset.
            if retain_empty || self.producers.is_last_batch(header) {
                write_empty_batch(header, out);
                return Ok(Kept::Rebuilt);
            }
            return Ok(Kept::Nothing);
        }
        let set_delete_horizon = has_tombstone && !header.has_delete_horizon();
        if all_retained && !set_delete_horizon {
            return Ok(Kept::Original);
        }
        let delete_horizon_ms = set_delete_horizon.then(|| self.now_ms.saturating_add(self.delete_retention_ms));
        rebuild_batch(header, &retained, delete_horizon_ms, out)?;
        Ok(Kept::Rebuilt)
    }
}

/// One record of a batch, as the cleaner needs it (Kafka protocol guide, "Record").
#[derive(Debug, Clone, Copy)]
struct Record<'a> {
    offset: i64,
    timestamp: i64,
    key: Option<&'a [u8]>,
    has_value: bool,
    /// Everything after `timestampDelta`: offsetDelta, key, value, headers, kept verbatim.
    tail: &'a [u8],
    attributes: u8,
}

/// The records of a batch, decompressed if need be.
enum Records<'a> {
    Plain { header: BatchHeader, bytes: &'a [u8] },
    Inflated { header: BatchHeader, bytes: Vec<u8> },
}

impl<'a> Records<'a> {
    fn of(header: &BatchHeader, batch: &'a [u8]) -> Result<Records<'a>, BatchError> {
        let bytes = batch.get(BATCH_HEADER_LEN..header.size_in_bytes()).unwrap_or_default();
        match header.compression() {
            Compression::None => Ok(Records::Plain { header: *header, bytes }),
            compression => {
                let invalid = BatchError::InvalidRecord { index: 0, reason: "cannot decompress the records" };
                let reader = records_reader(compression, bytes, UNCOMPRESSED_BATCH_BYTES_MAX).map_err(|_| invalid)?;
                let mut inflated = Vec::new();
                reader
                    .take(UNCOMPRESSED_BATCH_BYTES_MAX as u64 + 1)
                    .read_to_end(&mut inflated)
                    .map_err(|_| BatchError::InvalidRecord { index: 0, reason: "cannot decompress the records" })?;
                if inflated.len() > UNCOMPRESSED_BATCH_BYTES_MAX {
                    return Err(BatchError::InvalidRecord { index: 0, reason: "the records inflate past 64 MiB" });
                }
                Ok(Records::Inflated { header: *header, bytes: inflated })
            }
        }
    }

    fn iter(&self) -> RecordIter<'_> {
        let (header, bytes) = match self {
            Records::Plain { header, bytes } => (*header, *bytes),
            Records::Inflated { header, bytes } => (*header, &bytes[..]),
        };
        RecordIter { header, bytes, position: 0, index: 0 }
    }
}

struct RecordIter<'a> {
    header: BatchHeader,
    bytes: &'a [u8],
    position: usize,
    index: i32,
}

impl<'a> RecordIter<'a> {
    fn next_record(&mut self) -> Result<Record<'a>, BatchError> {
        let invalid = |reason| BatchError::InvalidRecord { index: self.index, reason };
        let mut cursor = self.position;
        let length = read_varint(self.bytes, &mut cursor).ok_or(invalid("bad length varint"))?;
        let length = usize::try_from(length).map_err(|_| invalid("negative length"))?;
        let end =
            cursor.checked_add(length).filter(|end| *end <= self.bytes.len()).ok_or(invalid("record too long"))?;
        let body = &self.bytes[cursor..end];
        let mut at = 0;
        let attributes = *body.first().ok_or(invalid("empty record"))?;
        at += 1;
        let timestamp_delta = read_varlong(body, &mut at).ok_or(invalid("bad timestampDelta"))?;
        let tail_start = at;
        let offset_delta = read_varint(body, &mut at).ok_or(invalid("bad offsetDelta"))?;
        let key_length = read_varint(body, &mut at).ok_or(invalid("bad key length"))?;
        let key = match usize::try_from(key_length) {
            Ok(len) => {
                let key = body.get(at..at + len).ok_or(invalid("key past the record"))?;
                at += len;
                Some(key)
            }
            Err(_) => None,
        };
        let value_length = read_varint(body, &mut at).ok_or(invalid("bad value length"))?;
        self.position = end;
        let timestamp = if self.header.timestamp_type_is_log_append_time() {
            self.header.max_timestamp
        } else {
            self.header.base_timestamp.saturating_add(timestamp_delta)
        };
        Ok(Record {
            offset: self.header.base_offset.saturating_add(i64::from(offset_delta)),
            timestamp,
            key,
            has_value: value_length >= 0,
            tail: &body[tail_start..],
            attributes,
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.header.record_count {
            return None;
        }
        let record = self.next_record();
        self.index = if record.is_ok() { self.index + 1 } else { self.header.record_count };
        Some(record)
    }
}

/// Writes a batch holding `retained` with `header`'s offsets and producer fields (Kafka
/// `MemoryRecords.buildRetainedRecordsInto`, which keeps the original last offset so the
/// producer's last sequence stays right). With a new delete horizon, `baseTimestamp` becomes
/// the horizon and every record's `timestampDelta` is re-encoded against it.
fn rebuild_batch(
    header: &BatchHeader,
    retained: &[Record<'_>],
    delete_horizon_ms: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    let base_timestamp = delete_horizon_ms.unwrap_or(header.base_timestamp);
    let mut records = Vec::new();
    let mut body = Vec::new();
    let mut max_timestamp = -1;
    for record in retained {
        body.clear();
        body.push(record.attributes);
        let timestamp_delta = if header.timestamp_type_is_log_append_time() {
            0
        } else {
            record.timestamp.saturating_sub(base_timestamp)
        };
        write_varlong(&mut body, timestamp_delta);
        body.extend_from_slice(record.tail);
        write_varlong(&mut records, body.len() as i64);
        records.extend_from_slice(&body);
        max_timestamp = max_timestamp.max(record.timestamp);
    }
    if header.timestamp_type_is_log_append_time() {
        max_timestamp = header.max_timestamp;
    }
    let records = compress(header.compression(), records)?;
    let mut attributes = header.attributes;
    if delete_horizon_ms.is_some() {
        attributes |= DELETE_HORIZON_FLAG;
    }
    write_header(
        out,
        &BatchHeader { attributes, base_timestamp, max_timestamp, record_count: retained.len() as i32, ..*header },
        &records,
    );
    Ok(())
}

/// Kafka `DefaultRecordBatch.writeEmptyHeader`: the header alone, offsets and producer fields
/// kept, no records, no compression.
fn write_empty_batch(header: &BatchHeader, out: &mut Vec<u8>) {
    let attributes = header.attributes & !COMPRESSION_MASK & !DELETE_HORIZON_FLAG;
    write_header(out, &BatchHeader { attributes, base_timestamp: -1, record_count: 0, ..*header }, &[]);
}

/// Writes `header` (its length and CRC computed here) followed by `records` to `out`.
fn write_header(out: &mut Vec<u8>, header: &BatchHeader, records: &[u8]) {
    let start = out.len();
    let batch_length = (BATCH_HEADER_LEN - LOG_OVERHEAD + records.len()) as i32;
    out.extend_from_slice(&header.base_offset.to_be_bytes());
    out.extend_from_slice(&batch_length.to_be_bytes());
    out.extend_from_slice(&header.partition_leader_epoch.to_be_bytes());
    out.push(header.magic as u8);
    out.extend_from_slice(&[0; 4]); // CRC, below
    out.extend_from_slice(&header.attributes.to_be_bytes());
    out.extend_from_slice(&header.last_offset_delta.to_be_bytes());
    out.extend_from_slice(&header.base_timestamp.to_be_bytes());
    out.extend_from_slice(&header.max_timestamp.to_be_bytes());
    out.extend_from_slice(&header.producer_id.to_be_bytes());
    out.extend_from_slice(&header.producer_epoch.to_be_bytes());
    out.extend_from_slice(&header.base_sequence.to_be_bytes());
    out.extend_from_slice(&header.record_count.to_be_bytes());
    out.extend_from_slice(records);
    let crc = crc32c::crc32c(&out[start + 21..]);
    out[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
}

/// Compresses records with the batch's codec, as Kafka's producers frame them (kafka-protocol's
/// compressors: xerial framing for snappy, the LZ4 frame format, gzip, zstd).
fn compress(compression: Compression, records: Vec<u8>) -> Result<Vec<u8>, BatchError> {
    let mut out = BytesMut::new();
    let put = |buf: &mut BytesMut| {
        buf.extend_from_slice(&records);
        Ok::<(), anyhow::Error>(())
    };
    let failed = |_| BatchError::InvalidRecord { index: 0, reason: "cannot compress the retained records" };
    match compression {
        Compression::None => return Ok(records),
        Compression::Gzip => {
            <kafka_compression::Gzip as Compressor<BytesMut>>::compress(&mut out, put).map_err(failed)?
        }
        Compression::Snappy => {
            <kafka_compression::Snappy as Compressor<BytesMut>>::compress(&mut out, put).map_err(failed)?
        }
        Compression::Lz4 => {
            <kafka_compression::Lz4 as Compressor<BytesMut>>::compress(&mut out, put).map_err(failed)?
        }
        Compression::Zstd => {
            <kafka_compression::Zstd as Compressor<BytesMut>>::compress(&mut out, put).map_err(failed)?
        }
        Compression::Unknown(_) => {
            return Err(BatchError::InvalidRecord { index: 0, reason: "unknown compression codec" });
        }
    }
    Ok(out.to_vec())
}

/// Appends a zigzag varlong (Kafka's `ByteUtils.writeVarlong`).
fn write_varlong(out: &mut Vec<u8>, value: i64) {
    let mut raw = ((value << 1) ^ (value >> 63)) as u64;
    while raw >= 0x80 {
        out.push((raw as u8 & 0x7f) | 0x80);
        raw >>= 7;
    }
    out.push(raw as u8);
}

/// Kafka `LogCleaner.checkDone`: stops a clean whose broker is stopping.
fn check_done(aborted: &AtomicBool) -> Result<(), LogError> {
    if aborted.load(Ordering::Acquire) {
        return Err(LogError::Io {
            context: "the log cleaner was stopped".into(),
            source: io::Error::from(io::ErrorKind::Interrupted),
        });
    }
    Ok(())
}

fn corrupt(segment: &SegmentSnapshot, base_offset: i64, source: BatchError) -> LogError {
    LogError::Corrupt { segment_base_offset: segment.base_offset, position: base_offset.max(0) as u64, source }
}

/// Reads a sealed segment's batches front to back, up to the size it had when planned.
struct SegmentReader {
    reader: BufReader<File>,
    remaining_bytes: u64,
    position: u64,
    segment: SegmentSnapshot,
    batch: Vec<u8>,
}

impl SegmentReader {
    fn open(dir: &Path, segment: &SegmentSnapshot) -> Result<SegmentReader, LogError> {
        let path = dir.join(segment::file_name(segment.base_offset, LOG_SUFFIX));
        let file = File::open(&path).map_err(io_error(format!("cannot open {}", path.display())))?;
        Ok(SegmentReader {
            reader: BufReader::with_capacity(IO_BUFFER_BYTES, file),
            remaining_bytes: segment.size_bytes,
            position: 0,
            segment: *segment,
            batch: Vec::new(),
        })
    }

    fn read_header(&mut self) -> Result<Option<BatchHeader>, LogError> {
        if self.remaining_bytes == 0 {
            return Ok(None);
        }
        self.batch.resize(BATCH_HEADER_LEN, 0);
        self.reader.read_exact(&mut self.batch).map_err(io_error("cannot read a segment to clean"))?;
        let header = BatchHeader::parse(&self.batch).map_err(|source| self.corrupt(source))?;
        if header.size_in_bytes() as u64 > self.remaining_bytes {
            let available = self.remaining_bytes as usize;
            return Err(self.corrupt(BatchError::Truncated { needed: header.size_in_bytes(), available }));
        }
        Ok(Some(header))
    }

    /// The next whole batch, its CRC checked.
    fn next_batch(&mut self) -> Result<Option<(BatchHeader, &[u8])>, LogError> {
        let Some(header) = self.read_header()? else { return Ok(None) };
        let size = header.size_in_bytes();
        self.batch.resize(size, 0);
        self.reader.read_exact(&mut self.batch[BATCH_HEADER_LEN..]).map_err(io_error("cannot read a segment"))?;
        crate::record::batch::verify_crc(&self.batch).map_err(|source| self.corrupt(source))?;
        self.advance(size);
        Ok(Some((header, &self.batch[..])))
    }

    /// The next batch header, skipping its records.
    fn next_header(&mut self) -> Result<Option<BatchHeader>, LogError> {
        let Some(header) = self.read_header()? else { return Ok(None) };
        let size = header.size_in_bytes();
        let skip = (size - BATCH_HEADER_LEN) as i64;
        self.reader.seek_relative(skip).map_err(io_error("cannot read a segment"))?;
        self.advance(size);
        Ok(Some(header))
    }

    fn advance(&mut self, size: usize) {
        self.position += size as u64;
        self.remaining_bytes -= size as u64;
    }

    fn corrupt(&self, source: BatchError) -> LogError {
        LogError::Corrupt { segment_base_offset: self.segment.base_offset, position: self.position, source }
    }
}

/// Kafka `Cleaner.groupSegmentsBySize`: consecutive segments whose logs add up to at most
/// `segment.bytes` and whose offsets span at most `i32::MAX` (relative offsets are 4 bytes) are
/// cleaned into one, so segments do not shrink without end.
fn group_segments_by_size(
    segments: &[SegmentSnapshot],
    segment_bytes: u64,
    upper_bound: impl Fn(usize, &[SegmentSnapshot]) -> i64,
) -> Vec<Vec<SegmentSnapshot>> {
    let mut groups: Vec<Vec<SegmentSnapshot>> = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let mut group = vec![segments[i]];
        let mut size_bytes = segments[i].size_bytes;
        i += 1;
        while i < segments.len()
            && size_bytes + segments[i].size_bytes <= segment_bytes
            && (segments[i].size_bytes == 0
                || upper_bound(i, segments) - 1 - group[0].base_offset <= i64::from(i32::MAX))
        {
            size_bytes += segments[i].size_bytes;
            group.push(segments[i]);
            i += 1;
        }
        groups.push(group);
    }
    groups
}

impl PartitionLog {
    /// The cleanable range of a compacted log (Kafka `LogCleanerManager.cleanableOffsets`), or
    /// `None` if `cleanup.policy` does not include `compact` or the log is empty.
    /// `upper_bound_offset` is the high watermark: nothing past it is cleaned (Kafka does not
    /// clean past the last stable offset), so a truncation never meets a cleaned segment.
    pub fn log_to_clean(&self, upper_bound_offset: i64, now_ms: i64) -> Result<Option<LogToClean>, LogError> {
        if !self.config.cleanup_policy_compact || self.offline {
            return Ok(None);
        }
        let (log_start_offset, log_end_offset) = (self.log_start_offset(), self.log_end_offset());
        let first_dirty_offset = match read_checkpoint(&self.dir) {
            Some(offset) if (log_start_offset..=log_end_offset).contains(&offset) => offset,
            _ => log_start_offset,
        };
        let active_base_offset = self.active().base_offset();
        let min_compaction_lag_ms = self.config.min_compaction_lag_ms.max(0);
        let mut first_uncleanable_offset = active_base_offset.min(upper_bound_offset.max(log_start_offset));
        let mut next_check_ms: Option<i64> = None;
        let sealed = &self.segments[..self.segments.len() - 1];
        if min_compaction_lag_ms > 0 {
            for segment in sealed.iter().filter(|s| s.next_offset() > first_dirty_offset) {
                let cleanable_at_ms = segment.largest_timestamp_for_retention().saturating_add(min_compaction_lag_ms);
                if cleanable_at_ms > now_ms {
                    first_uncleanable_offset = first_uncleanable_offset.min(segment.base_offset());
                    next_check_ms = Some(cleanable_at_ms);
                    break;
                }
            }
        }
        // Round down to a segment boundary (Kafka `calculateCleanableBytes`).
        let index = self.segment_index_for(first_uncleanable_offset);
        let first_uncleanable_offset =
            self.segments[index].base_offset().max(first_dirty_offset.min(active_base_offset));
        let mut clean_bytes = 0;
        let mut cleanable_bytes = 0;
        let mut earliest_dirty_ms = i64::MAX;
        for segment in sealed {
            if segment.next_offset() <= first_dirty_offset {
                clean_bytes += segment.size_bytes();
            } else if segment.base_offset() < first_uncleanable_offset {
                cleanable_bytes += segment.size_bytes();
            }
            if segment.next_offset() > first_dirty_offset {
                let first_batch_ms = segment.first_batch_timestamp()?;
                if first_batch_ms > 0 {
                    earliest_dirty_ms = earliest_dirty_ms.min(first_batch_ms);
                }
            }
        }
        // Kafka `LogCleanerManager.maxCompactionDelay`.
        let max_compaction_lag_ms = self.config.max_compaction_lag_ms.max(0);
        let forced_at_ms = earliest_dirty_ms.saturating_add(max_compaction_lag_ms);
        let need_compaction_now = earliest_dirty_ms != i64::MAX && forced_at_ms < now_ms;
        if earliest_dirty_ms != i64::MAX && !need_compaction_now && forced_at_ms < i64::MAX {
            next_check_ms = Some(next_check_ms.map_or(forced_at_ms + 1, |at| at.min(forced_at_ms + 1)));
        }
        if clean_bytes + cleanable_bytes == 0 && !need_compaction_now {
            return Ok(Some(LogToClean {
                dir: self.dir.clone(),
                config: self.config.clone(),
                first_dirty_offset,
                first_uncleanable_offset,
                clean_bytes,
                cleanable_bytes,
                need_compaction_now,
                next_check_ms,
                segments: Vec::new(),
            }));
        }
        let segments = self
            .segments
            .iter()
            .map(|s| SegmentSnapshot {
                base_offset: s.base_offset(),
                next_offset: s.next_offset(),
                size_bytes: s.size_bytes(),
            })
            .collect();
        Ok(Some(LogToClean {
            dir: self.dir.clone(),
            config: self.config.clone(),
            first_dirty_offset,
            first_uncleanable_offset,
            clean_bytes,
            cleanable_bytes,
            need_compaction_now,
            next_check_ms,
            segments,
        }))
    }

    /// Swaps the cleaned segments in for the ones they replace, then checkpoints the new first
    /// dirty offset. A group whose segments changed since the clean was planned (retention
    /// deleted one, say) is discarded, and the checkpoint stays where it was. See the module
    /// documentation for the order of the file operations and why a crash at any point is safe.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`]; the log then goes [`LogError::Offline`] until it is reopened, which
    /// finishes or undoes the swap.
    pub fn replace_cleaned(&mut self, cleaned: CleanedLog, now_ms: i64) -> Result<usize, LogError> {
        if self.offline {
            cleaned.discard();
            return Err(LogError::Offline);
        }
        let CleanedLog { groups, first_dirty_offset, .. } = cleaned;
        let mut replaced = 0;
        let mut all_replaced = true;
        let mut groups = groups.into_iter();
        while let Some(group) = groups.next() {
            let Some(index) = self.unchanged(&group.old) else {
                all_replaced = false;
                let _ = remove_if_exists(&group.cleaned);
                continue;
            };
            if let Err(error) = self.swap_in(index, &group, now_ms) {
                self.offline = true;
                for rest in groups {
                    let _ = remove_if_exists(&rest.cleaned);
                }
                return Err(error);
            }
            replaced += group.old.len();
        }
        if all_replaced {
            write_checkpoint(&self.dir, first_dirty_offset)?;
        }
        Ok(replaced)
    }

    /// Where `old` sits in the log, if all its segments are still there as they were.
    fn unchanged(&self, old: &[SegmentSnapshot]) -> Option<usize> {
        let first = old.first()?;
        let index = self.segments.iter().position(|s| s.base_offset() == first.base_offset)?;
        let current = self.segments.get(index..index + old.len())?;
        // Never the active segment.
        let is_sealed = index + old.len() < self.segments.len();
        let same = current.iter().zip(old).all(|(segment, snapshot)| {
            segment.base_offset() == snapshot.base_offset
                && segment.size_bytes() == snapshot.size_bytes
                && segment.next_offset() == snapshot.next_offset
        });
        (same && is_sealed).then_some(index)
    }

    /// `.cleaned` → `.swap`, delete the old segments, `.swap` → `.log`, open the new segment
    /// (its indexes are rebuilt from the log).
    fn swap_in(&mut self, index: usize, group: &CleanedGroup, now_ms: i64) -> Result<(), LogError> {
        let base_offset = group.old[0].base_offset;
        let log_path = self.dir.join(segment::file_name(base_offset, LOG_SUFFIX));
        let swap_path = with_suffix(&log_path, SWAP_SUFFIX);
        rename(&group.cleaned, &swap_path)?;
        sync_dir(&self.dir)?;
        for old in self.segments.drain(index..index + group.old.len()).collect::<Vec<_>>() {
            old.delete()?;
        }
        rename(&swap_path, &log_path)?;
        sync_dir(&self.dir)?;
        self.dir_changed = true;
        let (segment, _) =
            Segment::open(&self.dir, base_offset, true, self.config.index_interval_bytes, now_ms, &self.files)?;
        self.segments.insert(index, segment);
        Ok(())
    }
}

/// Finishes or undoes what a crash interrupted, before the segments are listed (Kafka
/// `LogLoader.removeTempFilesAndCollectSwapFiles` and `LogLoader.load`):
///
/// * a `.cleaned` file is an unfinished clean: deleted, the old segments are intact;
/// * a `<base>.log.swap` was complete when renamed: every segment whose base offset falls in
///   its offsets `[base, next offset)` is an old one it replaces, and is deleted; then the swap
///   file becomes `<base>.log` (its indexes are rebuilt by the scan that follows);
/// * any other `.swap` file has no log to go with and is deleted.
///
/// Returns how many swaps were completed.
pub(crate) fn complete_swaps(dir: &Path) -> Result<usize, LogError> {
    let entries = fs::read_dir(dir).map_err(io_error(format!("cannot list {}", dir.display())))?;
    let mut swaps = Vec::new();
    let mut logs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(format!("cannot list {}", dir.display())))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((stem, suffix)) = name.split_once('.') else { continue };
        let Ok(base_offset) = stem.parse::<i64>() else { continue };
        if stem.len() != 20 {
            continue;
        }
        if name.ends_with(CLEANED_SUFFIX) {
            remove_if_exists(&entry.path())?;
        } else if suffix == format!("{LOG_SUFFIX}{SWAP_SUFFIX}") {
            swaps.push(base_offset);
        } else if name.ends_with(SWAP_SUFFIX) {
            remove_if_exists(&entry.path())?;
        } else if suffix == LOG_SUFFIX {
            logs.push(base_offset);
        }
    }
    swaps.sort_unstable();
    for &base_offset in &swaps {
        let log_path = dir.join(segment::file_name(base_offset, LOG_SUFFIX));
        let swap_path = with_suffix(&log_path, SWAP_SUFFIX);
        let next_offset = next_offset_of(&swap_path, base_offset)?;
        for &old in logs.iter().filter(|&&old| old >= base_offset && old < next_offset.max(base_offset + 1)) {
            for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
                remove_if_exists(&dir.join(segment::file_name(old, suffix)))?;
            }
        }
        rename(&swap_path, &log_path)?;
    }
    if !swaps.is_empty() {
        sync_dir(dir)?;
    }
    Ok(swaps.len())
}

/// The offset after the last whole batch of a segment file, `base_offset` if it has none.
fn next_offset_of(path: &Path, base_offset: i64) -> Result<i64, LogError> {
    let size_bytes = fs::metadata(path).map_err(io_error(format!("cannot stat {}", path.display())))?.len();
    let snapshot = SegmentSnapshot { base_offset, next_offset: base_offset, size_bytes };
    let mut reader = SegmentReader {
        reader: BufReader::with_capacity(
            IO_BUFFER_BYTES,
            File::open(path).map_err(io_error(format!("cannot open {}", path.display())))?,
        ),
        remaining_bytes: size_bytes,
        position: 0,
        segment: snapshot,
        batch: Vec::new(),
    };
    let mut next_offset = base_offset;
    // A torn tail ends the walk: what follows is cut by the segment's own recovery.
    while let Ok(Some(header)) = reader.next_header() {
        next_offset = header.next_offset();
    }
    Ok(next_offset)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), LogError> {
    fs::rename(from, to).map_err(io_error(format!("cannot rename {} to {}", from.display(), to.display())))
}

/// The checkpointed first dirty offset: `0` (the format version), then the offset.
fn read_checkpoint(dir: &Path) -> Option<i64> {
    let text = fs::read_to_string(dir.join(CLEANER_CHECKPOINT_FILE)).ok()?;
    let mut lines = text.lines();
    (lines.next()? == "0").then_some(())?;
    lines.next()?.trim().parse().ok()
}

fn write_checkpoint(dir: &Path, first_dirty_offset: i64) -> Result<(), LogError> {
    let path = dir.join(CLEANER_CHECKPOINT_FILE);
    crate::runtime::replace_file(&path, format!("0\n{first_dirty_offset}\n").as_bytes())
        .map_err(|source| LogError::Io { context: format!("cannot write {}", path.display()), source })
}

#[cfg(test)]
mod tests;
