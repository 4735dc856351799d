//! Topic configs: Kafka's names, defaults and validation rules.
//!
//! A topic stores only its overrides; every read falls back to a broker-level default
//! ([`super::broker_config`]: `log.retention.ms` for `retention.ms`, ...) or Kafka's, and
//! DescribeConfigs lists every config with its value and where it came from, as Kafka does
//! (clients and `kafka-configs.sh --describe --all` expect the full list).

use std::collections::BTreeMap;

use super::broker_config::{BrokerConfigsImage, ConfigSynonym};
use super::replica::BrokerId;

/// The type and allowed values of a config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigKind {
    Long {
        min: i64,
    },
    Int {
        min: i32,
    },
    Ratio,
    Bool,
    /// One of these values (`cleanup.policy` also takes a comma-separated list of them).
    Choice(&'static [&'static str]),
    List(&'static [&'static str]),
}

/// One topic config: its name, default and rule.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: ConfigKind,
    pub doc: &'static str,
}

const LONG_MAX: &str = "9223372036854775807";

/// The topic configs of Apache Kafka 3.x/4.x that a learner meets, with Kafka's defaults.
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    ConfigDef {
        name: "cleanup.policy",
        default: "delete",
        kind: ConfigKind::List(&["delete", "compact"]),
        doc: "delete: drop old segments by retention; compact: keep the latest record per key",
    },
    ConfigDef {
        name: "compression.type",
        default: "producer",
        kind: ConfigKind::Choice(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        doc: "Codec of stored batches; `producer` keeps what the producer sent",
    },
    ConfigDef {
        name: "delete.retention.ms",
        default: "86400000",
        kind: ConfigKind::Long { min: 0 },
        doc: "How long tombstones stay in a compacted topic",
    },
    ConfigDef {
        name: "file.delete.delay.ms",
        default: "60000",
        kind: ConfigKind::Long { min: 0 },
        doc: "Wait before a deleted segment's files are removed",
    },
    ConfigDef {
        name: "flush.messages",
        default: LONG_MAX,
        kind: ConfigKind::Long { min: 1 },
        doc: "Force an fsync after this many records",
    },
    ConfigDef {
        name: "flush.ms",
        default: LONG_MAX,
        kind: ConfigKind::Long { min: 0 },
        doc: "Force an fsync after this long",
    },
    ConfigDef {
        name: "index.interval.bytes",
        default: "4096",
        kind: ConfigKind::Int { min: 0 },
        doc: "Bytes of log between two offset index entries",
    },
    ConfigDef {
        name: "max.compaction.lag.ms",
        default: LONG_MAX,
        kind: ConfigKind::Long { min: 1 },
        doc: "Longest a record stays uncompacted",
    },
    ConfigDef {
        name: "max.message.bytes",
        default: "1048588",
        kind: ConfigKind::Int { min: 0 },
        doc: "Largest record batch the topic accepts",
    },
    ConfigDef {
        name: "message.timestamp.type",
        default: "CreateTime",
        kind: ConfigKind::Choice(&["CreateTime", "LogAppendTime"]),
        doc: "Whether record timestamps come from the producer or the broker",
    },
    ConfigDef {
        name: "min.cleanable.dirty.ratio",
        default: "0.5",
        kind: ConfigKind::Ratio,
        doc: "Share of uncompacted log that triggers compaction",
    },
    ConfigDef {
        name: "min.compaction.lag.ms",
        default: "0",
        kind: ConfigKind::Long { min: 0 },
        doc: "Shortest a record stays uncompacted",
    },
    ConfigDef {
        name: "min.insync.replicas",
        default: "1",
        kind: ConfigKind::Int { min: 1 },
        doc: "Replicas that must have a write for acks=all to succeed",
    },
    ConfigDef { name: "preallocate", default: "false", kind: ConfigKind::Bool, doc: "Preallocate segment files" },
    ConfigDef {
        name: "retention.bytes",
        default: "-1",
        kind: ConfigKind::Long { min: -1 },
        doc: "Largest a partition may grow before old segments are deleted; -1 for no limit",
    },
    ConfigDef {
        name: "retention.ms",
        default: "604800000",
        kind: ConfigKind::Long { min: -1 },
        doc: "How long records are kept; -1 for ever",
    },
    // Kafka 4.0 raised the minimum to 1 MiB (KIP-1030); a learning broker keeps 3.x's tiny minimum
    // so that a lesson can show segments rolling after a handful of records.
    ConfigDef {
        name: "segment.bytes",
        default: "1073741824",
        kind: ConfigKind::Int { min: 14 },
        doc: "Size at which a new segment file is started",
    },
    ConfigDef {
        name: "segment.index.bytes",
        default: "10485760",
        kind: ConfigKind::Int { min: 4 },
        doc: "Largest size of a segment's offset index",
    },
    ConfigDef {
        name: "segment.jitter.ms",
        default: "0",
        kind: ConfigKind::Long { min: 0 },
        doc: "Random delay added to segment.ms",
    },
    ConfigDef {
        name: "segment.ms",
        default: "604800000",
        kind: ConfigKind::Long { min: 1 },
        doc: "Age at which a new segment file is started",
    },
    ConfigDef {
        name: "unclean.leader.election.enable",
        default: "false",
        kind: ConfigKind::Bool,
        doc: "Allow an out-of-sync replica to become leader, losing records",
    },
];

pub fn config_def(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|def| def.name == name)
}

/// Checks a value against a config's rule; the error reads like Kafka's `InvalidConfigurationException`.
pub fn validate_config(name: &str, value: &str) -> Result<(), String> {
    let Some(def) = config_def(name) else {
        return Err(format!("Unknown topic config name: {name}"));
    };
    check_value(name, def.kind, value)
}

/// Checks `value` against `kind`; the message names the config `name` (a topic config, or the
/// broker config that stands for it).
pub(crate) fn check_value(name: &str, kind: ConfigKind, value: &str) -> Result<(), String> {
    let invalid = |why: String| Err(format!("Invalid value {value} for configuration {name}: {why}"));
    match kind {
        ConfigKind::Long { min } => match value.trim().parse::<i64>() {
            Ok(v) if v >= min => Ok(()),
            Ok(_) => invalid(format!("Value must be at least {min}")),
            Err(_) => invalid("Not a number of type LONG".into()),
        },
        ConfigKind::Int { min } => match value.trim().parse::<i32>() {
            Ok(v) if v >= min => Ok(()),
            Ok(_) => invalid(format!("Value must be at least {min}")),
            Err(_) => invalid("Not a number of type INT".into()),
        },
        ConfigKind::Ratio => match value.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(()),
            _ => invalid("Value must be between 0 and 1".into()),
        },
        ConfigKind::Bool => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "false" => Ok(()),
            _ => invalid("Expected value to be either true or false".into()),
        },
        ConfigKind::Choice(allowed) => {
            if allowed.contains(&value.trim()) {
                Ok(())
            } else {
                invalid(format!("String must be one of: {}", allowed.join(", ")))
            }
        }
        ConfigKind::List(allowed) => {
            if value.split(',').map(str::trim).all(|v| allowed.contains(&v)) && !value.trim().is_empty() {
                Ok(())
            } else {
                invalid(format!("Each value must be one of: {}", allowed.join(", ")))
            }
        }
    }
}

/// Where a described config's value comes from (DescribeConfigs `config_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic (`TOPIC_CONFIG` = 1, `DYNAMIC_TOPIC_CONFIG` in the admin client).
    Topic = 1,
    /// Set on this broker while it runs (`DYNAMIC_BROKER_CONFIG` = 2).
    DynamicBroker = 2,
    /// The cluster-wide dynamic default (`DYNAMIC_DEFAULT_BROKER_CONFIG` = 3).
    DynamicDefaultBroker = 3,
    /// `server.properties` / `--override` (`STATIC_BROKER_CONFIG` = 4).
    StaticBroker = 4,
    /// Kafka's default (`DEFAULT_CONFIG` = 5).
    Default = 5,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: &'static str,
    pub value: String,
    pub source: ConfigSource,
    pub doc: &'static str,
    /// Where else the value is set, most specific first: the topic's own value, then the broker
    /// configs it falls back to (DescribeConfigs `include_synonyms`).
    pub synonyms: Vec<ConfigSynonym>,
}

/// A topic's config overrides.
///
/// As JSON (the runtime's metadata log) it is the map of overrides; they were validated when the
/// record was written, so reading does not validate again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct TopicConfigs {
    overrides: BTreeMap<String, String>,
}

impl TopicConfigs {
    /// Builds overrides from name/value pairs, validating each.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, String> {
        let mut configs = TopicConfigs::default();
        for (name, value) in pairs {
            configs.set(name, value)?;
        }
        Ok(configs)
    }

    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        validate_config(name, value)?;
        self.overrides.insert(name.to_owned(), value.trim().to_owned());
        Ok(())
    }

    /// Back to the default.
    pub fn remove(&mut self, name: &str) {
        self.overrides.remove(name);
    }

    pub fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    /// The effective value: the override or Kafka's default.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.overrides.get(name).map(String::as_str).or_else(|| config_def(name).map(|def| def.default))
    }

    /// A numeric config's effective value (values are validated on the way in).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The effective configs on `broker` (`None`: a node without broker configs of its own, as
    /// a controller): the overrides, then for every other config the broker-level default of
    /// `brokers` where one is set. What the logs, produce checks and elections read; Kafka's
    /// default stays implicit, as in an override-only [`TopicConfigs`].
    pub fn effective(&self, brokers: &BrokerConfigsImage, broker: Option<BrokerId>) -> TopicConfigs {
        let mut effective = self.clone();
        for def in TOPIC_CONFIGS.iter().filter(|def| !self.overrides.contains_key(def.name)) {
            if let Some((value, _)) = brokers.topic_default(broker, def.name) {
                effective.overrides.insert(def.name.to_owned(), value);
            }
        }
        effective
    }

    /// Every config with its effective value on `broker` and where it comes from, in name order
    /// (Kafka's `ConfigHelper.createTopicConfigEntry`): the topic's override, else the broker
    /// configs, else Kafka's default. Synonyms: the override, then every broker-level value.
    pub fn describe(&self, brokers: &BrokerConfigsImage, broker: Option<BrokerId>) -> Vec<ConfigEntry> {
        TOPIC_CONFIGS
            .iter()
            .map(|def| {
                let mut synonyms = brokers.topic_config_synonyms(broker, def.name);
                let (value, source) = match self.overrides.get(def.name) {
                    Some(value) => {
                        let own = ConfigSynonym {
                            name: def.name.to_owned(),
                            value: Some(value.clone()),
                            source: ConfigSource::Topic,
                        };
                        synonyms.insert(0, own);
                        (value.clone(), ConfigSource::Topic)
                    }
                    None => brokers
                        .topic_default(broker, def.name)
                        .unwrap_or_else(|| (def.default.to_owned(), ConfigSource::Default)),
                };
                ConfigEntry { name: def.name, value, source, doc: def.doc, synonyms }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_fall_back_to_kafka_defaults() {
        let configs = TopicConfigs::from_pairs([("retention.ms", "1000")]).expect("valid");
        assert_eq!(configs.get_i64("retention.ms"), 1000);
        assert_eq!(configs.get_i64("segment.bytes"), 1_073_741_824);
        assert_eq!(configs.get("cleanup.policy"), Some("delete"));
        let described = configs.describe(&BrokerConfigsImage::default(), Some(1));
        assert_eq!(described.len(), TOPIC_CONFIGS.len());
        let retention = described.iter().find(|e| e.name == "retention.ms").expect("listed");
        assert_eq!((retention.value.as_str(), retention.source), ("1000", ConfigSource::Topic));
    }

    #[test]
    fn a_topic_override_wins_over_every_broker_layer_and_lists_them_as_synonyms() {
        let mut static_configs = crate::core::broker_config::BrokerConfigs::default();
        static_configs.set("log.retention.hours", "24").expect("valid");
        let mut brokers = BrokerConfigsImage { static_configs, ..BrokerConfigsImage::default() };
        brokers.apply(None, "log.retention.ms", Some("60000"));
        brokers.apply(Some(1), "log.retention.ms", Some("5000"));
        let configs = TopicConfigs::from_pairs([("retention.ms", "1000")]).expect("valid");
        let described = configs.describe(&brokers, Some(1));
        let retention = described.iter().find(|e| e.name == "retention.ms").expect("listed");
        let synonyms: Vec<String> = retention
            .synonyms
            .iter()
            .map(|s| format!("{}:{}={}", s.source as i8, s.name, s.value.as_deref().unwrap_or("null")))
            .collect();
        assert_eq!((retention.value.as_str(), retention.source), ("1000", ConfigSource::Topic));
        assert_eq!(
            synonyms,
            [
                "1:retention.ms=1000",
                "2:log.retention.ms=5000",
                "3:log.retention.ms=60000",
                "4:log.retention.hours=24",
                "5:log.retention.hours=168"
            ]
        );
        // Without the override: broker 1's own value, then the default on another broker.
        let plain = TopicConfigs::default();
        let on = |broker| {
            plain.describe(&brokers, broker).into_iter().find(|e| e.name == "retention.ms").map(|e| (e.value, e.source))
        };
        assert_eq!(on(Some(1)), Some(("5000".to_owned(), ConfigSource::DynamicBroker)));
        assert_eq!(on(Some(2)), Some(("60000".to_owned(), ConfigSource::DynamicDefaultBroker)));
        assert_eq!(plain.effective(&brokers, Some(2)).get_i64("retention.ms"), 60_000);
        assert_eq!(configs.effective(&brokers, Some(1)).get_i64("retention.ms"), 1_000);
        let segment = plain.describe(&brokers, Some(1)).into_iter().find(|e| e.name == "segment.bytes");
        assert_eq!(segment.map(|e| (e.value, e.source)), Some(("1073741824".to_owned(), ConfigSource::Default)));
    }

    #[test]
    fn invalid_values_are_explained() {
        assert_eq!(
            validate_config("retention.ms", "soon"),
            Err("Invalid value soon for configuration retention.ms: Not a number of type LONG".into())
        );
        assert_eq!(
            validate_config("min.insync.replicas", "0"),
            Err("Invalid value 0 for configuration min.insync.replicas: Value must be at least 1".into())
        );
        assert_eq!(
            validate_config("retention.minutes", "1"),
            Err("Unknown topic config name: retention.minutes".into())
        );
        assert!(validate_config("cleanup.policy", "compact,delete").is_ok());
        assert!(validate_config("cleanup.policy", "archive").is_err());
    }
}
