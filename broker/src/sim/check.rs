//! Invariant checkers: what must hold in every run, whatever the faults. A violation is a bug in
//! the simulated Kafka (the core), never a learner's doing — acknowledged-data loss that Kafka
//! allows (acks=1, unclean election) is recorded as a loss, not a violation.
//!
//! Checked after every step (cheap) or every [`FULL_CHECK_EVERY`] steps (whole logs):
//! * at most one quorum leader per epoch (KIP-595, Raft's election safety);
//! * a committed metadata record is never lost or changed, and every quorum leader holds all of
//!   them (Raft's leader completeness);
//! * a partition leader's high watermark never goes backwards within its leader epoch;
//! * every replica's log equals the leader's below the replica's high watermark, for partitions
//!   that never had an unclean election;
//! * no retry storm: the messages in flight stay bounded;
//! * a record acknowledged with acks=all under `min.insync.replicas` ≥ 2 is never lost unless an
//!   unclean election happened on its partition, or the leader that acknowledged it counted an
//!   ISR the controller had already shrunk (it was cut off from the controller: two faults, a
//!   crashed follower and a partitioned leader, which `min.insync.replicas=2` does not cover).

use std::collections::{BTreeMap, BTreeSet};

use crate::core::metadata::MetadataImage;
use crate::core::quorum::Role;
use crate::core::replica::BrokerId;

use super::{AckedRecord, Simulation};
use crate::core::broker::PartitionRole;
use crate::core::message::TopicPartition;
use crate::core::node::NodeId;

/// Whole-log checks run once per this many steps (and at the end of a test run).
pub const FULL_CHECK_EVERY: u64 = 64;

/// More messages in flight than this is a retry storm, never normal traffic (a 7-broker,
/// 5-controller cluster has a few dozen requests outstanding).
pub const MESSAGES_IN_FLIGHT_MAX: usize = 2_000;

#[derive(Debug, Default)]
pub struct Checker {
    leaders_by_epoch: BTreeMap<i32, NodeId>,
    /// Each committed metadata entry, by offset: (its epoch, the epoch of the node that first
    /// showed it committed — the entry was committed in that epoch or before).
    committed_metadata: Vec<(i32, i32)>,
    leader_high_watermarks: BTreeMap<(BrokerId, TopicPartition), (i32, i64)>,
    lost: BTreeSet<u64>,
    losses: Vec<(u64, AckedRecord)>,
    violations: Vec<String>,
    storm_reported: bool,
}

impl Checker {
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// Acknowledged records found lost, with when.
    pub fn losses(&self) -> &[(u64, AckedRecord)] {
        &self.losses
    }

    pub fn is_lost(&self, record_id: u64) -> bool {
        self.lost.contains(&record_id)
    }

    fn violation(&mut self, at_ms: u64, what: String) {
        if self.violations.len() < 100 {
            self.violations.push(format!("at {at_ms} ms: {what}"));
        }
    }

    pub(super) fn record_loss(&mut self, at_ms: u64, record: &AckedRecord, image: Option<&MetadataImage>) {
        if !self.lost.insert(record.record_id) {
            return;
        }
        self.losses.push((at_ms, record.clone()));
        let unclean = image
            .and_then(|image| image.partition(&record.tp.topic, record.tp.partition))
            .is_none_or(|p| p.unclean_elections > 0);
        // A leader cut off from the controller may still count a replica the controller removed
        // from the ISR; what it commits then can be lost in a clean election, in Kafka too.
        if record.acks == -1 && record.min_insync_replicas >= 2 && !unclean && !record.acked_by_stale_leader {
            self.violation(
                at_ms,
                format!(
                    "record {:?} at {} offset {} was acknowledged with acks=all and min.insync.replicas={} and is lost without an unclean election",
                    record.value, record.tp, record.offset, record.min_insync_replicas
                ),
            );
        }
    }

    pub(super) fn check_step(&mut self, simulation: &Simulation) {
        let now_ms = simulation.now_ms();
        // A retry loop that answers trigger more requests grows without bound: a storm.
        let in_flight = simulation.network().in_flight_count();
        if in_flight > MESSAGES_IN_FLIGHT_MAX && !self.storm_reported {
            self.storm_reported = true;
            self.violation(now_ms, format!("{in_flight} messages in flight: a retry storm"));
        }
        self.check_quorum(simulation, now_ms);
        self.check_high_watermarks(simulation, now_ms);
        if simulation.steps().is_multiple_of(FULL_CHECK_EVERY) {
            self.check_all(simulation);
        }
    }

    /// The whole-log checks, also for a test's final state.
    pub fn check_all(&mut self, simulation: &Simulation) {
        let now_ms = simulation.now_ms();
        self.check_leader_completeness(simulation, now_ms);
        self.check_replica_prefixes(simulation, now_ms);
    }

    fn check_quorum(&mut self, simulation: &Simulation, now_ms: u64) {
        for id in simulation.controller_ids().collect::<Vec<_>>() {
            let Some(controller) = simulation.controller(id) else { continue };
            let quorum = &controller.quorum;
            if quorum.role() == Role::Leader {
                let epoch = quorum.epoch();
                match self.leaders_by_epoch.get(&epoch) {
                    Some(&leader) if leader != id => self.violation(
                        now_ms,
                        format!("two quorum leaders in epoch {epoch}: controller {leader} and controller {id}"),
                    ),
                    Some(_) => {}
                    None => {
                        self.leaders_by_epoch.insert(epoch, id);
                    }
                }
            }
            // Newly committed entries join the record of what is committed; a different epoch
            // at a committed offset means a committed entry changed.
            let high_watermark = usize::try_from(quorum.high_watermark()).unwrap_or(0);
            let log = quorum.log();
            for (index, entry) in log.iter().enumerate().take(high_watermark) {
                match self.committed_metadata.get(index) {
                    Some(&(epoch, _)) if epoch != entry.epoch => {
                        self.violation(
                            now_ms,
                            format!(
                                "committed metadata offset {index} changed from epoch {epoch} to {} on controller {id}",
                                entry.epoch
                            ),
                        );
                        break;
                    }
                    Some(_) => {}
                    None => self.committed_metadata.push((entry.epoch, quorum.epoch())),
                }
            }
        }
    }

    fn check_leader_completeness(&mut self, simulation: &Simulation, now_ms: u64) {
        for id in simulation.controller_ids().collect::<Vec<_>>() {
            let Some(controller) = simulation.controller(id) else { continue };
            if controller.quorum.role() != Role::Leader {
                continue;
            }
            // Raft's leader completeness: a leader of the epoch an entry was committed in, or a
            // later one, holds it. A deposed leader that has not heard yet may lack it.
            let leader_epoch = controller.quorum.epoch();
            let log = controller.quorum.log();
            let missing = self
                .committed_metadata
                .iter()
                .enumerate()
                .filter(|(_, (_, committed_by))| *committed_by <= leader_epoch)
                .find(|(index, (epoch, _))| log.get(*index).is_none_or(|entry| entry.epoch != *epoch));
            if let Some((offset, _)) = missing {
                self.violation(now_ms, format!("quorum leader {id} lacks committed metadata offset {offset}"));
            }
        }
    }

    fn check_high_watermarks(&mut self, simulation: &Simulation, now_ms: u64) {
        for id in simulation.broker_ids().collect::<Vec<_>>() {
            let Some(broker) = simulation.broker(id) else { continue };
            for (tp, role) in &broker.partitions {
                let PartitionRole::Leader(state) = role else { continue };
                let key = (id, tp.clone());
                let now = (state.replica.leader_epoch, state.replica.high_watermark);
                if let Some(&(epoch, high_watermark)) = self.leader_high_watermarks.get(&key)
                    && epoch == now.0
                    && now.1 < high_watermark
                {
                    self.violation(
                        now_ms,
                        format!("leader {id} of {tp} moved its high watermark back from {high_watermark} to {}", now.1),
                    );
                }
                self.leader_high_watermarks.insert(key, now);
            }
        }
    }

    fn check_replica_prefixes(&mut self, simulation: &Simulation, now_ms: u64) {
        let Some(image) = simulation.active_image() else { return };
        let mut found = Vec::new();
        for (topic, partition, registration) in image.partitions() {
            if registration.unclean_elections > 0 {
                continue;
            }
            let tp = TopicPartition { topic: topic.to_owned(), partition };
            // The leader the metadata names, if it is up and leads in that epoch.
            let leader = registration.leader;
            let leads = simulation.broker(leader).is_some_and(|b| {
                matches!(b.partitions.get(&tp), Some(PartitionRole::Leader(s)) if s.replica.leader_epoch == registration.leader_epoch)
            });
            if !leads {
                continue;
            }
            let Some(leader_log) = simulation.broker(leader).and_then(|b| b.log(&tp)) else { continue };
            for &replica in &registration.replicas {
                if replica == leader {
                    continue;
                }
                // Only followers that fetched from this leader since its election: until then a
                // deposed leader's log may hold what it committed with an ISR the controller had
                // shrunk (see the acks=all rule above), and its first fetch truncates it.
                let Some(follower) = simulation.broker(replica) else { continue };
                let synced = matches!(follower.partitions.get(&tp), Some(PartitionRole::Follower(s))
                    if s.synced && s.leader_epoch == registration.leader_epoch);
                if !synced {
                    continue;
                }
                let Some(log) = follower.log(&tp) else { continue };
                let committed = usize::try_from(log.high_watermark).unwrap_or(0);
                let diverges = log.records.iter().take(committed).find(|record| {
                    leader_log
                        .record_at(record.offset)
                        .is_none_or(|r| r.id != record.id || r.leader_epoch != record.leader_epoch)
                });
                if let Some(record) = diverges {
                    found.push(format!(
                        "broker {replica}'s {tp} differs from leader {leader}'s at offset {} below its high watermark {}",
                        record.offset, log.high_watermark
                    ));
                }
            }
        }
        for what in found {
            self.violation(now_ms, what);
        }
    }
}
