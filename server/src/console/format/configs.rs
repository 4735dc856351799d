//! `kafka-configs.sh`: `--describe` and `--alter` as `ConfigCommand` prints them.

use std::fmt::Write as _;

/// Where a config value comes from (`ConfigEntry.ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    DynamicTopicConfig,
    DynamicBrokerLoggerConfig,
    DynamicBrokerConfig,
    DynamicDefaultBrokerConfig,
    DynamicClientMetricsConfig,
    DynamicGroupConfig,
    StaticBrokerConfig,
    DefaultConfig,
    Unknown,
}

impl ConfigSource {
    /// The source from DescribeConfigs' `config_source` code (`DescribeConfigsResponse.ConfigSource`).
    pub fn from_code(code: i8) -> ConfigSource {
        match code {
            1 => ConfigSource::DynamicTopicConfig,
            2 => ConfigSource::DynamicBrokerConfig,
            3 => ConfigSource::DynamicDefaultBrokerConfig,
            4 => ConfigSource::StaticBrokerConfig,
            5 => ConfigSource::DefaultConfig,
            6 => ConfigSource::DynamicBrokerLoggerConfig,
            7 => ConfigSource::DynamicClientMetricsConfig,
            8 => ConfigSource::DynamicGroupConfig,
            _ => ConfigSource::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
            ConfigSource::DynamicBrokerLoggerConfig => "DYNAMIC_BROKER_LOGGER_CONFIG",
            ConfigSource::DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
            ConfigSource::DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            ConfigSource::DynamicClientMetricsConfig => "DYNAMIC_CLIENT_METRICS_CONFIG",
            ConfigSource::DynamicGroupConfig => "DYNAMIC_GROUP_CONFIG",
            ConfigSource::StaticBrokerConfig => "STATIC_BROKER_CONFIG",
            ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
            ConfigSource::Unknown => "UNKNOWN",
        }
    }
}

/// One config of a DescribeConfigs response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: String,
    /// `None` for sensitive values (printed `null`).
    pub value: Option<String>,
    pub source: ConfigSource,
    pub sensitive: bool,
    /// Where else the value is set, most specific first.
    pub synonyms: Vec<ConfigSynonym>,
}

/// One synonym of a [`ConfigEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSynonym {
    pub name: String,
    pub value: Option<String>,
    pub source: ConfigSource,
}

/// Whose configs these are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigResourceName {
    Topic(String),
    Broker(i32),
    BrokerDefault,
}

/// The configs of one resource, as DescribeConfigs (with synonyms) returned them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDescription {
    pub resource: ConfigResourceName,
    pub entries: Vec<ConfigEntry>,
}

/// `--describe` (`ConfigCommand.describeResourceConfig`): a header per resource, then its
/// configs sorted by name, only the dynamic ones of the resource's kind unless `all`.
pub fn configs_describe(descriptions: &[ConfigDescription], all: bool) -> String {
    let mut out = String::new();
    for description in descriptions {
        let dynamic = match &description.resource {
            ConfigResourceName::BrokerDefault => {
                out.push_str("Default configs for brokers in the cluster are:\n");
                ConfigSource::DynamicDefaultBrokerConfig
            }
            resource => {
                let (kind, name, dynamic) = match resource {
                    ConfigResourceName::Topic(name) => ("topic", name.clone(), ConfigSource::DynamicTopicConfig),
                    _ => ("broker", resource_id(resource), ConfigSource::DynamicBrokerConfig),
                };
                let _ = writeln!(out, "{} configs for {kind} {name} are:", if all { "All" } else { "Dynamic" });
                dynamic
            }
        };
        let mut entries: Vec<&ConfigEntry> =
            description.entries.iter().filter(|entry| all || entry.source == dynamic).collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in entries {
            let synonyms: Vec<String> = entry
                .synonyms
                .iter()
                .map(|s| format!("{}:{}={}", s.source.as_str(), s.name, s.value.as_deref().unwrap_or("null")))
                .collect();
            let _ = writeln!(
                out,
                "  {}={} sensitive={} synonyms={{{}}}",
                entry.name,
                entry.value.as_deref().unwrap_or("null"),
                entry.sensitive,
                synonyms.join(", ")
            );
        }
    }
    out
}

fn resource_id(resource: &ConfigResourceName) -> String {
    match resource {
        ConfigResourceName::Topic(name) => name.clone(),
        ConfigResourceName::Broker(id) => id.to_string(),
        ConfigResourceName::BrokerDefault => String::new(),
    }
}

/// `--describe` of a topic or broker that is not there.
pub fn config_entity_missing(resource: &ConfigResourceName) -> String {
    let kind = if matches!(resource, ConfigResourceName::Topic(_)) { "topic" } else { "broker" };
    format!("The {kind} '{}' doesn't exist and doesn't have dynamic config.\n", resource_id(resource))
}

/// `--alter` succeeded (`ConfigCommand.alterConfig`).
pub fn configs_altered(resource: &ConfigResourceName) -> String {
    match resource {
        ConfigResourceName::Topic(name) => format!("Completed updating config for topic {name}.\n"),
        ConfigResourceName::Broker(id) => format!("Completed updating config for broker {id}.\n"),
        ConfigResourceName::BrokerDefault => "Completed updating default config for brokers in the cluster.\n".into(),
    }
}

/// `--alter --delete-config` of a config the resource does not set (`alterResourceConfig`).
pub fn configs_invalid_delete(names: &[String]) -> String {
    format!("Invalid config(s): {}\n", names.join(","))
}
