//! The cleaner on real files: the end state after a clean (latest value per key, offsets kept,
//! tombstones until their delete horizon, the active segment untouched), the pick rules (dirty
//! ratio, compaction lags, the high watermark), and a crash at every step of the swap.

use super::*;
use crate::log::{FileCache, RecoveryReport};
use bytes::Bytes;
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression as KafkaCompression, Record as KafkaRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};
use tempfile::TempDir;

/// What a consumer reads: (offset, key, value), value `None` for a tombstone.
type Read = Vec<(i64, String, Option<String>)>;

/// One batch of `(key, value)` records at `timestamp`, as a producer would send it.
fn keyed_batch(
    records: &[(&str, Option<&str>)],
    timestamp: i64,
    compression: KafkaCompression,
    producer_id: i64,
) -> Vec<u8> {
    let records: Vec<KafkaRecord> = records
        .iter()
        .enumerate()
        .map(|(i, (key, value))| KafkaRecord {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch: if producer_id >= 0 { 0 } else { -1 },
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: if producer_id >= 0 { i as i32 } else { -1 + i as i32 },
            timestamp: timestamp + i as i64,
            key: Some(Bytes::from(key.to_string())),
            value: value.map(|v| Bytes::from(v.to_string())),
            headers: IndexMap::new(),
        })
        .collect();
    let mut buf = Vec::new();
    RecordBatchEncoder::encode(&mut buf, &records, &RecordEncodeOptions { version: 2, compression }).expect("encode");
    buf
}

fn compact_config() -> LogConfig {
    LogConfig {
        segment_bytes: 400,
        index_interval_bytes: 100,
        cleanup_policy_compact: true,
        cleanup_policy_delete: false,
        min_cleanable_dirty_ratio: 0.0,
        delete_retention_ms: 1_000,
        ..LogConfig::default()
    }
}

fn open(dir: &TempDir, config: LogConfig) -> (PartitionLog, RecoveryReport) {
    PartitionLog::open(dir.path(), config, 0, &FileCache::new(4)).expect("open")
}

fn produce(log: &mut PartitionLog, records: &[(&str, Option<&str>)], timestamp: i64) {
    let batch = keyed_batch(records, timestamp, KafkaCompression::None, -1);
    log.append(&batch, 0, timestamp).expect("append");
}

fn read_all(log: &PartitionLog) -> Read {
    let bytes = log.read(log.log_start_offset(), usize::MAX, i64::MAX).expect("read");
    for item in crate::record::batch::batches(&bytes) {
        let (_, batch) = item.expect("batch");
        crate::record::batch::verify_crc(batch).expect("crc");
    }
    let sets = RecordBatchDecoder::decode_all(&mut Bytes::from(bytes)).expect("decode");
    sets.iter()
        .flat_map(|set| set.records.iter())
        .map(|r| {
            let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
            (r.offset, r.key.as_ref().map(text).unwrap_or_default(), r.value.as_ref().map(text))
        })
        .collect()
}

/// One full clean as the runtime does it: plan, clean, swap. `None` if the log was not due.
fn clean(log: &mut PartitionLog, now_ms: i64) -> Option<CleanerStats> {
    let to_clean = log.log_to_clean(log.log_end_offset(), now_ms).expect("plan")?;
    if !to_clean.is_due() {
        return None;
    }
    let cleaned = to_clean.clean(now_ms, DEDUPE_BUFFER_BYTES_DEFAULT).expect("clean");
    let stats = cleaned.stats.clone();
    log.replace_cleaned(cleaned, now_ms).expect("swap");
    Some(stats)
}

/// The latest record of each key among `records`, in offset order: what compaction must leave.
fn latest_per_key(records: &Read) -> Read {
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (i, (_, key, _)) in records.iter().enumerate() {
        latest.insert(key, i);
    }
    records.iter().enumerate().filter(|(i, (_, key, _))| latest[key.as_str()] == *i).map(|(_, r)| r.clone()).collect()
}

/// 60 records over 5 keys, 3 records a batch: several sealed segments and an active one.
fn fill(log: &mut PartitionLog) {
    for i in 0..20 {
        let values: Vec<String> = (0..3).map(|j| format!("v{}", i * 3 + j)).collect();
        let keys: Vec<String> = (0..3).map(|j| format!("k{}", (i * 3 + j) % 5)).collect();
        let records: Vec<(&str, Option<&str>)> =
            keys.iter().zip(&values).map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
        produce(log, &records, 1_000 + i as i64);
    }
}

fn active_segment_bytes(log: &PartitionLog) -> Vec<u8> {
    let active = log.segment_base_offsets().last().copied().unwrap_or(0);
    fs::read(log.dir().join(segment::file_name(active, LOG_SUFFIX))).expect("active segment")
}

#[test]
fn a_clean_keeps_the_latest_record_of_each_key_at_its_offset_and_leaves_the_active_segment() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, compact_config());
    fill(&mut log);
    let before = read_all(&log);
    let active_before = active_segment_bytes(&log);
    let active_base = *log.segment_base_offsets().last().expect("active");
    let log_end_offset = log.log_end_offset();
    assert!(log.segment_base_offsets().len() > 3, "several sealed segments");

    let stats = clean(&mut log, 10_000).expect("due: everything sealed is dirty");
    assert!(stats.records_retained < stats.records_read);

    let after = read_all(&log);
    let (sealed, active): (Read, Read) = before.iter().cloned().partition(|(offset, _, _)| *offset < active_base);
    let mut expected = latest_per_key(&sealed);
    // Keys also in the active segment keep their older record too: it is not cleaned past.
    expected.extend(active.iter().cloned());
    assert_eq!(after, expected, "latest value per key, at its original offset");
    assert_eq!(active_segment_bytes(&log), active_before, "the active segment is untouched");
    assert_eq!(log.log_end_offset(), log_end_offset);
    assert_eq!(log.log_start_offset(), 0);

    // Reopening finds the same log, gaps and all.
    drop(log);
    let (log, report) = open(&dir, compact_config());
    assert_eq!(report.truncated_bytes, 0);
    assert_eq!(read_all(&log), after);
    assert_eq!(log.log_end_offset(), log_end_offset);
}

#[test]
fn a_second_clean_only_reads_the_new_dirty_section_and_groups_small_segments() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, compact_config());
    fill(&mut log);
    clean(&mut log, 10_000).expect("first clean");
    let segments_after_first = log.segment_base_offsets().len();
    let checkpoint = read_checkpoint(dir.path()).expect("checkpoint");
    assert_eq!(checkpoint, *log.segment_base_offsets().last().expect("active"));
    // Nothing new is dirty: not due.
    assert!(clean(&mut log, 10_001).is_none());
    fill(&mut log);
    let before = read_all(&log);
    clean(&mut log, 20_000).expect("second clean");
    let active_base = *log.segment_base_offsets().last().expect("active");
    let (sealed, active): (Read, Read) = before.into_iter().partition(|(offset, _, _)| *offset < active_base);
    let mut expected = latest_per_key(&sealed);
    expected.extend(active);
    assert_eq!(read_all(&log), expected);
    // The segments the first clean left small are grouped into one by the second (Kafka groups
    // by the size segments have before they are cleaned).
    assert!(segments_after_first > 2);
    assert_eq!(log.segment_base_offsets()[..2], [0, checkpoint], "grouped");
}

#[test]
fn tombstones_stay_until_delete_retention_ms_after_the_first_clean_then_go() {
    let dir = TempDir::new().expect("tempdir");
    let config = LogConfig { segment_bytes: 200, ..compact_config() };
    let (mut log, _) = open(&dir, config);
    produce(&mut log, &[("a", Some("1")), ("b", Some("1"))], 1_000);
    produce(&mut log, &[("a", None)], 1_001);
    produce(&mut log, &[("c", Some("1")), ("c", Some("2"))], 1_002);
    produce(&mut log, &[("d", Some("1")), ("d", Some("2"))], 1_003);
    produce(&mut log, &[("e", Some("1")), ("e", Some("2"))], 1_004);
    let active_base = *log.segment_base_offsets().last().expect("active");
    assert!(active_base > 2, "the tombstone is in a sealed segment");

    clean(&mut log, 5_000).expect("first clean");
    let read = read_all(&log);
    assert!(read.contains(&(2, "a".into(), None)), "the tombstone stays until its delete horizon: {read:?}");
    assert!(!read.iter().any(|(offset, _, _)| *offset == 0), "the value it deletes is gone");

    // More dirty data, and a clean before the horizon (5_000 + 1_000) keeps it...
    produce(&mut log, &[("f", Some("1")), ("f", Some("2"))], 1_005);
    produce(&mut log, &[("g", Some("1")), ("g", Some("2"))], 1_006);
    clean(&mut log, 5_999).expect("second clean");
    assert!(read_all(&log).contains(&(2, "a".into(), None)));
    // ...one after it removes it; the other keys keep their latest value.
    produce(&mut log, &[("h", Some("1")), ("h", Some("2"))], 1_007);
    produce(&mut log, &[("i", Some("1")), ("i", Some("2"))], 1_008);
    clean(&mut log, 6_000).expect("third clean");
    let read = read_all(&log);
    assert!(!read.iter().any(|(_, key, _)| key == "a"), "the tombstone is gone: {read:?}");
    assert!(read.contains(&(1, "b".into(), Some("1".into()))));
    assert!(read.contains(&(4, "c".into(), Some("2".into()))));
}

#[test]
fn compressed_batches_are_rebuilt_with_their_codec_and_offsets() {
    for compression in [KafkaCompression::Gzip, KafkaCompression::Snappy, KafkaCompression::Lz4, KafkaCompression::Zstd]
    {
        let dir = TempDir::new().expect("tempdir");
        let (mut log, _) = open(&dir, LogConfig { segment_bytes: 300, ..compact_config() });
        for i in 0..6 {
            let (v1, v2) = (format!("{i}a"), format!("{i}b"));
            let batch = keyed_batch(&[("x", Some(&v1)), (&format!("y{i}"), Some(&v2))], 1_000, compression, -1);
            log.append(&batch, 0, 1_000).expect("append");
        }
        let before = read_all(&log);
        let active_base = *log.segment_base_offsets().last().expect("active");
        clean(&mut log, 10_000).expect("clean");
        let (sealed, active): (Read, Read) = before.into_iter().partition(|(offset, _, _)| *offset < active_base);
        let mut expected = latest_per_key(&sealed);
        expected.extend(active);
        assert_eq!(read_all(&log), expected, "{compression:?}");
        let bytes = log.read(0, usize::MAX, i64::MAX).expect("read");
        let (header, _) = crate::record::batch::batches(&bytes).next().expect("a batch").expect("valid");
        assert_eq!(header.compression(), Compression::from_attributes(compression as i16), "{compression:?}");
    }
}

#[test]
fn an_idempotent_producers_last_batch_stays_even_when_emptied() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig { segment_bytes: 200, ..compact_config() });
    let batch = keyed_batch(&[("k", Some("1")), ("k", Some("2"))], 1_000, KafkaCompression::None, 7);
    log.append(&batch, 0, 1_000).expect("append");
    for i in 0..6 {
        produce(&mut log, &[("k", Some(&format!("later{i}"))), ("z", Some("z"))], 1_001 + i);
    }
    clean(&mut log, 10_000).expect("clean");
    let bytes = log.read(0, usize::MAX, i64::MAX).expect("read");
    let (first, _) = crate::record::batch::batches(&bytes).next().expect("a batch").expect("valid");
    assert_eq!((first.base_offset, first.last_offset(), first.record_count), (0, 1, 0));
    assert_eq!((first.producer_id, first.producer_epoch, first.base_sequence), (7, 0, 0));
}

#[test]
fn nothing_past_the_high_watermark_or_inside_min_compaction_lag_is_cleaned() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, compact_config());
    fill(&mut log);
    let bases = log.segment_base_offsets();
    // The high watermark inside the second segment: only the first is cleanable.
    let to_clean = log.log_to_clean(bases[1] + 1, 10_000).expect("plan").expect("compacted");
    assert_eq!(to_clean.first_uncleanable_offset, bases[1]);
    // Records at 1_000..1_019: with a lag of 10 s at 10_500, all are too young.
    log.set_config(LogConfig { min_compaction_lag_ms: 10_000, ..compact_config() });
    let to_clean = log.log_to_clean(log.log_end_offset(), 10_500).expect("plan").expect("compacted");
    assert_eq!(to_clean.first_uncleanable_offset, 0);
    assert!(!to_clean.is_due());
    assert!(to_clean.next_check_ms.is_some_and(|at| at > 10_500), "the cleaner wakes when the lag has passed");
    // The ratio alone: more than 1.0 is never reached, until max.compaction.lag.ms forces a clean.
    log.set_config(LogConfig { min_cleanable_dirty_ratio: 1.0, ..compact_config() });
    assert!(!log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").expect("compacted").is_due());
    log.set_config(LogConfig { min_cleanable_dirty_ratio: 1.0, max_compaction_lag_ms: 5_000, ..compact_config() });
    let to_clean = log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").expect("compacted");
    assert!(to_clean.need_compaction_now && to_clean.is_due());
    // A topic that does not compact is never cleaned.
    log.set_config(LogConfig { cleanup_policy_compact: false, ..compact_config() });
    assert!(log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").is_none());
}

#[test]
fn a_group_whose_segments_changed_before_the_swap_is_discarded() {
    let dir = TempDir::new().expect("tempdir");
    let config = LogConfig { cleanup_policy_delete: true, retention_ms: 0, ..compact_config() };
    let (mut log, _) = open(&dir, config);
    fill(&mut log);
    let before = read_all(&log);
    let to_clean = log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").expect("compacted");
    let cleaned = to_clean.clean(10_000, DEDUPE_BUFFER_BYTES_DEFAULT).expect("clean");
    // Retention deletes every sealed segment meanwhile.
    assert!(log.enforce_retention(10_000).expect("retention") > 0);
    let retained = read_all(&log);
    assert_eq!(log.replace_cleaned(cleaned, 10_000).expect("swap"), 0);
    assert_eq!(read_all(&log), retained);
    assert!(retained.len() < before.len());
    assert!(read_checkpoint(dir.path()).is_none(), "no checkpoint past what was not swapped");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(CLEANED_SUFFIX))
        .collect();
    assert!(leftovers.is_empty());
}

/// Where a crash stops the swap of the first cleaned group.
#[derive(Debug, Clone, Copy)]
enum CrashPoint {
    /// The `.cleaned` file is written; nothing renamed.
    Cleaned,
    /// Renamed to `.swap`; every old segment still there.
    Swap,
    /// `.swap`, and the first old segment's log deleted (its indexes still there).
    SwapFirstOldLogDeleted,
    /// `.swap`, and every old segment deleted.
    SwapOldDeleted,
    /// Renamed into place; its indexes not written yet.
    Renamed,
}

#[test]
fn a_crash_at_any_step_of_the_swap_loses_nothing() {
    for crash in [
        CrashPoint::Cleaned,
        CrashPoint::Swap,
        CrashPoint::SwapFirstOldLogDeleted,
        CrashPoint::SwapOldDeleted,
        CrashPoint::Renamed,
    ] {
        let dir = TempDir::new().expect("tempdir");
        let (mut log, _) = open(&dir, compact_config());
        fill(&mut log);
        log.flush().expect("flush");
        let before = read_all(&log);
        let log_end_offset = log.log_end_offset();
        let to_clean = log.log_to_clean(log_end_offset, 10_000).expect("plan").expect("compacted");
        let cleaned = to_clean.clean(10_000, DEDUPE_BUFFER_BYTES_DEFAULT).expect("clean");
        let group = &cleaned.groups[0];
        // What a clean that completes leaves for these offsets.
        let active_base = *log.segment_base_offsets().last().expect("active");
        let (sealed, active): (Read, Read) = before.iter().cloned().partition(|(offset, _, _)| *offset < active_base);
        let mut compacted = latest_per_key(&sealed);
        compacted.extend(active);
        drop(log); // kill -9: nothing more happens in this process

        let path = |base: i64, suffix: &str| dir.path().join(segment::file_name(base, suffix));
        let log_path = path(group.old[0].base_offset, LOG_SUFFIX);
        let swap_path = with_suffix(&log_path, SWAP_SUFFIX);
        let delete_old = |only_first_log: bool| {
            for old in &group.old {
                fs::remove_file(path(old.base_offset, LOG_SUFFIX)).expect("delete old log");
                if only_first_log {
                    return;
                }
                for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
                    let _ = fs::remove_file(path(old.base_offset, suffix));
                }
            }
        };
        match crash {
            CrashPoint::Cleaned => {}
            CrashPoint::Swap => fs::rename(&group.cleaned, &swap_path).expect("rename"),
            CrashPoint::SwapFirstOldLogDeleted => {
                fs::rename(&group.cleaned, &swap_path).expect("rename");
                delete_old(true);
            }
            CrashPoint::SwapOldDeleted => {
                fs::rename(&group.cleaned, &swap_path).expect("rename");
                delete_old(false);
            }
            CrashPoint::Renamed => {
                fs::rename(&group.cleaned, &swap_path).expect("rename");
                delete_old(false);
                fs::rename(&swap_path, &log_path).expect("rename");
            }
        }

        let (log, report) = open(&dir, compact_config());
        let read = read_all(&log);
        assert_eq!(log.log_end_offset(), log_end_offset, "{crash:?}");
        assert_eq!(report.segments_deleted, 0, "{crash:?}: no segment lost to a gap");
        // Every key's latest value is still there, at its offset, whatever the crash point.
        for record in latest_per_key(&before) {
            assert!(read.contains(&record), "{crash:?}: lost {record:?}");
        }
        match crash {
            CrashPoint::Cleaned => assert_eq!(read, before, "the clean is undone"),
            _ => assert_eq!(report.swaps_completed, usize::from(!matches!(crash, CrashPoint::Renamed)), "{crash:?}"),
        }
        // Offsets only increase, no record twice.
        assert!(read.windows(2).all(|pair| pair[0].0 < pair[1].0), "{crash:?}: {read:?}");
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(CLEANED_SUFFIX) || n.ends_with(SWAP_SUFFIX)), "{crash:?}: {names:?}");
        // Cleaning again finishes the job: the same end state as a clean that never crashed.
        drop(log);
        let (mut log, _) = open(&dir, compact_config());
        let _ = clean(&mut log, 10_000);
        assert_eq!(read_all(&log), compacted, "{crash:?}");
    }
}

#[test]
fn varlongs_round_trip_through_the_reader() {
    for value in [0, 1, -1, 63, -64, 64, 1 << 40, i64::MIN, i64::MAX] {
        let mut bytes = Vec::new();
        write_varlong(&mut bytes, value);
        let mut position = 0;
        assert_eq!(read_varlong(&bytes, &mut position), Some(value));
        assert_eq!(position, bytes.len());
    }
}

#[test]
fn small_segments_are_grouped_up_to_segment_bytes() {
    let segment = |base_offset, size_bytes| SegmentSnapshot { base_offset, next_offset: base_offset + 10, size_bytes };
    let segments = [segment(0, 400), segment(10, 400), segment(20, 400), segment(30, 100)];
    let groups = group_segments_by_size(&segments, 1000, |i, s: &[SegmentSnapshot]| {
        s.get(i + 1).map_or(40, |next| next.base_offset)
    });
    let bases: Vec<Vec<i64>> = groups.iter().map(|g| g.iter().map(|s| s.base_offset).collect()).collect();
    assert_eq!(bases, vec![vec![0, 10], vec![20, 30]]);
}

#[test]
fn a_follower_copies_a_cleaned_log_gaps_and_empty_batches_included() {
    let (leader_dir, follower_dir) = (TempDir::new().expect("tempdir"), TempDir::new().expect("tempdir"));
    let (mut leader, _) = open(&leader_dir, compact_config());
    let batch = keyed_batch(&[("k", Some("1"))], 1_000, KafkaCompression::None, 7);
    leader.append(&batch, 0, 1_000).expect("append");
    fill(&mut leader);
    clean(&mut leader, 10_000).expect("clean");
    let (mut follower, _) = open(&follower_dir, compact_config());
    let mut offset = 0;
    while offset < leader.log_end_offset() {
        let bytes = leader.read(offset, 150, i64::MAX).expect("fetch");
        for item in crate::record::batch::batches(&bytes) {
            let (header, batch) = item.expect("batch");
            if header.last_offset() >= follower.log_end_offset() {
                follower.append_as_follower(batch, 10_000).expect("follower append");
            }
            offset = header.next_offset();
        }
    }
    assert_eq!(read_all(&follower), read_all(&leader));
    assert_eq!(follower.log_end_offset(), leader.log_end_offset());
    // A fetch from inside a gap starts at the next batch.
    let read = read_all(&leader);
    let gap = read.windows(2).find(|pair| pair[1].0 > pair[0].0 + 1).map(|pair| pair[0].0 + 1).expect("a gap");
    let bytes = leader.read(gap, usize::MAX, i64::MAX).expect("read in a gap");
    assert!(!bytes.is_empty());
}

#[test]
fn an_aborted_clean_leaves_no_file_behind() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, compact_config());
    fill(&mut log);
    let to_clean = log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").expect("compacted");
    let aborted = std::sync::atomic::AtomicBool::new(true);
    let error = to_clean.clean_unless_aborted(10_000, DEDUPE_BUFFER_BYTES_DEFAULT, &aborted).expect_err("aborted");
    assert!(matches!(error, LogError::Io { ref source, .. } if source.kind() == io::ErrorKind::Interrupted), "{error}");
    let names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(CLEANED_SUFFIX)), "{names:?}");
}

#[test]
fn a_full_offset_map_cleans_over_several_rounds_to_the_same_end_state() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, compact_config());
    fill(&mut log);
    let before = read_all(&log);
    let active_base = *log.segment_base_offsets().last().expect("active");
    // Room for 4 keys (of 5): each round maps a batch or two and cleans up to there.
    let dedupe_buffer_bytes = OFFSET_MAP_ENTRY_BYTES * 5;
    let mut rounds = 0;
    loop {
        let to_clean = log.log_to_clean(log.log_end_offset(), 10_000).expect("plan").expect("compacted");
        if !to_clean.is_due() {
            break;
        }
        let cleaned = to_clean.clean(10_000, dedupe_buffer_bytes).expect("clean");
        assert!(cleaned.first_dirty_offset > to_clean.first_dirty_offset, "every round makes progress");
        log.replace_cleaned(cleaned, 10_000).expect("swap");
        rounds += 1;
        assert!(rounds < 100);
    }
    assert!(rounds > 1, "the map filled: {rounds} round(s)");
    let (sealed, active): (Read, Read) = before.into_iter().partition(|(offset, _, _)| *offset < active_base);
    let mut expected = latest_per_key(&sealed);
    expected.extend(active);
    assert_eq!(read_all(&log), expected);
}

#[test]
fn retention_deletes_nothing_unless_cleanup_policy_includes_delete() {
    let dir = TempDir::new().expect("tempdir");
    let (mut log, _) = open(&dir, LogConfig { retention_ms: 0, retention_bytes: 0, ..compact_config() });
    fill(&mut log);
    let segments = log.segment_base_offsets().len();
    assert_eq!(log.enforce_retention(1_000_000).expect("retention"), 0, "compact only");
    log.set_config(LogConfig { retention_ms: 0, cleanup_policy_delete: true, ..compact_config() });
    assert_eq!(log.enforce_retention(1_000_000).expect("retention"), segments - 1, "compact,delete");
}
