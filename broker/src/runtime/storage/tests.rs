use super::*;
use bytes::BytesMut;
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};
use tempfile::TempDir;

fn tp() -> TopicPartition {
    TopicPartition { topic: "orders".into(), partition: 0 }
}

/// A producer's batch of `count` records; idempotent when `producer` is `(id, epoch, sequence)`.
fn produced(count: i64, producer: Option<(i64, i16, i32)>) -> Bytes {
    let (producer_id, producer_epoch, base_sequence) = producer.unwrap_or((-1, -1, -1));
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i,
            sequence: base_sequence + i32::try_from(i).unwrap_or(0),
            timestamp: 1_000 + i,
            key: None,
            value: Some(Bytes::from(format!("value-{i}"))),
            headers: Default::default(),
            delete_horizon: false,
        })
        .collect();
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions { version: 2, compression: Compression::None };
    RecordBatchEncoder::encode(&mut out, &records, &options).expect("encode");
    out.freeze()
}

fn storage(dir: &TempDir, name: &str) -> DiskStorage {
    DiskStorage::new(1, dir.path().join(name), SharedDirty::default(), crate::log::FileCache::new(4))
}

#[test]
fn a_leader_append_is_placed_at_the_log_end_in_its_epoch_and_the_epochs_survive_a_reopen() {
    let dir = TempDir::new().expect("tempdir");
    let mut storage = storage(&dir, "broker-1");
    let mut log = storage.create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("create");
    log.begin_leader_epoch(0);
    let first = log.append_as_leader(1, 0, &produced(3, None)).expect("append");
    assert_eq!(first, Appended { base_offset: 0, last_offset: 2, duplicate: false, log_append_time_ms: -1 });
    log.begin_leader_epoch(4);
    let second = log.append_as_leader(2, 4, &produced(2, None)).expect("append");
    assert_eq!((second.base_offset, log.log_end_offset()), (3, 5));
    assert_eq!(log.epochs().entries(), &[(0, 0), (4, 3)]);
    assert!(storage.dirty.lock().expect("dirty").partitions.contains(&(1, tp())), "group commit must fsync it");
    drop(log);

    let reopened = storage.open_existing(3).expect("reopen");
    assert_eq!(reopened.len(), 1);
    let (found, log) = &reopened[0];
    assert_eq!(found, &tp());
    assert_eq!((log.log_end_offset(), log.epochs().entries()), (5, &[(0, 0), (4, 3)][..]));
}

#[test]
fn a_follower_copies_the_leaders_batches_with_their_offsets_and_epochs() {
    let dir = TempDir::new().expect("tempdir");
    let mut leader = storage(&dir, "broker-1").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("leader");
    let mut follower =
        storage(&dir, "broker-2").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("follower");
    leader.begin_leader_epoch(2);
    leader.append_as_leader(1, 2, &produced(2, None)).expect("append");
    leader.append_as_leader(1, 2, &produced(1, None)).expect("append");

    let fetched = leader.read(0, 1 << 20).expect("read");
    follower.append_as_follower(&fetched).expect("copy");
    assert_eq!(follower.log_end_offset(), 3);
    assert_eq!(follower.epochs().entries(), &[(2, 0)]);
    assert_eq!(follower.read(0, 1 << 20).expect("read"), fetched, "byte for byte the leader's batches");

    // A duplicated answer adds nothing; a batch past the log end is a gap the leader's cleaner
    // left, and is taken; one that overlaps the log end is refused.
    follower.append_as_follower(&fetched).expect("duplicate");
    assert_eq!(follower.log_end_offset(), 3);
    let mut gap = BytesMut::from(&produced(1, None)[..]);
    crate::record::batch::set_base_offset(&mut gap, 7).expect("offset");
    follower.append_as_follower(&gap.freeze()).expect("after a gap");
    assert_eq!(follower.log_end_offset(), 8);
    let mut overlap = BytesMut::from(&produced(2, None)[..]);
    crate::record::batch::set_base_offset(&mut overlap, 7).expect("offset");
    assert_eq!(follower.append_as_follower(&overlap.freeze()), Err(ErrorCode::CorruptMessage));
}

#[test]
fn truncation_drops_whole_batches_their_epochs_and_the_high_watermark_above() {
    let dir = TempDir::new().expect("tempdir");
    let mut log = storage(&dir, "broker-1").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("create");
    log.begin_leader_epoch(1);
    log.append_as_leader(1, 1, &produced(2, None)).expect("append");
    log.begin_leader_epoch(3);
    log.append_as_leader(1, 3, &produced(2, None)).expect("append");
    log.set_high_watermark(4);
    assert_eq!(log.truncate_to(3), Ok(2), "offset 3 is inside the second batch: the whole batch goes");
    assert_eq!((log.log_end_offset(), log.high_watermark()), (2, 2));
    assert_eq!(log.epochs().entries(), &[(1, 0)]);
    let text = std::fs::read_to_string(log.log.dir().join(LEADER_EPOCH_CHECKPOINT_FILE)).expect("checkpoint");
    assert_eq!(text, "0\n1\n1 0\n", "Kafka's leader-epoch-checkpoint format");
}

#[test]
fn a_follower_that_becomes_leader_recognises_a_retried_idempotent_batch() {
    let dir = TempDir::new().expect("tempdir");
    let mut leader = storage(&dir, "broker-1").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("leader");
    let mut follower =
        storage(&dir, "broker-2").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("follower");
    let batch = produced(2, Some((42, 0, 0)));
    assert_eq!(leader.append_as_leader(1, 0, &batch).map(|a| a.duplicate), Ok(false));
    assert_eq!(
        leader.append_as_leader(1, 0, &batch),
        Ok(Appended { base_offset: 0, last_offset: 1, duplicate: true, log_append_time_ms: -1 }),
        "a retry on the same leader"
    );
    follower.append_as_follower(&leader.read(0, 1 << 20).expect("read")).expect("copy");
    follower.begin_leader_epoch(1);
    assert_eq!(
        follower.append_as_leader(2, 1, &batch),
        Ok(Appended { base_offset: 0, last_offset: 1, duplicate: true, log_append_time_ms: -1 }),
        "the new leader knows the producer's last batch"
    );
    assert_eq!(
        follower.append_as_leader(2, 1, &produced(1, Some((42, 0, 5)))),
        Err(ErrorCode::OutOfOrderSequenceNumber)
    );
}

#[test]
fn a_leader_refuses_what_is_not_exactly_one_plain_batch() {
    let dir = TempDir::new().expect("tempdir");
    let mut log = storage(&dir, "broker-1").create_log(&tp(), [7; 16], &TopicConfigs::default()).expect("create");
    let one = produced(1, None);
    let two: Bytes = [one.clone(), one.clone()].concat().into();
    assert_eq!(log.append_as_leader(1, 0, &two), Err(ErrorCode::InvalidRecord));
    assert_eq!(log.append_as_leader(1, 0, &one.slice(..20)), Err(ErrorCode::CorruptMessage));
    assert_eq!(log.log_end_offset(), 0, "nothing was written");
}

#[test]
fn partition_directories_are_found_by_their_last_dash() {
    assert_eq!(parse_partition_dir("my-topic-12"), Some(TopicPartition { topic: "my-topic".into(), partition: 12 }));
    assert_eq!(parse_partition_dir("__cluster_metadata"), None);
    assert_eq!(parse_partition_dir("orders-x"), None);
    assert_eq!(parse_partition_dir("-3"), None);
}

#[test]
fn a_reopened_log_starts_at_its_checkpointed_high_watermark_bounded_by_what_it_holds() {
    let dir = TempDir::new().expect("tempdir");
    let mut storage = storage(&dir, "broker-1");
    let other = TopicPartition { topic: "payments-eu".into(), partition: 3 };
    for tp in [tp(), other.clone()] {
        let mut log = storage.create_log(&tp, [7; 16], &TopicConfigs::default()).expect("create");
        log.begin_leader_epoch(0);
        log.append_as_leader(1, 0, &produced(5, None)).expect("append");
    }
    // orders-0 committed 4 of its 5 records; payments-eu-3's checkpoint is ahead of its log
    // (its tail was lost in the crash), so it starts at its log end.
    write_high_watermarks(&storage.dir, &[(tp(), 4), (other.clone(), 9)]).expect("checkpoint");
    assert_eq!(
        std::fs::read_to_string(storage.dir.join(HIGH_WATERMARK_CHECKPOINT_FILE)).expect("read"),
        "0\n2\norders 0 4\npayments-eu 3 9\n",
        "Kafka's format"
    );

    let reopened: HashMap<_, _> = storage.open_existing(3).expect("reopen").into_iter().collect();
    assert_eq!(reopened[&tp()].high_watermark(), 4);
    assert_eq!(reopened[&other].high_watermark(), 5);
    drop(reopened);

    // A partition without an entry, or a damaged file, starts at the log start offset.
    write_high_watermarks(&storage.dir, &[(other.clone(), 2)]).expect("checkpoint");
    let reopened: HashMap<_, _> = storage.open_existing(4).expect("reopen").into_iter().collect();
    assert_eq!((reopened[&tp()].high_watermark(), reopened[&other].high_watermark()), (0, 2));
    drop(reopened);
    for damaged in [
        "",
        "1\n1\norders 0 4\n",
        "0\n2\norders 0 4\n",
        "0\n1\norders 0\n",
        "0\n1\norders x 4\n",
        "0\n1\norders 0 -4\n",
    ] {
        std::fs::write(storage.dir.join(HIGH_WATERMARK_CHECKPOINT_FILE), damaged).expect("write");
        let reopened: HashMap<_, _> = storage.open_existing(5).expect("reopen").into_iter().collect();
        assert_eq!(reopened[&tp()].high_watermark(), 0, "{damaged:?}");
    }
}

#[test]
fn a_log_remembers_its_topic_id_in_kafkas_partition_metadata_and_an_older_log_is_adopted() {
    let dir = TempDir::new().expect("tempdir");
    let mut storage = storage(&dir, "broker-1");
    let topic_id = *uuid::Uuid::parse_str("5c4a8b3e-1f7d-4c2a-9e6b-0d1f2a3b4c5d").expect("uuid").as_bytes();
    let log = storage.create_log(&tp(), topic_id, &TopicConfigs::default()).expect("create");
    assert_eq!(log.topic_id(), Some(topic_id));
    let file = storage.dir.join("orders-0").join(PARTITION_METADATA_FILE);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "version: 0\ntopic_id: XEqLPh99TCqeaw0fKjtMXQ\n");
    drop(log);
    let reopened = storage.open_existing(1).expect("reopen");
    assert_eq!(reopened[0].1.topic_id(), Some(topic_id));
    drop(reopened);

    // A log without the file (written before it existed), or with a damaged one, has no topic
    // id until the topic of its name adopts it.
    for content in
        [None, Some("version: 0\ntopic_id: not-a-uuid\n"), Some("version: 1\ntopic_id: XEqLPh99TCqeaw0fKjtMXQ\n")]
    {
        match content {
            Some(text) => std::fs::write(&file, text).expect("write"),
            None => std::fs::remove_file(&file).expect("remove"),
        }
        let mut reopened = storage.open_existing(2).expect("reopen");
        assert_eq!(reopened[0].1.topic_id(), None, "{content:?}");
        reopened[0].1.set_topic_id([9; 16]).expect("adopt");
        assert_eq!(reopened[0].1.topic_id(), Some([9; 16]));
    }
    assert_eq!(storage.open_existing(3).expect("reopen")[0].1.topic_id(), Some([9; 16]));
}
