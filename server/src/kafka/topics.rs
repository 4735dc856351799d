//! Topics: Metadata (one topic, every topic), CreateTopics, DeleteTopics, CreatePartitions.

use broker::core::ErrorCode;
use kafka_protocol::messages::MetadataRequest;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::protocol::StrBytes;

use super::{Kafka, KafkaError, Refusal, kafka_uuid_text, refusal, topic_name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    /// KIP-516's topic id as Kafka prints it (base64); `None` if the broker sent the zero id.
    pub topic_id: Option<String>,
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    /// -1: no leader.
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    /// Eligible leader replicas (KIP-966). `None` when read through Metadata, which does not
    /// carry them (`kafka-topics.sh` prints N/A then).
    pub elr: Option<Vec<i32>>,
    /// The last known leader of a partition left without ISR and ELR; `None` as `elr`.
    pub last_known_elr: Option<Vec<i32>>,
}

/// A topic as the cluster-wide Metadata request lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTopic {
    pub name: String,
    /// Kafka's own topics (`__consumer_offsets`, ...), flagged by the broker.
    pub internal: bool,
    /// Partition indexes, sorted.
    pub partitions: Vec<i32>,
}

/// The cluster as one Metadata request shows it: the live brokers, and every partition's
/// leader, replicas, ISR and offline replicas (on brokers that are not live).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClusterMetadata {
    pub cluster_id: Option<String>,
    /// Live (registered, unfenced) brokers, sorted.
    pub brokers: Vec<i32>,
    /// Every topic, Kafka's internal ones included (flagged), sorted by name.
    #[serde(skip)]
    pub topics: Vec<ClusterTopic>,
    /// The partitions of every topic but the internal ones, sorted.
    pub partitions: Vec<PartitionReplicas>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionReplicas {
    pub topic: String,
    pub partition: i32,
    /// -1: no leader (offline).
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub offline_replicas: Vec<i32>,
    /// Eligible leader replicas (KIP-966), from DescribeTopicPartitions.
    pub elr: Vec<i32>,
}

impl PartitionReplicas {
    /// Fewer in-sync replicas than replicas (`kafka-topics --under-replicated-partitions`).
    pub fn under_replicated(&self) -> bool {
        self.isr.len() < self.replicas.len()
    }
}

impl Kafka {
    /// Every topic, every partition's replicas and the live brokers, in one Metadata request.
    pub async fn cluster_metadata(&self) -> Result<ClusterMetadata, KafkaError> {
        let mut request = MetadataRequest::default();
        request.topics = None;
        request.allow_auto_topic_creation = false;
        let response = self.call(&request, 12).await?;
        let mut brokers: Vec<i32> = response.brokers.iter().map(|b| b.node_id.0).collect();
        brokers.sort_unstable();
        let mut topics = Vec::new();
        let mut partitions = Vec::new();
        // A topic-level error (being deleted, ...) means it has no partitions to show; a
        // partition without a leader is still listed, with its error, and shown as offline.
        for topic in response.topics.into_iter().filter(|t| t.error_code == 0) {
            let Some(name) = topic.name.map(|n| n.0.to_string()) else { continue };
            let mut indexes: Vec<i32> = topic.partitions.iter().map(|p| p.partition_index).collect();
            indexes.sort_unstable();
            topics.push(ClusterTopic { name: name.clone(), internal: topic.is_internal, partitions: indexes });
            if topic.is_internal {
                continue;
            }
            for p in topic.partitions {
                partitions.push(PartitionReplicas {
                    topic: name.clone(),
                    partition: p.partition_index,
                    leader: p.leader_id.0,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                    isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                    offline_replicas: p.offline_replicas.iter().map(|b| b.0).collect(),
                    elr: Vec::new(),
                });
            }
        }
        let mut elrs = self.eligible_leader_replicas().await?;
        for partition in &mut partitions {
            partition.elr = elrs.remove(&(partition.topic.clone(), partition.partition)).unwrap_or_default();
        }
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        partitions.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(ClusterMetadata { cluster_id: response.cluster_id.map(|id| id.to_string()), brokers, topics, partitions })
    }

    /// Every partition's eligible leader replicas that has any, through DescribeTopicPartitions
    /// for every topic, page by page.
    async fn eligible_leader_replicas(&self) -> Result<std::collections::HashMap<(String, i32), Vec<i32>>, KafkaError> {
        use kafka_protocol::messages::DescribeTopicPartitionsRequest;
        use kafka_protocol::messages::describe_topic_partitions_request::Cursor;
        let mut elrs = std::collections::HashMap::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let mut request = DescribeTopicPartitionsRequest::default();
            request.response_partition_limit = 2000;
            request.cursor = cursor.take();
            let response = self.call(&request, 0).await?;
            for topic in response.topics.into_iter().filter(|t| t.error_code == 0) {
                let Some(name) = topic.name.map(|n| n.0.to_string()) else { continue };
                for p in topic.partitions {
                    let elr: Vec<i32> = p.eligible_leader_replicas.unwrap_or_default().iter().map(|b| b.0).collect();
                    if !elr.is_empty() {
                        elrs.insert((name.clone(), p.partition_index), elr);
                    }
                }
            }
            let Some(next) = response.next_cursor else { return Ok(elrs) };
            let mut again = Cursor::default();
            again.topic_name = next.topic_name;
            again.partition_index = next.partition_index;
            cursor = Some(again);
        }
    }

    /// A topic's partitions, or `None` if it does not exist (never auto-creates it).
    pub async fn topic(&self, name: &str) -> Result<Option<TopicInfo>, KafkaError> {
        let mut topic = MetadataRequestTopic::default();
        topic.name = Some(topic_name(name));
        let mut request = MetadataRequest::default();
        request.topics = Some(vec![topic]);
        request.allow_auto_topic_creation = false;
        let response = self.call(&request, 12).await?;
        let Some(topic) = response.topics.into_iter().next() else { return Ok(None) };
        match ErrorCode::from_code(topic.error_code) {
            Some(ErrorCode::None) => {}
            Some(ErrorCode::UnknownTopicOrPartition) => return Ok(None),
            _ => return Err(KafkaError::Broker(topic.error_code)),
        }
        let mut partitions: Vec<PartitionInfo> = topic
            .partitions
            .into_iter()
            .map(|p| PartitionInfo {
                partition: p.partition_index,
                leader: p.leader_id.0,
                leader_epoch: p.leader_epoch,
                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                elr: None,
                last_known_elr: None,
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        let topic_id = (!topic.topic_id.is_nil()).then(|| kafka_uuid_text(&topic.topic_id));
        Ok(Some(TopicInfo { name: name.to_owned(), topic_id, partitions }))
    }

    /// A topic's partitions with their eligible leader replicas, through DescribeTopicPartitions
    /// (KIP-966) page by page as `kafka-topics.sh --describe` reads them; `None` if the topic
    /// does not exist.
    pub async fn describe_topic(&self, name: &str) -> Result<Option<TopicInfo>, KafkaError> {
        use kafka_protocol::messages::DescribeTopicPartitionsRequest;
        use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
        let ids = |ids: &[kafka_protocol::messages::BrokerId]| ids.iter().map(|b| b.0).collect::<Vec<_>>();
        let mut topic_id = None;
        let mut partitions = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let mut topic = TopicRequest::default();
            topic.name = topic_name(name);
            let mut request = DescribeTopicPartitionsRequest::default();
            request.topics = vec![topic];
            request.response_partition_limit = 2000;
            request.cursor = cursor.take();
            let response = self.call(&request, 0).await?;
            for topic in response.topics {
                match ErrorCode::from_code(topic.error_code) {
                    Some(ErrorCode::None) => {}
                    Some(ErrorCode::UnknownTopicOrPartition) => return Ok(None),
                    _ => return Err(KafkaError::Broker(topic.error_code)),
                }
                topic_id = (!topic.topic_id.is_nil()).then(|| kafka_uuid_text(&topic.topic_id));
                partitions.extend(topic.partitions.into_iter().map(|p| PartitionInfo {
                    partition: p.partition_index,
                    leader: p.leader_id.0,
                    leader_epoch: p.leader_epoch,
                    replicas: ids(&p.replica_nodes),
                    isr: ids(&p.isr_nodes),
                    elr: p.eligible_leader_replicas.as_deref().map(ids),
                    last_known_elr: p.last_known_elr.as_deref().map(ids),
                }));
            }
            match response.next_cursor {
                Some(next) if next.topic_name.0.as_str() == name => {
                    let mut again = Cursor::default();
                    again.topic_name = next.topic_name;
                    again.partition_index = next.partition_index;
                    cursor = Some(again);
                }
                _ => break,
            }
        }
        partitions.sort_by_key(|p| p.partition);
        Ok(Some(TopicInfo { name: name.to_owned(), topic_id, partitions }))
    }

    /// Every topic name, sorted.
    pub async fn list_topics(&self) -> Result<Vec<String>, KafkaError> {
        let mut request = MetadataRequest::default();
        request.topics = None;
        request.allow_auto_topic_creation = false;
        let response = self.call(&request, 12).await?;
        let mut names: Vec<String> =
            response.topics.into_iter().filter_map(|t| t.name.map(|n| n.0.to_string())).collect();
        names.sort();
        Ok(names)
    }

    /// CreateTopics; the inner `Err` is Kafka's refusal (TOPIC_ALREADY_EXISTS, INVALID_CONFIG, ...).
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: Option<i32>,
        replication_factor: Option<i16>,
        configs: &[(String, String)],
    ) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::CreateTopicsRequest;
        use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
        let mut topic = CreatableTopic::default();
        topic.name = topic_name(name);
        topic.num_partitions = partitions.unwrap_or(-1);
        topic.replication_factor = replication_factor.unwrap_or(-1);
        topic.configs = configs
            .iter()
            .map(|(k, v)| {
                let mut config = CreatableTopicConfig::default();
                config.name = StrBytes::from_string(k.clone());
                config.value = Some(StrBytes::from_string(v.clone()));
                config
            })
            .collect();
        let mut request = CreateTopicsRequest::default();
        request.topics = vec![topic];
        request.timeout_ms = 30_000;
        let response = self.call(&request, 7).await?;
        let result = response.topics.into_iter().next().ok_or(KafkaError::missing_answer())?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    pub async fn delete_topic(&self, name: &str) -> Result<Result<(), Refusal>, KafkaError> {
        let mut request = kafka_protocol::messages::DeleteTopicsRequest::default();
        request.topic_names = vec![topic_name(name)];
        request.timeout_ms = 30_000;
        let response = self.call(&request, 5).await?;
        let result = response.responses.into_iter().next().ok_or(KafkaError::missing_answer())?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    pub async fn create_partitions(&self, name: &str, count: i32) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::CreatePartitionsRequest;
        use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
        let mut topic = CreatePartitionsTopic::default();
        topic.name = topic_name(name);
        topic.count = count;
        // Null, as clients send it: the broker places the new partitions. (The codec's default
        // is an empty list, which Kafka refuses as too few assignments.)
        topic.assignments = None;
        let mut request = CreatePartitionsRequest::default();
        request.topics = vec![topic];
        request.timeout_ms = 30_000;
        let response = self.call(&request, 3).await?;
        let result = response.results.into_iter().next().ok_or(KafkaError::missing_answer())?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }
}
