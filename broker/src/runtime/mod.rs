//! The tokio driver: a KRaft cluster of brokers and controllers in one process, their Kafka
//! listeners, their logs on disk and their timers, around the core's node state machines.
//!
//! # Layout
//!
//! * [`cluster`]: the nodes, the in-process network between them, group commit, retention.
//! * [`broker`]: one broker — the core's `BrokerNode` over disk logs, its driver task, its
//!   listener, its log cleaner task. [`controller`]: one controller and its driver.
//! * [`storage`]: partition logs on disk behind the core's `Storage` seam.
//!   [`metadata_log`]: a controller's metadata log on disk.
//! * [`connection`], [`api`]: the Kafka port — framing, hostile input, one module per API.
//! * [`groups`], [`offsets`]: the consumer group coordinator's driver and committed offsets.
//! * [`properties`]: `server.properties` and `--override KEY=VALUE`, by Kafka's names.
//! * [`per_address`]: connections counted per client address (`max.connections.per.ip`), shared
//!   with the web site's listener.
//!
//! [`Broker::start`] builds the cluster, starts every node and returns once the brokers have
//! registered and caught up with the metadata log.

mod api;
mod broker;
mod cluster;
mod connection;
mod controller;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod groups;
mod metadata_log;
mod offsets;
pub mod per_address;
mod properties;
mod storage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use cluster::Cluster;

use crate::core::broker_config::BrokerConfigs;

pub use crate::core::node::{FIRST_CONTROLLER_ID, NodeId};

/// How the cluster runs. [`BrokerConfig::new`] gives Kafka-like defaults for a learner's laptop,
/// with one broker and one controller; `streamlab` asks for more.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Where broker 1 listens (`listeners`); broker *i* listens on the port + (i − 1). Port 0:
    /// each broker takes a free port of its own.
    pub listen: SocketAddr,
    /// The address clients are told to connect to for broker 1 (`advertised.listeners`), shifted
    /// like `listen` for the others. `None`: each listener's own address.
    pub advertised: Option<(String, u16)>,
    pub data_dir: PathBuf,
    /// Brokers, ids 1..=N (1 to 7).
    pub brokers: u8,
    /// KRaft controllers, ids 3000.. (1, 3 or 5).
    pub controllers: u8,
    /// Create a topic when a client asks for metadata of an unknown one (`auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of an auto-created topic (`num.partitions`).
    pub default_partitions: u32,
    /// Replicas of a topic created without a replication factor (`default.replication.factor`);
    /// `None`: min(3, brokers).
    pub default_replication_factor: Option<u16>,
    /// `broker.session.timeout.ms`: a broker without a heartbeat for this long is fenced.
    pub broker_session_timeout_ms: u64,
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// Group commit: the longest an acks=all write waits for its fsync.
    pub flush_interval_ms: u64,
    /// How often each broker writes its partitions' high watermarks to
    /// `replication-offset-checkpoint` (`replica.high.watermark.checkpoint.interval.ms`; Kafka:
    /// 5 s), so a restarted leader serves what was committed before the crash at once.
    pub replica_high_watermark_checkpoint_interval_ms: u64,
    /// How often retention runs (`log.retention.check.interval.ms`; Kafka: 5 minutes).
    pub retention_check_interval_ms: u64,
    /// `log.cleaner.enable`: each broker runs a log cleaner for its compacted partitions.
    pub log_cleaner_enable: bool,
    /// `log.cleaner.backoff.ms`: the longest the cleaner sleeps when no log is due (Kafka: 15 s);
    /// it wakes sooner when a compaction lag is about to pass.
    pub log_cleaner_backoff_ms: u64,
    /// `log.cleaner.dedupe.buffer.size`: memory for the cleaner's key → offset map (Kafka:
    /// 128 MiB); a dirty section with more keys is cleaned over several rounds.
    pub log_cleaner_dedupe_buffer_bytes: usize,
    /// Largest request frame accepted (`socket.request.max.bytes`; Kafka: 100 MiB).
    pub max_request_bytes: usize,
    /// Most record bytes one Fetch response carries, whatever the request's `max_bytes` asks
    /// (`fetch.max.bytes`; Kafka: 55 MiB). As with the request's own budget (KIP-74), a first
    /// batch larger than it still goes out whole, so a consumer always progresses.
    pub fetch_max_bytes: usize,
    /// Most concurrent client connections per broker (`max.connections`; Kafka: unlimited). When
    /// they are all taken the broker stops accepting, as Kafka's acceptor does, and new clients
    /// wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Most concurrent client connections per broker from one IP address
    /// (`max.connections.per.ip`; Kafka: unlimited). One more is closed at once, as Kafka does,
    /// so one address cannot take every slot of `max_connections`.
    pub max_connections_per_ip: usize,
    /// `connections.max.idle.ms`: a connection with no request in flight and nothing read or
    /// written for this long is closed (Kafka: 600000).
    pub connections_max_idle_ms: u64,
    /// A request whose announced size has not fully arrived this long after its first byte is
    /// dropped with its connection. Kafka has no such setting (only `connections.max.idle.ms`,
    /// which a client trickling a byte now and then never reaches); time spent waiting for
    /// `queued_max_request_bytes` does not count.
    pub request_read_timeout_ms: u64,
    /// `queued.max.request.bytes`: request bytes in flight across every connection of the
    /// process; when they are spent, connections stop reading (back pressure) until requests
    /// finish. `None`: unbounded (Kafka's default, −1). Kafka counts per broker; the brokers
    /// here share one process and its memory, so the budget is shared too.
    pub queued_max_request_bytes: Option<usize>,
    /// How long a new group waits for more members before its first rebalance completes
    /// (`group.initial.rebalance.delay.ms`; Kafka: 3000, shorter here so demos feel immediate).
    pub group_initial_rebalance_delay_ms: i64,
    /// `metadata.max.idle.interval.ms`: the active controller appends a NoOpRecord when the
    /// metadata log has been idle this long (KIP-835). `None`: never.
    pub metadata_max_idle_interval_ms: Option<u64>,
    /// `leader.imbalance.check.interval.seconds` in ms with `auto.leader.rebalance.enable`:
    /// how long after a partition came to be led by another replica than its preferred one the
    /// controller moves leadership back. `None`: never.
    pub leader_imbalance_check_interval_ms: Option<u64>,
    /// Eligible leader replicas (KIP-966; Kafka's `eligible.leader.replicas.version` feature,
    /// on for new clusters since 4.1).
    pub eligible_leader_replicas_enabled: bool,
    /// The broker configs that set topic defaults (`log.retention.ms`, `log.retention.hours`,
    /// `min.insync.replicas`, ...), as `server.properties` / `--override` give them: Kafka's
    /// STATIC_BROKER_CONFIG layer, below the dynamic ones `kafka-configs.sh` sets.
    pub static_configs: BrokerConfigs,
    /// Most segment and index files the partition logs of all brokers keep open at once; the
    /// least recently used handle closes to make room (see `log/file_cache.rs`). Kafka has no
    /// such setting: it keeps every segment open and asks for a `ulimit -n` of 100,000. Here
    /// thousands of partitions must not take every descriptor of the process, or the
    /// listeners and the web site stop accepting and the broker cannot start again. Default
    /// ([`default_max_open_log_files`]): half the process's open-files limit, the other half
    /// left to sockets, the database and the metadata logs.
    pub max_open_log_files: usize,
    /// Most partition replicas (partitions × replication factor, summed over every topic) the
    /// cluster may hold; a CreateTopics, CreatePartitions or auto-creation past it is refused
    /// with POLICY_VIOLATION. Kafka has no such limit (KIP-578 proposed one); every replica
    /// here is a directory and files on this one machine.
    pub max_partition_replicas: u32,
}

/// The default of [`BrokerConfig::max_partition_replicas`]: a 3-broker cluster holds a
/// thousand-partition topic at replication factor 3 and more beside it, well short of what
/// slows a laptop's start-up (every replica is recovered at start).
pub const DEFAULT_MAX_PARTITION_REPLICAS: u32 = 5_000;

/// The default of [`BrokerConfig::max_open_log_files`]: half the soft `RLIMIT_NOFILE`
/// (`ulimit -n`), at least 16; 4096 where the limit is unknown or unlimited.
pub fn default_max_open_log_files() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    soft.map_or(4096, |soft| usize::try_from(soft / 2).unwrap_or(usize::MAX).max(16))
}

/// Kafka's default `fetch.max.bytes` (`ServerConfigs.FETCH_MAX_BYTES_DEFAULT`): 55 MiB.
pub const FETCH_MAX_BYTES_DEFAULT: usize = 55 * 1024 * 1024;

impl BrokerConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            advertised: None,
            data_dir,
            brokers: 1,
            controllers: 1,
            auto_create_topics: true,
            default_partitions: 1,
            default_replication_factor: None,
            broker_session_timeout_ms: 9_000,
            replica_lag_time_max_ms: 30_000,
            flush_interval_ms: 5,
            replica_high_watermark_checkpoint_interval_ms: 5_000,
            retention_check_interval_ms: 60_000,
            log_cleaner_enable: true,
            log_cleaner_backoff_ms: 15_000,
            log_cleaner_dedupe_buffer_bytes: crate::log::DEDUPE_BUFFER_BYTES_DEFAULT,
            max_request_bytes: 8 * 1024 * 1024,
            fetch_max_bytes: FETCH_MAX_BYTES_DEFAULT,
            max_connections: 4096,
            // A class behind one NAT address still fits; one runaway script does not fill the broker.
            max_connections_per_ip: 1000,
            connections_max_idle_ms: 600_000,
            request_read_timeout_ms: 30_000,
            queued_max_request_bytes: Some(100 * 1024 * 1024),
            group_initial_rebalance_delay_ms: 500,
            metadata_max_idle_interval_ms: Some(500),
            leader_imbalance_check_interval_ms: Some(300_000),
            eligible_leader_replicas_enabled: true,
            static_configs: BrokerConfigs::default(),
            max_open_log_files: default_max_open_log_files(),
            max_partition_replicas: DEFAULT_MAX_PARTITION_REPLICAS,
        }
    }
}

/// The configuration the nodes share, checked.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedConfig {
    pub(crate) listen: SocketAddr,
    pub(crate) advertised: Option<(String, u16)>,
    pub(crate) data_dir: PathBuf,
    pub(crate) brokers: u8,
    pub(crate) controllers: u8,
    pub(crate) auto_create_topics: bool,
    pub(crate) default_partitions: u32,
    pub(crate) default_replication_factor: u16,
    pub(crate) broker_session_timeout_ms: u64,
    pub(crate) replica_lag_time_max_ms: u64,
    pub(crate) flush_interval_ms: u64,
    pub(crate) replica_high_watermark_checkpoint_interval_ms: u64,
    pub(crate) retention_check_interval_ms: u64,
    pub(crate) log_cleaner_enable: bool,
    pub(crate) log_cleaner_backoff_ms: u64,
    pub(crate) log_cleaner_dedupe_buffer_bytes: usize,
    pub(crate) max_request_bytes: usize,
    pub(crate) fetch_max_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) max_connections_per_ip: usize,
    pub(crate) connections_max_idle_ms: u64,
    pub(crate) request_read_timeout_ms: u64,
    pub(crate) queued_max_request_bytes: Option<usize>,
    pub(crate) group_initial_rebalance_delay_ms: i64,
    pub(crate) metadata_max_idle_interval_ms: Option<u64>,
    pub(crate) leader_imbalance_check_interval_ms: Option<u64>,
    pub(crate) eligible_leader_replicas_enabled: bool,
    pub(crate) static_configs: BrokerConfigs,
    pub(crate) max_open_log_files: usize,
    pub(crate) max_partition_replicas: u32,
}

impl ResolvedConfig {
    pub(crate) fn broker_ids(&self) -> Vec<i32> {
        (1..=i32::from(self.brokers)).collect()
    }

    pub(crate) fn controller_ids(&self) -> Vec<NodeId> {
        (0..i32::from(self.controllers)).map(|i| FIRST_CONTROLLER_ID + i).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot listen on {addr}: {source} (is another broker using it? choose another address with --kafka)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the broker's data in {dir}: {message}")]
    Open { dir: PathBuf, message: String },
    #[error("{0}")]
    Config(String),
}

/// What a lab can do to a node (Kafka has no protocol for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NodeControlError {
    #[error("there is no {kind} {id} in this cluster (it has {known})")]
    Unknown { kind: &'static str, id: NodeId, known: &'static str },
    #[error("{kind} {id} is already stopped")]
    AlreadyStopped { kind: &'static str, id: NodeId },
    #[error("{kind} {id} is already running")]
    AlreadyRunning { kind: &'static str, id: NodeId },
    #[error("{kind} {id} could not start; see the server log")]
    StartFailed { kind: &'static str, id: NodeId },
}

/// A running cluster. Dropping it does not stop it; call [`Broker::shutdown`].
#[derive(Debug)]
pub struct Broker {
    cluster: Arc<Cluster>,
    tasks: Vec<JoinHandle<()>>,
}

/// How long [`Broker::start`] waits for the cluster to form (controller election, broker
/// registration): Kafka's election and heartbeat timings take a few seconds.
const FORMATION_TIMEOUT: Duration = Duration::from_secs(30);

impl Broker {
    pub async fn start(config: BrokerConfig) -> Result<Broker, BrokerError> {
        if !(1..=7).contains(&config.brokers) {
            return Err(BrokerError::Config(format!("--brokers must be 1 to 7, not {}", config.brokers)));
        }
        if ![1, 3, 5].contains(&config.controllers) {
            return Err(BrokerError::Config(format!("--controllers must be 1, 3 or 5, not {}", config.controllers)));
        }
        let default_replication_factor =
            config.default_replication_factor.unwrap_or(u16::from(config.brokers).min(3)).max(1);
        let resolved = ResolvedConfig {
            listen: config.listen,
            advertised: config.advertised.clone(),
            data_dir: config.data_dir.clone(),
            brokers: config.brokers,
            controllers: config.controllers,
            auto_create_topics: config.auto_create_topics,
            default_partitions: config.default_partitions.max(1),
            default_replication_factor,
            broker_session_timeout_ms: config.broker_session_timeout_ms,
            replica_lag_time_max_ms: config.replica_lag_time_max_ms,
            flush_interval_ms: config.flush_interval_ms,
            replica_high_watermark_checkpoint_interval_ms: config.replica_high_watermark_checkpoint_interval_ms.max(1),
            retention_check_interval_ms: config.retention_check_interval_ms,
            log_cleaner_enable: config.log_cleaner_enable,
            log_cleaner_backoff_ms: config.log_cleaner_backoff_ms.max(1),
            log_cleaner_dedupe_buffer_bytes: config.log_cleaner_dedupe_buffer_bytes,
            max_request_bytes: config.max_request_bytes,
            fetch_max_bytes: config.fetch_max_bytes,
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
            connections_max_idle_ms: config.connections_max_idle_ms,
            request_read_timeout_ms: config.request_read_timeout_ms,
            queued_max_request_bytes: config.queued_max_request_bytes,
            group_initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            metadata_max_idle_interval_ms: config.metadata_max_idle_interval_ms,
            leader_imbalance_check_interval_ms: config.leader_imbalance_check_interval_ms,
            eligible_leader_replicas_enabled: config.eligible_leader_replicas_enabled,
            static_configs: config.static_configs.clone(),
            max_open_log_files: config.max_open_log_files.max(1),
            max_partition_replicas: config.max_partition_replicas,
        };
        let data_dir = config.data_dir.clone();
        let open_error = |message: String| BrokerError::Open { dir: data_dir.clone(), message };
        let cluster = tokio::task::spawn_blocking(move || Cluster::new(resolved))
            .await
            .map_err(|e| open_error(e.to_string()))?
            .map_err(|e| open_error(e.to_string()))?;
        let cluster = Arc::new(cluster);
        if let Err(error) = cluster.start_all(FORMATION_TIMEOUT).await {
            cluster.stop_all().await;
            return Err(match error {
                cluster::ClusterError::Io { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
                    BrokerError::Bind { addr: config.listen, source }
                }
                error => open_error(error.to_string()),
            });
        }
        let background = tokio::spawn(cluster.clone().run_background());
        tracing::info!(
            brokers = %cluster.brokers.values().map(|b| format!("{}={}", b.id, b.listen_addr())).collect::<Vec<_>>().join(" "),
            controllers = cluster.controllers.len(),
            cluster_id = %cluster.cluster_id,
            "Kafka cluster ready"
        );
        Ok(Broker { cluster, tasks: vec![background] })
    }

    /// Broker 1's listener: the bootstrap address.
    pub fn local_addr(&self) -> SocketAddr {
        self.cluster.brokers.values().next().map_or(self.cluster.config.listen, |b| b.listen_addr())
    }

    /// Every broker's id and listener.
    pub fn broker_addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.cluster.brokers.values().map(|b| (b.id, b.listen_addr())).collect()
    }

    /// A handle for the lab's node control (stop and start brokers and controllers).
    pub fn control(&self) -> ClusterControl {
        ClusterControl { cluster: self.cluster.clone() }
    }

    /// Stops every node and flushes.
    pub async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.cluster.stop_all().await;
    }
}

/// The lab's control over the cluster's nodes: what Kafka has no protocol for. Cheap to clone.
/// Everything else about the cluster is read through the Kafka protocol, as any client would.
#[derive(Debug, Clone)]
pub struct ClusterControl {
    cluster: Arc<Cluster>,
}

impl ClusterControl {
    /// Stops (crashes) broker `id`: its listener and connections close, unflushed state is gone.
    pub fn stop_broker(&self, id: i32) -> Result<(), NodeControlError> {
        let broker = self.cluster.brokers.get(&id).ok_or(NodeControlError::Unknown {
            kind: "broker",
            id,
            known: "brokers 1 and up",
        })?;
        if broker.stop(&self.cluster) { Ok(()) } else { Err(NodeControlError::AlreadyStopped { kind: "broker", id }) }
    }

    /// Starts broker `id` again: it recovers its logs and rejoins.
    pub async fn start_broker(&self, id: i32) -> Result<(), NodeControlError> {
        let broker = self.cluster.brokers.get(&id).ok_or(NodeControlError::Unknown {
            kind: "broker",
            id,
            known: "brokers 1 and up",
        })?;
        match broker.start(&self.cluster).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(NodeControlError::AlreadyRunning { kind: "broker", id }),
            Err(error) => {
                tracing::error!(%error, broker = id, "broker could not start");
                Err(NodeControlError::StartFailed { kind: "broker", id })
            }
        }
    }

    /// Stops (crashes) controller `id`.
    pub fn stop_controller(&self, id: NodeId) -> Result<(), NodeControlError> {
        let controller = self.cluster.controllers.get(&id).ok_or(NodeControlError::Unknown {
            kind: "controller",
            id,
            known: "controllers 3000 and up",
        })?;
        if controller.stop(&self.cluster) {
            Ok(())
        } else {
            Err(NodeControlError::AlreadyStopped { kind: "controller", id })
        }
    }

    /// Starts controller `id` again from its metadata log.
    pub fn start_controller(&self, id: NodeId) -> Result<(), NodeControlError> {
        let controller = self.cluster.controllers.get(&id).ok_or(NodeControlError::Unknown {
            kind: "controller",
            id,
            known: "controllers 3000 and up",
        })?;
        match controller.start(&self.cluster) {
            Ok(true) => Ok(()),
            Ok(false) => Err(NodeControlError::AlreadyRunning { kind: "controller", id }),
            Err(error) => {
                tracing::error!(%error, controller = id, "controller could not start");
                Err(NodeControlError::StartFailed { kind: "controller", id })
            }
        }
    }

    /// The controller that leads the quorum now (the active controller), if any.
    pub fn active_controller(&self) -> Option<NodeId> {
        self.cluster.active_controller().map(|c| c.id)
    }

    /// Which nodes run, with each broker's listener.
    pub fn nodes(&self) -> NodesStatus {
        NodesStatus {
            brokers: self.cluster.brokers.values().map(|b| (b.id, b.is_running())).collect(),
            controllers: self.cluster.controllers.values().map(|c| (c.id, c.is_running())).collect(),
        }
    }
}

/// Which nodes of the cluster run (for the lab's control API; the state of the cluster itself
/// is read through the Kafka protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodesStatus {
    /// (broker id, running).
    pub brokers: Vec<(i32, bool)>,
    /// (controller id, running).
    pub controllers: Vec<(NodeId, bool)>,
}

/// Replaces `path` with `bytes` atomically: a temporary file next to it, fsync, rename, fsync of
/// the directory. A crash leaves the old file or the new one, never a mix.
pub(crate) fn replace_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        // Best effort: some file systems refuse to fsync a directory.
        let _ = dir.sync_all();
    }
    Ok(())
}
