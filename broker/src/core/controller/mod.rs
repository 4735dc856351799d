//! The active KRaft controller's decisions (KIP-631): broker registration and heartbeats,
//! fencing, topic creation, ISR changes and leader election.
//!
//! The controller decides by writing metadata records; it changes nothing else. Each method
//! reads the controller's working [`MetadataImage`] — the metadata log applied up to its end,
//! uncommitted records included, as Kafka's controller applies records to its timeline state as
//! it writes them — and returns the records to append to the quorum's log. Only the broker
//! sessions (when each broker last sent a heartbeat) live outside the log: like Kafka's
//! `BrokerHeartbeatManager` they are in memory and start over on a new active controller.
//!
//! Every partition change goes through [`partition_change`], Kafka's `PartitionChangeBuilder`:
//! the ISR, the eligible leader replicas (KIP-966) and the election, in one place.

pub mod node;
mod partition_change;

use std::collections::BTreeMap;

use super::ErrorCode;
use super::broker_config::BrokerConfigs;
use super::config::TopicConfigs;
use super::metadata::{MetadataImage, MetadataRecord, NO_LEADER, PartitionRegistration};
use super::replica::BrokerId;
use partition_change::{Election, PartitionChange};

/// Kafka's controller settings that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// `broker.session.timeout.ms`: a broker without a heartbeat for this long is fenced.
    pub broker_session_timeout_ms: u64,
    /// `metadata.max.idle.interval.ms` (KIP-835): the active controller appends a NoOpRecord
    /// this often. `None`: never.
    pub metadata_max_idle_interval_ms: Option<u64>,
    /// `auto.leader.rebalance.enable` with `leader.imbalance.check.interval.seconds` (Kafka:
    /// on, 300 s): this long after a partition came to be led by another replica than its
    /// preferred one, leadership moves back to the preferred replica wherever it is in the ISR
    /// and unfenced. `None`: never (the rebalance is off).
    pub leader_imbalance_check_interval_ms: Option<u64>,
    /// Eligible leader replicas (KIP-966, the `eligible.leader.replicas.version=1` feature, on
    /// by default for new clusters since Kafka 4.1): replicas that left the ISR while it was
    /// below `min.insync.replicas` may still lead cleanly, and the ISR may become empty.
    pub eligible_leader_replicas_enabled: bool,
    /// The controller's `server.properties` broker configs that set topic defaults
    /// (`unclean.leader.election.enable`, ...): Kafka's controller reads its own static config
    /// below the cluster-wide dynamic defaults.
    pub static_configs: BrokerConfigs,
    /// Most partition replicas (each partition counted once per replica) the cluster may hold:
    /// a topic or partition creation past it is refused with POLICY_VIOLATION, as Kafka
    /// answers a creation its `create.topic.policy.class.name` refuses. Kafka has no such limit;
    /// Streamlab runs every replica in one process (`--max-partition-replicas`). `None`: none.
    pub max_partition_replicas: Option<u64>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            broker_session_timeout_ms: 9_000,
            metadata_max_idle_interval_ms: Some(500),
            leader_imbalance_check_interval_ms: Some(300_000),
            eligible_leader_replicas_enabled: true,
            static_configs: BrokerConfigs::default(),
            max_partition_replicas: None,
        }
    }
}

/// Kafka's `ElectionType` for ElectLeaders (KIP-460; `kafka-leader-election.sh --election-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElectionType {
    /// Move leadership back to the preferred replica (the first of the replica list), if it is
    /// in the ISR and unfenced.
    Preferred,
    /// Give a partition without a leader one, from the ISR if it can, else any unfenced replica
    /// (which may lack acknowledged records).
    Unclean,
}

impl ElectionType {
    /// The wire value: 0 PREFERRED, 1 UNCLEAN.
    pub fn from_wire(value: i8) -> Option<ElectionType> {
        match value {
            0 => Some(ElectionType::Preferred),
            1 => Some(ElectionType::Unclean),
            _ => None,
        }
    }
}

/// The answer to a broker heartbeat (BrokerHeartbeatResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatReply {
    pub is_fenced: bool,
}

/// The active controller's in-memory state.
#[derive(Debug, Clone, Default)]
pub struct Controller {
    config: ControllerConfig,
    /// When each registered broker last sent a heartbeat (or registered).
    last_heartbeat_ms: BTreeMap<BrokerId, u64>,
    /// When the next automatic preferred-leader election runs; set once a partition is led by
    /// another replica than its preferred one (Kafka's `maybeScheduleNextBalancePartitionLeaders`).
    leader_balance_due_ms: Option<u64>,
}

impl Controller {
    pub fn new(config: ControllerConfig) -> Self {
        Controller { config, last_heartbeat_ms: BTreeMap::new(), leader_balance_due_ms: None }
    }

    /// This node became the active controller: every broker gets a full session from now, as
    /// a new controller cannot know when the old one last heard from them.
    pub fn activate(&mut self, now_ms: u64, image: &MetadataImage) {
        self.last_heartbeat_ms = image.brokers.keys().map(|&id| (id, now_ms)).collect();
    }

    fn has_valid_session(&self, now_ms: u64, broker_id: BrokerId) -> bool {
        self.last_heartbeat_ms
            .get(&broker_id)
            .is_some_and(|&last| now_ms.saturating_sub(last) <= self.config.broker_session_timeout_ms)
    }

    /// BrokerRegistration: a broker started. A different incarnation of a broker whose session
    /// is still alive is refused with DUPLICATE_BROKER_REGISTRATION (Kafka's
    /// `ClusterControlManager`): a quickly restarted broker retries until the old session expires.
    pub fn register_broker(
        &mut self,
        now_ms: u64,
        image: &MetadataImage,
        broker_id: BrokerId,
        incarnation_id: u64,
        previous_broker_epoch: i64,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        if let Some(existing) = image.brokers.get(&broker_id)
            && existing.incarnation_id != incarnation_id
            && !existing.fenced
            && self.has_valid_session(now_ms, broker_id)
        {
            return Err(ErrorCode::DuplicateBrokerRegistration);
        }
        if image.brokers.get(&broker_id).is_some_and(|b| b.incarnation_id == incarnation_id) {
            // A retried registration whose first attempt was written.
            return Ok(Vec::new());
        }
        self.last_heartbeat_ms.insert(broker_id, now_ms);
        // A new incarnation that cannot show a clean shutdown of the registration the controller
        // knows (KIP-966's PreviousBrokerEpoch: a lab stop is a crash) may lack what its log
        // had, so it leaves every ISR and ELR before it registers (Kafka's
        // `handleBrokerUncleanShutdown`).
        let clean = image.brokers.get(&broker_id).is_some_and(|b| b.broker_epoch == previous_broker_epoch);
        let mut records = Vec::new();
        if self.config.eligible_leader_replicas_enabled && !clean {
            let mut after = image.clone();
            let changes: Vec<MetadataRecord> = image
                .partitions()
                .filter(|(_, _, p)| p.isr.contains(&broker_id) || p.elr.contains(&broker_id))
                .filter_map(|(topic, partition, p)| {
                    PartitionChange::new(image, topic, partition, p, true).unclean_shutdown(broker_id).build()
                })
                .collect();
            for change in changes {
                after.apply(after.offset + 1, &change);
                records.push(change);
            }
        }
        records.push(MetadataRecord::RegisterBroker { broker_id, incarnation_id });
        Ok(records)
    }

    /// BrokerHeartbeat with the offset of the metadata the broker has applied. A fenced broker
    /// that caught up with its own registration is unfenced, and then leads any leaderless
    /// partition it is eligible for.
    pub fn heartbeat(
        &mut self,
        now_ms: u64,
        image: &MetadataImage,
        broker_id: BrokerId,
        broker_epoch: i64,
        current_metadata_offset: i64,
    ) -> Result<(HeartbeatReply, Vec<MetadataRecord>), ErrorCode> {
        let registration = image.brokers.get(&broker_id).ok_or(ErrorCode::BrokerIdNotRegistered)?;
        if registration.broker_epoch != broker_epoch {
            return Err(ErrorCode::StaleBrokerEpoch);
        }
        self.last_heartbeat_ms.insert(broker_id, now_ms);
        if !registration.fenced {
            return Ok((HeartbeatReply { is_fenced: false }, Vec::new()));
        }
        if current_metadata_offset < registration.broker_epoch {
            return Ok((HeartbeatReply { is_fenced: true }, Vec::new()));
        }
        let mut records = vec![MetadataRecord::BrokerRegistrationChange {
            broker_id,
            broker_epoch,
            fenced: Some(false),
            in_controlled_shutdown: false,
        }];
        let mut after = image.clone();
        after.apply(image.offset + 1, &records[0]);
        records.extend(self.elect_leaderless(&after));
        Ok((HeartbeatReply { is_fenced: false }, records))
    }

    /// Fences brokers whose session expired and moves their leadership and ISR membership
    /// away (Kafka's `ReplicationControlManager.handleBrokerFenced`).
    pub fn tick(&mut self, now_ms: u64, image: &MetadataImage) -> Vec<MetadataRecord> {
        let expired: Vec<BrokerId> = image
            .brokers
            .values()
            .filter(|b| !b.fenced && !self.has_valid_session(now_ms, b.broker_id))
            .map(|b| b.broker_id)
            .collect();
        let mut records = Vec::new();
        let mut after = image.clone();
        for broker_id in expired {
            records.extend(self.fence(&mut after, broker_id, false));
        }
        records.extend(self.balance_leaders(now_ms, &after));
        records
    }

    /// Kafka's automatic leader rebalance (`maybeBalancePartitionLeaders`): once the interval
    /// has passed since partitions came to be led by a replica other than their preferred one,
    /// each of them whose preferred replica is in the ISR and unfenced gets it back as leader.
    /// The rest wait for the next round.
    fn balance_leaders(&mut self, now_ms: u64, image: &MetadataImage) -> Vec<MetadataRecord> {
        let Some(interval_ms) = self.config.leader_imbalance_check_interval_ms else { return Vec::new() };
        let imbalanced =
            image.partitions().any(|(_, _, p)| p.leader != NO_LEADER && p.replicas.first() != Some(&p.leader));
        let due = match (imbalanced, self.leader_balance_due_ms) {
            (false, _) => {
                self.leader_balance_due_ms = None;
                return Vec::new();
            }
            (true, None) => {
                self.leader_balance_due_ms = Some(now_ms + interval_ms);
                return Vec::new();
            }
            (true, Some(due)) => due,
        };
        if now_ms < due {
            return Vec::new();
        }
        self.leader_balance_due_ms = Some(now_ms + interval_ms);
        let elr_enabled = self.config.eligible_leader_replicas_enabled;
        image
            .partitions()
            .filter(|(_, _, p)| p.leader != NO_LEADER && p.replicas.first() != Some(&p.leader))
            .filter_map(|(topic, partition, p)| {
                PartitionChange::new(image, topic, partition, p, elr_enabled).election(Election::Preferred).build()
            })
            .collect()
    }

    /// BrokerHeartbeat with `want_shutdown` (Kafka's controlled shutdown, KIP-631): the broker
    /// is about to stop, so it is fenced now and its leadership and ISR membership move away
    /// before clients notice, instead of after its session expires. Kafka takes two steps
    /// (`handleBrokerInControlledShutdown` moves leadership and writes `InControlledShutdown`;
    /// a later heartbeat, once the broker leads nothing, fences it); here one record says both,
    /// as the broker waits for nothing between them. Its registration being
    /// fenced, the next incarnation may register at once.
    pub fn controlled_shutdown(
        &mut self,
        image: &MetadataImage,
        broker_id: BrokerId,
        broker_epoch: i64,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        let registration = image.brokers.get(&broker_id).ok_or(ErrorCode::BrokerIdNotRegistered)?;
        if registration.broker_epoch != broker_epoch {
            return Err(ErrorCode::StaleBrokerEpoch);
        }
        if registration.fenced {
            return Ok(Vec::new());
        }
        self.last_heartbeat_ms.remove(&broker_id);
        Ok(self.fence(&mut image.clone(), broker_id, true))
    }

    /// Fences `broker_id` in `image` and takes it out of every ISR and leadership (Kafka's
    /// `ReplicationControlManager.handleBrokerFenced`); returns the records, applied to `image`.
    /// It stays in the ELRs it is in: it may lead cleanly when it returns.
    fn fence(
        &self,
        image: &mut MetadataImage,
        broker_id: BrokerId,
        in_controlled_shutdown: bool,
    ) -> Vec<MetadataRecord> {
        let Some(broker_epoch) = image.brokers.get(&broker_id).map(|b| b.broker_epoch) else { return Vec::new() };
        let elr_enabled = self.config.eligible_leader_replicas_enabled;
        let changes: Vec<MetadataRecord> = image
            .partitions()
            .filter(|(_, _, p)| p.isr.contains(&broker_id) || p.leader == broker_id)
            .filter_map(|(topic, index, p)| {
                PartitionChange::new(image, topic, index, p, elr_enabled).fencing(broker_id).build()
            })
            .collect();
        // Kafka writes the partition changes first; the fence first reads better in the event
        // log ("broker 1 fenced", then what followed), and comes to the same image.
        let fence = MetadataRecord::BrokerRegistrationChange {
            broker_id,
            broker_epoch,
            fenced: Some(true),
            in_controlled_shutdown,
        };
        let mut records = Vec::with_capacity(changes.len() + 1);
        for record in [fence].into_iter().chain(changes) {
            image.apply(image.offset + 1, &record);
            records.push(record);
        }
        records
    }

    /// Leaders for every leaderless partition that now has an eligible replica (Kafka's
    /// `handleBrokerUnfenced`, and a topic turning on unclean election).
    fn elect_leaderless(&self, image: &MetadataImage) -> Vec<MetadataRecord> {
        let elr_enabled = self.config.eligible_leader_replicas_enabled;
        image
            .partitions()
            .filter(|(_, _, p)| p.leader == NO_LEADER)
            .filter_map(|(topic, partition, p)| PartitionChange::new(image, topic, partition, p, elr_enabled).build())
            .filter(|change| matches!(change, MetadataRecord::PartitionChange { leader: Some(leader), .. } if *leader != NO_LEADER))
            .collect()
    }

    /// When the next broker session expires, for the driver's timer.
    pub fn next_deadline_ms(&self, image: &MetadataImage) -> Option<u64> {
        image
            .brokers
            .values()
            .filter(|b| !b.fenced)
            .filter_map(|b| self.last_heartbeat_ms.get(&b.broker_id))
            .map(|&last| last + self.config.broker_session_timeout_ms + 1)
            .chain(self.leader_balance_due_ms)
            .min()
    }

    /// Refuses `added` more partition replicas past `max_partition_replicas`. Checked here, where
    /// the whole cluster's metadata is, so concurrent requests through different brokers cannot
    /// both slip under the limit.
    fn check_replica_budget(&self, image: &MetadataImage, added: u64) -> Result<(), ErrorCode> {
        let Some(max) = self.config.max_partition_replicas else { return Ok(()) };
        if partition_replicas(image).saturating_add(added) > max {
            return Err(ErrorCode::PolicyViolation);
        }
        Ok(())
    }

    /// CreateTopics: replicas placed round-robin over the unfenced brokers, the first of each
    /// list being the preferred leader (a deterministic take on Kafka's striped placement).
    ///
    /// # Errors
    ///
    /// TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION (a colliding name), INVALID_PARTITIONS,
    /// INVALID_REPLICATION_FACTOR, POLICY_VIOLATION past `max_partition_replicas`.
    pub fn create_topic(
        &mut self,
        image: &MetadataImage,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        configs: TopicConfigs,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        check_new_topic_name(image, name)?;
        if partitions < 1 {
            return Err(ErrorCode::InvalidPartitions);
        }
        let active: Vec<BrokerId> = image.brokers.values().filter(|b| !b.fenced).map(|b| b.broker_id).collect();
        let replication_factor =
            usize::try_from(replication_factor).map_err(|_| ErrorCode::InvalidReplicationFactor)?;
        if replication_factor == 0 || replication_factor > active.len() {
            return Err(ErrorCode::InvalidReplicationFactor);
        }
        let added = u64::try_from(partitions).unwrap_or(0).saturating_mul(replication_factor as u64);
        self.check_replica_budget(image, added)?;
        let topic_id = super::metadata::derived_topic_id(name, image.offset);
        let mut records = vec![MetadataRecord::Topic { name: name.to_owned(), topic_id, configs }];
        for partition in 0..partitions {
            let start = usize::try_from(partition).unwrap_or(0);
            let replicas: Vec<BrokerId> = (0..replication_factor).map(|i| active[(start + i) % active.len()]).collect();
            records.push(MetadataRecord::Partition {
                topic: name.to_owned(),
                partition,
                leader: replicas[0],
                isr: replicas.clone(),
                replicas,
            });
        }
        Ok(records)
    }

    /// CreateTopics with explicit replica assignments: partition `i` gets `assignments[i]`, led
    /// by its first unfenced replica, the unfenced replicas in the ISR (Kafka's
    /// `ReplicationControlManager.createTopic` with `assignments`). The caller checked the
    /// request's shape (partition indexes 0..n, no count or replication factor beside them).
    ///
    /// # Errors
    ///
    /// TOPIC_ALREADY_EXISTS, INVALID_REPLICA_ASSIGNMENT when [`validate_replica_assignments`]
    /// refuses the assignments, POLICY_VIOLATION past `max_partition_replicas`.
    pub fn create_topic_with_assignments(
        &mut self,
        image: &MetadataImage,
        name: &str,
        assignments: &[Vec<BrokerId>],
        configs: TopicConfigs,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        check_new_topic_name(image, name)?;
        validate_replica_assignments(image, assignments).map_err(|_| ErrorCode::InvalidReplicaAssignment)?;
        self.check_replica_budget(image, assignments.iter().map(|replicas| replicas.len() as u64).sum())?;
        let topic_id = super::metadata::derived_topic_id(name, image.offset);
        let mut records = vec![MetadataRecord::Topic { name: name.to_owned(), topic_id, configs }];
        for (partition, replicas) in (0..).zip(assignments) {
            let isr: Vec<BrokerId> = replicas.iter().copied().filter(|id| image.is_active(*id)).collect();
            let leader = isr.first().copied().unwrap_or(NO_LEADER);
            records.push(MetadataRecord::Partition {
                topic: name.to_owned(),
                partition,
                leader,
                isr,
                replicas: replicas.clone(),
            });
        }
        Ok(records)
    }

    /// CreatePartitions: grows a topic to `count` partitions with the topic's replication
    /// factor, the new ones placed as [`Controller::create_topic`] would have placed them, or
    /// as `assignments` say (one list per new partition, in order), checked as Kafka's
    /// `ReplicationControlManager.createPartitions` checks them (see
    /// [`validate_new_partition_assignments`]).
    ///
    /// # Errors
    ///
    /// UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS when `count` is no increase,
    /// INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR when too few brokers are
    /// unfenced to place the new partitions, POLICY_VIOLATION past `max_partition_replicas`.
    pub fn create_partitions(
        &mut self,
        image: &MetadataImage,
        name: &str,
        count: i32,
        assignments: &[Vec<BrokerId>],
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        let topic = image.topics.get(name).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        let current = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        if count <= current {
            return Err(ErrorCode::InvalidPartitions);
        }
        let replication_factor = topic.partitions.first().map_or(1, |p| p.replicas.len());
        if !assignments.is_empty() {
            validate_new_partition_assignments(image, current, count, replication_factor, assignments)
                .map_err(|_| ErrorCode::InvalidReplicaAssignment)?;
            let added = assignments.iter().map(|replicas| replicas.len() as u64).sum();
            self.check_replica_budget(image, added)?;
            return Ok((current..)
                .zip(assignments)
                .map(|(partition, replicas)| {
                    let isr: Vec<BrokerId> = replicas.iter().copied().filter(|id| image.is_active(*id)).collect();
                    MetadataRecord::Partition {
                        topic: name.to_owned(),
                        partition,
                        leader: isr.first().copied().unwrap_or(NO_LEADER),
                        isr,
                        replicas: replicas.clone(),
                    }
                })
                .collect());
        }
        let active: Vec<BrokerId> = image.brokers.values().filter(|b| !b.fenced).map(|b| b.broker_id).collect();
        if replication_factor > active.len() {
            return Err(ErrorCode::InvalidReplicationFactor);
        }
        let added = u64::try_from(count - current).unwrap_or(0).saturating_mul(replication_factor as u64);
        self.check_replica_budget(image, added)?;
        Ok((current..count)
            .map(|partition| {
                let start = usize::try_from(partition).unwrap_or(0);
                let replicas: Vec<BrokerId> =
                    (0..replication_factor).map(|i| active[(start + i) % active.len()]).collect();
                MetadataRecord::Partition {
                    topic: name.to_owned(),
                    partition,
                    leader: replicas[0],
                    isr: replicas.clone(),
                    replicas,
                }
            })
            .collect())
    }

    /// ElectLeaders for one partition, decided as Kafka's `ReplicationControlManager.electLeader`
    /// does: ELECTION_NOT_NEEDED when the preferred replica already leads (PREFERRED) or the
    /// partition has a leader (UNCLEAN); otherwise the election's change, or, when it changes
    /// nothing, PREFERRED_LEADER_NOT_AVAILABLE (the preferred replica is out of the ISR or fenced)
    /// or ELIGIBLE_LEADERS_NOT_AVAILABLE (no replica may lead). An unclean leader from outside
    /// the ISR becomes the whole ISR.
    pub fn elect_leader(
        &mut self,
        image: &MetadataImage,
        topic: &str,
        partition: i32,
        election: ElectionType,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        let registration = image.partition(topic, partition).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        let (election, not_available) = match election {
            ElectionType::Preferred => {
                if registration.replicas.first() == Some(&registration.leader) {
                    return Err(ErrorCode::ElectionNotNeeded);
                }
                (Election::Preferred, ErrorCode::PreferredLeaderNotAvailable)
            }
            ElectionType::Unclean => {
                if registration.leader != NO_LEADER {
                    return Err(ErrorCode::ElectionNotNeeded);
                }
                (Election::Unclean, ErrorCode::EligibleLeadersNotAvailable)
            }
        };
        let elr_enabled = self.config.eligible_leader_replicas_enabled;
        PartitionChange::new(image, topic, partition, registration, elr_enabled)
            .election(election)
            .build()
            .map(|change| vec![change])
            .ok_or(not_available)
    }

    /// DeleteTopics: one RemoveTopicRecord; brokers drop the topic's logs when they apply it.
    pub fn delete_topic(&mut self, image: &MetadataImage, name: &str) -> Result<Vec<MetadataRecord>, ErrorCode> {
        if !image.topics.contains_key(name) {
            return Err(ErrorCode::UnknownTopicOrPartition);
        }
        Ok(vec![MetadataRecord::RemoveTopic { name: name.to_owned() }])
    }

    /// IncrementalAlterConfigs on a topic. Turning on `unclean.leader.election.enable` elects
    /// leaders for leaderless partitions at once, as Kafka's controller does.
    pub fn alter_config(
        &mut self,
        image: &MetadataImage,
        topic: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        if !image.topics.contains_key(topic) {
            return Err(ErrorCode::UnknownTopicOrPartition);
        }
        if let Some(value) = value {
            super::config::validate_config(name, value).map_err(|_| ErrorCode::InvalidConfig)?;
        }
        let config = MetadataRecord::Config {
            topic: topic.to_owned(),
            name: name.to_owned(),
            value: value.map(|v| v.trim().to_owned()),
        };
        let mut after = image.clone();
        after.apply(image.offset + 1, &config);
        let mut records = vec![config];
        if name == "min.insync.replicas" {
            // The ELR was kept for the old minimum; a new one starts it over (Kafka 4.1 clears
            // the topic's ELR fields when its `min.insync.replicas` changes).
            records.extend(clear_elr(&after, Some(topic)));
            for record in &records[1..] {
                after.apply(after.offset + 1, record);
            }
        }
        records.extend(self.elect_leaderless(&after));
        Ok(records)
    }

    /// IncrementalAlterConfigs on a BROKER resource: a dynamic config of `broker`, or the
    /// cluster-wide default with `None` (Kafka's `ConfigurationControlManager`, which records a
    /// `ConfigRecord` on the resource). A broker id that is not registered is refused with
    /// BROKER_ID_NOT_REGISTERED, as Kafka's `ConfigResourceExistenceChecker` does. Turning on
    /// `unclean.leader.election.enable` elects leaders for leaderless partitions at once, as
    /// for a topic.
    pub fn alter_broker_config(
        &mut self,
        image: &MetadataImage,
        broker: Option<BrokerId>,
        name: &str,
        value: Option<&str>,
    ) -> Result<Vec<MetadataRecord>, ErrorCode> {
        if let Some(id) = broker
            && !image.brokers.contains_key(&id)
        {
            return Err(ErrorCode::BrokerIdNotRegistered);
        }
        super::broker_config::validate_dynamic_changes([(name, value)]).map_err(|error| error.error_code())?;
        // With ELR, Kafka 4.1 keeps one `min.insync.replicas` per topic or cluster: no
        // broker-level value, and no removing the cluster-wide one (its ops guide, "Eligible
        // Leader Replicas").
        if self.config.eligible_leader_replicas_enabled
            && name == "min.insync.replicas"
            && (broker.is_some() || value.is_none())
        {
            return Err(ErrorCode::InvalidConfig);
        }
        let config = MetadataRecord::BrokerConfig {
            broker_id: broker,
            name: name.to_owned(),
            value: value.map(|v| v.trim().to_owned()),
        };
        let mut after = image.clone();
        after.apply(image.offset + 1, &config);
        let mut records = vec![config];
        if name == "min.insync.replicas" {
            // A new cluster-wide minimum starts every ELR over.
            for change in clear_elr(&after, None) {
                after.apply(after.offset + 1, &change);
                records.push(change);
            }
        }
        records.extend(self.elect_leaderless(&after));
        Ok(records)
    }

    /// AlterPartition (KIP-497): a leader proposes a new ISR. It must be the current leader
    /// (FENCED_LEADER_EPOCH), know the current partition epoch (INVALID_UPDATE_VERSION), and may
    /// only add replicas that are registered and unfenced (INELIGIBLE_REPLICA, KIP-841).
    #[allow(clippy::too_many_arguments)]
    pub fn alter_partition(
        &mut self,
        image: &MetadataImage,
        broker_id: BrokerId,
        broker_epoch: i64,
        topic: &str,
        partition: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        new_isr: &[BrokerId],
    ) -> Result<(Vec<MetadataRecord>, PartitionRegistration), ErrorCode> {
        let registration = image.brokers.get(&broker_id).ok_or(ErrorCode::BrokerIdNotRegistered)?;
        if registration.broker_epoch != broker_epoch {
            return Err(ErrorCode::StaleBrokerEpoch);
        }
        let current = image.partition(topic, partition).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        if current.leader != broker_id || leader_epoch < current.leader_epoch {
            return Err(ErrorCode::FencedLeaderEpoch);
        }
        if leader_epoch > current.leader_epoch || partition_epoch != current.partition_epoch {
            return Err(ErrorCode::InvalidUpdateVersion);
        }
        if !new_isr.contains(&broker_id)
            || new_isr.iter().any(|id| !current.replicas.contains(id))
            || new_isr.iter().any(|id| !current.isr.contains(id) && !image.is_active(*id))
        {
            return Err(ErrorCode::IneligibleReplica);
        }
        let isr: Vec<BrokerId> = current.replicas.iter().copied().filter(|id| new_isr.contains(id)).collect();
        let elr_enabled = self.config.eligible_leader_replicas_enabled;
        let Some(change) = PartitionChange::new(image, topic, partition, current, elr_enabled).target_isr(isr).build()
        else {
            // The proposal is the state already committed: nothing to write.
            return Ok((Vec::new(), current.clone()));
        };
        let mut after = image.clone();
        after.apply(image.offset + 1, &change);
        let registration = after.partition(topic, partition).cloned().unwrap_or_else(|| current.clone());
        Ok((vec![change], registration))
    }
}

/// Why a manual replica assignment is refused (INVALID_REPLICA_ASSIGNMENT), worded as
/// Kafka's `ReplicationControlManager.createTopic` and `validateManualPartitionAssignment`
/// word it (clients show the message as it comes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaAssignmentError {
    NoPartitions,
    DuplicatePartition {
        partition: i32,
    },
    EmptyReplicaList,
    UnknownBroker {
        broker_id: BrokerId,
    },
    DuplicateBroker {
        broker_id: BrokerId,
    },
    InconsistentReplicationFactor {
        replicas: usize,
        expected: usize,
    },
    AllReplicasFenced {
        partition: i32,
    },
    NonContiguousPartitions,
    /// CreatePartitions: not one assignment per new partition.
    AssignmentCountMismatch {
        additional: usize,
        assignments: usize,
    },
}

impl std::fmt::Display for ReplicaAssignmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaAssignmentError::NoPartitions => write!(f, "The manual partition assignment has no partitions."),
            ReplicaAssignmentError::DuplicatePartition { partition } => {
                write!(f, "Found multiple manual partition assignments for partition {partition}")
            }
            ReplicaAssignmentError::EmptyReplicaList => {
                write!(f, "The manual partition assignment includes an empty replica list.")
            }
            ReplicaAssignmentError::UnknownBroker { broker_id } => write!(
                f,
                "The manual partition assignment includes broker {broker_id}, but no such broker is registered."
            ),
            ReplicaAssignmentError::DuplicateBroker { broker_id } => {
                write!(f, "The manual partition assignment includes the broker {broker_id} more than once.")
            }
            ReplicaAssignmentError::InconsistentReplicationFactor { replicas, expected } => write!(
                f,
                "The manual partition assignment includes a partition with {replicas} replica(s), but this is not \
                 consistent with previous partitions, which have {expected} replica(s)."
            ),
            ReplicaAssignmentError::AllReplicasFenced { partition } => write!(
                f,
                "All brokers specified in the manual partition assignment for partition {partition} are fenced or in \
                 controlled shutdown."
            ),
            ReplicaAssignmentError::NonContiguousPartitions => {
                write!(f, "partitions should be a consecutive 0-based integer sequence")
            }
            ReplicaAssignmentError::AssignmentCountMismatch { additional, assignments } => write!(
                f,
                "Attempted to add {additional} additional partition(s), but only {assignments} assignment(s) were \
                 specified."
            ),
        }
    }
}

/// Checks CreateTopics' explicit replica assignments as Kafka's controller does, in the
/// request's order: each partition index once, each replica list valid for
/// [`validate_manual_partition_assignment`] with as many replicas as the first, at least one
/// replica unfenced; then the indexes must be `0..n`. Returns the replica lists by index.
///
/// # Errors
///
/// The first problem found, as a [`ReplicaAssignmentError`].
pub fn validate_manual_assignments(
    image: &MetadataImage,
    assignments: &[(i32, Vec<BrokerId>)],
) -> Result<Vec<Vec<BrokerId>>, ReplicaAssignmentError> {
    if assignments.is_empty() {
        return Err(ReplicaAssignmentError::NoPartitions);
    }
    let mut by_index = std::collections::BTreeMap::new();
    let mut replication_factor = None;
    for (partition, replicas) in assignments {
        if by_index.contains_key(partition) {
            return Err(ReplicaAssignmentError::DuplicatePartition { partition: *partition });
        }
        validate_manual_partition_assignment(image, replicas, replication_factor)?;
        replication_factor = Some(replicas.len());
        if !replicas.iter().any(|id| image.is_active(*id)) {
            return Err(ReplicaAssignmentError::AllReplicasFenced { partition: *partition });
        }
        by_index.insert(*partition, replicas.clone());
    }
    if (0..).take(by_index.len()).any(|partition| !by_index.contains_key(&partition)) {
        return Err(ReplicaAssignmentError::NonContiguousPartitions);
    }
    Ok(by_index.into_values().collect())
}

/// Checks explicit replica assignments indexed by partition (partition `i` at index `i`), as
/// [`validate_manual_assignments`] checks a request's.
///
/// # Errors
///
/// The first problem found, as a [`ReplicaAssignmentError`].
pub fn validate_replica_assignments(
    image: &MetadataImage,
    assignments: &[Vec<BrokerId>],
) -> Result<(), ReplicaAssignmentError> {
    let indexed: Vec<(i32, Vec<BrokerId>)> = (0..).zip(assignments.iter().cloned()).collect();
    validate_manual_assignments(image, &indexed).map(|_| ())
}

/// Checks CreatePartitions' explicit replica assignments of the partitions `current..count`,
/// as Kafka's `ReplicationControlManager.createPartitions` does: one list per new partition,
/// each valid for [`validate_manual_partition_assignment`] with the topic's replication factor,
/// at least one replica unfenced.
///
/// # Errors
///
/// The first problem found, as a [`ReplicaAssignmentError`].
pub fn validate_new_partition_assignments(
    image: &MetadataImage,
    current: i32,
    count: i32,
    replication_factor: usize,
    assignments: &[Vec<BrokerId>],
) -> Result<(), ReplicaAssignmentError> {
    let additional = usize::try_from(count.saturating_sub(current)).unwrap_or(0);
    if assignments.len() != additional {
        return Err(ReplicaAssignmentError::AssignmentCountMismatch { additional, assignments: assignments.len() });
    }
    for (partition, replicas) in (current..).zip(assignments) {
        validate_manual_partition_assignment(image, replicas, Some(replication_factor))?;
        if !replicas.iter().any(|id| image.is_active(*id)) {
            return Err(ReplicaAssignmentError::AllReplicasFenced { partition });
        }
    }
    Ok(())
}

/// One partition's manual replica list, as Kafka's
/// `ReplicationControlManager.validateManualPartitionAssignment` checks it: not empty, every
/// broker registered and named once (looked at in broker id order, as Kafka does, so the same
/// list gets the same answer), and as many replicas as `replication_factor` when given.
///
/// # Errors
///
/// The first problem found, as a [`ReplicaAssignmentError`].
pub fn validate_manual_partition_assignment(
    image: &MetadataImage,
    replicas: &[BrokerId],
    replication_factor: Option<usize>,
) -> Result<(), ReplicaAssignmentError> {
    if replicas.is_empty() {
        return Err(ReplicaAssignmentError::EmptyReplicaList);
    }
    let mut sorted = replicas.to_vec();
    sorted.sort_unstable();
    let mut previous = None;
    for broker_id in sorted {
        if !image.brokers.contains_key(&broker_id) {
            return Err(ReplicaAssignmentError::UnknownBroker { broker_id });
        }
        if previous == Some(broker_id) {
            return Err(ReplicaAssignmentError::DuplicateBroker { broker_id });
        }
        previous = Some(broker_id);
    }
    match replication_factor {
        Some(expected) if expected != replicas.len() => {
            Err(ReplicaAssignmentError::InconsistentReplicationFactor { replicas: replicas.len(), expected })
        }
        _ => Ok(()),
    }
}

/// Partition replicas in the cluster: every partition once per replica.
pub fn partition_replicas(image: &MetadataImage) -> u64 {
    image.partitions().map(|(_, _, partition)| partition.replicas.len() as u64).sum()
}

/// A new topic's name must be free, and must not collide with an existing one in metric names
/// (Kafka's `Topic.hasCollision`: `a.b_c` beside `a_b.c`).
fn check_new_topic_name(image: &MetadataImage, name: &str) -> Result<(), ErrorCode> {
    if image.topics.contains_key(name) {
        return Err(ErrorCode::TopicAlreadyExists);
    }
    if super::topic::colliding_topic(image.topics.keys().map(String::as_str), name).is_some() {
        return Err(ErrorCode::InvalidTopicException);
    }
    Ok(())
}

/// Changes that empty the ELR and last known leader of `topic`'s partitions (every topic's for
/// `None`).
fn clear_elr(image: &MetadataImage, topic: Option<&str>) -> Vec<MetadataRecord> {
    image
        .partitions()
        .filter(|(name, _, p)| topic.is_none_or(|t| t == *name) && !(p.elr.is_empty() && p.last_known_elr.is_empty()))
        .map(|(name, partition, p)| MetadataRecord::PartitionChange {
            topic: name.to_owned(),
            partition,
            leader: None,
            isr: None,
            unclean: false,
            elr: (!p.elr.is_empty()).then(Vec::new),
            last_known_elr: (!p.last_known_elr.is_empty()).then(Vec::new),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(image: &mut MetadataImage, records: &[MetadataRecord]) {
        for record in records {
            image.apply(image.offset + 1, record);
        }
    }

    /// Three unfenced brokers and `orders` with one partition on all three, led by broker 1.
    fn cluster(controller: &mut Controller, configs: &[(&str, &str)]) -> MetadataImage {
        let mut image = MetadataImage::new();
        for (broker_id, incarnation) in [(1, 11), (2, 12), (3, 13)] {
            let records = controller.register_broker(0, &image, broker_id, incarnation, -1).expect("registers");
            apply(&mut image, &records);
            let epoch = image.brokers[&broker_id].broker_epoch;
            let (_, records) = controller.heartbeat(0, &image, broker_id, epoch, image.offset).expect("heartbeat");
            apply(&mut image, &records);
        }
        let configs = TopicConfigs::from_pairs(configs.iter().copied()).expect("valid");
        let records = controller.create_topic(&image, "orders", 1, 3, configs).expect("creates");
        apply(&mut image, &records);
        image
    }

    #[test]
    fn a_broker_is_fenced_until_it_catches_up_with_its_registration() {
        let mut controller = Controller::default();
        let mut image = MetadataImage::new();
        let records = controller.register_broker(0, &image, 1, 99, -1).expect("registers");
        assert_eq!(records, vec![MetadataRecord::RegisterBroker { broker_id: 1, incarnation_id: 99 }]);
        apply(&mut image, &records);
        let (reply, records) = controller.heartbeat(10, &image, 1, 0, -1).expect("heartbeat");
        assert_eq!((reply.is_fenced, records), (true, vec![]));
        assert_eq!(controller.heartbeat(10, &image, 1, 5, 0), Err(ErrorCode::StaleBrokerEpoch));
        assert_eq!(controller.heartbeat(10, &image, 2, 0, 0), Err(ErrorCode::BrokerIdNotRegistered));
        let (reply, records) = controller.heartbeat(20, &image, 1, 0, 0).expect("heartbeat");
        assert_eq!(
            (reply.is_fenced, records),
            (
                false,
                vec![MetadataRecord::BrokerRegistrationChange {
                    broker_id: 1,
                    broker_epoch: 0,
                    fenced: Some(false),
                    in_controlled_shutdown: false
                }]
            )
        );
    }

    #[test]
    fn topics_are_placed_round_robin_with_the_first_replica_leading() {
        let mut controller = Controller::default();
        let image = cluster(&mut controller, &[]);
        let records = controller.create_topic(&image, "clicks", 3, 2, TopicConfigs::default()).expect("creates");
        let placements: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            placements,
            [
                "TopicRecord(clicks)",
                "PartitionRecord(clicks-0, leader 1, isr [1, 2])",
                "PartitionRecord(clicks-1, leader 2, isr [2, 3])",
                "PartitionRecord(clicks-2, leader 3, isr [3, 1])",
            ]
        );
        assert_eq!(
            controller.create_topic(&image, "orders", 1, 1, TopicConfigs::default()),
            Err(ErrorCode::TopicAlreadyExists)
        );
        assert_eq!(
            controller.create_topic(&image, "wide", 1, 4, TopicConfigs::default()),
            Err(ErrorCode::InvalidReplicationFactor)
        );
    }

    #[test]
    fn creations_past_the_partition_replica_budget_are_a_policy_violation() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        // `orders` holds 3 replicas; 10 are allowed.
        controller.config.max_partition_replicas = Some(10);
        let none = TopicConfigs::default;
        assert_eq!(controller.create_topic(&image, "wide", 4, 2, none()), Err(ErrorCode::PolicyViolation));
        assert_eq!(
            controller.create_topic_with_assignments(
                &image,
                "wide",
                &[vec![1, 2, 3], vec![2, 3, 1], vec![3, 1, 2]],
                none()
            ),
            Err(ErrorCode::PolicyViolation)
        );
        let records = controller.create_topic(&image, "clicks", 3, 2, none()).expect("9 replicas fit");
        apply(&mut image, &records);
        assert_eq!(partition_replicas(&image), 9);
        assert_eq!(controller.create_partitions(&image, "clicks", 4, &[]), Err(ErrorCode::PolicyViolation));
        assert_eq!(
            controller.create_topic(&image, "one", 1, 1, none()).map(|r| r.len()),
            Ok(2),
            "exactly at the limit"
        );
    }

    #[test]
    fn a_silent_leader_is_fenced_and_leadership_moves_within_the_isr() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        assert_eq!(controller.tick(9_000, &image), vec![], "9 s exactly is still alive");
        let records = controller.tick(9_001, &image);
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "BrokerRegistrationChangeRecord(broker 1, fenced)",
                "PartitionChangeRecord(orders-0, leader 2, isr [2, 3])"
            ]
        );
        apply(&mut image, &records);
        let partition = image.partition("orders", 0).expect("exists");
        assert_eq!((partition.leader, partition.leader_epoch), (2, 1));
    }

    #[test]
    fn a_controlled_shutdown_fences_the_broker_at_once_and_says_so() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        let epoch = image.brokers[&1].broker_epoch;
        assert_eq!(controller.controlled_shutdown(&image, 1, epoch + 1), Err(ErrorCode::StaleBrokerEpoch));
        let records = controller.controlled_shutdown(&image, 1, epoch).expect("shuts down");
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "BrokerRegistrationChangeRecord(broker 1, fenced, in controlled shutdown)",
                "PartitionChangeRecord(orders-0, leader 2, isr [2, 3])"
            ]
        );
        apply(&mut image, &records);
        assert_eq!(controller.controlled_shutdown(&image, 1, epoch), Ok(vec![]), "already fenced");
    }

    #[test]
    fn without_elr_the_last_isr_member_stays_and_leads_again_when_it_returns() {
        let config = ControllerConfig { eligible_leader_replicas_enabled: false, ..ControllerConfig::default() };
        let mut controller = Controller::new(config);
        let mut image = cluster(&mut controller, &[]);
        let (records, _) = controller.alter_partition(&image, 1, 0, "orders", 0, 0, 0, &[1]).expect("shrinks");
        apply(&mut image, &records);
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let records = controller.tick(9_001, &image);
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["BrokerRegistrationChangeRecord(broker 1, fenced)", "PartitionChangeRecord(orders-0, leader -1)"]
        );
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| p.isr.clone()), Some(vec![1]));

        let records =
            controller.register_broker(12_000, &image, 1, 21, -1).expect("re-registers after the session expired");
        apply(&mut image, &records);
        let epoch = image.brokers[&1].broker_epoch;
        let (_, records) = controller.heartbeat(12_100, &image, 1, epoch, image.offset).expect("heartbeat");
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["BrokerRegistrationChangeRecord(broker 1, unfenced)", "PartitionChangeRecord(orders-0, leader 1)"]
        );
    }

    #[test]
    fn unclean_election_picks_a_live_replica_outside_the_isr() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        let (records, _) = controller.alter_partition(&image, 1, 0, "orders", 0, 0, 0, &[1]).expect("shrinks");
        apply(&mut image, &records);
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let records = controller.tick(9_001, &image);
        apply(&mut image, &records);
        let records =
            controller.alter_config(&image, "orders", "unclean.leader.election.enable", Some("true")).expect("ok");
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "ConfigRecord(orders: unclean.leader.election.enable=true)",
                "PartitionChangeRecord(orders-0, leader 2, isr [2], elr [], last known elr [], unclean)",
            ]
        );
    }

    #[test]
    fn a_cluster_wide_unclean_default_elects_and_a_topic_override_can_refuse_it() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        let records = controller.create_topic(&image, "audit", 1, 3, TopicConfigs::default()).expect("creates");
        apply(&mut image, &records);
        let records = controller
            .alter_config(&image, "audit", "unclean.leader.election.enable", Some("false"))
            .expect("a topic override");
        apply(&mut image, &records);
        for topic in ["orders", "audit"] {
            let (records, _) = controller.alter_partition(&image, 1, 0, topic, 0, 0, 0, &[1]).expect("shrinks");
            apply(&mut image, &records);
        }
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let records = controller.tick(9_001, &image);
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| p.leader), Some(NO_LEADER));

        assert_eq!(
            controller.alter_broker_config(&image, Some(9), "log.retention.ms", Some("1")),
            Err(ErrorCode::BrokerIdNotRegistered)
        );
        assert_eq!(
            controller.alter_broker_config(&image, None, "broker.session.timeout.ms", Some("1")),
            Err(ErrorCode::InvalidRequest)
        );
        let records = controller
            .alter_broker_config(&image, None, "unclean.leader.election.enable", Some("true"))
            .expect("the cluster default");
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "ConfigRecord(broker default: unclean.leader.election.enable=true)",
                "PartitionChangeRecord(orders-0, leader 2, isr [2], elr [], last known elr [], unclean)",
            ],
            "audit keeps its own false"
        );
        // With ELR, min.insync.replicas is per topic or cluster-wide only (Kafka 4.1).
        assert_eq!(
            controller.alter_broker_config(&image, Some(1), "min.insync.replicas", Some("2")),
            Err(ErrorCode::InvalidConfig)
        );
        assert_eq!(
            controller.alter_broker_config(&image, None, "min.insync.replicas", None),
            Err(ErrorCode::InvalidConfig)
        );
    }

    #[test]
    fn alter_partition_is_checked_against_the_leader_and_partition_epochs() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        assert_eq!(
            controller.alter_partition(&image, 2, 0, "orders", 0, 0, 0, &[1, 2]).map(|_| ()),
            Err(ErrorCode::StaleBrokerEpoch)
        );
        let epoch_2 = image.brokers[&2].broker_epoch;
        assert_eq!(
            controller.alter_partition(&image, 2, epoch_2, "orders", 0, 0, 0, &[2]).map(|_| ()),
            Err(ErrorCode::FencedLeaderEpoch),
            "broker 2 is not the leader"
        );
        let (records, registration) = controller.alter_partition(&image, 1, 0, "orders", 0, 0, 0, &[1, 3]).expect("ok");
        assert_eq!((registration.isr.clone(), registration.partition_epoch), (vec![1, 3], 1));
        apply(&mut image, &records);
        assert_eq!(
            controller.alter_partition(&image, 1, 0, "orders", 0, 0, 0, &[1]).map(|_| ()),
            Err(ErrorCode::InvalidUpdateVersion),
            "partition epoch 0 is stale"
        );
    }

    /// AlterPartition from the current leader of `orders-0`, setting its ISR.
    fn set_isr(controller: &mut Controller, image: &MetadataImage, isr: &[BrokerId]) -> Vec<MetadataRecord> {
        let partition = image.partition("orders", 0).expect("exists").clone();
        let broker_epoch = image.brokers[&partition.leader].broker_epoch;
        let (records, _) = controller
            .alter_partition(
                image,
                partition.leader,
                broker_epoch,
                "orders",
                0,
                partition.leader_epoch,
                partition.partition_epoch,
                isr,
            )
            .expect("the ISR changes");
        records
    }

    #[test]
    fn elect_leaders_moves_leadership_back_to_the_preferred_replica_or_elects_an_unclean_one() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[]);
        let elect = |controller: &mut Controller, image: &MetadataImage, election| {
            controller
                .elect_leader(image, "orders", 0, election)
                .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
        };
        assert_eq!(elect(&mut controller, &image, ElectionType::Preferred), Err(ErrorCode::ElectionNotNeeded));
        assert_eq!(elect(&mut controller, &image, ElectionType::Unclean), Err(ErrorCode::ElectionNotNeeded));
        assert_eq!(
            controller.elect_leader(&image, "orders", 1, ElectionType::Preferred),
            Err(ErrorCode::UnknownTopicOrPartition)
        );

        // Broker 1 (the preferred leader) is fenced: broker 2 leads, and 1 cannot take over.
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let records = controller.tick(9_001, &image);
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| p.leader), Some(2));
        assert_eq!(
            elect(&mut controller, &image, ElectionType::Preferred),
            Err(ErrorCode::PreferredLeaderNotAvailable),
            "out of the ISR and fenced"
        );

        // It comes back and catches up into the ISR: leadership stays with 2 until a preferred
        // election moves it, bumping the leader epoch.
        let records = controller.register_broker(12_000, &image, 1, 21, -1).expect("re-registers");
        apply(&mut image, &records);
        let epoch = image.brokers[&1].broker_epoch;
        let records = controller.heartbeat(12_100, &image, 1, epoch, image.offset).expect("heartbeat").1;
        apply(&mut image, &records);
        let records = set_isr(&mut controller, &image, &[2, 3, 1]);
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| (p.leader, p.leader_epoch)), Some((2, 1)));
        let records = controller.elect_leader(&image, "orders", 0, ElectionType::Preferred).expect("elects 1");
        assert_eq!(
            records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["PartitionChangeRecord(orders-0, leader 1)"]
        );
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| (p.leader, p.leader_epoch)), Some((1, 2)));

        // Unclean: the ISR is broker 1 alone and it is fenced; broker 3 is the only live replica.
        let records = set_isr(&mut controller, &image, &[1]);
        apply(&mut image, &records);
        let epoch = image.brokers[&3].broker_epoch;
        controller.heartbeat(21_000, &image, 3, epoch, image.offset).expect("heartbeat");
        // Brokers 1 and 2 went silent; Kafka fences one stale broker per tick.
        loop {
            let records = controller.tick(29_001, &image);
            if records.is_empty() {
                break;
            }
            apply(&mut image, &records);
        }
        let partition = image.partition("orders", 0).expect("exists");
        assert_eq!(
            (partition.leader, partition.isr.clone(), partition.elr.clone(), partition.last_known_elr.clone()),
            (NO_LEADER, vec![], vec![1], vec![1]),
            "offline: its ISR emptied into the ELR, and broker 1 was its last leader"
        );
        assert_eq!(
            elect(&mut controller, &image, ElectionType::Preferred),
            Err(ErrorCode::PreferredLeaderNotAvailable)
        );
        assert_eq!(
            elect(&mut controller, &image, ElectionType::Unclean),
            Ok(vec![
                "PartitionChangeRecord(orders-0, leader 3, isr [3], elr [], last known elr [], unclean)".to_owned()
            ])
        );
    }

    /// Lets `silent` brokers' sessions expire at `now_ms` (the others heartbeat just before) and
    /// applies what the controller decides, one fence per tick as in Kafka.
    fn expire(controller: &mut Controller, image: &mut MetadataImage, now_ms: u64, silent: &[BrokerId]) -> Vec<String> {
        let alive: Vec<BrokerId> = image.brokers.keys().copied().filter(|id| !silent.contains(id)).collect();
        for broker_id in alive {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(now_ms - 1_000, image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let mut text = Vec::new();
        loop {
            let records = controller.tick(now_ms, image);
            if records.is_empty() {
                return text;
            }
            text.extend(records.iter().map(ToString::to_string));
            apply(image, &records);
        }
    }

    #[test]
    fn below_min_insync_replicas_the_replicas_leaving_the_isr_stay_eligible_leaders() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[("min.insync.replicas", "2")]);
        assert_eq!(
            expire(&mut controller, &mut image, 9_001, &[3]),
            ["BrokerRegistrationChangeRecord(broker 3, fenced)", "PartitionChangeRecord(orders-0, isr [1, 2])"],
            "two in sync is enough: no ELR"
        );
        assert_eq!(
            expire(&mut controller, &mut image, 18_001, &[2, 3]),
            ["BrokerRegistrationChangeRecord(broker 2, fenced)", "PartitionChangeRecord(orders-0, isr [1], elr [2])"],
            "below the minimum the high watermark stops, so broker 2 has every committed record"
        );
        assert_eq!(
            expire(&mut controller, &mut image, 27_001, &[1, 2, 3]),
            [
                "BrokerRegistrationChangeRecord(broker 1, fenced)",
                "PartitionChangeRecord(orders-0, leader -1, isr [], elr [1, 2], last known elr [1])"
            ],
            "an empty ISR, kept in the ELR"
        );

        // Broker 2 comes back without having restarted (a network partition healed): it may
        // lead cleanly from the ELR, and becomes the ISR.
        let epoch = image.brokers[&2].broker_epoch;
        let (_, records) = controller.heartbeat(30_000, &image, 2, epoch, image.offset).expect("heartbeat");
        assert_eq!(
            records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "BrokerRegistrationChangeRecord(broker 2, unfenced)",
                "PartitionChangeRecord(orders-0, leader 2, isr [2], elr [1], last known elr [])"
            ]
        );
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| p.unclean_elections), Some(0));

        // Broker 1 restarted instead: after an unclean shutdown its log may lack what it had, so
        // it leaves the ELR as it registers again.
        let records = controller.register_broker(31_000, &image, 1, 31, -1).expect("registers");
        assert_eq!(
            records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["PartitionChangeRecord(orders-0, elr [])", "RegisterBrokerRecord(broker 1)"]
        );
        apply(&mut image, &records);

        // Changing min.insync.replicas starts the ELR over.
        let records = controller.alter_config(&image, "orders", "min.insync.replicas", Some("3")).expect("alters");
        apply(&mut image, &records);
        let records = set_isr(&mut controller, &image, &[2]);
        assert!(records.is_empty(), "the ISR is [2] already: {records:?}");
        let records = controller.alter_config(&image, "orders", "min.insync.replicas", Some("1")).expect("alters");
        assert_eq!(records.len(), 1, "no ELR to clear: {records:?}");
    }

    #[test]
    fn a_broker_back_from_a_clean_shutdown_stays_an_eligible_leader() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[("min.insync.replicas", "2")]);
        expire(&mut controller, &mut image, 9_001, &[2, 3]);
        assert_eq!(image.partition("orders", 0).map(|p| p.elr.clone()), Some(vec![3]));
        let epoch_3 = image.brokers[&3].broker_epoch;
        let records = controller.register_broker(10_000, &image, 3, 33, epoch_3).expect("registers");
        assert_eq!(
            records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["RegisterBrokerRecord(broker 3)"],
            "it proves a clean shutdown of broker epoch {epoch_3}: its log is whole"
        );
        let records = controller.register_broker(10_000, &image, 3, 34, epoch_3 - 1).expect("registers");
        assert_eq!(records.len(), 2, "a stale epoch proves nothing: {records:?}");
    }

    #[test]
    fn the_last_known_leader_leads_again_when_every_eligible_replica_restarted() {
        let mut controller = Controller::default();
        let mut image = cluster(&mut controller, &[("min.insync.replicas", "2")]);
        expire(&mut controller, &mut image, 9_001, &[2, 3]);
        expire(&mut controller, &mut image, 18_001, &[1, 2, 3]);
        let partition = image.partition("orders", 0).expect("exists").clone();
        assert_eq!(
            (partition.isr, partition.elr, partition.last_known_elr),
            (vec![], vec![1, 3], vec![1]),
            "broker 2 left while two were still in sync: the high watermark moved on without it"
        );
        for (broker_id, incarnation) in [(3, 33), (2, 32), (1, 31)] {
            let records = controller.register_broker(20_000, &image, broker_id, incarnation, -1).expect("registers");
            apply(&mut image, &records);
        }
        let partition = image.partition("orders", 0).expect("exists").clone();
        assert_eq!((partition.elr, partition.last_known_elr), (vec![], vec![1]), "all restarted uncleanly");
        let epoch = image.brokers[&3].broker_epoch;
        let (_, records) = controller.heartbeat(20_100, &image, 3, epoch, image.offset).expect("heartbeat");
        assert_eq!(records.len(), 1, "broker 3 may not lead: {records:?}");
        apply(&mut image, &records);
        let epoch = image.brokers[&1].broker_epoch;
        let (_, records) = controller.heartbeat(20_200, &image, 1, epoch, image.offset).expect("heartbeat");
        assert_eq!(
            records.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "BrokerRegistrationChangeRecord(broker 1, unfenced)",
                "PartitionChangeRecord(orders-0, leader 1, isr [1], last known elr [])"
            ],
            "the last leader, as Kafka elects it when no ISR or ELR member is left"
        );
    }

    #[test]
    fn leadership_returns_to_the_preferred_replica_after_the_imbalance_interval() {
        let config =
            ControllerConfig { leader_imbalance_check_interval_ms: Some(300_000), ..ControllerConfig::default() };
        let mut controller = Controller::new(config);
        let mut image = cluster(&mut controller, &[]);
        // Broker 1, the preferred leader, is fenced: broker 2 leads.
        for broker_id in [2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            controller.heartbeat(8_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
        }
        let records = controller.tick(9_001, &image);
        apply(&mut image, &records);
        assert_eq!(image.partition("orders", 0).map(|p| p.leader), Some(2));
        assert_eq!(controller.leader_balance_due_ms, Some(309_001), "the rebalance is scheduled");
        // It returns and catches up; nothing moves before the interval has passed.
        let records = controller.register_broker(12_000, &image, 1, 21, -1).expect("re-registers");
        apply(&mut image, &records);
        for broker_id in [1, 2, 3] {
            let epoch = image.brokers[&broker_id].broker_epoch;
            let (_, records) =
                controller.heartbeat(308_000, &image, broker_id, epoch, image.offset).expect("heartbeat");
            apply(&mut image, &records);
        }
        let records = set_isr(&mut controller, &image, &[2, 3, 1]);
        apply(&mut image, &records);
        assert_eq!(controller.tick(309_000, &image), vec![]);
        let records = controller.tick(309_001, &image);
        let text: Vec<String> = records.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["PartitionChangeRecord(orders-0, leader 1)"]);
        apply(&mut image, &records);
        // Balanced: nothing more is scheduled.
        assert_eq!(controller.tick(309_002, &image), vec![]);
        assert_eq!(controller.leader_balance_due_ms, None);
    }
}
