//! Tests of the partition log on real files in a temporary directory. Batches come from the
//! `kafka-protocol` crate's encoder, i.e. they are what a client would produce.

use super::*;
use crate::record::batch::{batches, verify_crc};
use bytes::Bytes;
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression as KafkaCompression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::fs::OpenOptions;
use tempfile::TempDir;

const NO_LIMIT: usize = usize::MAX;

/// One batch with one record per timestamp, each value `value_bytes` long.
fn batch_with(timestamps: &[i64], value_bytes: usize) -> Vec<u8> {
    let records: Vec<Record> = timestamps
        .iter()
        .enumerate()
        .map(|(i, &timestamp)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder groups records into one batch only if offset - sequence is constant.
            sequence: -1 + i as i32,
            timestamp,
            key: None,
            value: Some(Bytes::from(vec![b'v'; value_bytes])),
            headers: IndexMap::new(),
        })
        .collect();
    let mut buf = Vec::new();
    let options = RecordEncodeOptions { version: 2, compression: KafkaCompression::None };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode");
    assert_eq!(BatchHeader::parse(&buf).expect("header").size_in_bytes(), buf.len(), "one batch");
    buf
}

/// A batch of `count` records all at `timestamp`.
fn batch(count: usize, timestamp: i64) -> Vec<u8> {
    batch_with(&vec![timestamp; count], 10)
}

fn small_config() -> LogConfig {
    LogConfig { segment_bytes: 1_000, index_interval_bytes: 150, ..LogConfig::default() }
}

/// A cache smaller than one segment's three files: every test here has its handles closed and
/// reopened behind its back, which must change nothing it can see.
fn files() -> FileCache {
    FileCache::new(2)
}

fn open(dir: &TempDir, config: LogConfig) -> (PartitionLog, RecoveryReport) {
    PartitionLog::open(dir.path(), config, 0, &files()).expect("open")
}

/// Appends `bytes` at epoch 3 and returns them as the log stored them (offsets and epoch stamped).
fn append(log: &mut PartitionLog, mut bytes: Vec<u8>) -> (AppendInfo, Vec<u8>) {
    let info = log.append(&bytes, 3, 0).expect("append");
    let header = BatchHeader {
        base_offset: info.base_offset,
        partition_leader_epoch: 3,
        ..BatchHeader::parse(&bytes).expect("a batch")
    };
    let stamped = batch::stamped_header(&bytes, &header).expect("a whole batch");
    bytes[..stamped.len()].copy_from_slice(&stamped);
    (info, bytes)
}

/// (base offset, last offset) of each batch in `bytes`.
fn offsets(bytes: &[u8]) -> Vec<(i64, i64)> {
    batches(bytes).map(|item| item.expect("batch")).map(|(h, _)| (h.base_offset, h.last_offset())).collect()
}

fn segment_path(dir: &TempDir, base_offset: i64, suffix: &str) -> PathBuf {
    dir.path().join(segment::file_name(base_offset, suffix))
}

/// A log with batches of 1, 2, 3, ... records cycling up to 4, `count` batches in all.
fn fill(log: &mut PartitionLog, count: usize) -> Vec<u8> {
    let mut all = Vec::new();
    for i in 0..count {
        let (_, stored) = append(log, batch(1 + i % 4, 1_000 + i as i64));
        all.extend_from_slice(&stored);
    }
    all
}

/// Deterministic xorshift, so the fuzz-style tests replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn append_then_read_round_trips_with_offsets_and_epoch_assigned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, report) = open(&dir, LogConfig::default());
    assert_eq!((report.segments, report.log_end_offset), (1, 0));
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));

    let (first, _) = append(&mut log, batch(1, 100));
    let (second, _) = append(&mut log, batch_with(&[200, 250, 220], 10));
    let (third, _) = append(&mut log, batch(2, 300));
    assert_eq!(first, AppendInfo { base_offset: 0, last_offset: 0, max_timestamp: 100, log_append_time_ms: -1 });
    assert_eq!((second.base_offset, second.last_offset, second.max_timestamp), (1, 3, 250));
    assert_eq!((third.base_offset, third.last_offset), (4, 5));
    assert_eq!(log.log_end_offset(), 6);

    let bytes = log.read(0, NO_LIMIT, 6).expect("read");
    assert_eq!(offsets(&bytes), vec![(0, 0), (1, 3), (4, 5)]);
    assert_eq!(bytes.len() as u64, log.size_in_bytes());
    for item in batches(&bytes) {
        let (header, batch) = item.expect("batch");
        assert_eq!(header.partition_leader_epoch, 3);
        assert_eq!(verify_crc(batch), Ok(()));
    }
    // A client's decoder reads the stored bytes with the assigned offsets.
    let sets = RecordBatchDecoder::decode_all(&mut Bytes::from(bytes)).expect("decode");
    let decoded: Vec<i64> = sets.iter().flat_map(|set| set.records.iter().map(|r| r.offset)).collect();
    assert_eq!(decoded, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn read_from_the_middle_of_a_batch_returns_the_whole_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    fill(&mut log, 3); // offsets [0], [1, 2], [3, 5]
    assert_eq!(offsets(&log.read(2, NO_LIMIT, 6).expect("read")), vec![(1, 2), (3, 5)]);
    assert_eq!(offsets(&log.read(5, NO_LIMIT, 6).expect("read")), vec![(3, 5)]);
}

#[test]
fn read_respects_max_bytes_but_always_returns_one_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    let sizes: Vec<usize> = (0..3).map(|i| append(&mut log, batch(2, i)).1.len()).collect();
    assert_eq!(offsets(&log.read(0, 1, 6).expect("read")), vec![(0, 1)], "KIP-74: one batch even past max_bytes");
    assert_eq!(offsets(&log.read(0, 0, 6).expect("read")), vec![(0, 1)]);
    let two = sizes[0] + sizes[1];
    assert_eq!(offsets(&log.read(0, two, 6).expect("read")), vec![(0, 1), (2, 3)]);
    assert_eq!(offsets(&log.read(0, two - 1, 6).expect("read")), vec![(0, 1)]);
    assert_eq!(log.read(0, two, 6).expect("read").len(), two);
}

#[test]
fn read_stops_at_the_upper_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    fill(&mut log, 3); // offsets [0], [1, 2], [3, 5]
    assert_eq!(offsets(&log.read(0, NO_LIMIT, 3).expect("read")), vec![(0, 0), (1, 2)]);
    // A batch straddling the high watermark is not exposed at all.
    assert_eq!(offsets(&log.read(0, NO_LIMIT, 5).expect("read")), vec![(0, 0), (1, 2)]);
    assert_eq!(offsets(&log.read(0, NO_LIMIT, 2).expect("read")), vec![(0, 0)]);
    assert!(log.read(3, NO_LIMIT, 3).expect("read").is_empty());
    assert!(log.read(0, NO_LIMIT, 0).expect("read").is_empty());
}

#[test]
fn offsets_outside_the_log_are_out_of_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    fill(&mut log, 2); // LEO 3
    assert!(log.read(3, NO_LIMIT, 3).expect("read at LEO").is_empty());
    let error = log.read(4, NO_LIMIT, 4).expect_err("past LEO");
    assert!(matches!(error, LogError::OffsetOutOfRange { offset: 4, log_start_offset: 0, log_end_offset: 3 }));
    assert_eq!(error.kafka_error_code(), 1);
    assert!(matches!(log.read(-1, NO_LIMIT, 3), Err(LogError::OffsetOutOfRange { offset: -1, .. })));
    assert_eq!(
        error.to_string(),
        "offset 4 is out of range: log start offset 0, log end offset 3",
        "the message says what the valid range is"
    );
}

#[test]
fn segments_roll_by_size_and_reads_cross_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    let all = fill(&mut log, 60);
    let bases = log.segment_base_offsets();
    assert!(bases.len() > 5, "{bases:?}");
    for base in &bases {
        let size = fs::metadata(segment_path(&dir, *base, LOG_SUFFIX)).expect("segment").len();
        assert!(size <= 1_000, "segment {base} is {size} bytes");
    }
    assert_eq!(log.read(0, NO_LIMIT, log.log_end_offset()).expect("read"), all);
    // Segment base offsets are batch boundaries that continue the previous segment.
    let boundaries: Vec<i64> = offsets(&all).iter().map(|(base, _)| *base).collect();
    assert!(bases.iter().all(|base| boundaries.contains(base)));
}

#[test]
fn segments_roll_by_age_in_record_time_or_wall_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig { segment_ms: 1_000, ..LogConfig::default() };
    let (mut log, _) = open(&dir, config);
    // Record time: measured from the first batch's timestamp to the incoming batch's.
    log.append(&batch(1, 10_000), 0, 0).expect("append");
    log.append(&batch(1, 11_000), 0, 0).expect("append");
    assert_eq!(log.segment_base_offsets(), vec![0], "exactly segment.ms does not roll");
    log.append(&batch(1, 11_001), 0, 0).expect("append");
    assert_eq!(log.segment_base_offsets(), vec![0, 2]);

    // Without timestamps (-1), wall time since the segment was created, from `now_ms`.
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = PartitionLog::open(dir.path(), config_with_segment_ms(1_000), 5_000, &files()).expect("open");
    log.append(&batch(1, -1), 0, 5_500).expect("append");
    log.append(&batch(1, -1), 0, 6_000).expect("append");
    assert_eq!(log.segment_base_offsets(), vec![0]);
    log.append(&batch(1, -1), 0, 6_001).expect("append");
    assert_eq!(log.segment_base_offsets(), vec![0, 2]);
}

fn config_with_segment_ms(segment_ms: i64) -> LogConfig {
    LogConfig { segment_ms, ..LogConfig::default() }
}

#[test]
fn sparse_index_lookups_agree_with_a_linear_scan() {
    for index_interval_bytes in [0, 100, 4096] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig { segment_bytes: 2_000, index_interval_bytes, ..LogConfig::default() };
        let (mut log, _) = open(&dir, config.clone());
        let all = fill(&mut log, 80);
        let expected = offsets(&all);
        let leo = log.log_end_offset();
        let check = |log: &PartitionLog| {
            for offset in 0..leo {
                let containing = expected.iter().find(|(_, last)| *last >= offset).copied();
                let got = offsets(&log.read(offset, 1, leo).expect("read"));
                assert_eq!(got.first().copied(), containing, "offset {offset}, interval {index_interval_bytes}");
            }
        };
        check(&log);
        if index_interval_bytes == 100 {
            let (offset_entries, time_entries) = log.segments[0].index_entry_counts();
            assert!(offset_entries > 5 && time_entries > 5, "{offset_entries} {time_entries}");
        }
        // The same after a reopen, which loads the sealed segments' index files.
        drop(log);
        let (log, report) = open(&dir, config);
        assert_eq!(report.segments_scanned, 1, "only the active segment is re-read");
        assert_eq!(report.indexes_rebuilt, 0);
        check(&log);
    }
}

#[test]
fn retention_by_time_deletes_old_sealed_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig { segment_bytes: 300, retention_ms: 1_000, ..LogConfig::default() };
    let (mut log, _) = open(&dir, config);
    for timestamp in [100, 200, 5_000, 300, 6_000, 7_000] {
        log.append(&batch_with(&[timestamp; 3], 40), 0, 0).expect("append");
    }
    assert_eq!(log.segment_base_offsets(), vec![0, 3, 6, 9, 12, 15], "one batch per segment");
    // At 5_500 the segments at 100 and 200 are expired; 5_000 is not, so 300 behind it stays.
    assert_eq!(log.enforce_retention(5_500).expect("retention"), 2);
    assert_eq!(log.log_start_offset(), 6);
    assert_eq!(log.segment_base_offsets(), vec![6, 9, 12, 15]);
    assert!(!segment_path(&dir, 0, LOG_SUFFIX).exists() && !segment_path(&dir, 3, INDEX_SUFFIX).exists());
    assert!(matches!(log.read(0, NO_LIMIT, 18), Err(LogError::OffsetOutOfRange { log_start_offset: 6, .. })));
    assert_eq!(offsets(&log.read(6, NO_LIMIT, 18).expect("read"))[0], (6, 8));
    // Much later everything but the active segment goes; the active one is never deleted.
    assert_eq!(log.enforce_retention(1_000_000).expect("retention"), 3);
    assert_eq!(log.segment_base_offsets(), vec![15]);
    assert_eq!(log.log_end_offset(), 18);
    // retention.ms = -1 keeps everything.
    log.set_config(LogConfig { retention_ms: -1, ..log.config().clone() });
    log.append(&batch(1, 0), 0, 0).expect("append");
    log.append(&batch(1, 0), 0, 0).expect("append");
    assert_eq!(log.enforce_retention(i64::MAX).expect("retention"), 0);
}

#[test]
fn retention_by_size_keeps_at_least_retention_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig { segment_bytes: 300, ..LogConfig::default() };
    let (mut log, _) = open(&dir, config);
    let batch_bytes = append(&mut log, batch(1, 0)).1.len() as u64;
    for _ in 0..9 {
        append(&mut log, batch(1, 0));
    }
    let per_segment = log.segments[0].size_bytes();
    let segments_before = log.segment_base_offsets().len();
    assert!(segments_before >= 3 && per_segment >= batch_bytes);
    // Keep all but one segment's worth (minus a byte): only the oldest segment can go, because
    // without the second one too the log would be smaller than retention.bytes.
    let retention_bytes = (log.size_in_bytes() - per_segment) as i64 - 1;
    log.set_config(LogConfig { retention_bytes, ..log.config().clone() });
    assert_eq!(log.enforce_retention(0).expect("retention"), 1);
    assert!(log.size_in_bytes() as i64 >= retention_bytes);
    assert_eq!(log.log_start_offset(), log.segment_base_offsets()[0]);
    assert!(log.log_start_offset() > 0);
    log.set_config(LogConfig { retention_bytes: 0, ..log.config().clone() });
    log.enforce_retention(0).expect("retention");
    assert_eq!(log.segment_base_offsets().len(), 1);
}

#[test]
fn reopening_after_a_clean_close_gives_the_same_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    let all = fill(&mut log, 40);
    log.flush().expect("flush");
    let (leo, bases) = (log.log_end_offset(), log.segment_base_offsets());
    drop(log);

    let (mut log, report) = open(&dir, small_config());
    assert_eq!((report.truncated_bytes, report.segments_deleted, report.indexes_rebuilt), (0, 0, 0));
    assert_eq!((report.segments, report.log_end_offset), (bases.len(), leo));
    assert_eq!(log.log_end_offset(), leo);
    assert_eq!(log.segment_base_offsets(), bases);
    assert_eq!(log.read(0, NO_LIMIT, leo).expect("read"), all);
    assert_eq!(append(&mut log, batch(2, 0)).0.base_offset, leo);
}

#[test]
fn a_torn_last_batch_is_cut_at_every_possible_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    let all = fill(&mut log, 3); // offsets [0], [1, 2], [3, 5]
    drop(log);
    let path = segment_path(&dir, 0, LOG_SUFFIX);
    let intact = fs::read(&path).expect("read");
    let last_start = all.len() - batches(&all).last().expect("last").expect("batch").1.len();
    for cut in last_start..intact.len() {
        fs::write(&path, &intact[..cut]).expect("write");
        let (mut log, report) = open(&dir, LogConfig::default());
        assert_eq!(log.log_end_offset(), 3, "cut at byte {cut}");
        assert_eq!(report.truncated_bytes, (cut - last_start) as u64);
        assert_eq!(fs::metadata(&path).expect("stat").len(), last_start as u64);
        assert_eq!(log.read(0, NO_LIMIT, 3).expect("read"), all[..last_start]);
        assert_eq!(append(&mut log, batch(1, 0)).0.base_offset, 3);
    }
}

#[test]
fn a_corrupt_batch_in_the_middle_truncates_the_log_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig::default());
    let all = fill(&mut log, 4); // [0], [1, 2], [3, 5], [6, 9]
    drop(log);
    let path = segment_path(&dir, 0, LOG_SUFFIX);
    let second_start = batches(&all).next().expect("first").expect("batch").1.len();
    let mut bytes = fs::read(&path).expect("read");
    bytes[second_start + 70] ^= 0x01; // inside the second batch's records
    fs::write(&path, &bytes).expect("write");

    let (log, report) = open(&dir, LogConfig::default());
    assert_eq!(log.log_end_offset(), 1);
    assert_eq!(report.truncated_bytes, (all.len() - second_start) as u64);
    assert_eq!(log.read(0, NO_LIMIT, 1).expect("read"), all[..second_start]);
}

#[test]
fn garbage_or_missing_indexes_are_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    let all = fill(&mut log, 40);
    let bases = log.segment_base_offsets();
    let leo = log.log_end_offset();
    drop(log);
    let good_index = fs::read(segment_path(&dir, bases[1], INDEX_SUFFIX)).expect("index");
    assert!(!good_index.is_empty());

    // Garbage in a sealed segment's offset index (decreasing entries, ragged length), a torn
    // time index, and a missing one.
    fs::write(segment_path(&dir, bases[0], INDEX_SUFFIX), [0xff, 0xee, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 9]).expect("w");
    fs::write(segment_path(&dir, bases[1], INDEX_SUFFIX), [0xffu8; 16]).expect("w");
    fs::write(segment_path(&dir, bases[2], TIME_INDEX_SUFFIX), [1, 2, 3]).expect("w");
    fs::remove_file(segment_path(&dir, bases[3], INDEX_SUFFIX)).expect("rm");

    let (log, report) = open(&dir, small_config());
    assert_eq!(report.indexes_rebuilt, 4);
    assert_eq!(report.segments_scanned, 5, "four rebuilt plus the active one");
    assert_eq!(report.truncated_bytes, 0);
    assert_eq!(log.log_end_offset(), leo);
    assert_eq!(fs::read(segment_path(&dir, bases[1], INDEX_SUFFIX)).expect("index"), good_index);
    assert_eq!(log.read(0, NO_LIMIT, leo).expect("read"), all);
    for offset in 0..leo {
        assert!(!log.read(offset, 1, leo).expect("read").is_empty());
    }
}

#[test]
fn orphan_index_files_are_removed_and_a_gap_deletes_later_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    fill(&mut log, 40);
    let bases = log.segment_base_offsets();
    drop(log);
    fs::write(segment_path(&dir, 999_999, INDEX_SUFFIX), b"orphan").expect("w");
    fs::write(dir.path().join("leader-epoch-checkpoint"), b"not ours").expect("w");
    // Losing a middle segment leaves a gap: nothing after it can be trusted.
    fs::remove_file(segment_path(&dir, bases[2], LOG_SUFFIX)).expect("rm");

    let (log, report) = open(&dir, small_config());
    assert_eq!(log.segment_base_offsets(), bases[..2].to_vec());
    assert_eq!(log.log_end_offset(), bases[2]);
    assert_eq!(report.segments_deleted, bases.len() - 3);
    assert!(!segment_path(&dir, 999_999, INDEX_SUFFIX).exists());
    assert!(!segment_path(&dir, bases[2], INDEX_SUFFIX).exists());
    assert!(dir.path().join("leader-epoch-checkpoint").exists());
}

#[test]
fn garbage_after_a_sealed_segment_is_cut_and_later_segments_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    let all = fill(&mut log, 30);
    let bases = log.segment_base_offsets();
    drop(log);
    let path = segment_path(&dir, bases[0], LOG_SUFFIX);
    let mut file = OpenOptions::new().append(true).open(&path).expect("open");
    std::io::Write::write_all(&mut file, &[0x55; 33]).expect("write");
    drop(file);

    let (log, report) = open(&dir, small_config());
    assert_eq!(report.truncated_bytes, 33);
    assert_eq!(log.segment_base_offsets(), bases);
    assert_eq!(log.read(0, NO_LIMIT, log.log_end_offset()).expect("read"), all);
}

#[test]
fn recovery_survives_random_garbage_and_random_cuts() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..40 {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig { segment_bytes: 700, index_interval_bytes: 120, ..LogConfig::default() };
        let (mut log, _) = open(&dir, config.clone());
        let count = 1 + rng.below(15) as usize;
        let all = fill(&mut log, count);
        let bases = log.segment_base_offsets();
        drop(log);
        let active = *bases.last().expect("active");
        let path = segment_path(&dir, active, LOG_SUFFIX);
        let mut bytes = fs::read(&path).expect("read");
        let cut = rng.below(bytes.len() as u64 + 1) as usize;
        bytes.truncate(cut);
        let garbage: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        bytes.extend_from_slice(&garbage);
        fs::write(&path, &bytes).expect("write");

        // Expected: every whole batch that starts before the cut point of the active segment.
        let active_start = prefix_before(&all, active);
        let mut expected_end = active_start;
        for item in batches(&all[active_start..]) {
            let (_, batch) = item.expect("batch");
            if expected_end - active_start + batch.len() > cut {
                break;
            }
            expected_end += batch.len();
        }
        let expected_leo = offsets(&all[..expected_end]).last().map_or(active, |(_, last)| last + 1);

        let (mut log, report) = open(&dir, config);
        assert_eq!(log.log_end_offset(), expected_leo, "round {round}: cut {cut}, {} garbage bytes", garbage.len());
        assert_eq!(log.read(0, NO_LIMIT, expected_leo).expect("read"), all[..expected_end], "round {round}");
        assert!(report.truncated_bytes <= bytes.len() as u64);
        let (info, _) = append(&mut log, batch(2, 0));
        assert_eq!(info.base_offset, expected_leo, "round {round}");
        drop(log);
        let (log, _) = open(&dir, LogConfig::default());
        assert_eq!(log.log_end_offset(), expected_leo + 2, "round {round}");
    }
}

#[test]
fn random_damage_to_any_file_never_panics_and_the_log_stays_usable() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for round in 0..60 {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig { segment_bytes: 600, index_interval_bytes: 90, ..LogConfig::default() };
        let (mut log, _) = open(&dir, config.clone());
        fill(&mut log, 5 + rng.below(20) as usize);
        let bases = log.segment_base_offsets();
        drop(log);
        for _ in 0..1 + rng.below(4) {
            let base = bases[rng.below(bases.len() as u64) as usize];
            let suffix = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX][rng.below(3) as usize];
            let path = segment_path(&dir, base, suffix);
            let mut bytes = fs::read(&path).unwrap_or_default();
            // Not flipped: bits in the middle of a sealed segment's log. Open only checks a
            // sealed segment's tail (like Kafka below its recovery point), and a flip in a base
            // offset, which the CRC does not cover, would go unnoticed until a consumer sees it.
            let flippable = suffix != LOG_SUFFIX || Some(&base) == bases.last();
            match rng.below(4) {
                0 if flippable && !bytes.is_empty() => {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] ^= 1 << rng.below(8);
                }
                1 => bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize),
                2 => {
                    // Something that looks like a batch header: magic 2, a random length.
                    let mut fake = batch(1, 0);
                    fake[8..12].copy_from_slice(&(rng.next() as i32).to_be_bytes());
                    fake.truncate(rng.below(fake.len() as u64 + 1) as usize);
                    bytes.extend_from_slice(&fake);
                }
                _ => bytes.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
            }
            fs::write(&path, &bytes).expect("write");
        }

        let (mut log, _) =
            PartitionLog::open(dir.path(), config.clone(), 0, &files()).expect("open never fails on content");
        let (start, leo) = (log.log_start_offset(), log.log_end_offset());
        assert!(start <= leo, "round {round}");
        // Whatever reads return, returned bytes are whole batches in offset order.
        if let Ok(bytes) = log.read(start, NO_LIMIT, leo) {
            let mut expected = start;
            for (base, last) in offsets(&bytes) {
                assert_eq!(base, expected, "round {round}");
                expected = last + 1;
            }
        }
        for offset in start..leo {
            let _ = log.read(offset, 1, leo);
        }
        let _ = log.batch_for_timestamp(1_005);
        assert_eq!(append(&mut log, batch(1, 0)).0.base_offset, leo, "round {round}");
        drop(log);
        let (log, _) = PartitionLog::open(dir.path(), config, 0, &files()).expect("reopen");
        assert_eq!(log.log_end_offset(), leo + 1, "round {round}");
    }
}

/// Bytes of `all` before the batch with base offset `base_offset`.
fn prefix_before(all: &[u8], base_offset: i64) -> usize {
    batches(all)
        .map(|item| item.expect("batch"))
        .take_while(|(h, _)| h.base_offset < base_offset)
        .map(|(_, b)| b.len())
        .sum()
}

#[test]
fn truncate_to_drops_the_tail_at_batch_boundaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    let all = fill(&mut log, 40);
    let bases = log.segment_base_offsets();
    let boundaries = offsets(&all);

    // To a batch boundary in the middle of a sealed segment: later segments go.
    let (target, _) = boundaries.iter().copied().find(|(base, _)| *base > bases[1] && *base < bases[2]).expect("b");
    log.truncate_to(target).expect("truncate");
    assert_eq!(log.log_end_offset(), target);
    assert_eq!(log.segment_base_offsets(), bases[..2].to_vec());
    assert!(!segment_path(&dir, bases[2], LOG_SUFFIX).exists());
    assert_eq!(log.read(0, NO_LIMIT, target).expect("read"), all[..prefix_before(&all, target)]);

    // Mid-batch: the containing batch goes too.
    let (base, _) =
        boundaries.iter().copied().find(|(base, last)| *base >= bases[1] && *base < target && last > base).expect("b");
    log.truncate_to(base + 1).expect("truncate");
    assert_eq!(log.log_end_offset(), base);

    // To a segment's base offset: that segment stays, empty and active.
    log.truncate_to(bases[1]).expect("truncate");
    assert_eq!(log.segment_base_offsets(), bases[..2].to_vec());
    assert_eq!(log.log_end_offset(), bases[1]);
    assert_eq!(log.segments[1].size_bytes(), 0);

    // Past the end: nothing happens; before the start: out of range.
    log.truncate_to(1_000).expect("no-op");
    assert_eq!(log.log_end_offset(), bases[1]);
    assert!(matches!(log.truncate_to(-1), Err(LogError::OffsetOutOfRange { .. })));

    // Appends continue from the new end, and the state survives a reopen.
    assert_eq!(append(&mut log, batch(3, 0)).0.base_offset, bases[1]);
    let leo = log.log_end_offset();
    drop(log);
    let (log, report) = open(&dir, small_config());
    assert_eq!((log.log_end_offset(), report.truncated_bytes), (leo, 0));
}

#[test]
fn timestamp_lookups_agree_with_a_linear_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig { segment_bytes: 900, index_interval_bytes: 100, ..LogConfig::default() };
    let (mut log, _) = open(&dir, config.clone());
    assert_eq!(log.max_timestamp(), None);
    assert_eq!(log.batch_for_timestamp(0).expect("lookup"), None);
    let mut rng = Rng(42);
    let mut all = Vec::new();
    for _ in 0..60 {
        let timestamps: Vec<i64> = (0..1 + rng.below(3)).map(|_| 1_000 + rng.below(5_000) as i64).collect();
        all.extend_from_slice(&append(&mut log, batch_with(&timestamps, 10)).1);
    }
    assert!(log.segment_base_offsets().len() > 3);
    let expected_batch = |target: i64| {
        batches(&all).map(|item| item.expect("batch")).find(|(h, _)| h.max_timestamp >= target).map(|(_, b)| b.to_vec())
    };
    // KIP-734: the earliest record with the largest timestamp.
    let records: Vec<(i64, i64)> = batches(&all).flat_map(|item| record_positions_of(item.expect("batch").1)).collect();
    let max = records.iter().map(|(_, t)| *t).max().expect("max");
    let expected_max = records.iter().find(|(_, t)| *t == max).map(|(o, t)| (*o, *t));
    let check = |log: &PartitionLog| {
        for target in (900..6_200).step_by(37) {
            assert_eq!(log.batch_for_timestamp(target).expect("lookup"), expected_batch(target), "target {target}");
        }
        assert_eq!(log.max_timestamp(), expected_max);
    };
    check(&log);
    drop(log);
    let (log, _) = open(&dir, config);
    check(&log);
}

fn record_positions_of(batch: &[u8]) -> Vec<(i64, i64)> {
    crate::record::batch::record_positions(batch)
        .expect("uncompressed")
        .map(|record| record.expect("record"))
        .map(|record| (record.offset, record.timestamp))
        .collect()
}

#[test]
fn invalid_batches_are_rejected_and_leave_the_log_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig { max_message_bytes: 200, segment_bytes: 150, ..LogConfig::default() };
    let (mut log, _) = open(&dir, LogConfig { segment_bytes: 10_000, ..config.clone() });
    append(&mut log, batch(1, 0));
    let before = (log.log_end_offset(), log.size_in_bytes());

    let mut corrupt = batch(2, 0);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    assert!(matches!(log.append(&corrupt, 0, 0), Err(LogError::InvalidBatch(BatchError::CorruptCrc { .. }))));

    let mut two = batch(1, 0);
    two.extend_from_slice(&batch(1, 0));
    let error = log.append(&two, 0, 0).expect_err("two batches");
    assert!(matches!(error, LogError::NotOneBatch { .. }));
    assert_eq!(error.kafka_error_code(), 87);

    let mut cut = batch(2, 0);
    cut.pop();
    assert!(matches!(log.append(&cut, 0, 0), Err(LogError::InvalidBatch(BatchError::Truncated { .. }))));

    let large = batch_with(&[0], 300);
    let error = log.append(&large, 0, 0).expect_err("too large");
    assert!(matches!(error, LogError::MessageTooLarge { max_bytes: 200, .. }));
    assert_eq!(error.kafka_error_code(), 10);

    let header_only = batch(1, 0);
    let mut lying = header_only.clone();
    lying[57..61].copy_from_slice(&2i32.to_be_bytes()); // recordCount 2, lastOffsetDelta 0
    crate::record::batch::update_crc(&mut lying).expect("crc");
    assert!(matches!(
        log.append(&lying, 0, 0),
        Err(LogError::InconsistentRecordCount { record_count: 2, last_offset_delta: 0 })
    ));

    log.set_config(config);
    let error = log.append(&batch_with(&[0], 100), 0, 0).expect_err("larger than a segment");
    assert!(matches!(error, LogError::BatchLargerThanSegment { segment_bytes: 150, .. }));

    assert_eq!((log.log_end_offset(), log.size_in_bytes()), before);
    assert!(log.append(&header_only, 0, 0).is_ok(), "the log still works");
}

#[test]
fn flush_makes_appends_durable_and_resets_unflushed_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    assert_eq!(log.unflushed_bytes(), 0);
    let (_, stored) = append(&mut log, batch(1, 0));
    assert_eq!(log.unflushed_bytes(), stored.len() as u64);
    log.flush().expect("flush");
    assert_eq!(log.unflushed_bytes(), 0);
    // Rolling seals (and fsyncs) the old segment; only the new one is unflushed.
    fill(&mut log, 30);
    let active_bytes = log.segments.last().expect("active").size_bytes();
    assert_eq!(log.unflushed_bytes(), active_bytes);
    log.flush().expect("flush");
    assert_eq!(log.unflushed_bytes(), 0);
}

#[test]
fn default_config_is_kafkas() {
    let config = LogConfig::default();
    assert_eq!(config.segment_bytes, 1_073_741_824);
    assert_eq!(config.segment_ms, 604_800_000);
    assert_eq!(config.retention_ms, 604_800_000);
    assert_eq!(config.retention_bytes, -1);
    assert_eq!(config.index_interval_bytes, 4_096);
    assert_eq!(config.max_message_bytes, 1_048_588);
}

#[test]
fn sync_work_is_taken_once_per_write_and_can_be_synced_outside_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, small_config());
    // A fresh log created its directory: the first flush syncs that too.
    let first = log.take_sync_work().expect("work");
    first.sync().expect("fsync");
    assert!(log.take_sync_work().expect("work").is_empty(), "nothing written since");
    append(&mut log, batch(3, 1_000));
    assert!(log.unflushed_bytes() > 0);
    let work = log.take_sync_work().expect("work");
    assert!(!work.is_empty());
    assert_eq!(log.unflushed_bytes(), 0, "marked synced when taken");
    // Appends may go on before the taken work is synced.
    append(&mut log, batch(1, 2_000));
    work.sync().expect("fsync");
    assert!(!log.take_sync_work().expect("work").is_empty(), "the later append is the next round's");
    log.mark_offline();
    assert!(matches!(log.take_sync_work(), Err(LogError::Offline)));
}

#[test]
fn many_logs_share_a_small_file_budget_without_losing_a_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = FileCache::new(4);
    let paths: Vec<PathBuf> = (0..10).map(|i| dir.path().join(format!("topic-{i}"))).collect();
    let mut logs: Vec<PartitionLog> =
        paths.iter().map(|path| PartitionLog::open(path, small_config(), 0, &files).expect("open").0).collect();
    let mut expected: Vec<Vec<u8>> = vec![Vec::new(); logs.len()];
    // Round-robin appends: each one evicts another log's active segment, which then appends
    // again through a reopened handle; small segments make them roll too.
    for round in 0..12 {
        for (log, bytes) in logs.iter_mut().zip(&mut expected) {
            let (_, stored) = append(log, batch(2, 1_000 + round));
            bytes.extend(stored);
        }
        if round % 5 == 4 {
            for log in &mut logs {
                log.take_sync_work().expect("work").sync().expect("fsync through the cache");
            }
        }
    }
    assert!(files.stats().open <= 4, "{:?}", files.stats());
    assert!(files.stats().evicted > 100, "{:?}", files.stats());
    for (log, bytes) in logs.iter().zip(&expected) {
        assert!(log.segment_base_offsets().len() > 1, "rolled");
        assert_eq!(&log.read(0, NO_LIMIT, i64::MAX).expect("read"), bytes);
        assert!(log.unflushed_bytes() > 0, "the last rounds were not flushed");
    }
    for log in &mut logs {
        log.flush().expect("flush");
    }
    drop(logs);
    let reopened = FileCache::new(4);
    for (path, bytes) in paths.iter().zip(&expected) {
        let (log, report) = PartitionLog::open(path, small_config(), 0, &reopened).expect("reopen");
        assert_eq!(report.truncated_bytes, 0);
        assert_eq!(&log.read(0, NO_LIMIT, i64::MAX).expect("read"), bytes);
    }
    assert!(reopened.stats().open <= 4, "recovery opens, checks and closes: {:?}", reopened.stats());
}

#[test]
fn a_log_append_time_topic_stamps_the_leader_append_and_keeps_a_replicated_batch_as_it_came() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig { log_append_time: true, ..LogConfig::default() });
    let info = log.append(&batch_with(&[100, 250], 10), 2, 1_700_000_000_000).expect("append");
    assert_eq!((info.max_timestamp, info.log_append_time_ms), (1_700_000_000_000, 1_700_000_000_000));
    let stored = log.read(0, 1 << 20, i64::MAX).expect("read");
    assert_eq!(verify_crc(&stored), Ok(()), "the CRC covers the new timestamp");
    let header = BatchHeader::parse(&stored).expect("header");
    assert!(header.timestamp_type_is_log_append_time());
    assert_eq!((header.max_timestamp, header.partition_leader_epoch), (1_700_000_000_000, 2));

    // A follower appends the leader's bytes as they are, on its own clock.
    let follower_dir = tempfile::tempdir().expect("tempdir");
    let (mut follower, _) = open(&follower_dir, LogConfig { log_append_time: true, ..LogConfig::default() });
    let replicated = follower.append_as_follower(&stored, 1_800_000_000_000).expect("append");
    assert_eq!((replicated.max_timestamp, replicated.log_append_time_ms), (1_700_000_000_000, -1));
    assert_eq!(follower.read(0, 1 << 20, i64::MAX).expect("read"), stored);

    // CreateTime (the default) keeps the producer's timestamps.
    let create_dir = tempfile::tempdir().expect("tempdir");
    let (mut create_time, _) = open(&create_dir, LogConfig::default());
    let info = create_time.append(&batch_with(&[100, 250], 10), 0, 1_700_000_000_000).expect("append");
    assert_eq!((info.max_timestamp, info.log_append_time_ms), (250, -1));
}
