//! One segment of a partition log: a `.log` file of record batches and its two sparse indexes.
//!
//! # Layout
//!
//! A segment is named by its base offset, the offset of its first batch, in 20 digits so that
//! file names sort like offsets (Kafka: `LogFileUtils.filenamePrefixFromOffset`):
//!
//! ```text
//! 00000000000000001234.log        batches exactly as produced, base offset and epoch rewritten
//! 00000000000000001234.index      sparse offset -> position       (see `index.rs`)
//! 00000000000000001234.timeindex  sparse timestamp -> offset      (see `index.rs`)
//! ```
//!
//! Only the last ("active") segment is appended to. The others are sealed: when a segment
//! rolls, its time index gets a final entry for its largest timestamp and all three files are
//! fsynced, so recovery can trust a sealed segment after checking the tail past its last index
//! entry, while the active segment is always re-scanned in full.
//!
//! The three files are opened on demand through the log's [`FileCache`] (see `file_cache.rs`):
//! a segment holds names, not descriptors, and each operation takes the handle it needs for
//! its duration.

use std::fs::{self, File};
use std::io::{self, IoSlice, Write};
use std::path::{Path, PathBuf};

use super::LogError;
use super::file_cache::{CachedFile, FileCache, FileRef, Handle};
use super::index::{
    self, OffsetIndexEntry, TimeIndexEntry, decode_offset_index, decode_time_index, lookup_offset, lookup_timestamp,
};
use crate::record::batch::{
    BATCH_HEADER_LEN, BatchError, BatchHeader, batches, record_positions, stamped_header, verify_crc,
};

pub(crate) const LOG_SUFFIX: &str = "log";
pub(crate) const INDEX_SUFFIX: &str = "index";
pub(crate) const TIME_INDEX_SUFFIX: &str = "timeindex";

/// Recovery and reads go through the file in chunks of at most this many bytes (one batch
/// larger than this is still read whole).
const READ_CHUNK_BYTES: usize = 256 * 1024;

/// `00000000000000001234.log` for base offset 1234 and suffix `log`.
pub(crate) fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

/// What opening one segment found, folded into the partition's `RecoveryReport`.
#[derive(Debug, Default)]
pub(crate) struct SegmentRecovery {
    pub(crate) full_scan: bool,
    pub(crate) batches_scanned: u64,
    pub(crate) truncated_bytes: u64,
    pub(crate) indexes_rewritten: bool,
}

#[derive(Debug)]
pub(crate) struct Segment {
    dir: PathBuf,
    base_offset: i64,
    /// Opened for reading and appending; reads are positioned (`pread`), so `&self` can read.
    log_file: CachedFile,
    size_bytes: u64,
    /// The offset after the last batch: `base_offset` while empty.
    next_offset: i64,
    offset_index: Vec<OffsetIndexEntry>,
    time_index: Vec<TimeIndexEntry>,
    /// The index files, appended to while the segment is active; their handles are closed
    /// when it is sealed, as only recovery reads them back.
    offset_index_file: CachedFile,
    time_index_file: CachedFile,
    bytes_since_last_index_entry: u64,
    /// Largest batch `maxTimestamp` in the segment, -1 if none has a timestamp.
    max_timestamp: i64,
    /// Offset of the first record carrying `max_timestamp` (KIP-734), -1 if none.
    offset_of_max_timestamp: i64,
    /// `maxTimestamp` of the first batch: `segment.ms` counts from it (Kafka
    /// `LogSegment.rollingBasedTimestamp`), or from `created_ms` if it has none.
    rolling_based_timestamp: Option<i64>,
    created_ms: i64,
    /// Time of the last append (or of opening): retention's fallback for a segment without
    /// timestamps, like Kafka's use of the file's last-modified time.
    last_modified_ms: i64,
    unflushed_bytes: u64,
    /// Something (log bytes or index entries) was written since sync work was last taken.
    needs_sync: bool,
}

impl Segment {
    /// Creates the three (empty) files of a new segment at `base_offset`; it starts active.
    pub(crate) fn create(dir: &Path, base_offset: i64, now_ms: i64, files: &FileCache) -> Result<Segment, LogError> {
        let [log_file, offset_index_file, time_index_file] = segment_files(dir, base_offset, files);
        for file in [&log_file, &offset_index_file, &time_index_file] {
            // Leftovers of a segment that was deleted half-way would otherwise be appended to.
            let handle = file.handle()?;
            handle.file().set_len(0).map_err(io_error(format!("cannot truncate {}", file.path().display())))?;
        }
        Ok(Segment {
            dir: dir.to_path_buf(),
            base_offset,
            log_file,
            size_bytes: 0,
            next_offset: base_offset,
            offset_index: Vec::new(),
            time_index: Vec::new(),
            offset_index_file,
            time_index_file,
            bytes_since_last_index_entry: 0,
            max_timestamp: -1,
            offset_of_max_timestamp: -1,
            rolling_based_timestamp: None,
            created_ms: now_ms,
            last_modified_ms: now_ms,
            unflushed_bytes: 0,
            needs_sync: false,
        })
    }

    /// Opens an existing segment and recovers it.
    ///
    /// With `full_scan` (the active segment), or when an index file is missing or fails its
    /// sanity checks, every batch is checked (header, CRC, offsets contiguous from the base
    /// offset), the log is truncated at the first bad one, and both indexes are rebuilt.
    /// Otherwise (a sealed segment) only the batches from the last offset index entry to the
    /// end are checked; any problem there falls back to the full scan.
    pub(crate) fn open(
        dir: &Path,
        base_offset: i64,
        full_scan: bool,
        index_interval_bytes: u32,
        now_ms: i64,
        files: &FileCache,
    ) -> Result<(Segment, SegmentRecovery), LogError> {
        let [log_file, offset_index_file, time_index_file] = segment_files(dir, base_offset, files);
        let size_bytes = log_file
            .handle()?
            .file()
            .metadata()
            .map_err(io_error(format!("cannot stat {}", log_file.path().display())))?
            .len();
        let mut segment = Segment {
            dir: dir.to_path_buf(),
            base_offset,
            log_file,
            size_bytes,
            next_offset: base_offset,
            offset_index: Vec::new(),
            time_index: Vec::new(),
            offset_index_file,
            time_index_file,
            bytes_since_last_index_entry: 0,
            max_timestamp: -1,
            offset_of_max_timestamp: -1,
            rolling_based_timestamp: None,
            created_ms: now_ms,
            last_modified_ms: now_ms,
            unflushed_bytes: 0,
            needs_sync: false,
        };
        let offset_index_bytes = read_optional(&segment.path(INDEX_SUFFIX))?;
        let time_index_bytes = read_optional(&segment.path(TIME_INDEX_SUFFIX))?;
        if !full_scan {
            let offset_index = offset_index_bytes.as_deref().and_then(|b| decode_offset_index(b, size_bytes));
            let time_index = time_index_bytes.as_deref().and_then(decode_time_index);
            if let (Some(offset_index), Some(time_index)) = (offset_index, time_index)
                && let Some(batches_scanned) = segment.check_tail(offset_index, time_index)?
            {
                return Ok((segment, SegmentRecovery { batches_scanned, ..SegmentRecovery::default() }));
            }
        }
        let recovery = segment.rebuild(index_interval_bytes, offset_index_bytes, time_index_bytes)?;
        Ok((segment, recovery))
    }

    pub(crate) fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub(crate) fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    pub(crate) fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }

    pub(crate) fn unflushed_bytes(&self) -> u64 {
        self.unflushed_bytes
    }

    /// The timestamp retention compares with `retention.ms`: the largest record timestamp, or
    /// the last append time when no batch has one (Kafka `LogSegment.largestTimestamp`).
    pub(crate) fn largest_timestamp_for_retention(&self) -> i64 {
        if self.max_timestamp >= 0 { self.max_timestamp } else { self.last_modified_ms }
    }

    /// How long this segment has been filling, for `segment.ms` (Kafka
    /// `LogSegment.timeWaitedForRoll`): measured in record time from the first batch's
    /// timestamp to the incoming batch's, or in wall time since creation without timestamps.
    pub(crate) fn time_waited_for_roll_ms(&self, now_ms: i64, incoming_max_timestamp: i64) -> i64 {
        match self.rolling_based_timestamp {
            Some(first) if first >= 0 => incoming_max_timestamp.saturating_sub(first),
            _ => now_ms.saturating_sub(self.created_ms),
        }
    }

    /// The first batch's `maxTimestamp`, -1 if the segment is empty (Kafka
    /// `LogSegment.getFirstBatchTimestamp`): `max.compaction.lag.ms` counts from it.
    pub(crate) fn first_batch_timestamp(&self) -> Result<i64, LogError> {
        if let Some(timestamp) = self.rolling_based_timestamp {
            return Ok(timestamp);
        }
        if self.size_bytes == 0 {
            return Ok(-1);
        }
        let log = self.log_file.handle()?;
        Ok(self.read_header(log.file(), 0)?.max_timestamp)
    }

    fn path(&self, suffix: &str) -> PathBuf {
        self.dir.join(file_name(self.base_offset, suffix))
    }

    /// `offset - base_offset` as stored in the index files. Callers keep offsets within
    /// `i32::MAX` of the base (the roll rule); anything else saturates instead of wrapping.
    fn relative_offset(&self, offset: i64) -> u32 {
        offset.saturating_sub(self.base_offset).clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Appends one batch at `next_offset`, stamped with `header.base_offset` and
    /// `header.partition_leader_epoch` (and LogAppendTime, if `header` says so) as it is
    /// written (see [`stamped_header`]): log bytes
    /// first, then the index entries, so an index never points past data that was written
    /// (crash safety).
    pub(crate) fn append(
        &mut self,
        batch: &[u8],
        header: &BatchHeader,
        index_interval_bytes: u32,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let position = self.size_bytes;
        let stamped = stamped_header(batch, header)?;
        let log = self.log_file.handle()?;
        let written =
            write_all_vectored(log.file(), &mut [IoSlice::new(&stamped), IoSlice::new(&batch[BATCH_HEADER_LEN..])]);
        // Marked even after a failure: whatever part reached the file is fsynced before its
        // handle closes.
        self.log_file.mark_written();
        if let Err(error) = written {
            // Cut a partial write so the next append does not land after garbage. If even that
            // fails, the caller takes the log offline and recovery fixes it on the next open.
            let _ = log.file().set_len(position);
            return Err(LogError::Io {
                context: format!("cannot append to {}", self.path(LOG_SUFFIX).display()),
                source: error,
            });
        }
        drop(log);
        self.needs_sync = true;
        self.unflushed_bytes += batch.len() as u64;
        self.last_modified_ms = now_ms;
        let (offset_entry, time_entry) = self.track_batch(position, header, batch, index_interval_bytes);
        if let Some(entry) = offset_entry {
            append_entry(&self.offset_index_file, &entry.encode(), "cannot append to the offset index")?;
        }
        if let Some(entry) = time_entry {
            append_entry(&self.time_index_file, &entry.encode(), "cannot append to the time index")?;
        }
        Ok(())
    }

    /// The in-memory half of an append, shared with recovery: updates sizes, offsets, max
    /// timestamp and, every `index.interval.bytes`, adds index entries, which it returns for the
    /// caller to write. The rule is Kafka's `LogSegment.append`: once more than the interval has
    /// been written since the last entry, the next batch gets an entry pointing at itself, and
    /// the time index gets the largest timestamp so far if it grew.
    fn track_batch(
        &mut self,
        position: u64,
        header: &BatchHeader,
        bytes: &[u8],
        index_interval_bytes: u32,
    ) -> (Option<OffsetIndexEntry>, Option<TimeIndexEntry>) {
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.offset_of_max_timestamp = offset_of_max_timestamp(header, bytes);
        }
        if self.rolling_based_timestamp.is_none() {
            self.rolling_based_timestamp = Some(header.max_timestamp);
        }
        let mut entries = (None, None);
        if self.bytes_since_last_index_entry > u64::from(index_interval_bytes) {
            let entry = OffsetIndexEntry {
                relative_offset: self.relative_offset(header.base_offset),
                // Positions stay below segment.bytes <= i32::MAX (the roll rule).
                position: u32::try_from(position).unwrap_or(u32::MAX),
            };
            self.offset_index.push(entry);
            entries = (Some(entry), self.maybe_add_time_entry());
            self.bytes_since_last_index_entry = 0;
        }
        let size = header.size_in_bytes() as u64;
        self.bytes_since_last_index_entry += size;
        self.size_bytes = position + size;
        self.next_offset = header.next_offset();
        entries
    }

    /// Kafka `TimeIndex.maybeAppend`: only a strictly larger timestamp gets an entry.
    fn maybe_add_time_entry(&mut self) -> Option<TimeIndexEntry> {
        let last_indexed = self.time_index.last().map_or(-1, |entry| entry.timestamp);
        if self.max_timestamp <= last_indexed {
            return None;
        }
        let entry = TimeIndexEntry {
            timestamp: self.max_timestamp,
            relative_offset: self.relative_offset(self.offset_of_max_timestamp),
        };
        self.time_index.push(entry);
        Some(entry)
    }

    /// Checks a sealed segment cheaply: trusts the index entries (already sanity-checked) and
    /// scans from the last offset index entry to the end of the file. `None` if anything does
    /// not add up, and the caller falls back to a full scan.
    fn check_tail(
        &mut self,
        offset_index: Vec<OffsetIndexEntry>,
        time_index: Vec<TimeIndexEntry>,
    ) -> Result<Option<u64>, LogError> {
        let (mut position, mut expected_offset) = match offset_index.last() {
            Some(entry) => {
                (u64::from(entry.position), self.base_offset.saturating_add(i64::from(entry.relative_offset)))
            }
            None => (0, self.base_offset),
        };
        let (mut max_timestamp, mut offset_of_max) = match time_index.last() {
            Some(entry) => (entry.timestamp, self.base_offset.saturating_add(i64::from(entry.relative_offset))),
            None => (-1, -1),
        };
        let log = self.log_file.handle()?;
        let mut scanner = Scanner::new(log.file(), self.size_bytes, position);
        let mut batches_scanned = 0;
        loop {
            match scanner.next_batch()? {
                Scanned::End => break,
                Scanned::Invalid { .. } => return Ok(None),
                Scanned::Batch { position: at, header, bytes } => {
                    // Offsets only increase: a cleaned segment has gaps where batches were removed.
                    if header.base_offset < expected_offset
                        || u32::try_from(header.last_offset().saturating_sub(self.base_offset)).is_err()
                    {
                        return Ok(None);
                    }
                    if header.max_timestamp > max_timestamp {
                        (max_timestamp, offset_of_max) =
                            (header.max_timestamp, offset_of_max_timestamp(&header, bytes));
                    }
                    expected_offset = header.next_offset();
                    position = at + bytes.len() as u64;
                    batches_scanned += 1;
                }
            }
        }
        if position != self.size_bytes || offset_of_max >= expected_offset {
            return Ok(None);
        }
        self.next_offset = expected_offset;
        self.offset_index = offset_index;
        self.time_index = time_index;
        (self.max_timestamp, self.offset_of_max_timestamp) = (max_timestamp, offset_of_max);
        Ok(Some(batches_scanned))
    }

    /// Full recovery: re-reads every batch, truncates the log at the first torn, corrupt or
    /// out-of-sequence one, and rebuilds both indexes (rewriting the files if they differ from
    /// what was on disk, `None` meaning missing).
    fn rebuild(
        &mut self,
        index_interval_bytes: u32,
        offset_index_on_disk: Option<Vec<u8>>,
        time_index_on_disk: Option<Vec<u8>>,
    ) -> Result<SegmentRecovery, LogError> {
        self.offset_index.clear();
        self.time_index.clear();
        self.bytes_since_last_index_entry = 0;
        (self.max_timestamp, self.offset_of_max_timestamp) = (-1, -1);
        self.rolling_based_timestamp = None;
        self.next_offset = self.base_offset;
        let file_size_bytes = self.size_bytes;
        self.size_bytes = 0;

        let mut recovery = SegmentRecovery { full_scan: true, ..SegmentRecovery::default() };
        let log = self.log_file.handle()?;
        let mut scanner = Scanner::new(log.file(), file_size_bytes, 0);
        let valid_end_bytes = loop {
            match scanner.next_batch()? {
                Scanned::End => break file_size_bytes,
                Scanned::Invalid { position } => break position,
                Scanned::Batch { position, header, bytes } => {
                    // Offsets must only increase (the log cleaner leaves gaps where it removed
                    // whole batches, as Kafka's `LogSegment.recover` allows), and stay
                    // addressable by the 4-byte relative offsets and positions of the indexes.
                    let end_fits = u32::try_from(position + bytes.len() as u64).is_ok();
                    let offset_fits = i32::try_from(header.last_offset().saturating_sub(self.base_offset)).is_ok();
                    if header.base_offset < self.next_offset || !end_fits || !offset_fits {
                        break position;
                    }
                    self.track_batch(position, &header, bytes, index_interval_bytes);
                    recovery.batches_scanned += 1;
                }
            }
        };
        if valid_end_bytes < file_size_bytes {
            log.file().set_len(valid_end_bytes).map_err(io_error("cannot truncate a torn segment"))?;
            log.file().sync_all().map_err(io_error("cannot fsync a truncated segment"))?;
            recovery.truncated_bytes = file_size_bytes - valid_end_bytes;
        }
        recovery.indexes_rewritten = self.rewrite_indexes_if_changed(offset_index_on_disk, time_index_on_disk)?;
        Ok(recovery)
    }

    fn rewrite_indexes_if_changed(
        &mut self,
        offset_index_on_disk: Option<Vec<u8>>,
        time_index_on_disk: Option<Vec<u8>>,
    ) -> Result<bool, LogError> {
        let offset_index = index::encode_all(&self.offset_index, OffsetIndexEntry::encode);
        let time_index = index::encode_all(&self.time_index, TimeIndexEntry::encode);
        let offset_changed = offset_index_on_disk.as_ref() != Some(&offset_index);
        let time_changed = time_index_on_disk.as_ref() != Some(&time_index);
        if !offset_changed && !time_changed {
            return Ok(false);
        }
        for (changed, file, bytes) in
            [(offset_changed, &self.offset_index_file, offset_index), (time_changed, &self.time_index_file, time_index)]
        {
            if changed {
                let handle = file.handle()?;
                // The handle appends, so after cutting to zero the write starts at byte 0.
                handle.file().set_len(0).map_err(io_error("cannot reset an index file"))?;
                handle.file().write_all(&bytes).map_err(io_error("cannot rewrite an index file"))?;
                handle.file().sync_all().map_err(io_error("cannot fsync an index file"))?;
            }
        }
        Ok(true)
    }

    /// Makes this the active segment: the first batch's timestamp known for `segment.ms`.
    pub(crate) fn activate(&mut self) -> Result<(), LogError> {
        if self.rolling_based_timestamp.is_none() && self.size_bytes > 0 {
            let log = self.log_file.handle()?;
            self.rolling_based_timestamp = Some(self.read_header(log.file(), 0)?.max_timestamp);
        }
        Ok(())
    }

    /// Seals the segment when a new one rolls in (Kafka `LogSegment.onBecomeInactiveSegment`):
    /// a last time index entry for the largest timestamp, then everything fsynced, so
    /// recovery only has to check this segment's tail.
    pub(crate) fn seal(&mut self) -> Result<(), LogError> {
        if let Some(entry) = self.maybe_add_time_entry() {
            append_entry(&self.time_index_file, &entry.encode(), "cannot append to the time index")?;
            self.needs_sync = true;
        }
        self.flush()?;
        // Only recovery reads index files back: their handles can go now.
        self.offset_index_file.close();
        self.time_index_file.close();
        Ok(())
    }

    fn files(&self) -> [&CachedFile; 3] {
        [&self.log_file, &self.offset_index_file, &self.time_index_file]
    }

    /// The files a flush must fsync (those written since the last one), for the caller to sync
    /// through the cache without holding the log, so appends go on meanwhile.
    /// A file that closed meanwhile was fsynced on closing, and its sync is then a no-op.
    pub(crate) fn take_sync_files(&mut self) -> Vec<FileRef> {
        if !std::mem::take(&mut self.needs_sync) {
            return Vec::new();
        }
        self.unflushed_bytes = 0;
        self.files().into_iter().map(|file| FileRef::clone(file)).collect()
    }

    /// fsyncs the log and index files if anything was written to them since the last flush.
    pub(crate) fn flush(&mut self) -> Result<(), LogError> {
        for file in self.files() {
            file.sync()?;
        }
        self.unflushed_bytes = 0;
        self.needs_sync = false;
        Ok(())
    }

    /// Drops the batch containing `offset` and everything after it, then rebuilds the indexes.
    /// Returns the new next offset (the dropped batch's base offset, which is `<= offset`).
    pub(crate) fn truncate_to(&mut self, offset: i64, index_interval_bytes: u32) -> Result<i64, LogError> {
        let Some((position, _)) = self.find_batch(offset)? else {
            return Ok(self.next_offset);
        };
        let log = self.log_file.handle()?;
        log.file().set_len(position).map_err(io_error("cannot truncate a segment"))?;
        log.file().sync_all().map_err(io_error("cannot fsync a truncated segment"))?;
        drop(log);
        self.size_bytes = position;
        self.unflushed_bytes = 0;
        let offset_index = Some(index::encode_all(&self.offset_index, OffsetIndexEntry::encode));
        let time_index = Some(index::encode_all(&self.time_index, TimeIndexEntry::encode));
        self.rebuild(index_interval_bytes, offset_index, time_index)?;
        Ok(self.next_offset)
    }

    /// Removes the segment's files: the log first, so a crash in between leaves only index
    /// files, which the next open deletes as orphans.
    pub(crate) fn delete(self) -> Result<(), LogError> {
        let paths = [self.path(LOG_SUFFIX), self.path(INDEX_SUFFIX), self.path(TIME_INDEX_SUFFIX)];
        drop(self);
        for path in paths {
            remove_if_exists(&path)?;
        }
        Ok(())
    }

    /// Reads and parses the batch header at `position`.
    fn read_header(&self, log: &File, position: u64) -> Result<BatchHeader, LogError> {
        let mut header = [0; BATCH_HEADER_LEN];
        let available = self.size_bytes.saturating_sub(position);
        if available < BATCH_HEADER_LEN as u64 {
            let source = BatchError::Truncated { needed: BATCH_HEADER_LEN, available: available as usize };
            return Err(self.corrupt(position, source));
        }
        read_exact_at(log, &mut header, position)
            .map_err(io_error(format!("cannot read {}", self.path(LOG_SUFFIX).display())))?;
        BatchHeader::parse(&header).map_err(|source| self.corrupt(position, source))
    }

    fn read_at(&self, log: &File, position: u64, len: usize) -> Result<Vec<u8>, LogError> {
        let mut bytes = vec![0; len];
        read_exact_at(log, &mut bytes, position)
            .map_err(io_error(format!("cannot read {}", self.path(LOG_SUFFIX).display())))?;
        Ok(bytes)
    }

    fn corrupt(&self, position: u64, source: BatchError) -> LogError {
        LogError::Corrupt { segment_base_offset: self.base_offset, position, source }
    }

    /// Headers of the batches in roughly the last `window_bytes` of the segment, oldest first:
    /// the scan starts at the last index entry at least that far from the end (or the start).
    pub(crate) fn tail_headers(&self, window_bytes: u64) -> Result<Vec<BatchHeader>, LogError> {
        let log = self.log_file.handle()?;
        let log = log.file();
        let from = self.size_bytes.saturating_sub(window_bytes);
        let entry = self.offset_index.iter().rev().find(|entry| u64::from(entry.position) <= from);
        let mut position = entry.map_or(0, |entry| u64::from(entry.position));
        if let Some(entry) = entry {
            let expected_offset = self.base_offset.saturating_add(i64::from(entry.relative_offset));
            if !self.read_header(log, position).is_ok_and(|header| header.base_offset == expected_offset) {
                position = 0;
            }
        }
        let mut headers = Vec::new();
        while position < self.size_bytes {
            let header = self.read_header(log, position)?;
            position += header.size_in_bytes() as u64;
            headers.push(header);
        }
        Ok(headers)
    }

    /// Position and header of the batch containing `offset`: the first batch whose last offset
    /// is `>= offset` (Kafka `LogSegment.translateOffset`), found from the sparse index entry
    /// at or before `offset` and a scan of batch headers. `None` if `offset` is past the end.
    pub(crate) fn find_batch(&self, offset: i64) -> Result<Option<(u64, BatchHeader)>, LogError> {
        let log = self.log_file.handle()?;
        self.find_batch_in(log.file(), offset)
    }

    fn find_batch_in(&self, log: &File, offset: i64) -> Result<Option<(u64, BatchHeader)>, LogError> {
        let entry = lookup_offset(&self.offset_index, self.relative_offset(offset));
        let mut position = entry.map_or(0, |entry| u64::from(entry.position));
        if let Some(entry) = entry {
            // A sealed segment's index entries are trusted after sanity checks only; one that
            // does not land on its batch costs a scan from the start, not a wrong answer.
            let expected_offset = self.base_offset.saturating_add(i64::from(entry.relative_offset));
            if !self.read_header(log, position).is_ok_and(|header| header.base_offset == expected_offset) {
                position = 0;
            }
        }
        while position < self.size_bytes {
            let header = self.read_header(log, position)?;
            if header.last_offset() >= offset {
                return Ok(Some((position, header)));
            }
            position += header.size_in_bytes() as u64;
        }
        Ok(None)
    }

    /// Appends to `out` whole batches from `position` on, stopping before the first batch that
    /// reaches `upper_bound` or would take `out` past `max_bytes` (except that the very first
    /// batch of a read is always taken, KIP-74). Returns `true` if a limit stopped it, `false`
    /// if it reached the end of the segment.
    pub(crate) fn read_batches(
        &self,
        mut position: u64,
        max_bytes: usize,
        upper_bound: i64,
        out: &mut Vec<u8>,
    ) -> Result<bool, LogError> {
        if position >= self.size_bytes {
            return Ok(false);
        }
        let log = self.log_file.handle()?;
        let log = log.file();
        while position < self.size_bytes {
            let header = self.read_header(log, position)?;
            let batch_bytes = header.size_in_bytes();
            if header.last_offset() >= upper_bound || (!out.is_empty() && out.len() + batch_bytes > max_bytes) {
                return Ok(true);
            }
            let remaining_bytes = self.size_bytes - position;
            if batch_bytes as u64 > remaining_bytes {
                let truncated = BatchError::Truncated { needed: batch_bytes, available: remaining_bytes as usize };
                return Err(self.corrupt(position, truncated));
            }
            // One read for this batch and as many following ones as the budget allows.
            let budget_bytes = if out.is_empty() { max_bytes.max(batch_bytes) } else { max_bytes - out.len() };
            let chunk_bytes = budget_bytes.min(READ_CHUNK_BYTES.max(batch_bytes)).min(remaining_bytes as usize);
            let chunk = self.read_at(log, position, chunk_bytes)?;
            let mut consumed = 0;
            for item in batches(&chunk) {
                match item {
                    Ok((header, bytes)) => {
                        let over_budget = !out.is_empty() && out.len() + bytes.len() > max_bytes;
                        if header.last_offset() >= upper_bound || over_budget {
                            return Ok(true);
                        }
                        out.extend_from_slice(bytes);
                        consumed += bytes.len();
                    }
                    // The chunk ends inside the next batch: the outer loop looks at it again.
                    Err(BatchError::Truncated { .. }) => break,
                    Err(source) => return Err(self.corrupt(position + consumed as u64, source)),
                }
            }
            position += consumed as u64;
        }
        Ok(false)
    }

    /// The first batch, from the time index's hint on, whose `maxTimestamp >= timestamp`
    /// (Kafka `LogSegment.findOffsetByTimestamp`).
    pub(crate) fn find_batch_by_timestamp(&self, timestamp: i64) -> Result<Option<Vec<u8>>, LogError> {
        let hint = lookup_timestamp(&self.time_index, timestamp);
        let start_offset =
            hint.map_or(self.base_offset, |entry| self.base_offset.saturating_add(i64::from(entry.relative_offset)));
        let log = self.log_file.handle()?;
        let log = log.file();
        let Some((mut position, _)) = self.find_batch_in(log, start_offset)? else {
            return Ok(None);
        };
        while position < self.size_bytes {
            let header = self.read_header(log, position)?;
            let batch_bytes = header.size_in_bytes();
            if header.max_timestamp >= timestamp {
                if batch_bytes as u64 > self.size_bytes - position {
                    let available = (self.size_bytes - position) as usize;
                    return Err(self.corrupt(position, BatchError::Truncated { needed: batch_bytes, available }));
                }
                return self.read_at(log, position, batch_bytes).map(Some);
            }
            position += batch_bytes as u64;
        }
        Ok(None)
    }

    #[cfg(test)]
    pub(crate) fn index_entry_counts(&self) -> (usize, usize) {
        (self.offset_index.len(), self.time_index.len())
    }
}

/// The log, offset index and time index files of the segment at `base_offset`, registered with
/// the cache (none opened yet).
fn segment_files(dir: &Path, base_offset: i64, files: &FileCache) -> [CachedFile; 3] {
    [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]
        .map(|suffix| CachedFile::new(files, dir.join(file_name(base_offset, suffix))))
}

/// Appends one index entry through the cache.
/// `Write::write_all` over several buffers in as few system calls as the kernel allows (the
/// standard library's `write_all_vectored` is not stable yet).
fn write_all_vectored(mut out: impl Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

fn append_entry(file: &CachedFile, bytes: &[u8], context: &str) -> Result<(), LogError> {
    let handle: std::sync::Arc<Handle> = file.handle()?;
    let written = handle.file().write_all(bytes);
    file.mark_written();
    written.map_err(io_error(context))
}

/// Offset of the record with the batch's `maxTimestamp` (KIP-734 answers ListOffsets -3 with
/// it): the first such record of an uncompressed batch, the first record of a LogAppendTime
/// batch (all records share the append time), and, for a compressed batch, whose records this
/// module does not decompress, the batch's last offset, which is what Kafka before 3.8 answered
/// too (its "shallow" offset of the max timestamp, KAFKA-16310).
fn offset_of_max_timestamp(header: &BatchHeader, bytes: &[u8]) -> i64 {
    if header.timestamp_type_is_log_append_time() {
        return header.base_offset;
    }
    if let Ok(records) = record_positions(bytes) {
        for record in records {
            match record {
                Ok(record) if record.timestamp == header.max_timestamp => {
                    return record.offset.clamp(header.base_offset, header.last_offset());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    header.last_offset()
}

/// One step of a sequential scan over a segment file.
enum Scanned<'a> {
    /// A whole batch with a sane header and a valid CRC (offsets are for the caller to check).
    Batch {
        position: u64,
        header: BatchHeader,
        bytes: &'a [u8],
    },
    /// The bytes at `position` are not a valid batch: torn, corrupt, or garbage.
    Invalid {
        position: u64,
    },
    End,
}

/// Reads a segment file front to back in chunks, one batch at a time.
struct Scanner<'f> {
    file: &'f File,
    file_size_bytes: u64,
    position: u64,
    buffer: Vec<u8>,
    buffer_start: u64,
}

impl<'f> Scanner<'f> {
    fn new(file: &'f File, file_size_bytes: u64, position: u64) -> Scanner<'f> {
        Scanner { file, file_size_bytes, position, buffer: Vec::new(), buffer_start: position }
    }

    fn next_batch(&mut self) -> Result<Scanned<'_>, LogError> {
        let position = self.position;
        let remaining_bytes = self.file_size_bytes.saturating_sub(position);
        if remaining_bytes == 0 {
            return Ok(Scanned::End);
        }
        self.fill(BATCH_HEADER_LEN.min(remaining_bytes as usize))?;
        let header = match BatchHeader::parse(self.window()) {
            Ok(header) => header,
            Err(_) => return Ok(Scanned::Invalid { position }),
        };
        let batch_bytes = header.size_in_bytes();
        // Checked before reading so a garbage length never allocates more than the file holds.
        if batch_bytes as u64 > remaining_bytes {
            return Ok(Scanned::Invalid { position });
        }
        self.fill(batch_bytes)?;
        self.position += batch_bytes as u64;
        let start = (position - self.buffer_start) as usize;
        let bytes = &self.buffer[start..start + batch_bytes];
        if verify_crc(bytes).is_err() {
            return Ok(Scanned::Invalid { position });
        }
        Ok(Scanned::Batch { position, header, bytes })
    }

    /// The buffered bytes from the current position on.
    fn window(&self) -> &[u8] {
        let start = (self.position - self.buffer_start) as usize;
        self.buffer.get(start..).unwrap_or_default()
    }

    /// Makes sure `len` bytes from the current position are buffered (the caller has checked
    /// that the file holds them).
    fn fill(&mut self, len: usize) -> Result<(), LogError> {
        if self.window().len() >= len {
            return Ok(());
        }
        let remaining_bytes = self.file_size_bytes.saturating_sub(self.position);
        let read_bytes = (len.max(READ_CHUNK_BYTES) as u64).min(remaining_bytes) as usize;
        self.buffer.resize(read_bytes, 0);
        read_exact_at(self.file, &mut self.buffer, self.position).map_err(io_error("cannot read a segment"))?;
        self.buffer_start = self.position;
        Ok(())
    }
}

/// The file's bytes, or `None` if it does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, LogError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LogError::Io { context: format!("cannot read {}", path.display()), source }),
    }
}

pub(crate) fn remove_if_exists(path: &Path) -> Result<(), LogError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(LogError::Io { context: format!("cannot delete {}", path.display()), source }),
    }
}

pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> LogError {
    let context = context.into();
    move |source| LogError::Io { context, source }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], position: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, position)
}

#[cfg(windows)]
fn read_exact_at(file: &File, buf: &mut [u8], position: u64) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match std::os::windows::fs::FileExt::seek_read(file, &mut buf[filled..], position + filled as u64)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}
