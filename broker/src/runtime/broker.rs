//! One broker of the in-process cluster: the core's [`BrokerNode`] over disk logs, the task that
//! drives it, and its Kafka listener.
//!
//! The node sits behind one lock. Its driver task feeds it the messages other nodes send and
//! wakes it at its next deadline (quinn's `poll_timeout` contract); the connection tasks call it
//! for their clients' produces and read from it for fetches and metadata. Whatever a call puts
//! in the [`Outbox`] is carried out at once, under the same lock: messages go to the
//! [`super::cluster::Router`], produce answers to the waiting connection, events to the log.
//!
//! Stopping a broker is a crash: the driver, the listener and every connection end at once,
//! the node and its open files are dropped, and nothing is flushed on the way out. Starting it
//! again recovers its logs from disk and rejoins the cluster as a new incarnation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, oneshot, watch};
use tokio::task::JoinHandle;

use crate::core::ErrorCode;
use crate::core::broker::storage::ReplicaLog;
use crate::core::broker::{BrokerNode, BrokerSettings, BrokerStart};
use crate::core::event::EventKind;
use crate::core::message::{Message, TopicPartition};
use crate::core::node::{CLIENT, NodeId, Outbox};
use crate::core::quorum::{DurableState, QuorumConfig};
use crate::core::replica::BrokerId;
use crate::log::{CleanedLog, FileCache, LogError, LogToClean, SyncWork};

use super::ResolvedConfig;
use super::cluster::{Cluster, ClusterError, Inbox, core_now_ms, node_dir, node_properties, now_ms};
use super::per_address::{ConnectionsPerIp, RefusalLog};
use super::storage::{BatchPayload, DiskStorage, NodeMessage, SharedDirty, write_high_watermarks};

/// The core's broker over this runtime's logs.
pub(crate) type DiskBroker = BrokerNode<DiskStorage>;

/// A produce's answer: the error (or none) and the base offset.
/// A produce's error, base offset and LogAppendTime (-1 for CreateTime topics).
pub(crate) type ProduceAnswer = (ErrorCode, i64, i64);

/// One broker. See the module documentation.
#[derive(Debug)]
pub(crate) struct BrokerHandle {
    pub(crate) id: BrokerId,
    /// Where it listens; port 0 is resolved at the first start and kept for restarts.
    listen: Mutex<SocketAddr>,
    /// What Metadata tells clients (`advertised.listeners`); `None`: the listener's address.
    advertised: Option<(String, u16)>,
    dir: PathBuf,
    /// KIP-858's `directory.id` of this broker's log directory.
    pub(crate) directory_id: [u8; 16],
    dirty: SharedDirty,
    /// The cluster's budget of open log files.
    files: FileCache,
    settings: BrokerSettings,
    /// `log.cleaner.*`: how this broker's cleaner runs.
    cleaner: CleanerSettings,
    quorum_config: QuorumConfig,
    max_connections: usize,
    max_connections_per_ip: usize,
    state: Mutex<BrokerState>,
    /// Woken when a high watermark advanced or leadership changed: fetches waiting for data.
    pub(crate) appended: Notify,
    /// Wakes the driver to recompute its next deadline after a client call changed it.
    wake: Notify,
    running: Mutex<Option<Running>>,
}

#[derive(Debug, Default)]
struct BrokerState {
    /// `None` while the broker is stopped.
    node: Option<DiskBroker>,
    produces: HashMap<u64, oneshot::Sender<ProduceAnswer>>,
    admin: HashMap<u64, oneshot::Sender<ErrorCode>>,
    next_request_id: u64,
    /// When the timers last ran, so a deadline that does not move cannot spin the driver.
    last_tick_ms: u64,
}

#[derive(Debug)]
struct Running {
    tasks: Vec<JoinHandle<()>>,
    /// Set when the broker stops: its connections close.
    stopped: watch::Sender<bool>,
}

/// An admin request sent to the active controller: its answer arrives on `answer`.
#[derive(Debug)]
pub(crate) struct AdminRequest {
    pub(crate) request_id: u64,
    /// The controller it went to.
    pub(crate) controller: NodeId,
    pub(crate) answer: oneshot::Receiver<ErrorCode>,
}

impl BrokerHandle {
    pub(crate) fn new(
        id: BrokerId,
        config: &ResolvedConfig,
        kafka_dir: &std::path::Path,
        cluster_id: &str,
        dirty: SharedDirty,
        files: FileCache,
    ) -> Result<BrokerHandle, ClusterError> {
        let dir = node_dir(kafka_dir, id);
        let directory_id = node_properties(&dir, id, cluster_id)?;
        let offset = u16::try_from(id - 1).unwrap_or(0);
        let mut listen = config.listen;
        if listen.port() != 0 {
            listen.set_port(listen.port().saturating_add(offset));
        }
        let advertised = config.advertised.clone().map(|(host, port)| (host, port.saturating_add(offset)));
        let settings = BrokerSettings {
            replica_lag_time_max_ms: config.replica_lag_time_max_ms,
            // Kafka's 2 s heartbeats against its 9 s session; with a shorter session (a lab
            // that wants quick failover), a quarter of it, so a busy moment does not fence a
            // healthy broker.
            broker_heartbeat_interval_ms: (config.broker_session_timeout_ms / 4).clamp(10, 2_000),
            // Kafka's replica.fetch.max.bytes.
            replica_fetch_max: 1024 * 1024,
            // Kafka's BrokerLifecycleManager while the broker starts.
            fenced_heartbeat_interval_ms: 10,
            static_configs: config.static_configs.clone(),
            ..BrokerSettings::default()
        };
        Ok(BrokerHandle {
            id,
            listen: Mutex::new(listen),
            advertised,
            dir,
            directory_id,
            dirty,
            files,
            settings,
            cleaner: CleanerSettings {
                enable: config.log_cleaner_enable,
                backoff_ms: config.log_cleaner_backoff_ms,
                dedupe_buffer_bytes: config.log_cleaner_dedupe_buffer_bytes,
            },
            quorum_config: QuorumConfig { voters: config.controller_ids(), ..QuorumConfig::default() },
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
            state: Mutex::new(BrokerState::default()),
            appended: Notify::new(),
            wake: Notify::new(),
            running: Mutex::new(None),
        })
    }

    fn state(&self) -> MutexGuard<'_, BrokerState> {
        // A panic under the lock is a bug; the logs' own invariants (CRC-checked batches, offsets
        // assigned only after a successful write) hold regardless, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The listener's address (after the first start, with its port resolved).
    pub(crate) fn listen_addr(&self) -> SocketAddr {
        *self.listen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The host and port Metadata hands out for this broker.
    pub(crate) fn advertised(&self) -> (String, u16) {
        self.advertised.clone().unwrap_or_else(|| {
            let addr = self.listen_addr();
            (addr.ip().to_string(), addr.port())
        })
    }

    pub(crate) fn is_running(&self) -> bool {
        self.state().node.is_some()
    }

    /// Running, registered, unfenced and caught up with the metadata.
    pub(crate) fn is_ready(&self) -> bool {
        self.state().node.as_ref().is_some_and(|node| node.is_ready())
    }

    /// Binds the listener, recovers the logs, and starts the node, its driver and its listener.
    /// `Ok(false)` if it was running already.
    pub(crate) async fn start(self: &Arc<Self>, cluster: &Arc<Cluster>) -> Result<bool, ClusterError> {
        if self.is_running() {
            return Ok(false);
        }
        let addr = self.listen_addr();
        let listener = bind_after_stop(addr).await.map_err(|source| ClusterError::Io {
            context: format!(
                "broker {} cannot listen on {addr} (is another broker using it? choose another address with --kafka)",
                self.id
            ),
            source,
        })?;
        if let Ok(bound) = listener.local_addr() {
            *self.listen.lock().unwrap_or_else(|e| e.into_inner()) = bound;
        }
        let storage = DiskStorage::new(self.id, self.dir.clone(), self.dirty.clone(), self.files.clone());
        let opened = tokio::task::spawn_blocking(move || storage.open_existing(now_ms()).map(|logs| (storage, logs)))
            .await
            .map_err(|e| ClusterError::Io {
                context: "log recovery panicked".into(),
                source: std::io::Error::other(e.to_string()),
            })??;
        let (storage, logs) = opened;
        let previous_broker_epoch = take_clean_shutdown(&self.dir);
        let logs: BTreeMap<TopicPartition, _> = logs.into_iter().collect();
        let incarnation_id = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let now = core_now_ms();
        let node = BrokerNode::new(
            self.id,
            incarnation_id,
            self.quorum_config.clone(),
            BrokerStart { metadata: DurableState::default(), storage, logs, previous_broker_epoch },
            self.settings.clone(),
            now,
            incarnation_id,
        );
        {
            let mut state = self.state();
            state.node = Some(node);
            state.last_tick_ms = 0;
        }
        let inbox = cluster.router.connect(self.id);
        let (stopped, stopped_receiver) = watch::channel(false);
        let driver = tokio::spawn(drive(cluster.clone(), self.clone(), inbox));
        let accept = tokio::spawn(accept_loop(listener, cluster.clone(), self.clone(), stopped_receiver));
        let checkpoint_interval = Duration::from_millis(cluster.config.replica_high_watermark_checkpoint_interval_ms);
        let mut tasks =
            vec![driver, accept, tokio::spawn(checkpoint_high_watermarks(self.clone(), checkpoint_interval))];
        if self.cleaner.enable {
            tasks.push(tokio::spawn(run_cleaner(self.clone())));
        }
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(Running { tasks, stopped });
        tracing::info!(broker = self.id, listen = %self.listen_addr(), "broker started");
        Ok(true)
    }

    /// Crashes the broker: see the module documentation. `false` if it was not running.
    pub(crate) fn stop(&self, cluster: &Cluster) -> bool {
        cluster.router.disconnect(self.id);
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(running) = &running {
            for task in &running.tasks {
                task.abort();
            }
            running.stopped.send_replace(true);
        }
        let mut state = self.state();
        let was_running = state.node.take().is_some();
        // Waiting connections are being closed; their answers go nowhere.
        state.produces.clear();
        state.admin.clear();
        drop(state);
        self.appended.notify_waiters();
        if was_running {
            tracing::info!(broker = self.id, "broker stopped");
        }
        was_running
    }

    /// Kafka's controlled shutdown: asks the controller to fence this broker and move its
    /// leadership away, and waits (a little) until it has. A broker stopped this way may
    /// register again at once when it restarts; a crashed one waits for its old session to expire.
    pub(crate) async fn controlled_shutdown(&self, cluster: &Cluster) {
        {
            let mut state = self.state();
            let mut out = Outbox::default();
            let Some(node) = state.node.as_mut() else { return };
            node.begin_controlled_shutdown(&mut out);
            self.dispatch(cluster, &mut state, out);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while self.is_ready() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Every partition's high watermark on this broker, `None` while it is stopped.
    fn high_watermarks(&self) -> Option<Vec<(TopicPartition, i64)>> {
        self.with_node(|node| node.logs.iter().map(|(tp, log)| (tp.clone(), log.high_watermark())).collect())
    }

    /// After a controlled shutdown and a last flush: checkpoints the high watermarks and
    /// records the broker epoch this incarnation stopped cleanly in, so the next start can
    /// prove it to the controller (KIP-966's PreviousBrokerEpoch) and stay in the ELRs it is in.
    pub(crate) fn mark_clean_shutdown(&self) {
        if let Some(high_watermarks) = self.high_watermarks()
            && let Err(error) = write_high_watermarks(&self.dir, &high_watermarks)
        {
            tracing::warn!(broker = self.id, %error, "could not checkpoint the high watermarks");
        }
        let Some(broker_epoch) = self.with_node(|node| node.broker_epoch).filter(|&epoch| epoch >= 0) else { return };
        let text = format!("{{\"version\":0,\"brokerEpoch\":{broker_epoch}}}");
        let temporary = self.dir.join(format!("{CLEAN_SHUTDOWN_FILE}.tmp"));
        let written = std::fs::write(&temporary, text)
            .and_then(|()| std::fs::File::open(&temporary)?.sync_all())
            .and_then(|()| std::fs::rename(&temporary, self.dir.join(CLEAN_SHUTDOWN_FILE)))
            .and_then(|()| std::fs::File::open(&self.dir)?.sync_all());
        if let Err(error) = written {
            // The next start then counts as after a crash: safe, only less convenient.
            tracing::warn!(broker = self.id, %error, "could not record the clean shutdown");
        }
    }

    /// Reads the node (metadata, logs) under its lock; `None` while stopped.
    pub(crate) fn with_node<T>(&self, read: impl FnOnce(&DiskBroker) -> T) -> Option<T> {
        self.state().node.as_ref().map(read)
    }

    /// Produce for one partition: the node decides and appends; the answer comes through the
    /// returned receiver (none for acks=0). Also returns the group-commit round that covers the
    /// append, which an acks=all answer waits for.
    pub(crate) fn produce(
        &self,
        cluster: &Cluster,
        tp: TopicPartition,
        acks: i16,
        records: &Bytes,
    ) -> Result<(Option<oneshot::Receiver<ProduceAnswer>>, u64), ErrorCode> {
        let mut state = self.state();
        let request_id = state.next_request_id;
        state.next_request_id += 1;
        let receiver = (acks != 0).then(|| {
            let (sender, receiver) = oneshot::channel();
            state.produces.insert(request_id, sender);
            receiver
        });
        let mut out = Outbox::default();
        let Some(node) = state.node.as_mut() else { return Err(ErrorCode::NotLeaderOrFollower) };
        node.produce(core_now_ms(), CLIENT, request_id, tp, acks, records, &mut out);
        let round = cluster.next_round();
        self.dispatch(cluster, &mut state, out);
        drop(state);
        self.wake.notify_one();
        Ok((receiver, round))
    }

    /// Sends an admin request to the active controller; the receiver gets its error code.
    pub(crate) fn admin(
        &self,
        cluster: &Cluster,
        request: impl FnOnce(u64) -> NodeMessage,
    ) -> Result<AdminRequest, ErrorCode> {
        let mut state = self.state();
        let controller = state.node.as_ref().ok_or(ErrorCode::NotController)?.quorum.leader_id();
        let controller = controller.ok_or(ErrorCode::NotController)?;
        let request_id = state.next_request_id;
        state.next_request_id += 1;
        let (sender, answer) = oneshot::channel();
        state.admin.insert(request_id, sender);
        drop(state);
        if !cluster.router.try_send(self.id, controller, request(request_id)) {
            // This broker's metadata still names a controller that has stopped.
            self.abandon_admin(request_id);
            return Err(ErrorCode::NotController);
        }
        Ok(AdminRequest { request_id, controller, answer })
    }

    /// Forgets an admin request whose answer will never come (its controller stopped or resigned).
    pub(crate) fn abandon_admin(&self, request_id: u64) {
        self.state().admin.remove(&request_id);
    }

    /// A message from another node.
    fn deliver(&self, cluster: &Cluster, from: NodeId, message: NodeMessage) {
        let mut state = self.state();
        let admin_answer = match &message {
            Message::CreateTopicResponse { request_id, error }
            | Message::AlterConfigResponse { request_id, error }
            | Message::CreatePartitionsResponse { request_id, error }
            | Message::ElectLeaderResponse { request_id, error }
            | Message::DeleteTopicResponse { request_id, error } => Some((*request_id, *error)),
            _ => None,
        };
        if let Some((request_id, error)) = admin_answer {
            if let Some(waiting) = state.admin.remove(&request_id) {
                let _ = waiting.send(error);
            }
            return;
        }
        let mut out = Outbox::default();
        let Some(node) = state.node.as_mut() else { return };
        let roles_before = node.partitions.len();
        node.handle(core_now_ms(), from, message, &mut out);
        let roles_changed = node.partitions.len() != roles_before;
        self.dispatch(cluster, &mut state, out);
        if roles_changed {
            self.appended.notify_waiters();
        }
    }

    /// The node's timers.
    fn tick(&self, cluster: &Cluster) {
        let mut state = self.state();
        let now = core_now_ms();
        state.last_tick_ms = now;
        let mut out = Outbox::default();
        let Some(node) = state.node.as_mut() else { return };
        node.tick(now, &mut out);
        self.dispatch(cluster, &mut state, out);
    }

    /// When the driver must tick next: never twice for one millisecond.
    fn next_deadline_ms(&self) -> Option<u64> {
        let state = self.state();
        let deadline = state.node.as_ref()?.next_deadline_ms()?;
        Some(deadline.max(state.last_tick_ms + 1))
    }

    /// Carries out what the node asked for.
    fn dispatch(&self, cluster: &Cluster, state: &mut BrokerState, out: Outbox<BatchPayload>) {
        for (from, to, message) in out.messages {
            if to == CLIENT {
                if let Message::ProduceResponse { request_id, error, base_offset, log_append_time_ms, .. } = message
                    && let Some(waiting) = state.produces.remove(&request_id)
                {
                    let _ = waiting.send((error, base_offset, log_append_time_ms));
                }
            } else {
                cluster.router.send(from, to, message);
            }
        }
        for event in out.events {
            match event.kind {
                EventKind::Produced { .. } => tracing::trace!(broker = self.id, "{}", event.kind),
                kind => tracing::info!(broker = self.id, "{kind}"),
            }
        }
        if !out.high_watermark_advances.is_empty() {
            self.appended.notify_waiters();
        }
    }

    /// The files of `tp`'s log that need an fsync (group commit).
    pub(crate) fn take_sync_work(&self, tp: &TopicPartition) -> Option<Result<SyncWork, LogError>> {
        let mut state = self.state();
        let log = state.node.as_mut()?.logs.get_mut(tp)?;
        Some(log.log.take_sync_work())
    }

    /// An fsync failed: the log refuses everything until the broker restarts and recovers it.
    pub(crate) fn mark_offline(&self, tp: &TopicPartition) {
        let mut state = self.state();
        if let Some(log) = state.node.as_mut().and_then(|node| node.logs.get_mut(tp)) {
            log.log.mark_offline();
        }
    }

    /// Deletes segments past `retention.ms` / `retention.bytes`.
    pub(crate) fn enforce_retention(&self) {
        let now = now_ms();
        let mut state = self.state();
        let Some(node) = state.node.as_mut() else { return };
        for (tp, log) in &mut node.logs {
            match log.log.enforce_retention(now) {
                Ok(0) => {}
                Ok(deleted) => {
                    let log_start_offset = log.log.log_start_offset();
                    tracing::info!(broker = self.id, %tp, deleted, log_start_offset, "retention deleted segments");
                }
                Err(error) => tracing::error!(%error, broker = self.id, %tp, "retention failed"),
            }
        }
    }
}

/// Sets its flag when dropped.
struct AbortOnDrop(Arc<AtomicBool>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// `log.cleaner.*` of one broker.
#[derive(Debug, Clone, Copy)]
struct CleanerSettings {
    enable: bool,
    backoff_ms: u64,
    dedupe_buffer_bytes: usize,
}

/// What the cleaner task found when it looked for work.
enum CleanerPick {
    /// Clean this log now.
    Clean(TopicPartition, LogToClean),
    /// Nothing is due; time alone may make a log due at this wall-clock time.
    Idle { next_check_ms: Option<i64> },
}

impl BrokerHandle {
    /// Kafka `LogCleanerManager.grabFilthiestCompactedLog`: the due compacted log with the
    /// highest dirty ratio, skipping `uncleanable` ones (a clean failed on them).
    fn grab_filthiest_compacted_log(&self, uncleanable: &HashSet<TopicPartition>) -> CleanerPick {
        let now = now_ms();
        let state = self.state();
        let Some(node) = state.node.as_ref() else { return CleanerPick::Idle { next_check_ms: None } };
        let mut filthiest: Option<(TopicPartition, LogToClean)> = None;
        let mut next_check_ms: Option<i64> = None;
        for (tp, log) in node.logs.iter().filter(|(tp, _)| !uncleanable.contains(*tp)) {
            let to_clean = match log.log_to_clean(now) {
                Ok(Some(to_clean)) => to_clean,
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(%error, broker = self.id, %tp, "cannot measure a log's dirtiness");
                    continue;
                }
            };
            if let Some(at) = to_clean.next_check_ms {
                next_check_ms = Some(next_check_ms.map_or(at, |next| next.min(at)));
            }
            let dirtier =
                filthiest.as_ref().is_none_or(|(_, best)| to_clean.cleanable_ratio() > best.cleanable_ratio());
            if to_clean.is_due() && dirtier {
                filthiest = Some((tp.clone(), to_clean));
            }
        }
        match filthiest {
            Some((tp, to_clean)) => CleanerPick::Clean(tp, to_clean),
            None => CleanerPick::Idle { next_check_ms },
        }
    }

    /// Swaps a finished clean in, if the partition is still here.
    fn replace_cleaned(&self, tp: &TopicPartition, cleaned: CleanedLog) {
        let stats = cleaned.stats.clone();
        let mut state = self.state();
        let Some(log) = state.node.as_mut().and_then(|node| node.logs.get_mut(tp)) else {
            cleaned.discard();
            return;
        };
        match log.replace_cleaned(cleaned, now_ms()) {
            Ok(segments) => tracing::info!(
                broker = self.id,
                %tp,
                segments,
                bytes_read = stats.bytes_read,
                bytes_written = stats.bytes_written,
                records_retained = stats.records_retained,
                records_read = stats.records_read,
                "log cleaner compacted segments"
            ),
            Err(error) => tracing::error!(%error, broker = self.id, %tp, "swapping cleaned segments in failed"),
        }
    }
}

/// The broker's log cleaner (Kafka's `CleanerThread`, one per broker): cleans the dirtiest due
/// compacted log, then looks again; when none is due it sleeps until a compaction lag passes or
/// `log.cleaner.backoff.ms`, whichever is sooner (a produce may make a log due meanwhile, and
/// Kafka's cleaner backs off the same way). The clean itself runs on a blocking thread, without
/// the broker's lock; only the swap takes it.
async fn run_cleaner(broker: Arc<BrokerHandle>) {
    let settings = broker.cleaner;
    let mut uncleanable = HashSet::new();
    // Set when this task is dropped (the broker stops): a clean on its blocking thread gives up.
    let aborted = AbortOnDrop(Arc::new(AtomicBool::new(false)));
    loop {
        match broker.grab_filthiest_compacted_log(&uncleanable) {
            CleanerPick::Clean(tp, to_clean) => {
                let now = now_ms();
                let flag = aborted.0.clone();
                let cleaned = tokio::task::spawn_blocking(move || {
                    to_clean.clean_unless_aborted(now, settings.dedupe_buffer_bytes, &flag)
                })
                .await;
                // Kafka marks a partition whose clean failed uncleanable until the broker
                // restarts; an I/O error (the topic deleted meanwhile, say) is only retried later.
                match cleaned {
                    Ok(Ok(cleaned)) => {
                        broker.replace_cleaned(&tp, cleaned);
                        continue;
                    }
                    Ok(Err(error @ LogError::Io { .. })) => {
                        tracing::warn!(%error, broker = broker.id, %tp, "log cleaning failed; retrying later");
                    }
                    Ok(Err(error)) => {
                        tracing::error!(%error, broker = broker.id, %tp, "log cleaning failed; the partition stays uncompacted");
                        uncleanable.insert(tp);
                    }
                    Err(error) => {
                        tracing::error!(%error, broker = broker.id, %tp, "the log cleaner panicked");
                        uncleanable.insert(tp);
                    }
                }
                tokio::time::sleep(Duration::from_millis(settings.backoff_ms)).await;
            }
            CleanerPick::Idle { next_check_ms } => {
                let now = now_ms();
                let until_next_ms = next_check_ms.map_or(u64::MAX, |at| u64::try_from(at - now).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(until_next_ms.clamp(1, settings.backoff_ms))).await;
            }
        }
    }
}

/// Feeds the node what other nodes send, and runs its timers at its next deadline.
async fn drive(cluster: Arc<Cluster>, broker: Arc<BrokerHandle>, mut inbox: Inbox) {
    loop {
        let sleep_ms = broker.next_deadline_ms().map_or(60_000, |deadline| deadline.saturating_sub(core_now_ms()));
        tokio::select! {
            received = inbox.recv() => match received {
                Some((from, message)) => broker.deliver(&cluster, from, message),
                None => return,
            },
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => broker.tick(&cluster),
            () = broker.wake.notified() => {}
        }
    }
}

/// Kafka's `ReplicaManager.checkpointHighWatermarks` on its schedule: writes the broker's high
/// watermarks every `interval` while they change (an idle broker writes nothing). Aborted with
/// the broker's other tasks when it stops.
async fn checkpoint_high_watermarks(broker: Arc<BrokerHandle>, interval: Duration) {
    let mut written: Option<Vec<(TopicPartition, i64)>> = None;
    loop {
        tokio::time::sleep(interval).await;
        let Some(high_watermarks) = broker.high_watermarks() else { continue };
        if written.as_ref() == Some(&high_watermarks) {
            continue;
        }
        let (dir, checkpoint) = (broker.dir.clone(), high_watermarks.clone());
        match tokio::task::spawn_blocking(move || write_high_watermarks(&dir, &checkpoint)).await {
            Ok(Ok(())) => written = Some(high_watermarks),
            // The next round tries again; until one succeeds a restart waits for its followers.
            Ok(Err(error)) => tracing::warn!(broker = broker.id, %error, "could not checkpoint the high watermarks"),
            Err(_) => return,
        }
    }
}

/// Binds the broker's listener. Right after a stop, the aborted accept task may not have
/// dropped the old listener yet (an abort takes effect at the task's next poll): a start that
/// follows a stop at once retries for a moment instead of failing with "address in use".
async fn bind_after_stop(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        match TcpListener::bind(addr).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            bound => return bound,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    cluster: Arc<Cluster>,
    broker: Arc<BrokerHandle>,
    stopped: watch::Receiver<bool>,
) {
    // Like Kafka's broker, take clients only once registered, unfenced and caught up with the
    // metadata — and, at start-up, once the other brokers are too, so that the first client
    // sees the whole cluster (or after a while without a controller, so a learner sees errors,
    // not a hang).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let formed = |cluster: &Cluster| cluster.brokers.values().all(|b| !b.is_running() || b.is_ready());
    while !(broker.is_ready() && formed(&cluster)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // max.connections: while every slot is taken, stop accepting (Kafka's acceptor waits for a
    // slot too); new clients wait in the listen backlog.
    let permits = Arc::new(Semaphore::new(broker.max_connections.max(1)));
    let per_ip = ConnectionsPerIp::default();
    let mut refusals = RefusalLog::default();
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        match listener.accept().await {
            Ok((stream, peer)) => {
                // max.connections.per.ip: "New connections from the ip address are dropped if
                // the limit is reached" (Kafka's broker configs). Dropping the stream closes it.
                let Some(slot) = per_ip.take(peer.ip(), broker.max_connections_per_ip) else {
                    drop(stream);
                    if let Some(refused) = refusals.refused(tokio::time::Instant::now()) {
                        tracing::warn!(
                            broker = broker.id,
                            %peer,
                            refused,
                            max_connections_per_ip = broker.max_connections_per_ip,
                            "refused connections from an address that has too many already"
                        );
                    }
                    continue;
                };
                let (cluster, broker, mut stopped) = (cluster.clone(), broker.clone(), stopped.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = super::connection::serve(cluster, broker, stream, peer) => {}
                        // The broker crashed: the connection goes with it.
                        _ = stopped.wait_for(|stopped| *stopped) => {}
                    }
                    drop((slot, permit));
                });
            }
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Kafka's clean-shutdown file in a broker's log directory: `{"version":0,"brokerEpoch":N}`.
const CLEAN_SHUTDOWN_FILE: &str = ".kafka_cleanshutdown";

/// The broker epoch of the clean shutdown recorded in `dir`, or -1 (a crash, or no file). The
/// file is removed as it is read, so a crash of this incarnation is not taken for clean.
fn take_clean_shutdown(dir: &std::path::Path) -> i64 {
    let path = dir.join(CLEAN_SHUTDOWN_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else { return -1 };
    let epoch = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| value.get("brokerEpoch")?.as_i64())
        .unwrap_or(-1);
    if let Err(error) = std::fs::remove_file(&path).and_then(|()| std::fs::File::open(dir)?.sync_all()) {
        tracing::warn!(%error, path = %path.display(), "could not remove the clean-shutdown file; counting this start as after a crash");
        return -1;
    }
    epoch
}
