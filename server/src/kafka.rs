//! The server's view of a Kafka cluster, through the wire protocol only.
//!
//! Exercise checks (and the console, next) ask the broker what a learner's client would see:
//! Metadata, DescribeConfigs, ListOffsets, Fetch, DescribeGroups, OffsetFetch. Nothing here
//! reaches into the embedded broker's internals, so the same code works against an external
//! cluster. Connections are pooled; a failed one is dropped and the request retried once on a
//! fresh connection (the broker may have restarted).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use broker::client::{ClientError, Connection};
use bytes::Buf;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    BrokerId, DescribeConfigsRequest, DescribeGroupsRequest, FetchRequest, GroupId, ListOffsetsRequest,
    MetadataRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::{Request, StrBytes};
use kafka_protocol::records::RecordBatchDecoder;

/// Idle connections kept for reuse.
const POOLED_CONNECTIONS_MAX: usize = 16;

/// Kafka's error codes that the checks tell apart.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the broker answered with error code {0}")]
    Broker(i16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// A record as a consumer sees it, key and value decoded as (lossy) UTF-8 for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub state: String,
    pub members: usize,
}

#[derive(Debug)]
pub struct Kafka {
    bootstrap: SocketAddr,
    idle: Mutex<Vec<Connection>>,
}

impl Kafka {
    pub fn new(bootstrap: SocketAddr) -> Self {
        Kafka { bootstrap, idle: Mutex::new(Vec::new()) }
    }

    pub fn bootstrap(&self) -> SocketAddr {
        self.bootstrap
    }

    async fn call<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let first = match pooled {
            Some(mut connection) => match connection.send(request, version).await {
                Ok(response) => Ok((connection, response)),
                Err(error) => Err(error),
            },
            None => Err(ClientError::Closed),
        };
        let (connection, response) = match first {
            Ok(done) => done,
            Err(_) => {
                let mut connection = Connection::connect(self.bootstrap, "streamlab-server").await?;
                let response = connection.send(request, version).await?;
                (connection, response)
            }
        };
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOLED_CONNECTIONS_MAX {
            idle.push(connection);
        }
        Ok(response)
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
        match topic.error_code {
            0 => {}
            UNKNOWN_TOPIC_OR_PARTITION => return Ok(None),
            code => return Err(KafkaError::Broker(code)),
        }
        let mut partitions: Vec<PartitionInfo> = topic
            .partitions
            .into_iter()
            .map(|p| PartitionInfo {
                partition: p.partition_index,
                leader: p.leader_id.0,
                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        Ok(Some(TopicInfo { name: name.to_owned(), partitions }))
    }

    /// A topic's effective configs (every config, with defaults, as Kafka describes them).
    pub async fn topic_configs(&self, name: &str) -> Result<BTreeMap<String, String>, KafkaError> {
        let mut resource = DescribeConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_string(name.to_owned());
        resource.configuration_keys = None;
        let mut request = DescribeConfigsRequest::default();
        request.resources = vec![resource];
        let response = self.call(&request, 4).await?;
        let result = response.results.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        if result.error_code != 0 {
            return Err(KafkaError::Broker(result.error_code));
        }
        Ok(result
            .configs
            .into_iter()
            .map(|c| (c.name.to_string(), c.value.map(|v| v.to_string()).unwrap_or_default()))
            .collect())
    }

    /// `(log start offset, log end offset)` of a partition; `None` if it does not exist.
    ///
    /// "Log end offset" here is what a consumer sees as the end: the high watermark (on one
    /// broker they are the same).
    pub async fn offsets(&self, topic: &str, partition: i32) -> Result<Option<(i64, i64)>, KafkaError> {
        let mut answers = Vec::new();
        for timestamp in [-2, -1] {
            let mut requested = ListOffsetsPartition::default();
            requested.partition_index = partition;
            requested.timestamp = timestamp;
            requested.current_leader_epoch = -1;
            let mut list_topic = ListOffsetsTopic::default();
            list_topic.name = topic_name(topic);
            list_topic.partitions = vec![requested];
            let mut request = ListOffsetsRequest::default();
            request.replica_id = BrokerId(-1);
            request.topics = vec![list_topic];
            let response = self.call(&request, 7).await?;
            let answer = response.topics.into_iter().next().and_then(|t| t.partitions.into_iter().next());
            let Some(answer) = answer else { return Ok(None) };
            match answer.error_code {
                0 => answers.push(answer.offset),
                UNKNOWN_TOPIC_OR_PARTITION => return Ok(None),
                code => return Err(KafkaError::Broker(code)),
            }
        }
        Ok(Some((answers[0], answers[1])))
    }

    /// Up to `max_records` records of a partition from `from_offset` on.
    pub async fn records(
        &self,
        topic: &str,
        partition: i32,
        from_offset: i64,
        max_records: usize,
    ) -> Result<Vec<RecordView>, KafkaError> {
        let mut out = Vec::new();
        let mut next = from_offset;
        while out.len() < max_records {
            let mut fetch_partition = FetchPartition::default();
            fetch_partition.partition = partition;
            fetch_partition.fetch_offset = next;
            fetch_partition.partition_max_bytes = 1 << 20;
            fetch_partition.current_leader_epoch = -1;
            let mut fetch_topic = FetchTopic::default();
            fetch_topic.topic = topic_name(topic);
            fetch_topic.partitions = vec![fetch_partition];
            let mut request = FetchRequest::default();
            request.replica_id = BrokerId(-1);
            request.max_wait_ms = 0;
            request.min_bytes = 0;
            request.max_bytes = 4 << 20;
            request.topics = vec![fetch_topic];
            let response = self.call(&request, 12).await?;
            let Some(data) = response.responses.into_iter().next().and_then(|t| t.partitions.into_iter().next()) else {
                break;
            };
            if data.error_code != 0 {
                return Err(KafkaError::Broker(data.error_code));
            }
            let mut bytes = data.records.unwrap_or_default();
            let before = out.len();
            while bytes.has_remaining() && out.len() < max_records {
                let Ok(set) = RecordBatchDecoder::decode(&mut bytes) else { break };
                for record in set.records.into_iter().filter(|r| r.offset >= next) {
                    out.push(RecordView {
                        partition,
                        offset: record.offset,
                        timestamp_ms: record.timestamp,
                        key: record.key.map(|k| String::from_utf8_lossy(&k).into_owned()),
                        value: record.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
                    });
                }
            }
            match out.last() {
                Some(last) if out.len() > before => next = last.offset + 1,
                _ => break,
            }
        }
        out.truncate(max_records);
        Ok(out)
    }

    /// A consumer group's state and member count; `None` if the group does not exist.
    pub async fn group(&self, group: &str) -> Result<Option<GroupInfo>, KafkaError> {
        let mut request = DescribeGroupsRequest::default();
        request.groups = vec![GroupId(StrBytes::from_string(group.to_owned()))];
        let response = self.call(&request, 5).await?;
        let Some(described) = response.groups.into_iter().next() else { return Ok(None) };
        if described.error_code != 0 {
            return Err(KafkaError::Broker(described.error_code));
        }
        // Kafka describes a group it does not know as Dead.
        if described.group_state.as_str() == "Dead" {
            return Ok(None);
        }
        Ok(Some(GroupInfo { state: described.group_state.to_string(), members: described.members.len() }))
    }

    /// The group's committed offset for each given partition of `topic` (absent: none committed).
    pub async fn committed_offsets(
        &self,
        group: &str,
        topic: &str,
        partitions: &[i32],
    ) -> Result<BTreeMap<i32, i64>, KafkaError> {
        let mut wanted = OffsetFetchRequestTopic::default();
        wanted.name = topic_name(topic);
        wanted.partition_indexes = partitions.to_vec();
        let mut request = OffsetFetchRequest::default();
        request.group_id = GroupId(StrBytes::from_string(group.to_owned()));
        request.topics = Some(vec![wanted]);
        let response = self.call(&request, 7).await?;
        if response.error_code != 0 {
            return Err(KafkaError::Broker(response.error_code));
        }
        Ok(response
            .topics
            .into_iter()
            .flat_map(|t| t.partitions)
            .filter(|p| p.committed_offset >= 0)
            .map(|p| (p.partition_index, p.committed_offset))
            .collect())
    }
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_owned()))
}
