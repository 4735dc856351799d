//! A KRaft cluster in one process: the brokers and controllers, the in-process network between
//! them, and what they share (committed offsets, producer ids, group commit, retention).
//!
//! Each node is the core's own state machine ([`crate::core::broker::BrokerNode`],
//! [`crate::core::controller::node::ControllerNode`]) driven by a task of its own
//! ([`super::broker`], [`super::controller`]); nodes talk through the core's messages over
//! [`Router`], an in-process stand-in for the network: a message to a stopped node is lost, as
//! one sent to a crashed process would be. Clients reach the brokers through their Kafka
//! listeners, one port per broker.
//!
//! On disk, in the broker's data directory (`DATA_DIR/kafka/` under `streamlab serve`):
//!
//! - `broker-<id>/`: the broker's partition logs ([`super::storage`]) and `meta.properties`;
//! - `controller-<id>/`: the controller's copy of the metadata log ([`super::metadata_log`])
//!   and `meta.properties`;
//! - `consumer_offsets.jsonl`: committed offsets ([`super::offsets`]), shared by the brokers.
//!
//! Consumer groups are one coordinator for the whole cluster, reachable through any broker;
//! FindCoordinator names the first running broker, so clients move when it stops.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::core::node::NodeId;
use crate::core::replica::BrokerId;
use crate::log::{FileCache, LogError};

use super::ResolvedConfig;
use super::broker::BrokerHandle;
use super::controller::ControllerHandle;
use super::groups::Groups;
use super::metadata_log::MetaProperties;
use super::storage::{NodeMessage, SharedDirty};

/// Wall-clock milliseconds: the core's `now_ms` here, and record timestamps.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// [`now_ms`] as the core takes it.
pub(crate) fn core_now_ms() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
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

/// What a node receives: the sender and the message.
pub(crate) type Inbox = mpsc::UnboundedReceiver<(NodeId, NodeMessage)>;

/// The in-process network: each running node's inbox. Sending to a node that is not running
/// drops the message, like a connection to a crashed process.
#[derive(Debug, Default)]
pub(crate) struct Router {
    inboxes: Mutex<HashMap<NodeId, mpsc::UnboundedSender<(NodeId, NodeMessage)>>>,
}

impl Router {
    pub(crate) fn send(&self, from: NodeId, to: NodeId, message: NodeMessage) {
        self.try_send(from, to, message);
    }

    /// Sends like [`Router::send`]; `false` when `to` is not running, so the message is lost.
    pub(crate) fn try_send(&self, from: NodeId, to: NodeId, message: NodeMessage) -> bool {
        let inboxes = self.inboxes.lock().unwrap_or_else(|e| e.into_inner());
        // A closed inbox is a node stopping right now: the message is lost, as it should be.
        inboxes.get(&to).is_some_and(|inbox| inbox.send((from, message)).is_ok())
    }

    /// A node starts listening; returns its inbox.
    pub(crate) fn connect(&self, node: NodeId) -> Inbox {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.inboxes.lock().unwrap_or_else(|e| e.into_inner()).insert(node, sender);
        receiver
    }

    /// A node stopped: messages to it are lost from now on.
    pub(crate) fn disconnect(&self, node: NodeId) {
        self.inboxes.lock().unwrap_or_else(|e| e.into_inner()).remove(&node);
    }
}

/// Group commit: appends mark what they wrote in [`SharedDirty`]; the flusher fsyncs it all
/// and publishes how many rounds have completed. An acks=all produce or an offset commit waits
/// for the round that started after its write ([`Cluster::durable`]) and wakes the flusher, so
/// an idle log commits at once and a busy one batches: writes that arrive during an fsync share
/// the next one, which starts as soon as it ends. Every `flush_interval_ms` a round also runs
/// for writes nobody waits for (acks=1).
#[derive(Debug)]
pub(crate) struct GroupCommit {
    pub(crate) dirty: SharedDirty,
    completed: watch::Sender<u64>,
    /// Someone waits for a round: run one now (or right after the current one).
    wanted: tokio::sync::Notify,
}

/// The cluster. See the module documentation.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) config: ResolvedConfig,
    pub(crate) cluster_id: String,
    pub(crate) router: Router,
    pub(crate) brokers: BTreeMap<BrokerId, Arc<BrokerHandle>>,
    pub(crate) controllers: BTreeMap<NodeId, Arc<ControllerHandle>>,
    /// Consumer groups and their committed offsets.
    pub(crate) groups: Groups,
    /// The next producer id InitProducerId hands out. Seeded from the clock at start-up so ids
    /// are not reused across restarts.
    pub(crate) next_producer_id: AtomicI64,
    pub(crate) commit: GroupCommit,
    /// `queued.max.request.bytes`, in permits of one byte, shared by every broker's connections;
    /// `None`: unbounded. See [`super::connection`].
    pub(crate) request_budget: Option<RequestBudget>,
}

/// The bytes of requests in flight across connections (`queued.max.request.bytes`).
#[derive(Debug, Clone)]
pub(crate) struct RequestBudget {
    pub(crate) bytes: Arc<tokio::sync::Semaphore>,
    /// The whole budget: a frame larger than it waits for all of it instead of forever.
    pub(crate) total_bytes: usize,
}

impl Cluster {
    /// Builds the cluster's nodes (stopped) and what they share. The cluster id is the first
    /// controller's, or a new one for a new data directory.
    pub(crate) fn new(config: ResolvedConfig) -> Result<Cluster, ClusterError> {
        let dir = config.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| ClusterError::Io {
            context: format!("cannot create the data directory {}", dir.display()),
            source,
        })?;
        let controller_ids: Vec<NodeId> = config.controller_ids();
        let mut cluster_id = None;
        for id in config.broker_ids().into_iter().chain(controller_ids.iter().copied()) {
            if let Some(properties) = MetaProperties::read(&node_dir(&dir, id))? {
                match &cluster_id {
                    None => cluster_id = Some(properties.cluster_id),
                    Some(known) if *known != properties.cluster_id => {
                        return Err(ClusterError::Metadata {
                            path: node_dir(&dir, id),
                            message: format!(
                                "node {id} belongs to cluster {}, the others to {known}: one data directory holds one cluster",
                                properties.cluster_id
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        // Kafka's `kafka-storage random-uuid` is base64; 32 hex characters read better in a lesson.
        let cluster_id = cluster_id.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let dirty = SharedDirty::default();
        // One budget for the partition logs of every broker: they share the process's limit.
        let files = FileCache::new(config.max_open_log_files);
        let groups = Groups::open(&dir, config.group_initial_rebalance_delay_ms).map_err(|source| {
            ClusterError::Io { context: format!("cannot open committed offsets in {}", dir.display()), source }
        })?;
        let mut brokers = BTreeMap::new();
        for id in config.broker_ids() {
            let handle = BrokerHandle::new(id, &config, &dir, &cluster_id, dirty.clone(), files.clone())?;
            brokers.insert(id, Arc::new(handle));
        }
        let mut controllers = BTreeMap::new();
        for id in controller_ids {
            controllers.insert(id, Arc::new(ControllerHandle::new(id, &dir, &cluster_id)?));
        }
        Ok(Cluster {
            cluster_id,
            router: Router::default(),
            brokers,
            controllers,
            groups,
            next_producer_id: AtomicI64::new(now_ms()),
            commit: GroupCommit { dirty, completed: watch::channel(0).0, wanted: tokio::sync::Notify::new() },
            request_budget: config.queued_max_request_bytes.map(|total| {
                let total_bytes = total.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
                RequestBudget { bytes: Arc::new(tokio::sync::Semaphore::new(total_bytes)), total_bytes }
            }),
            config,
        })
    }

    /// Starts every node, then waits (up to `formation_timeout`) until every broker is
    /// registered, unfenced and caught up with the metadata log.
    pub(crate) async fn start_all(self: &Arc<Self>, formation_timeout: Duration) -> Result<(), ClusterError> {
        for controller in self.controllers.values() {
            controller.start(self)?;
        }
        for broker in self.brokers.values() {
            broker.start(self).await?;
        }
        let deadline = tokio::time::Instant::now() + formation_timeout;
        while !self.brokers.values().all(|b| b.is_ready()) {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    timeout_ms = formation_timeout.as_millis(),
                    "the cluster has not formed yet; serving anyway"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Stops every node: the brokers with a controlled shutdown, a last group-commit round,
    /// then the nodes themselves.
    pub(crate) async fn stop_all(self: &Arc<Self>) {
        for broker in self.brokers.values() {
            broker.controlled_shutdown(self).await;
        }
        self.flush_round().await;
        for broker in self.brokers.values() {
            broker.mark_clean_shutdown();
            broker.stop(self);
        }
        for controller in self.controllers.values() {
            controller.stop(self);
        }
        if let Err(error) = self.groups.flush() {
            tracing::error!(%error, "fsync of committed offsets failed");
        }
    }

    /// The running broker with the lowest id: the group coordinator, and the `controller_id`
    /// Metadata reports (KRaft clients cannot reach controllers; Kafka names a broker there too).
    pub(crate) fn first_running_broker(&self) -> Option<&Arc<BrokerHandle>> {
        self.brokers.values().find(|b| b.is_running())
    }

    /// The active controller, if one is running and leads.
    pub(crate) fn active_controller(&self) -> Option<&Arc<ControllerHandle>> {
        self.controllers.values().find(|c| c.is_active())
    }

    /// Records that the committed-offsets file has unflushed appends; returns the covering round.
    pub(crate) fn mark_offsets_dirty(&self) -> u64 {
        let mut dirty = self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner());
        dirty.offsets = true;
        dirty.rounds_started + 1
    }

    /// The flush round that will cover a write made before this call.
    pub(crate) fn next_round(&self) -> u64 {
        self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner()).rounds_started + 1
    }

    /// Resolves once flush round `round` has completed.
    pub(crate) async fn durable(&self, round: u64) {
        let mut completed = self.commit.completed.subscribe();
        if *completed.borrow() >= round {
            return;
        }
        self.commit.wanted.notify_one();
        // The sender lives as long as the cluster; an error means shutdown, and then waiting is moot.
        let _ = completed.wait_for(|&done| done >= round).await;
    }

    /// One group-commit round: fsync every partition and the offsets file written since the
    /// last round. Rounds run one at a time, so a round with nothing to write completes at once:
    /// whoever waits for it (a retried batch that wrote nothing) has everything durable already.
    pub(crate) async fn flush_round(self: &Arc<Self>) {
        let (partitions, offsets, round) = {
            let mut dirty = self.commit.dirty.lock().unwrap_or_else(|e| e.into_inner());
            if dirty.partitions.is_empty() && !dirty.offsets {
                if self.commit.completed.receiver_count() > 0 {
                    dirty.rounds_started += 1;
                    self.commit.completed.send_replace(dirty.rounds_started);
                }
                return;
            }
            dirty.rounds_started += 1;
            let offsets = std::mem::take(&mut dirty.offsets);
            (std::mem::take(&mut dirty.partitions), offsets, dirty.rounds_started)
        };
        // Take the files under each broker's lock, fsync them without it: producers keep appending.
        let mut work = Vec::new();
        for (broker_id, tp) in partitions {
            if let Some(broker) = self.brokers.get(&broker_id)
                && let Some(sync) = broker.take_sync_work(&tp)
            {
                work.push((broker_id, tp, sync));
            }
        }
        let cluster = self.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            if offsets && let Err(error) = cluster.groups.flush() {
                tracing::error!(%error, "fsync of committed offsets failed");
            }
            for (broker_id, tp, sync) in work {
                if let Err(error) = sync.and_then(|work| work.sync()) {
                    tracing::error!(%error, broker = broker_id, %tp, "fsync failed; the partition is offline until its broker restarts");
                    if let Some(broker) = cluster.brokers.get(&broker_id) {
                        broker.mark_offline(&tp);
                    }
                }
            }
        })
        .await;
        if let Err(error) = flushed {
            tracing::error!(%error, "flush task failed");
        }
        self.commit.completed.send_replace(round);
    }

    /// Runs group commit, retention and the group coordinator's timers until the process ends.
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
                () = self.commit.wanted.notified() => self.flush_round().await,
                _ = retention.tick() => {
                    for broker in self.brokers.values() {
                        broker.enforce_retention();
                    }
                }
                _ = groups.tick() => self.groups.tick(now_ms()),
            }
        }
    }
}

/// A node's directory: `broker-<id>` or `controller-<id>`.
pub(crate) fn node_dir(kafka_dir: &Path, id: NodeId) -> PathBuf {
    if crate::core::node::is_controller(id) {
        kafka_dir.join(format!("controller-{id}"))
    } else {
        kafka_dir.join(format!("broker-{id}"))
    }
}

/// Reads a node's `meta.properties`, or writes a new one (a new directory id, KIP-858), and
/// returns its directory id. A node id that differs from the file's is refused, as Kafka does.
pub(crate) fn node_properties(dir: &Path, node_id: NodeId, cluster_id: &str) -> Result<[u8; 16], ClusterError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| ClusterError::Io { context: format!("cannot create {}", dir.display()), source })?;
    match MetaProperties::read(dir)? {
        Some(properties) if properties.node_id != node_id => Err(ClusterError::Metadata {
            path: dir.join(super::metadata_log::META_PROPERTIES_FILE),
            message: format!(
                "Stored node id {} doesn't match previous node id {node_id}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.",
                properties.node_id
            ),
        }),
        Some(properties) => Ok(properties.directory_id),
        None => {
            let directory_id = *uuid::Uuid::new_v4().as_bytes();
            MetaProperties { cluster_id: cluster_id.to_owned(), node_id, directory_id }.write(dir)?;
            Ok(directory_id)
        }
    }
}
