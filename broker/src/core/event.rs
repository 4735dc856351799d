//! The cluster's event log: every transition, in the words Kafka's own logs and docs use, so a
//! learner can read what happened and why ("broker 2 left the ISR of orders-0: it fell 30 s
//! behind"). The nodes write most events; the simulator adds its client's and checkers' (the
//! acknowledgements, losses and invariant violations). Tests assert on these events, so they are
//! also the simulator's observable contract.

use crate::core::ErrorCode;
use crate::core::quorum::QuorumEvent;
use crate::core::replica::BrokerId;

use super::message::TopicPartition;
use super::node::NodeId;

/// One line of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at_ms: u64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A transition of a controller's (or a broker's metadata) quorum state.
    Quorum {
        node: NodeId,
        event: QuorumEvent,
    },
    /// The node became (or stopped being) the active controller.
    ControllerActivated {
        controller: NodeId,
        epoch: i32,
    },
    BrokerRegistered {
        broker: BrokerId,
        broker_epoch: i64,
    },
    RegistrationRefused {
        broker: BrokerId,
        error: ErrorCode,
    },
    BrokerFenced {
        broker: BrokerId,
        session_timeout_ms: u64,
        /// It asked to stop (controlled shutdown) rather than missing its heartbeats.
        controlled_shutdown: bool,
    },
    BrokerUnfenced {
        broker: BrokerId,
    },
    /// The controller elected a leader (or found none).
    LeaderElected {
        tp: TopicPartition,
        leader: BrokerId,
        leader_epoch: i32,
        unclean: bool,
    },
    IsrShrunk {
        tp: TopicPartition,
        leader: BrokerId,
        removed: Vec<BrokerId>,
        lag_ms: u64,
        lag_max_ms: u64,
        isr: Vec<BrokerId>,
    },
    IsrExpanded {
        tp: TopicPartition,
        leader: BrokerId,
        added: Vec<BrokerId>,
        isr: Vec<BrokerId>,
    },
    /// The controller changed a partition's eligible leader replicas (KIP-966).
    EligibleLeaderReplicasChanged {
        tp: TopicPartition,
        elr: Vec<BrokerId>,
        isr: Vec<BrokerId>,
    },
    /// The controller took fenced brokers out of an ISR.
    RemovedFromIsr {
        tp: TopicPartition,
        removed: Vec<BrokerId>,
        isr: Vec<BrokerId>,
    },
    /// A broker could not create, write or truncate a partition's log (a disk error in the
    /// runtime): it serves the partition again once the log works.
    LogUnavailable {
        broker: BrokerId,
        tp: TopicPartition,
        error: ErrorCode,
    },
    /// A broker deleted a log left by an earlier topic of the same name (KIP-516).
    StrayLogDeleted {
        broker: BrokerId,
        tp: TopicPartition,
    },
    BecameLeader {
        broker: BrokerId,
        tp: TopicPartition,
        leader_epoch: i32,
        log_end_offset: i64,
    },
    BecameFollower {
        broker: BrokerId,
        tp: TopicPartition,
        leader: BrokerId,
        leader_epoch: i32,
    },
    /// A follower cut the tail its leader does not have (KIP-279).
    Truncated {
        broker: BrokerId,
        tp: TopicPartition,
        from_offset: i64,
        to_offset: i64,
        leader: BrokerId,
    },
    Produced {
        tp: TopicPartition,
        leader: BrokerId,
        offset: i64,
        acks: i16,
        /// What was produced, as the driver's payload describes it (a quoted value, "3 records").
        value: String,
    },
    Acknowledged {
        tp: TopicPartition,
        offset: i64,
        acks: i16,
        value: String,
    },
    ProduceFailed {
        tp: TopicPartition,
        error: ErrorCode,
        will_retry: bool,
    },
    /// A record the producer was told is written is gone from the partition for good.
    AcknowledgedRecordLost {
        tp: TopicPartition,
        offset: i64,
        acks: i16,
        value: String,
        /// The leader that acknowledged it counted an ISR the controller had already shrunk.
        by_stale_leader: bool,
    },
    Crashed {
        node: NodeId,
    },
    Restarted {
        node: NodeId,
    },
    LinkCut {
        a: NodeId,
        b: NodeId,
    },
    LinkHealed {
        a: NodeId,
        b: NodeId,
    },
    ConfigChanged {
        topic: String,
        name: String,
        value: Option<String>,
    },
    /// A dynamic broker config changed: on one broker, or the cluster-wide default (`None`).
    BrokerConfigChanged {
        broker: Option<BrokerId>,
        name: String,
        value: Option<String>,
    },
    /// An invariant checker found a violation: a bug in the simulated Kafka, never expected.
    InvariantViolated {
        what: String,
    },
}

impl EventKind {
    /// A short category for styling and filtering the log in the view.
    pub fn category(&self) -> &'static str {
        match self {
            EventKind::Quorum { .. } | EventKind::ControllerActivated { .. } => "quorum",
            EventKind::BrokerRegistered { .. }
            | EventKind::RegistrationRefused { .. }
            | EventKind::BrokerFenced { .. }
            | EventKind::BrokerUnfenced { .. } => "broker",
            EventKind::LeaderElected { .. }
            | EventKind::IsrShrunk { .. }
            | EventKind::IsrExpanded { .. }
            | EventKind::RemovedFromIsr { .. }
            | EventKind::EligibleLeaderReplicasChanged { .. }
            | EventKind::BecameLeader { .. }
            | EventKind::BecameFollower { .. }
            | EventKind::Truncated { .. }
            | EventKind::LogUnavailable { .. }
            | EventKind::StrayLogDeleted { .. } => "replication",
            EventKind::Produced { .. } | EventKind::Acknowledged { .. } | EventKind::ProduceFailed { .. } => "client",
            EventKind::AcknowledgedRecordLost { .. } | EventKind::InvariantViolated { .. } => "loss",
            EventKind::Crashed { .. }
            | EventKind::Restarted { .. }
            | EventKind::LinkCut { .. }
            | EventKind::LinkHealed { .. }
            | EventKind::ConfigChanged { .. }
            | EventKind::BrokerConfigChanged { .. } => "action",
        }
    }
}

/// How the view names a node: brokers by number, controllers as in `controller.quorum.voters`.
pub fn node_name(node: NodeId) -> String {
    match node {
        super::node::CLIENT => "the producer".to_owned(),
        id if super::node::is_controller(id) => format!("controller {id}"),
        id => format!("broker {id}"),
    }
}

fn acks_name(acks: i16) -> &'static str {
    match acks {
        0 => "acks=0",
        1 => "acks=1",
        _ => "acks=all",
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventKind::Quorum { node, event } => write!(f, "{} {event}", node_name(*node)),
            EventKind::ControllerActivated { controller, epoch } => {
                write!(f, "controller {controller} is the active controller (epoch {epoch})")
            }
            EventKind::BrokerRegistered { broker, broker_epoch } => {
                write!(
                    f,
                    "broker {broker} registered with the controller (broker epoch {broker_epoch}); fenced until it catches up with the metadata log"
                )
            }
            EventKind::RegistrationRefused { broker, error } => write!(
                f,
                "broker {broker}'s registration was refused ({}): its previous session has not expired yet",
                error.name()
            ),
            EventKind::BrokerFenced { broker, controlled_shutdown: true, .. } => write!(
                f,
                "the controller fenced broker {broker}: it is shutting down (controlled shutdown), so its leadership moves now"
            ),
            EventKind::BrokerFenced { broker, session_timeout_ms, controlled_shutdown: false } => write!(
                f,
                "the controller fenced broker {broker}: no heartbeat for {} s (broker.session.timeout.ms)",
                session_timeout_ms / 1000
            ),
            EventKind::BrokerUnfenced { broker } => {
                write!(f, "the controller unfenced broker {broker}: it caught up with the metadata log")
            }
            EventKind::LeaderElected { tp, leader, leader_epoch, unclean } => match (*leader, *unclean) {
                (-1, _) => {
                    write!(
                        f,
                        "{tp} has no leader: no replica in its ISR or ELR is available (leader epoch {leader_epoch})"
                    )
                }
                (leader, false) => {
                    write!(f, "broker {leader} was elected leader of {tp} (leader epoch {leader_epoch})")
                }
                (leader, true) => write!(
                    f,
                    "UNCLEAN election: broker {leader} became leader of {tp} from outside the ISR (leader epoch {leader_epoch}); records it never copied are lost"
                ),
            },
            EventKind::IsrShrunk { tp, leader, removed, lag_ms, lag_max_ms, isr } => {
                let who = brokers(removed);
                write!(
                    f,
                    "{who} left the ISR of {tp}: {} {} s behind leader {leader} (replica.lag.time.max.ms is {} s); ISR is now {isr:?}",
                    if removed.len() == 1 { "it fell" } else { "they fell" },
                    lag_ms / 1000,
                    lag_max_ms / 1000
                )
            }
            EventKind::IsrExpanded { tp, leader, added, isr } => {
                write!(
                    f,
                    "{} caught up with leader {leader} and joined the ISR of {tp}; ISR is now {isr:?}",
                    brokers(added)
                )
            }
            EventKind::EligibleLeaderReplicasChanged { tp, elr, isr } => {
                if elr.is_empty() {
                    write!(f, "{tp} has no eligible leader replicas (ELR) any more; ISR is {isr:?}")
                } else {
                    write!(
                        f,
                        "{tp} is below min.insync.replicas with ISR {isr:?}: its high watermark stands still, so {} still hold{} every committed record and may lead cleanly (ELR {elr:?})",
                        brokers(elr),
                        if elr.len() == 1 { "s" } else { "" }
                    )
                }
            }
            EventKind::RemovedFromIsr { tp, removed, isr } => write!(
                f,
                "the controller removed {} from the ISR of {tp}: fenced brokers are not in sync; ISR is now {isr:?}",
                brokers(removed)
            ),
            EventKind::BecameLeader { broker, tp, leader_epoch, log_end_offset } => write!(
                f,
                "broker {broker} is now leader of {tp} in leader epoch {leader_epoch}, from log end offset {log_end_offset}"
            ),
            EventKind::BecameFollower { broker, tp, leader, leader_epoch } => match *leader {
                -1 => write!(f, "broker {broker} follows {tp}, which has no leader (leader epoch {leader_epoch})"),
                leader => {
                    write!(f, "broker {broker} now follows leader {leader} for {tp} (leader epoch {leader_epoch})")
                }
            },
            EventKind::Truncated { broker, tp, from_offset, to_offset, leader } => write!(
                f,
                "broker {broker} truncated {tp} from offset {from_offset} to {to_offset}: leader {leader} never had those records (their leader epoch diverged)"
            ),
            EventKind::LogUnavailable { broker, tp, error } => {
                write!(f, "broker {broker} cannot use its log of {tp}: {}", error.name())
            }
            EventKind::StrayLogDeleted { broker, tp } => write!(
                f,
                "broker {broker} deleted its log of {tp}: it belonged to an earlier topic of that name, deleted while the broker was down"
            ),
            EventKind::Produced { tp, leader, offset, acks, value } => {
                write!(f, "leader {leader} appended {value} to {tp} at offset {offset} ({})", acks_name(*acks))
            }
            EventKind::Acknowledged { tp, offset, acks, value } => {
                write!(
                    f,
                    "the producer got the acknowledgement for {value:?}: {tp} offset {offset} ({})",
                    acks_name(*acks)
                )
            }
            EventKind::ProduceFailed { tp, error, will_retry } => write!(
                f,
                "a produce to {tp} failed with {}{}",
                error.name(),
                if *will_retry { "; the producer retries" } else { "; the producer gives up" }
            ),
            EventKind::AcknowledgedRecordLost { tp, offset, acks, value, by_stale_leader } => write!(
                f,
                "DATA LOSS: the record {value:?} at {tp} offset {offset} was acknowledged ({}) but is gone from the partition{}",
                acks_name(*acks),
                if *by_stale_leader {
                    " (its leader was cut off from the controller and still counted a replica the controller had removed from the ISR)"
                } else {
                    ""
                }
            ),
            EventKind::Crashed { node } => write!(f, "{} crashed", node_name(*node)),
            EventKind::Restarted { node } => write!(f, "{} restarted from what it had on disk", node_name(*node)),
            EventKind::LinkCut { a, b } => {
                write!(f, "the network link between {} and {} is cut", node_name(*a), node_name(*b))
            }
            EventKind::LinkHealed { a, b } => {
                write!(f, "the network link between {} and {} is back", node_name(*a), node_name(*b))
            }
            EventKind::ConfigChanged { topic, name, value } => match value {
                Some(value) => write!(f, "topic {topic}: {name} set to {value}"),
                None => write!(f, "topic {topic}: {name} back to its default"),
            },
            EventKind::BrokerConfigChanged { broker, name, value } => {
                match broker {
                    Some(id) => write!(f, "broker {id}: ")?,
                    None => write!(f, "cluster-wide broker default: ")?,
                }
                match value {
                    Some(value) => write!(f, "{name} set to {value}"),
                    None => write!(f, "{name} back to its default"),
                }
            }
            EventKind::InvariantViolated { what } => write!(f, "INVARIANT VIOLATED: {what}"),
        }
    }
}

fn brokers(ids: &[BrokerId]) -> String {
    match ids {
        [one] => format!("broker {one}"),
        many => format!("brokers {}", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    }
}

impl std::fmt::Display for QuorumEvent {
    /// The tail of a log line that starts with the node's name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::core::quorum::VoteRejectReason;
        match self {
            QuorumEvent::ElectionTimeout { epoch } => {
                write!(f, "heard from no leader within its election timeout (epoch {epoch})")
            }
            QuorumEvent::BecameCandidate { epoch } => {
                write!(f, "stands for election in epoch {epoch} and votes for itself")
            }
            QuorumEvent::ElectionBackoff { epoch, backoff_ms } => {
                write!(f, "lost the election of epoch {epoch}; tries again in {backoff_ms} ms")
            }
            QuorumEvent::VoteGranted { to, epoch } => write!(f, "voted for controller {to} in epoch {epoch}"),
            QuorumEvent::VoteRejected { to, epoch, reason } => {
                let why = match reason {
                    VoteRejectReason::StaleEpoch => "its epoch is old".to_owned(),
                    VoteRejectReason::AlreadyVoted { voted_for } => {
                        format!("it already voted for controller {voted_for}")
                    }
                    VoteRejectReason::LeaderKnown { leader_id } => format!("controller {leader_id} already leads"),
                    VoteRejectReason::LogBehind => "the candidate's metadata log is behind its own".to_owned(),
                    VoteRejectReason::NotAVoter => "the candidate is not a voter".to_owned(),
                };
                write!(f, "refused its vote to controller {to} in epoch {epoch}: {why}")
            }
            QuorumEvent::BecameLeader { epoch } => {
                write!(f, "won the election: leader of the metadata quorum in epoch {epoch}")
            }
            QuorumEvent::BecameFollower { epoch, leader_id } => {
                write!(f, "follows controller {leader_id}, the quorum leader of epoch {epoch}")
            }
            QuorumEvent::BecameUnattached { epoch } => write!(f, "knows of epoch {epoch} but not its leader"),
            QuorumEvent::Truncated { to_offset } => {
                write!(
                    f,
                    "truncated its metadata log to offset {to_offset}: the entries after it diverged from the leader's"
                )
            }
            QuorumEvent::HighWatermark { high_watermark } => write!(f, "metadata high watermark is {high_watermark}"),
            QuorumEvent::LeaderResigned { epoch } => write!(
                f,
                "resigned as quorum leader of epoch {epoch}: no fetch from a majority of voters within quorum.fetch.timeout.ms"
            ),
            QuorumEvent::FetchTimeout { leader_id, epoch } => write!(
                f,
                "got no answer from leader controller {leader_id} within quorum.fetch.timeout.ms (epoch {epoch})"
            ),
        }
    }
}
