//! `kafka-consumer-groups`: list, describe (offsets, members, state), reset offsets and delete,
//! through ListGroups, DescribeGroups, OffsetFetch, ListOffsets, OffsetCommit and DeleteGroups.

use std::collections::BTreeMap;

use broker::core::ErrorCode;

use super::{ToolOutput, ToolResult};
use crate::console::format::{
    self, CoordinatorView, GroupDescription, GroupMember, GroupMembers, GroupOffsetRow, GroupResetPlan,
    GroupStateDescription, GroupStateView,
};
use crate::console::parse::{
    DescribeView, GroupSelection, GroupsDelete, GroupsDescribe, GroupsResetOffsets, ResetScope, ResetSpec,
};
use crate::kafka::{CommittedOffset, GroupDetail, Kafka, KafkaError};

/// `--list`: every group id.
pub(super) async fn list(kafka: &Kafka) -> ToolResult {
    let names: Vec<String> = kafka.list_groups().await?.into_iter().map(|listed| listed.group_id).collect();
    Ok(ToolOutput::Success(format::groups_list(&names)))
}

/// `--describe` in the chosen view.
pub(super) async fn describe(kafka: &Kafka, describe: &GroupsDescribe) -> ToolResult {
    let names = selected(kafka, &describe.groups).await?;
    if describe.view == DescribeView::Offsets {
        let mut descriptions = Vec::new();
        for group in names {
            descriptions.push(describe_offsets(kafka, &group).await?);
        }
        return Ok(ToolOutput::Success(format::groups_describe_offsets(&descriptions, describe.verbose)));
    }
    let mut details = Vec::new();
    for group in names {
        let detail = kafka.group_members(&group).await?;
        details.push((group, detail));
    }
    Ok(ToolOutput::Success(if describe.view == DescribeView::Members {
        format::groups_describe_members(&members_view(&details), describe.verbose)
    } else {
        format::groups_describe_state(&state_view(kafka, &details), describe.verbose)
    }))
}

/// `--delete`: succeeds only if every group was deleted, as the real tool.
pub(super) async fn delete(kafka: &Kafka, delete: &GroupsDelete) -> ToolResult {
    let names = selected(kafka, &delete.groups).await?;
    let results = kafka.delete_groups(&names).await?;
    let deleted: Vec<String> = results.iter().filter(|r| r.error_code == 0).map(|r| r.group_id.clone()).collect();
    let failed: Vec<(String, String)> = results
        .iter()
        .filter(|r| r.error_code != 0)
        .map(|r| {
            let reason = match ErrorCode::from_code(r.error_code) {
                Some(ErrorCode::NonEmptyGroup) => "The group is not empty.".to_owned(),
                Some(ErrorCode::GroupIdNotFound) => "The group id does not exist.".to_owned(),
                _ => format!("error code {}", r.error_code),
            };
            (r.group_id.clone(), reason)
        })
        .collect();
    let printed = format::groups_deleted(&deleted, &failed);
    Ok(if failed.is_empty() { ToolOutput::Success(printed) } else { ToolOutput::Failure(printed) })
}

/// The groups named, or every group for `--all-groups`.
async fn selected(kafka: &Kafka, selection: &GroupSelection) -> Result<Vec<String>, KafkaError> {
    Ok(match selection {
        GroupSelection::Groups(groups) => groups.clone(),
        GroupSelection::AllGroups => kafka.list_groups().await?.into_iter().map(|listed| listed.group_id).collect(),
    })
}

/// A described group's state as the tools print it (`Dead` if it does not exist).
fn state_of(detail: &Option<GroupDetail>) -> GroupStateView {
    detail.as_ref().map_or(GroupStateView::Dead, |d| GroupStateView::parse(&d.state).unwrap_or(GroupStateView::Unknown))
}

/// `--members`: each member with the partitions it was assigned.
fn members_view(details: &[(String, Option<GroupDetail>)]) -> Vec<GroupMembers> {
    details
        .iter()
        .map(|(group, detail)| GroupMembers {
            group: group.clone(),
            state: state_of(detail),
            members: detail
                .iter()
                .flat_map(|d| &d.members)
                .map(|m| GroupMember {
                    consumer_id: m.member_id.clone(),
                    group_instance_id: None,
                    host: m.host.clone(),
                    client_id: m.client_id.clone(),
                    assignment: m
                        .assignment
                        .iter()
                        .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
                        .collect(),
                    target_assignment: Vec::new(),
                    member_epoch: None,
                })
                .collect(),
            target_assignment_epoch: None,
        })
        .collect()
}

/// `--state`: coordinator, assignor, state and member count. The one broker coordinates every group.
fn state_view(kafka: &Kafka, details: &[(String, Option<GroupDetail>)]) -> Vec<GroupStateDescription> {
    let coordinator =
        CoordinatorView { id: 1, host: kafka.bootstrap().ip().to_string(), port: i32::from(kafka.bootstrap().port()) };
    details
        .iter()
        .map(|(group, detail)| GroupStateDescription {
            group: group.clone(),
            coordinator: coordinator.clone(),
            assignment_strategy: detail.as_ref().map(|d| d.protocol.clone()).unwrap_or_default(),
            state: state_of(detail),
            members: detail.as_ref().map_or(0, |d| d.members.len()),
            group_epoch: None,
            target_assignment_epoch: None,
        })
        .collect()
}

/// The offsets view of `kafka-consumer-groups --describe`: a row per partition a member owns,
/// then per committed partition no member owns, with lag.
async fn describe_offsets(kafka: &Kafka, group: &str) -> Result<GroupDescription, KafkaError> {
    let Some(detail) = kafka.group_members(group).await? else {
        return Ok(GroupDescription { group: group.to_owned(), state: GroupStateView::Dead, rows: Vec::new() });
    };
    let (state, mut members) = (detail.state, detail.members);
    let committed = kafka.all_committed_offsets(group).await?;
    let committed_at = |topic: &str, partition: i32| {
        committed.iter().find(|c| c.topic == topic && c.partition == partition).map(|c| c.offset)
    };
    let mut rows = Vec::new();
    let mut owned = Vec::new();
    // The real tool lists members with the most partitions first.
    members.sort_by_key(|m| std::cmp::Reverse(m.assignment.iter().map(|(_, p)| p.len()).sum::<usize>()));
    for member in &members {
        let mut assigned: Vec<(String, i32)> =
            member.assignment.iter().flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p))).collect();
        assigned.sort();
        for (topic, partition) in assigned {
            let end = kafka.offsets(&topic, partition).await?.map(|o| o.log_end_offset);
            rows.push(GroupOffsetRow {
                group: group.to_owned(),
                topic: Some(topic.clone()),
                partition: Some(partition),
                leader_epoch: None,
                current_offset: committed_at(&topic, partition),
                log_end_offset: end,
                consumer_id: Some(member.member_id.clone()),
                host: Some(member.host.clone()),
                client_id: Some(member.client_id.clone()),
            });
            owned.push((topic, partition));
        }
    }
    let mut unowned: Vec<&CommittedOffset> =
        committed.iter().filter(|c| !owned.contains(&(c.topic.clone(), c.partition))).collect();
    unowned.sort();
    for unowned in unowned {
        let end = kafka.offsets(&unowned.topic, unowned.partition).await?.map(|o| o.log_end_offset);
        rows.push(GroupOffsetRow {
            group: group.to_owned(),
            topic: Some(unowned.topic.clone()),
            partition: Some(unowned.partition),
            leader_epoch: None,
            current_offset: Some(unowned.offset),
            log_end_offset: end,
            consumer_id: None,
            host: None,
            client_id: None,
        });
    }
    Ok(GroupDescription {
        group: group.to_owned(),
        state: GroupStateView::parse(&state).unwrap_or(GroupStateView::Unknown),
        rows,
    })
}

/// `--reset-offsets`: a plan (dry run, the default) or its execution. As in Kafka, only an
/// inactive group may be reset.
pub(super) async fn reset_offsets(kafka: &Kafka, reset: &GroupsResetOffsets) -> ToolResult {
    let names = selected(kafka, &reset.groups).await?;
    let mut plans = Vec::new();
    for group in names {
        if let Some(detail) = kafka.group_members(&group).await?
            && !detail.members.is_empty()
        {
            let state = detail.state;
            return Ok(ToolOutput::Failure(format!(
                "\nError: Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}.\n"
            )));
        }
        let committed = kafka.all_committed_offsets(&group).await?;
        let targets: Vec<(String, i32)> = match &reset.scope {
            ResetScope::AllTopics => committed.iter().map(|c| (c.topic.clone(), c.partition)).collect(),
            ResetScope::Topics(topics) => {
                let mut targets = Vec::new();
                for topic in topics {
                    let Some(info) = kafka.topic(&topic.topic).await? else { continue };
                    for partition in info.partitions.iter().map(|p| p.partition) {
                        if topic.partitions.as_ref().is_none_or(|wanted| wanted.contains(&partition)) {
                            targets.push((topic.topic.clone(), partition));
                        }
                    }
                }
                targets
            }
        };
        let mut offsets = Vec::new();
        for (topic, partition) in targets {
            let Some(range) = kafka.offsets(&topic, partition).await? else { continue };
            let (start, end) = (range.log_start_offset, range.log_end_offset);
            let current = committed.iter().find(|c| c.topic == topic && c.partition == partition).map(|c| c.offset);
            let wanted = match reset.to {
                ResetSpec::Earliest => start,
                ResetSpec::Latest => end,
                ResetSpec::Current => current.unwrap_or(end),
                ResetSpec::Offset(offset) => offset,
                ResetSpec::ShiftBy(n) => current.unwrap_or(end).saturating_add(n),
                ResetSpec::Datetime { timestamp_ms } => {
                    kafka.offset_at(&topic, partition, timestamp_ms).await?.unwrap_or(end)
                }
                ResetSpec::ByDuration { duration_ms } => {
                    let now = crate::progress::now_ms();
                    kafka.offset_at(&topic, partition, now - duration_ms).await?.unwrap_or(end)
                }
            };
            // Kafka clamps a reset into the partition's range.
            offsets.push((topic, partition, wanted.clamp(start, end)));
        }
        if reset.execute {
            let mut by_topic: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
            for (topic, partition, offset) in &offsets {
                by_topic.entry(topic.clone()).or_default().push((*partition, *offset));
            }
            for (topic, partitions) in by_topic {
                if let Err(refusal) = kafka.commit_offsets(&group, &topic, &partitions).await? {
                    return Ok(ToolOutput::Failure(format!("\nError: {}\n", refusal.message)));
                }
            }
        }
        plans.push(GroupResetPlan { group, offsets });
    }
    Ok(ToolOutput::Success(format::groups_reset_offsets(&plans)))
}
