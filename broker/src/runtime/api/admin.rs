//! Topic administration: CreateTopics (19), DeleteTopics (20), CreatePartitions (37),
//! DescribeCluster (60); configs of topics and brokers: DescribeConfigs (32), AlterConfigs (33)
//! and IncrementalAlterConfigs (44), with dynamic broker configs per broker and cluster-wide.
//!
//! Error codes and messages follow Kafka's, so `kafka-topics.sh` and admin clients print what
//! learners will see against a real cluster.

use std::sync::Arc;
use std::time::Duration;

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
use crate::core::broker_config::{
    BrokerConfigError, BrokerConfigs, BrokerConfigsImage, ConfigSynonym, SynonymUnit, broker_synonym,
    validate_dynamic_changes,
};
use crate::core::config::{ConfigKind, TopicConfigs, config_def};
use crate::core::controller::{partition_replicas, validate_manual_assignments, validate_new_partition_assignments};
use crate::core::metadata::{MetadataImage, TopicImage};
use crate::core::topic::{colliding_topic, validate_topic_name};
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::Cluster;
use crate::runtime::metadata_log::METADATA_TOPIC;
use crate::runtime::offsets::OffsetRecord;
use crate::runtime::storage::NodeMessage;

/// Most partitions one topic may have here. Kafka sets no limit, but a learning broker on a
/// laptop should refuse a typo that asks for a million directories.
pub(crate) const MAX_PARTITIONS_PER_TOPIC: i32 = 1_000;

/// How long an admin request waits for the controller (Kafka's `request.timeout.ms`).
const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(30);

/// DescribeConfigs resource types.
const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

/// Sends an admin request to the active controller (KIP-590: brokers forward them) and waits
/// for its answer, trying again while the quorum has no leader (NOT_CONTROLLER), as Kafka's
/// forwarding manager does, for up to [`CONTROLLER_TIMEOUT`]. A request whose controller stops
/// or stops leading before it answers is sent again to the next active controller (the answer
/// of a crashed or resigned controller never comes; Kafka's broker-to-controller channel sees
/// the connection close or NOT_CONTROLLER and resends the same way).
pub(super) async fn forward(
    cluster: &Cluster,
    broker: &BrokerHandle,
    request: impl Fn(u64) -> NodeMessage,
) -> ErrorCode {
    /// How often a waiting request checks that its controller still runs and leads.
    const CONTROLLER_CHECK: Duration = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + CONTROLLER_TIMEOUT;
    loop {
        let answer = match broker.admin(cluster, &request) {
            Ok(mut sent) => loop {
                let check = (tokio::time::Instant::now() + CONTROLLER_CHECK).min(deadline);
                match tokio::time::timeout_at(check, &mut sent.answer).await {
                    Ok(Ok(error)) => break error,
                    // The broker stopped while waiting.
                    Ok(Err(_)) => break ErrorCode::NotController,
                    Err(_) if tokio::time::Instant::now() >= deadline => {
                        broker.abandon_admin(sent.request_id);
                        return ErrorCode::RequestTimedOut;
                    }
                    Err(_) => {
                        let target = cluster.controllers.get(&sent.controller);
                        let running = target.is_some_and(|c| c.is_running());
                        let other_leads = cluster.active_controller().is_some_and(|c| c.id != sent.controller);
                        if !running || other_leads {
                            broker.abandon_admin(sent.request_id);
                            break ErrorCode::NotController;
                        }
                    }
                }
            },
            Err(error) => error,
        };
        if answer != ErrorCode::NotController || tokio::time::Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every running broker's metadata satisfies `applied` (a change the controller
/// committed has reached them), so the next request to any broker sees it. Bounded: a broker
/// that is behind catches up on its own.
pub(super) async fn wait_for_metadata(cluster: &Cluster, applied: impl Fn(&MetadataImage) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let done = cluster.brokers.values().all(|b| b.with_node(|node| applied(&node.image)).unwrap_or(true));
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The topic as this broker's metadata has it.
fn topic_of(broker: &BrokerHandle, name: &str) -> Option<TopicImage> {
    broker.with_node(|node| node.image.topics.get(name).cloned()).flatten()
}

/// The broker-level configs as this broker's metadata has them.
fn broker_configs_of(broker: &BrokerHandle) -> BrokerConfigsImage {
    broker.with_node(|node| node.image.broker_configs.clone()).unwrap_or_default()
}

/// Brokers registered and unfenced, as this broker's metadata has them.
fn live_brokers(broker: &BrokerHandle) -> usize {
    broker.with_node(|node| node.image.brokers.values().filter(|b| !b.fenced).count()).unwrap_or(0)
}

/// Kafka's message for an error the controller answered with.
fn controller_message(error: ErrorCode, topic: &str) -> String {
    match error {
        ErrorCode::TopicAlreadyExists => format!("Topic '{topic}' already exists."),
        ErrorCode::UnknownTopicOrPartition => format!("Topic {topic} does not exist"),
        ErrorCode::InvalidReplicationFactor => {
            "The target replication factor cannot be reached: not enough brokers are registered and unfenced.".into()
        }
        ErrorCode::RequestTimedOut | ErrorCode::NotController => {
            "The controller did not answer in time: is a majority of the controllers running?".into()
        }
        error => error.name().to_owned(),
    }
}

/// Refuses `added` partition replicas past `--max-partition-replicas`, with a message that
/// names the limit and the flag. The controller checks the same limit against the whole
/// cluster's metadata and decides; this check, on the broker's copy, gives the message (and
/// answers `validate_only` requests).
fn check_replica_budget(cluster: &Cluster, broker: &BrokerHandle, added: u64) -> Result<(), (ErrorCode, String)> {
    let current = broker.with_node(|node| partition_replicas(&node.image)).unwrap_or(0);
    if current.saturating_add(added) <= u64::from(cluster.config.max_partition_replicas) {
        return Ok(());
    }
    Err(replica_budget_refusal(cluster, broker, added))
}

/// POLICY_VIOLATION and its message, with the count as this broker's metadata has it.
fn replica_budget_refusal(cluster: &Cluster, broker: &BrokerHandle, added: u64) -> (ErrorCode, String) {
    let current = broker.with_node(|node| partition_replicas(&node.image)).unwrap_or(0);
    let limit = cluster.config.max_partition_replicas;
    let message = format!(
        "Creating {added} partition replicas (partitions × replication factor) would exceed this cluster's limit of \
         {limit} partition replicas: it holds {current}. Delete topics, or start Streamlab with a higher \
         --max-partition-replicas."
    );
    (ErrorCode::PolicyViolation, message)
}

impl NewTopic {
    /// Partition replicas the topic adds.
    fn replicas(&self) -> u64 {
        if self.assignments.is_empty() {
            u64::try_from(self.partitions)
                .unwrap_or(0)
                .saturating_mul(u64::try_from(self.replication_factor).unwrap_or(0))
        } else {
            self.assignments.iter().map(|replicas| replicas.len() as u64).sum()
        }
    }
}

/// A topic about to be created.
struct NewTopic {
    partitions: i32,
    replication_factor: i32,
    configs: TopicConfigs,
    /// Explicit replica assignments, partition `i` at index `i`; empty: the controller places.
    assignments: Vec<Vec<i32>>,
}

pub(super) fn create_topics(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: CreateTopicsRequest,
    version: i16,
) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        let mut response = CreateTopicsResponse::default();
        for creatable in request.topics {
            let name = creatable.name.0.to_string();
            let mut result = CreatableTopicResult::default();
            result.name = creatable.name.clone();
            result.num_partitions = -1;
            result.replication_factor = -1;
            let checked = check_new_topic(&cluster, &broker, &name, &creatable).and_then(|topic| {
                if topic_of(&broker, &name).is_some() {
                    return Err((ErrorCode::TopicAlreadyExists, format!("Topic '{name}' already exists.")));
                }
                // Kafka's ReplicationControlManager refuses names that differ only in `.` and `_`.
                let colliding = broker
                    .with_node(|node| {
                        colliding_topic(node.image.topics.keys().map(String::as_str), &name).map(str::to_owned)
                    })
                    .flatten();
                match colliding {
                    Some(existing) => Err((
                        ErrorCode::InvalidTopicException,
                        format!("Topic '{name}' collides with existing topic: {existing}"),
                    )),
                    None => check_replica_budget(&cluster, &broker, topic.replicas()).map(|()| topic),
                }
            });
            let created = match checked {
                Ok(topic) if request.validate_only => Ok(topic),
                Ok(topic) => match create_topic(&cluster, &broker, &name, &topic).await {
                    ErrorCode::None => Ok(topic),
                    // Another creation got there first: the limit and the count as they are now.
                    ErrorCode::PolicyViolation => Err(replica_budget_refusal(&cluster, &broker, topic.replicas())),
                    error => Err((error, controller_message(error, &name))),
                },
                Err(refusal) => Err(refusal),
            };
            match created {
                Err((error, message)) => {
                    result.error_code = error.code();
                    result.error_message = Some(str_bytes(message));
                }
                Ok(topic) => {
                    if let Some(image) = topic_of(&broker, &name) {
                        result.topic_id = uuid::Uuid::from_bytes(image.topic_id);
                    }
                    result.num_partitions = topic.partitions;
                    result.replication_factor = i16::try_from(topic.replication_factor).unwrap_or(i16::MAX);
                    if version >= 5 {
                        result.configs = Some(
                            topic
                                .configs
                                .describe(&broker_configs_of(&broker), Some(broker.id))
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
                }
            }
            response.topics.push(result);
        }
        Some(ResponseKind::CreateTopics(response))
    })
}

/// Asks the controller to create `name` and waits until the brokers know it.
async fn create_topic(cluster: &Cluster, broker: &BrokerHandle, name: &str, topic: &NewTopic) -> ErrorCode {
    let configs: Vec<(String, String)> =
        topic.configs.overrides().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let error = forward(cluster, broker, |request_id| NodeMessage::CreateTopic {
        request_id,
        name: name.to_owned(),
        partitions: topic.partitions,
        replication_factor: topic.replication_factor,
        configs: configs.clone(),
        assignments: topic.assignments.clone(),
    })
    .await;
    if error == ErrorCode::None {
        wait_for_metadata(cluster, |image| image.topics.contains_key(name)).await;
        tracing::info!(
            topic = name,
            partitions = topic.partitions,
            replication_factor = topic.replication_factor,
            "created topic"
        );
    }
    error
}

/// Creates a topic with the cluster's defaults (`num.partitions`, `default.replication.factor`),
/// as `auto.create.topics.enable` does.
pub(super) async fn auto_create_topic(cluster: &Cluster, broker: &BrokerHandle, name: &str) -> ErrorCode {
    let topic = NewTopic {
        partitions: i32::try_from(cluster.config.default_partitions).unwrap_or(1),
        replication_factor: i32::from(cluster.config.default_replication_factor)
            .min(i32::try_from(live_brokers(broker)).unwrap_or(1))
            .max(1),
        configs: TopicConfigs::default(),
        assignments: Vec::new(),
    };
    create_topic(cluster, broker, name, &topic).await
}

/// Validates a CreateTopics entry the way Kafka's controller does, with its messages.
fn check_new_topic(
    cluster: &Cluster,
    broker: &BrokerHandle,
    name: &str,
    creatable: &kafka_protocol::messages::create_topics_request::CreatableTopic,
) -> Result<NewTopic, (ErrorCode, String)> {
    validate_topic_name(name).map_err(|message| (ErrorCode::InvalidTopicException, message))?;
    if name == METADATA_TOPIC {
        return Err((ErrorCode::InvalidRequest, format!("Creation of internal topic {METADATA_TOPIC} is prohibited.")));
    }
    if !creatable.assignments.is_empty() {
        return check_assignments(broker, creatable);
    }
    let partitions = match creatable.num_partitions {
        -1 => i32::try_from(cluster.config.default_partitions).unwrap_or(1),
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
        n => n,
    };
    let brokers = i16::try_from(live_brokers(broker)).unwrap_or(i16::MAX);
    let replication_factor = match creatable.replication_factor {
        -1 => i16::try_from(cluster.config.default_replication_factor).unwrap_or(1),
        n if n <= 0 => {
            return Err((ErrorCode::InvalidReplicationFactor, "Replication factor must be larger than 0.".into()));
        }
        n => n,
    };
    if replication_factor > brokers {
        let n = replication_factor;
        return Err((
            ErrorCode::InvalidReplicationFactor,
            format!(
                "Unable to replicate the partition {n} time(s): The target replication factor of {n} cannot be reached because only {brokers} broker(s) are registered."
            ),
        ));
    }
    let configs = topic_configs(creatable)?;
    Ok(NewTopic { partitions, replication_factor: i32::from(replication_factor), configs, assignments: Vec::new() })
}

fn topic_configs(
    creatable: &kafka_protocol::messages::create_topics_request::CreatableTopic,
) -> Result<TopicConfigs, (ErrorCode, String)> {
    let mut configs = TopicConfigs::default();
    for config in &creatable.configs {
        let Some(value) = &config.value else { continue };
        configs.set(config.name.as_str(), value.as_str()).map_err(|message| (ErrorCode::InvalidConfig, message))?;
    }
    validate_values(&configs).map_err(|message| (ErrorCode::InvalidConfig, message))?;
    Ok(configs)
}

/// Kafka `LogConfig.validateValues`: the rules between configs, once each is valid alone. The
/// cleaner could never honour a `min.compaction.lag.ms` above `max.compaction.lag.ms`.
fn validate_values(configs: &TopicConfigs) -> Result<(), String> {
    let min_compaction_lag_ms = configs.get_i64("min.compaction.lag.ms");
    let max_compaction_lag_ms = configs.get_i64("max.compaction.lag.ms");
    if min_compaction_lag_ms > max_compaction_lag_ms {
        return Err(format!(
            "conflict topic config setting min.compaction.lag.ms ({min_compaction_lag_ms}) > max.compaction.lag.ms ({max_compaction_lag_ms})"
        ));
    }
    Ok(())
}

/// CreateTopics with explicit replica assignments, checked as Kafka's controller checks them
/// (`ReplicationControlManager.createTopic`): the partition count comes from the assignments,
/// which may not be combined with a `replication_factor` or `num_partitions` (INVALID_REQUEST,
/// in that order); the lists must pass [`validate_manual_assignments`]
/// (INVALID_REPLICA_ASSIGNMENT). Messages are Kafka's.
fn check_assignments(
    broker: &BrokerHandle,
    creatable: &kafka_protocol::messages::create_topics_request::CreatableTopic,
) -> Result<NewTopic, (ErrorCode, String)> {
    if creatable.replication_factor != -1 {
        return Err((
            ErrorCode::InvalidRequest,
            "A manual partition assignment was specified, but replication factor was not set to -1.".into(),
        ));
    }
    if creatable.num_partitions != -1 {
        return Err((
            ErrorCode::InvalidRequest,
            "A manual partition assignment was specified, but numPartitions was not set to -1.".into(),
        ));
    }
    let partitions = i32::try_from(creatable.assignments.len()).unwrap_or(i32::MAX);
    if partitions > MAX_PARTITIONS_PER_TOPIC {
        return Err((
            ErrorCode::InvalidPartitions,
            format!(
                "Number of partitions {partitions} exceeds this broker's limit of {MAX_PARTITIONS_PER_TOPIC} per topic."
            ),
        ));
    }
    let requested: Vec<(i32, Vec<i32>)> = creatable
        .assignments
        .iter()
        .map(|a| (a.partition_index, a.broker_ids.iter().map(|id| id.0).collect()))
        .collect();
    // A broker that is not running knows no brokers yet: every one named is unknown to it.
    let assignments = broker
        .with_node(|node| validate_manual_assignments(&node.image, &requested))
        .unwrap_or_else(|| validate_manual_assignments(&MetadataImage::default(), &requested))
        .map_err(|problem| (ErrorCode::InvalidReplicaAssignment, problem.to_string()))?;
    let replication_factor = assignments.first().map_or(0, |replicas| i32::try_from(replicas.len()).unwrap_or(0));
    Ok(NewTopic { partitions, replication_factor, configs: topic_configs(creatable)?, assignments })
}

pub(super) fn delete_topics(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: DeleteTopicsRequest,
    version: i16,
) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
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
                broker
                    .with_node(|node| {
                        node.image.topics.values().find(|t| t.topic_id == *topic_id.as_bytes()).map(|t| t.name.clone())
                    })
                    .flatten()
            });
            let mut result = DeletableTopicResult::default();
            result.topic_id = topic_id;
            let Some(name) = name else {
                result.error_code = ErrorCode::UnknownTopicOrPartition.code();
                response.responses.push(result);
                continue;
            };
            result.name = Some(topic_name(name.clone()));
            let error = if topic_of(&broker, &name).is_none() {
                ErrorCode::UnknownTopicOrPartition
            } else {
                forward(&cluster, &broker, |request_id| NodeMessage::DeleteTopic { request_id, name: name.clone() })
                    .await
            };
            match error {
                ErrorCode::None => {
                    wait_for_metadata(&cluster, |image| !image.topics.contains_key(&name)).await;
                    // Kafka drops a deleted topic's committed offsets too.
                    cluster.groups.coordinator().remove_topic_offsets(&name);
                    if let Err(error) = cluster.groups.append(&[OffsetRecord::DeleteTopic { topic: name.clone() }]) {
                        tracing::error!(%error, topic = %name, "cannot record the deletion of committed offsets");
                    }
                    tracing::info!(topic = %name, "deleted topic");
                }
                ErrorCode::UnknownTopicOrPartition => {
                    result.error_code = error.code();
                    result.error_message = Some(str_bytes("This server does not host this topic-partition."));
                }
                error => {
                    result.error_code = error.code();
                    result.error_message = Some(str_bytes(controller_message(error, &name)));
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

pub(super) fn describe_configs(
    cluster: &Cluster,
    broker: &BrokerHandle,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let mut response = DescribeConfigsResponse::default();
    let flags = (request.include_synonyms, request.include_documentation);
    for resource in request.resources {
        let mut result = DescribeConfigsResult::default();
        result.resource_type = resource.resource_type;
        result.resource_name = resource.resource_name.clone();
        let wanted = |name: &str| {
            resource.configuration_keys.as_ref().is_none_or(|keys| keys.iter().any(|k| k.as_str() == name))
        };
        match resource.resource_type {
            RESOURCE_TOPIC => match topic_of(broker, resource.resource_name.as_str()) {
                None => {
                    result.error_code = ErrorCode::UnknownTopicOrPartition.code();
                    result.error_message =
                        Some(str_bytes(format!("Topic {} does not exist", resource.resource_name.as_str())));
                }
                Some(topic) => {
                    let brokers = broker_configs_of(broker);
                    for entry in
                        topic.configs.describe(&brokers, Some(broker.id)).into_iter().filter(|e| wanted(e.name))
                    {
                        let mut config = DescribeConfigsResourceResult::default();
                        config.name = str_bytes(entry.name);
                        config.value = Some(str_bytes(entry.value.clone()));
                        config.config_source = entry.source as i8;
                        config.config_type = config_def(entry.name).map_or(2, |def| config_type(def.kind));
                        if request.include_documentation {
                            config.documentation = Some(str_bytes(entry.doc));
                        }
                        if request.include_synonyms {
                            config.synonyms = entry.synonyms.iter().map(wire_synonym).collect();
                        }
                        result.configs.push(config);
                    }
                }
            },
            RESOURCE_BROKER => match describe_broker(cluster, broker, resource.resource_name.as_str(), flags) {
                Ok(entries) => result.configs = entries.into_iter().filter(|e| wanted(e.name.as_str())).collect(),
                Err((error, message)) => {
                    result.error_code = error.code();
                    result.error_message = Some(str_bytes(message));
                }
            },
            other => {
                result.error_code = ErrorCode::InvalidRequest.code();
                result.error_message = Some(str_bytes(format!("Unsupported resource type {other}")));
            }
        }
        response.results.push(result);
    }
    response
}

/// A synonym as DescribeConfigs carries it.
fn wire_synonym(synonym: &ConfigSynonym) -> DescribeConfigsSynonym {
    let mut wire = DescribeConfigsSynonym::default();
    wire.name = str_bytes(synonym.name.clone());
    wire.value = synonym.value.clone().map(str_bytes);
    wire.source = synonym.source as i8;
    wire
}

/// The BROKER resource a request names: `None` for the cluster-wide default (""), else this
/// broker's id. Kafka's broker answers only for itself (`ConfigHelper.describeConfigs`,
/// `ConfigAdminManager.validateResourceNameIsCurrentNodeId`): clients send a broker's configs to
/// that broker.
fn broker_resource(broker: &BrokerHandle, name: &str, describing: bool) -> Result<Option<i32>, (ErrorCode, String)> {
    if name.is_empty() {
        return Ok(None);
    }
    let what = if describing { "Broker id" } else { "Node id" };
    let id: i32 = name
        .parse()
        .map_err(|_| (ErrorCode::InvalidRequest, format!("{what} must be an integer, but it is: {name}")))?;
    if id != broker.id {
        let expected = if describing { format!("{} or empty string", broker.id) } else { broker.id.to_string() };
        return Err((
            ErrorCode::InvalidRequest,
            format!("Unexpected broker id, expected {expected}, but received {name}"),
        ));
    }
    Ok(Some(id))
}

/// DescribeConfigs of a BROKER resource: for the cluster default (""), the dynamic defaults
/// set; for this broker, its start-up settings (read-only) and every broker config that sets a
/// topic default, with its value and source.
fn describe_broker(
    cluster: &Cluster,
    broker: &BrokerHandle,
    name: &str,
    (include_synonyms, include_documentation): (bool, bool),
) -> Result<Vec<DescribeConfigsResourceResult>, (ErrorCode, String)> {
    let target = broker_resource(broker, name, true)?;
    let mut entries = Vec::new();
    if target.is_some() {
        let config = &cluster.config;
        let fixed = [
            ("node.id", broker.id.to_string(), 3),
            ("auto.create.topics.enable", config.auto_create_topics.to_string(), 1),
            ("num.partitions", config.default_partitions.to_string(), 3),
            ("default.replication.factor", config.default_replication_factor.to_string(), 3),
            ("broker.session.timeout.ms", config.broker_session_timeout_ms.to_string(), 3),
            ("replica.lag.time.max.ms", config.replica_lag_time_max_ms.to_string(), 5),
            (
                "replica.high.watermark.checkpoint.interval.ms",
                config.replica_high_watermark_checkpoint_interval_ms.to_string(),
                5,
            ),
            ("fetch.max.bytes", config.fetch_max_bytes.to_string(), 3),
            ("log.dirs", config.data_dir.display().to_string(), 2),
        ];
        for (name, value, kind) in fixed {
            let mut entry = DescribeConfigsResourceResult::default();
            entry.name = str_bytes(name);
            entry.value = Some(str_bytes(value.clone()));
            entry.read_only = true;
            // STATIC_BROKER_CONFIG: set at start-up.
            entry.config_source = 4;
            entry.config_type = kind;
            if include_synonyms {
                entry.synonyms = vec![wire_synonym(&ConfigSynonym {
                    name: name.to_owned(),
                    value: Some(value),
                    source: crate::core::config::ConfigSource::StaticBroker,
                })];
            }
            entries.push(entry);
        }
    }
    for described in broker_configs_of(broker).describe(target) {
        let mut entry = DescribeConfigsResourceResult::default();
        entry.name = str_bytes(described.name);
        entry.value = described.value.map(str_bytes);
        entry.read_only = described.read_only;
        entry.config_source = described.source as i8;
        entry.config_type = match broker_synonym(described.name) {
            // log.retention.hours and the like are INTs.
            Some(synonym) if synonym.unit != SynonymUnit::Same => 3,
            Some(synonym) => config_def(synonym.topic_config).map_or(2, |def| config_type(def.kind)),
            None => 2,
        };
        if include_documentation
            && let Some(def) = broker_synonym(described.name).and_then(|s| config_def(s.topic_config))
        {
            entry.documentation = Some(str_bytes(format!("The default of topic config {}: {}", def.name, def.doc)));
        }
        if include_synonyms {
            entry.synonyms = described.synonyms.iter().map(wire_synonym).collect();
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Replaces the dynamic configs of a BROKER resource (per broker, or the cluster default) with
/// what `change` makes of them and, unless only validating, has the controller record the
/// differences. The answer for one resource of an AlterConfigs or IncrementalAlterConfigs
/// request.
async fn alter_broker_configs(
    cluster: &Cluster,
    broker: &BrokerHandle,
    resource_name: &str,
    validate_only: bool,
    change: impl FnOnce(&mut BrokerConfigs) -> Result<(), BrokerConfigError>,
) -> (ErrorCode, Option<String>) {
    let target = match broker_resource(broker, resource_name, false) {
        Ok(target) => target,
        Err((error, message)) => return (error, Some(message)),
    };
    let before = broker_configs_of(broker).dynamic(target).cloned().unwrap_or_default();
    let mut after = before.clone();
    if let Err(error) = change(&mut after) {
        return (error.error_code(), Some(error.to_string()));
    }
    if validate_only {
        return (ErrorCode::None, None);
    }
    let changes = config_changes(before.values(), after.values());
    if changes.is_empty() {
        return (ErrorCode::None, None);
    }
    let error = forward(cluster, broker, |request_id| NodeMessage::AlterBrokerConfig {
        request_id,
        broker: target,
        configs: changes.clone(),
    })
    .await;
    match error {
        ErrorCode::None => {}
        ErrorCode::BrokerIdNotRegistered => {
            return (error, Some(format!("No node with id {resource_name} found.")));
        }
        ErrorCode::InvalidConfig if changes.iter().any(|(name, _)| name == "min.insync.replicas") => {
            // The one config the controller refuses beyond the checks above (Kafka 4.1 with ELR).
            let message = "With eligible leader replicas (KIP-966) on, min.insync.replicas is set per topic or \
                           cluster-wide (--entity-default), and the cluster-wide value can be changed but not removed";
            return (error, Some(message.to_owned()));
        }
        error => return (error, Some(controller_message(error, resource_name))),
    }
    // Every broker applies it (a new default reaches the logs as they apply the record).
    wait_for_metadata(cluster, |image| image.broker_configs.dynamic(target).cloned().unwrap_or_default() == after)
        .await;
    tracing::info!(resource = resource_name, "altered dynamic broker configs");
    (ErrorCode::None, None)
}

/// IncrementalAlterConfigs on a BROKER resource: each operation applied to the resource's
/// dynamic configs, after Kafka's checks (read-only names, unknown names, values).
fn incremental_broker_change(
    changes: &[(String, i8, Option<String>)],
    configs: &mut BrokerConfigs,
) -> Result<(), BrokerConfigError> {
    validate_dynamic_changes(changes.iter().map(|(name, operation, value)| {
        (name.as_str(), if *operation == 1 { None } else { Some(value.as_deref().unwrap_or_default()) })
    }))?;
    for (name, operation, value) in changes {
        let value = value.as_deref().unwrap_or_default();
        match operation {
            // SET
            0 => configs.set(name, value)?,
            // DELETE: back to the next layer.
            1 => configs.remove(name),
            // APPEND / SUBTRACT: list configs only (log.cleanup.policy).
            2 | 3 => {
                let is_list = broker_synonym(name)
                    .and_then(|s| config_def(s.topic_config))
                    .is_some_and(|def| matches!(def.kind, ConfigKind::List(_)));
                let verb = if *operation == 2 { "append" } else { "subtract" };
                if !is_list {
                    return Err(BrokerConfigError::InvalidOperation(format!(
                        "Config value {verb} is not allowed for config key: {name}"
                    )));
                }
                let items = edit_list(configs.get(name).unwrap_or_default(), value, *operation == 2);
                configs.set(name, &items)?;
            }
            other => {
                return Err(BrokerConfigError::InvalidOperation(format!("Unknown operations type {other}")));
            }
        }
    }
    Ok(())
}

/// A comma-separated list with `values` appended (skipping those present) or subtracted.
fn edit_list(current: &str, values: &str, append: bool) -> String {
    let mut items: Vec<String> =
        current.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
    for item in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        if append && !items.iter().any(|i| i == item) {
            items.push(item.to_owned());
        } else if !append {
            items.retain(|i| i != item);
        }
    }
    items.join(",")
}

/// What turns the configs `before` into `after`: each new or changed value (`Some`) and each
/// removed name (`None`), as the controller records them.
fn config_changes(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, Option<String>)> {
    after
        .iter()
        .filter(|&(config, value)| before.get(config) != Some(value))
        .map(|(config, value)| (config.clone(), Some(value.clone())))
        .chain(before.keys().filter(|config| !after.contains_key(*config)).map(|config| (config.clone(), None)))
        .collect()
}

/// Applies `change` to a topic's configs (which validates) and, unless only validating, has the
/// controller record the differences. The answer for one resource of an AlterConfigs or
/// IncrementalAlterConfigs request.
async fn alter_topic_configs(
    cluster: &Cluster,
    broker: &BrokerHandle,
    name: &str,
    validate_only: bool,
    change: impl FnOnce(&mut TopicConfigs) -> Result<(), String>,
) -> (ErrorCode, Option<String>) {
    let Some(topic) = topic_of(broker, name) else {
        return (ErrorCode::UnknownTopicOrPartition, Some(format!("Topic {name} does not exist")));
    };
    let mut configs = topic.configs.clone();
    if let Err(message) = change(&mut configs).and_then(|()| validate_values(&configs)) {
        return (ErrorCode::InvalidConfig, Some(message));
    }
    if validate_only {
        return (ErrorCode::None, None);
    }
    let changes = config_changes(topic.configs.overrides(), configs.overrides());
    if changes.is_empty() {
        return (ErrorCode::None, None);
    }
    let error = forward(cluster, broker, |request_id| NodeMessage::AlterConfig {
        request_id,
        topic: name.to_owned(),
        configs: changes.clone(),
    })
    .await;
    if error != ErrorCode::None {
        return (error, Some(controller_message(error, name)));
    }
    wait_for_metadata(cluster, |image| {
        image.topics.get(name).is_none_or(|t| t.configs.overrides() == configs.overrides())
    })
    .await;
    tracing::info!(topic = name, "altered topic configs");
    (ErrorCode::None, None)
}

/// IncrementalAlterConfigs (44, KIP-339): set, delete, append to or subtract from single configs,
/// what `kafka-configs.sh --alter --add-config/--delete-config` sends.
pub(super) fn incremental_alter_configs(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: IncrementalAlterConfigsRequest,
) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        let mut response = IncrementalAlterConfigsResponse::default();
        for resource in request.resources {
            let name = resource.resource_name.to_string();
            let changes: Vec<(String, i8, Option<String>)> = resource
                .configs
                .iter()
                .map(|c| (c.name.to_string(), c.config_operation, c.value.as_ref().map(|v| v.to_string())))
                .collect();
            let (error, message) = if resource.resource_type == RESOURCE_BROKER {
                alter_broker_configs(&cluster, &broker, &name, request.validate_only, |configs| {
                    incremental_broker_change(&changes, configs)
                })
                .await
            } else if resource.resource_type != RESOURCE_TOPIC {
                let message = format!("Unknown resource type {}", resource.resource_type);
                (ErrorCode::InvalidRequest, Some(message))
            } else {
                alter_topic_configs(&cluster, &broker, &name, request.validate_only, |configs| {
                    for (config, operation, value) in changes {
                        match operation {
                            // SET
                            0 => configs.set(&config, value.as_deref().unwrap_or_default())?,
                            // DELETE: back to the default.
                            1 => {
                                config_def(&config).ok_or_else(|| format!("Unknown topic config name: {config}"))?;
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
                                let items = edit_list(&current, value.as_deref().unwrap_or_default(), operation == 2);
                                configs.set(&config, &items)?;
                            }
                            other => return Err(format!("Unknown config operation {other}")),
                        }
                    }
                    Ok(())
                })
                .await
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
pub(super) fn alter_configs(cluster: &Arc<Cluster>, broker: &Arc<BrokerHandle>, request: AlterConfigsRequest) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        let mut response = AlterConfigsResponse::default();
        for resource in request.resources {
            let name = resource.resource_name.to_string();
            let pairs: Vec<(String, String)> = resource
                .configs
                .iter()
                .filter_map(|c| c.value.as_ref().map(|v| (c.name.to_string(), v.to_string())))
                .collect();
            let (error, message) = if resource.resource_type == RESOURCE_BROKER {
                // The legacy form replaces the resource's dynamic configs with the ones given.
                alter_broker_configs(&cluster, &broker, &name, request.validate_only, |configs| {
                    validate_dynamic_changes(pairs.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))))?;
                    *configs = BrokerConfigs::default();
                    for (config, value) in &pairs {
                        configs.set(config, value)?;
                    }
                    Ok(())
                })
                .await
            } else if resource.resource_type != RESOURCE_TOPIC {
                let message = format!("Unknown resource type {}", resource.resource_type);
                (ErrorCode::InvalidRequest, Some(message))
            } else {
                alter_topic_configs(&cluster, &broker, &name, request.validate_only, |configs| {
                    *configs = TopicConfigs::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
                    Ok(())
                })
                .await
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
pub(super) fn create_partitions(
    cluster: &Arc<Cluster>,
    broker: &Arc<BrokerHandle>,
    request: CreatePartitionsRequest,
) -> Reply {
    let (cluster, broker) = (cluster.clone(), broker.clone());
    Box::pin(async move {
        let mut response = CreatePartitionsResponse::default();
        for topic in request.topics {
            let name = topic.name.0.to_string();
            // Explicit replica lists for the new partitions (`--replica-assignment`); null: placed
            // by the controller.
            let assignments: Option<Vec<Vec<i32>>> = topic
                .assignments
                .as_ref()
                .map(|lists| lists.iter().map(|a| a.broker_ids.iter().map(|id| id.0).collect()).collect());
            let (error, message) =
                add_partitions(&cluster, &broker, &name, topic.count, assignments, request.validate_only).await;
            let mut result = CreatePartitionsTopicResult::default();
            result.name = topic.name;
            result.error_code = error.code();
            result.error_message = message.map(str_bytes);
            response.results.push(result);
        }
        Some(ResponseKind::CreatePartitions(response))
    })
}

/// Grows a topic to `count` partitions (Kafka never shrinks one), placed by the controller or
/// as `assignments` say, with the messages of Kafka's `ReplicationControlManager.createPartitions`.
async fn add_partitions(
    cluster: &Cluster,
    broker: &BrokerHandle,
    name: &str,
    count: i32,
    assignments: Option<Vec<Vec<i32>>>,
    validate_only: bool,
) -> (ErrorCode, Option<String>) {
    let Some(topic) = topic_of(broker, name) else {
        return (ErrorCode::UnknownTopicOrPartition, Some(format!("Topic {name} does not exist")));
    };
    let current = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
    if count == current {
        return (ErrorCode::InvalidPartitions, Some(format!("Topic already has {current} partition(s).")));
    }
    if count < current {
        let message =
            format!("The topic {name} currently has {current} partition(s); {count} would not be an increase.");
        return (ErrorCode::InvalidPartitions, Some(message));
    }
    if count > MAX_PARTITIONS_PER_TOPIC {
        let message = format!(
            "Number of partitions {count} exceeds this broker's limit of {MAX_PARTITIONS_PER_TOPIC} per topic."
        );
        return (ErrorCode::InvalidPartitions, Some(message));
    }
    let replication_factor = topic.partitions.first().map_or(1, |p| p.replicas.len());
    if let Some(assignments) = &assignments {
        let check = |image: &MetadataImage| {
            validate_new_partition_assignments(image, current, count, replication_factor, assignments)
        };
        // A broker that is not running knows no brokers yet: every one named is unknown to it.
        let checked = broker.with_node(|node| check(&node.image)).unwrap_or_else(|| check(&MetadataImage::default()));
        if let Err(problem) = checked {
            return (ErrorCode::InvalidReplicaAssignment, Some(problem.to_string()));
        }
    }
    let assignments = assignments.unwrap_or_default();
    let added = u64::try_from(count - current).unwrap_or(0).saturating_mul(replication_factor as u64);
    if let Err((error, message)) = check_replica_budget(cluster, broker, added) {
        return (error, Some(message));
    }
    if validate_only {
        return (ErrorCode::None, None);
    }
    let error = forward(cluster, broker, |request_id| NodeMessage::CreatePartitions {
        request_id,
        topic: name.to_owned(),
        count,
        assignments: assignments.clone(),
    })
    .await;
    if error == ErrorCode::PolicyViolation {
        let (error, message) = replica_budget_refusal(cluster, broker, added);
        return (error, Some(message));
    }
    if error != ErrorCode::None {
        return (error, Some(controller_message(error, name)));
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    wait_for_metadata(cluster, |image| image.topics.get(name).is_none_or(|t| t.partitions.len() >= count)).await;
    (ErrorCode::None, None)
}

/// DescribeCluster (60): the brokers, the controller and the cluster id. As in KRaft, the
/// controller a client is told of is a broker (clients cannot reach the controllers).
pub(super) fn describe_cluster(
    cluster: &Cluster,
    broker: &BrokerHandle,
    request: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let mut response = DescribeClusterResponse::default();
    response.endpoint_type = 1;
    response.cluster_id = str_bytes(cluster.cluster_id.clone());
    response.controller_id = BrokerId(cluster.first_running_broker().map_or(-1, |b| b.id));
    response.brokers = live_broker_ids(broker)
        .into_iter()
        .filter_map(|id| cluster.brokers.get(&id))
        .map(|handle| {
            let (host, port) = handle.advertised();
            let mut entry = DescribeClusterBroker::default();
            entry.broker_id = BrokerId(handle.id);
            entry.host = str_bytes(host);
            entry.port = i32::from(port);
            entry
        })
        .collect();
    response.cluster_authorized_operations =
        super::authorized_operations::cluster(request.include_cluster_authorized_operations);
    response
}

/// The ids of the brokers this broker's metadata shows registered and unfenced.
pub(super) fn live_broker_ids(broker: &BrokerHandle) -> Vec<i32> {
    broker
        .with_node(|node| node.image.brokers.values().filter(|b| !b.fenced).map(|b| b.broker_id).collect())
        .unwrap_or_default()
}
