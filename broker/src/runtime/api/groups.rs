//! Consumer groups: FindCoordinator (10), JoinGroup (11), Heartbeat (12), LeaveGroup (13),
//! SyncGroup (14), DescribeGroups (15), ListGroups (16), OffsetCommit (8), OffsetFetch (9),
//! DeleteGroups (42). The protocol lives in [`crate::core::group`]; this is its wire side.
//!
//! Version shapes the codec enforces: FindCoordinator v4+ answers in `coordinators`, OffsetFetch
//! v8+ in `groups`, LeaveGroup v3+ per member.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::*;

use super::{Reply as Pending, RequestContext, authorized_operations, str_bytes, topic_name};
use crate::core::ErrorCode;
use crate::core::group::{CommittedOffset, JoinGroup, Reply, SyncGroup};
use crate::runtime::broker::BrokerHandle;
use crate::runtime::cluster::{Cluster, now_ms};
use crate::runtime::offsets::OffsetRecord;

pub(super) fn find_coordinator(
    cluster: &Arc<Cluster>,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let mut response = FindCoordinatorResponse::default();
    // One coordinator serves every group, through any broker; clients are sent to the first
    // running broker, and find the next one when it stops.
    let Some(broker) = cluster.first_running_broker() else {
        response.error_code = ErrorCode::CoordinatorNotAvailable.code();
        response.node_id = BrokerId(-1);
        response.host = str_bytes("");
        response.port = -1;
        if version >= 4 {
            response.coordinators = request
                .coordinator_keys
                .into_iter()
                .map(|key| {
                    let mut coordinator = Coordinator::default();
                    coordinator.key = key;
                    coordinator.node_id = BrokerId(-1);
                    coordinator.host = str_bytes("");
                    coordinator.port = -1;
                    coordinator.error_code = ErrorCode::CoordinatorNotAvailable.code();
                    coordinator
                })
                .collect();
        }
        return response;
    };
    let (host, port) = broker.advertised();
    if version >= 4 {
        response.coordinators = request
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let mut coordinator = Coordinator::default();
                coordinator.key = key;
                coordinator.node_id = BrokerId(broker.id);
                coordinator.host = str_bytes(host.clone());
                coordinator.port = i32::from(port);
                coordinator
            })
            .collect();
    } else {
        response.node_id = BrokerId(broker.id);
        response.host = str_bytes(host);
        response.port = i32::from(port);
    }
    response
}

pub(super) fn join_group(
    cluster: &Arc<Cluster>,
    request: JoinGroupRequest,
    version: i16,
    context: RequestContext,
) -> Pending {
    let join = JoinGroup {
        group_id: request.group_id.0.to_string(),
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|i| i.to_string()),
        client_id: context.client_id,
        client_host: context.client_host,
        session_timeout_ms: request.session_timeout_ms,
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout_ms: if version >= 1 { request.rebalance_timeout_ms } else { request.session_timeout_ms },
        protocol_type: request.protocol_type.to_string(),
        protocols: request.protocols.into_iter().map(|p| (p.name.to_string(), p.metadata.to_vec())).collect(),
        // KIP-394: from v4 a new member first gets MEMBER_ID_REQUIRED and its id.
        require_known_member_id: version >= 4,
        supports_skip_assignment: version >= 9,
    };
    let now = now_ms();
    let receiver = cluster.groups.call(|coordinator, id| coordinator.join_group(now, id, join));
    Box::pin(async move {
        let Ok(Reply::Join(_, result)) = receiver.await else { return None };
        let mut response = JoinGroupResponse::default();
        response.error_code = result.error.code();
        response.generation_id = result.generation_id;
        response.protocol_type = result.protocol_type.map(str_bytes);
        response.protocol_name = Some(str_bytes(result.protocol_name.unwrap_or_default()));
        response.leader = str_bytes(result.leader_id);
        response.member_id = str_bytes(result.member_id);
        response.skip_assignment = result.skip_assignment;
        response.members = result
            .members
            .into_iter()
            .map(|(member_id, group_instance_id, metadata)| {
                let mut member = JoinGroupResponseMember::default();
                member.member_id = str_bytes(member_id);
                member.group_instance_id = group_instance_id.map(str_bytes);
                member.metadata = Bytes::from(metadata);
                member
            })
            .collect();
        Some(ResponseKind::JoinGroup(response))
    })
}

pub(super) fn sync_group(cluster: &Arc<Cluster>, request: SyncGroupRequest) -> Pending {
    let sync = SyncGroup {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.map(|i| i.to_string()),
        protocol_type: request.protocol_type.map(|p| p.to_string()),
        protocol_name: request.protocol_name.map(|p| p.to_string()),
        assignments: request
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment.to_vec()))
            .collect(),
    };
    let now = now_ms();
    let receiver = cluster.groups.call(|coordinator, id| coordinator.sync_group(now, id, sync));
    Box::pin(async move {
        let Ok(Reply::Sync(_, result)) = receiver.await else { return None };
        let mut response = SyncGroupResponse::default();
        response.error_code = result.error.code();
        // SyncGroup v5 echoes the protocol; librdkafka checks it.
        response.protocol_type = result.protocol_type.map(str_bytes);
        response.protocol_name = result.protocol_name.map(str_bytes);
        response.assignment = Bytes::from(result.assignment);
        Some(ResponseKind::SyncGroup(response))
    })
}

pub(super) fn heartbeat(cluster: &Arc<Cluster>, request: HeartbeatRequest) -> HeartbeatResponse {
    let error = cluster.groups.coordinator().heartbeat(
        now_ms(),
        request.group_id.0.as_str(),
        request.generation_id,
        request.member_id.as_str(),
        request.group_instance_id.as_deref(),
    );
    let mut response = HeartbeatResponse::default();
    response.error_code = error.code();
    response
}

pub(super) fn leave_group(cluster: &Arc<Cluster>, request: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
    // v0-2 name one member; v3+ a batch, each by member id and/or group.instance.id (KIP-345).
    let members: Vec<(String, Option<String>)> = if version >= 3 {
        request
            .members
            .iter()
            .map(|m| (m.member_id.to_string(), m.group_instance_id.as_ref().map(|i| i.to_string())))
            .collect()
    } else {
        vec![(request.member_id.to_string(), None)]
    };
    let (results, replies) = cluster.groups.coordinator().leave_group(now_ms(), request.group_id.0.as_str(), &members);
    cluster.groups.deliver(replies);
    let mut response = LeaveGroupResponse::default();
    if version >= 3 {
        response.members = members
            .iter()
            .zip(&results)
            .zip(&request.members)
            .map(|(((member_id, _), error), identity)| {
                let mut member = MemberResponse::default();
                member.member_id = str_bytes(member_id.clone());
                member.group_instance_id = identity.group_instance_id.clone();
                member.error_code = error.code();
                member
            })
            .collect();
    } else {
        response.error_code = results.first().copied().unwrap_or(ErrorCode::UnknownMemberId).code();
    }
    response
}

pub(super) fn offset_commit(
    cluster: &Arc<Cluster>,
    broker: &BrokerHandle,
    request: OffsetCommitRequest,
    version: i16,
) -> Pending {
    let group_id = request.group_id.0.to_string();
    let now = now_ms();
    let checked = cluster
        .groups
        .coordinator()
        .check_commit(
            now,
            &group_id,
            request.generation_id_or_member_epoch,
            request.member_id.as_str(),
            request.group_instance_id.as_deref(),
        )
        // A generation for a group nobody joined: Kafka answers GROUP_ID_NOT_FOUND from v9 on
        // and ILLEGAL_GENERATION before, as it always had (`OffsetMetadataManager.validateOffsetCommit`).
        .map_err(|error| match error {
            ErrorCode::GroupIdNotFound if version < 9 => ErrorCode::IllegalGeneration,
            error => error,
        });
    let mut records = Vec::new();
    let mut topics = Vec::new();
    for topic in request.topics {
        let name = topic.name.0.to_string();
        let partition_count =
            broker.with_node(|node| node.image.topics.get(&name).map_or(0, |t| t.partitions.len())).unwrap_or(0);
        let mut partitions = Vec::new();
        for partition in topic.partitions {
            let exists = usize::try_from(partition.partition_index).is_ok_and(|p| p < partition_count);
            let error = match checked {
                Err(error) => error,
                Ok(()) if !exists => ErrorCode::UnknownTopicOrPartition,
                Ok(()) => {
                    records.push(OffsetRecord::Commit {
                        group: group_id.clone(),
                        topic: name.clone(),
                        partition: partition.partition_index,
                        offset: partition.committed_offset,
                        leader_epoch: partition.committed_leader_epoch,
                        metadata: partition.committed_metadata.as_ref().map(|m| m.to_string()),
                        timestamp_ms: now,
                    });
                    ErrorCode::None
                }
            };
            let mut answer = OffsetCommitResponsePartition::default();
            answer.partition_index = partition.partition_index;
            answer.error_code = error.code();
            partitions.push(answer);
        }
        let mut topic_response = OffsetCommitResponseTopic::default();
        topic_response.name = topic.name;
        topic_response.partitions = partitions;
        topics.push(topic_response);
    }
    let round = if records.is_empty() {
        None
    } else {
        match cluster.groups.append(&records) {
            Ok(()) => {
                let mut coordinator = cluster.groups.coordinator();
                for record in records {
                    crate::runtime::offsets::apply(&mut coordinator, record);
                }
                Some(cluster.mark_offsets_dirty())
            }
            Err(error) => {
                tracing::error!(%error, group = %group_id, "cannot write committed offsets");
                for topic in &mut topics {
                    for partition in &mut topic.partitions {
                        if partition.error_code == 0 {
                            partition.error_code = ErrorCode::CoordinatorNotAvailable.code();
                        }
                    }
                }
                None
            }
        }
    };
    let cluster = cluster.clone();
    Box::pin(async move {
        if let Some(round) = round {
            cluster.durable(round).await;
        }
        let mut response = OffsetCommitResponse::default();
        response.topics = topics;
        Some(ResponseKind::OffsetCommit(response))
    })
}

/// One topic's committed offsets: `(partition, offset if committed)`.
type TopicOffsets = (String, Vec<(i32, Option<CommittedOffset>)>);

/// The committed offsets of one group: `(topic, partitions)` asked for, or all it has.
fn fetch_group_offsets(
    cluster: &Cluster,
    group_id: &str,
    wanted: Option<Vec<(String, Vec<i32>)>>,
) -> Vec<TopicOffsets> {
    let coordinator = cluster.groups.coordinator();
    match wanted {
        Some(topics) => topics
            .into_iter()
            .map(|(topic, partitions)| {
                let offsets = partitions
                    .into_iter()
                    .map(|p| (p, coordinator.committed_offset(group_id, &topic, p).cloned()))
                    .collect();
                (topic, offsets)
            })
            .collect(),
        None => {
            let mut by_topic: Vec<TopicOffsets> = Vec::new();
            if let Some(group) = coordinator.group(group_id) {
                for ((topic, partition), committed) in &group.offsets {
                    match by_topic.last_mut() {
                        Some((last, offsets)) if last == topic => offsets.push((*partition, Some(committed.clone()))),
                        _ => by_topic.push((topic.clone(), vec![(*partition, Some(committed.clone()))])),
                    }
                }
            }
            by_topic
        }
    }
}

pub(super) fn offset_fetch(cluster: &Arc<Cluster>, request: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
    let mut response = OffsetFetchResponse::default();
    if version >= 8 {
        for group in request.groups {
            let wanted = group
                .topics
                .map(|topics| topics.into_iter().map(|t| (t.name.0.to_string(), t.partition_indexes)).collect());
            let mut result = OffsetFetchResponseGroup::default();
            result.topics = fetch_group_offsets(cluster, group.group_id.0.as_str(), wanted)
                .into_iter()
                .map(|(topic, offsets)| {
                    let mut topic_response = OffsetFetchResponseTopics::default();
                    topic_response.name = topic_name(topic);
                    topic_response.partitions = offsets
                        .into_iter()
                        .map(|(partition, committed)| {
                            let mut answer = OffsetFetchResponsePartitions::default();
                            answer.partition_index = partition;
                            answer.committed_offset = committed.as_ref().map_or(-1, |c| c.offset);
                            answer.committed_leader_epoch = committed.as_ref().map_or(-1, |c| c.leader_epoch);
                            answer.metadata = Some(str_bytes(committed.and_then(|c| c.metadata).unwrap_or_default()));
                            answer
                        })
                        .collect();
                    topic_response
                })
                .collect();
            result.group_id = group.group_id;
            response.groups.push(result);
        }
    } else {
        let wanted = request
            .topics
            .map(|topics| topics.into_iter().map(|t| (t.name.0.to_string(), t.partition_indexes)).collect());
        response.topics = fetch_group_offsets(cluster, request.group_id.0.as_str(), wanted)
            .into_iter()
            .map(|(topic, offsets)| {
                let mut topic_response = OffsetFetchResponseTopic::default();
                topic_response.name = topic_name(topic);
                topic_response.partitions = offsets
                    .into_iter()
                    .map(|(partition, committed)| {
                        let mut answer = OffsetFetchResponsePartition::default();
                        answer.partition_index = partition;
                        answer.committed_offset = committed.as_ref().map_or(-1, |c| c.offset);
                        if version >= 5 {
                            answer.committed_leader_epoch = committed.as_ref().map_or(-1, |c| c.leader_epoch);
                        }
                        answer.metadata = Some(str_bytes(committed.and_then(|c| c.metadata).unwrap_or_default()));
                        answer
                    })
                    .collect();
                topic_response
            })
            .collect();
    }
    response
}

pub(super) fn list_groups(cluster: &Arc<Cluster>, request: ListGroupsRequest) -> ListGroupsResponse {
    let coordinator = cluster.groups.coordinator();
    let mut response = ListGroupsResponse::default();
    response.groups = coordinator
        .groups()
        .filter(|g| {
            request.states_filter.is_empty()
                || request.states_filter.iter().any(|s| s.as_str().eq_ignore_ascii_case(g.state.name()))
        })
        // Every group here is a classic group (KIP-848 consumer groups are not implemented).
        .filter(|_| {
            request.types_filter.is_empty()
                || request.types_filter.iter().any(|t| t.as_str().eq_ignore_ascii_case("classic"))
        })
        .map(|g| {
            let mut listed = ListedGroup::default();
            listed.group_id = GroupId(str_bytes(g.group_id.clone()));
            listed.protocol_type = str_bytes(g.protocol_type.clone().unwrap_or_else(|| "consumer".into()));
            listed.group_state = str_bytes(g.state.name());
            listed.group_type = str_bytes("classic");
            listed
        })
        .collect();
    response
}

pub(super) fn describe_groups(cluster: &Arc<Cluster>, request: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let coordinator = cluster.groups.coordinator();
    let mut response = DescribeGroupsResponse::default();
    for group_id in request.groups {
        let mut described = DescribedGroup::default();
        described.authorized_operations = authorized_operations::group(request.include_authorized_operations);
        match coordinator.group(group_id.0.as_str()) {
            // Kafka describes an unknown group as Dead, without an error.
            None => described.group_state = str_bytes("Dead"),
            Some(group) => {
                described.group_state = str_bytes(group.state.name());
                described.protocol_type = str_bytes(group.protocol_type.clone().unwrap_or_default());
                described.protocol_data = str_bytes(group.protocol_name.clone().unwrap_or_default());
                let protocol = group.protocol_name.clone().unwrap_or_default();
                described.members = group
                    .members
                    .values()
                    .map(|m| {
                        let mut member = DescribedGroupMember::default();
                        member.member_id = str_bytes(m.member_id.clone());
                        member.group_instance_id = m.group_instance_id.clone().map(str_bytes);
                        member.client_id = str_bytes(m.client_id.clone());
                        member.client_host = str_bytes(m.client_host.clone());
                        member.member_metadata = Bytes::from(
                            m.protocols
                                .iter()
                                .find(|(n, _)| *n == protocol)
                                .map(|(_, meta)| meta.clone())
                                .unwrap_or_default(),
                        );
                        member.member_assignment = Bytes::from(m.assignment.clone());
                        member
                    })
                    .collect();
            }
        }
        described.group_id = group_id;
        response.groups.push(described);
    }
    response
}

pub(super) fn delete_groups(cluster: &Arc<Cluster>, request: DeleteGroupsRequest) -> Pending {
    let mut results = Vec::new();
    let mut records = Vec::new();
    for group_id in request.groups_names {
        let error = cluster.groups.coordinator().delete_group(group_id.0.as_str());
        if error.is_ok() {
            records.push(OffsetRecord::DeleteGroup { group: group_id.0.to_string() });
        }
        let mut result = DeletableGroupResult::default();
        result.group_id = group_id;
        result.error_code = error.code();
        results.push(result);
    }
    let round = if records.is_empty() {
        None
    } else if let Err(error) = cluster.groups.append(&records) {
        tracing::error!(%error, "cannot record deleted groups");
        None
    } else {
        Some(cluster.mark_offsets_dirty())
    };
    let cluster = cluster.clone();
    Box::pin(async move {
        if let Some(round) = round {
            cluster.durable(round).await;
        }
        let mut response = DeleteGroupsResponse::default();
        response.results = results;
        Some(ResponseKind::DeleteGroups(response))
    })
}
