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
use broker::core::partitioner::partition_for_key;
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

use crate::console::format::{QuorumInfo, QuorumNode, ReplicaState};

/// Idle connections kept for reuse.
const POOLED_CONNECTIONS_MAX: usize = 16;

/// How long a request may wait for its answer: Kafka clients' `request.timeout.ms` default. A
/// broker that stops answering (an external cluster in trouble) fails the console command or
/// check instead of holding the learner's page forever.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Kafka's error codes that the checks tell apart.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the broker answered with error code {0}")]
    Broker(i16),
    #[error("the broker did not answer within {} s (request.timeout.ms)", REQUEST_TIMEOUT.as_secs())]
    Timeout,
}

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

/// A record as the producer sent it: key and value are bytes, whatever they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<bytes::Bytes>,
    pub value: Option<bytes::Bytes>,
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

#[derive(Debug)]
pub struct Kafka {
    bootstrap: SocketAddr,
    /// The address learners' own clients use (the broker's advertised address).
    advertised: String,
    idle: Mutex<Vec<Connection>>,
}

impl Kafka {
    pub fn new(bootstrap: SocketAddr) -> Self {
        Kafka { bootstrap, advertised: bootstrap.to_string(), idle: Mutex::new(Vec::new()) }
    }

    /// Shows learners `address` instead of the connect address (`--kafka-advertised`).
    pub fn with_advertised(mut self, address: String) -> Self {
        self.advertised = address;
        self
    }

    pub fn bootstrap(&self) -> SocketAddr {
        self.bootstrap
    }

    pub fn advertised(&self) -> &str {
        &self.advertised
    }

    async fn call<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.call_unbounded(request, version))
            .await
            .map_err(|_| KafkaError::Timeout)?
    }

    async fn call_unbounded<R: Request>(&self, request: &R, version: i16) -> Result<R::Response, KafkaError> {
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
        self.put_back(connection);
        Ok(response)
    }

    /// Sends a request that has no response (Produce with acks=0) on a fresh connection, which is
    /// then pooled: the broker answers later requests on it in order, so nothing is misread.
    async fn send_without_response<R: Request>(&self, request: &R, version: i16) -> Result<(), KafkaError> {
        let write = async {
            let mut connection = Connection::connect(self.bootstrap, "streamlab-server").await?;
            connection.write_request(request, version).await?;
            Ok::<_, ClientError>(connection)
        };
        let connection = tokio::time::timeout(REQUEST_TIMEOUT, write).await.map_err(|_| KafkaError::Timeout)??;
        self.put_back(connection);
        Ok(())
    }

    fn put_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOLED_CONNECTIONS_MAX {
            idle.push(connection);
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
        let topic_id = (!topic.topic_id.is_nil()).then(|| kafka_uuid_text(&topic.topic_id));
        Ok(Some(TopicInfo { name: name.to_owned(), topic_id, partitions }))
    }

    /// A topic's effective configs (every config, with defaults, as Kafka describes them).
    pub async fn topic_configs(&self, name: &str) -> Result<BTreeMap<String, String>, KafkaError> {
        let entries = self.topic_config_entries(name).await?.ok_or(KafkaError::Broker(UNKNOWN_TOPIC_OR_PARTITION))?;
        Ok(entries.into_iter().map(|(name, value, _)| (name, value)).collect())
    }

    /// A topic's configs with where each value comes from (DescribeConfigs `config_source`:
    /// 1 set on the topic, 5 Kafka's default, ...).
    pub async fn topic_config_entries(&self, name: &str) -> Result<Option<Vec<(String, String, i8)>>, KafkaError> {
        let mut resource = DescribeConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_string(name.to_owned());
        resource.configuration_keys = None;
        let mut request = DescribeConfigsRequest::default();
        request.resources = vec![resource];
        let response = self.call(&request, 4).await?;
        let result = response.results.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        match result.error_code {
            0 => {}
            UNKNOWN_TOPIC_OR_PARTITION => return Ok(None),
            code => return Err(KafkaError::Broker(code)),
        }
        Ok(Some(
            result
                .configs
                .into_iter()
                .map(|c| (c.name.to_string(), c.value.map(|v| v.to_string()).unwrap_or_default(), c.config_source))
                .collect(),
        ))
    }

    /// ListOffsets for one partition at a protocol timestamp (-1 latest, -2 earliest, -3 max
    /// timestamp, or milliseconds); `Ok(None)` when no record qualifies.
    pub async fn offset_at(&self, topic: &str, partition: i32, timestamp: i64) -> Result<Option<i64>, KafkaError> {
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
        let Some(answer) = answer else { return Err(KafkaError::Broker(-1)) };
        if answer.error_code != 0 {
            return Err(KafkaError::Broker(answer.error_code));
        }
        Ok((answer.offset >= 0).then_some(answer.offset))
    }

    /// Commits offsets for a group that has no active members (a "simple" commit, generation -1,
    /// as a consumer using `assign()` makes).
    pub async fn commit_offsets(
        &self,
        group: &str,
        topic: &str,
        offsets: &[(i32, i64)],
    ) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::OffsetCommitRequest;
        use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
        let mut commit_topic = OffsetCommitRequestTopic::default();
        commit_topic.name = topic_name(topic);
        commit_topic.partitions = offsets
            .iter()
            .map(|&(partition, offset)| {
                let mut p = OffsetCommitRequestPartition::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p
            })
            .collect();
        let mut request = OffsetCommitRequest::default();
        request.group_id = GroupId(StrBytes::from_string(group.to_owned()));
        request.generation_id_or_member_epoch = -1;
        request.topics = vec![commit_topic];
        let response = self.call(&request, 8).await?;
        let code =
            response.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).find(|&c| c != 0).unwrap_or(0);
        Ok(refusal(code, None))
    }

    /// `(log start offset, log end offset)` of a partition; `None` if it does not exist.
    ///
    /// "Log end offset" here is what a consumer sees as the end: the high watermark (on one
    /// broker they are the same).
    pub async fn offsets(&self, topic: &str, partition: i32) -> Result<Option<(i64, i64)>, KafkaError> {
        let earliest = match self.offset_at(topic, partition, -2).await {
            Err(KafkaError::Broker(UNKNOWN_TOPIC_OR_PARTITION)) => return Ok(None),
            other => other?,
        };
        let latest = self.offset_at(topic, partition, -1).await?;
        Ok(Some((earliest.unwrap_or(0), latest.unwrap_or(0))))
    }

    /// Up to `max_records` records of a partition from `from_offset` on.
    pub async fn records(
        &self,
        topic: &str,
        partition: i32,
        from_offset: i64,
        max_records: usize,
    ) -> Result<Vec<RecordView>, KafkaError> {
        let raw = self.raw_records(topic, partition, from_offset, max_records, usize::MAX).await?;
        Ok(raw
            .into_iter()
            .map(|record| RecordView {
                partition,
                offset: record.offset,
                timestamp_ms: record.timestamp_ms,
                key: record.key.map(|k| String::from_utf8_lossy(&k).into_owned()),
                value: record.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
            })
            .collect())
    }

    /// Up to `max_records` records of a partition from `from_offset` on, as the bytes the
    /// producer sent. Stops early once the keys and values read add up to `max_bytes` (the first
    /// record is always returned, whatever its size).
    pub async fn raw_records(
        &self,
        topic: &str,
        partition: i32,
        from_offset: i64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawRecord>, KafkaError> {
        let mut out: Vec<RawRecord> = Vec::new();
        let mut next = from_offset;
        let mut bytes_read = 0usize;
        while out.len() < max_records && bytes_read < max_bytes {
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
            // Where the next fetch starts: past every record seen, control records included.
            let mut seen_up_to = next;
            'batches: while bytes.has_remaining() && out.len() < max_records {
                let Ok(set) = RecordBatchDecoder::decode(&mut bytes) else { break };
                for record in set.records.into_iter().filter(|r| r.offset >= next) {
                    if out.len() >= max_records || (bytes_read >= max_bytes && !out.is_empty()) {
                        break 'batches;
                    }
                    seen_up_to = seen_up_to.max(record.offset + 1);
                    if record.control {
                        continue;
                    }
                    bytes_read += record.key.as_ref().map_or(0, bytes::Bytes::len)
                        + record.value.as_ref().map_or(0, bytes::Bytes::len);
                    out.push(RawRecord {
                        offset: record.offset,
                        timestamp_ms: record.timestamp,
                        key: record.key,
                        value: record.value,
                    });
                }
            }
            if seen_up_to == next {
                break;
            }
            next = seen_up_to;
        }
        out.truncate(max_records);
        Ok(out)
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

/// A consumer group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    pub state: String,
    /// The assignor the group chose (`range`, `cooperative-sticky`, ...).
    pub protocol: String,
    pub members: Vec<MemberDetail>,
}

/// A consumer group member as DescribeGroups reports it, with its decoded assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDetail {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    /// `(topic, partitions)` the member was assigned.
    pub assignment: Vec<(String, Vec<i32>)>,
}

impl Kafka {
    /// Every consumer group: `(group id, state)`, sorted by id.
    pub async fn list_groups(&self) -> Result<Vec<(String, String)>, KafkaError> {
        let response = self.call(&kafka_protocol::messages::ListGroupsRequest::default(), 4).await?;
        let mut groups: Vec<(String, String)> =
            response.groups.into_iter().map(|g| (g.group_id.0.to_string(), g.group_state.to_string())).collect();
        groups.sort();
        Ok(groups)
    }

    /// A group's state, assignor and members (`None` if it does not exist).
    pub async fn group_members(&self, group: &str) -> Result<Option<GroupDetail>, KafkaError> {
        let described = self.describe_groups(&[group.to_owned()]).await?;
        match described.into_iter().next() {
            Some((_, Ok(detail))) => Ok(detail),
            Some((_, Err(code))) => Err(KafkaError::Broker(code)),
            None => Ok(None),
        }
    }

    /// DescribeGroups for several groups in one request: for each, its detail (`None` if it
    /// does not exist) or the broker's error code.
    pub async fn describe_groups(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, Result<Option<GroupDetail>, i16>)>, KafkaError> {
        use kafka_protocol::messages::ConsumerProtocolAssignment;
        use kafka_protocol::protocol::Decodable;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = DescribeGroupsRequest::default();
        request.groups = groups.iter().map(|g| GroupId(StrBytes::from_string(g.clone()))).collect();
        let response = self.call(&request, 5).await?;
        Ok(response
            .groups
            .into_iter()
            .map(|described| {
                let group = described.group_id.0.to_string();
                if described.error_code != 0 {
                    return (group, Err(described.error_code));
                }
                if described.group_state.as_str() == "Dead" {
                    return (group, Ok(None));
                }
                let members = described
                    .members
                    .into_iter()
                    .map(|m| {
                        // The consumer protocol's assignment: a version (i16), then the partitions.
                        let mut bytes = m.member_assignment.clone();
                        let assignment = if bytes.len() >= 2 {
                            let version = bytes.get_i16();
                            ConsumerProtocolAssignment::decode(&mut bytes, version)
                                .map(|a| {
                                    a.assigned_partitions
                                        .into_iter()
                                        .map(|tp| (tp.topic.0.to_string(), tp.partitions))
                                        .collect()
                                })
                                .unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        MemberDetail {
                            member_id: m.member_id.to_string(),
                            client_id: m.client_id.to_string(),
                            host: m.client_host.to_string(),
                            assignment,
                        }
                    })
                    .collect();
                let detail = GroupDetail {
                    state: described.group_state.to_string(),
                    protocol: described.protocol_data.to_string(),
                    members,
                };
                (group, Ok(Some(detail)))
            })
            .collect())
    }

    /// Every committed offset of a group: `(topic, partition, offset)`.
    pub async fn all_committed_offsets(&self, group: &str) -> Result<Vec<(String, i32, i64)>, KafkaError> {
        let mut request = OffsetFetchRequest::default();
        request.group_id = GroupId(StrBytes::from_string(group.to_owned()));
        request.topics = None;
        let response = self.call(&request, 7).await?;
        Ok(response
            .topics
            .into_iter()
            .flat_map(|t| {
                let topic = t.name.0.to_string();
                t.partitions
                    .into_iter()
                    .filter(|p| p.committed_offset >= 0)
                    .map(move |p| (topic.clone(), p.partition_index, p.committed_offset))
            })
            .collect())
    }

    /// DeleteGroups: `(group, error code)` for each.
    pub async fn delete_groups(&self, groups: &[String]) -> Result<Vec<(String, i16)>, KafkaError> {
        let mut request = kafka_protocol::messages::DeleteGroupsRequest::default();
        request.groups_names = groups.iter().map(|g| GroupId(StrBytes::from_string(g.clone()))).collect();
        let response = self.call(&request, 2).await?;
        Ok(response.results.into_iter().map(|r| (r.group_id.0.to_string(), r.error_code)).collect())
    }
}

/// A record to produce: key and value, either of which may be null (a null value is a tombstone).
pub type ProducerRecord = (Option<String>, Option<String>);

/// Kafka's answer to an admin request that it refused: the error code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: i16,
    pub message: String,
}

/// The metadata log's topic, which DescribeQuorum asks about.
const CLUSTER_METADATA_TOPIC: &str = "__cluster_metadata";

/// Kafka's `Uuid.toString`: URL-safe base64 without padding.
fn kafka_uuid_text(id: &uuid::Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

impl Kafka {
    /// The KRaft metadata quorum as the admin client's `describeMetadataQuorum` and
    /// `describeCluster` give it to `kafka-metadata-quorum`: DescribeQuorum v2 for
    /// `__cluster_metadata-0`, and the cluster id from Metadata.
    pub async fn describe_quorum(&self) -> Result<Result<QuorumInfo, Refusal>, KafkaError> {
        use kafka_protocol::messages::DescribeQuorumRequest;
        use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
        let mut partition = PartitionData::default();
        partition.partition_index = 0;
        let mut topic = TopicData::default();
        topic.topic_name = topic_name(CLUSTER_METADATA_TOPIC);
        topic.partitions = vec![partition];
        let mut request = DescribeQuorumRequest::default();
        request.topics = vec![topic];
        let response = self.call(&request, 2).await?;
        let message = |text: Option<StrBytes>| text.map(|m| m.to_string());
        if let Err(refused) = refusal(response.error_code, message(response.error_message)) {
            return Ok(Err(refused));
        }
        let Some(answer) = response.topics.into_iter().next().and_then(|t| t.partitions.into_iter().next()) else {
            return Ok(Err(Refusal { code: UNKNOWN_TOPIC_OR_PARTITION, message: String::new() }));
        };
        if let Err(refused) = refusal(answer.error_code, message(answer.error_message.clone())) {
            return Ok(Err(refused));
        }
        let replica = |state: &kafka_protocol::messages::describe_quorum_response::ReplicaState| {
            // -1 is "unknown" on the wire; the admin client turns it into an empty OptionalLong.
            let known = |ms: i64| (ms >= 0).then_some(ms);
            ReplicaState {
                replica_id: state.replica_id.0,
                directory_id: (!state.replica_directory_id.is_nil())
                    .then(|| kafka_uuid_text(&state.replica_directory_id)),
                log_end_offset: state.log_end_offset,
                last_fetch_timestamp_ms: known(state.last_fetch_timestamp),
                last_caught_up_timestamp_ms: known(state.last_caught_up_timestamp),
            }
        };
        let nodes = response
            .nodes
            .iter()
            .map(|node| QuorumNode {
                node_id: node.node_id.0,
                endpoints: node.listeners.iter().map(|l| (l.name.to_string(), l.host.to_string(), l.port)).collect(),
            })
            .collect();
        let mut metadata = MetadataRequest::default();
        metadata.topics = Some(Vec::new());
        metadata.allow_auto_topic_creation = false;
        let cluster_id = self.call(&metadata, 12).await?.cluster_id.map_or_else(String::new, |id| id.to_string());
        Ok(Ok(QuorumInfo {
            cluster_id,
            leader_id: answer.leader_id.0,
            leader_epoch: answer.leader_epoch,
            high_watermark: answer.high_watermark,
            voters: answer.current_voters.iter().map(replica).collect(),
            observers: answer.observers.iter().map(replica).collect(),
            nodes,
        }))
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

    /// Every topic with its partitions, in one Metadata request, sorted by name.
    pub async fn cluster_topics(&self) -> Result<Vec<ClusterTopic>, KafkaError> {
        let mut request = MetadataRequest::default();
        request.topics = None;
        request.allow_auto_topic_creation = false;
        let response = self.call(&request, 12).await?;
        let mut topics: Vec<ClusterTopic> = response
            .topics
            .into_iter()
            .filter(|t| t.error_code == 0)
            .filter_map(|t| {
                let name = t.name?.0.to_string();
                let mut partitions: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
                partitions.sort_unstable();
                Some(ClusterTopic { name, internal: t.is_internal, partitions })
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// `(log start offset, log end offset)` of many partitions in two ListOffsets requests
    /// (earliest, then latest). Partitions the broker does not know are left out.
    pub async fn log_offsets(
        &self,
        partitions: &BTreeMap<String, Vec<i32>>,
    ) -> Result<BTreeMap<(String, i32), (i64, i64)>, KafkaError> {
        if partitions.values().all(Vec::is_empty) {
            return Ok(BTreeMap::new());
        }
        let ask = |timestamp: i64| {
            let mut request = ListOffsetsRequest::default();
            request.replica_id = BrokerId(-1);
            // Kafka refuses a topic named twice in one request: one entry per topic.
            request.topics = partitions
                .iter()
                .filter(|(_, indexes)| !indexes.is_empty())
                .map(|(topic, indexes)| {
                    let mut list_topic = ListOffsetsTopic::default();
                    list_topic.name = topic_name(topic);
                    list_topic.partitions = indexes
                        .iter()
                        .map(|&index| {
                            let mut requested = ListOffsetsPartition::default();
                            requested.partition_index = index;
                            requested.timestamp = timestamp;
                            requested.current_leader_epoch = -1;
                            requested
                        })
                        .collect();
                    list_topic
                })
                .collect();
            request
        };
        let answers = |response: kafka_protocol::messages::ListOffsetsResponse| {
            response
                .topics
                .into_iter()
                .flat_map(|t| {
                    let topic = t.name.0.to_string();
                    t.partitions
                        .into_iter()
                        .filter(|p| p.error_code == 0)
                        .map(move |p| ((topic.clone(), p.partition_index), p.offset.max(0)))
                })
                .collect::<BTreeMap<(String, i32), i64>>()
        };
        let earliest = answers(self.call(&ask(-2), 7).await?);
        let latest = answers(self.call(&ask(-1), 7).await?);
        Ok(earliest.into_iter().filter_map(|(key, start)| latest.get(&key).map(|&end| (key, (start, end)))).collect())
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
        let result = response.topics.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    pub async fn delete_topic(&self, name: &str) -> Result<Result<(), Refusal>, KafkaError> {
        let mut request = kafka_protocol::messages::DeleteTopicsRequest::default();
        request.topic_names = vec![topic_name(name)];
        request.timeout_ms = 30_000;
        let response = self.call(&request, 5).await?;
        let result = response.responses.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    pub async fn create_partitions(&self, name: &str, count: i32) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::CreatePartitionsRequest;
        use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
        let mut topic = CreatePartitionsTopic::default();
        topic.name = topic_name(name);
        topic.count = count;
        let mut request = CreatePartitionsRequest::default();
        request.topics = vec![topic];
        request.timeout_ms = 30_000;
        let response = self.call(&request, 3).await?;
        let result = response.results.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    /// IncrementalAlterConfigs on a topic: set these, delete those (back to defaults).
    pub async fn alter_topic_configs(
        &self,
        name: &str,
        set: &[(String, String)],
        delete: &[String],
    ) -> Result<Result<(), Refusal>, KafkaError> {
        use kafka_protocol::messages::IncrementalAlterConfigsRequest;
        use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
        let config = |key: &str, operation: i8, value: Option<&str>| {
            let mut config = AlterableConfig::default();
            config.name = StrBytes::from_string(key.to_owned());
            config.config_operation = operation;
            config.value = value.map(|v| StrBytes::from_string(v.to_owned()));
            config
        };
        let mut resource = AlterConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = StrBytes::from_string(name.to_owned());
        resource.configs =
            set.iter().map(|(k, v)| config(k, 0, Some(v))).chain(delete.iter().map(|k| config(k, 1, None))).collect();
        let mut request = IncrementalAlterConfigsRequest::default();
        request.resources = vec![resource];
        let response = self.call(&request, 1).await?;
        let result = response.responses.into_iter().next().ok_or(KafkaError::Broker(-1))?;
        Ok(refusal(result.error_code, result.error_message.map(|m| m.to_string())))
    }

    /// Produces records as the Java producer would place them: a keyed record goes to
    /// `murmur2(key) % partitions`; unkeyed records all go to one partition per call (the
    /// sticky partitioner of KIP-480 fills a batch before moving on). Returns each record's
    /// (partition, offset).
    pub async fn produce(
        &self,
        topic: &str,
        records: &[ProducerRecord],
        acks: i16,
    ) -> Result<Result<Vec<(i32, i64)>, Refusal>, KafkaError> {
        use kafka_protocol::messages::ProduceRequest;
        use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
        let Some(info) = self.topic(topic).await? else {
            return Ok(Err(Refusal {
                code: UNKNOWN_TOPIC_OR_PARTITION,
                message: format!("Topic {topic} not present in metadata"),
            }));
        };
        let count = i32::try_from(info.partitions.len()).unwrap_or(1).max(1);
        let sticky = i32::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()),
        )
        .unwrap_or(0)
            % count;
        let mut by_partition: BTreeMap<i32, Vec<(usize, &ProducerRecord)>> = BTreeMap::new();
        for (index, record) in records.iter().enumerate() {
            let partition = record.0.as_ref().map_or(sticky, |key| partition_for_key(key.as_bytes(), count));
            by_partition.entry(partition).or_default().push((index, record));
        }
        let now = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis()),
        )
        .unwrap_or(0);
        let mut placed = vec![(0, -1); records.len()];
        for (partition, batch_records) in by_partition {
            let encoded = encode_batch(batch_records.iter().map(|(_, r)| *r), now)?;
            let mut data = PartitionProduceData::default();
            data.index = partition;
            data.records = Some(encoded);
            let mut topic_data = TopicProduceData::default();
            topic_data.name = topic_name(topic);
            topic_data.partition_data = vec![data];
            let mut request = ProduceRequest::default();
            request.acks = acks;
            request.timeout_ms = 30_000;
            request.topic_data = vec![topic_data];
            if acks == 0 {
                // No answer comes (the protocol guide: "the server will not send any response"),
                // so there are no offsets to report either: -1, as Kafka's RecordMetadata has then.
                self.send_without_response(&request, 9).await?;
                for (index, _) in &batch_records {
                    placed[*index] = (partition, -1);
                }
                continue;
            }
            let response = self.call(&request, 9).await?;
            let answer = response.responses.into_iter().next().and_then(|t| t.partition_responses.into_iter().next());
            let Some(answer) = answer else { return Err(KafkaError::Broker(-1)) };
            if answer.error_code != 0 {
                return Ok(Err(Refusal {
                    code: answer.error_code,
                    message: answer
                        .error_message
                        .map_or_else(|| format!("error code {}", answer.error_code), |m| m.to_string()),
                }));
            }
            for (i, (index, _)) in batch_records.iter().enumerate() {
                placed[*index] = (partition, answer.base_offset + i64::try_from(i).unwrap_or(0));
            }
        }
        Ok(Ok(placed))
    }
}

fn refusal(code: i16, message: Option<String>) -> Result<(), Refusal> {
    if code == 0 {
        Ok(())
    } else {
        Err(Refusal { code, message: message.unwrap_or_else(|| format!("error code {code}")) })
    }
}

/// One uncompressed record batch.
fn encode_batch<'a>(
    records: impl Iterator<Item = &'a ProducerRecord>,
    now_ms: i64,
) -> Result<bytes::Bytes, KafkaError> {
    use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};
    let records: Vec<Record> = records
        .enumerate()
        .map(|(i, (key, value))| {
            let i = i64::try_from(i).unwrap_or(0);
            Record {
                transactional: false,
                control: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i,
                // The encoder keeps records in one batch only while offset - sequence is constant.
                sequence: i32::try_from(i).unwrap_or(0) - 1,
                timestamp: now_ms,
                key: key.as_ref().map(|k| bytes::Bytes::copy_from_slice(k.as_bytes())),
                value: value.as_ref().map(|v| bytes::Bytes::copy_from_slice(v.as_bytes())),
                headers: Default::default(),
                delete_horizon: false,
            }
        })
        .collect();
    let mut out = bytes::BytesMut::new();
    RecordBatchEncoder::encode(&mut out, &records, &RecordEncodeOptions { version: 2, compression: Compression::None })
        .map_err(|e| KafkaError::Client(ClientError::Codec(e.to_string())))?;
    Ok(out.freeze())
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_owned()))
}
