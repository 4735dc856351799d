//! The broker's state: topics, their partitions' logs and replica state, and the group commit
//! that makes acknowledged writes durable.
//!
//! Locking: the topic map is behind an `RwLock` taken briefly; each partition has its own
//! `Mutex` around its log and replica state, so produce and fetch on different partitions run in
//! parallel. Log appends and reads go to the page cache and run under that lock on the async
//! worker; only `fsync` (the flusher) goes to a blocking thread.
//!
//! Topic metadata lives in the KRaft metadata log (see [`super::metadata_log`]): every change is
//! appended there, durably, before it takes effect, and the topics are rebuilt from it at start-up.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::{Notify, watch};

use crate::core::config::TopicConfigs;
use crate::core::metadata::{MetadataImage, MetadataRecord};
use crate::core::producer::{ProducedBatch, ProducerStates};
use crate::core::replica::PartitionReplica;
use crate::core::topic::Topic;
use crate::log::{LogConfig, LogError, PartitionLog};

use super::ResolvedConfig as BrokerConfig;
use super::groups::Groups;
use super::metadata_log::{MetaProperties, MetadataLog, QuorumDescription};
use super::offsets::OffsetRecord;

/// How much of each partition's log tail is read at start-up to rebuild idempotent producers'
/// state: retries come within seconds, so the last batches are the ones that matter.
const PRODUCER_STATE_WINDOW_BYTES: u64 = 32 * 1024 * 1024;

/// Where topics were kept before the metadata log; read once to migrate, then removed.
const LEGACY_METADATA_FILE: &str = "metadata.json";

/// One partition: its log and what the core knows about it.
#[derive(Debug)]
pub(crate) struct PartitionState {
    pub(crate) index: i32,
    inner: Mutex<PartitionInner>,
}

#[derive(Debug)]
pub(crate) struct PartitionInner {
    pub(crate) log: PartitionLog,
    pub(crate) replica: PartitionReplica,
    /// Idempotent producers' recent batches, rebuilt from the log tail at start-up.
    pub(crate) producers: ProducerStates,
}

impl PartitionState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, PartitionInner> {
        // A panic under the lock is a bug; the log's own invariants (CRC-checked batches, offsets
        // assigned only after a successful write) hold regardless, so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug)]
pub(crate) struct TopicState {
    pub(crate) topic: Topic,
    pub(crate) partitions: Vec<Arc<PartitionState>>,
}

impl TopicState {
    /// The partition with this (wire) index, if the topic has it.
    pub(crate) fn partition(&self, index: i32) -> Option<&Arc<PartitionState>> {
        usize::try_from(index).ok().and_then(|i| self.partitions.get(i))
    }
}

/// Group commit: appends mark their partition dirty; the flusher fsyncs every dirty partition
/// each `flush_interval_ms` and publishes how many flush rounds have completed. A producer with
/// acks=all waits for the round that started after its append (see [`Cluster::durable`]).
#[derive(Debug)]
struct GroupCommit {
    dirty: Mutex<DirtySet>,
    completed: watch::Sender<u64>,
}

/// Partitions written since the last round, and the number of rounds started so far. One lock
/// for both, so an append either makes the next round or knows it must wait for the one after.
#[derive(Debug, Default)]
struct DirtySet {
    partitions: HashMap<(String, i32), Arc<PartitionState>>,
    /// The committed-offsets file has unflushed appends.
    offsets: bool,
    rounds_started: u64,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) config: BrokerConfig,
    pub(crate) cluster_id: String,
    /// KIP-858's `directory.id` of the data directory (DescribeQuorum reports it).
    pub(crate) directory_id: [u8; 16],
    topics: RwLock<BTreeMap<String, Arc<TopicState>>>,
    /// Serialises topic creation, deletion and changes (and their metadata records).
    admin: tokio::sync::Mutex<()>,
    /// The KRaft metadata log. Written under `admin`; read by DescribeQuorum.
    metadata: Mutex<MetadataLog>,
    /// Woken on every append, for fetches waiting on `min_bytes`.
    pub(crate) appended: Notify,
    /// Consumer groups and their committed offsets.
    pub(crate) groups: Groups,
    /// The next producer id InitProducerId hands out. Seeded from the clock at start-up so ids
    /// are not reused across restarts.
    pub(crate) next_producer_id: std::sync::atomic::AtomicI64,
    commit: GroupCommit,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("cannot read {path}: {message}")]
    Metadata { path: PathBuf, message: String },
    #[error(transparent)]
    Log(#[from] LogError),
}

/// `metadata.json`, from before the metadata log.
#[derive(Debug, Deserialize)]
struct LegacyMetadataFile {
    /// Kafka's `cluster.id`: made once, when the data directory is first used.
    cluster_id: String,
    topics: Vec<LegacyTopic>,
}

/// A topic of `metadata.json`. Its `replication_factor` is not read: one broker holds one replica.
#[derive(Debug, Deserialize)]
struct LegacyTopic {
    name: String,
    topic_id: String,
    partitions: u32,
    configs: BTreeMap<String, String>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The log settings of a topic, from its configs.
pub(crate) fn log_config(configs: &TopicConfigs) -> LogConfig {
    LogConfig {
        segment_bytes: u64::try_from(configs.get_i64("segment.bytes")).unwrap_or(1 << 30),
        segment_ms: configs.get_i64("segment.ms"),
        retention_ms: configs.get_i64("retention.ms"),
        retention_bytes: configs.get_i64("retention.bytes"),
        index_interval_bytes: u32::try_from(configs.get_i64("index.interval.bytes")).unwrap_or(4096),
        max_message_bytes: usize::try_from(configs.get_i64("max.message.bytes")).unwrap_or(1_048_588),
    }
}

fn partition_dir(data_dir: &Path, topic: &str, partition: i32) -> PathBuf {
    data_dir.join(format!("{topic}-{partition}"))
}

impl Cluster {
    /// Loads the topics of `config.data_dir` from its metadata log, recovering every partition log.
    pub(crate) fn open(config: BrokerConfig) -> Result<Cluster, ClusterError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ClusterError::Io {
            context: format!("cannot create the data directory {}", config.data_dir.display()),
            source,
        })?;
        let legacy_path = config.data_dir.join(LEGACY_METADATA_FILE);
        let legacy = match std::fs::read(&legacy_path) {
            Ok(bytes) => Some(
                serde_json::from_slice::<LegacyMetadataFile>(&bytes)
                    .map_err(|e| ClusterError::Metadata { path: legacy_path.clone(), message: e.to_string() })?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ClusterError::Io { context: format!("cannot read {}", legacy_path.display()), source });
            }
        };
        let now = now_ms();
        let mut metadata = MetadataLog::open(&config.data_dir, config.node_id, now)?;
        let stored_properties = MetaProperties::read(&config.data_dir)?;
        let properties = match stored_properties.clone() {
            Some(properties) if properties.node_id != config.node_id => {
                return Err(ClusterError::Metadata {
                    path: config.data_dir.join(super::metadata_log::META_PROPERTIES_FILE),
                    message: format!(
                        "Stored node id {} doesn't match previous node id {}",
                        properties.node_id, config.node_id
                    ),
                });
            }
            Some(properties) => properties,
            None => MetaProperties {
                cluster_id: legacy
                    .as_ref()
                    .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), |file| file.cluster_id.clone()),
                node_id: config.node_id,
                directory_id: *uuid::Uuid::new_v4().as_bytes(),
            },
        };
        if let Some(legacy) = &legacy {
            // A crash after the records were appended but before the file was removed leaves
            // both: the log wins.
            if metadata.image().topics.is_empty() {
                let records = legacy_records(legacy, config.node_id, &legacy_path)?;
                tracing::info!(topics = legacy.topics.len(), "moving topics from metadata.json to the metadata log");
                metadata.append(records, now)?;
            }
        }
        if stored_properties.is_none() {
            properties.write(&config.data_dir)?;
        }
        if legacy.is_some()
            && let Err(error) = std::fs::remove_file(&legacy_path)
        {
            tracing::warn!(%error, "could not remove metadata.json after moving it to the metadata log");
        }
        let mut topics = BTreeMap::new();
        for topic in topics_of(metadata.image()) {
            let state = open_topic(&config, topic, now)?;
            topics.insert(state.topic.name.clone(), Arc::new(state));
        }
        let (completed, _) = watch::channel(0);
        let groups = Groups::open(&config.data_dir, config.group_initial_rebalance_delay_ms)
            .map_err(|source| ClusterError::Io { context: "cannot open committed offsets".into(), source })?;
        Ok(Cluster {
            config,
            cluster_id: properties.cluster_id,
            directory_id: properties.directory_id,
            topics: RwLock::new(topics),
            admin: tokio::sync::Mutex::new(()),
            metadata: Mutex::new(metadata),
            appended: Notify::new(),
            groups,
            next_producer_id: std::sync::atomic::AtomicI64::new(now_ms().saturating_mul(1_000)),
            commit: GroupCommit { dirty: Mutex::new(DirtySet::default()), completed },
        })
    }

    pub(crate) fn topic(&self, name: &str) -> Option<Arc<TopicState>> {
        self.topics.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    pub(crate) fn topics(&self) -> Vec<Arc<TopicState>> {
        self.topics.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Creates a topic (the caller validated name, counts and configs). `Ok(None)` if it exists.
    pub(crate) async fn create_topic(&self, topic: Topic) -> Result<Option<Arc<TopicState>>, ClusterError> {
        let _admin = self.admin.lock().await;
        if self.topic(&topic.name).is_some() {
            return Ok(None);
        }
        // Metadata first: a crash before the logs exist leaves a topic whose empty logs are
        // created at the next start, never a log directory nobody knows about.
        let mut records = vec![MetadataRecord::Topic {
            name: topic.name.clone(),
            topic_id: topic.topic_id,
            configs: topic.configs.clone(),
        }];
        records.extend(
            (0..i32::try_from(topic.partitions).unwrap_or(i32::MAX)).map(|p| self.partition_record(&topic.name, p)),
        );
        self.append_metadata(records)?;
        let state = Arc::new(open_topic(&self.config, topic, now_ms())?);
        self.topics.write().unwrap_or_else(|e| e.into_inner()).insert(state.topic.name.clone(), state.clone());
        Ok(Some(state))
    }

    /// A new partition led by this broker, its only replica.
    fn partition_record(&self, topic: &str, partition: i32) -> MetadataRecord {
        let node = self.config.node_id;
        MetadataRecord::Partition {
            topic: topic.to_owned(),
            partition,
            replicas: vec![node],
            isr: vec![node],
            leader: node,
        }
    }

    /// Appends to the metadata log, durably (the caller holds `admin`).
    fn append_metadata(&self, records: Vec<MetadataRecord>) -> Result<(), ClusterError> {
        self.metadata.lock().unwrap_or_else(|e| e.into_inner()).append(records, now_ms())
    }

    /// The metadata quorum, as DescribeQuorum reports it.
    pub(crate) fn describe_quorum(&self) -> QuorumDescription {
        self.metadata.lock().unwrap_or_else(|e| e.into_inner()).describe(now_ms())
    }

    /// Changes a topic's configs with `change` (which validates), applying the new log settings
    /// to every partition. The inner `Err` is the client's mistake: unknown topic or bad value.
    pub(crate) async fn alter_topic_configs(
        &self,
        name: &str,
        validate_only: bool,
        change: impl FnOnce(&mut TopicConfigs) -> Result<(), String>,
    ) -> Result<Result<(), AdminRefusal>, ClusterError> {
        let _admin = self.admin.lock().await;
        let Some(state) = self.topic(name) else { return Ok(Err(AdminRefusal::UnknownTopic)) };
        let mut topic = state.topic.clone();
        if let Err(message) = change(&mut topic.configs) {
            return Ok(Err(AdminRefusal::InvalidConfig(message)));
        }
        if validate_only {
            return Ok(Ok(()));
        }
        let (before, after) = (state.topic.configs.overrides(), topic.configs.overrides());
        let set = after
            .iter()
            .filter(|&(name, value)| before.get(name) != Some(value))
            .map(|(name, value)| (name.clone(), Some(value.clone())));
        let removed = before.keys().filter(|name| !after.contains_key(*name)).map(|name| (name.clone(), None));
        let records = set
            .chain(removed)
            .map(|(config, value)| MetadataRecord::Config { topic: name.to_owned(), name: config, value })
            .collect();
        self.append_metadata(records)?;
        self.replace_topic(TopicState { topic, partitions: state.partitions.clone() });
        let log_config = log_config(&self.topic(name).map(|t| t.topic.configs.clone()).unwrap_or_default());
        for partition in &state.partitions {
            partition.lock().log.set_config(log_config.clone());
        }
        Ok(Ok(()))
    }

    /// Grows a topic to `count` partitions (Kafka never shrinks one).
    pub(crate) async fn add_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
    ) -> Result<Result<(), AdminRefusal>, ClusterError> {
        let _admin = self.admin.lock().await;
        let Some(state) = self.topic(name) else { return Ok(Err(AdminRefusal::UnknownTopic)) };
        let current = i32::try_from(state.partitions.len()).unwrap_or(i32::MAX);
        if count <= current {
            return Ok(Err(AdminRefusal::InvalidPartitions(format!(
                "Topic currently has {current} partitions, which is higher than the requested {count}."
            ))));
        }
        if count > super::api::MAX_PARTITIONS_PER_TOPIC {
            return Ok(Err(AdminRefusal::InvalidPartitions(format!(
                "Number of partitions {count} exceeds this broker's limit of {} per topic.",
                super::api::MAX_PARTITIONS_PER_TOPIC
            ))));
        }
        if validate_only {
            return Ok(Ok(()));
        }
        let mut topic = state.topic.clone();
        topic.partitions = u32::try_from(count).unwrap_or(topic.partitions);
        self.append_metadata((current..count).map(|index| self.partition_record(name, index)).collect())?;
        let mut partitions = state.partitions.clone();
        let log_config = log_config(&topic.configs);
        let now = now_ms();
        for index in current..count {
            partitions.push(Arc::new(open_partition(&self.config, &topic.name, index, &log_config, now)?));
        }
        self.replace_topic(TopicState { topic, partitions });
        Ok(Ok(()))
    }

    /// Swaps in a changed topic (its metadata records are durable already).
    fn replace_topic(&self, state: TopicState) {
        self.topics.write().unwrap_or_else(|e| e.into_inner()).insert(state.topic.name.clone(), Arc::new(state));
    }

    /// Deletes a topic and its logs. `Ok(false)` if it does not exist.
    pub(crate) async fn delete_topic(&self, name: &str) -> Result<bool, ClusterError> {
        let _admin = self.admin.lock().await;
        let Some(state) = self.topic(name) else { return Ok(false) };
        self.append_metadata(vec![MetadataRecord::RemoveTopic { name: name.to_owned() }])?;
        self.topics.write().unwrap_or_else(|e| e.into_inner()).remove(name);
        // Kafka drops a deleted topic's committed offsets too.
        self.groups.coordinator().remove_topic_offsets(name);
        if let Err(error) = self.groups.append(&[OffsetRecord::DeleteTopic { topic: name.to_owned() }]) {
            tracing::error!(%error, topic = name, "cannot record the deletion of committed offsets");
        }
        for partition in 0..state.partitions.len() {
            let dir = partition_dir(&self.config.data_dir, name, i32::try_from(partition).unwrap_or(i32::MAX));
            if let Err(error) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(%error, dir = %dir.display(), "could not remove a deleted partition's log");
            }
        }
        Ok(true)
    }

    /// Records that `partition` has unflushed writes; returns the flush round that will cover them.
    pub(crate) fn mark_dirty(&self, topic: &str, partition: &Arc<PartitionState>) -> u64 {
        let mut dirty = self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner());
        dirty.partitions.insert((topic.to_owned(), partition.index), partition.clone());
        dirty.rounds_started + 1
    }

    /// Records that the committed-offsets file has unflushed appends; returns the covering round.
    pub(crate) fn mark_offsets_dirty(&self) -> u64 {
        let mut dirty = self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner());
        dirty.offsets = true;
        dirty.rounds_started + 1
    }

    /// Resolves once flush round `round` has completed.
    pub(crate) async fn durable(&self, round: u64) {
        let mut completed = self.commit.completed.subscribe();
        // The sender lives as long as the cluster; an error means shutdown, and then waiting is moot.
        let _ = completed.wait_for(|&done| done >= round).await;
    }

    /// One group-commit round: fsync every partition written since the last round.
    pub(crate) async fn flush_round(self: &Arc<Self>) {
        let (partitions, round) = {
            let mut dirty = self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner());
            if dirty.partitions.is_empty() && !dirty.offsets {
                return;
            }
            dirty.rounds_started += 1;
            dirty.offsets = false;
            (std::mem::take(&mut dirty.partitions), dirty.rounds_started)
        };
        let cluster = self.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            if let Err(error) = cluster.groups.flush() {
                tracing::error!(%error, "fsync of committed offsets failed");
            }
            for ((topic, index), partition) in partitions {
                // Take the files under the lock, fsync them without it: producers keep appending.
                let work = partition.lock().log.take_sync_work();
                let synced = work.map_err(|e| e.to_string()).and_then(|work| work.sync().map_err(|e| e.to_string()));
                if let Err(error) = synced {
                    partition.lock().log.mark_offline();
                    tracing::error!(%error, topic, partition = index, "fsync failed; the partition is offline until restart");
                }
            }
        })
        .await;
        if let Err(error) = flushed {
            tracing::error!(%error, "flush task failed");
        }
        self.commit.completed.send_replace(round);
    }

    /// Runs group commit and retention until the process ends.
    pub(crate) async fn run_background(self: Arc<Self>) {
        let mut flush = tokio::time::interval(Duration::from_millis(self.config.flush_interval_ms.max(1)));
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retention =
            tokio::time::interval(Duration::from_millis(self.config.retention_check_interval_ms.max(1)));
        retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Group session and rebalance timeouts are seconds long; a tenth of a second is precise enough.
        let mut groups = tokio::time::interval(Duration::from_millis(100));
        groups.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => self.flush_round().await,
                _ = retention.tick() => self.enforce_retention(),
                _ = groups.tick() => self.groups.tick(now_ms()),
            }
        }
    }

    fn enforce_retention(&self) {
        let now = now_ms();
        for topic in self.topics() {
            for partition in &topic.partitions {
                let mut inner = partition.lock();
                match inner.log.enforce_retention(now) {
                    Ok(0) => {}
                    Ok(deleted) => {
                        let start = inner.log.log_start_offset();
                        inner.replica.on_log_start_offset(start);
                        tracing::info!(topic = %topic.topic.name, partition = partition.index, deleted, log_start_offset = start, "retention deleted segments");
                    }
                    Err(error) => {
                        tracing::error!(%error, topic = %topic.topic.name, partition = partition.index, "retention failed")
                    }
                }
            }
        }
    }

    /// Flushes everything now (shutdown).
    pub(crate) fn flush_all(&self) {
        if let Err(error) = self.groups.flush() {
            tracing::error!(%error, "fsync of committed offsets failed");
        }
        for topic in self.topics() {
            for partition in &topic.partitions {
                if let Err(error) = partition.lock().log.flush() {
                    tracing::error!(%error, topic = %topic.topic.name, partition = partition.index, "fsync failed");
                }
            }
        }
    }
}

/// Why an admin request is refused (the client's mistake, not a broker failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminRefusal {
    UnknownTopic,
    InvalidConfig(String),
    InvalidPartitions(String),
}

fn open_topic(config: &BrokerConfig, topic: Topic, now: i64) -> Result<TopicState, ClusterError> {
    let log_config = log_config(&topic.configs);
    let mut partitions = Vec::new();
    for index in 0..i32::try_from(topic.partitions).unwrap_or(i32::MAX) {
        partitions.push(Arc::new(open_partition(config, &topic.name, index, &log_config, now)?));
    }
    Ok(TopicState { topic, partitions })
}

fn open_partition(
    config: &BrokerConfig,
    topic: &str,
    index: i32,
    log_config: &LogConfig,
    now: i64,
) -> Result<PartitionState, ClusterError> {
    let dir = partition_dir(&config.data_dir, topic, index);
    let (log, report) = PartitionLog::open(&dir, log_config.clone(), now)?;
    if report.truncated_bytes > 0 || report.segments_deleted > 0 {
        tracing::warn!(
            topic,
            partition = index,
            ?report,
            "recovered a partition log: truncated a torn or corrupt tail"
        );
    }
    let replica =
        PartitionReplica::new(config.node_id, vec![config.node_id], log.log_start_offset(), log.log_end_offset());
    // Idempotent producers' recent batches, from the log, so that a batch retried across a
    // restart is still recognised as a duplicate (Kafka rebuilds this state from its log too).
    let mut producers = ProducerStates::default();
    for header in log.recent_batch_headers(PRODUCER_STATE_WINDOW_BYTES)? {
        if header.producer_id >= 0 {
            producers.on_append(
                header.producer_id,
                header.producer_epoch,
                ProducedBatch {
                    first_sequence: header.base_sequence,
                    last_sequence: header.base_sequence.wrapping_add(header.last_offset_delta) & i32::MAX,
                    base_offset: header.base_offset,
                    last_offset: header.last_offset(),
                },
            );
        }
    }
    Ok(PartitionState { index, inner: Mutex::new(PartitionInner { log, replica, producers }) })
}

/// The topics a metadata image describes.
fn topics_of(image: &MetadataImage) -> Vec<Topic> {
    image
        .topics
        .values()
        .map(|topic| Topic {
            name: topic.name.clone(),
            topic_id: topic.topic_id,
            partitions: u32::try_from(topic.partitions.len()).unwrap_or(u32::MAX),
            replication_factor: topic
                .partitions
                .first()
                .map_or(1, |p| u16::try_from(p.replicas.len()).unwrap_or(u16::MAX)),
            configs: topic.configs.clone(),
        })
        .collect()
}

/// The metadata records that recreate the topics of a `metadata.json`.
fn legacy_records(file: &LegacyMetadataFile, node_id: i32, path: &Path) -> Result<Vec<MetadataRecord>, ClusterError> {
    let mut records = Vec::new();
    for topic in &file.topics {
        let bad = |message: String| ClusterError::Metadata { path: path.to_owned(), message };
        let configs = TopicConfigs::from_pairs(topic.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|message| bad(format!("topic {}: {message}", topic.name)))?;
        let topic_id =
            parse_topic_id(&topic.topic_id).ok_or_else(|| bad(format!("topic {}: bad topic_id", topic.name)))?;
        records.push(MetadataRecord::Topic { name: topic.name.clone(), topic_id, configs });
        for partition in 0..i32::try_from(topic.partitions).unwrap_or(i32::MAX) {
            records.push(MetadataRecord::Partition {
                topic: topic.name.clone(),
                partition,
                replicas: vec![node_id],
                isr: vec![node_id],
                leader: node_id,
            });
        }
    }
    Ok(records)
}

fn parse_topic_id(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text).ok().map(|u| *u.as_bytes())
}
