//! `kafka-configs` on topics: describe (DescribeConfigs) and alter (IncrementalAlterConfigs).

use super::{ToolOutput, ToolResult};
use crate::console::format::{self, ConfigDescription, ConfigEntry, ConfigResourceName, ConfigSource};
use crate::console::parse::{ConfigEntity, ConfigsAlter, ConfigsDescribe};
use crate::kafka::Kafka;

/// `--describe`: the topic's configs with their sources (`--all` adds the defaults).
pub(super) async fn describe(kafka: &Kafka, describe: &ConfigsDescribe) -> ToolResult {
    let ConfigEntity::Topic(topic) = &describe.entity else {
        return Ok(ToolOutput::Failure("Only topic configs are available in this console yet.\n".to_owned()));
    };
    let resource = ConfigResourceName::Topic(topic.clone());
    let Some(entries) = kafka.topic_config_entries(topic).await? else {
        return Ok(ToolOutput::Failure(format::config_entity_missing(&resource)));
    };
    let entries = entries
        .into_iter()
        .map(|entry| ConfigEntry {
            name: entry.name,
            value: Some(entry.value),
            source: ConfigSource::from_code(entry.source),
            sensitive: false,
            synonyms: Vec::new(),
        })
        .collect();
    Ok(ToolOutput::Success(format::configs_describe(&[ConfigDescription { resource, entries }], describe.all)))
}

/// `--alter --add-config` / `--delete-config` on a topic.
pub(super) async fn alter(kafka: &Kafka, alter: &ConfigsAlter) -> ToolResult {
    let ConfigEntity::Topic(topic) = &alter.entity else {
        return Ok(ToolOutput::Failure("Only topic configs can be altered in this console yet.\n".to_owned()));
    };
    let resource = ConfigResourceName::Topic(topic.clone());
    if kafka.topic(topic).await?.is_none() {
        return Ok(ToolOutput::Failure(format::config_entity_missing(&resource)));
    }
    Ok(match kafka.alter_topic_configs(topic, &alter.add, &alter.delete).await? {
        Ok(()) => ToolOutput::Success(format::configs_altered(&resource)),
        Err(refusal) => ToolOutput::Failure(format!(
            "Error while executing config command with args '{}'\n{}\n",
            alter_args(alter),
            refusal.message
        )),
    })
}

/// The arguments `ConfigCommand` echoes in its error line.
fn alter_args(alter: &ConfigsAlter) -> String {
    let add: Vec<String> = alter.add.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("--alter --add-config {}", add.join(","))
}
