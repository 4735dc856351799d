//! Topic administration: CreateTopics (19), DeleteTopics (20), DescribeConfigs (32).
//!
//! Error codes and messages follow Kafka's, so `kafka-topics.sh` and admin clients print what
//! learners will see against a real cluster.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::{CreatableTopicConfigs, CreatableTopicResult};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{
    AlterConfigsRequest, AlterConfigsResponse, BrokerId, CreatePartitionsRequest, CreatePartitionsResponse,
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, DescribeClusterRequest,
    DescribeClusterResponse, DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse, ResponseKind,
};

use super::{Reply, str_bytes, topic_name};
use crate::core::ErrorCode;
use crate::core::config::{ConfigKind, ConfigSource, TopicConfigs, config_def};
use crate::core::topic::{Topic, validate_topic_name};
use crate::runtime::cluster::{AdminRefusal, Cluster, ClusterError};
use crate::runtime::metadata_log::METADATA_TOPIC;

/// Most partitions one topic may have here. Kafka sets no limit, but a learning broker on a
/// laptop should refuse a typo that asks for a million directories.
pub(crate) const MAX_PARTITIONS_PER_TOPIC: i32 = 1_000;

/// DescribeConfigs resource types.
const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

pub(super) fn new_topic(name: &str, partitions: u32, replication_factor: u16, configs: TopicConfigs) -> Topic {
    Topic { name: name.to_owned(), topic_id: *uuid::Uuid::new_v4().as_bytes(), partitions, replication_factor, configs }
}

pub(super) fn create_topics(cluster: &Arc<Cluster>, request: CreateTopicsRequest, version: i16) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        let mut response = CreateTopicsResponse::default();
        for creatable in request.topics {
            let name = creatable.name.0.to_string();
            let mut result = CreatableTopicResult::default();
            result.name = creatable.name.clone();
            result.num_partitions = -1;
            result.replication_factor = -1;
            let checked = check_new_topic(&cluster, &name, &creatable).and_then(|topic| {
                if cluster.topic(&name).is_some() {
                    Err((ErrorCode::TopicAlreadyExists, format!("Topic '{name}' already exists.")))
                } else {
                    Ok(topic)
                }
            });
            match checked {
                Err((error, message)) => {
                    result.error_code = error.code();
                    result.error_message = Some(str_bytes(message));
                }
                Ok(topic) => {
                    let outcome = if request.validate_only {
                        Ok(Some(topic.clone()))
                    } else {
                        cluster.create_topic(topic.clone()).await.map(|created| created.map(|_| topic.clone()))
                    };
                    match outcome {
                        Ok(Some(topic)) => {
                            result.topic_id = uuid::Uuid::from_bytes(topic.topic_id);
                            result.num_partitions = i32::try_from(topic.partitions).unwrap_or(i32::MAX);
                            result.replication_factor = i16::try_from(topic.replication_factor).unwrap_or(i16::MAX);
                            if version >= 5 {
                                result.configs = Some(
                                    topic
                                        .configs
                                        .describe()
                                        .into_iter()
                                        .map(|entry| {
                                            let mut config = CreatableTopicConfigs::default();
                                            config.name = str_bytes(entry.name);
                                            config.value = Some(str_bytes(entry.value));
                                            config.config_source = entry.source as i8;
                                            config
                                        })
                                        .collect(),
                                );
                            }
                            if !request.validate_only {
                                tracing::info!(topic = %name, partitions = topic.partitions, "created topic");
                            }
                        }
                        Ok(None) => {
                            result.error_code = ErrorCode::TopicAlreadyExists.code();
                            result.error_message = Some(str_bytes(format!("Topic '{name}' already exists.")));
                        }
                        Err(error) => {
                            tracing::error!(%error, topic = %name, "cannot create topic");
                            result.error_code = ErrorCode::KafkaStorageError.code();
                            result.error_message = Some(str_bytes(error.to_string()));
                        }
                    }
                }
            }
            response.topics.push(result);
        }
        Some(ResponseKind::CreateTopics(response))
    })
}

/// Validates a CreateTopics entry the way Kafka's controller does, with its messages.
fn check_new_topic(
    cluster: &Cluster,
    name: &str,
    creatable: &kafka_protocol::messages::create_topics_request::CreatableTopic,
) -> Result<Topic, (ErrorCode, String)> {
    validate_topic_name(name).map_err(|message| (ErrorCode::InvalidTopicException, message))?;
    if name == METADATA_TOPIC {
        // Kafka's words; here it also keeps a topic's partition directory off the metadata log's.
        return Err((ErrorCode::InvalidRequest, format!("Creation of internal topic {METADATA_TOPIC} is prohibited.")));
    }
    let partitions = match creatable.num_partitions {
        -1 => cluster.config.default_partitions,
        n if n <= 0 => {
            return Err((ErrorCode::InvalidPartitions, "Number of partitions must be larger than 0.".into()));
        }
        n if n > MAX_PARTITIONS_PER_TOPIC => {
            return Err((
                ErrorCode::InvalidPartitions,
                format!(
                    "Number of partitions {n} exceeds this broker's limit of {MAX_PARTITIONS_PER_TOPIC} per topic."
                ),
            ));
        }
        n => u32::try_from(n).unwrap_or(1),
    };
    let brokers = 1;
    let replication_factor = match creatable.replication_factor {
        -1 => 1,
        n if n <= 0 => {
            return Err((ErrorCode::InvalidReplicationFactor, "Replication factor must be larger than 0.".into()));
        }
        n if n > brokers => {
            return Err((
                ErrorCode::InvalidReplicationFactor,
                format!(
                    "Unable to replicate the partition {n} time(s): The target replication factor of {n} cannot be reached because only {brokers} broker(s) are registered."
                ),
            ));
        }
        n => u16::try_from(n).unwrap_or(1),
    };
    if creatable.assignments.iter().any(|a| a.broker_ids.iter().any(|b| b.0 != cluster.config.node_id)) {
        return Err((
            ErrorCode::InvalidReplicationFactor,
            format!("Only broker {} exists in this cluster.", cluster.config.node_id),
        ));
    }
    let mut configs = TopicConfigs::default();
    for config in &creatable.configs {
        let Some(value) = &config.value else { continue };
        configs.set(config.name.as_str(), value.as_str()).map_err(|message| (ErrorCode::InvalidConfig, message))?;
    }
    Ok(new_topic(name, partitions, replication_factor, configs))
}

pub(super) fn delete_topics(cluster: &Arc<Cluster>, request: DeleteTopicsRequest, version: i16) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        // v6 names topics by name or id; earlier versions by name only.
        let targets: Vec<(Option<String>, uuid::Uuid)> = if version >= 6 {
            request.topics.into_iter().map(|t| (t.name.map(|n| n.0.to_string()), t.topic_id)).collect()
        } else {
            request.topic_names.into_iter().map(|n| (Some(n.0.to_string()), uuid::Uuid::nil())).collect()
        };
        let mut response = DeleteTopicsResponse::default();
        for (name, topic_id) in targets {
            let name = name.or_else(|| {
                cluster.topics().iter().find(|t| t.topic.topic_id == *topic_id.as_bytes()).map(|t| t.topic.name.clone())
            });
            let mut result = DeletableTopicResult::default();
            result.topic_id = topic_id;
            match &name {
                None => result.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                Some(name) => {
                    result.name = Some(topic_name(name.clone()));
                    match cluster.delete_topic(name).await {
                        Ok(true) => tracing::info!(topic = %name, "deleted topic"),
                        Ok(false) => {
                            result.error_code = ErrorCode::UnknownTopicOrPartition.code();
                            result.error_message = Some(str_bytes("This server does not host this topic-partition."));
                        }
                        Err(error) => {
                            tracing::error!(%error, topic = %name, "cannot delete topic");
                            result.error_code = ErrorCode::KafkaStorageError.code();
                            result.error_message = Some(str_bytes(error.to_string()));
                        }
                    }
                }
            }
            response.responses.push(result);
        }
        Some(ResponseKind::DeleteTopics(response))
    })
}

/// DescribeConfigs `config_type` (v3+).
fn config_type(kind: ConfigKind) -> i8 {
    match kind {
        ConfigKind::Bool => 1,
        ConfigKind::Choice(_) => 2,
        ConfigKind::Int { .. } => 3,
        ConfigKind::Long { .. } => 5,
        ConfigKind::Ratio => 6,
        ConfigKind::List(_) => 7,
    }
}

pub(super) fn describe_configs(cluster: &Arc<Cluster>, request: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let mut response = DescribeConfigsResponse::default();
    for resource in request.resources {
        let mut result = DescribeConfigsResult::default();
        result.resource_type = resource.resource_type;
        result.resource_name = resource.resource_name.clone();
        let wanted = |name: &str| {
            resource.configuration_keys.as_ref().is_none_or(|keys| keys.iter().any(|k| k.as_str() == name))
        };
        match resource.resource_type {
            RESOURCE_TOPIC => match cluster.topic(resource.resource_name.as_str()) {
                None => {
                    result.error_code = ErrorCode::UnknownTopicOrPartition.code();
                    result.error_message =
                        Some(str_bytes(format!("Topic {} does not exist", resource.resource_name.as_str())));
                }
                Some(topic) => {
                    for entry in topic.topic.configs.describe().into_iter().filter(|e| wanted(e.name)) {
                        let mut config = DescribeConfigsResourceResult::default();
                        config.name = str_bytes(entry.name);
                        config.value = Some(str_bytes(entry.value.clone()));
                        config.config_source = entry.source as i8;
                        config.config_type = config_def(entry.name).map_or(2, |def| config_type(def.kind));
                        if request.include_documentation {
                            config.documentation = Some(str_bytes(entry.doc));
                        }
                        if request.include_synonyms {
                            let mut synonym = DescribeConfigsSynonym::default();
                            synonym.name = str_bytes(entry.name);
                            synonym.value = Some(str_bytes(entry.value));
                            synonym.source = entry.source as i8;
                            config.synonyms.push(synonym);
                            if entry.source == ConfigSource::Topic
                                && let Some(def) = config_def(entry.name)
                            {
                                let mut default = DescribeConfigsSynonym::default();
                                default.name = str_bytes(entry.name);
                                default.value = Some(str_bytes(def.default));
                                default.source = ConfigSource::Default as i8;
                                config.synonyms.push(default);
                            }
                        }
                        result.configs.push(config);
                    }
                }
            },
            RESOURCE_BROKER => {
                let config = &cluster.config;
                let entries = [
                    ("node.id", config.node_id.to_string(), 3),
                    ("auto.create.topics.enable", config.auto_create_topics.to_string(), 1),
                    ("num.partitions", config.default_partitions.to_string(), 3),
                    ("default.replication.factor", "1".to_owned(), 4),
                    ("log.flush.interval.ms", config.flush_interval_ms.to_string(), 5),
                    ("log.dirs", config.data_dir.display().to_string(), 2),
                ];
                for (name, value, kind) in entries.into_iter().filter(|(name, _, _)| wanted(name)) {
                    let mut entry = DescribeConfigsResourceResult::default();
                    entry.name = str_bytes(name);
                    entry.value = Some(str_bytes(value));
                    entry.read_only = true;
                    // STATIC_BROKER_CONFIG: set at start-up.
                    entry.config_source = 4;
                    entry.config_type = kind;
                    result.configs.push(entry);
                }
            }
            other => {
                result.error_code = ErrorCode::InvalidRequest.code();
                result.error_message = Some(str_bytes(format!("Unsupported resource type {other}")));
            }
        }
        response.results.push(result);
    }
    response
}

/// The answer to one resource of an AlterConfigs or IncrementalAlterConfigs request.
fn alter_outcome(name: &str, outcome: Result<Result<(), AdminRefusal>, ClusterError>) -> (ErrorCode, Option<String>) {
    match outcome {
        Ok(Ok(())) => {
            tracing::info!(topic = name, "altered topic configs");
            (ErrorCode::None, None)
        }
        Ok(Err(AdminRefusal::UnknownTopic)) => {
            (ErrorCode::UnknownTopicOrPartition, Some(format!("Topic {name} does not exist")))
        }
        Ok(Err(AdminRefusal::InvalidConfig(message))) => (ErrorCode::InvalidConfig, Some(message)),
        Ok(Err(AdminRefusal::InvalidPartitions(message))) => (ErrorCode::InvalidPartitions, Some(message)),
        Err(error) => {
            tracing::error!(%error, topic = name, "cannot alter topic");
            (ErrorCode::KafkaStorageError, Some(error.to_string()))
        }
    }
}

/// IncrementalAlterConfigs (44, KIP-339): set, delete, append to or subtract from single configs,
/// what `kafka-configs.sh --alter --add-config/--delete-config` sends.
pub(super) fn incremental_alter_configs(cluster: &Arc<Cluster>, request: IncrementalAlterConfigsRequest) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        let mut response = IncrementalAlterConfigsResponse::default();
        for resource in request.resources {
            let name = resource.resource_name.to_string();
            let (error, message) = if resource.resource_type != RESOURCE_TOPIC {
                (ErrorCode::InvalidRequest, Some("broker configs are set at start-up and cannot be altered".to_owned()))
            } else {
                let changes: Vec<(String, i8, Option<String>)> = resource
                    .configs
                    .iter()
                    .map(|c| (c.name.to_string(), c.config_operation, c.value.as_ref().map(|v| v.to_string())))
                    .collect();
                let outcome = cluster
                    .alter_topic_configs(&name, request.validate_only, |configs| {
                        for (config, operation, value) in changes {
                            match operation {
                                // SET
                                0 => configs.set(&config, value.as_deref().unwrap_or_default())?,
                                // DELETE: back to the default.
                                1 => {
                                    config_def(&config)
                                        .ok_or_else(|| format!("Unknown topic config name: {config}"))?;
                                    configs.remove(&config);
                                }
                                // APPEND / SUBTRACT: list configs (cleanup.policy) only.
                                2 | 3 => {
                                    let def = config_def(&config)
                                        .ok_or_else(|| format!("Unknown topic config name: {config}"))?;
                                    if !matches!(def.kind, ConfigKind::List(_)) {
                                        return Err(format!(
                                            "Config {config} is not a list; APPEND and SUBTRACT apply to lists"
                                        ));
                                    }
                                    let current = configs.get(&config).unwrap_or_default().to_owned();
                                    let mut items: Vec<String> = current
                                        .split(',')
                                        .map(str::trim)
                                        .filter(|v| !v.is_empty())
                                        .map(str::to_owned)
                                        .collect();
                                    for item in value
                                        .as_deref()
                                        .unwrap_or_default()
                                        .split(',')
                                        .map(str::trim)
                                        .filter(|v| !v.is_empty())
                                    {
                                        if operation == 2 && !items.iter().any(|i| i == item) {
                                            items.push(item.to_owned());
                                        } else if operation == 3 {
                                            items.retain(|i| i != item);
                                        }
                                    }
                                    configs.set(&config, &items.join(","))?;
                                }
                                other => return Err(format!("Unknown config operation {other}")),
                            }
                        }
                        Ok(())
                    })
                    .await;
                alter_outcome(&name, outcome)
            };
            let mut result =
                kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse::default();
            result.error_code = error.code();
            result.error_message = message.map(str_bytes);
            result.resource_type = resource.resource_type;
            result.resource_name = resource.resource_name;
            response.responses.push(result);
        }
        Some(ResponseKind::IncrementalAlterConfigs(response))
    })
}

/// AlterConfigs (33): the legacy form, which replaces every override of the resource.
pub(super) fn alter_configs(cluster: &Arc<Cluster>, request: AlterConfigsRequest) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        let mut response = AlterConfigsResponse::default();
        for resource in request.resources {
            let name = resource.resource_name.to_string();
            let (error, message) = if resource.resource_type != RESOURCE_TOPIC {
                (ErrorCode::InvalidRequest, Some("broker configs are set at start-up and cannot be altered".to_owned()))
            } else {
                let pairs: Vec<(String, String)> = resource
                    .configs
                    .iter()
                    .filter_map(|c| c.value.as_ref().map(|v| (c.name.to_string(), v.to_string())))
                    .collect();
                let outcome = cluster
                    .alter_topic_configs(&name, request.validate_only, |configs| {
                        *configs = TopicConfigs::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
                        Ok(())
                    })
                    .await;
                alter_outcome(&name, outcome)
            };
            let mut result = kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse::default();
            result.error_code = error.code();
            result.error_message = message.map(str_bytes);
            result.resource_type = resource.resource_type;
            result.resource_name = resource.resource_name;
            response.responses.push(result);
        }
        Some(ResponseKind::AlterConfigs(response))
    })
}

/// CreatePartitions (37): `kafka-topics.sh --alter --partitions N`.
pub(super) fn create_partitions(cluster: &Arc<Cluster>, request: CreatePartitionsRequest) -> Reply {
    let cluster = cluster.clone();
    Box::pin(async move {
        let mut response = CreatePartitionsResponse::default();
        for topic in request.topics {
            let name = topic.name.0.to_string();
            let outcome = cluster.add_partitions(&name, topic.count, request.validate_only).await;
            let (error, message) = alter_outcome(&name, outcome);
            let mut result = CreatePartitionsTopicResult::default();
            result.name = topic.name;
            result.error_code = error.code();
            result.error_message = message.map(str_bytes);
            response.results.push(result);
        }
        Some(ResponseKind::CreatePartitions(response))
    })
}

/// DescribeCluster (60): the brokers, the controller and the cluster id.
pub(super) fn describe_cluster(cluster: &Arc<Cluster>, _request: DescribeClusterRequest) -> DescribeClusterResponse {
    let config = &cluster.config;
    let mut broker = DescribeClusterBroker::default();
    broker.broker_id = BrokerId(config.node_id);
    broker.host = str_bytes(config.advertised_host.clone());
    broker.port = i32::from(config.advertised_port);
    let mut response = DescribeClusterResponse::default();
    response.endpoint_type = 1;
    response.cluster_id = str_bytes(cluster.cluster_id.clone());
    response.controller_id = BrokerId(config.node_id);
    response.brokers = vec![broker];
    response.cluster_authorized_operations = i32::MIN;
    response
}
