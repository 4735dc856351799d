//! `kafka-configs` on topics and brokers: describe (DescribeConfigs with synonyms) and alter
//! (IncrementalAlterConfigs), as Kafka 4.x's `ConfigCommand` does both.

use super::{ToolOutput, ToolResult};
use crate::console::format::{
    self, ConfigDescription, ConfigEntry, ConfigResourceName, ConfigSource, ConfigSynonym, kafka_exception,
};
use crate::console::parse::{ConfigEntity, ConfigsAlter, ConfigsDescribe};
use crate::kafka::{ConfigResource, DescribedConfig, Kafka, Refusal};

/// `--describe`: the configs of each resource with their sources and synonyms (`--all` adds the
/// static and default ones). Without `--all`, a topic or broker that does not exist is a notice,
/// as `ConfigCommand.describeResourceConfig` prints it.
pub(super) async fn describe(kafka: &Kafka, describe: &ConfigsDescribe) -> ToolResult {
    let resources: Vec<ConfigResourceName> = match &describe.entity {
        ConfigEntity::Topic(topic) => vec![ConfigResourceName::Topic(topic.clone())],
        ConfigEntity::AllTopics => kafka.list_topics().await?.into_iter().map(ConfigResourceName::Topic).collect(),
        ConfigEntity::Broker(id) => vec![ConfigResourceName::Broker(*id)],
        ConfigEntity::BrokerDefault => vec![ConfigResourceName::BrokerDefault],
        // Every broker of the cluster (DescribeCluster), then the defaults.
        ConfigEntity::AllBrokers => {
            let brokers = kafka.cluster_metadata().await?.brokers;
            brokers.into_iter().map(ConfigResourceName::Broker).chain([ConfigResourceName::BrokerDefault]).collect()
        }
    };
    if let [ConfigResourceName::Broker(id)] = resources[..]
        && !kafka.cluster_metadata().await?.brokers.contains(&id)
    {
        return Ok(if describe.all {
            ToolOutput::Failure(node_assignment_timeout(&describe_args(describe), "describeConfigs"))
        } else {
            ToolOutput::Success(format::config_entity_missing(&resources[0]))
        });
    }
    let mut descriptions = Vec::new();
    for resource in resources {
        match kafka.describe_configs(&wire_resource(&resource)).await? {
            Ok(configs) => {
                descriptions.push(ConfigDescription { resource, entries: configs.into_iter().map(entry).collect() });
            }
            Err(refusal) if matches!(resource, ConfigResourceName::Topic(_)) && refusal.code == 3 && !describe.all => {
                return Ok(ToolOutput::Success(format::config_entity_missing(&resource)));
            }
            Err(refusal) => return Ok(ToolOutput::Failure(command_error(&describe_args(describe), &refusal))),
        }
    }
    Ok(ToolOutput::Success(format::configs_describe(&descriptions, describe.all)))
}

/// `--alter --add-config` / `--delete-config` on a topic, a broker or the broker defaults.
pub(super) async fn alter(kafka: &Kafka, alter: &ConfigsAlter) -> ToolResult {
    let resource = match &alter.entity {
        ConfigEntity::Topic(topic) => ConfigResourceName::Topic(topic.clone()),
        ConfigEntity::Broker(id) => ConfigResourceName::Broker(*id),
        ConfigEntity::BrokerDefault => ConfigResourceName::BrokerDefault,
        // The parser asks for a name with --alter.
        ConfigEntity::AllTopics | ConfigEntity::AllBrokers => {
            return Ok(ToolOutput::Failure("An entity name must be specified with --alter\n".to_owned()));
        }
    };
    if let ConfigResourceName::Topic(topic) = &resource
        && kafka.topic(topic).await?.is_none()
    {
        return Ok(ToolOutput::Failure(format::config_entity_missing(&resource)));
    }
    match kafka.alter_configs(&wire_resource(&resource), &alter.add, &alter.delete).await {
        Ok(Ok(())) => Ok(ToolOutput::Success(format::configs_altered(&resource))),
        Ok(Err(refusal)) => Ok(ToolOutput::Failure(command_error(&alter_args(alter), &refusal))),
        // The admin client waits for a node it cannot find until its timeout; the console
        // says so at once.
        Err(error) if error.is(broker::core::ErrorCode::BrokerIdNotRegistered) => {
            Ok(ToolOutput::Failure(node_assignment_timeout(&alter_args(alter), "incrementalAlterConfigs")))
        }
        Err(error) => Err(error),
    }
}

fn wire_resource(resource: &ConfigResourceName) -> ConfigResource {
    match resource {
        ConfigResourceName::Topic(name) => ConfigResource::Topic(name.clone()),
        ConfigResourceName::Broker(id) => ConfigResource::Broker(*id),
        ConfigResourceName::BrokerDefault => ConfigResource::BrokerDefault,
    }
}

fn entry(config: DescribedConfig) -> ConfigEntry {
    ConfigEntry {
        name: config.name,
        value: config.value,
        source: ConfigSource::from_code(config.source),
        sensitive: config.sensitive,
        synonyms: config
            .synonyms
            .into_iter()
            .map(|(name, value, source)| ConfigSynonym { name, value, source: ConfigSource::from_code(source) })
            .collect(),
    }
}

/// What `ConfigCommand.main` prints for an error the broker answered with: the command line,
/// then the `ExecutionException` around the client's exception.
fn command_error(args: &str, refusal: &Refusal) -> String {
    format!(
        "Error while executing config command with args '{args}'\njava.util.concurrent.ExecutionException: {}\n",
        kafka_exception(refusal.code, &refusal.message)
    )
}

/// The admin client's answer for a broker id the cluster does not have: it waits for the node
/// until its timeout.
fn node_assignment_timeout(args: &str, call: &str) -> String {
    format!(
        "Error while executing config command with args '{args}'\njava.util.concurrent.ExecutionException: \
         org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: {call}\n"
    )
}

/// The entity options as given (`--entity-type brokers --entity-default`).
fn entity_args(entity: &ConfigEntity) -> String {
    match entity {
        ConfigEntity::Topic(name) => format!("--entity-type topics --entity-name {name}"),
        ConfigEntity::AllTopics => "--entity-type topics".to_owned(),
        ConfigEntity::Broker(id) => format!("--entity-type brokers --entity-name {id}"),
        ConfigEntity::BrokerDefault => "--entity-type brokers --entity-default".to_owned(),
        ConfigEntity::AllBrokers => "--entity-type brokers".to_owned(),
    }
}

fn describe_args(describe: &ConfigsDescribe) -> String {
    let all = if describe.all { " --all" } else { "" };
    format!("--describe {}{all}", entity_args(&describe.entity))
}

/// The arguments `ConfigCommand` echoes in its error line.
fn alter_args(alter: &ConfigsAlter) -> String {
    let mut args = format!("--alter {}", entity_args(&alter.entity));
    if !alter.add.is_empty() {
        let add: Vec<String> = alter.add.iter().map(|(k, v)| format!("{k}={v}")).collect();
        args.push_str(&format!(" --add-config {}", add.join(",")));
    }
    if !alter.delete.is_empty() {
        args.push_str(&format!(" --delete-config {}", alter.delete.join(",")));
    }
    args
}
