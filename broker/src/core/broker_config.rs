//! Broker configs that set topic defaults, and how a topic's effective config is resolved from
//! them (Kafka's dynamic broker configs, <https://kafka.apache.org/documentation/#dynamicbrokerconfigs>).
//!
//! A topic config that the topic does not set falls back to a broker config of another name:
//! `retention.ms` to `log.retention.ms` (then `log.retention.minutes`, `log.retention.hours`),
//! `max.message.bytes` to `message.max.bytes`, ... (Kafka's `ServerTopicConfigSynonyms`). Each
//! broker config can come from three layers, most specific first, and Kafka's
//! `KafkaConfigSchema.resolveEffectiveTopicConfig` takes the first that sets any synonym:
//!
//! 1. `DYNAMIC_BROKER_CONFIG`: set on one broker with `kafka-configs.sh --entity-name 1`;
//! 2. `DYNAMIC_DEFAULT_BROKER_CONFIG`: the cluster-wide default (`--entity-default`);
//! 3. `STATIC_BROKER_CONFIG`: `server.properties` / `--override`;
//!
//! and failing all three, Kafka's default of the topic config (`DEFAULT_CONFIG`). The two dynamic
//! layers live in the metadata log (config records on a BROKER resource), so every node sees
//! the same ones; the static layer is each node's own start-up settings.
//!
//! Only the first synonym of each topic config can be changed dynamically (Kafka's
//! `DynamicLogConfig.ReconfigurableConfigs`): `log.retention.ms` is cluster-wide, while
//! `log.retention.hours` is read-only and can only be set in `server.properties`.

use std::collections::BTreeMap;

use super::ErrorCode;
use super::config::{ConfigDef, ConfigSource, check_value, config_def};
use super::replica::BrokerId;

/// How a broker config's value becomes its topic config's value (Kafka's `ConfigSynonym`
/// converters `HOURS_TO_MILLISECONDS` and `MINUTES_TO_MILLISECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynonymUnit {
    Same,
    Minutes,
    Hours,
}

/// One entry of Kafka's `ServerTopicConfigSynonyms.ALL_TOPIC_CONFIG_SYNONYMS`: a broker config
/// that sets the default of a topic config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerSynonym {
    /// The broker config's name (`log.retention.ms`).
    pub name: &'static str,
    /// The topic config it stands for (`retention.ms`).
    pub topic_config: &'static str,
    pub unit: SynonymUnit,
    /// Kafka's default of this broker config (`KafkaConfig`); `None` where Kafka's is null
    /// (`log.retention.ms`: the hours then count).
    pub default: Option<&'static str>,
    /// It can be changed while the cluster runs: only the first synonym of each topic config.
    pub dynamic: bool,
}

const LONG_MAX: &str = "9223372036854775807";

const fn synonym(name: &'static str, topic_config: &'static str, default: Option<&'static str>) -> BrokerSynonym {
    BrokerSynonym { name, topic_config, unit: SynonymUnit::Same, default, dynamic: true }
}

const fn fallback(
    name: &'static str,
    topic_config: &'static str,
    unit: SynonymUnit,
    default: Option<&'static str>,
) -> BrokerSynonym {
    BrokerSynonym { name, topic_config, unit, default, dynamic: false }
}

/// Kafka's `ServerTopicConfigSynonyms` for the topic configs this broker has, in Kafka's order:
/// for each topic config, its synonyms by priority.
pub const SERVER_TOPIC_CONFIG_SYNONYMS: &[BrokerSynonym] = &[
    synonym("log.segment.bytes", "segment.bytes", Some("1073741824")),
    synonym("log.roll.ms", "segment.ms", None),
    fallback("log.roll.hours", "segment.ms", SynonymUnit::Hours, Some("168")),
    synonym("log.roll.jitter.ms", "segment.jitter.ms", None),
    fallback("log.roll.jitter.hours", "segment.jitter.ms", SynonymUnit::Hours, Some("0")),
    synonym("log.index.size.max.bytes", "segment.index.bytes", Some("10485760")),
    synonym("log.flush.interval.messages", "flush.messages", Some(LONG_MAX)),
    synonym("log.flush.interval.ms", "flush.ms", None),
    fallback("log.flush.scheduler.interval.ms", "flush.ms", SynonymUnit::Same, Some(LONG_MAX)),
    synonym("log.retention.bytes", "retention.bytes", Some("-1")),
    synonym("log.retention.ms", "retention.ms", None),
    fallback("log.retention.minutes", "retention.ms", SynonymUnit::Minutes, None),
    fallback("log.retention.hours", "retention.ms", SynonymUnit::Hours, Some("168")),
    synonym("message.max.bytes", "max.message.bytes", Some("1048588")),
    synonym("log.index.interval.bytes", "index.interval.bytes", Some("4096")),
    synonym("log.cleaner.delete.retention.ms", "delete.retention.ms", Some("86400000")),
    synonym("log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms", Some("0")),
    synonym("log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms", Some(LONG_MAX)),
    synonym("log.segment.delete.delay.ms", "file.delete.delay.ms", Some("60000")),
    synonym("log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio", Some("0.5")),
    synonym("log.cleanup.policy", "cleanup.policy", Some("delete")),
    synonym("unclean.leader.election.enable", "unclean.leader.election.enable", Some("false")),
    synonym("min.insync.replicas", "min.insync.replicas", Some("1")),
    synonym("compression.type", "compression.type", Some("producer")),
    synonym("log.preallocate", "preallocate", Some("false")),
    synonym("log.message.timestamp.type", "message.timestamp.type", Some("CreateTime")),
];

/// Kafka broker configs a learner may try to change that Kafka only reads at start-up
/// (`DynamicConfig.Broker.nonDynamicProps`; "Update Mode: read-only" in Kafka's docs). The
/// non-first synonyms (`log.retention.hours`, ...) are read-only too.
const READ_ONLY_BROKER_CONFIGS: &[&str] = &[
    "node.id",
    "broker.id",
    "process.roles",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "log.dirs",
    "log.dir",
    "num.partitions",
    "default.replication.factor",
    "auto.create.topics.enable",
    "broker.session.timeout.ms",
    "broker.heartbeat.interval.ms",
    "replica.lag.time.max.ms",
    "log.retention.check.interval.ms",
    "socket.request.max.bytes",
    "fetch.max.bytes",
    "connections.max.idle.ms",
    "queued.max.request.bytes",
    "group.initial.rebalance.delay.ms",
    "metadata.max.idle.interval.ms",
    "auto.leader.rebalance.enable",
    "leader.imbalance.check.interval.seconds",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
];

/// Broker configs Kafka can change dynamically but this broker cannot (its threads, listeners
/// and connection limits are fixed when it starts).
const DYNAMIC_IN_KAFKA_ONLY: &[&str] = &[
    "listeners",
    "advertised.listeners",
    "max.connections",
    "max.connections.per.ip",
    "num.io.threads",
    "num.network.threads",
    "num.replica.fetchers",
    "background.threads",
    "log.cleaner.threads",
];

/// The synonym entry of a broker config, if it sets a topic default.
pub fn broker_synonym(name: &str) -> Option<&'static BrokerSynonym> {
    SERVER_TOPIC_CONFIG_SYNONYMS.iter().find(|s| s.name == name)
}

/// The broker configs that set `topic_config`'s default, by priority.
pub fn synonyms_of(topic_config: &str) -> impl Iterator<Item = &'static BrokerSynonym> + '_ {
    SERVER_TOPIC_CONFIG_SYNONYMS.iter().filter(move |s| s.topic_config == topic_config)
}

/// Why a broker config change is refused, with Kafka's error code and message where Kafka has
/// them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerConfigError {
    /// Read-only in Kafka: `DynamicBrokerConfig.validateConfigs` throws a `ConfigException` that
    /// the broker turns into INVALID_REQUEST (KAFKA-13609). Scala prints the names as a `Set`.
    #[error("Cannot update these configs dynamically: Set({})", .names.join(", "))]
    NotDynamic { names: Vec<String> },
    /// Kafka stores any name it does not know as a custom broker config (`DynamicConfig.Broker`
    /// allows custom props) and shows it as sensitive; a learning broker refuses it instead, so
    /// a typo is seen at once.
    #[error("Unknown broker config name: {name}{}", topic_hint(name))]
    Unknown { name: String },
    /// Dynamic in Kafka, fixed here.
    #[error("{name} can be changed dynamically in Kafka, but not in this broker: it is fixed when it starts")]
    NotSupported { name: String },
    /// The value fails the rule of the topic config it stands for (a `ConfigException`, which
    /// Kafka's broker also answers with INVALID_REQUEST).
    #[error("{0}")]
    InvalidValue(String),
    /// An operation the config does not take: APPEND or SUBTRACT on a config that is not a list
    /// (Kafka's `ConfigAdminManager.prepareIncrementalConfigs`, INVALID_REQUEST).
    #[error("{0}")]
    InvalidOperation(String),
}

/// For a topic config's name, or one with `log.` before it (`log.segment.ms`), which broker
/// config sets its default: the names differ for historical reasons.
fn topic_hint(name: &str) -> String {
    let topic_config = if config_def(name).is_some() { name } else { name.strip_prefix("log.").unwrap_or(name) };
    match synonyms_of(topic_config).find(|s| s.dynamic) {
        Some(synonym) => format!(" (the broker-wide default of topic config {topic_config} is {})", synonym.name),
        None => String::new(),
    }
}

impl BrokerConfigError {
    /// The error code Kafka answers with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            BrokerConfigError::NotDynamic { .. }
            | BrokerConfigError::InvalidValue(_)
            | BrokerConfigError::InvalidOperation(_) => ErrorCode::InvalidRequest,
            BrokerConfigError::Unknown { .. } | BrokerConfigError::NotSupported { .. } => ErrorCode::InvalidConfig,
        }
    }
}

/// Checks changes to a dynamic broker config resource (per broker or the cluster default) as
/// Kafka's `DynamicBrokerConfig.validateConfigs` does: every read-only name first, all in one
/// error, then unknown names, then each value (`None`: a deletion, which needs no value).
///
/// # Errors
///
/// The first [`BrokerConfigError`] found.
pub fn validate_dynamic_changes<'a>(
    changes: impl IntoIterator<Item = (&'a str, Option<&'a str>)> + Clone,
) -> Result<(), BrokerConfigError> {
    let read_only: Vec<String> = changes
        .clone()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| READ_ONLY_BROKER_CONFIGS.contains(name) || broker_synonym(name).is_some_and(|s| !s.dynamic))
        .map(str::to_owned)
        .collect();
    if !read_only.is_empty() {
        return Err(BrokerConfigError::NotDynamic { names: read_only });
    }
    for (name, value) in changes {
        if DYNAMIC_IN_KAFKA_ONLY.contains(&name) {
            return Err(BrokerConfigError::NotSupported { name: name.to_owned() });
        }
        let Some(synonym) = broker_synonym(name) else {
            return Err(BrokerConfigError::Unknown { name: name.to_owned() });
        };
        if let Some(value) = value {
            check_broker_value(synonym, value)?;
        }
    }
    Ok(())
}

/// Checks a broker config's value by the rule of its topic config, in its own unit; the message
/// names the broker config.
fn check_broker_value(synonym: &BrokerSynonym, value: &str) -> Result<(), BrokerConfigError> {
    let def = topic_def(synonym);
    match synonym.unit {
        SynonymUnit::Same => check_value(synonym.name, def.kind, value).map_err(BrokerConfigError::InvalidValue),
        // log.retention.hours and the like are INTs in Kafka.
        SynonymUnit::Minutes | SynonymUnit::Hours => match value.trim().parse::<i32>() {
            Ok(_) => Ok(()),
            Err(_) => Err(BrokerConfigError::InvalidValue(format!(
                "Invalid value {value} for configuration {}: Not a number of type INT",
                synonym.name
            ))),
        },
    }
}

fn topic_def(synonym: &BrokerSynonym) -> &'static ConfigDef {
    // Every synonym names a topic config of TOPIC_CONFIGS (a test checks it).
    config_def(synonym.topic_config).unwrap_or(&super::config::TOPIC_CONFIGS[0])
}

/// `value` of `synonym` as a value of its topic config: hours and minutes become milliseconds,
/// and a negative retention time means "for ever" (-1), as Kafka's `LogConfig` reads it.
fn to_topic_value(synonym: &BrokerSynonym, value: &str) -> String {
    let factor = match synonym.unit {
        SynonymUnit::Same => return value.to_owned(),
        SynonymUnit::Minutes => 60_000,
        SynonymUnit::Hours => 3_600_000,
    };
    match value.trim().parse::<i64>() {
        Ok(n) if n < 0 => "-1".to_owned(),
        Ok(n) => n.saturating_mul(factor).to_string(),
        Err(_) => value.to_owned(),
    }
}

/// One layer of broker configs by their broker names (`log.retention.ms=60000`): a broker's
/// dynamic configs, the cluster-wide dynamic defaults, or the static `server.properties` ones.
/// Values are validated on the way in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerConfigs {
    values: BTreeMap<String, String>,
}

impl BrokerConfigs {
    /// Sets a broker config that stands for a topic config, dynamic or not (a static layer may
    /// hold `log.retention.hours`), checking its value.
    ///
    /// # Errors
    ///
    /// [`BrokerConfigError::Unknown`] for a name that sets no topic default, or
    /// [`BrokerConfigError::InvalidValue`].
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), BrokerConfigError> {
        let synonym = broker_synonym(name).ok_or_else(|| BrokerConfigError::Unknown { name: name.to_owned() })?;
        check_broker_value(synonym, value)?;
        self.values.insert(name.to_owned(), value.trim().to_owned());
        Ok(())
    }

    pub fn remove(&mut self, name: &str) {
        self.values.remove(name);
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The broker-level configs of a cluster as one node sees them: the dynamic ones from the
/// metadata log (Kafka's `ConfigurationsImage` for BROKER resources) and the node's static ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerConfigsImage {
    /// `server.properties` / `--override` of this node: not in the metadata log, set when the
    /// node starts (every node of this process has the same).
    pub static_configs: BrokerConfigs,
    /// The cluster-wide dynamic defaults (resource name "").
    pub cluster_default: BrokerConfigs,
    /// Each broker's own dynamic configs (resource name "1", ...).
    pub per_broker: BTreeMap<BrokerId, BrokerConfigs>,
}

/// A topic config's value as a broker config gives it, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSynonym {
    /// The broker config's name (or the topic config's, for the topic's own value).
    pub name: String,
    /// `None` where Kafka's default is null.
    pub value: Option<String>,
    pub source: ConfigSource,
}

impl BrokerConfigsImage {
    /// The layers for `broker` (`None`: no broker's own layer, as on a controller), most
    /// specific first.
    fn layers(&self, broker: Option<BrokerId>) -> [(Option<&BrokerConfigs>, ConfigSource); 3] {
        [
            (broker.and_then(|id| self.per_broker.get(&id)), ConfigSource::DynamicBroker),
            (Some(&self.cluster_default), ConfigSource::DynamicDefaultBroker),
            (Some(&self.static_configs), ConfigSource::StaticBroker),
        ]
    }

    /// The broker-level default of `topic_config` for `broker`, as a topic value with its
    /// source: the first layer that sets any of its synonyms, in synonym order
    /// (`KafkaConfigSchema.resolveEffectiveTopicConfig`). `None`: Kafka's topic default counts.
    pub fn topic_default(&self, broker: Option<BrokerId>, topic_config: &str) -> Option<(String, ConfigSource)> {
        self.layers(broker).into_iter().find_map(|(layer, source)| {
            let layer = layer?;
            synonyms_of(topic_config)
                .find_map(|synonym| layer.get(synonym.name).map(|value| (to_topic_value(synonym, value), source)))
        })
    }

    /// The synonyms DescribeConfigs lists for a topic config that falls back to broker configs
    /// (Kafka's `ConfigHelper.configSynonyms`): each layer's values of every synonym, most
    /// specific layer first, then Kafka's defaults of the broker configs (`DEFAULT_CONFIG`).
    pub fn topic_config_synonyms(&self, broker: Option<BrokerId>, topic_config: &str) -> Vec<ConfigSynonym> {
        let names: Vec<&str> = synonyms_of(topic_config).map(|s| s.name).collect();
        self.synonyms(broker, &names)
    }

    fn synonyms(&self, broker: Option<BrokerId>, names: &[&str]) -> Vec<ConfigSynonym> {
        let mut synonyms = Vec::new();
        for (layer, source) in self.layers(broker) {
            let Some(layer) = layer else { continue };
            for name in names {
                if let Some(value) = layer.get(name) {
                    synonyms.push(ConfigSynonym { name: (*name).to_owned(), value: Some(value.to_owned()), source });
                }
            }
        }
        for name in names {
            if let Some(default) = broker_synonym(name).and_then(|s| s.default) {
                let value = Some(default.to_owned());
                synonyms.push(ConfigSynonym { name: (*name).to_owned(), value, source: ConfigSource::Default });
            }
        }
        synonyms
    }

    /// DescribeConfigs of BROKER resource `broker` (`None`: the cluster default, resource
    /// name ""), as Kafka's `ConfigHelper.createBrokerConfigEntry` builds it: for the default,
    /// only the configs it sets; for a broker, every broker config that sets a topic default.
    /// Each entry's source is its first synonym's, starting at its own name; the default lists
    /// only its own layer's synonyms.
    pub fn describe(&self, broker: Option<BrokerId>) -> Vec<BrokerConfigEntry> {
        let names: Vec<&'static str> = match broker {
            None => SERVER_TOPIC_CONFIG_SYNONYMS
                .iter()
                .map(|s| s.name)
                .filter(|name| self.cluster_default.get(name).is_some())
                .collect(),
            Some(_) => SERVER_TOPIC_CONFIG_SYNONYMS.iter().map(|s| s.name).collect(),
        };
        names
            .into_iter()
            .map(|name| {
                // DynamicBrokerConfig.brokerConfigSynonyms: the configs that are one setting in
                // different units (log.retention.ms, .minutes, .hours).
                let family: Vec<&str> = match broker_synonym(name) {
                    Some(s) if s.dynamic || s.unit != SynonymUnit::Same => {
                        synonyms_of(s.topic_config).map(|other| other.name).collect()
                    }
                    _ => vec![name],
                };
                let mut synonyms = self.synonyms(broker, &family);
                if broker.is_none() {
                    synonyms.retain(|s| s.source == ConfigSource::DynamicDefaultBroker);
                }
                let skip = synonyms.iter().take_while(|s| s.name != name).count();
                synonyms.drain(..skip);
                let (value, source) = match synonyms.first() {
                    Some(first) => (first.value.clone(), first.source),
                    None => (None, ConfigSource::Default),
                };
                let dynamic = broker_synonym(name).is_some_and(|s| s.dynamic);
                BrokerConfigEntry { name, value, source, read_only: !dynamic, synonyms }
            })
            .collect()
    }

    /// Applies a config record on a BROKER resource.
    pub fn apply(&mut self, broker: Option<BrokerId>, name: &str, value: Option<&str>) {
        let layer = match broker {
            Some(id) => self.per_broker.entry(id).or_default(),
            None => &mut self.cluster_default,
        };
        match value {
            // Validated by the controller before it wrote the record.
            Some(value) => {
                let _ = layer.set(name, value);
            }
            None => layer.remove(name),
        }
        if let Some(id) = broker
            && self.per_broker.get(&id).is_some_and(BrokerConfigs::is_empty)
        {
            self.per_broker.remove(&id);
        }
    }

    /// The dynamic layer of a BROKER resource (`None`: the cluster default).
    pub fn dynamic(&self, broker: Option<BrokerId>) -> Option<&BrokerConfigs> {
        match broker {
            Some(id) => self.per_broker.get(&id),
            None => Some(&self.cluster_default),
        }
    }
}

/// One broker config as DescribeConfigs lists it for a BROKER resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfigEntry {
    pub name: &'static str,
    pub value: Option<String>,
    pub source: ConfigSource,
    /// Kafka cannot change it while it runs.
    pub read_only: bool,
    pub synonyms: Vec<ConfigSynonym>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(pairs: &[(&str, &str)]) -> BrokerConfigs {
        let mut configs = BrokerConfigs::default();
        for (name, value) in pairs {
            configs.set(name, value).expect("valid");
        }
        configs
    }

    #[test]
    fn every_synonym_names_a_topic_config_and_each_has_one_dynamic_synonym_first() {
        for def in super::super::config::TOPIC_CONFIGS {
            let synonyms: Vec<&BrokerSynonym> = synonyms_of(def.name).collect();
            assert!(synonyms.first().is_some_and(|s| s.dynamic), "{}", def.name);
            assert!(synonyms.iter().skip(1).all(|s| !s.dynamic), "{}", def.name);
        }
        for synonym in SERVER_TOPIC_CONFIG_SYNONYMS {
            assert!(config_def(synonym.topic_config).is_some(), "{}", synonym.name);
        }
    }

    #[test]
    fn the_most_specific_layer_wins_then_the_synonym_order() {
        let mut image = BrokerConfigsImage {
            static_configs: layer(&[("log.retention.hours", "24"), ("min.insync.replicas", "2")]),
            ..BrokerConfigsImage::default()
        };
        let retention = |image: &BrokerConfigsImage, broker| image.topic_default(broker, "retention.ms");
        assert_eq!(retention(&image, Some(1)), Some(("86400000".to_owned(), ConfigSource::StaticBroker)));
        assert_eq!(image.topic_default(Some(1), "segment.bytes"), None, "Kafka's default counts");

        image.apply(None, "log.retention.ms", Some("60000"));
        assert_eq!(retention(&image, Some(1)), Some(("60000".to_owned(), ConfigSource::DynamicDefaultBroker)));
        image.apply(Some(2), "log.retention.ms", Some("5000"));
        assert_eq!(retention(&image, Some(2)), Some(("5000".to_owned(), ConfigSource::DynamicBroker)));
        assert_eq!(retention(&image, Some(1)).map(|r| r.1), Some(ConfigSource::DynamicDefaultBroker));
        assert_eq!(retention(&image, None).map(|r| r.1), Some(ConfigSource::DynamicDefaultBroker));

        image.apply(Some(2), "log.retention.ms", None);
        assert!(image.per_broker.is_empty(), "an emptied broker layer is dropped");
        image.apply(None, "log.retention.ms", None);
        assert_eq!(retention(&image, Some(2)).map(|r| r.1), Some(ConfigSource::StaticBroker));
    }

    #[test]
    fn synonyms_list_every_layer_then_kafka_defaults() {
        let mut image =
            BrokerConfigsImage { static_configs: layer(&[("log.retention.hours", "24")]), ..Default::default() };
        image.apply(None, "log.retention.ms", Some("60000"));
        let text: Vec<String> = image
            .topic_config_synonyms(Some(1), "retention.ms")
            .iter()
            .map(|s| format!("{:?}:{}={}", s.source, s.name, s.value.as_deref().unwrap_or("null")))
            .collect();
        assert_eq!(
            text,
            [
                "DynamicDefaultBroker:log.retention.ms=60000",
                "StaticBroker:log.retention.hours=24",
                "Default:log.retention.hours=168"
            ]
        );
    }

    #[test]
    fn dynamic_changes_are_checked_as_kafka_checks_them() {
        assert_eq!(validate_dynamic_changes([("log.retention.ms", Some("60000"))]), Ok(()));
        assert_eq!(validate_dynamic_changes([("log.retention.ms", None)]), Ok(()));
        let refused = validate_dynamic_changes([
            ("log.retention.ms", Some("soon")),
            ("broker.session.timeout.ms", Some("1")),
            ("log.retention.hours", Some("1")),
        ])
        .expect_err("read-only");
        assert_eq!(
            refused.to_string(),
            "Cannot update these configs dynamically: Set(broker.session.timeout.ms, log.retention.hours)"
        );
        assert_eq!(refused.error_code(), ErrorCode::InvalidRequest);
        let refused = validate_dynamic_changes([("log.retention.ms", Some("soon"))]).expect_err("invalid");
        assert_eq!(
            (refused.error_code(), refused.to_string()),
            (
                ErrorCode::InvalidRequest,
                "Invalid value soon for configuration log.retention.ms: Not a number of type LONG".to_owned()
            )
        );
        let refused = validate_dynamic_changes([("retention.ms", Some("1"))]).expect_err("a topic name");
        assert_eq!(
            (refused.error_code(), refused.to_string()),
            (
                ErrorCode::InvalidConfig,
                "Unknown broker config name: retention.ms (the broker-wide default of topic config retention.ms is \
                 log.retention.ms)"
                    .to_owned()
            )
        );
        assert_eq!(
            validate_dynamic_changes([("log.segment.ms", Some("1"))]).map_err(|e| e.to_string()),
            Err("Unknown broker config name: log.segment.ms (the broker-wide default of topic config segment.ms is \
                 log.roll.ms)"
                .to_owned())
        );
        assert_eq!(
            validate_dynamic_changes([("min.insync.replicas", Some("0"))]).map_err(|e| e.to_string()),
            Err("Invalid value 0 for configuration min.insync.replicas: Value must be at least 1".to_owned())
        );
    }

    #[test]
    fn describing_a_broker_shows_sources_from_its_own_name_on() {
        let mut image =
            BrokerConfigsImage { static_configs: layer(&[("log.retention.hours", "24")]), ..Default::default() };
        image.apply(None, "log.retention.ms", Some("60000"));
        image.apply(Some(1), "min.insync.replicas", Some("2"));
        let defaults = image.describe(None);
        assert_eq!(defaults.len(), 1);
        assert_eq!(
            (defaults[0].name, defaults[0].value.as_deref(), defaults[0].source, defaults[0].synonyms.len()),
            ("log.retention.ms", Some("60000"), ConfigSource::DynamicDefaultBroker, 1)
        );
        let broker = image.describe(Some(1));
        let entry = |name: &str| broker.iter().find(|e| e.name == name).cloned().expect("listed");
        assert_eq!(entry("min.insync.replicas").source, ConfigSource::DynamicBroker);
        let hours = entry("log.retention.hours");
        assert_eq!(
            (hours.value.as_deref(), hours.source, hours.read_only),
            (Some("24"), ConfigSource::StaticBroker, true)
        );
        let minutes = entry("log.retention.minutes");
        assert_eq!((minutes.value, minutes.source), (None, ConfigSource::Default), "null in Kafka too");
        assert_eq!(entry("log.segment.bytes").source, ConfigSource::Default);
    }
}
