//! Goals a lesson's simulator block can set. Each is a fact about a run that the server can
//! check by replaying the learner's seed and action log natively, so a goal cannot be claimed
//! by a page that merely says so.

use crate::core::ErrorCode;

use super::Simulation;
use crate::core::event::EventKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Lose a record the producer was told had been written.
    LoseAcknowledgedRecord,
    /// Get a record acknowledged with acks=all while at least this many brokers are down.
    ProduceWhileBrokersDown { brokers: u32 },
    /// Get a produce refused with NOT_ENOUGH_REPLICAS.
    NotEnoughReplicas,
    /// Make the controllers elect a new quorum leader.
    NewQuorumLeader,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown goal {0:?}: expected lose-acknowledged-record, produce-while-brokers-down:N, not-enough-replicas or new-quorum-leader"
)]
pub struct UnknownGoal(pub String);

impl std::str::FromStr for Goal {
    type Err = UnknownGoal;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownGoal(text.to_owned());
        match text.trim() {
            "lose-acknowledged-record" => Ok(Goal::LoseAcknowledgedRecord),
            "not-enough-replicas" => Ok(Goal::NotEnoughReplicas),
            "new-quorum-leader" => Ok(Goal::NewQuorumLeader),
            other => {
                let count = other.strip_prefix("produce-while-brokers-down:").ok_or_else(unknown)?;
                let brokers = count.parse().ok().filter(|n| (1..=6).contains(n)).ok_or_else(unknown)?;
                Ok(Goal::ProduceWhileBrokersDown { brokers })
            }
        }
    }
}

impl std::fmt::Display for Goal {
    /// The goal's id, as a lesson writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Goal::LoseAcknowledgedRecord => write!(f, "lose-acknowledged-record"),
            Goal::ProduceWhileBrokersDown { brokers } => write!(f, "produce-while-brokers-down:{brokers}"),
            Goal::NotEnoughReplicas => write!(f, "not-enough-replicas"),
            Goal::NewQuorumLeader => write!(f, "new-quorum-leader"),
        }
    }
}

impl Goal {
    /// What the learner is asked to do, for the page.
    pub fn description(&self) -> String {
        match self {
            Goal::LoseAcknowledgedRecord => "Lose a record the producer was told had been written.".to_owned(),
            Goal::ProduceWhileBrokersDown { brokers } => {
                format!("Get a record acknowledged with acks=all while {brokers} brokers are down.")
            }
            Goal::NotEnoughReplicas => "Make the leader refuse a write with NOT_ENOUGH_REPLICAS.".to_owned(),
            Goal::NewQuorumLeader => "Make the controller quorum elect a new leader.".to_owned(),
        }
    }

    pub fn reached(&self, simulation: &Simulation) -> bool {
        let formed_at_ms = simulation.formed_at_ms();
        let after_formation = simulation.events().iter().filter(|e| e.at_ms > formed_at_ms);
        match self {
            Goal::LoseAcknowledgedRecord => !simulation.checker().losses().is_empty(),
            Goal::ProduceWhileBrokersDown { brokers } => {
                simulation.acked().iter().any(|a| a.acks == -1 && a.brokers_down >= *brokers)
            }
            Goal::NotEnoughReplicas => after_formation
                .into_iter()
                .any(|e| matches!(e.kind, EventKind::ProduceFailed { error: ErrorCode::NotEnoughReplicas, .. })),
            Goal::NewQuorumLeader => {
                let first = simulation
                    .events()
                    .iter()
                    .filter(|e| e.at_ms <= formed_at_ms)
                    .filter_map(|e| match e.kind {
                        EventKind::ControllerActivated { epoch, .. } => Some(epoch),
                        _ => None,
                    })
                    .max();
                simulation
                    .events()
                    .iter()
                    .filter(|e| e.at_ms > formed_at_ms)
                    .any(|e| matches!(e.kind, EventKind::ControllerActivated { epoch, .. } if Some(epoch) > first))
            }
        }
    }
}
