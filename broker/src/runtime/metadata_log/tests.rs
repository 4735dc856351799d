//! A controller's metadata log on real files: the quorum's epochs, votes and entries survive
//! restarts and torn tails, a cut tail is cut on disk too, and what cannot be read is refused
//! with the file and offset named.

use std::io::Write;

use tempfile::TempDir;

use super::*;
use crate::core::config::TopicConfigs;
use crate::core::metadata::MetadataImage;
use crate::core::quorum::QuorumConfig;

const NODE: NodeId = 3000;

fn topic_records(name: &str, partitions: i32) -> Vec<MetadataRecord> {
    let mut configs = TopicConfigs::default();
    configs.set("retention.ms", "60000").expect("valid config");
    let mut records = vec![MetadataRecord::Topic {
        name: name.into(),
        topic_id: crate::core::metadata::derived_topic_id(name, 0),
        configs,
    }];
    records.extend((0..partitions).map(|partition| MetadataRecord::Partition {
        topic: name.into(),
        partition,
        replicas: vec![1],
        isr: vec![1],
        leader: 1,
    }));
    records
}

/// Opens the store and starts the sole voter on what it holds (it elects itself at once).
fn start(dir: &TempDir, durable: Option<DurableState<MetadataRecord>>) -> (QuorumStore, QuorumNode<MetadataRecord>) {
    let (mut store, stored) = QuorumStore::open(dir.path(), vec![NODE], 0).expect("opens");
    let config = QuorumConfig { voters: vec![NODE], ..QuorumConfig::default() };
    let quorum = QuorumNode::new(NODE, config, durable.unwrap_or(stored), 1_000, 7);
    store.sync(&quorum).expect("syncs");
    (store, quorum)
}

fn image_of(quorum: &QuorumNode<MetadataRecord>) -> MetadataImage {
    let mut image = MetadataImage::new();
    for entry in quorum.log() {
        if let EntryPayload::Record(record) = &entry.payload {
            image.apply(entry.offset, record);
        }
    }
    image
}

#[test]
fn each_start_is_a_new_epoch_and_the_entries_come_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut store, mut quorum) = start(&dir, None);
    let fresh = describe(&quorum, 1_700_000_000_500);
    assert_eq!(
        (fresh.leader_id, fresh.leader_epoch, fresh.high_watermark),
        (NODE, 1, 1),
        "a LeaderChange opens epoch 1"
    );
    assert_eq!(fresh.voters[0].last_fetch_ms, Some(1_700_000_000_500), "the leader reports itself fetched now");
    assert!(fresh.observers.is_empty());

    quorum.append(1_000, topic_records("orders", 3)).expect("leader");
    quorum.append(1_000, topic_records("gone", 1)).expect("leader");
    quorum.append(1_000, vec![MetadataRecord::RemoveTopic { name: "gone".into() }]).expect("leader");
    store.sync(&quorum).expect("syncs");
    let image = image_of(&quorum);
    assert_eq!(image.topics.keys().collect::<Vec<_>>(), ["orders"]);
    drop((store, quorum));

    let (_, reopened) = start(&dir, None);
    assert_eq!(image_of(&reopened).topics, image.topics, "the same image from the log on disk");
    let status = describe(&reopened, 0);
    assert_eq!((status.leader_epoch, status.high_watermark), (2, 9), "epoch 2 starts with its own LeaderChange");
    let state = std::fs::read_to_string(dir.path().join(METADATA_LOG_DIR).join(QUORUM_STATE_FILE)).expect("state");
    assert_eq!(state, r#"{"leaderEpoch":2,"votedId":3000,"currentVoters":[{"voterId":3000}],"data_version":0}"#);
}

#[test]
fn a_tail_the_quorum_cut_is_cut_on_disk_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut store, mut quorum) = start(&dir, None);
    quorum.append(1_000, topic_records("orders", 3)).expect("leader");
    store.sync(&quorum).expect("syncs");
    let mut durable = quorum.durable_state();
    drop((store, quorum));
    // A voter that kept only the first two entries (as after KIP-595's divergence truncation):
    // the file must agree with it, though offset 2 sits inside a batch of four entries.
    durable.log.truncate(2);
    let (_, quorum) = start(&dir, Some(durable));
    assert_eq!(quorum.log_end_offset(), 3, "two kept entries and epoch 2's LeaderChange");
    drop(quorum);
    let (_, stored) = QuorumStore::open(dir.path(), vec![NODE], 0).expect("opens");
    let epochs: Vec<(i64, i32)> = stored.log.iter().map(|entry| (entry.offset, entry.epoch)).collect();
    assert_eq!(epochs, [(0, 1), (1, 1), (2, 2)]);
}

#[test]
fn a_torn_tail_loses_only_the_torn_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut store, mut quorum) = start(&dir, None);
    quorum.append(1_000, topic_records("orders", 1)).expect("leader");
    store.sync(&quorum).expect("syncs");
    drop((store, quorum));
    // A crash in the middle of the next append: half a batch header at the end of the segment.
    let segment = dir.path().join(METADATA_LOG_DIR).join("00000000000000000000.log");
    let mut file = std::fs::OpenOptions::new().append(true).open(&segment).expect("segment");
    file.write_all(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]).expect("writes");
    drop(file);
    let (_, reopened) = start(&dir, None);
    assert_eq!(image_of(&reopened).topics.keys().collect::<Vec<_>>(), ["orders"]);
    assert_eq!(describe(&reopened, 0).high_watermark, 4, "entries 0-2, then the new epoch's LeaderChange");
}

#[test]
fn a_record_that_is_not_metadata_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(start(&dir, None));
    // A well-formed batch (the CRC matches) whose value is not a metadata record.
    let (mut partition_log, _) =
        PartitionLog::open(&dir.path().join(METADATA_LOG_DIR), LogConfig::default(), 0, &FileCache::new(3))
            .expect("opens");
    let mut batch = encode_batch(
        &[Entry { offset: 1, epoch: 1, payload: EntryPayload::LeaderChange { leader_id: NODE, voters: vec![NODE] } }],
        dir.path(),
    )
    .expect("encodes");
    let value_start = batch.len() - 1 - br#"{"LEADER_CHANGE":{"leader_id":3000,"voters":[3000]}}"#.len();
    batch[value_start..value_start + 3].copy_from_slice(b"xyz");
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    partition_log.append(&batch, 1, 0).expect("appends");
    partition_log.flush().expect("flushes");
    drop(partition_log);

    let error = QuorumStore::open(dir.path(), vec![NODE], 0).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("__cluster_metadata-0"), "{message}");
    assert!(message.contains("the record at offset 1 is not a metadata record"), "{message}");
}

#[test]
fn meta_properties_round_trip_and_say_what_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(MetaProperties::read(dir.path()).expect("reads"), None);
    let properties = MetaProperties { cluster_id: "MkU3OEVBNTcwNTJENDM2Qk".into(), node_id: 1, directory_id: [7; 16] };
    properties.write(dir.path()).expect("writes");
    let text = std::fs::read_to_string(dir.path().join(META_PROPERTIES_FILE)).expect("file");
    assert!(
        text.contains("\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\nnode.id=1\ndirectory.id=BwcHBwcHBwcHBwcHBwcHBw\n"),
        "{text}"
    );
    assert_eq!(MetaProperties::read(dir.path()).expect("reads"), Some(properties));

    std::fs::write(dir.path().join(META_PROPERTIES_FILE), "version=1\nnode.id=1\n").expect("writes");
    let error = MetaProperties::read(dir.path()).expect_err("refused").to_string();
    assert!(error.contains("meta.properties") && error.contains("directory.id is missing"), "{error}");
    std::fs::write(dir.path().join(META_PROPERTIES_FILE), "cluster.id=x\nnode.id=1\ndirectory.id=short\n")
        .expect("writes");
    let error = MetaProperties::read(dir.path()).expect_err("refused").to_string();
    assert!(error.contains("directory.id is not a base64 UUID"), "{error}");
}

#[test]
fn base64_uuids_are_kafkas() {
    // Kafka's `Uuid.toString` of the all-zero id, and a round trip.
    assert_eq!(base64_uuid(&[0; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
    let id = *uuid::Uuid::new_v4().as_bytes();
    assert_eq!(base64_uuid_decode(&base64_uuid(&id)), Some(id));
    assert_eq!(base64_uuid_decode("AAAA"), None);
}

#[test]
fn broker_config_records_round_trip_and_older_topic_config_records_still_read() {
    let records = [
        MetadataRecord::BrokerConfig { broker_id: None, name: "log.retention.ms".into(), value: Some("60000".into()) },
        MetadataRecord::BrokerConfig { broker_id: Some(2), name: "min.insync.replicas".into(), value: None },
    ];
    for record in &records {
        let json = serde_json::to_string(record).expect("serializes");
        assert_eq!(&serde_json::from_str::<MetadataRecord>(&json).expect("reads back"), record, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&records[0]).expect("serializes"),
        r#"{"type":"BROKER_CONFIG_RECORD","broker_id":null,"name":"log.retention.ms","value":"60000"}"#
    );
    // A topic config record as earlier versions wrote it.
    let older = r#"{"type":"CONFIG_RECORD","topic":"orders","name":"retention.ms","value":"1000"}"#;
    assert_eq!(
        serde_json::from_str::<MetadataRecord>(older).expect("reads"),
        MetadataRecord::Config { topic: "orders".into(), name: "retention.ms".into(), value: Some("1000".into()) }
    );
}
