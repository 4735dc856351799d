//! `kafka-consumer-groups.sh`: `--list`, `--describe` (offsets, members, state), `--reset-offsets`,
//! `--delete` and `--delete-offsets`, as `ConsumerGroupCommand` prints them.

use std::fmt::Write as _;

use super::{MISSING, join_ids, or_missing, pad};

/// A consumer group's state (`org.apache.kafka.common.GroupState`), printed as the tools print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStateView {
    Unknown,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
    Empty,
    Assigning,
    Reconciling,
}

impl GroupStateView {
    /// `GroupState.parse`: case-insensitive; `None` for names that are not states.
    pub fn parse(name: &str) -> Option<GroupStateView> {
        const ALL: [GroupStateView; 8] = [
            GroupStateView::Unknown,
            GroupStateView::PreparingRebalance,
            GroupStateView::CompletingRebalance,
            GroupStateView::Stable,
            GroupStateView::Dead,
            GroupStateView::Empty,
            GroupStateView::Assigning,
            GroupStateView::Reconciling,
        ];
        ALL.into_iter().find(|state| state.as_str().eq_ignore_ascii_case(name.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupStateView::Unknown => "Unknown",
            GroupStateView::PreparingRebalance => "PreparingRebalance",
            GroupStateView::CompletingRebalance => "CompletingRebalance",
            GroupStateView::Stable => "Stable",
            GroupStateView::Dead => "Dead",
            GroupStateView::Empty => "Empty",
            GroupStateView::Assigning => "Assigning",
            GroupStateView::Reconciling => "Reconciling",
        }
    }
}

/// A group's protocol (`org.apache.kafka.common.GroupType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    Unknown,
    /// The JoinGroup/SyncGroup protocol.
    Classic,
    /// KIP-848's ConsumerGroupHeartbeat protocol.
    Consumer,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Unknown => "Unknown",
            GroupType::Classic => "Classic",
            GroupType::Consumer => "Consumer",
        }
    }
}

/// `--list` without `--state` or `--type`: one group id per line, in the order given.
pub fn groups_list(groups: &[String]) -> String {
    groups.iter().map(|group| format!("{group}\n")).collect()
}

/// A group in `--list --state` / `--list --type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group: String,
    pub group_type: Option<GroupType>,
    pub state: Option<GroupStateView>,
}

/// `--list --state` and/or `--type`: a table (`ConsumerGroupService.printGroupInfo`).
pub fn groups_list_table(groups: &[GroupListing], include_type: bool, include_state: bool) -> String {
    let group_width = groups.iter().map(|g| g.group.chars().count().max(15)).max().unwrap_or(15) + 10;
    let row = |id: &str, kind: &str, state: &str| {
        let mut line = pad(id, group_width);
        if include_type {
            line.push(' ');
            line.push_str(&pad(kind, 20));
        }
        if include_state {
            line.push(' ');
            line.push_str(&pad(state, 20));
        }
        line.push('\n');
        line
    };
    let mut out = row("GROUP", "TYPE", "STATE");
    for g in groups {
        out.push_str(&row(
            &g.group,
            g.group_type.unwrap_or(GroupType::Unknown).as_str(),
            g.state.unwrap_or(GroupStateView::Unknown).as_str(),
        ));
    }
    out
}

/// One row of `--describe` (offsets view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffsetRow {
    pub group: String,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    /// The committed offset's leader epoch (`--verbose` only).
    pub leader_epoch: Option<i32>,
    /// The committed offset; `None` if the group has not committed on this partition.
    pub current_offset: Option<i64>,
    pub log_end_offset: Option<i64>,
    /// `None` (printed `-`) for partitions no member owns.
    pub consumer_id: Option<String>,
    pub host: Option<String>,
    pub client_id: Option<String>,
}

impl GroupOffsetRow {
    /// `ConsumerGroupService.getLag`: log end offset minus committed offset, when both are known.
    pub fn lag(&self) -> Option<i64> {
        let offset = self.current_offset.filter(|offset| *offset != -1)?;
        self.log_end_offset.map(|end| end - offset)
    }
}

/// A group for `--describe` (offsets view): its state, and its rows in the real tool's order:
/// members with the most partitions first, each member's partitions by topic then partition,
/// then the committed partitions no member owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub group: String,
    pub state: GroupStateView,
    pub rows: Vec<GroupOffsetRow>,
}

/// `ConsumerGroupService.shouldPrintMemberState`: the line about the group's state, and whether
/// its table follows.
fn member_state(out: &mut String, group: &str, state: GroupStateView, rows: usize) -> bool {
    match state {
        GroupStateView::Dead => out.push_str(&format!("\nError: Consumer group '{group}' does not exist.\n")),
        GroupStateView::Empty => out.push_str(&format!("\nConsumer group '{group}' has no active members.\n")),
        GroupStateView::PreparingRebalance
        | GroupStateView::CompletingRebalance
        | GroupStateView::Assigning
        | GroupStateView::Reconciling => {
            out.push_str(&format!("\nWarning: Consumer group '{group}' is rebalancing.\n"))
        }
        GroupStateView::Stable => {}
        GroupStateView::Unknown => {
            out.push_str(&format!(
                "\nError: Executing consumer group command failed due to Expected a valid consumer group state, but \
                 found '{}'.\n",
                state.as_str()
            ));
            return false;
        }
    }
    state != GroupStateView::Dead && rows > 0
}

/// `--describe` / `--describe --offsets` (`ConsumerGroupService.printOffsets`): groups sorted by
/// id, each table column-aligned, a blank line before it.
pub fn groups_describe_offsets(groups: &[GroupDescription], verbose: bool) -> String {
    let mut groups: Vec<&GroupDescription> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        if !member_state(&mut out, &g.group, g.state, g.rows.len()) {
            continue;
        }
        let width = |f: &dyn Fn(&GroupOffsetRow) -> usize| g.rows.iter().map(f).fold(15, usize::max);
        let group_w = width(&|r| r.group.chars().count());
        let topic_w = width(&|r| r.topic.as_deref().unwrap_or(MISSING).chars().count());
        let consumer_w = width(&|r| r.consumer_id.as_deref().unwrap_or(MISSING).chars().count());
        let host_w = width(&|r| r.host.as_deref().unwrap_or(MISSING).chars().count());

        let line = |cells: [&str; 10]| {
            let mut line = format!("\n{} {} {} ", pad(cells[0], group_w), pad(cells[1], topic_w), pad(cells[2], 10));
            if verbose {
                line.push_str(&pad(cells[3], 15));
                line.push(' ');
            }
            line.push_str(&format!(
                "{} {} {} {} {} {}",
                pad(cells[4], 15),
                pad(cells[5], 15),
                pad(cells[6], 15),
                pad(cells[7], consumer_w),
                pad(cells[8], host_w),
                cells[9]
            ));
            line
        };
        out.push_str(&line([
            "GROUP",
            "TOPIC",
            "PARTITION",
            "LEADER-EPOCH",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID",
        ]));
        for r in &g.rows {
            let cells = [
                or_missing(r.topic.as_deref()),
                or_missing(r.partition),
                or_missing(r.leader_epoch),
                or_missing(r.current_offset),
                or_missing(r.log_end_offset),
                or_missing(r.lag()),
                or_missing(r.consumer_id.as_deref()),
                or_missing(r.host.as_deref()),
                or_missing(r.client_id.as_deref()),
            ];
            out.push_str(&line([
                &r.group, &cells[0], &cells[1], &cells[2], &cells[3], &cells[4], &cells[5], &cells[6], &cells[7],
                &cells[8],
            ]));
        }
        out.push('\n');
    }
    out
}

/// A member for `--describe --members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub consumer_id: String,
    /// Static membership's `group.instance.id`.
    pub group_instance_id: Option<String>,
    pub host: String,
    pub client_id: String,
    /// The partitions the member owns.
    pub assignment: Vec<(String, i32)>,
    /// What the coordinator wants it to own (consumer protocol; `--verbose`).
    pub target_assignment: Vec<(String, i32)>,
    /// The member's epoch (consumer protocol; `--verbose`).
    pub member_epoch: Option<i32>,
}

/// A group for `--describe --members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembers {
    pub group: String,
    pub state: GroupStateView,
    pub members: Vec<GroupMember>,
    /// The group's target assignment epoch (consumer protocol; `--verbose`).
    pub target_assignment_epoch: Option<i32>,
}

/// `orders:0,1;payments:2` (`ConsumerGroupService.getAssignmentString`).
fn assignment_string(assignment: &[(String, i32)]) -> String {
    if assignment.is_empty() {
        return MISSING.to_string();
    }
    let mut topics: Vec<&str> = assignment.iter().map(|(topic, _)| topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    let per_topic: Vec<String> = topics
        .into_iter()
        .map(|topic| {
            let mut partitions: Vec<i32> = assignment.iter().filter(|(t, _)| t == topic).map(|(_, p)| *p).collect();
            partitions.sort_unstable();
            format!("{topic}:{}", join_ids(&partitions))
        })
        .collect();
    per_topic.join(";")
}

/// `--describe --members` (`ConsumerGroupService.printMembers`). Like the real tool, the header
/// is printed even for a group that does not exist, and every line but the blank one before the
/// header ends with the column padding.
pub fn groups_describe_members(groups: &[GroupMembers], verbose: bool) -> String {
    let mut groups: Vec<&GroupMembers> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        let (mut group_w, mut consumer_w, mut instance_w, mut host_w, mut client_w) = (15, 15, 17, 15, 15);
        let (mut current_w, mut target_w) = (20, 20);
        let mut with_instance = false;
        if member_state(&mut out, &g.group, g.state, g.members.len()) {
            for m in &g.members {
                group_w = group_w.max(g.group.chars().count());
                consumer_w = consumer_w.max(m.consumer_id.chars().count());
                let instance = m.group_instance_id.as_deref().unwrap_or("");
                instance_w = instance_w.max(instance.chars().count());
                host_w = host_w.max(m.host.chars().count());
                client_w = client_w.max(m.client_id.chars().count());
                with_instance |= !instance.is_empty();
                current_w = current_w.max(assignment_string(&m.assignment).chars().count());
                target_w = target_w.max(assignment_string(&m.target_assignment).chars().count());
            }
        }
        let head = |group: &str, consumer: &str, instance: &str, host: &str, client: &str, partitions: &str| {
            let mut line = format!("{} {} ", pad(group, group_w), pad(consumer, consumer_w));
            if with_instance {
                line.push_str(&format!("{} ", pad(instance, instance_w)));
            }
            line.push_str(&format!("{} {} {} ", pad(host, host_w), pad(client, client_w), pad(partitions, 15)));
            line
        };
        let tail = |current_epoch: &str, current: &str, target_epoch: &str, target: &str| {
            format!(
                "{} {} {} {}",
                pad(current_epoch, 15),
                pad(current, current_w),
                pad(target_epoch, 15),
                pad(target, target_w)
            )
        };
        out.push('\n');
        out.push_str(&head("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"));
        if verbose {
            out.push_str(&tail("CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT"));
        }
        out.push('\n');
        for m in &g.members {
            out.push_str(&head(
                &g.group,
                &m.consumer_id,
                m.group_instance_id.as_deref().unwrap_or(""),
                &m.host,
                &m.client_id,
                &m.assignment.len().to_string(),
            ));
            if verbose {
                out.push_str(&tail(
                    &or_missing(m.member_epoch),
                    &assignment_string(&m.assignment),
                    &or_missing(g.target_assignment_epoch),
                    &assignment_string(&m.target_assignment),
                ));
            }
            out.push('\n');
        }
    }
    out
}

/// A broker as `Node` prints in group output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorView {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// A group for `--describe --state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStateDescription {
    pub group: String,
    pub coordinator: CoordinatorView,
    /// The assignor (`range`, `cooperative-sticky`, `uniform`...); empty prints `-`.
    pub assignment_strategy: String,
    pub state: GroupStateView,
    pub members: usize,
    /// `--verbose` (consumer protocol).
    pub group_epoch: Option<i32>,
    pub target_assignment_epoch: Option<i32>,
}

/// `--describe --state` (`ConsumerGroupService.printStates`).
pub fn groups_describe_state(groups: &[GroupStateDescription], verbose: bool) -> String {
    let mut groups: Vec<&GroupStateDescription> = groups.iter().collect();
    groups.sort_by(|a, b| a.group.cmp(&b.group));
    let mut out = String::new();
    for g in groups {
        if !member_state(&mut out, &g.group, g.state, 1) {
            continue;
        }
        let coordinator = format!("{}:{}  ({})", g.coordinator.host, g.coordinator.port, g.coordinator.id);
        let coordinator_w = coordinator.chars().count().max(25);
        let group_w = g.group.chars().count().max(15);
        let strategy = if g.assignment_strategy.is_empty() { MISSING } else { &g.assignment_strategy };
        let members = g.members.to_string();
        let row = |cells: [&str; 7]| {
            let mut line = format!(
                "\n{} {} {} {} ",
                pad(cells[0], group_w),
                pad(cells[1], coordinator_w),
                pad(cells[2], 20),
                pad(cells[3], 20)
            );
            if verbose {
                line.push_str(&format!("{} {} ", pad(cells[4], 15), pad(cells[5], 25)));
            }
            line.push_str(cells[6]);
            line
        };
        out.push_str(&row([
            "GROUP",
            "COORDINATOR (ID)",
            "ASSIGNMENT-STRATEGY",
            "STATE",
            "GROUP-EPOCH",
            "TARGET-ASSIGNMENT-EPOCH",
            "#MEMBERS",
        ]));
        out.push_str(&row([
            &g.group,
            &coordinator,
            strategy,
            g.state.as_str(),
            &or_missing(g.group_epoch),
            &or_missing(g.target_assignment_epoch),
            &members,
        ]));
        out.push('\n');
    }
    out
}

/// The offsets `--reset-offsets` chose for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResetPlan {
    pub group: String,
    /// `(topic, partition, new offset)`.
    pub offsets: Vec<(String, i32, i64)>,
}

/// `--reset-offsets` (dry run or executed; `GroupOffsetsResetter.printOffsetsToReset`). The real
/// tool prints each group's partitions in `HashMap` order; the console sorts them by topic and
/// partition.
pub fn groups_reset_offsets(plans: &[GroupResetPlan]) -> String {
    let group_w = plans.iter().map(|p| p.group.chars().count()).fold(15, usize::max);
    let topic_w = plans.iter().flat_map(|p| &p.offsets).map(|(topic, _, _)| topic.chars().count()).fold(15, usize::max);
    let row = |group: &str, topic: &str, partition: &str, offset: &str| {
        format!("\n{} {} {} {offset}", pad(group, group_w), pad(topic, topic_w), pad(partition, 10))
    };
    let mut out = String::new();
    if !plans.is_empty() {
        out.push_str(&row("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"));
    }
    for plan in plans {
        let mut offsets: Vec<&(String, i32, i64)> = plan.offsets.iter().collect();
        offsets.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for (topic, partition, offset) in offsets {
            out.push_str(&row(&plan.group, topic, &partition.to_string(), &offset.to_string()));
        }
    }
    out.push('\n');
    out
}

/// `--reset-offsets --export`: `topic,partition,offset` lines for one group, `group,topic,
/// partition,offset` for several (`ConsumerGroupService.exportOffsetsToCsv`).
pub fn groups_reset_offsets_csv(plans: &[GroupResetPlan]) -> String {
    let with_group = plans.len() != 1;
    let mut out = String::new();
    for plan in plans {
        for (topic, partition, offset) in &plan.offsets {
            if with_group {
                let _ = writeln!(out, "{},{topic},{partition},{offset}", plan.group);
            } else {
                let _ = writeln!(out, "{topic},{partition},{offset}");
            }
        }
    }
    out
}

/// `--delete` (`ConsumerGroupService.deleteGroups`): the groups deleted, and those that could not
/// be with the broker's reason (`GroupNotEmptyException: The group is not empty.`).
pub fn groups_deleted(deleted: &[String], failed: &[(String, String)]) -> String {
    let quoted = |groups: &[&String]| groups.iter().map(|g| format!("'{g}'")).collect::<Vec<_>>().join(", ");
    let deleted: Vec<&String> = deleted.iter().collect();
    if failed.is_empty() {
        return format!("Deletion of requested consumer groups ({}) was successful.\n", quoted(&deleted));
    }
    let mut out = group_error("Deletion of some consumer groups failed:");
    for (group, error) in failed {
        let _ = writeln!(out, "* Group '{group}' could not be deleted due to: {error}");
    }
    if !deleted.is_empty() {
        let _ = writeln!(out, "\nThese consumer groups were deleted successfully: {}", quoted(&deleted));
    }
    out
}

/// `--delete-offsets` (`ConsumerGroupService.deleteOffsets`): `top_level` is the request's error
/// message if any; rows are `(topic, partition, error)`, partition `None` for a topic that failed
/// as a whole.
pub fn groups_offsets_deleted(
    group: &str,
    top_level: Option<&str>,
    rows: &[(String, Option<i32>, Option<String>)],
) -> String {
    let mut out = match top_level {
        None => format!("Request succeeded for deleting offsets from group {group}.\n"),
        Some(message) => group_error(message),
    };
    let topic_w = rows.iter().map(|(topic, _, _)| topic.chars().count()).fold(15, usize::max);
    let row = |topic: &str, partition: &str, status: &str| {
        format!("\n{} {} {}", pad(topic, topic_w), pad(partition, 10), pad(status, 15))
    };
    out.push_str(&row("TOPIC", "PARTITION", "STATUS"));
    let mut rows: Vec<&(String, Option<i32>, Option<String>)> = rows.iter().collect();
    // The real tool sorts on topic + partition as one string.
    rows.sort_by_key(|(topic, partition, _)| format!("{topic}{}", partition.unwrap_or(-1)));
    for (topic, partition, error) in rows {
        let status = error.as_deref().map_or_else(|| "Successful".to_string(), |e| format!("Error: {e}"));
        out.push_str(&row(topic, &or_missing(*partition), &status));
    }
    out.push('\n');
    out
}

/// An error line of `kafka-consumer-groups.sh` (`ConsumerGroupCommand.printError`), such as
/// `Assignments can only be reset if the group 'g' is inactive, but the current state is Stable.`
pub fn group_error(message: &str) -> String {
    format!("\nError: {message}\n")
}
