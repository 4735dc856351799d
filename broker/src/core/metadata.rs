//! The cluster metadata as KRaft keeps it: a log of records (KIP-631) and the image built by
//! applying them in order.
//!
//! Every controller and every broker replays the same committed records from the metadata log
//! (the `__cluster_metadata` topic), so they all reach the same image: which brokers are
//! registered and fenced, which topics exist, and for each partition its replicas, ISR, leader,
//! leader epoch and partition epoch. The records here carry Kafka's names and the fields the
//! simulator needs; the image is what `kafka-metadata-shell` would show.

use std::collections::BTreeMap;

use super::broker_config::BrokerConfigsImage;
use super::config::TopicConfigs;
use super::replica::BrokerId;

/// "No leader" in a partition record, as in Kafka.
pub const NO_LEADER: BrokerId = -1;

/// One record of the metadata log (KIP-631's record types, trimmed to what is modelled).
///
/// The runtime broker stores them as JSON in its `__cluster_metadata` log, tagged with the names
/// `kafka-dump-log --cluster-metadata-decoder` prints (`"type": "TOPIC_RECORD"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "runtime", serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum MetadataRecord {
    /// A broker (re)started and registered. Its broker epoch is this record's offset, so a
    /// restarted broker's heartbeats for its old epoch are recognisably stale.
    #[cfg_attr(feature = "runtime", serde(rename = "REGISTER_BROKER_RECORD"))]
    RegisterBroker { broker_id: BrokerId, incarnation_id: u64 },
    /// A registered broker was fenced (it missed heartbeats for `broker.session.timeout.ms`, or
    /// asked to stop: `in_controlled_shutdown`) or unfenced (it caught up with the metadata log
    /// and may lead partitions again). Kafka 3.3+ writes this record for all three
    /// (`BrokerRegistrationChangeRecord`; `fenced` there is an int8, -1 unfenced, 0 no change,
    /// 1 fenced).
    #[cfg_attr(feature = "runtime", serde(rename = "BROKER_REGISTRATION_CHANGE_RECORD"))]
    BrokerRegistrationChange {
        broker_id: BrokerId,
        broker_epoch: i64,
        /// `Some(true)` fenced, `Some(false)` unfenced, `None` no change.
        fenced: Option<bool>,
        #[cfg_attr(feature = "runtime", serde(default))]
        in_controlled_shutdown: bool,
    },
    /// The record older Kafka versions (and data directories written before Streamlab wrote
    /// [`MetadataRecord::BrokerRegistrationChange`]) use to fence a broker; still read.
    #[cfg_attr(feature = "runtime", serde(rename = "FENCE_BROKER_RECORD"))]
    FenceBroker { broker_id: BrokerId, broker_epoch: i64 },
    /// Its unfencing counterpart; still read.
    #[cfg_attr(feature = "runtime", serde(rename = "UNFENCE_BROKER_RECORD"))]
    UnfenceBroker { broker_id: BrokerId, broker_epoch: i64 },
    /// A topic was created; its partitions follow as `Partition` records. (Kafka writes the
    /// configs as separate `ConfigRecord`s; here they come with the topic.)
    #[cfg_attr(feature = "runtime", serde(rename = "TOPIC_RECORD"))]
    Topic {
        name: String,
        /// Kafka's topic id (KIP-516): a new one each time a topic of this name is created.
        #[cfg_attr(feature = "runtime", serde(with = "topic_id_text"))]
        topic_id: [u8; 16],
        configs: TopicConfigs,
    },
    /// A topic was deleted, with its partitions and configs.
    #[cfg_attr(feature = "runtime", serde(rename = "REMOVE_TOPIC_RECORD"))]
    RemoveTopic { name: String },
    /// A new partition of a topic (at creation, or added later by CreatePartitions).
    #[cfg_attr(feature = "runtime", serde(rename = "PARTITION_RECORD"))]
    Partition { topic: String, partition: i32, replicas: Vec<BrokerId>, isr: Vec<BrokerId>, leader: BrokerId },
    /// A change of leader, ISR or ELR. `None` leaves the field as it is. A new leader bumps
    /// the leader epoch; every change bumps the partition epoch.
    #[cfg_attr(feature = "runtime", serde(rename = "PARTITION_CHANGE_RECORD"))]
    PartitionChange {
        topic: String,
        partition: i32,
        leader: Option<BrokerId>,
        isr: Option<Vec<BrokerId>>,
        /// The leader was elected from outside the ISR and ELR (`unclean.leader.election.enable`,
        /// or the last known leader of a partition whose ISR and ELR are empty).
        unclean: bool,
        /// Eligible leader replicas (KIP-966). Logs written before ELR existed have no field.
        #[cfg_attr(feature = "runtime", serde(default, skip_serializing_if = "Option::is_none"))]
        elr: Option<Vec<BrokerId>>,
        /// The last known leader of a partition left without ISR and ELR (KIP-966's
        /// `LastKnownElr`, as Kafka fills it by default).
        #[cfg_attr(feature = "runtime", serde(default, skip_serializing_if = "Option::is_none"))]
        last_known_elr: Option<Vec<BrokerId>>,
    },
    /// Nothing: the active controller appends one every `metadata.max.idle.interval.ms` (KIP-835),
    /// so followers and brokers can tell a quiet quorum from a lost leader, and the high
    /// watermark keeps moving as on a real cluster.
    #[cfg_attr(feature = "runtime", serde(rename = "NO_OP_RECORD"))]
    NoOp,
    /// A topic config was set (`Some`) or removed (`None`).
    #[cfg_attr(feature = "runtime", serde(rename = "CONFIG_RECORD"))]
    Config { topic: String, name: String, value: Option<String> },
    /// A dynamic broker config was set (`Some`) or removed (`None`): on one broker, or the
    /// cluster-wide default with `broker_id: None`. Kafka writes a `ConfigRecord` with
    /// `resourceType` BROKER (4) and `resourceName` "1" or "" (the default); here it is a record
    /// of its own, so that the topic config records of older logs read unchanged.
    #[cfg_attr(feature = "runtime", serde(rename = "BROKER_CONFIG_RECORD"))]
    BrokerConfig { broker_id: Option<BrokerId>, name: String, value: Option<String> },
}

/// A broker as the metadata log knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerRegistration {
    pub broker_id: BrokerId,
    pub incarnation_id: u64,
    pub broker_epoch: i64,
    pub fenced: bool,
    /// It stopped with a controlled shutdown (until it registers again).
    pub in_controlled_shutdown: bool,
}

/// One partition's replication state (Kafka's `PartitionRegistration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRegistration {
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    pub leader: BrokerId,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    /// How many unclean elections this partition has had: each may have lost acknowledged data.
    pub unclean_elections: u32,
    /// Eligible leader replicas (KIP-966): replicas out of the ISR that still hold every record
    /// below the high watermark, because the ISR fell below `min.insync.replicas` when they left
    /// it and the high watermark has not moved since. They may lead cleanly when the ISR is empty.
    pub elr: Vec<BrokerId>,
    /// The leader when the ISR became empty: it may lead again if no ISR or ELR member returns.
    pub last_known_elr: Vec<BrokerId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicImage {
    pub name: String,
    pub topic_id: [u8; 16],
    pub partitions: Vec<PartitionRegistration>,
    pub configs: TopicConfigs,
}

/// The state reached by applying metadata records in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataImage {
    /// The offset of the last record applied, -1 before any.
    pub offset: i64,
    pub brokers: BTreeMap<BrokerId, BrokerRegistration>,
    pub topics: BTreeMap<String, TopicImage>,
    /// The broker-level configs topics fall back to: the dynamic ones from the log, and this
    /// node's static ones (the one part of the image not built from records).
    pub broker_configs: BrokerConfigsImage,
}

impl MetadataImage {
    pub fn new() -> Self {
        MetadataImage { offset: -1, ..Default::default() }
    }

    /// An empty image for a node started with these `server.properties` broker configs.
    pub fn with_static_configs(static_configs: super::broker_config::BrokerConfigs) -> Self {
        let broker_configs = BrokerConfigsImage { static_configs, ..BrokerConfigsImage::default() };
        MetadataImage { offset: -1, broker_configs, ..Default::default() }
    }

    /// A topic's effective configs on `broker` (`None`: without a broker's own dynamic
    /// configs, as the controller reads them): see [`TopicConfigs::effective`].
    pub fn effective_topic_configs(&self, topic: &str, broker: Option<BrokerId>) -> Option<TopicConfigs> {
        Some(self.topics.get(topic)?.configs.effective(&self.broker_configs, broker))
    }

    /// One effective config of a topic on `broker`: its override, else the broker-level
    /// default, else Kafka's (Kafka's `ConfigurationControlManager.getTopicConfig`).
    pub fn topic_config(&self, topic: &str, broker: Option<BrokerId>, name: &str) -> Option<String> {
        let configs = &self.topics.get(topic)?.configs;
        match configs.overrides().get(name) {
            Some(value) => Some(value.clone()),
            None => match self.broker_configs.topic_default(broker, name) {
                Some((value, _)) => Some(value),
                None => configs.get(name).map(str::to_owned),
            },
        }
    }

    /// Applies the record at `offset`. Records that name something unknown are skipped: the
    /// controller never writes them, and a replayed log must not stop on one.
    pub fn apply(&mut self, offset: i64, record: &MetadataRecord) {
        self.offset = self.offset.max(offset);
        match record {
            MetadataRecord::RegisterBroker { broker_id, incarnation_id } => {
                self.brokers.insert(
                    *broker_id,
                    BrokerRegistration {
                        broker_id: *broker_id,
                        incarnation_id: *incarnation_id,
                        broker_epoch: offset,
                        fenced: true,
                        in_controlled_shutdown: false,
                    },
                );
            }
            MetadataRecord::FenceBroker { broker_id, broker_epoch }
            | MetadataRecord::UnfenceBroker { broker_id, broker_epoch } => {
                if let Some(broker) = self.brokers.get_mut(broker_id).filter(|b| b.broker_epoch == *broker_epoch) {
                    broker.fenced = matches!(record, MetadataRecord::FenceBroker { .. });
                }
            }
            MetadataRecord::BrokerRegistrationChange { broker_id, broker_epoch, fenced, in_controlled_shutdown } => {
                if let Some(broker) = self.brokers.get_mut(broker_id).filter(|b| b.broker_epoch == *broker_epoch) {
                    if let Some(fenced) = fenced {
                        broker.fenced = *fenced;
                    }
                    broker.in_controlled_shutdown |= *in_controlled_shutdown;
                }
            }
            MetadataRecord::Topic { name, topic_id, configs } => {
                self.topics.entry(name.clone()).or_insert_with(|| TopicImage {
                    name: name.clone(),
                    topic_id: *topic_id,
                    partitions: Vec::new(),
                    configs: configs.clone(),
                });
            }
            MetadataRecord::RemoveTopic { name } => {
                self.topics.remove(name);
            }
            MetadataRecord::Partition { topic, partition, replicas, isr, leader } => {
                if let Some(topic) = self.topics.get_mut(topic)
                    && usize::try_from(*partition).is_ok_and(|p| p == topic.partitions.len())
                {
                    topic.partitions.push(PartitionRegistration {
                        replicas: replicas.clone(),
                        isr: isr.clone(),
                        leader: *leader,
                        leader_epoch: 0,
                        partition_epoch: 0,
                        unclean_elections: 0,
                        elr: Vec::new(),
                        last_known_elr: Vec::new(),
                    });
                }
            }
            MetadataRecord::PartitionChange { topic, partition, leader, isr, unclean, elr, last_known_elr } => {
                if let Some(registration) = self.partition_mut(topic, *partition) {
                    if let Some(leader) = leader
                        && *leader != registration.leader
                    {
                        registration.leader = *leader;
                        registration.leader_epoch += 1;
                    }
                    if let Some(isr) = isr {
                        registration.isr = isr.clone();
                    }
                    if let Some(elr) = elr {
                        registration.elr = elr.clone();
                    }
                    if let Some(last_known_elr) = last_known_elr {
                        registration.last_known_elr = last_known_elr.clone();
                    }
                    if *unclean {
                        registration.unclean_elections += 1;
                    }
                    registration.partition_epoch += 1;
                }
            }
            MetadataRecord::NoOp => {}
            MetadataRecord::Config { topic, name, value } => {
                if let Some(topic) = self.topics.get_mut(topic) {
                    match value {
                        // Validated by the controller before it wrote the record.
                        Some(value) => {
                            let _ = topic.configs.set(name, value);
                        }
                        None => topic.configs.remove(name),
                    }
                }
            }
            MetadataRecord::BrokerConfig { broker_id, name, value } => {
                self.broker_configs.apply(*broker_id, name, value.as_deref());
            }
        }
    }

    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionRegistration> {
        self.topics.get(topic)?.partitions.get(usize::try_from(partition).ok()?)
    }

    fn partition_mut(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionRegistration> {
        self.topics.get_mut(topic)?.partitions.get_mut(usize::try_from(partition).ok()?)
    }

    /// Registered brokers that are not fenced.
    pub fn is_active(&self, broker_id: BrokerId) -> bool {
        self.brokers.get(&broker_id).is_some_and(|b| !b.fenced)
    }

    /// Every partition as (topic, index, registration), in topic then index order.
    pub fn partitions(&self) -> impl Iterator<Item = (&str, i32, &PartitionRegistration)> {
        self.topics.values().flat_map(|topic| {
            topic.partitions.iter().enumerate().map(move |(index, registration)| {
                (topic.name.as_str(), i32::try_from(index).unwrap_or(i32::MAX), registration)
            })
        })
    }
}

/// A topic id that depends only on the topic's name and the metadata offset it is created after.
/// Kafka's controller draws topic ids at random; the simulator's must come out the same on every
/// replay of a seed, and must differ when a topic of the same name is created again. FNV-1a, two
/// 64-bit halves with different offset bases.
pub fn derived_topic_id(name: &str, after_offset: i64) -> [u8; 16] {
    let fnv = |basis: u64| {
        name.bytes()
            .chain(after_offset.to_be_bytes())
            .fold(basis, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
    };
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    id[8..].copy_from_slice(&fnv(0x6c62_272e_07bb_0142).to_be_bytes());
    id
}

/// Topic ids as text in the runtime's metadata log: the UUID form, readable in a hex dump.
#[cfg(feature = "runtime")]
mod topic_id_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(id: &[u8; 16], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&uuid::Uuid::from_bytes(*id))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 16], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        uuid::Uuid::parse_str(&text).map(|id| *id.as_bytes()).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for MetadataRecord {
    /// How `kafka-metadata-shell` and the simulator's event log name a record.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataRecord::RegisterBroker { broker_id, .. } => write!(f, "RegisterBrokerRecord(broker {broker_id})"),
            MetadataRecord::BrokerRegistrationChange { broker_id, fenced, in_controlled_shutdown, .. } => {
                write!(f, "BrokerRegistrationChangeRecord(broker {broker_id}")?;
                match fenced {
                    Some(true) => write!(f, ", fenced")?,
                    Some(false) => write!(f, ", unfenced")?,
                    None => {}
                }
                if *in_controlled_shutdown {
                    write!(f, ", in controlled shutdown")?;
                }
                write!(f, ")")
            }
            MetadataRecord::FenceBroker { broker_id, .. } => write!(f, "FenceBrokerRecord(broker {broker_id})"),
            MetadataRecord::UnfenceBroker { broker_id, .. } => write!(f, "UnfenceBrokerRecord(broker {broker_id})"),
            MetadataRecord::Topic { name, .. } => write!(f, "TopicRecord({name})"),
            MetadataRecord::RemoveTopic { name } => write!(f, "RemoveTopicRecord({name})"),
            MetadataRecord::Partition { topic, partition, leader, isr, .. } => {
                write!(f, "PartitionRecord({topic}-{partition}, leader {leader}, isr {isr:?})")
            }
            MetadataRecord::PartitionChange { topic, partition, leader, isr, unclean, elr, last_known_elr } => {
                write!(f, "PartitionChangeRecord({topic}-{partition}")?;
                if let Some(leader) = leader {
                    write!(f, ", leader {leader}")?;
                }
                if let Some(isr) = isr {
                    write!(f, ", isr {isr:?}")?;
                }
                if let Some(elr) = elr {
                    write!(f, ", elr {elr:?}")?;
                }
                if let Some(last_known_elr) = last_known_elr {
                    write!(f, ", last known elr {last_known_elr:?}")?;
                }
                if *unclean {
                    write!(f, ", unclean")?;
                }
                write!(f, ")")
            }
            MetadataRecord::NoOp => write!(f, "NoOpRecord"),
            MetadataRecord::Config { topic, name, value } => match value {
                Some(value) => write!(f, "ConfigRecord({topic}: {name}={value})"),
                None => write!(f, "ConfigRecord({topic}: {name} removed)"),
            },
            MetadataRecord::BrokerConfig { broker_id, name, value } => {
                match broker_id {
                    Some(id) => write!(f, "ConfigRecord(broker {id}: ")?,
                    None => write!(f, "ConfigRecord(broker default: ")?,
                }
                match value {
                    Some(value) => write!(f, "{name}={value})"),
                    None => write!(f, "{name} removed)"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_registration_changes_fence_and_unfence_and_the_older_records_still_apply() {
        let change = |fenced, in_controlled_shutdown, broker_epoch| MetadataRecord::BrokerRegistrationChange {
            broker_id: 1,
            broker_epoch,
            fenced,
            in_controlled_shutdown,
        };
        let state = |image: &MetadataImage| {
            let broker = &image.brokers[&1];
            (broker.broker_epoch, broker.fenced, broker.in_controlled_shutdown)
        };
        let mut image = MetadataImage::new();
        image.apply(0, &MetadataRecord::RegisterBroker { broker_id: 1, incarnation_id: 7 });
        assert_eq!(state(&image), (0, true, false), "a new registration starts fenced");
        image.apply(1, &change(Some(false), false, 0));
        assert_eq!(state(&image), (0, false, false));
        image.apply(2, &change(Some(true), true, 0));
        assert_eq!(state(&image), (0, true, true));
        assert_eq!(
            change(Some(true), true, 0).to_string(),
            "BrokerRegistrationChangeRecord(broker 1, fenced, in controlled shutdown)"
        );

        // The next incarnation: a change for the old broker epoch is stale and changes nothing.
        image.apply(3, &MetadataRecord::RegisterBroker { broker_id: 1, incarnation_id: 8 });
        image.apply(4, &change(Some(false), false, 0));
        assert_eq!(state(&image), (3, true, false));
        // Metadata logs written before BrokerRegistrationChangeRecord replay the same.
        image.apply(5, &MetadataRecord::UnfenceBroker { broker_id: 1, broker_epoch: 3 });
        assert_eq!(state(&image), (3, false, false));
        image.apply(6, &MetadataRecord::FenceBroker { broker_id: 1, broker_epoch: 3 });
        assert_eq!(state(&image), (3, true, false));
    }

    #[cfg(feature = "runtime")]
    #[test]
    fn broker_registration_changes_are_stored_under_kafkas_record_name_and_the_older_ones_still_read() {
        let record = MetadataRecord::BrokerRegistrationChange {
            broker_id: 2,
            broker_epoch: 41,
            fenced: Some(true),
            in_controlled_shutdown: true,
        };
        let json = serde_json::to_string(&record).expect("serializes");
        assert_eq!(
            json,
            r#"{"type":"BROKER_REGISTRATION_CHANGE_RECORD","broker_id":2,"broker_epoch":41,"fenced":true,"in_controlled_shutdown":true}"#
        );
        assert_eq!(serde_json::from_str::<MetadataRecord>(&json).expect("reads"), record);
        let older: MetadataRecord =
            serde_json::from_str(r#"{"type":"FENCE_BROKER_RECORD","broker_id":2,"broker_epoch":41}"#).expect("reads");
        assert_eq!(older, MetadataRecord::FenceBroker { broker_id: 2, broker_epoch: 41 });
    }

    #[test]
    fn replaying_records_builds_the_image() {
        let mut image = MetadataImage::new();
        let records = [
            MetadataRecord::RegisterBroker { broker_id: 1, incarnation_id: 7 },
            MetadataRecord::RegisterBroker { broker_id: 2, incarnation_id: 8 },
            MetadataRecord::UnfenceBroker { broker_id: 1, broker_epoch: 0 },
            MetadataRecord::UnfenceBroker { broker_id: 2, broker_epoch: 0 },
            MetadataRecord::Topic {
                name: "orders".into(),
                topic_id: derived_topic_id("orders", 3),
                configs: TopicConfigs::default(),
            },
            MetadataRecord::Partition {
                topic: "orders".into(),
                partition: 0,
                replicas: vec![1, 2],
                isr: vec![1, 2],
                leader: 1,
            },
            MetadataRecord::PartitionChange {
                topic: "orders".into(),
                partition: 0,
                leader: None,
                isr: Some(vec![1]),
                unclean: false,
                elr: Some(vec![2]),
                last_known_elr: None,
            },
            MetadataRecord::PartitionChange {
                topic: "orders".into(),
                partition: 0,
                leader: Some(2),
                isr: None,
                unclean: true,
                elr: None,
                last_known_elr: None,
            },
        ];
        for (offset, record) in records.iter().enumerate() {
            image.apply(offset as i64, record);
        }
        assert_eq!(image.offset, 7);
        assert!(image.is_active(1));
        assert!(image.brokers[&2].fenced, "the unfence named broker epoch 0, but broker 2 registered at offset 1");
        let partition = image.partition("orders", 0).cloned();
        assert_eq!(
            partition,
            Some(PartitionRegistration {
                replicas: vec![1, 2],
                isr: vec![1],
                leader: 2,
                leader_epoch: 1,
                partition_epoch: 2,
                unclean_elections: 1,
                elr: vec![2],
                last_known_elr: Vec::new(),
            })
        );
        assert_eq!(records[7].to_string(), "PartitionChangeRecord(orders-0, leader 2, unclean)");
    }

    #[test]
    fn broker_config_records_set_topic_defaults_below_the_topics_own() {
        let mut static_configs = crate::core::broker_config::BrokerConfigs::default();
        static_configs.set("min.insync.replicas", "2").expect("valid");
        let mut image = MetadataImage::with_static_configs(static_configs);
        let mut configs = TopicConfigs::default();
        configs.set("retention.bytes", "100").expect("valid");
        let records = [
            MetadataRecord::Topic { name: "orders".into(), topic_id: derived_topic_id("orders", -1), configs },
            MetadataRecord::BrokerConfig {
                broker_id: None,
                name: "log.retention.ms".into(),
                value: Some("60000".into()),
            },
            MetadataRecord::BrokerConfig {
                broker_id: Some(2),
                name: "log.retention.ms".into(),
                value: Some("5000".into()),
            },
            MetadataRecord::BrokerConfig {
                broker_id: None,
                name: "log.retention.bytes".into(),
                value: Some("999".into()),
            },
        ];
        for (offset, record) in records.iter().enumerate() {
            image.apply(offset as i64, record);
        }
        let config = |image: &MetadataImage, broker, name| image.topic_config("orders", broker, name);
        assert_eq!(config(&image, Some(1), "retention.ms").as_deref(), Some("60000"), "the cluster default");
        assert_eq!(config(&image, Some(2), "retention.ms").as_deref(), Some("5000"), "broker 2's own");
        assert_eq!(config(&image, None, "retention.ms").as_deref(), Some("60000"), "a controller");
        assert_eq!(config(&image, Some(2), "retention.bytes").as_deref(), Some("100"), "the topic's own");
        assert_eq!(config(&image, Some(1), "min.insync.replicas").as_deref(), Some("2"), "server.properties");
        assert_eq!(config(&image, Some(1), "segment.bytes").as_deref(), Some("1073741824"), "Kafka's default");
        let effective = image.effective_topic_configs("orders", Some(2)).expect("exists");
        assert_eq!(
            (
                effective.get_i64("retention.ms"),
                effective.get_i64("retention.bytes"),
                effective.get_i64("min.insync.replicas")
            ),
            (5000, 100, 2)
        );
        assert_eq!(records[2].to_string(), "ConfigRecord(broker 2: log.retention.ms=5000)");

        image.apply(4, &MetadataRecord::BrokerConfig { broker_id: None, name: "log.retention.ms".into(), value: None });
        assert_eq!(config(&image, Some(1), "retention.ms").as_deref(), Some("604800000"));
        assert_eq!(config(&image, Some(2), "retention.ms").as_deref(), Some("5000"));
    }
}
