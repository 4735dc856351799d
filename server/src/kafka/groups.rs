//! Consumer groups: ListGroups, DescribeGroups (with the consumer protocol's assignment
//! decoded), OffsetFetch, OffsetCommit and DeleteGroups.

use std::collections::BTreeMap;

use bytes::Buf;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{DescribeGroupsRequest, GroupId, OffsetFetchRequest};
use kafka_protocol::protocol::StrBytes;

use super::{Kafka, KafkaError, Refusal, refusal, topic_name};

/// A group as ListGroups lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedGroup {
    pub group_id: String,
    /// The state the coordinator reports (`Stable`, `Empty`, ...).
    pub state: String,
}

/// One offset a group has committed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// DeleteGroups' answer for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDeletion {
    pub group_id: String,
    /// 0 if the group was deleted.
    pub error_code: i16,
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
    /// Every consumer group, sorted by id.
    pub async fn list_groups(&self) -> Result<Vec<ListedGroup>, KafkaError> {
        let response = self.call(&kafka_protocol::messages::ListGroupsRequest::default(), 4).await?;
        let mut groups: Vec<ListedGroup> = response
            .groups
            .into_iter()
            .map(|g| ListedGroup { group_id: g.group_id.0.to_string(), state: g.group_state.to_string() })
            .collect();
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

    /// Every committed offset of a group.
    pub async fn all_committed_offsets(&self, group: &str) -> Result<Vec<CommittedOffset>, KafkaError> {
        let mut request = OffsetFetchRequest::default();
        request.group_id = GroupId(StrBytes::from_string(group.to_owned()));
        request.topics = None;
        let response = self.call(&request, 7).await?;
        Ok(response
            .topics
            .into_iter()
            .flat_map(|t| {
                let topic = t.name.0.to_string();
                t.partitions.into_iter().filter(|p| p.committed_offset >= 0).map(move |p| CommittedOffset {
                    topic: topic.clone(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                })
            })
            .collect())
    }

    /// DeleteGroups: the outcome for each group.
    pub async fn delete_groups(&self, groups: &[String]) -> Result<Vec<GroupDeletion>, KafkaError> {
        let mut request = kafka_protocol::messages::DeleteGroupsRequest::default();
        request.groups_names = groups.iter().map(|g| GroupId(StrBytes::from_string(g.clone()))).collect();
        let response = self.call(&request, 2).await?;
        Ok(response
            .results
            .into_iter()
            .map(|r| GroupDeletion { group_id: r.group_id.0.to_string(), error_code: r.error_code })
            .collect())
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
}
