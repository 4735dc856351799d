//! The two sparse indexes of a log segment: offset → file position, and timestamp → offset.
//!
//! # Layout
//!
//! Both are flat files of fixed-size big-endian entries, appended to as the segment grows and
//! mirrored in memory as a `Vec` (Kafka memory-maps preallocated files instead; plain files are
//! enough here and never leave a zero-filled tail to trim after a crash):
//!
//! ```text
//! 00000000000000000000.index      [relative offset: u32][position: u32]         8 bytes/entry
//! 00000000000000000000.timeindex  [timestamp: i64][relative offset: u32]        12 bytes/entry
//! ```
//!
//! Offsets are stored relative to the segment's base offset (its file name), so they fit in 4
//! bytes; that is why a segment rolls before a batch would put an offset more than `i32::MAX`
//! past its base (Kafka: `LogSegment.canConvertToRelativeOffset`).
//!
//! Entries are *sparse*: one every `index.interval.bytes` of log. A lookup finds the last entry
//! at or before the target and the caller scans batch headers forward from its position.
//! A time-index entry `(t, o)` says "the largest timestamp in this segment up to offset `o` is
//! `t`, first reached at `o`"; timestamps strictly increase from entry to entry.

/// Size of one offset index entry: relative offset (u32) + file position (u32).
pub(crate) const OFFSET_INDEX_ENTRY_LEN: usize = 8;
/// Size of one time index entry: timestamp (i64) + relative offset (u32).
pub(crate) const TIME_INDEX_ENTRY_LEN: usize = 12;

/// One `.index` entry: the batch whose base offset is `base + relative_offset` starts at byte
/// `position` of the `.log` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetIndexEntry {
    pub(crate) relative_offset: u32,
    pub(crate) position: u32,
}

/// One `.timeindex` entry: up to offset `base + relative_offset` the largest timestamp of the
/// segment is `timestamp`, first reached by the record at that offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeIndexEntry {
    pub(crate) timestamp: i64,
    pub(crate) relative_offset: u32,
}

impl OffsetIndexEntry {
    pub(crate) fn encode(&self) -> [u8; OFFSET_INDEX_ENTRY_LEN] {
        let mut bytes = [0; OFFSET_INDEX_ENTRY_LEN];
        bytes[..4].copy_from_slice(&self.relative_offset.to_be_bytes());
        bytes[4..].copy_from_slice(&self.position.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8; OFFSET_INDEX_ENTRY_LEN]) -> OffsetIndexEntry {
        let [a, b, c, d, e, f, g, h] = *bytes;
        OffsetIndexEntry {
            relative_offset: u32::from_be_bytes([a, b, c, d]),
            position: u32::from_be_bytes([e, f, g, h]),
        }
    }
}

impl TimeIndexEntry {
    pub(crate) fn encode(&self) -> [u8; TIME_INDEX_ENTRY_LEN] {
        let mut bytes = [0; TIME_INDEX_ENTRY_LEN];
        bytes[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        bytes[8..].copy_from_slice(&self.relative_offset.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8; TIME_INDEX_ENTRY_LEN]) -> TimeIndexEntry {
        let [a, b, c, d, e, f, g, h, i, j, k, l] = *bytes;
        TimeIndexEntry {
            timestamp: i64::from_be_bytes([a, b, c, d, e, f, g, h]),
            relative_offset: u32::from_be_bytes([i, j, k, l]),
        }
    }
}

/// Decodes a `.index` file and checks what can be checked without the log: a whole number of
/// entries, relative offsets and positions strictly increasing, positions inside the log.
/// `None` means the file is torn or garbage and must be rebuilt from the log.
pub(crate) fn decode_offset_index(bytes: &[u8], log_size_bytes: u64) -> Option<Vec<OffsetIndexEntry>> {
    let chunks = bytes.chunks_exact(OFFSET_INDEX_ENTRY_LEN);
    if !chunks.remainder().is_empty() {
        return None;
    }
    let entries: Vec<OffsetIndexEntry> =
        chunks.filter_map(|chunk| chunk.try_into().ok()).map(OffsetIndexEntry::decode).collect();
    let increasing =
        entries.windows(2).all(|w| w[0].relative_offset < w[1].relative_offset && w[0].position < w[1].position);
    let inside = entries.last().is_none_or(|last| u64::from(last.position) < log_size_bytes);
    (increasing && inside).then_some(entries)
}

/// Decodes a `.timeindex` file: a whole number of entries, timestamps strictly increasing,
/// relative offsets never decreasing. `None` means it must be rebuilt.
pub(crate) fn decode_time_index(bytes: &[u8]) -> Option<Vec<TimeIndexEntry>> {
    let chunks = bytes.chunks_exact(TIME_INDEX_ENTRY_LEN);
    if !chunks.remainder().is_empty() {
        return None;
    }
    let entries: Vec<TimeIndexEntry> =
        chunks.filter_map(|chunk| chunk.try_into().ok()).map(TimeIndexEntry::decode).collect();
    let increasing =
        entries.windows(2).all(|w| w[0].timestamp < w[1].timestamp && w[0].relative_offset <= w[1].relative_offset);
    increasing.then_some(entries)
}

/// The last entry whose relative offset is `<= relative_offset` (Kafka `OffsetIndex.lookup`).
pub(crate) fn lookup_offset(entries: &[OffsetIndexEntry], relative_offset: u32) -> Option<OffsetIndexEntry> {
    let after = entries.partition_point(|entry| entry.relative_offset <= relative_offset);
    after.checked_sub(1).and_then(|i| entries.get(i)).copied()
}

/// The last entry whose timestamp is `<= timestamp` (Kafka `TimeIndex.lookup`). Every batch
/// before that entry's offset has a smaller maximum timestamp, so a search for the first batch
/// with `maxTimestamp >= timestamp` can start at the batch holding that offset.
pub(crate) fn lookup_timestamp(entries: &[TimeIndexEntry], timestamp: i64) -> Option<TimeIndexEntry> {
    let after = entries.partition_point(|entry| entry.timestamp <= timestamp);
    after.checked_sub(1).and_then(|i| entries.get(i)).copied()
}

/// Encodes entries back to back, as the file holds them.
pub(crate) fn encode_all<const N: usize, T>(entries: &[T], encode: impl Fn(&T) -> [u8; N]) -> Vec<u8> {
    entries.iter().flat_map(encode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_entry(relative_offset: u32, position: u32) -> OffsetIndexEntry {
        OffsetIndexEntry { relative_offset, position }
    }

    #[test]
    fn entries_encode_big_endian() {
        assert_eq!(offset_entry(1, 0x0102_0304).encode(), [0, 0, 0, 1, 1, 2, 3, 4]);
        let time = TimeIndexEntry { timestamp: 0x0102, relative_offset: 7 };
        assert_eq!(time.encode(), [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 7]);
    }

    #[test]
    fn offset_index_round_trips_and_rejects_garbage() {
        let entries = vec![offset_entry(3, 100), offset_entry(9, 4_300)];
        let bytes = encode_all(&entries, OffsetIndexEntry::encode);
        assert_eq!(decode_offset_index(&bytes, 5_000), Some(entries));
        assert_eq!(decode_offset_index(&bytes[..12], 5_000), None, "torn entry");
        assert_eq!(decode_offset_index(&bytes, 4_300), None, "position past the log");
        let backwards = encode_all(&[offset_entry(9, 100), offset_entry(3, 200)], OffsetIndexEntry::encode);
        assert_eq!(decode_offset_index(&backwards, 5_000), None);
        assert_eq!(decode_offset_index(&[], 0), Some(vec![]));
    }

    #[test]
    fn time_index_round_trips_and_rejects_garbage() {
        let entries = vec![
            TimeIndexEntry { timestamp: 10, relative_offset: 0 },
            TimeIndexEntry { timestamp: 20, relative_offset: 5 },
        ];
        let bytes = encode_all(&entries, TimeIndexEntry::encode);
        assert_eq!(decode_time_index(&bytes), Some(entries.clone()));
        assert_eq!(decode_time_index(&bytes[..13]), None);
        let reversed: Vec<_> = entries.into_iter().rev().collect();
        assert_eq!(decode_time_index(&encode_all(&reversed, TimeIndexEntry::encode)), None);
    }

    #[test]
    fn lookups_find_the_floor_entry() {
        let offsets = [offset_entry(10, 1_000), offset_entry(20, 2_000)];
        assert_eq!(lookup_offset(&offsets, 9), None);
        assert_eq!(lookup_offset(&offsets, 10), Some(offsets[0]));
        assert_eq!(lookup_offset(&offsets, 19), Some(offsets[0]));
        assert_eq!(lookup_offset(&offsets, 25), Some(offsets[1]));

        let times = [
            TimeIndexEntry { timestamp: 100, relative_offset: 2 },
            TimeIndexEntry { timestamp: 200, relative_offset: 9 },
        ];
        assert_eq!(lookup_timestamp(&times, 99), None);
        assert_eq!(lookup_timestamp(&times, 150), Some(times[0]));
        assert_eq!(lookup_timestamp(&times, 200), Some(times[1]));
    }
}
