//! # The deterministic simulator
//!
//! A whole KRaft cluster in one thread: controllers running the core's metadata quorum and
//! controller logic, brokers replicating partitions with the core's replication state, and a
//! producer — on a virtual clock and a seeded network that can delay, lose, duplicate and cut
//! messages. Nodes crash and restart from what they had made durable. The same seed and the
//! same timed actions always give the same run, which is what makes it useful three ways:
//! deterministic simulation tests with invariant checkers (`broker/tests/sim_*.rs`), the browser
//! simulator (`wasm-sim`), and the server, which replays a learner's action log natively to
//! verify a simulator goal.
//!
//! # Layout
//!
//! The nodes are the core's own: [`crate::core::controller::node::ControllerNode`] (a quorum
//! voter that is the active controller while it leads) and [`crate::core::broker::BrokerNode`]
//! (a quorum observer that registers, heart-beats and replicates partitions), exactly as the
//! runtime runs them; only their logs ([`memory`]) and their network ([`network`]) are the
//! simulator's.
//!
//! * [`memory`]: partition logs in memory, the records the simulated producer sends.
//! * [`network`]: messages in flight, faults, cut links; the seeded random source.
//! * [`check`]: the invariant checkers and the loss detector.
//! * [`goal`]: what a lesson can ask the learner to make happen.
//! * this file: [`Simulation`] — the clock, the client, actions, and the run loop.
//!
//! # Driving it
//!
//! [`Simulation::new`] builds the cluster of a [`Preset`] and lets it form (a quorum leader,
//! registered and unfenced brokers, the preset's topics with every replica in sync).
//! [`Simulation::run_until`] advances the virtual clock, [`Simulation::apply`] performs a
//! learner's [`Action`] at the current time and records it, and [`Simulation::replay`] rebuilds
//! a run from its seed and action log — which is how the browser steps back in time.

pub mod check;
pub mod goal;
pub mod memory;
pub mod network;

use std::collections::BTreeMap;

use crate::core::ErrorCode;
use crate::core::controller::ControllerConfig;
use crate::core::metadata::{MetadataImage, NO_LEADER};
use crate::core::partitioner::partition_for_key;
use crate::core::quorum::{DurableState, QuorumConfig};
use crate::core::replica::BrokerId;

use crate::core::broker::{BrokerNode, BrokerSettings, BrokerStart};
use crate::core::controller::node::ControllerNode;
use crate::core::event::{Event, EventKind};
use crate::core::message::{Message, TopicPartition};
use crate::core::node::{CLIENT, FIRST_CONTROLLER_ID, NodeId, Outbox, is_controller};
use check::Checker;
use goal::Goal;
use memory::{BrokerDurable, MemoryLog, MemoryStorage, ProducedRecord, SimMessage, SimPayload};
use network::{Envelope, Network, NetworkFaults, SimRng};

/// A simulated broker: the core's broker over in-memory logs.
pub type SimBroker = BrokerNode<MemoryStorage>;

/// A simulated controller.
pub type SimController = ControllerNode<SimPayload>;

/// A topic the preset creates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(deny_unknown_fields))]
pub struct TopicPreset {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    #[cfg_attr(feature = "sim-json", serde(default))]
    pub configs: Vec<(String, String)>,
}

/// The cluster a simulation starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(deny_unknown_fields))]
pub struct Preset {
    pub brokers: u32,
    pub controllers: u32,
    pub topics: Vec<TopicPreset>,
    #[cfg_attr(feature = "sim-json", serde(default))]
    pub network: NetworkFaults,
    /// A scripted scenario: actions the simulation performs by itself, at times counted from the
    /// moment the cluster formed. Part of the preset, so replays repeat them.
    #[cfg_attr(feature = "sim-json", serde(default, skip_serializing_if = "Vec::is_empty"))]
    pub scenario: Vec<ScriptedAction>,
}

/// One step of a preset's scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(deny_unknown_fields))]
pub struct ScriptedAction {
    /// Milliseconds after the cluster formed.
    pub after_ms: u64,
    pub action: Action,
}

impl Default for Preset {
    fn default() -> Self {
        Preset {
            brokers: 3,
            controllers: 3,
            topics: vec![TopicPreset {
                name: "orders".to_owned(),
                partitions: 1,
                replication_factor: 3,
                configs: Vec::new(),
            }],
            network: NetworkFaults::default(),
            scenario: Vec::new(),
        }
    }
}

/// Limits on a preset, so a page cannot ask for a cluster the view cannot show.
pub const MAX_BROKERS: u32 = 7;
pub const MAX_PARTITIONS: i32 = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    #[error("brokers must be between 1 and {MAX_BROKERS}, got {0}")]
    Brokers(u32),
    #[error("controllers must be 1, 3 or 5 (a quorum needs a majority), got {0}")]
    Controllers(u32),
    #[error("topic {0}: partitions must be between 1 and {MAX_PARTITIONS}")]
    Partitions(String),
    #[error("topic {0}: replication factor must be between 1 and the number of brokers")]
    ReplicationFactor(String),
    #[error("topic {topic}: {message}")]
    Config { topic: String, message: String },
    #[error("the cluster did not form within {0} ms of simulated time")]
    DidNotForm(u64),
}

/// Something the learner does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields))]
pub enum Action {
    /// Produce one record; `partition` defaults to the key's partition (murmur2) or 0.
    Produce {
        topic: String,
        partition: Option<i32>,
        key: Option<String>,
        value: String,
        acks: i16,
    },
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    CutLink {
        a: NodeId,
        b: NodeId,
    },
    HealLink {
        a: NodeId,
        b: NodeId,
    },
    /// Set (`Some`) or reset (`None`) a topic config through the active controller.
    SetConfig {
        topic: String,
        name: String,
        value: Option<String>,
    },
}

/// An action and the simulated time it happened at: the unit of a replayable action log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sim-json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "sim-json", serde(deny_unknown_fields))]
pub struct TimedAction {
    pub at_ms: u64,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("there is no node {0}")]
    UnknownNode(NodeId),
    #[error("{0} is already down")]
    AlreadyDown(String),
    #[error("{0} is running")]
    NotDown(String),
    #[error("there is no topic {0}")]
    UnknownTopic(String),
    #[error("topic {topic} has no partition {partition}")]
    UnknownPartition { topic: String, partition: i32 },
    #[error("acks must be 0, 1 or -1 (all), got {0}")]
    InvalidAcks(i16),
    #[error("{0}")]
    InvalidConfig(String),
    #[error("a link needs two different nodes")]
    SameNode,
    #[error("an action cannot happen before the last one (at {0} ms)")]
    OutOfOrder(u64),
}

/// The producer's settings, Kafka's defaults.
const REQUEST_TIMEOUT_MS: u64 = 30_000;
const RETRY_BACKOFF_MS: u64 = 100;
const DELIVERY_TIMEOUT_MS: u64 = 120_000;
/// How long [`Simulation::new`] may take to form the cluster.
const FORMATION_LIMIT_MS: u64 = 60_000;

/// A record the producer is trying to deliver.
#[derive(Debug, Clone)]
struct ProduceAttempt {
    record_id: u64,
    tp: TopicPartition,
    key: Option<String>,
    value: String,
    acks: i16,
    first_sent_ms: u64,
    /// When the current attempt was sent, or when the next one is due.
    sent_ms: u64,
    in_flight: bool,
}

/// An acknowledged record, remembered to notice if it is ever lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckedRecord {
    pub record_id: u64,
    pub tp: TopicPartition,
    pub offset: i64,
    pub acks: i16,
    pub value: String,
    pub min_insync_replicas: i64,
    pub at_ms: u64,
    /// Brokers down when the acknowledgement arrived.
    pub brokers_down: u32,
    /// The leader counted a replica the controller had already removed from the ISR: it was cut
    /// off from the controller (a "zombie" leader) and committed with an ISR that no longer was.
    pub acked_by_stale_leader: bool,
}

/// The learner's producer and admin client.
#[derive(Debug, Default)]
struct Client {
    next_request_id: u64,
    produces: BTreeMap<u64, ProduceAttempt>,
    /// Admin requests waiting for an answer: request id → (message, sent at).
    admin: BTreeMap<u64, (SimMessage, u64)>,
}

#[derive(Debug)]
enum Slot<N, D> {
    Up(Box<N>),
    Down(D),
}

#[derive(Debug)]
pub struct Simulation {
    preset: Preset,
    seed: u64,
    now_ms: u64,
    rng: SimRng,
    quorum_config: QuorumConfig,
    brokers: BTreeMap<BrokerId, Slot<SimBroker, BrokerDurable>>,
    controllers: BTreeMap<NodeId, Slot<SimController, DurableState<crate::core::metadata::MetadataRecord>>>,
    /// The last time each node's timers ran, so a deadline at "now" fires once per instant.
    last_tick_ms: BTreeMap<NodeId, u64>,
    network: Network,
    client: Client,
    next_record_id: u64,
    next_incarnation: u64,
    events: Vec<Event>,
    actions: Vec<TimedAction>,
    acked: Vec<AckedRecord>,
    /// Indexes into `acked` by partition and offset, so the loss check of a high watermark step
    /// looks at the few records it covers, not every record ever acknowledged.
    acked_by_offset: BTreeMap<TopicPartition, BTreeMap<i64, Vec<usize>>>,
    /// Produce requests an acks=all leader answered while its ISR was not the controller's.
    acked_by_stale_leader: std::collections::BTreeSet<u64>,
    checker: Checker,
    formed_at_ms: u64,
    steps: u64,
    /// The preset's scenario steps not performed yet.
    scripted: std::collections::VecDeque<ScriptedAction>,
    /// Scenario steps that failed (a node already down, ...): the step's `after_ms` and why.
    scenario_errors: Vec<(u64, ActionError)>,
}

impl Simulation {
    /// Builds the preset's cluster and runs it until it has formed.
    pub fn new(preset: Preset, seed: u64) -> Result<Self, PresetError> {
        validate(&preset)?;
        let voters: Vec<NodeId> =
            (0..preset.controllers).map(|i| FIRST_CONTROLLER_ID + i32::try_from(i).unwrap_or(0)).collect();
        let quorum_config = QuorumConfig { voters: voters.clone(), ..QuorumConfig::default() };
        let mut simulation = Simulation {
            seed,
            now_ms: 0,
            rng: SimRng::new(seed),
            network: Network::new(preset.network.clone()),
            quorum_config,
            brokers: BTreeMap::new(),
            controllers: BTreeMap::new(),
            last_tick_ms: BTreeMap::new(),
            client: Client::default(),
            next_record_id: 1,
            next_incarnation: 1,
            events: Vec::new(),
            actions: Vec::new(),
            acked: Vec::new(),
            acked_by_offset: BTreeMap::new(),
            acked_by_stale_leader: Default::default(),
            checker: Checker::default(),
            formed_at_ms: 0,
            steps: 0,
            scripted: Default::default(),
            scenario_errors: Vec::new(),
            preset,
        };
        for id in voters {
            let node = simulation.start_controller(id, DurableState::default());
            simulation.controllers.insert(id, Slot::Up(Box::new(node)));
        }
        for id in 1..=i32::try_from(simulation.preset.brokers).unwrap_or(1) {
            let node = simulation.start_broker(id, BrokerDurable::default());
            simulation.brokers.insert(id, Slot::Up(Box::new(node)));
        }
        simulation.form()?;
        Ok(simulation)
    }

    /// Rebuilds a run: the preset and seed, then each action at its time, then the clock to
    /// `until_ms`. Actions after `until_ms` are left out (that is how the view steps back).
    pub fn replay(preset: Preset, seed: u64, actions: &[TimedAction], until_ms: u64) -> Result<Self, ReplayError> {
        let mut simulation = Simulation::new(preset, seed)?;
        for timed in actions.iter().filter(|a| a.at_ms <= until_ms) {
            if timed.at_ms < simulation.now_ms {
                return Err(ReplayError::Action {
                    at_ms: timed.at_ms,
                    error: ActionError::OutOfOrder(simulation.now_ms),
                });
            }
            simulation.run_until(timed.at_ms);
            simulation
                .apply(timed.action.clone())
                .map_err(|error| ReplayError::Action { at_ms: timed.at_ms, error })?;
        }
        simulation.run_until(until_ms.max(simulation.now_ms));
        Ok(simulation)
    }

    fn start_controller(
        &mut self,
        id: NodeId,
        durable: DurableState<crate::core::metadata::MetadataRecord>,
    ) -> SimController {
        let seed = self.rng.next_u64();
        // No NoOpRecords (KIP-835) in the simulator: the view shows every metadata entry, and a
        // NoOp every 500 ms would bury the ones that mean something.
        let config = ControllerConfig {
            metadata_max_idle_interval_ms: None,
            leader_imbalance_check_interval_ms: None,
            ..ControllerConfig::default()
        };
        ControllerNode::new(id, self.quorum_config.clone(), durable, config, self.now_ms, seed)
    }

    fn start_broker(&mut self, id: BrokerId, durable: BrokerDurable) -> SimBroker {
        let seed = self.rng.next_u64();
        let incarnation = self.next_incarnation;
        self.next_incarnation += 1;
        BrokerNode::new(
            id,
            incarnation,
            self.quorum_config.clone(),
            // The simulator's restarts follow crashes: never a clean shutdown.
            BrokerStart {
                metadata: durable.metadata,
                storage: MemoryStorage,
                logs: durable.logs,
                previous_broker_epoch: -1,
            },
            BrokerSettings::default(),
            self.now_ms,
            seed,
        )
    }

    /// Runs until every broker is unfenced and the preset's topics exist with full ISRs.
    fn form(&mut self) -> Result<(), PresetError> {
        let mut topics_requested = false;
        while self.now_ms < FORMATION_LIMIT_MS {
            let next = self.now_ms + 50;
            self.run_until(next);
            let Some(image) = self.active_image().cloned() else { continue };
            let all_unfenced = self.brokers.keys().all(|id| image.is_active(*id));
            if all_unfenced && !topics_requested {
                topics_requested = true;
                for topic in self.preset.topics.clone() {
                    let request_id = self.client_request_id();
                    let request = Message::CreateTopic {
                        request_id,
                        name: topic.name,
                        partitions: topic.partitions,
                        replication_factor: topic.replication_factor,
                        configs: topic.configs,
                        assignments: Vec::new(),
                    };
                    self.client.admin.insert(request_id, (request, 0));
                }
            }
            let created = self.preset.topics.iter().all(|t| {
                image.topics.get(&t.name).is_some_and(|topic| {
                    topic.partitions.len() == usize::try_from(t.partitions).unwrap_or(0)
                        && topic.partitions.iter().all(|p| p.leader != NO_LEADER)
                })
            });
            let brokers_know = self.brokers.values().all(|slot| match slot {
                Slot::Up(broker) => self.preset.topics.iter().all(|t| broker.image.topics.contains_key(&t.name)),
                Slot::Down(_) => true,
            });
            if topics_requested && created && brokers_know && self.client.admin.is_empty() {
                self.formed_at_ms = self.now_ms;
                let mut scenario = self.preset.scenario.clone();
                scenario.sort_by_key(|step| step.after_ms);
                self.scripted = scenario.into();
                return Ok(());
            }
        }
        Err(PresetError::DidNotForm(FORMATION_LIMIT_MS))
    }

    fn client_request_id(&mut self) -> u64 {
        self.client.next_request_id += 1;
        self.client.next_request_id
    }

    pub fn preset(&self) -> &Preset {
        &self.preset
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// When the cluster had formed; the learner's run starts here.
    pub fn formed_at_ms(&self) -> u64 {
        self.formed_at_ms
    }

    /// Events processed so far (messages delivered and timers fired).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn actions(&self) -> &[TimedAction] {
        &self.actions
    }

    pub fn acked(&self) -> &[AckedRecord] {
        &self.acked
    }

    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn broker_ids(&self) -> impl Iterator<Item = BrokerId> + '_ {
        self.brokers.keys().copied()
    }

    pub fn controller_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.controllers.keys().copied()
    }

    /// A running broker, or `None` when it is down or unknown.
    pub fn broker(&self, id: BrokerId) -> Option<&SimBroker> {
        match self.brokers.get(&id)? {
            Slot::Up(node) => Some(node),
            Slot::Down(_) => None,
        }
    }

    /// A broker's partition log, whether it is up or down (a crashed broker's disk is still there).
    pub fn broker_log(&self, id: BrokerId, tp: &TopicPartition) -> Option<&MemoryLog> {
        match self.brokers.get(&id)? {
            Slot::Up(node) => node.logs.get(tp),
            Slot::Down(durable) => durable.logs.get(tp),
        }
    }

    pub fn controller(&self, id: NodeId) -> Option<&SimController> {
        match self.controllers.get(&id)? {
            Slot::Up(node) => Some(node),
            Slot::Down(_) => None,
        }
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        if is_controller(id) { self.controller(id).is_some() } else { self.broker(id).is_some() }
    }

    /// The committed metadata as the active controller has it (the cluster's truth), or the
    /// most advanced controller's when none is active.
    pub fn active_image(&self) -> Option<&MetadataImage> {
        let controllers = self.controllers.values().filter_map(|slot| match slot {
            Slot::Up(node) => Some(node.as_ref()),
            Slot::Down(_) => None,
        });
        let mut best: Option<&SimController> = None;
        for node in controllers {
            let better = match best {
                None => true,
                Some(current) => {
                    (node.is_active() && !current.is_active())
                        || (node.is_active() == current.is_active() && node.image.offset > current.image.offset)
                }
            };
            if better {
                best = Some(node);
            }
        }
        best.map(|node| &node.image)
    }

    /// The active controller's id, if one is up and leading.
    pub fn active_controller(&self) -> Option<NodeId> {
        self.controllers.iter().find_map(|(id, slot)| match slot {
            Slot::Up(node) if node.is_active() => Some(*id),
            _ => None,
        })
    }

    /// Brokers that are down right now.
    pub fn brokers_down(&self) -> u32 {
        u32::try_from(self.brokers.values().filter(|slot| matches!(slot, Slot::Down(_))).count()).unwrap_or(0)
    }

    /// Performs a learner's action now and records it in the action log.
    pub fn apply(&mut self, action: Action) -> Result<(), ActionError> {
        self.perform(action.clone())?;
        self.actions.push(TimedAction { at_ms: self.now_ms, action });
        Ok(())
    }

    /// Performs an action now (the learner's or the preset scenario's).
    fn perform(&mut self, action: Action) -> Result<(), ActionError> {
        let now_ms = self.now_ms;
        match &action {
            Action::Produce { topic, partition, key, value, acks } => {
                if !matches!(acks, -1..=1) {
                    return Err(ActionError::InvalidAcks(*acks));
                }
                let partitions = self
                    .active_image()
                    .and_then(|image| image.topics.get(topic))
                    .map(|t| i32::try_from(t.partitions.len()).unwrap_or(0))
                    .ok_or_else(|| ActionError::UnknownTopic(topic.clone()))?;
                let partition = match (partition, key) {
                    (Some(partition), _) => *partition,
                    (None, Some(key)) => partition_for_key(key.as_bytes(), partitions),
                    (None, None) => 0,
                };
                if !(0..partitions).contains(&partition) {
                    return Err(ActionError::UnknownPartition { topic: topic.clone(), partition });
                }
                let record_id = self.next_record_id;
                self.next_record_id += 1;
                let tp = TopicPartition { topic: topic.clone(), partition };
                let attempt = ProduceAttempt {
                    record_id,
                    tp,
                    key: key.clone(),
                    value: value.clone(),
                    acks: *acks,
                    first_sent_ms: now_ms,
                    sent_ms: now_ms,
                    in_flight: false,
                };
                let request_id = self.client_request_id();
                self.client.produces.insert(request_id, attempt);
            }
            Action::Crash { node } => {
                let name = crate::core::event::node_name(*node);
                if is_controller(*node) {
                    let slot = self.controllers.get_mut(node).ok_or(ActionError::UnknownNode(*node))?;
                    let Slot::Up(controller) = slot else { return Err(ActionError::AlreadyDown(name)) };
                    *slot = Slot::Down(controller.quorum.durable_state());
                } else {
                    let slot = self.brokers.get_mut(node).ok_or(ActionError::UnknownNode(*node))?;
                    let Slot::Up(broker) = slot else { return Err(ActionError::AlreadyDown(name)) };
                    *slot = Slot::Down(BrokerDurable {
                        logs: broker.logs.clone(),
                        metadata: broker.quorum.durable_state(),
                    });
                }
                self.log(EventKind::Crashed { node: *node });
            }
            Action::Restart { node } => {
                let name = crate::core::event::node_name(*node);
                if is_controller(*node) {
                    let Some(Slot::Down(durable)) = self.controllers.get(node) else {
                        return Err(if self.controllers.contains_key(node) {
                            ActionError::NotDown(name)
                        } else {
                            ActionError::UnknownNode(*node)
                        });
                    };
                    let durable = durable.clone();
                    let controller = self.start_controller(*node, durable);
                    self.controllers.insert(*node, Slot::Up(Box::new(controller)));
                } else {
                    let Some(Slot::Down(durable)) = self.brokers.get(node) else {
                        return Err(if self.brokers.contains_key(node) {
                            ActionError::NotDown(name)
                        } else {
                            ActionError::UnknownNode(*node)
                        });
                    };
                    let durable = durable.clone();
                    let broker = self.start_broker(*node, durable);
                    self.brokers.insert(*node, Slot::Up(Box::new(broker)));
                }
                self.last_tick_ms.remove(node);
                self.log(EventKind::Restarted { node: *node });
            }
            Action::CutLink { a, b } | Action::HealLink { a, b } => {
                if a == b {
                    return Err(ActionError::SameNode);
                }
                for node in [*a, *b] {
                    let known =
                        node == CLIENT || self.brokers.contains_key(&node) || self.controllers.contains_key(&node);
                    if !known {
                        return Err(ActionError::UnknownNode(node));
                    }
                }
                if matches!(action, Action::CutLink { .. }) {
                    if self.network.cut(*a, *b) {
                        self.log(EventKind::LinkCut { a: *a, b: *b });
                    }
                } else if self.network.heal(*a, *b) {
                    self.log(EventKind::LinkHealed { a: *a, b: *b });
                }
            }
            Action::SetConfig { topic, name, value } => {
                if self.active_image().is_none_or(|image| !image.topics.contains_key(topic)) {
                    return Err(ActionError::UnknownTopic(topic.clone()));
                }
                if let Some(value) = value {
                    crate::core::config::validate_config(name, value).map_err(ActionError::InvalidConfig)?;
                }
                let request_id = self.client_request_id();
                let request = Message::AlterConfig {
                    request_id,
                    topic: topic.clone(),
                    configs: vec![(name.clone(), value.clone())],
                };
                self.client.admin.insert(request_id, (request, 0));
            }
        }
        self.client_work();
        Ok(())
    }

    fn log(&mut self, kind: EventKind) {
        self.events.push(Event { at_ms: self.now_ms, kind });
    }

    /// Advances the clock to `until_ms`, processing every message and timer due by then.
    pub fn run_until(&mut self, until_ms: u64) {
        while self.step_until(until_ms) {}
        self.now_ms = self.now_ms.max(until_ms);
        self.client_work();
    }

    /// Scenario steps that could not be performed: each step's `after_ms` and why (empty for a
    /// sound preset).
    pub fn scenario_errors(&self) -> &[(u64, ActionError)] {
        &self.scenario_errors
    }

    /// Processes the next message or timer if it is due by `until_ms`; false when none is.
    pub fn step_until(&mut self, until_ms: u64) -> bool {
        let next_message = self.network.next_delivery_ms();
        let next_timer = self.next_timer();
        let next = match (next_message, next_timer) {
            (Some(m), Some((t, _))) => m.min(t),
            (Some(m), None) => m,
            (None, Some((t, _))) => t,
            (None, None) => u64::MAX,
        };
        // A scenario step due first happens first (ties: before the messages of that instant).
        let next_script = self.scripted.front().map(|step| self.formed_at_ms + step.after_ms);
        if let Some(at_ms) = next_script.filter(|at| *at <= next && *at <= until_ms) {
            self.now_ms = self.now_ms.max(at_ms);
            if let Some(step) = self.scripted.pop_front()
                && let Err(error) = self.perform(step.action.clone())
            {
                self.scenario_errors.push((step.after_ms, error));
            }
            return true;
        }
        if next > until_ms {
            return false;
        }
        self.now_ms = self.now_ms.max(next);
        self.steps += 1;
        let mut out = Outbox::<SimPayload>::default();
        if next_message == Some(next) {
            if let Some((_, envelope)) = self.network.pop_due(next) {
                self.deliver(envelope, &mut out);
            }
        } else if let Some((_, node)) = next_timer {
            self.last_tick_ms.insert(node, self.now_ms);
            self.tick_node(node, &mut out);
        }
        self.dispatch(out);
        self.client_work();
        let mut checker = std::mem::take(&mut self.checker);
        checker.check_step(self);
        self.checker = checker;
        true
    }

    /// The earliest node timer, never twice for one node at one instant.
    fn next_timer(&self) -> Option<(u64, NodeId)> {
        let brokers = self.brokers.iter().filter_map(|(id, slot)| match slot {
            Slot::Up(node) => node.next_deadline_ms().map(|t| (t, *id)),
            Slot::Down(_) => None,
        });
        let controllers = self.controllers.iter().filter_map(|(id, slot)| match slot {
            Slot::Up(node) => node.next_deadline_ms().map(|t| (t, *id)),
            Slot::Down(_) => None,
        });
        let client = self.client_deadline_ms().map(|t| (t, CLIENT));
        brokers
            .chain(controllers)
            .chain(client)
            .map(|(t, id)| {
                let floor = self.last_tick_ms.get(&id).map_or(0, |last| last + 1);
                (t.max(floor).max(self.now_ms), id)
            })
            .min()
    }

    fn tick_node(&mut self, id: NodeId, out: &mut Outbox<SimPayload>) {
        let now_ms = self.now_ms;
        if id == CLIENT {
            self.client_work();
        } else if is_controller(id) {
            if let Some(Slot::Up(node)) = self.controllers.get_mut(&id) {
                node.tick(now_ms, out);
            }
        } else if let Some(Slot::Up(node)) = self.brokers.get_mut(&id) {
            node.tick(now_ms, out);
        }
    }

    fn deliver(&mut self, envelope: Envelope, out: &mut Outbox<SimPayload>) {
        let now_ms = self.now_ms;
        let Envelope { from, to, message } = envelope;
        if to == CLIENT {
            self.client_receive(from, message);
        } else if is_controller(to) {
            if let Some(Slot::Up(node)) = self.controllers.get_mut(&to) {
                node.handle(now_ms, from, message, out);
            }
        } else if let Some(Slot::Up(node)) = self.brokers.get_mut(&to) {
            node.handle(now_ms, from, message, out);
        }
    }

    /// Sends what the nodes sent, logs their events, and checks newly committed records.
    fn dispatch(&mut self, out: Outbox<SimPayload>) {
        for (from, to, message) in out.messages {
            self.network.send(self.now_ms, &mut self.rng, Envelope { from, to, message });
        }
        for event in out.events {
            if let EventKind::Truncated { tp, from_offset, to_offset, leader, .. } = &event.kind {
                let (tp, from_offset, to_offset, leader) = (tp.clone(), *from_offset, *to_offset, *leader);
                self.events.push(event);
                self.check_loss(leader, &tp, to_offset, from_offset);
            } else {
                self.events.push(event);
            }
        }
        for (request_id, _, tp, isr) in out.acks_all_completed {
            let controller_isr =
                self.active_image().and_then(|i| i.partition(&tp.topic, tp.partition)).map(|p| p.isr.clone());
            if controller_isr.is_some_and(|committed| isr.iter().any(|id| !committed.contains(id))) {
                self.acked_by_stale_leader.insert(request_id);
            }
        }
        for (leader, tp, old, new) in out.high_watermark_advances {
            self.check_loss(leader, &tp, old, new);
        }
    }

    /// Acknowledged records at offsets `[from, to)` of `tp` that `leader`'s log does not hold
    /// are lost: the leader's log is the partition.
    fn check_loss(&mut self, leader: BrokerId, tp: &TopicPartition, from: i64, to: i64) {
        let Some(log) = self.broker_log(leader, tp) else { return };
        let Some(by_offset) = self.acked_by_offset.get(tp).filter(|_| from < to) else { return };
        let lost: Vec<AckedRecord> = by_offset
            .range(from..to)
            .flat_map(|(_, indexes)| indexes.iter().filter_map(|&i| self.acked.get(i)))
            .filter(|a| !self.checker.is_lost(a.record_id))
            .filter(|a| log.record_at(a.offset).is_none_or(|r| r.id != a.record_id))
            .cloned()
            .collect();
        let image = if lost.is_empty() { None } else { self.active_image().cloned() };
        for record in lost {
            self.checker.record_loss(self.now_ms, &record, image.as_ref());
            self.log(EventKind::AcknowledgedRecordLost {
                tp: record.tp.clone(),
                offset: record.offset,
                acks: record.acks,
                value: record.value.clone(),
                by_stale_leader: record.acked_by_stale_leader,
            });
        }
    }

    // --- the client ---------------------------------------------------------------------

    /// The metadata the producer sees: the image of the first running broker it can reach
    /// (its bootstrap servers are all brokers).
    fn client_metadata(&self) -> Option<&MetadataImage> {
        self.brokers.iter().find_map(|(id, slot)| match slot {
            Slot::Up(node) if !self.network.is_cut(CLIENT, *id) && !node.image.topics.is_empty() => Some(&node.image),
            _ => None,
        })
    }

    fn client_deadline_ms(&self) -> Option<u64> {
        let produces = self.client.produces.values().map(|p| {
            if p.in_flight {
                (p.sent_ms + REQUEST_TIMEOUT_MS).min(p.first_sent_ms + DELIVERY_TIMEOUT_MS)
            } else {
                p.sent_ms
            }
        });
        let admin = self.client.admin.values().map(|(_, sent)| if *sent == 0 { self.now_ms } else { sent + 1_000 });
        produces.chain(admin).min()
    }

    /// Sends due produce attempts and admin requests, and expires what took too long.
    fn client_work(&mut self) {
        let now_ms = self.now_ms;
        let mut sends = Vec::new();
        let mut failures = Vec::new();
        let metadata = self.client_metadata().cloned();
        for (request_id, attempt) in &mut self.client.produces {
            if now_ms >= attempt.first_sent_ms + DELIVERY_TIMEOUT_MS {
                failures.push(*request_id);
                continue;
            }
            if attempt.in_flight && now_ms >= attempt.sent_ms + REQUEST_TIMEOUT_MS {
                attempt.in_flight = false;
            }
            if attempt.in_flight || now_ms < attempt.sent_ms {
                continue;
            }
            let leader = metadata
                .as_ref()
                .and_then(|image| image.partition(&attempt.tp.topic, attempt.tp.partition))
                .map_or(NO_LEADER, |p| p.leader);
            if leader == NO_LEADER {
                attempt.sent_ms = now_ms + RETRY_BACKOFF_MS;
                continue;
            }
            attempt.in_flight = attempt.acks != 0;
            attempt.sent_ms = now_ms;
            sends.push((
                leader,
                Message::Produce {
                    request_id: *request_id,
                    tp: attempt.tp.clone(),
                    acks: attempt.acks,
                    records: ProducedRecord {
                        key: attempt.key.clone(),
                        value: attempt.value.clone(),
                        id: attempt.record_id,
                    },
                },
            ));
            if attempt.acks == 0 {
                failures.push(*request_id); // fire and forget: nothing to wait for
            }
        }
        for request_id in failures {
            if let Some(attempt) = self.client.produces.remove(&request_id)
                && attempt.acks != 0
            {
                let kind =
                    EventKind::ProduceFailed { tp: attempt.tp, error: ErrorCode::RequestTimedOut, will_retry: false };
                self.events.push(Event { at_ms: now_ms, kind });
            }
        }
        let controller = self.active_controller();
        for (request, sent) in self.client.admin.values_mut() {
            if (*sent == 0 || now_ms >= *sent + 1_000)
                && let Some(controller) = controller
            {
                *sent = now_ms.max(1);
                sends.push((controller, request.clone()));
            }
        }
        for (to, message) in sends {
            self.network.send(now_ms, &mut self.rng, Envelope { from: CLIENT, to, message });
        }
    }

    fn client_receive(&mut self, _from: NodeId, message: SimMessage) {
        let now_ms = self.now_ms;
        match message {
            Message::ProduceResponse { request_id, tp, error, base_offset, .. } => {
                let Some(attempt) = self.client.produces.get_mut(&request_id) else { return };
                if !attempt.in_flight {
                    return; // an answer to an attempt the producer gave up on
                }
                if error == ErrorCode::None {
                    let Some(attempt) = self.client.produces.remove(&request_id) else { return };
                    let min_insync_replicas = self
                        .active_image()
                        .and_then(|image| image.topics.get(&tp.topic))
                        .map_or(1, |t| t.configs.get_i64("min.insync.replicas"));
                    let brokers_down = self.brokers_down();
                    let index = self.acked.len();
                    self.acked_by_offset.entry(tp.clone()).or_default().entry(base_offset).or_default().push(index);
                    self.acked.push(AckedRecord {
                        record_id: attempt.record_id,
                        tp: tp.clone(),
                        offset: base_offset,
                        acks: attempt.acks,
                        value: attempt.value.clone(),
                        min_insync_replicas,
                        at_ms: now_ms,
                        brokers_down,
                        acked_by_stale_leader: self.acked_by_stale_leader.remove(&request_id),
                    });
                    self.log(EventKind::Acknowledged {
                        tp,
                        offset: base_offset,
                        acks: attempt.acks,
                        value: attempt.value.clone(),
                    });
                } else {
                    attempt.in_flight = false;
                    attempt.sent_ms = now_ms + RETRY_BACKOFF_MS;
                    self.log(EventKind::ProduceFailed { tp, error, will_retry: true });
                }
            }
            // NOT_CONTROLLER: the request stays and goes to the next active controller.
            Message::AlterConfigResponse { request_id, error } | Message::CreateTopicResponse { request_id, error }
                if error != ErrorCode::NotController =>
            {
                self.client.admin.remove(&request_id);
            }
            _ => {}
        }
    }

    /// Whether the run has reached `goal` so far.
    pub fn reached(&self, goal: &Goal) -> bool {
        goal.reached(self)
    }
}

/// A replay that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Preset(#[from] PresetError),
    #[error("the action at {at_ms} ms failed: {error}")]
    Action { at_ms: u64, error: ActionError },
}

fn validate(preset: &Preset) -> Result<(), PresetError> {
    if !(1..=MAX_BROKERS).contains(&preset.brokers) {
        return Err(PresetError::Brokers(preset.brokers));
    }
    if ![1, 3, 5].contains(&preset.controllers) {
        return Err(PresetError::Controllers(preset.controllers));
    }
    for topic in &preset.topics {
        if !(1..=MAX_PARTITIONS).contains(&topic.partitions) {
            return Err(PresetError::Partitions(topic.name.clone()));
        }
        if topic.replication_factor < 1 || i64::from(topic.replication_factor) > i64::from(preset.brokers) {
            return Err(PresetError::ReplicationFactor(topic.name.clone()));
        }
        for (name, value) in &topic.configs {
            crate::core::config::validate_config(name, value)
                .map_err(|message| PresetError::Config { topic: topic.name.clone(), message })?;
        }
    }
    Ok(())
}
