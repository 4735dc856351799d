//! A KRaft broker: follows the metadata log as a quorum observer, registers and heart-beats to
//! the active controller, and leads or follows its partitions as the metadata says.
//!
//! Leaders take produce requests and answer follower fetches; followers fetch from their leader,
//! append what they get and truncate a diverging tail (KIP-279/KIP-320). The offsets, ISR and
//! high watermark bookkeeping is the core's [`PartitionReplica`]; this file adds the messages.
//! The logs are the driver's ([`storage`]): in memory in the simulator, segment files in the
//! runtime, so both run this same replication code.

pub mod storage;

use std::collections::BTreeMap;

use crate::core::ErrorCode;
use crate::core::broker_config::BrokerConfigs;
use crate::core::event::EventKind;
use crate::core::message::{Message, TopicPartition};
use crate::core::metadata::{MetadataImage, MetadataRecord, NO_LEADER};
use crate::core::node::{NodeId, Outbox};
use crate::core::quorum::{DurableState, EntryPayload, QuorumConfig, QuorumNode};
use crate::core::replica::{BrokerId, PartitionReplica};

use storage::{Payload, ReplicaLog, Storage};

/// The broker settings that shape replication, with Kafka's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerSettings {
    /// `replica.lag.time.max.ms`.
    pub replica_lag_time_max_ms: u64,
    /// `broker.heartbeat.interval.ms`.
    pub broker_heartbeat_interval_ms: u64,
    /// The heartbeat interval while the broker is registered but still fenced. Kafka's
    /// `BrokerLifecycleManager` heartbeats every 10 ms while it starts, so it is unfenced as soon
    /// as it has caught up; the simulator keeps the regular interval, which reads better in its
    /// event log.
    pub fenced_heartbeat_interval_ms: u64,
    /// `replica.fetch.wait.max.ms`: how long a leader holds a follower's fetch that has nothing new.
    pub replica_fetch_wait_max_ms: u64,
    /// `replica.fetch.backoff.ms`: the pause after a failed fetch.
    pub replica_fetch_backoff_ms: u64,
    /// The most a replica fetch response carries, in the log's unit: bytes on disk (Kafka's
    /// `replica.fetch.max.bytes`, 1 MiB), records in the simulator (they read better there).
    pub replica_fetch_max: usize,
    /// How long a broker waits for an answer to a fetch, AlterPartition or heartbeat before it
    /// retries. It stands for the connection reset a crashed peer causes; Kafka's socket
    /// timeout (30 s) would only matter for a silently cut link.
    pub request_timeout_ms: u64,
    /// `request.timeout.ms` of a produce request waiting for acks=all.
    pub produce_timeout_ms: u64,
    /// The broker configs of `server.properties` that set topic defaults (`log.retention.ms`,
    /// `min.insync.replicas`, ...): the static layer below the dynamic ones of the metadata log.
    pub static_configs: BrokerConfigs,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        BrokerSettings {
            replica_lag_time_max_ms: 30_000,
            broker_heartbeat_interval_ms: 2_000,
            fenced_heartbeat_interval_ms: 2_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_backoff_ms: 1_000,
            replica_fetch_max: 16,
            request_timeout_ms: 2_000,
            produce_timeout_ms: 30_000,
            static_configs: BrokerConfigs::default(),
        }
    }
}

#[derive(Debug)]
pub enum PartitionRole {
    Leader(Box<LeaderState>),
    Follower(FollowerState),
}

#[derive(Debug)]
pub struct LeaderState {
    pub replica: PartitionReplica,
    pending_produces: Vec<PendingProduce>,
    parked_fetches: Vec<ParkedFetch>,
    alter_in_flight: Option<IsrProposal>,
    next_isr_check_ms: u64,
}

#[derive(Debug)]
struct PendingProduce {
    request_id: u64,
    client: NodeId,
    /// The base offset, which the answer carries.
    offset: i64,
    /// The answer carries it too.
    log_append_time_ms: i64,
    /// The batch is committed once the high watermark passes its last record.
    last_offset: i64,
    deadline_ms: u64,
}

#[derive(Debug)]
struct ParkedFetch {
    follower: NodeId,
    correlation_id: u64,
    fetch_offset: i64,
    deadline_ms: u64,
}

/// Who asked for what, carried from a Fetch to its answer.
#[derive(Debug, Clone, Copy)]
struct FetchRequest {
    from: NodeId,
    correlation_id: u64,
    replica_id: BrokerId,
    fetch_offset: i64,
}

#[derive(Debug)]
struct IsrProposal {
    sent_ms: u64,
    /// How far behind the replicas it removes are, and the limit, for the event log.
    lag_ms: u64,
    lag_max_ms: u64,
}

#[derive(Debug)]
pub struct FollowerState {
    pub leader: BrokerId,
    pub leader_epoch: i32,
    /// The correlation id and send time of the Fetch in flight.
    fetch_in_flight: Option<(u64, u64)>,
    next_fetch_ms: u64,
    /// A fetch in this leader epoch succeeded without a divergence: this log agrees with the
    /// leader's up to its end.
    pub synced: bool,
}

#[derive(Debug)]
pub struct BrokerNode<S: Storage> {
    pub id: BrokerId,
    pub incarnation_id: u64,
    /// An observer of the metadata quorum: it fetches the log, never votes.
    pub quorum: QuorumNode<MetadataRecord>,
    pub image: MetadataImage,
    storage: S,
    pub logs: BTreeMap<TopicPartition, S::Log>,
    pub partitions: BTreeMap<TopicPartition, PartitionRole>,
    /// -1 until the controller accepted the registration.
    pub broker_epoch: i64,
    pub fenced: bool,
    settings: BrokerSettings,
    registration_sent_ms: Option<u64>,
    refusal_logged: bool,
    next_correlation_id: u64,
    /// The offset of the last metadata entry applied (records and leader changes).
    metadata_offset: i64,
    /// The replay at start reached the high watermark; partitions follow the image from then on.
    metadata_caught_up: bool,
    next_heartbeat_ms: u64,
    heartbeat_sent_ms: Option<u64>,
    /// A controlled shutdown began: no more heartbeats that would unfence this broker again.
    shutting_down: bool,
    /// The broker epoch of the clean shutdown before this start, -1 after a crash.
    previous_broker_epoch: i64,
}

/// What a broker starts from: its copy of the metadata log and the partition logs it has.
#[derive(Debug)]
pub struct BrokerStart<S: Storage> {
    pub metadata: DurableState<MetadataRecord>,
    pub storage: S,
    pub logs: BTreeMap<TopicPartition, S::Log>,
    /// The broker epoch of a clean shutdown just before this start, -1 after a crash.
    pub previous_broker_epoch: i64,
}

impl<S: Storage> BrokerNode<S> {
    pub fn new(
        id: BrokerId,
        incarnation_id: u64,
        quorum_config: QuorumConfig,
        start: BrokerStart<S>,
        settings: BrokerSettings,
        now_ms: u64,
        seed: u64,
    ) -> Self {
        BrokerNode {
            id,
            incarnation_id,
            quorum: QuorumNode::new(id, quorum_config, start.metadata, now_ms, seed),
            image: MetadataImage::with_static_configs(settings.static_configs.clone()),
            storage: start.storage,
            logs: start.logs,
            partitions: BTreeMap::new(),
            broker_epoch: -1,
            fenced: true,
            settings,
            registration_sent_ms: None,
            refusal_logged: false,
            next_correlation_id: 0,
            metadata_offset: -1,
            metadata_caught_up: false,
            next_heartbeat_ms: now_ms,
            heartbeat_sent_ms: None,
            shutting_down: false,
            previous_broker_epoch: start.previous_broker_epoch,
        }
    }

    /// Asks the active controller to fence this broker before it stops (controlled shutdown):
    /// its partitions get new leaders at once. Done when [`BrokerNode::is_ready`] turns false.
    pub fn begin_controlled_shutdown(&mut self, out: &mut Outbox<S::Payload>) {
        let Some(controller) = self.quorum.leader_id() else { return };
        if self.broker_epoch < 0 {
            return;
        }
        self.shutting_down = true;
        out.send(self.id, controller, self.heartbeat_request(true));
    }

    /// BrokerHeartbeat with the metadata this broker has applied.
    fn heartbeat_request(&self, want_shutdown: bool) -> Message<S::Payload> {
        Message::BrokerHeartbeat {
            broker_id: self.id,
            broker_epoch: self.broker_epoch,
            current_metadata_offset: self.image.offset,
            want_shutdown,
        }
    }

    /// Registered, unfenced, and caught up with the metadata log: the broker serves clients.
    pub fn is_ready(&self) -> bool {
        self.metadata_caught_up && self.broker_epoch >= 0 && !self.fenced
    }

    /// This broker's role and log of a partition it leads, for the client requests a driver
    /// serves itself (consumer fetches, offsets lookups).
    pub fn leader(&self, tp: &TopicPartition) -> Result<(&PartitionReplica, &S::Log), ErrorCode> {
        match (self.partitions.get(tp), self.logs.get(tp)) {
            (Some(PartitionRole::Leader(state)), Some(log)) => Ok((&state.replica, log)),
            (Some(_), _) => Err(ErrorCode::NotLeaderOrFollower),
            (None, _) if self.image.partition(&tp.topic, tp.partition).is_some() => Err(ErrorCode::NotLeaderOrFollower),
            (None, _) => Err(ErrorCode::UnknownTopicOrPartition),
        }
    }

    pub fn log(&self, tp: &TopicPartition) -> Option<&S::Log> {
        self.logs.get(tp)
    }

    pub fn handle(&mut self, now_ms: u64, from: NodeId, message: Message<S::Payload>, out: &mut Outbox<S::Payload>) {
        match message {
            Message::Quorum(message) => self.quorum.handle(now_ms, from, message),
            Message::BrokerRegistrationResponse { error, broker_epoch } => match error {
                ErrorCode::None if self.broker_epoch < 0 => {
                    self.registration_sent_ms = None;
                    self.broker_epoch = broker_epoch;
                    self.fenced = true;
                    self.next_heartbeat_ms = now_ms;
                }
                ErrorCode::DuplicateBrokerRegistration if !self.refusal_logged => {
                    self.refusal_logged = true;
                    out.event(now_ms, EventKind::RegistrationRefused { broker: self.id, error });
                }
                _ => {}
            },
            Message::BrokerHeartbeatResponse { error, is_fenced } => {
                self.heartbeat_sent_ms = None;
                match error {
                    ErrorCode::None => self.fenced = is_fenced,
                    // The controller no longer knows this registration: start over.
                    ErrorCode::StaleBrokerEpoch | ErrorCode::BrokerIdNotRegistered => self.broker_epoch = -1,
                    _ => {}
                }
            }
            Message::AlterPartitionResponse { tp, error, leader_epoch, partition_epoch, isr } => {
                self.on_alter_partition_response(now_ms, tp, error, leader_epoch, partition_epoch, isr, out);
            }
            Message::Fetch {
                correlation_id,
                tp,
                replica_id,
                fetch_offset,
                last_fetched_epoch,
                current_leader_epoch,
            } => {
                let request = FetchRequest { from, correlation_id, replica_id, fetch_offset };
                self.on_fetch(now_ms, request, tp, last_fetched_epoch, current_leader_epoch, out);
            }
            Message::FetchResponse {
                correlation_id,
                tp,
                error,
                high_watermark,
                records,
                diverging_epoch,
                current_leader_epoch,
            } => {
                self.on_fetch_response(
                    now_ms,
                    from,
                    correlation_id,
                    tp,
                    error,
                    high_watermark,
                    records,
                    diverging_epoch,
                    current_leader_epoch,
                    out,
                );
            }
            Message::Produce { request_id, tp, acks, records } => {
                self.produce(now_ms, from, request_id, tp, acks, &records, out);
            }
            _ => {}
        }
        self.after_input(now_ms, out);
    }

    pub fn tick(&mut self, now_ms: u64, out: &mut Outbox<S::Payload>) {
        self.quorum.tick(now_ms);
        self.after_input(now_ms, out);
    }

    pub fn next_deadline_ms(&self) -> Option<u64> {
        let mut deadlines = vec![self.quorum.next_deadline_ms()];
        let controller_known = self.quorum.leader_id().is_some();
        if controller_known && self.broker_epoch < 0 {
            deadlines.push(Some(self.registration_sent_ms.map_or(0, |sent| sent + self.settings.request_timeout_ms)));
        }
        if controller_known && self.broker_epoch >= 0 && !self.shutting_down {
            deadlines.push(Some(match self.heartbeat_sent_ms {
                Some(sent) => sent + self.settings.request_timeout_ms,
                None => self.next_heartbeat_ms,
            }));
        }
        for role in self.partitions.values() {
            match role {
                PartitionRole::Leader(state) => {
                    deadlines.push(Some(state.next_isr_check_ms));
                    deadlines.extend(state.pending_produces.iter().map(|p| Some(p.deadline_ms)));
                    deadlines.extend(state.parked_fetches.iter().map(|p| Some(p.deadline_ms)));
                    if let Some(proposal) = &state.alter_in_flight {
                        deadlines.push(Some(proposal.sent_ms + self.settings.request_timeout_ms));
                    }
                }
                PartitionRole::Follower(state) if state.leader != NO_LEADER => {
                    deadlines.push(Some(match state.fetch_in_flight {
                        Some((_, sent)) => sent + self.settings.request_timeout_ms,
                        None => state.next_fetch_ms,
                    }));
                }
                PartitionRole::Follower(_) => {}
            }
        }
        deadlines.into_iter().flatten().min()
    }

    /// After any input: the metadata first (it decides roles), then everything timed.
    fn after_input(&mut self, now_ms: u64, out: &mut Outbox<S::Payload>) {
        while let Some((to, message)) = self.quorum.poll_output() {
            out.send(self.id, to, Message::Quorum(message));
        }
        // A broker's own quorum transitions (it only observes) are not worth a log line.
        let _ = self.quorum.take_events();
        let committed = self.quorum.take_committed();
        let applied_any = !committed.is_empty();
        for entry in committed {
            if let EntryPayload::Record(record) = &entry.payload {
                self.image.apply(entry.offset, record);
            }
            self.metadata_offset = entry.offset;
        }
        // Like Kafka's BrokerServer (its `initialCatchUpFuture`), act on nothing until the replay
        // reached this broker's own registration record, whose offset is its broker epoch: only
        // then does the image hold every topic the cluster had when it registered. A restarted
        // broker must not act on a past leadership, and above all must not take the logs of
        // topics it has not read yet for deleted ones. (The quorum's high watermark is no such
        // mark: a controller that has just restarted reports one that is still partial.)
        if !self.metadata_caught_up {
            self.metadata_caught_up = self.broker_epoch >= 0 && self.metadata_offset >= self.broker_epoch;
            if self.metadata_caught_up {
                self.reconcile(now_ms, out);
            }
        } else if applied_any && self.metadata_caught_up {
            self.reconcile(now_ms, out);
        }
        self.registration_and_heartbeat(now_ms, out);
        self.timed_partition_work(now_ms, out);
    }

    fn registration_and_heartbeat(&mut self, now_ms: u64, out: &mut Outbox<S::Payload>) {
        let Some(controller) = self.quorum.leader_id() else { return };
        if self.shutting_down {
            return;
        }
        if self.broker_epoch < 0 {
            let due = self.registration_sent_ms.is_none_or(|sent| now_ms >= sent + self.settings.request_timeout_ms);
            if due {
                self.registration_sent_ms = Some(now_ms);
                let request = Message::BrokerRegistration {
                    broker_id: self.id,
                    incarnation_id: self.incarnation_id,
                    previous_broker_epoch: self.previous_broker_epoch,
                };
                out.send(self.id, controller, request);
            }
            return;
        }
        let timed_out = self.heartbeat_sent_ms.is_some_and(|sent| now_ms >= sent + self.settings.request_timeout_ms);
        if timed_out || (self.heartbeat_sent_ms.is_none() && now_ms >= self.next_heartbeat_ms) {
            self.heartbeat_sent_ms = Some(now_ms);
            let interval_ms = if self.fenced {
                self.settings.fenced_heartbeat_interval_ms
            } else {
                self.settings.broker_heartbeat_interval_ms
            };
            self.next_heartbeat_ms = now_ms + interval_ms;
            out.send(self.id, controller, self.heartbeat_request(false));
        }
    }

    /// Brings each partition's role in line with the metadata image: become leader in a new
    /// leader epoch, follow a new leader, or take an ISR the controller changed.
    fn reconcile(&mut self, now_ms: u64, out: &mut Outbox<S::Payload>) {
        let assigned: Vec<(TopicPartition, crate::core::metadata::PartitionRegistration)> = self
            .image
            .partitions()
            .filter(|(_, _, p)| p.replicas.contains(&self.id))
            .map(|(topic, partition, p)| (TopicPartition { topic: topic.to_owned(), partition }, p.clone()))
            .collect();
        self.remove_unassigned(now_ms, &assigned, out);
        for (tp, registration) in assigned {
            // The topic's overrides over this broker's dynamic configs, the cluster-wide
            // defaults and server.properties: a changed default reaches existing logs here, as
            // Kafka's `DynamicLogConfig.reconfigure` updates every log without an override.
            let Some(configs) = self.image.effective_topic_configs(&tp.topic, Some(self.id)) else { continue };
            let Some(topic_id) = self.image.topics.get(&tp.topic).map(|topic| topic.topic_id) else { continue };
            let min_insync_replicas = configs.get_i64("min.insync.replicas");
            self.remove_stray(now_ms, &tp, topic_id, out);
            if let Some(log) = self.logs.get_mut(&tp) {
                if log.topic_id().is_none() {
                    // A log from before topic ids were recorded: the topic of its name adopts it.
                    let _ = log.set_topic_id(topic_id);
                }
                log.configure(&configs);
            } else {
                match self.storage.create_log(&tp, topic_id, &configs) {
                    Ok(log) => {
                        self.logs.insert(tp.clone(), log);
                    }
                    Err(error) => {
                        // The partition stays without a role here until the next metadata change
                        // retries: the leader counts this replica as not caught up meanwhile.
                        out.event(now_ms, EventKind::LogUnavailable { broker: self.id, tp, error });
                        continue;
                    }
                }
            }
            let Some(log) = self.logs.get_mut(&tp) else { continue };
            let current_epoch = match self.partitions.get(&tp) {
                Some(PartitionRole::Leader(state)) => Some(state.replica.leader_epoch),
                Some(PartitionRole::Follower(state)) => Some(state.leader_epoch),
                None => None,
            };
            if current_epoch.is_some_and(|epoch| epoch > registration.leader_epoch) {
                continue;
            }
            if registration.leader == self.id {
                if let Some(PartitionRole::Leader(state)) = self.partitions.get_mut(&tp)
                    && state.replica.leader_epoch == registration.leader_epoch
                {
                    let high_watermark = state.replica.high_watermark;
                    state.replica.set_min_insync_replicas(min_insync_replicas);
                    if registration.partition_epoch > state.replica.partition_epoch {
                        let isr = registration.isr.clone();
                        commit_isr(self.id, now_ms, &tp, state, isr, registration.partition_epoch, out);
                        self.after_high_watermark_change(&tp, out);
                    } else if state.replica.high_watermark != high_watermark {
                        self.after_high_watermark_change(&tp, out);
                    }
                    continue;
                }
                // KIP-101: the new epoch starts at this log's end.
                let log_end_offset = log.log_end_offset();
                log.begin_leader_epoch(registration.leader_epoch);
                let replica = PartitionReplica::become_leader(
                    self.id,
                    registration.leader_epoch,
                    registration.partition_epoch,
                    registration.replicas.clone(),
                    registration.isr.clone(),
                    log.log_start_offset(),
                    log_end_offset,
                    log.high_watermark(),
                    min_insync_replicas,
                    now_ms,
                );
                let state = LeaderState {
                    replica,
                    pending_produces: Vec::new(),
                    parked_fetches: Vec::new(),
                    alter_in_flight: None,
                    next_isr_check_ms: now_ms + self.settings.replica_lag_time_max_ms / 2,
                };
                let previous = self.partitions.insert(tp.clone(), PartitionRole::Leader(Box::new(state)));
                self.abandon_leadership(now_ms, &tp, previous, out);
                out.event(
                    now_ms,
                    EventKind::BecameLeader {
                        broker: self.id,
                        tp: tp.clone(),
                        leader_epoch: registration.leader_epoch,
                        log_end_offset,
                    },
                );
                self.after_high_watermark_change(&tp, out);
            } else {
                if let Some(PartitionRole::Follower(state)) = self.partitions.get(&tp)
                    && state.leader == registration.leader
                    && state.leader_epoch == registration.leader_epoch
                {
                    continue;
                }
                let state = FollowerState {
                    leader: registration.leader,
                    leader_epoch: registration.leader_epoch,
                    fetch_in_flight: None,
                    next_fetch_ms: now_ms,
                    synced: false,
                };
                let previous = self.partitions.insert(tp.clone(), PartitionRole::Follower(state));
                self.abandon_leadership(now_ms, &tp, previous, out);
                out.event(
                    now_ms,
                    EventKind::BecameFollower {
                        broker: self.id,
                        tp,
                        leader: registration.leader,
                        leader_epoch: registration.leader_epoch,
                    },
                );
            }
        }
    }

    /// Partitions this broker no longer hosts (their topic was deleted): their roles end and
    /// their logs go.
    fn remove_unassigned(
        &mut self,
        now_ms: u64,
        assigned: &[(TopicPartition, crate::core::metadata::PartitionRegistration)],
        out: &mut Outbox<S::Payload>,
    ) {
        let assigned: std::collections::BTreeSet<&TopicPartition> = assigned.iter().map(|(tp, _)| tp).collect();
        let mut gone: Vec<TopicPartition> =
            self.logs.keys().chain(self.partitions.keys()).filter(|tp| !assigned.contains(tp)).cloned().collect();
        gone.sort();
        gone.dedup();
        for tp in gone {
            let previous = self.partitions.remove(&tp);
            self.abandon_leadership(now_ms, &tp, previous, out);
            if let Some(log) = self.logs.remove(&tp) {
                self.storage.delete_log(&tp, log);
            }
        }
    }

    /// Deletes this broker's log of `tp` if it belongs to an earlier topic of the same name
    /// (KIP-516: the topic was deleted while this broker was down and created again), so the
    /// new topic does not inherit its records. Kafka's `LogManager` finds such strays the same
    /// way, by the topic id in `partition.metadata`.
    fn remove_stray(&mut self, now_ms: u64, tp: &TopicPartition, topic_id: [u8; 16], out: &mut Outbox<S::Payload>) {
        let is_stray = self.logs.get(tp).and_then(|log| log.topic_id()).is_some_and(|id| id != topic_id);
        if !is_stray {
            return;
        }
        let previous = self.partitions.remove(tp);
        self.abandon_leadership(now_ms, tp, previous, out);
        if let Some(log) = self.logs.remove(tp) {
            self.storage.delete_log(tp, log);
        }
        out.event(now_ms, EventKind::StrayLogDeleted { broker: self.id, tp: tp.clone() });
    }

    /// A leader that lost its role answers what it held: the producers must retry elsewhere.
    fn abandon_leadership(
        &mut self,
        _now_ms: u64,
        tp: &TopicPartition,
        previous: Option<PartitionRole>,
        out: &mut Outbox<S::Payload>,
    ) {
        let Some(PartitionRole::Leader(state)) = previous else { return };
        for pending in state.pending_produces {
            out.send(
                self.id,
                pending.client,
                Message::ProduceResponse {
                    request_id: pending.request_id,
                    tp: tp.clone(),
                    error: ErrorCode::NotLeaderOrFollower,
                    base_offset: -1,
                    log_append_time_ms: -1,
                },
            );
        }
        for parked in state.parked_fetches {
            out.send(
                self.id,
                parked.follower,
                Message::FetchResponse {
                    correlation_id: parked.correlation_id,
                    tp: tp.clone(),
                    error: ErrorCode::NotLeaderOrFollower,
                    high_watermark: -1,
                    records: Default::default(),
                    diverging_epoch: None,
                    current_leader_epoch: state.replica.leader_epoch,
                },
            );
        }
    }

    /// Produce (key 0) for one partition: refused unless this broker leads it and, for
    /// acks=all, the ISR has at least `min.insync.replicas` members; then appended, and answered
    /// at once (acks=1), when the high watermark passes it (acks=all), or never (acks=0). The
    /// answer goes to `client` as a [`Message::ProduceResponse`] carrying `request_id`.
    #[allow(clippy::too_many_arguments)]
    pub fn produce(
        &mut self,
        now_ms: u64,
        client: NodeId,
        request_id: u64,
        tp: TopicPartition,
        acks: i16,
        records: &<S::Payload as Payload>::Produce,
        out: &mut Outbox<S::Payload>,
    ) {
        let reply = |error: ErrorCode, base_offset: i64, log_append_time_ms: i64| Message::ProduceResponse {
            request_id,
            tp: tp.clone(),
            error,
            base_offset,
            log_append_time_ms,
        };
        let (Some(PartitionRole::Leader(state)), Some(log)) = (self.partitions.get_mut(&tp), self.logs.get_mut(&tp))
        else {
            if acks != 0 {
                let known = self.image.partition(&tp.topic, tp.partition).is_some();
                let error = if known { ErrorCode::NotLeaderOrFollower } else { ErrorCode::UnknownTopicOrPartition };
                out.send(self.id, client, reply(error, -1, -1));
            }
            return;
        };
        if let Err(error) = state.replica.check_enough_replicas(acks) {
            out.send(self.id, client, reply(error, -1, -1));
            return;
        }
        let appended = match log.append_as_leader(now_ms, state.replica.leader_epoch, records) {
            Ok(appended) => appended,
            Err(error) => {
                if acks != 0 {
                    out.send(self.id, client, reply(error, -1, -1));
                }
                return;
            }
        };
        let offset = appended.base_offset;
        if !appended.duplicate {
            let value = <S::Payload as Payload>::describe(records);
            out.event(now_ms, EventKind::Produced { tp: tp.clone(), leader: self.id, offset, acks, value });
        }
        debug_assert_eq!(log.log_end_offset(), state.replica.log_end_offset.max(appended.last_offset + 1));
        state.replica.on_leader_append(log.log_end_offset());
        match acks {
            0 => {}
            1 => out.send(self.id, client, reply(ErrorCode::None, offset, appended.log_append_time_ms)),
            _ => state.pending_produces.push(PendingProduce {
                request_id,
                client,
                offset,
                log_append_time_ms: appended.log_append_time_ms,
                last_offset: appended.last_offset,
                deadline_ms: now_ms + self.settings.produce_timeout_ms,
            }),
        }
        // New data: parked follower fetches can be answered now.
        let parked = std::mem::take(&mut state.parked_fetches);
        for fetch in parked {
            self.answer_fetch(&tp, fetch.follower, fetch.correlation_id, fetch.fetch_offset, out);
        }
        self.after_high_watermark_change(&tp, out);
    }

    fn on_fetch(
        &mut self,
        now_ms: u64,
        request: FetchRequest,
        tp: TopicPartition,
        last_fetched_epoch: i32,
        current_leader_epoch: i32,
        out: &mut Outbox<S::Payload>,
    ) {
        let FetchRequest { from, correlation_id, replica_id, fetch_offset } = request;
        let error_reply = |error: ErrorCode, leader_epoch: i32| Message::FetchResponse {
            correlation_id,
            tp: tp.clone(),
            error,
            high_watermark: -1,
            records: Default::default(),
            diverging_epoch: None,
            current_leader_epoch: leader_epoch,
        };
        let (Some(PartitionRole::Leader(state)), Some(log)) = (self.partitions.get_mut(&tp), self.logs.get(&tp)) else {
            out.send(self.id, from, error_reply(ErrorCode::NotLeaderOrFollower, current_leader_epoch));
            return;
        };
        if let Some(error) = state.replica.check_leader_epoch(current_leader_epoch) {
            out.send(self.id, from, error_reply(error, current_leader_epoch));
            return;
        }
        let log_end_offset = log.log_end_offset();
        if let Some(diverging) = log.epochs().diverging_epoch(last_fetched_epoch, fetch_offset, log_end_offset) {
            let response = Message::FetchResponse {
                correlation_id,
                tp: tp.clone(),
                error: ErrorCode::None,
                high_watermark: state.replica.high_watermark,
                records: Default::default(),
                diverging_epoch: Some(diverging),
                current_leader_epoch,
            };
            out.send(self.id, from, response);
            return;
        }
        state.replica.on_follower_fetch(now_ms, replica_id, fetch_offset.min(log_end_offset));
        self.maybe_expand_isr(now_ms, &tp, out);
        if fetch_offset >= log_end_offset {
            if let Some(PartitionRole::Leader(state)) = self.partitions.get_mut(&tp) {
                let deadline_ms = now_ms + self.settings.replica_fetch_wait_max_ms;
                state.parked_fetches.retain(|p| p.follower != from);
                state.parked_fetches.push(ParkedFetch { follower: from, correlation_id, fetch_offset, deadline_ms });
            }
        } else {
            self.answer_fetch(&tp, from, correlation_id, fetch_offset, out);
        }
        self.after_high_watermark_change(&tp, out);
    }

    fn answer_fetch(
        &mut self,
        tp: &TopicPartition,
        follower: NodeId,
        correlation_id: u64,
        fetch_offset: i64,
        out: &mut Outbox<S::Payload>,
    ) {
        let (Some(PartitionRole::Leader(state)), Some(log)) = (self.partitions.get(tp), self.logs.get(tp)) else {
            return;
        };
        let (error, records) = match log.read(fetch_offset, self.settings.replica_fetch_max) {
            Ok(records) => (ErrorCode::None, records),
            Err(error) => (error, Default::default()),
        };
        let response = Message::FetchResponse {
            correlation_id,
            tp: tp.clone(),
            error,
            high_watermark: state.replica.high_watermark,
            records,
            diverging_epoch: None,
            current_leader_epoch: state.replica.leader_epoch,
        };
        out.send(self.id, follower, response);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_fetch_response(
        &mut self,
        now_ms: u64,
        from: NodeId,
        correlation_id: u64,
        tp: TopicPartition,
        error: ErrorCode,
        high_watermark: i64,
        records: <S::Payload as Payload>::Fetched,
        diverging_epoch: Option<(i32, i64)>,
        current_leader_epoch: i32,
        out: &mut Outbox<S::Payload>,
    ) {
        let backoff_ms = self.settings.replica_fetch_backoff_ms;
        let (Some(PartitionRole::Follower(state)), Some(log)) = (self.partitions.get_mut(&tp), self.logs.get_mut(&tp))
        else {
            return;
        };
        let expected = state.fetch_in_flight.is_some_and(|(id, _)| id == correlation_id);
        if !expected || state.leader != from || state.leader_epoch != current_leader_epoch {
            return; // a late, duplicated or earlier leadership's answer
        }
        state.fetch_in_flight = None;
        if error != ErrorCode::None {
            state.next_fetch_ms = now_ms + backoff_ms;
            return;
        }
        state.next_fetch_ms = now_ms;
        if let Some((_, end_offset)) = diverging_epoch {
            let from_offset = log.log_end_offset();
            let to_offset = end_offset.min(from_offset).max(log.log_start_offset());
            match log.truncate_to(to_offset) {
                Ok(0) => {}
                Ok(_) => out
                    .event(now_ms, EventKind::Truncated { broker: self.id, tp, from_offset, to_offset, leader: from }),
                Err(error) => {
                    state.next_fetch_ms = now_ms + backoff_ms;
                    out.event(now_ms, EventKind::LogUnavailable { broker: self.id, tp, error });
                }
            }
            return;
        }
        if let Err(error) = log.append_as_follower(&records) {
            state.next_fetch_ms = now_ms + backoff_ms;
            out.event(now_ms, EventKind::LogUnavailable { broker: self.id, tp, error });
            return;
        }
        state.synced = true;
        // A follower's high watermark is the leader's, bounded by what it has (never backwards).
        let bounded = high_watermark.min(log.log_end_offset());
        log.set_high_watermark(log.high_watermark().max(bounded));
    }

    #[allow(clippy::too_many_arguments)]
    fn on_alter_partition_response(
        &mut self,
        now_ms: u64,
        tp: TopicPartition,
        error: ErrorCode,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
        out: &mut Outbox<S::Payload>,
    ) {
        let Some(PartitionRole::Leader(state)) = self.partitions.get_mut(&tp) else { return };
        let Some(proposal) = state.alter_in_flight.take() else { return };
        if error != ErrorCode::None || leader_epoch != state.replica.leader_epoch {
            state.replica.on_isr_rejected();
            return;
        }
        if partition_epoch <= state.replica.partition_epoch {
            state.replica.on_isr_rejected();
            return; // the metadata log brought this (or something newer) first
        }
        state.alter_in_flight = Some(proposal);
        commit_isr(self.id, now_ms, &tp, state, isr, partition_epoch, out);
        self.after_high_watermark_change(&tp, out);
    }

    /// KIP-497: propose adding followers that caught up (and are not fenced, KIP-841).
    fn maybe_expand_isr(&mut self, now_ms: u64, tp: &TopicPartition, out: &mut Outbox<S::Payload>) {
        let Some(controller) = self.quorum.leader_id() else { return };
        let broker_epoch = self.broker_epoch;
        let image = &self.image;
        let Some(PartitionRole::Leader(state)) = self.partitions.get_mut(tp) else { return };
        if state.alter_in_flight.is_some() || broker_epoch < 0 {
            return;
        }
        let added: Vec<BrokerId> =
            state.replica.caught_up_replicas().into_iter().filter(|id| image.is_active(*id)).collect();
        if added.is_empty() {
            return;
        }
        let mut new_isr = state.replica.isr.clone();
        new_isr.extend(&added);
        state.alter_in_flight = Some(IsrProposal { sent_ms: now_ms, lag_ms: 0, lag_max_ms: 0 });
        state.replica.on_isr_proposed(new_isr.clone());
        out.send(self.id, controller, alter_partition(self.id, broker_epoch, tp, &state.replica, new_isr));
    }

    fn maybe_shrink_isr(&mut self, now_ms: u64, tp: &TopicPartition, out: &mut Outbox<S::Payload>) {
        let lag_max_ms = self.settings.replica_lag_time_max_ms;
        let controller = self.quorum.leader_id();
        let broker_epoch = self.broker_epoch;
        let Some(PartitionRole::Leader(state)) = self.partitions.get_mut(tp) else { return };
        if state.alter_in_flight.is_some() || broker_epoch < 0 {
            return;
        }
        let Some(controller) = controller else { return };
        let removed = state.replica.out_of_sync_replicas(now_ms, lag_max_ms);
        if removed.is_empty() {
            return;
        }
        let lag_ms = removed
            .iter()
            .filter_map(|id| state.replica.follower(*id))
            .map(|f| now_ms.saturating_sub(f.last_caught_up_time_ms))
            .max()
            .unwrap_or(lag_max_ms);
        let new_isr: Vec<BrokerId> = state.replica.isr.iter().copied().filter(|id| !removed.contains(id)).collect();
        state.alter_in_flight = Some(IsrProposal { sent_ms: now_ms, lag_ms, lag_max_ms });
        state.replica.on_isr_proposed(new_isr.clone());
        out.send(self.id, controller, alter_partition(self.id, broker_epoch, tp, &state.replica, new_isr));
    }

    /// Timers: follower fetches, parked fetches, produce timeouts, ISR expiry, stuck requests.
    fn timed_partition_work(&mut self, now_ms: u64, out: &mut Outbox<S::Payload>) {
        let tps: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        for tp in tps {
            let Some(role) = self.partitions.get_mut(&tp) else { continue };
            match role {
                PartitionRole::Follower(state) => {
                    if state.leader == NO_LEADER {
                        continue;
                    }
                    if state.fetch_in_flight.is_some_and(|(_, sent)| now_ms >= sent + self.settings.request_timeout_ms)
                    {
                        state.fetch_in_flight = None;
                    }
                    if state.fetch_in_flight.is_none() && now_ms >= state.next_fetch_ms {
                        let Some(log) = self.logs.get(&tp) else { continue };
                        self.next_correlation_id += 1;
                        state.fetch_in_flight = Some((self.next_correlation_id, now_ms));
                        let request = Message::Fetch {
                            correlation_id: self.next_correlation_id,
                            tp: tp.clone(),
                            replica_id: self.id,
                            fetch_offset: log.log_end_offset(),
                            last_fetched_epoch: log.epochs().latest_epoch(),
                            current_leader_epoch: state.leader_epoch,
                        };
                        out.send(self.id, state.leader, request);
                    }
                }
                PartitionRole::Leader(state) => {
                    if state
                        .alter_in_flight
                        .as_ref()
                        .is_some_and(|p| now_ms >= p.sent_ms + self.settings.request_timeout_ms)
                    {
                        state.alter_in_flight = None;
                        state.replica.on_isr_rejected();
                    }
                    let (expired, waiting): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut state.parked_fetches).into_iter().partition(|p| now_ms >= p.deadline_ms);
                    state.parked_fetches = waiting;
                    let (timed_out, pending): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut state.pending_produces).into_iter().partition(|p| now_ms >= p.deadline_ms);
                    state.pending_produces = pending;
                    let isr_check_due = now_ms >= state.next_isr_check_ms;
                    if isr_check_due {
                        // Kafka's isr-expiration task runs every replica.lag.time.max.ms / 2.
                        state.next_isr_check_ms = now_ms + self.settings.replica_lag_time_max_ms / 2;
                    }
                    for produce in timed_out {
                        let response = Message::ProduceResponse {
                            request_id: produce.request_id,
                            tp: tp.clone(),
                            error: ErrorCode::RequestTimedOut,
                            base_offset: -1,
                            log_append_time_ms: -1,
                        };
                        out.send(self.id, produce.client, response);
                    }
                    for fetch in expired {
                        self.answer_fetch(&tp, fetch.follower, fetch.correlation_id, fetch.fetch_offset, out);
                    }
                    if isr_check_due {
                        self.maybe_shrink_isr(now_ms, &tp, out);
                    }
                }
            }
        }
    }

    /// Completes acks=all produces the high watermark now covers, and tells the simulator when
    /// it moved so the loss checker can look at the newly committed records.
    fn after_high_watermark_change(&mut self, tp: &TopicPartition, out: &mut Outbox<S::Payload>) {
        let (Some(PartitionRole::Leader(state)), Some(log)) = (self.partitions.get_mut(tp), self.logs.get_mut(tp))
        else {
            return;
        };
        let high_watermark = state.replica.high_watermark;
        debug_assert!(high_watermark <= log.log_end_offset(), "the high watermark passed the log end offset");
        if high_watermark > log.high_watermark() {
            out.high_watermark_advances.push((self.id, tp.clone(), log.high_watermark(), high_watermark));
            log.set_high_watermark(high_watermark);
        }
        let (done, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut state.pending_produces).into_iter().partition(|p| p.last_offset < high_watermark);
        state.pending_produces = waiting;
        let under_min_isr = state.replica.is_under_min_isr();
        for produce in done {
            // Kafka's DelayedProduce: committed, but the ISR shrank below min.insync.replicas
            // while it waited.
            let error = if under_min_isr { ErrorCode::NotEnoughReplicasAfterAppend } else { ErrorCode::None };
            if error == ErrorCode::None {
                out.acks_all_completed.push((produce.request_id, self.id, tp.clone(), state.replica.isr.clone()));
            }
            let response = Message::ProduceResponse {
                request_id: produce.request_id,
                tp: tp.clone(),
                error,
                base_offset: produce.offset,
                log_append_time_ms: produce.log_append_time_ms,
            };
            out.send(self.id, produce.client, response);
        }
    }
}

fn alter_partition<P: Payload>(
    broker_id: BrokerId,
    broker_epoch: i64,
    tp: &TopicPartition,
    replica: &PartitionReplica,
    new_isr: Vec<BrokerId>,
) -> Message<P> {
    Message::AlterPartition {
        broker_id,
        broker_epoch,
        tp: tp.clone(),
        leader_epoch: replica.leader_epoch,
        partition_epoch: replica.partition_epoch,
        new_isr,
    }
}

/// The leader learnt that the controller committed a new ISR — from the AlterPartition answer
/// or from the metadata log, whichever came first — and logs what its own proposal did.
fn commit_isr<P: Payload>(
    leader: BrokerId,
    now_ms: u64,
    tp: &TopicPartition,
    state: &mut LeaderState,
    isr: Vec<BrokerId>,
    partition_epoch: i32,
    out: &mut Outbox<P>,
) {
    let proposal = state.alter_in_flight.take();
    let before = state.replica.isr.clone();
    state.replica.on_isr_committed(isr.clone(), partition_epoch);
    // Changes the controller made on its own (fencing) are logged by the controller.
    let Some(proposal) = proposal else { return };
    let removed: Vec<BrokerId> = before.iter().copied().filter(|id| !isr.contains(id)).collect();
    let added: Vec<BrokerId> = isr.iter().copied().filter(|id| !before.contains(id)).collect();
    if !removed.is_empty() {
        let event = EventKind::IsrShrunk {
            tp: tp.clone(),
            leader,
            removed,
            lag_ms: proposal.lag_ms,
            lag_max_ms: proposal.lag_max_ms,
            isr: isr.clone(),
        };
        out.event(now_ms, event);
    }
    if !added.is_empty() {
        out.event(now_ms, EventKind::IsrExpanded { tp: tp.clone(), leader, added, isr });
    }
}
