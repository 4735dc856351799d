//! One KRaft controller of the in-process cluster: the core's [`ControllerNode`] (a voter of
//! the metadata quorum, and the active controller while it leads), its log on disk, and the task
//! that drives it.
//!
//! After every input the node's quorum state is made durable ([`QuorumStore::sync`]) before any
//! of its messages leave (Raft: a vote or an entry is on disk before anyone hears of it). A
//! stop is a crash, as for a broker: the node is dropped; a start reads its log back.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::core::controller::ControllerConfig;
use crate::core::controller::node::ControllerNode;
use crate::core::node::{NodeId, Outbox};
use crate::core::quorum::QuorumConfig;

use super::cluster::{Cluster, ClusterError, Inbox, core_now_ms, node_dir, node_properties, now_ms};
use super::metadata_log::{QuorumDescription, QuorumStore, describe};
use super::storage::{BatchPayload, NodeMessage};

#[derive(Debug)]
pub(crate) struct ControllerHandle {
    pub(crate) id: NodeId,
    dir: PathBuf,
    /// KIP-858's `directory.id` of this controller's metadata log directory.
    pub(crate) directory_id: [u8; 16],
    state: Mutex<Option<Running>>,
    driver: Mutex<Option<JoinHandle<()>>>,
    wake: Notify,
}

#[derive(Debug)]
struct Running {
    node: ControllerNode<BatchPayload>,
    store: QuorumStore,
    last_tick_ms: u64,
}

impl ControllerHandle {
    pub(crate) fn new(id: NodeId, kafka_dir: &std::path::Path, cluster_id: &str) -> Result<Self, ClusterError> {
        let dir = node_dir(kafka_dir, id);
        let directory_id = node_properties(&dir, id, cluster_id)?;
        Ok(ControllerHandle {
            id,
            dir,
            directory_id,
            state: Mutex::new(None),
            driver: Mutex::new(None),
            wake: Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, Option<Running>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_running(&self) -> bool {
        self.state().is_some()
    }

    /// Leads the quorum and acts as the active controller.
    pub(crate) fn is_active(&self) -> bool {
        self.state().as_ref().is_some_and(|running| running.node.is_active())
    }

    /// The quorum as DescribeQuorum reports it, from this voter's state.
    pub(crate) fn describe_quorum(&self) -> Option<QuorumDescription> {
        self.state().as_ref().map(|running| describe(&running.node.quorum, core_now_ms()))
    }

    /// Reads the metadata log back and starts the node and its driver. `Ok(false)` if it was
    /// running already.
    pub(crate) fn start(self: &Arc<Self>, cluster: &Arc<Cluster>) -> Result<bool, ClusterError> {
        if self.is_running() {
            return Ok(false);
        }
        let voters = cluster.config.controller_ids();
        let (store, durable) = QuorumStore::open(&self.dir, voters.clone(), now_ms())?;
        let now = core_now_ms();
        let seed = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let controller_config = ControllerConfig {
            broker_session_timeout_ms: cluster.config.broker_session_timeout_ms,
            metadata_max_idle_interval_ms: cluster.config.metadata_max_idle_interval_ms,
            leader_imbalance_check_interval_ms: cluster.config.leader_imbalance_check_interval_ms,
            eligible_leader_replicas_enabled: cluster.config.eligible_leader_replicas_enabled,
            static_configs: cluster.config.static_configs.clone(),
            max_partition_replicas: Some(u64::from(cluster.config.max_partition_replicas)),
        };
        let quorum_config = QuorumConfig { voters, ..QuorumConfig::default() };
        let node = ControllerNode::new(self.id, quorum_config, durable, controller_config, now, seed);
        let mut running = Running { node, store, last_tick_ms: 0 };
        // A sole voter elects itself as it starts: that vote is durable before it acts on it.
        running.store.sync(&running.node.quorum)?;
        *self.state() = Some(running);
        let inbox = cluster.router.connect(self.id);
        let driver = tokio::spawn(drive(cluster.clone(), self.clone(), inbox));
        *self.driver.lock().unwrap_or_else(|e| e.into_inner()) = Some(driver);
        tracing::info!(controller = self.id, "controller started");
        Ok(true)
    }

    /// Crashes the controller. `false` if it was not running.
    pub(crate) fn stop(&self, cluster: &Cluster) -> bool {
        cluster.router.disconnect(self.id);
        if let Some(driver) = self.driver.lock().unwrap_or_else(|e| e.into_inner()).take() {
            driver.abort();
        }
        let was_running = self.state().take().is_some();
        if was_running {
            tracing::info!(controller = self.id, "controller stopped");
        }
        was_running
    }

    /// Runs one input (a message, or the timers with `None`), persists, then sends.
    fn step(&self, cluster: &Cluster, input: Option<(NodeId, NodeMessage)>) {
        let mut state = self.state();
        let Some(running) = state.as_mut() else { return };
        let now = core_now_ms();
        let mut out = Outbox::<BatchPayload>::default();
        match input {
            Some((from, message)) => running.node.handle(now, from, message, &mut out),
            None => {
                running.last_tick_ms = now;
                running.node.tick(now, &mut out);
            }
        }
        if let Err(error) = running.store.sync(&running.node.quorum) {
            // A controller that cannot make its votes and entries durable must not speak: it
            // stops, as Kafka's controller exits on a metadata log write failure.
            tracing::error!(%error, controller = self.id, "cannot write the metadata log; the controller stops");
            drop(state);
            self.stop(cluster);
            return;
        }
        drop(state);
        for (from, to, message) in out.messages {
            cluster.router.send(from, to, message);
        }
        for event in out.events {
            tracing::info!(controller = self.id, "{}", event.kind);
        }
    }

    fn next_deadline_ms(&self) -> Option<u64> {
        let state = self.state();
        let running = state.as_ref()?;
        Some(running.node.next_deadline_ms()?.max(running.last_tick_ms + 1))
    }
}

async fn drive(cluster: Arc<Cluster>, controller: Arc<ControllerHandle>, mut inbox: Inbox) {
    // Whatever the node queued while it was built (a sole voter's election) goes out first.
    controller.step(&cluster, None);
    loop {
        let sleep_ms = controller.next_deadline_ms().map_or(60_000, |deadline| deadline.saturating_sub(core_now_ms()));
        tokio::select! {
            received = inbox.recv() => match received {
                Some(input) => controller.step(&cluster, Some(input)),
                None => return,
            },
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => controller.step(&cluster, None),
            () = controller.wake.notified() => {}
        }
    }
}
