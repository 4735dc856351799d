//! One partition's next state: Kafka's `PartitionChangeBuilder`, trimmed to what is modelled
//! (no reassignments, no directories, no leader recovery state).
//!
//! Every controller decision that touches a partition (a broker fenced or unfenced, a leader's
//! AlterPartition, a restart after an unclean shutdown, an election) names the ISR it wants and
//! the election it allows; [`PartitionChange::build`] then works out, in Kafka's order:
//!
//! 1. the eligible leader replicas (KIP-966). While the ISR is at least the topic's effective
//!    `min.insync.replicas` (capped at the replication factor) there are none. Below it, the
//!    high watermark cannot move (the "strict min ISR" rule the leader applies), so a replica
//!    leaving the ISR still holds every committed record: it joins the ELR, unless it just came
//!    back from an unclean shutdown and may have lost what it had;
//! 2. the leader: the current one if still acceptable, else the first replica that is in the ISR
//!    (or, with an empty ISR, in the ELR) and unfenced; else the last known leader if it is back;
//!    else, with unclean election allowed, any unfenced replica; else none. A leader taken from
//!    the ELR becomes the whole ISR; so does an unclean one, and an unclean one clears the ELR;
//! 3. the last known leader, recorded when the ISR becomes empty and cleared once the
//!    partition has a leader again.
//!
//! With ELR off (Kafka before 4.1, `eligible.leader.replicas.version=0`) the ISR never becomes
//! empty: its last member stays in, leaderless, and leads again cleanly when it returns.

use super::super::metadata::{MetadataImage, MetadataRecord, NO_LEADER, PartitionRegistration};
use super::super::replica::BrokerId;

/// Which leaders an election may pick (Kafka's `PartitionChangeBuilder.Election`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Election {
    /// The preferred replica (the first one) if it may lead, else as [`Election::Clean`].
    Preferred,
    /// From the ISR, or the ELR when the ISR is empty, or the last known leader.
    Clean,
    /// As [`Election::Clean`], then any unfenced replica (`unclean.leader.election.enable`).
    Unclean,
}

/// How [`PartitionChange::elect_leader`] found its leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elected {
    /// From the ISR, or the ELR while the ISR is empty (or no leader at all).
    Clean,
    /// The last known leader of a partition whose ISR and ELR are empty. Kafka counts this
    /// election as unclean, since its brokers acknowledge records before they reach the disk
    /// and a crashed leader may have lost some. A Streamlab leader fsyncs an acks=all record
    /// before it acknowledges it (group commit), so the last leader still holds every one: it
    /// is not counted among the unclean elections, though it becomes the whole ISR as in Kafka.
    LastKnownLeader,
    /// Any unfenced replica, outside the ISR and ELR (`unclean.leader.election.enable`).
    Unclean,
}

/// A pending change to one partition; [`PartitionChange::build`] returns its record, if any.
pub(super) struct PartitionChange<'a> {
    image: &'a MetadataImage,
    topic: &'a str,
    partition: i32,
    current: &'a PartitionRegistration,
    target_isr: Vec<BrokerId>,
    election: Election,
    elr_enabled: bool,
    /// A broker that may not lead: it is being fenced.
    broker_to_remove: Option<BrokerId>,
    /// A broker back from an unclean shutdown: it may not lead and leaves the ISR and ELR.
    unclean_shutdown: Option<BrokerId>,
}

impl<'a> PartitionChange<'a> {
    /// A change that keeps the ISR, with a clean election (unclean where the topic allows it).
    pub(super) fn new(
        image: &'a MetadataImage,
        topic: &'a str,
        partition: i32,
        current: &'a PartitionRegistration,
        elr_enabled: bool,
    ) -> Self {
        // The topic's own setting, else the cluster-wide default: the controller has no broker
        // layer of its own (Kafka's `ConfigurationControlManager.uncleanLeaderElectionEnabledForTopic`).
        let unclean_allowed =
            image.topic_config(topic, None, "unclean.leader.election.enable").is_some_and(|v| v == "true");
        PartitionChange {
            image,
            topic,
            partition,
            current,
            target_isr: current.isr.clone(),
            election: if unclean_allowed { Election::Unclean } else { Election::Clean },
            elr_enabled,
            broker_to_remove: None,
            unclean_shutdown: None,
        }
    }

    pub(super) fn target_isr(mut self, isr: Vec<BrokerId>) -> Self {
        self.target_isr = isr;
        self
    }

    pub(super) fn election(mut self, election: Election) -> Self {
        self.election = election;
        self
    }

    /// `broker_id` is being fenced: out of the ISR, and not a leader candidate.
    pub(super) fn fencing(mut self, broker_id: BrokerId) -> Self {
        self.target_isr.retain(|&id| id != broker_id);
        self.broker_to_remove = Some(broker_id);
        self
    }

    /// `broker_id` registered a new incarnation without a clean shutdown (Kafka's
    /// `handleBrokerUncleanShutdown`): out of the ISR and ELR, and not a leader candidate.
    pub(super) fn unclean_shutdown(mut self, broker_id: BrokerId) -> Self {
        self.target_isr.retain(|&id| id != broker_id);
        self.unclean_shutdown = Some(broker_id);
        self
    }

    /// The topic's `min.insync.replicas`, capped at the replication factor (Kafka's
    /// `getTopicEffectiveMinIsr`).
    fn effective_min_isr(&self) -> usize {
        let min_isr = self
            .image
            .topic_config(self.topic, None, "min.insync.replicas")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1);
        min_isr.clamp(1, self.current.replicas.len().max(1))
    }

    fn acceptable_leader(&self, broker_id: BrokerId) -> bool {
        Some(broker_id) != self.broker_to_remove
            && Some(broker_id) != self.unclean_shutdown
            && self.image.is_active(broker_id)
    }

    /// In the ISR, or in the ELR while the ISR is empty, and acceptable.
    fn valid_new_leader(&self, broker_id: BrokerId, elr: &[BrokerId]) -> bool {
        (self.target_isr.contains(&broker_id) || (self.target_isr.is_empty() && elr.contains(&broker_id)))
            && self.acceptable_leader(broker_id)
    }

    /// Kafka's `canElectLastKnownLeader`: ISR and ELR empty, one last known leader, back up.
    fn last_known_leader(&self, elr: &[BrokerId]) -> Option<BrokerId> {
        match self.current.last_known_elr.as_slice() {
            [leader] if self.elr_enabled && elr.is_empty() && self.target_isr.is_empty() => {
                self.acceptable_leader(*leader).then_some(*leader)
            }
            _ => None,
        }
    }

    /// The leader, and how it was found.
    fn elect_leader(&self, elr: &[BrokerId]) -> (BrokerId, Elected) {
        let replicas = &self.current.replicas;
        if self.election == Election::Preferred
            && let Some(&preferred) = replicas.first()
            && self.valid_new_leader(preferred, elr)
        {
            return (preferred, Elected::Clean);
        }
        if self.current.leader != NO_LEADER && self.valid_new_leader(self.current.leader, elr) {
            return (self.current.leader, Elected::Clean);
        }
        if let Some(leader) = replicas.iter().copied().find(|&id| self.valid_new_leader(id, elr)) {
            return (leader, Elected::Clean);
        }
        if let Some(leader) = self.last_known_leader(elr) {
            return (leader, Elected::LastKnownLeader);
        }
        if self.election == Election::Unclean
            && let Some(leader) = replicas.iter().copied().find(|&id| self.acceptable_leader(id))
        {
            return (leader, Elected::Unclean);
        }
        (NO_LEADER, Elected::Clean)
    }

    /// The record for this change, or `None` when nothing changes.
    pub(super) fn build(self) -> Option<MetadataRecord> {
        let current = self.current;
        let mut target_isr = self.target_isr.clone();
        // 1. The ELR (Kafka's `maybePopulateTargetElr`), in replica order for determinism.
        let mut target_elr = current.elr.clone();
        if self.elr_enabled {
            if target_isr.len() >= self.effective_min_isr() {
                target_elr.clear();
            } else {
                target_elr = current
                    .replicas
                    .iter()
                    .copied()
                    .filter(|id| current.elr.contains(id) || current.isr.contains(id))
                    .filter(|id| !target_isr.contains(id) && Some(*id) != self.unclean_shutdown)
                    .collect();
            }
        }
        // 2. The leader (Kafka's `tryElection`).
        let (leader, elected) = self.elect_leader(&target_elr);
        let mut isr_change = None;
        let mut leader_change = None;
        if leader != current.leader {
            if target_elr.contains(&leader) {
                target_isr = vec![leader];
                target_elr.retain(|&id| id != leader);
            }
            leader_change = Some(leader);
            if elected != Elected::Clean {
                // Forcibly the whole ISR: whatever the others had beyond its log is lost.
                isr_change = Some(vec![leader]);
            }
        }
        // An unclean election, or ELR off, leaves no ELR (Kafka's `maybeUpdateRecordElr`).
        if isr_change.is_some() || !self.elr_enabled {
            target_elr.clear();
        }
        let elr_change = (target_elr != current.elr).then_some(target_elr);
        // Without ELR the ISR never empties: its last member stays, to lead again cleanly.
        if isr_change.is_none() && (!target_isr.is_empty() || self.elr_enabled) && target_isr != current.isr {
            isr_change = Some(target_isr);
        }
        // 3. The last known leader (Kafka's `maybeUpdateLastKnownLeader`).
        let mut last_known_elr_change = None;
        if self.elr_enabled {
            let becomes_empty = isr_change.as_ref().is_some_and(Vec::is_empty);
            let has_leader = leader_change.map_or(current.leader != NO_LEADER, |leader| leader != NO_LEADER);
            if becomes_empty && current.leader != NO_LEADER && current.last_known_elr != [current.leader] {
                last_known_elr_change = Some(vec![current.leader]);
            } else if has_leader && !becomes_empty && !current.last_known_elr.is_empty() {
                last_known_elr_change = Some(Vec::new());
            }
        } else if !current.last_known_elr.is_empty() {
            last_known_elr_change = Some(Vec::new());
        }
        if leader_change.is_none() && isr_change.is_none() && elr_change.is_none() && last_known_elr_change.is_none() {
            return None;
        }
        Some(MetadataRecord::PartitionChange {
            topic: self.topic.to_owned(),
            partition: self.partition,
            leader: leader_change,
            isr: isr_change,
            unclean: elected == Elected::Unclean && leader_change.is_some(),
            elr: elr_change,
            last_known_elr: last_known_elr_change,
        })
    }
}
