//! The embedded broker's KRaft metadata log: `<data-dir>/__cluster_metadata-0/`.
//!
//! The embedded broker runs in combined mode (`process.roles=broker,controller`) as the only voter
//! of its controller quorum, like Kafka's single-node quickstart. The core's
//! [`QuorumNode`](crate::core::quorum::QuorumNode) elects it at every start (the epoch goes up by
//! one and a `LeaderChange` entry opens it), every topic change is appended as KIP-631 records and
//! is committed at once (one voter is a majority), and at start-up the topics are rebuilt by
//! replaying the log into a [`MetadataImage`]. So `kafka-metadata-quorum describe` shows a real
//! quorum: its epoch counts the broker's restarts, its high watermark the metadata changes.
//!
//! On disk, next to the topics' partition directories:
//!
//! - `__cluster_metadata-0/`: a [`PartitionLog`] (the same segments, indexes and crash recovery as
//!   a topic's partition). Each append is one record batch whose partition leader epoch is the
//!   quorum epoch, one record per entry, the entry as JSON in the record's value.
//! - `__cluster_metadata-0/quorum-state`: the epoch and the vote (Kafka's file of that name),
//!   replaced atomically before an entry of a new epoch is written (Raft: the vote is durable
//!   before anyone hears of it).
//! - `meta.properties`: `cluster.id`, `node.id` and `directory.id` (KIP-858), as `kafka-storage
//!   format` writes it.
//!
//! Data directories from before the metadata log kept topics in `metadata.json`; the first start
//! appends their records to a new log, then removes the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use serde::{Deserialize, Serialize};

use crate::core::metadata::{MetadataImage, MetadataRecord};
use crate::core::quorum::{DurableState, Entry, EntryPayload, NodeId, QuorumConfig, QuorumNode, ReplicaState, Role};
use crate::log::{LogConfig, PartitionLog};

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

#[derive(Debug)]
pub(crate) struct MetadataLog {
    quorum: QuorumNode<MetadataRecord>,
    log: PartitionLog,
    dir: PathBuf,
    /// The epoch and vote in `quorum-state`.
    state_on_disk: (i32, Option<NodeId>),
    image: MetadataImage,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

fn corrupt(path: &Path, message: impl Into<String>) -> ClusterError {
    ClusterError::Metadata { path: path.to_owned(), message: message.into() }
}

impl MetadataLog {
    /// Opens (or starts) the log in `data_dir`, replays it, and elects this node for a new epoch.
    pub(crate) fn open(data_dir: &Path, node_id: NodeId, now_ms: i64) -> Result<MetadataLog, ClusterError> {
        let dir = data_dir.join(METADATA_LOG_DIR);
        let config = LogConfig { retention_ms: -1, retention_bytes: -1, ..LogConfig::default() };
        let (log, report) = PartitionLog::open(&dir, config, now_ms)?;
        if report.truncated_bytes > 0 || report.segments_deleted > 0 {
            tracing::warn!(?report, "recovered the metadata log: truncated a torn or corrupt tail");
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
        let stored_entries = entries.len();
        let durable = DurableState { epoch, voted_for, log: entries };
        let config = QuorumConfig { voters: vec![node_id], ..QuorumConfig::default() };
        let seed = u64::try_from(now_ms).unwrap_or(0);
        let quorum = QuorumNode::new(node_id, config, durable, wall_clock(now_ms), seed);
        let mut metadata_log =
            MetadataLog { quorum, log, dir, state_on_disk: (epoch, voted_for), image: MetadataImage::new() };
        // The quorum cuts a log that breaks its shape (it never should: the log is CRC-checked).
        let kept = metadata_log.quorum.log().len();
        if kept < stored_entries {
            tracing::warn!(kept, stored_entries, "the metadata log's tail broke the log's shape; truncated");
            let offset = metadata_log.quorum.log_end_offset();
            metadata_log.log.truncate_to(offset)?;
        }
        metadata_log.persist(stored_entries.min(kept))?;
        metadata_log.apply_committed();
        if metadata_log.quorum.role() != Role::Leader {
            // One voter elects itself in `QuorumNode::new`; anything else is a bug worth hearing of.
            tracing::error!(role = metadata_log.quorum.role().name(), "the metadata quorum has no leader");
        }
        tracing::info!(
            epoch = metadata_log.quorum.epoch(),
            log_end_offset = metadata_log.quorum.log_end_offset(),
            topics = metadata_log.image.topics.len(),
            "metadata log ready"
        );
        Ok(metadata_log)
    }

    /// The topics, partitions and configs the committed log describes.
    pub(crate) fn image(&self) -> &MetadataImage {
        &self.image
    }

    /// Appends `records`, makes them durable (fsync), and applies them to the image.
    pub(crate) fn append(&mut self, records: Vec<MetadataRecord>, now_ms: i64) -> Result<(), ClusterError> {
        if records.is_empty() {
            return Ok(());
        }
        let before = self.quorum.log().len();
        self.quorum
            .append(wall_clock(now_ms), records)
            .map_err(|not_leader| ClusterError::Metadata { path: self.dir.clone(), message: not_leader.to_string() })?;
        self.persist(before)?;
        self.apply_committed();
        Ok(())
    }

    /// DescribeQuorum's answer. The leader's own fetch and caught-up times are `now_ms`, as in
    /// Kafka's `LeaderState.describeQuorum`.
    pub(crate) fn describe(&self, now_ms: i64) -> QuorumDescription {
        let mut voters = Vec::new();
        let mut observers = Vec::new();
        for mut replica in self.quorum.replica_states() {
            if replica.replica_id == self.quorum.id() {
                replica.last_fetch_ms = Some(wall_clock(now_ms));
            }
            if replica.is_voter { voters.push(replica) } else { observers.push(replica) }
        }
        QuorumDescription {
            leader_id: self.quorum.leader_id().unwrap_or(-1),
            leader_epoch: self.quorum.epoch(),
            high_watermark: self.quorum.high_watermark(),
            voters,
            observers,
        }
    }

    /// Writes the quorum state if it changed, then the entries from index `from` on, then fsyncs.
    fn persist(&mut self, from: usize) -> Result<(), ClusterError> {
        let state = (self.quorum.epoch(), self.quorum.voted_for());
        if state != self.state_on_disk {
            let file = QuorumStateFile {
                leader_epoch: state.0,
                voted_id: state.1.unwrap_or(-1),
                current_voters: self.quorum.config().voters.iter().map(|&voter_id| Voter { voter_id }).collect(),
                data_version: 0,
            };
            let bytes = serde_json::to_vec(&file).map_err(|e| corrupt(&self.dir, e.to_string()))?;
            write_atomically(&self.dir, QUORUM_STATE_FILE, &bytes)?;
            self.state_on_disk = state;
        }
        let new_entries = self.quorum.log().get(from..).unwrap_or_default();
        let mut start = 0;
        while start < new_entries.len() {
            // One batch holds entries of one epoch: the batch header carries it.
            let epoch = new_entries[start].epoch;
            let end = new_entries[start..]
                .iter()
                .take(ENTRIES_PER_BATCH)
                .position(|entry| entry.epoch != epoch)
                .map_or((start + ENTRIES_PER_BATCH).min(new_entries.len()), |n| start + n);
            let mut batch = encode_batch(&new_entries[start..end], &self.dir)?;
            self.log.append(&mut batch, epoch, super::cluster::now_ms())?;
            start = end;
        }
        self.log.flush()?;
        Ok(())
    }

    fn apply_committed(&mut self) {
        for entry in self.quorum.take_committed() {
            if let EntryPayload::Record(record) = &entry.payload {
                self.image.apply(entry.offset, record);
            }
        }
    }
}

/// The quorum's clock: wall-clock milliseconds (DescribeQuorum reports them as timestamps).
fn wall_clock(now_ms: i64) -> u64 {
    u64::try_from(now_ms).unwrap_or(0)
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

fn base64_uuid_decode(text: &str) -> Option<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests;
