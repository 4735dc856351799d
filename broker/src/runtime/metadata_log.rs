//! A controller's copy of the KRaft metadata log on disk: `controller-<id>/__cluster_metadata-0/`.
//!
//! The controllers run the core's [`QuorumNode`](crate::core::quorum::QuorumNode) (KIP-595): it
//! decides, this file makes its decisions durable. After every input the driver calls
//! [`QuorumStore::sync`], which writes what changed before any message leaves the node (Raft:
//! a vote or an entry is durable before anyone hears of it):
//!
//! - `quorum-state`: the epoch and the vote (Kafka's file of that name), replaced atomically.
//! - the log: a [`PartitionLog`] (the same segments, indexes and crash recovery as a topic's
//!   partition). Each append is one record batch whose partition leader epoch is the entries'
//!   epoch, one record per entry, the entry as JSON in the record's value. When the quorum cut a
//!   diverging tail (a follower of a new leader, KIP-595), the file is cut the same way.
//! - `meta.properties` (in the node's directory): `cluster.id`, `node.id` and `directory.id`
//!   (KIP-858), as `kafka-storage format` writes it.
//!
//! At start-up the log is read back, entry by entry, into the quorum's durable state; an entry
//! that cannot be read stops the start with the file and the offset named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use serde::{Deserialize, Serialize};

use crate::core::metadata::MetadataRecord;
use crate::core::quorum::{DurableState, Entry, EntryPayload, NodeId, QuorumNode, ReplicaState};
use crate::log::{FileCache, LogConfig, PartitionLog};

use super::cluster::ClusterError;

/// The metadata topic's name (Kafka's `Topic.CLUSTER_METADATA_TOPIC_NAME`); no topic may take it.
pub(crate) const METADATA_TOPIC: &str = "__cluster_metadata";
/// The log's directory inside the data directory.
pub(crate) const METADATA_LOG_DIR: &str = "__cluster_metadata-0";
const QUORUM_STATE_FILE: &str = "quorum-state";
pub(crate) const META_PROPERTIES_FILE: &str = "meta.properties";
/// Entries per record batch: a topic with a thousand partitions is a thousand and one records,
/// and a batch must stay under `max.message.bytes`.
const ENTRIES_PER_BATCH: usize = 256;
/// How much of the log one read at start-up takes.
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Handles the metadata log keeps: its active segment's log and two indexes, plus one for a
/// reader of an older segment.
const METADATA_LOG_OPEN_FILES: usize = 4;

/// `quorum-state`, with Kafka's field names (its `QuorumStateData`).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct QuorumStateFile {
    leader_epoch: i32,
    /// -1: no vote in this epoch.
    voted_id: i32,
    current_voters: Vec<Voter>,
    #[serde(rename = "data_version")]
    data_version: i16,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Voter {
    voter_id: NodeId,
}

/// An entry's payload as stored in a record's value.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum StoredPayload {
    /// Kafka's `LeaderChangeMessage` control record.
    LeaderChange {
        leader_id: NodeId,
        voters: Vec<NodeId>,
    },
    Record(MetadataRecord),
}

/// What `meta.properties` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetaProperties {
    pub(crate) cluster_id: String,
    pub(crate) node_id: i32,
    /// KIP-858's `directory.id`: the log directory's own id, base64 like Kafka's `Uuid.toString`.
    pub(crate) directory_id: [u8; 16],
}

/// The quorum as DescribeQuorum reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuorumDescription {
    pub(crate) leader_id: NodeId,
    pub(crate) leader_epoch: i32,
    pub(crate) high_watermark: i64,
    pub(crate) voters: Vec<ReplicaState>,
    pub(crate) observers: Vec<ReplicaState>,
}

/// The durable half of a controller's quorum state. See the module documentation.
#[derive(Debug)]
pub(crate) struct QuorumStore {
    log: PartitionLog,
    dir: PathBuf,
    voters: Vec<NodeId>,
    /// The epoch and vote in `quorum-state`.
    state_on_disk: (i32, Option<NodeId>),
    /// The epoch of every entry in the file, in order: where the quorum's log and the file part.
    epochs_on_disk: Vec<i32>,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

fn corrupt(path: &Path, message: impl Into<String>) -> ClusterError {
    ClusterError::Metadata { path: path.to_owned(), message: message.into() }
}

impl QuorumStore {
    /// Opens (or starts) the metadata log in `node_dir` and reads back what the quorum had made
    /// durable.
    pub(crate) fn open(
        node_dir: &Path,
        voters: Vec<NodeId>,
        now_ms: i64,
    ) -> Result<(QuorumStore, DurableState<MetadataRecord>), ClusterError> {
        let dir = node_dir.join(METADATA_LOG_DIR);
        let config = LogConfig { retention_ms: -1, retention_bytes: -1, ..LogConfig::default() };
        // A cache of its own, outside the partitions' budget: the active segment's three files
        // stay open, as a controller appends to them all the time.
        let files = FileCache::new(METADATA_LOG_OPEN_FILES);
        let (log, report) = PartitionLog::open(&dir, config, now_ms, &files)?;
        if report.truncated_bytes > 0 || report.segments_deleted > 0 {
            tracing::warn!(?report, dir = %dir.display(), "recovered the metadata log: truncated a torn or corrupt tail");
        }
        let entries = read_entries(&log, &dir)?;
        let state_path = dir.join(QUORUM_STATE_FILE);
        let (epoch, voted_for) = match std::fs::read(&state_path) {
            Ok(bytes) => {
                let state: QuorumStateFile = serde_json::from_slice(&bytes)
                    .map_err(|e| corrupt(&state_path, format!("not a quorum state: {e}")))?;
                (state.leader_epoch, (state.voted_id >= 0).then_some(state.voted_id))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, None),
            Err(source) => return Err(io(format!("cannot read {}", state_path.display()))(source)),
        };
        let epochs_on_disk = entries.iter().map(|entry| entry.epoch).collect();
        let store = QuorumStore { log, dir, voters, state_on_disk: (epoch, voted_for), epochs_on_disk };
        Ok((store, DurableState { epoch, voted_for, log: entries }))
    }

    /// Makes the quorum's epoch, vote and log durable: writes `quorum-state` if it changed, cuts
    /// the file where the quorum cut its log, appends the new entries, and fsyncs.
    pub(crate) fn sync(&mut self, quorum: &QuorumNode<MetadataRecord>) -> Result<(), ClusterError> {
        let state = (quorum.epoch(), quorum.voted_for());
        if state != self.state_on_disk {
            let file = QuorumStateFile {
                leader_epoch: state.0,
                voted_id: state.1.unwrap_or(-1),
                current_voters: self.voters.iter().map(|&voter_id| Voter { voter_id }).collect(),
                data_version: 0,
            };
            let bytes = serde_json::to_vec(&file).map_err(|e| corrupt(&self.dir, e.to_string()))?;
            write_atomically(&self.dir, QUORUM_STATE_FILE, &bytes)?;
            self.state_on_disk = state;
        }
        let entries = quorum.log();
        // Raft's log matching: an entry of the same epoch at the same offset is the same entry.
        let mut common = self.epochs_on_disk.len().min(entries.len());
        while common > 0 && self.epochs_on_disk[common - 1] != entries[common - 1].epoch {
            common -= 1;
        }
        if common < self.epochs_on_disk.len() {
            self.log.truncate_to(i64::try_from(common).unwrap_or(i64::MAX))?;
            // The file keeps whole batches: it may now end before `common`.
            let kept = usize::try_from(self.log.log_end_offset()).unwrap_or(0).min(common);
            self.epochs_on_disk.truncate(kept);
        }
        let from = self.epochs_on_disk.len();
        let new_entries = entries.get(from..).unwrap_or_default();
        if new_entries.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        while start < new_entries.len() {
            // One batch holds entries of one epoch: the batch header carries it.
            let epoch = new_entries[start].epoch;
            let end = new_entries[start..]
                .iter()
                .take(ENTRIES_PER_BATCH)
                .position(|entry| entry.epoch != epoch)
                .map_or((start + ENTRIES_PER_BATCH).min(new_entries.len()), |n| start + n);
            let batch = encode_batch(&new_entries[start..end], &self.dir)?;
            self.log.append(&batch, epoch, super::cluster::now_ms())?;
            self.epochs_on_disk.extend(new_entries[start..end].iter().map(|entry| entry.epoch));
            start = end;
        }
        self.log.flush()?;
        Ok(())
    }
}

/// DescribeQuorum's answer from a voter's quorum state. The leader's own fetch and caught-up
/// times are `now_ms`, as in Kafka's `LeaderState.describeQuorum`.
pub(crate) fn describe(quorum: &QuorumNode<MetadataRecord>, now_ms: u64) -> QuorumDescription {
    let mut voters = Vec::new();
    let mut observers = Vec::new();
    for mut replica in quorum.replica_states() {
        if replica.replica_id == quorum.id() {
            replica.last_fetch_ms = Some(now_ms);
        }
        if replica.is_voter { voters.push(replica) } else { observers.push(replica) }
    }
    QuorumDescription {
        leader_id: quorum.leader_id().unwrap_or(-1),
        leader_epoch: quorum.epoch(),
        high_watermark: quorum.high_watermark(),
        voters,
        observers,
    }
}

fn encode_batch(entries: &[Entry<MetadataRecord>], dir: &Path) -> Result<Vec<u8>, ClusterError> {
    let now_ms = super::cluster::now_ms();
    let mut records = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let stored = match &entry.payload {
            EntryPayload::LeaderChange { leader_id, voters } => {
                StoredPayload::LeaderChange { leader_id: *leader_id, voters: voters.clone() }
            }
            EntryPayload::Record(record) => StoredPayload::Record(record.clone()),
        };
        let value = serde_json::to_vec(&stored).map_err(|e| corrupt(dir, e.to_string()))?;
        let delta = i64::try_from(index).unwrap_or(0);
        records.push(Record {
            transactional: false,
            control: false,
            partition_leader_epoch: entry.epoch,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: delta,
            // The encoder keeps records in one batch only while offset - sequence is constant.
            sequence: i32::try_from(delta).unwrap_or(0) - 1,
            timestamp: now_ms,
            key: None,
            value: Some(Bytes::from(value)),
            headers: Default::default(),
            delete_horizon: false,
        });
    }
    let mut out = bytes::BytesMut::new();
    RecordBatchEncoder::encode(&mut out, &records, &RecordEncodeOptions { version: 2, compression: Compression::None })
        .map_err(|e| corrupt(dir, format!("cannot encode a metadata batch: {e}")))?;
    Ok(out.to_vec())
}

/// Every entry of the log, in order. An entry that does not decode is an error that names its
/// offset: the log is CRC-checked, so this is a file from elsewhere or a newer Streamlab.
fn read_entries(log: &PartitionLog, dir: &Path) -> Result<Vec<Entry<MetadataRecord>>, ClusterError> {
    let mut entries = Vec::new();
    let mut offset = log.log_start_offset();
    if offset != 0 {
        return Err(corrupt(dir, format!("the metadata log starts at offset {offset}, not 0 (no snapshots here)")));
    }
    while offset < log.log_end_offset() {
        let mut bytes = Bytes::from(log.read(offset, READ_CHUNK_BYTES, i64::MAX)?);
        if bytes.is_empty() {
            break;
        }
        let sets = RecordBatchDecoder::decode_all(&mut bytes)
            .map_err(|e| corrupt(dir, format!("a batch at offset {offset} does not decode: {e}")))?;
        for record in sets.into_iter().flat_map(|set| set.records) {
            if record.offset != offset {
                return Err(corrupt(dir, format!("expected offset {offset}, found {}", record.offset)));
            }
            let value = record.value.unwrap_or_default();
            let stored: StoredPayload = serde_json::from_slice(&value)
                .map_err(|e| corrupt(dir, format!("the record at offset {offset} is not a metadata record: {e}")))?;
            let payload = match stored {
                StoredPayload::LeaderChange { leader_id, voters } => EntryPayload::LeaderChange { leader_id, voters },
                StoredPayload::Record(record) => EntryPayload::Record(record),
            };
            entries.push(Entry { offset, epoch: record.partition_leader_epoch, payload });
            offset += 1;
        }
    }
    Ok(entries)
}

/// [`super::replace_file`], with the file named in the error.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ClusterError> {
    super::replace_file(&dir.join(name), bytes).map_err(io(format!("cannot write {}", dir.join(name).display())))
}

impl MetaProperties {
    /// Reads `meta.properties`; `Ok(None)` if the data directory has none yet.
    pub(crate) fn read(data_dir: &Path) -> Result<Option<MetaProperties>, ClusterError> {
        let path = data_dir.join(META_PROPERTIES_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io(format!("cannot read {}", path.display()))(source)),
        };
        let properties: BTreeMap<&str, &str> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim(), value.trim()))
            .collect();
        let get = |key: &str| properties.get(key).copied().ok_or_else(|| corrupt(&path, format!("{key} is missing")));
        let node_id = get("node.id")?.parse().map_err(|_| corrupt(&path, "node.id is not a number"))?;
        let directory_id = base64_uuid_decode(get("directory.id")?)
            .ok_or_else(|| corrupt(&path, "directory.id is not a base64 UUID"))?;
        Ok(Some(MetaProperties { cluster_id: get("cluster.id")?.to_owned(), node_id, directory_id }))
    }

    pub(crate) fn write(&self, data_dir: &Path) -> Result<(), ClusterError> {
        let text = format!(
            "#\n#Written by streamlab\nversion=1\ncluster.id={}\nnode.id={}\ndirectory.id={}\n",
            self.cluster_id,
            self.node_id,
            base64_uuid(&self.directory_id)
        );
        write_atomically(data_dir, META_PROPERTIES_FILE, text.as_bytes())
    }
}

/// Kafka's `Uuid.toString`: URL-safe base64 without padding (22 characters).
pub(crate) fn base64_uuid(id: &[u8; 16]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

pub(crate) fn base64_uuid_decode(text: &str) -> Option<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests;
